"""Catalog projection and intake on the real PostgreSQL, consumers on real Kafka (fresh topics)."""

from __future__ import annotations

import dataclasses
import importlib
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from order_db_helpers import order_database, outbox, project, publish, rows, scalar, take_in
from order_factories import channel_order, envelope, product_events, suffixed_order
from sqlalchemy import event

from omni_chassis.testing import eventually, running_consumers
from omni_contracts import Topic
from omni_contracts.events.product import BundleComponent, MaterialUpsertedV1, SalesProductUpsertedV1
from omni_order import consumers, store

pytestmark = pytest.mark.integration


def _uid() -> str:
    return uuid.uuid4().hex[:8]


async def test_migration_creates_exactly_the_tables_of_store(make_database):
    db = await order_database(make_database)

    chassis = {"outbox", "inbox", "parked", "timers", "alembic_version", "alembic_version_chassis"}

    def ours(name, type_, parent_names):
        return not (type_ == "table" and name in chassis)

    def diff(conn):
        opts = {"compare_type": True, "include_name": ours}
        return compare_metadata(MigrationContext.configure(conn, opts=opts), store.metadata)

    async with db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []


async def test_projection_applies_only_newer_versions(kafka_bootstrap, make_database, fresh_topic):
    db = await order_database(make_database)
    topic = await fresh_topic(partitions=1)  # one partition: the events are handled in the order sent
    s = _uid()
    bundle = "SET" + s

    def sales_product(version, name, materials):
        return SalesProductUpsertedV1(
            code=bundle, name=name, kind="bundle", version=version,
            components=[BundleComponent(material_code=m, qty=q, price_weight=w) for m, q, w in materials],
        )  # fmt: skip

    events = [
        MaterialUpsertedV1(code="M" + s, name="v2", unit="pcs", weight_g=1, version=2),
        MaterialUpsertedV1(code="M" + s, name="v1 late", unit="pcs", weight_g=1, version=1),  # stale
        MaterialUpsertedV1(code="M" + s, name="v2 again", unit="pcs", weight_g=1, version=2),  # replayed
        sales_product(1, "v1", [("A", 1, 1), ("B", 2, 3)]),
        sales_product(3, "v3", [("C", 1, 5), ("A", 4, 1)]),
        sales_product(2, "v2 late", [("X", 1, 1)]),  # stale: must not touch the components either
        MaterialUpsertedV1(code="END" + s, name="marker", unit="pcs", weight_g=1, version=1),
    ]
    envs = [envelope(e) for e in events]
    await publish(kafka_bootstrap, topic, [*envs, envs[0]])  # the first event delivered twice
    spec = dataclasses.replace(consumers.catalog_spec(), topics=[topic], group=f"order-catalog-{s}")
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await eventually(
            lambda: scalar(db, "SELECT count(*) FROM catalog_materials WHERE code = :c", c="END" + s)
        )

    assert await rows(db, "SELECT name, version FROM catalog_materials WHERE code = :c", c="M" + s) == [
        ("v2", 2)
    ]
    assert await rows(db, "SELECT name, version FROM catalog_sales_products WHERE code = :c", c=bundle) == [
        ("v3", 3)
    ]
    comps = await rows(
        db,
        "SELECT position, material_code, qty, price_weight FROM catalog_sales_product_components "
        "WHERE sales_product_code = :c ORDER BY position",
        c=bundle,
    )
    assert comps == [(1, "C", 1, 5), (2, "A", 4, 1)]
    assert await scalar(db, "SELECT count(*) FROM inbox WHERE consumer = :g", g=spec.group) == len(events)


async def test_stale_and_replayed_versions_are_ignored_across_batches(make_database):
    db = await order_database(make_database)
    s = _uid()

    def material(version, name):
        return MaterialUpsertedV1(code="M" + s, name=name, unit="pcs", weight_g=1, version=version)

    def bundle(version, materials):
        return SalesProductUpsertedV1(
            code="SET" + s, name=f"v{version}", kind="bundle", version=version,
            components=[BundleComponent(material_code=m, qty=1, price_weight=1) for m in materials],
        )  # fmt: skip

    for batch in ([material(2, "v2"), bundle(2, ["A", "B"])], [material(1, "v1")], [material(2, "v2 again")],
                  [bundle(1, ["X"])], [bundle(2, ["Y"])]):  # fmt: skip
        await project(db, batch)
    assert await rows(db, "SELECT name, version FROM catalog_materials") == [("v2", 2)]
    assert await rows(db, "SELECT name FROM catalog_sales_products") == [("v2",)]
    assert await rows(db, "SELECT material_code FROM catalog_sales_product_components ORDER BY position") == [
        ("A",),
        ("B",),
    ]
    await project(db, [material(3, "v3")])
    assert await rows(db, "SELECT name, version FROM catalog_materials") == [("v3", 3)]


