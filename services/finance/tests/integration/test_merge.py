"""Merged orders (合单) on the real database (and broker): finance books per source order, never per merged
order; after an unmerge each source, accepted on its own, nets exactly one live sale."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from omni_chassis import dlq as dlq_mod
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import utcnow
from omni_finance import app as app_mod
from omni_finance import consumers, service, store
from omni_finance.domain import posting

sys.path.insert(0, str(Path(__file__).parent))
from finance_factories import (
    MIGRATIONS,
    S1_FREIGHT,
    S1_GOODS,
    S2_GOODS,
    cancelled,
    merged_accepted,
    own_accepted,
    publish,
    rows,
    scalar,
    shipped,
    shipped_lines,
    uid,
    uow,
    vouchers_of,
)

pytestmark = pytest.mark.integration

S1_SALE = [("1122", S1_GOODS + S1_FREIGHT, 0), ("2205", 0, S1_GOODS), ("2206", 0, S1_FREIGHT)]
S2_SALE = [("1122", S2_GOODS, 0), ("2205", 0, S2_GOODS)]


@pytest.fixture
async def db(make_database):
    return await make_database("finance_merge", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, monkeypatch):
    monkeypatch.setattr(consumers, "specs", lambda: [])  # no consumer group on the shared topics in tests
    app = app_mod.build(app_mod.Settings(service_database_url=db.dsn))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


async def _balances(client, order_id):
    r = await client.get("/trial-balance", params={"order_id": order_id})
    assert r.status_code == 200 and r.json()["balanced"]
    return {a["account_code"]: a["balance_cents"] for a in r.json()["accounts"] if a["balance_cents"]}


async def test_a_merged_order_is_booked_per_source_sale_revenue_and_redelivery(db, client):
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    acc = merged_accepted(m, s1, s2)
    await service.handle_order_events(uow(db), [acc])
    assert await vouchers_of(db, s1) == [("sale", S1_SALE)]  # two balanced sales, one per source
    assert await vouchers_of(db, s2) == [("sale", S2_SALE)]
    assert await vouchers_of(db, m) == []
    mapping = await rows(
        db,
        "SELECT line_id, source_order_id FROM merged_lines WHERE merged_order_id = :m ORDER BY line_no",
        m=m,
    )
    assert [tuple(r) for r in mapping] == [(f"{s1}-1", s1), (f"{s1}-2", s1), (f"{s2}-1", s2), (f"{s2}-2", s2)]
    got = await rows(db, "SELECT order_id, merged_order_id, paid_cents FROM orders ORDER BY order_id")
    assert sorted(tuple(r) for r in got) == sorted([(s1, m, S1_GOODS + S1_FREIGHT), (s2, m, S2_GOODS)])

    # redelivered (past the inbox), or accepted again as a new event: nothing more
    await service.handle_order_events(uow(db), [acc, merged_accepted(m, s1, s2)])
    assert await scalar(db, "SELECT count(*) FROM vouchers") == 2
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE event_type = 'finance.voucher-posted'") == 2
    # the last fence: one voucher of a kind per event and order (each source's sale is one of its own)
    sale = posting.accept(
        own_accepted(s1, first=True).data, posting.Source(acc.event_id, acc.event_type), utcnow()
    )[1]
    with pytest.raises(IntegrityError, match="vouchers_source_kind"):
        async with db.transaction() as s:
            again = dataclasses.replace(sale, voucher_id=uuid.uuid4())
            await store.Repository(s).save(store.Writes({}, vouchers=[again]), utcnow())

    # shipped: revenue per source, from the lines mapped to their sources (v2), then by material (v1)
    task = uid("task")
    ship = shipped_lines(m, [("BEAN-YIRGA", 1, f"{s1}-1"), ("MACHINE-AUTO", 1, f"{s2}-1")], task_id=task)
    await service.handle_shipments(uow(db), [ship])
    await service.handle_shipments(uow(db), [ship])  # redelivered: the task is booked once
    await service.handle_shipments(uow(db), [shipped(m, [("FILTER-100", 4)])])
    assert await vouchers_of(db, s1) == [
        ("sale", S1_SALE),
        (
            "revenue",
            [("2205", 10_000, 0), ("2206", S1_FREIGHT, 0), ("6001", 0, 10_000), ("6051", 0, S1_FREIGHT)],
        ),
        ("revenue", [("2205", 3_000, 0), ("6001", 0, 3_000)]),
    ]
    assert await vouchers_of(db, s2) == [
        ("sale", S2_SALE),
        ("revenue", [("2205", 70_000, 0), ("6001", 0, 70_000)]),
        ("revenue", [("2205", 400, 0), ("6001", 0, 400)]),
    ]
    booked = await rows(
        db, "SELECT order_id, merged_order_id, goods_cents FROM shipments WHERE task_id = :t", t=task
    )
    assert sorted(tuple(r) for r in booked) == sorted([(s1, m, 10_000), (s2, m, 70_000)])
    assert await _balances(client, s1) == {
        "1122": S1_GOODS + S1_FREIGHT,
        "6001": S1_GOODS,
        "6051": S1_FREIGHT,
    }

    # the REST views: a source's vouchers under its own id, saying they came via M; M has none of its own
    r = await client.get(f"/orders/{s2}/vouchers", params={"kind": "sale"})
    assert r.status_code == 200 and r.json()["total"] == 1
    assert f"of shop B (via merged order {m})" in r.json()["items"][0]["summary"]
    r = await client.get(f"/orders/{m}/vouchers")
    assert r.status_code == 200 and r.json()["total"] == 0
    assert await _balances(client, m) == {}


async def test_unmerged_sources_are_reversed_and_each_accepted_on_its_own_nets_one_live_sale(db, client):
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    await service.handle_order_events(uow(db), [merged_accepted(m, s1, s2)])
    await service.handle_order_events(uow(db), [cancelled(m)])  # an operator's unmerge cancels M
    for s, sale in ((s1, S1_SALE), (s2, S2_SALE)):
        assert await vouchers_of(db, s) == [("sale", sale), ("reversal", [(c, cr, dr) for c, dr, cr in sale])]
        assert await _balances(client, s) == {}
    reversed_ = await rows(
        db,
        "SELECT r.order_id FROM vouchers r JOIN vouchers s ON s.voucher_id = r.reverses_voucher_id "
        "WHERE r.kind = 'reversal' AND s.kind = 'sale' AND s.order_id = r.order_id",
    )
    assert sorted(x.order_id for x in reversed_) == sorted([s1, s2])

    # the OMS re-accepts each source under its own id: booked afresh (and only once)
    again = [own_accepted(s1, first=True), own_accepted(s2, first=False)]
    await service.handle_order_events(uow(db), again)
    await service.handle_order_events(uow(db), again)
    for s, sale in ((s1, S1_SALE), (s2, S2_SALE)):
        assert await vouchers_of(db, s) == [
            ("sale", sale), ("reversal", [(c, cr, dr) for c, dr, cr in sale]), ("sale", sale),
        ]  # fmt: skip
    assert await _balances(client, s1) == {
        "1122": S1_GOODS + S1_FREIGHT,
        "2205": S1_GOODS,
        "2206": S1_FREIGHT,
    }
    assert await _balances(client, s2) == {"1122": S2_GOODS, "2205": S2_GOODS}
    state = await rows(db, "SELECT status, merged_order_id FROM orders WHERE order_id = :o", o=s1)
    assert [tuple(r) for r in state] == [("accepted", None)]
    # ... and a shipment of the source itself books its revenue as usual
    await service.handle_shipments(uow(db), [shipped(s1, [("BEAN-YIRGA", 1), ("FILTER-100", 3)])])
    assert await _balances(client, s1) == {
        "1122": S1_GOODS + S1_FREIGHT,
        "6001": S1_GOODS,
        "6051": S1_FREIGHT,
    }
    r = await client.get(f"/orders/{s1}/vouchers")
    assert [(v["kind"], f"via merged order {m}" in v["summary"]) for v in r.json()["items"]] == [
        ("sale", True), ("reversal", True), ("sale", False), ("revenue", False),
    ]  # fmt: skip


async def test_consumers_park_a_merged_orders_shipment_until_it_is_accepted(db, kafka_bootstrap, fresh_topic):
    order_topic, ful_topic = await fresh_topic("omni.test.order"), await fresh_topic("omni.test.fulfillment")
    suffix = uuid.uuid4().hex[:8]
    by_group = {s.group: s for s in consumers.specs()}
    orders = dataclasses.replace(by_group[consumers.ORDERS_GROUP], topics=[order_topic], group=f"fo-{suffix}")
    ships = dataclasses.replace(by_group[consumers.SHIPMENTS_GROUP], topics=[ful_topic], group=f"fs-{suffix}")
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    acc = merged_accepted(m, s1, s2)
    four = "SELECT count(*) = 4 FROM vouchers WHERE order_id IN (:a, :b)"
    async with running_consumers(kafka_bootstrap, db, [orders, ships], repository=store.Repository):
        await publish(kafka_bootstrap, ful_topic, shipped(m, [("FILTER-100", 4)]))
        await eventually(
            lambda: scalar(db, "SELECT count(*) FROM parked WHERE waits_for = :k", k=f"order:{m}")
        )
        await publish(kafka_bootstrap, order_topic, acc, acc)  # and a redelivery
        await eventually(lambda: scalar(db, four, a=s1, b=s2), 30)
        await eventually(lambda: scalar(db, "SELECT count(*) = 0 FROM parked"))
    assert [k for k, _ in await vouchers_of(db, s1)] == ["sale", "revenue"]
    assert [k for k, _ in await vouchers_of(db, s2)] == ["sale", "revenue"]
    for g in (orders.group, ships.group):
        assert await dlq_mod.read_all(kafka_bootstrap, g, timeout_s=2) == [], g
