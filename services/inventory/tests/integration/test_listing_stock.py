"""Layers 3-4 on real PostgreSQL (and the consumer on real Kafka): the projections, the sellable numbers,
the rules through REST (versioned, validated whole), and the published listing-stock events."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from inventory_helpers import outbox, receive, rows, uid, uow

from omni_chassis.kafka import make_producer
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import decode, make_envelope
from omni_contracts.events.fulfillment import NodeUpsertedV1
from omni_contracts.events.product import ChannelListingUpsertedV1, SalesProductUpsertedV1
from omni_inventory import consumers, store
from omni_inventory.service import freezes, listings

pytestmark = pytest.mark.integration


def node(code: str) -> Any:
    data = NodeUpsertedV1(node_code=code, name=code, type="warehouse", lat=30.0, lng=120.0, priority=1)
    return make_envelope(data, producer="fulfillment", key=code)


def product(code: str, parts: dict[str, int], version: int = 1, active: bool = True) -> Any:
    data = SalesProductUpsertedV1(
        code=code, name=code, kind="bundle" if len(parts) > 1 else "single", active=active, version=version,
        components=[{"material_code": m, "qty": q, "price_weight": 1} for m, q in parts.items()],
    )  # fmt: skip
    return make_envelope(data, producer="product", key=code)


def listing(lid: str, channel: str, sp: str, version: int = 1, status: str = "on_sale") -> Any:
    data = ChannelListingUpsertedV1(
        listing_id=lid, channel=channel, shop_id="S1", channel_item_id=f"9{abs(hash(lid)) % 10**9}",
        channel_sku_id=None, sales_product_code=sp, price_cents=100, status=status, version=version,
    )  # fmt: skip
    return make_envelope(data, producer="product", key=lid)


async def stock_changes(db) -> list[Any]:
    """The stock-changed envelopes inventory staged (what the consumer reads from Kafka)."""
    found = await rows(
        db, "SELECT value FROM outbox WHERE event_type = 'inventory.stock-changed' ORDER BY id"
    )
    return [decode(r.value) for r in found]


async def published(db) -> dict[str, int | None]:
    return {
        r.listing_id: r.quantity for r in await rows(db, "SELECT listing_id, quantity FROM listing_stock")
    }


@pytest.fixture
async def estate(db):
    """Two nodes, M1 and M2 in stock, a single sold on tmall and jd, and a bundle (2 × M1 + M2) on tmall."""
    m1, m2 = uid("M1"), uid("M2")
    await listings.handle_batch(uow(db), [
        node("WH-A"), node("ST-B"), product("SP1", {m1: 1}), product("SP2", {m1: 2, m2: 1}),
        listing("L-T", "tmall", "SP1"), listing("L-J", "jd", "SP1"), listing("L-B", "tmall", "SP2"),
    ])  # fmt: skip
    await receive(db, "WH-A", {m1: 50, m2: 10})
    await receive(db, "ST-B", {m1: 30})
    await listings.handle_batch(uow(db), await stock_changes(db))
    return m1, m2


async def test_every_listing_sells_the_stock_its_rules_allow_and_each_change_is_published(db, estate):
    m1, m2 = estate
    assert await published(db) == {"L-T": 80, "L-J": 80, "L-B": 10}  # the bundle: min(80 // 2, 10 // 1)
    events = await outbox(db, "inventory.listing-stock-changed")
    # first 0 (listed before any stock arrived), then one change each for the whole batch of receipts
    assert [(e["key"], e["data"]["quantity"], e["data"]["seq"], e["data"]["previous"]) for e in events] == [
        ("L-B", 0, 1, None), ("L-J", 0, 1, None), ("L-T", 0, 1, None),
        ("L-B", 10, 2, 0), ("L-J", 80, 2, 0), ("L-T", 80, 2, 0),
    ]  # fmt: skip
    assert events[0]["topic"].endswith("omni.inventory.listing-stock")
    assert events[-1]["data"]["channel_item_id"].startswith("9") and events[-1]["data"]["shop_id"] == "S1"

    # the same stock again: nothing changed, nothing published
    await listings.handle_batch(uow(db), await stock_changes(db))
    assert len(await outbox(db, "inventory.listing-stock-changed")) == 6

    # a freeze at WH-A lowers every listing of M1 and the bundle follows its scarcest part
    await freezes.freeze(uow(db), freezes.FreezeCommand(uid("F"), "WH-A", m1, 50, "quality hold"))
    await listings.handle_batch(uow(db), (await stock_changes(db))[-1:])
    assert await published(db) == {"L-T": 30, "L-J": 30, "L-B": 10}  # min(30 // 2, 10): M2 is still scarcer
    await freezes.freeze(uow(db), freezes.FreezeCommand(uid("F"), "WH-A", m2, 8, "damaged in a drop"))
    await listings.handle_batch(uow(db), (await stock_changes(db))[-1:])
    assert await published(db) == {"L-T": 30, "L-J": 30, "L-B": 2}
    latest = {e["key"]: e["data"] for e in await outbox(db, "inventory.listing-stock-changed")}
    assert latest["L-T"]["previous"] == 80 and latest["L-T"]["seq"] == 3


async def test_a_product_change_moves_its_listings_and_a_stale_one_is_ignored(db, estate):
    m1, _ = estate
    await listings.handle_batch(
        uow(db), [product("SP1", {m1: 4}, version=2), product("SP1", {m1: 1}, version=1)]
    )
    assert (await published(db))["L-T"] == 20
    await listings.handle_batch(uow(db), [listing("L-T", "tmall", "SP1", version=2, status="off_sale")])
    assert (await published(db))["L-T"] == 0


async def test_rules_through_rest_low_water_protects_the_core_channel_and_explain_says_why(db, estate, api):
    assert (await api.get("/allocation-rules")).json()["version"] == 0
    rules = {
        "expected_version": 0,
        "note": "launch week: protect tmall",
        "pools": [{"code": "EAST", "nodes": ["WH-A", "ST-B"]}],
        "allocations": [
            {"pool": "EAST", "channel": "tmall", "core": True},
            {"pool": "EAST", "channel": "jd", "mode": "quota", "quota": 20},
        ],
        "water_levels": [{"pool": "EAST", "low": 100, "high": 500}],
    }
    r = await api.put("/allocation-rules", json=rules)
    assert r.status_code == 200, r.text
    assert r.json() == {"version": 1, "listings_changed": 3}
    # M1: 80 in the pool, below low: jd is cut to its quota 20, the core tmall keeps the other 60 (never more
    # than there is); M2: 10, all of it within jd's quota, so tmall's bundle gets none
    assert await published(db) == {"L-T": 60, "L-J": 20, "L-B": 0}

    explained = (await api.get("/listings/L-T/stock")).json()
    assert explained["quantity"] == 60 and explained["published"]["quantity"] == 60
    pool = explained["steps"][0]
    assert pool["step"] == "pool" and pool["inputs"]["water"] == "low"
    assert (
        pool["inputs"]["node_available"] == {"WH-A": 50, "ST-B": 30} and pool["inputs"]["shares"]["jd"] == 20
    )

    # a stale version: 409, nothing changes
    r = await api.put("/allocation-rules", json=rules)
    assert r.status_code == 409 and "version 1" in r.json()["detail"]

    # a bad document: 422 listing every problem; the version and the numbers stay
    bad = {**rules, "expected_version": 1, "pools": [{"code": "EAST", "nodes": ["WH-A", "NOWHERE"]},
                                                     {"code": "ALL", "nodes": ["WH-A"]}],
           "allocations": [*rules["allocations"], {"pool": "ALL", "channel": "tmall"},
                           {"pool": "EAST", "channel": "martian"}],
           "listing_rules": [{"listing_id": "NOPE"}]}  # fmt: skip
    r = await api.put("/allocation-rules", json=bad)
    assert r.status_code == 422
    paths = {p["path"] for p in r.json()["problems"]}
    assert paths == {"body.pools[0].nodes[1]", "body.allocations[2].pool", "body.allocations[3].channel",
                     "body.listing_rules[0].listing_id"}  # fmt: skip
    r = await api.put("/allocation-rules", json={**rules, "expected_version": 1, "allocations": [
        {"pool": "EAST", "channel": "jd", "mode": "ratio", "ratio_pct": 101}]})  # fmt: skip
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "body.allocations[0].ratio_pct"
    assert (await api.get("/allocation-rules")).json()["version"] == 1
    assert await published(db) == {"L-T": 60, "L-J": 20, "L-B": 0}

    # a dry run says what a change would do, without doing it
    dry = {k: v for k, v in rules.items() if k not in ("expected_version", "note")}
    dry["water_levels"] = []
    r = await api.post("/allocation-rules/dry-run", json=dry)
    assert r.json()["valid"] and {c["listing_id"]: c["proposed"] for c in r.json()["changes"]} == {
        "L-T": 80,
        "L-B": 0 + 10,
    }
    assert (await published(db))["L-T"] == 60

    versions = (await api.get("/allocation-rules/versions")).json()
    assert versions["total"] == 1 and versions["items"][0]["note"] == "launch week: protect tmall"
    page = (await api.get("/listing-stock", params={"channel": "tmall"})).json()
    assert [i["listing_id"] for i in page["items"]] == ["L-B", "L-T"]
    assert (await api.get("/listings/NOPE/stock")).status_code == 404


async def test_the_consumer_on_kafka_projects_and_publishes(kafka_bootstrap, db, fresh_topic):
    spec = next(s for s in consumers.specs() if s.group == consumers.LISTINGS_GROUP)
    stock_topic, product_topic = await fresh_topic("omni.test.stock"), await fresh_topic("omni.test.product")
    spec = dataclasses.replace(spec, topics=[stock_topic, product_topic], group=f"t-{uuid.uuid4().hex[:8]}")
    m1 = uid("M1")
    await receive(db, "WH-A", {m1: 7})
    producer = make_producer(kafka_bootstrap, "omni-test-listings")
    await producer.start()
    try:
        sends = [(product_topic, product("SP9", {m1: 1})), (product_topic, listing("L9", "tmall", "SP9"))]
        sends += [(stock_topic, e) for e in await stock_changes(db)]
        for topic, env in sends:
            await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())
    finally:
        await producer.stop()
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await eventually(lambda: _quantity(db, "L9"))
    assert await _quantity(db, "L9") == 7


async def _quantity(db, lid: str) -> int | None:
    found = await rows(db, "SELECT quantity FROM listing_stock WHERE listing_id = :l", l=lid)
    return found[0].quantity if found else None