async def test_newest_version_wins_within_one_batch(make_database):
    db = await order_database(make_database)
    s = _uid()
    await project(
        db,
        [
            MaterialUpsertedV1(code="M" + s, name="v3", unit="pcs", weight_g=1, version=3),
            MaterialUpsertedV1(code="M" + s, name="v1", unit="pcs", weight_g=1, version=1),
            MaterialUpsertedV1(code="M" + s, name="v3 replayed", unit="pcs", weight_g=1, version=3),
        ],
    )
    assert await rows(db, "SELECT name FROM catalog_materials WHERE code = :c", c="M" + s) == [("v3",)]


async def test_intake_over_kafka_accepts_the_order_and_emits_order_accepted(
    kafka_bootstrap, make_database, fresh_topic
):
    db = await order_database(make_database)
    s = _uid()
    await project(db, product_events(suffix=s))
    topic = await fresh_topic(partitions=1)
    order = suffixed_order(s)
    first = envelope(order)
    again = envelope(order)  # the adapter delivered the same trade a second time (a new event)
    marker = envelope(suffixed_order(s))
    await publish(kafka_bootstrap, topic, [first, first, again, marker])

    spec = dataclasses.replace(consumers.intake_spec(), topics=[topic], group=f"order-{s}")
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await eventually(
            lambda: scalar(
                db, "SELECT count(*) FROM orders WHERE channel_order_id = :c", c=marker.data.channel_order_id
            )
        )

    (o,) = await rows(db, "SELECT * FROM orders WHERE channel_order_id = :c", c=order.channel_order_id)
    assert o.status == "accepted" and o.duplicate_deliveries == 1
    assert (o.channel, o.shop_id, o.buyer_id, o.business_model) == ("tmall", "S1", "buyer-1", "B2C")
    assert (o.role_owner, o.role_seller, o.role_channel, o.role_platform) == (
        "brand",
        "brand",
        "tmall:S1",
        "tmall",
    )
    assert (o.paid_cents, o.post_fee_cents, o.goods_paid_cents, o.discount_cents) == (
        329_600,
        0,
        329_600,
        10_000,
    )
    assert o.receiver_phone.startswith("enc:v1:") and (o.receiver_phone_masked, o.city) == (
        "138****0000",
        "杭州市",
    )
    assert abs(o.lat - 30.27) < 0.1 and abs(o.lng - 120.16) < 0.1
    assert len(o.order_id) == 21 and o.order_id.startswith("O")

    lines = await rows(
        db, "SELECT material_code, qty, amount_cents FROM order_lines WHERE order_id = :o ORDER BY position",
        o=o.order_id,
    )  # fmt: skip
    assert [(x.material_code, x.qty) for x in lines] == [
        ("BEAN-YUNNAN-250G" + s, 1), ("BEAN-ETHIOPIA-250G" + s, 1), ("BEAN-COLOMBIA-250G" + s, 1),
        ("MACHINE-AUTO-01" + s, 1), ("BEAN-ETH-500" + s, 3),
    ]  # fmt: skip
    assert sum(x.amount_cents for x in lines) == 329_600
    channel_lines = await rows(
        db, "SELECT channel_line_id, listing_id FROM order_channel_lines WHERE order_id = :o "
        "ORDER BY position", o=o.order_id,
    )  # fmt: skip
    assert channel_lines == [("oid-1", "L-COFFEE" + s), ("oid-2", "L-BEANS" + s)]
    history = await rows(
        db, "SELECT from_status, to_status, source FROM order_status_history WHERE order_id = :o ORDER BY id",
        o=o.order_id,
    )  # fmt: skip
    assert history == [(None, "received", "intake"), ("received", "accepted", "intake")]

    (accepted,) = await outbox(db, "order.accepted", key=o.order_id)
    assert accepted["_topic"] == Topic.ORDER
    assert accepted["causation_id"] == str(first.event_id)
    assert accepted["correlation_id"] == first.correlation_id
    data = accepted["data"]
    assert data["channel_order_id"] == order.channel_order_id
    assert data["goods_paid_cents"] == 329_600 == sum(x["amount_cents"] for x in data["lines"])
    assert [x["line_id"] for x in data["lines"]] == [f"{o.order_id}-00{i}" for i in range(1, 6)]
    assert data["ship_to"]["city"] == "杭州市" and data["ship_to"]["lat"] == o.lat
    assert data["ship_to"]["phone"] == "13800000000"  # fulfillment ships: the receiver in full
    (changed,) = await outbox(db, "order.status-changed", key=o.order_id)
    assert (changed["data"]["from_status"], changed["data"]["to_status"]) == ("received", "accepted")
    # the duplicate created nothing: two orders in all (the trade and the marker), one order.accepted each
    assert await scalar(db, "SELECT count(*) FROM orders") == 2
    assert len(await outbox(db, "order.accepted")) == 2


async def test_unknown_listing_keeps_the_order_in_exception_with_a_reason(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order = channel_order(lines=[channel_order().lines[0].model_copy(update={"channel_item_id": "6012345",
                                                                              "channel_sku_id": "4456"})],
                          paid_cents=300_775)  # fmt: skip
    # the catalog lists SET-COFFEE-PRO for shop S1 only: the same trade from shop S9 has no listing
    order = order.model_copy(update={"shop_id": "S9"})
    result = await take_in(db, [envelope(order)])
    assert result.accepted == [] and len(result.exceptions) == 1
    (order_id,) = result.exceptions
    (o,) = await rows(db, "SELECT * FROM orders WHERE order_id = :o", o=order_id)
    reason = "line 1: no tmall listing for item 6012345 sku 4456 (outer_sku_id SET-COFFEE-PRO) in shop S9"
    assert (o.status, o.status_reason_code, o.status_reason) == ("exception", "unknown_listing", reason)
    assert await scalar(db, "SELECT count(*) FROM order_lines WHERE order_id = :o", o=order_id) == 0
    assert await rows(db, "SELECT listing_id FROM order_channel_lines WHERE order_id = :o", o=order_id) == [
        (None,)
    ]
    (raised,) = await outbox(db, "order.exception-raised", key=order_id)
    assert raised["data"] == {
        "order_id": order_id, "channel": "tmall", "channel_order_id": order.channel_order_id,
        "reason_code": "unknown_listing", "reason": reason,
    }  # fmt: skip
    (changed,) = await outbox(db, "order.status-changed", key=order_id)
    assert changed["data"]["to_status"] == "exception" and changed["data"]["reason"] == reason
    assert await outbox(db, "order.accepted") == []


async def test_a_batch_is_taken_in_with_a_fixed_number_of_statements(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    async def run(n: int) -> tuple[int, object]:
        good = [channel_order() for _ in range(n)]
        bad = [channel_order(shop_id="S9") for _ in range(n // 4)]
        envs = [envelope(o) for o in good + bad] + [envelope(good[0]), envelope(good[1])]  # two duplicates
        statements.clear()
        result = await take_in(db, envs)
        return len(statements), result

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        small, _ = await run(8)
        big, result = await run(200)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert (len(result.accepted), len(result.exceptions), result.duplicates) == (200, 50, 2)
    print("statements per intake batch:", big)
    assert big == small, "the number of statements does not grow with the batch"
    assert big <= 12
    assert await scalar(db, "SELECT count(*) FROM orders") == 8 + 2 + 200 + 50
    sums = await rows(
        db,
        "SELECT o.goods_paid_cents, sum(l.amount_cents) AS s "
        "FROM orders o JOIN order_lines l USING (order_id) GROUP BY o.order_id, o.goods_paid_cents",
    )
    assert len(sums) == 208 and all(r.goods_paid_cents == r.s for r in sums)
    assert await scalar(db, "SELECT sum(duplicate_deliveries) FROM orders") == 4


class RecordingLog:
    """Stands in for the service's logger: keeps every call (event and fields) as the service made it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    def __getattr__(self, level):
        return lambda event, **kw: self.calls.append((level, event, kw))


async def test_logs_carry_no_phone_or_address(make_database, monkeypatch):
    db = await order_database(make_database)
    await project(db, product_events())
    recorder = RecordingLog()
    monkeypatch.setattr(importlib.import_module("omni_order.service.intake"), "log", recorder)
    await take_in(db, [envelope(channel_order()), envelope(channel_order(shop_id="S9"))])
    assert any(kw.get("reason_code") == "unknown_listing" for _, _, kw in recorder.calls)
    logged = repr(recorder.calls)
    for secret in ("13800000000", "文三路", "张三", "西湖区", "杭州"):
        assert secret not in logged
