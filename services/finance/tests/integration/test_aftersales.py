"""Refunds and compensations on the real database (and broker): refund vouchers before and after shipment,
compensation as a sales expense, once per case, a merged order's source refunded against its own sale, and
nothing booked for an order its cancellation already reversed."""

from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from omni_chassis.testing import eventually, running_consumers
from omni_contracts import utcnow
from omni_finance import app as app_mod
from omni_finance import consumers, service, store
from omni_finance.domain.vouchers import Line, Voucher, VoucherKind

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))  # finance_aftersales, shared with the unit tests
from finance_aftersales import compensation_granted, refund_approved
from finance_factories import (
    ALL_LINES,
    GOODS,
    MIGRATIONS,
    S1_FREIGHT,
    S1_GOODS,
    accepted,
    cancelled,
    env,
    merged_accepted,
    publish,
    rows,
    scalar,
    shipped,
    shipped_v2,
    uid,
    uow,
    vouchers_of,
)

pytestmark = pytest.mark.integration
ORDERS = next(
    s for s in consumers.specs() if s.group == consumers.ORDERS_GROUP
)  # before `client` patches specs

FREIGHT = 1_000
PAID = GOODS + FREIGHT
SALE = ("sale", [("1122", PAID, 0), ("2205", 0, GOODS), ("2206", 0, FREIGHT)])
REVENUE = ("revenue", [("2205", GOODS, 0), ("2206", FREIGHT, 0), ("6001", 0, GOODS), ("6051", 0, FREIGHT)])


@pytest.fixture
async def db(make_database):
    return await make_database("finance_aftersales", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, monkeypatch):
    monkeypatch.setattr(consumers, "specs", lambda: [])  # no consumer group on the shared topics in tests
    app = app_mod.build(app_mod.Settings(service_database_url=db.dsn))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


async def balances(client, order_id):
    r = await client.get("/trial-balance", params={"order_id": order_id})
    assert r.status_code == 200 and r.json()["balanced"]
    return {a["account_code"]: a["balance_cents"] for a in r.json()["accounts"] if a["balance_cents"]}


def refund(order_id, lines, **kw):
    return env(refund_approved(order_id, uid("AS"), lines, **kw))


async def book(db, *envs):
    await service.handle_order_events(uow(db), list(envs))


async def test_a_partial_refund_before_shipment_reverses_that_part_then_the_rest_ships(db, client):
    oid = uid("O")
    await book(db, accepted(oid))
    r = refund(oid, [(f"{oid}-1", "BEAN-YIRGA", 1, 10_000)], freight=400, kind="refund_before_shipment",
               before_shipment=True)  # fmt: skip
    await book(db, r)
    assert await vouchers_of(db, oid) == [
        SALE,
        ("refund", [("2205", 10_000, 0), ("2206", 400, 0), ("1122", 0, 10_400)]),
    ]
    line = await rows(
        db, "SELECT refunded_qty, cancelled_qty, deferred_refund_cents FROM order_lines WHERE order_id = :o "
        "AND line_no = 1", o=oid,
    )  # fmt: skip
    assert [tuple(x) for x in line] == [(1, 1, 10_000)]
    assert await scalar(db, "SELECT freight_refund_cents FROM orders WHERE order_id = :o", o=oid) == 400
    await service.handle_shipments(uow(db), [shipped_v2(oid, ALL_LINES[1:])])
    rest = GOODS - 10_000
    assert (await vouchers_of(db, oid))[2] == (
        "revenue", [("2205", rest, 0), ("2206", 600, 0), ("6001", 0, rest), ("6051", 0, 600)]
    )  # fmt: skip
    assert await balances(client, oid) == {"1122": PAID - 10_400, "6001": GOODS - 10_000, "6051": 600}
    # traceable: the refund voucher names its event and its case, and was emitted caused by it
    r_json = (await client.get("/vouchers", params={"order_id": oid, "kind": "refund"})).json()["items"][0]
    assert r_json["source_event_id"] == str(r.event_id) and r.data.case_id in r_json["summary"]
    emitted = await rows(
        db, "SELECT value FROM outbox WHERE event_type = 'finance.voucher-posted' ORDER BY id"
    )
    caused = [json.loads(x.value) for x in emitted if json.loads(x.value)["causation_id"] == str(r.event_id)]
    assert [e["data"]["voucher_id"] for e in caused] == [r_json["voucher_id"]]


async def test_a_refund_after_shipment_reverses_revenue_and_a_compensation_is_an_expense(db, client):
    oid = uid("O")
    await book(db, accepted(oid))
    await service.handle_shipments(uow(db), [shipped(oid, ALL_LINES)])
    await book(
        db, refund(oid, [(f"{oid}-4", "MACHINE-AUTO", 1, 70_000)], freight=FREIGHT, kind="return_and_refund")
    )
    await book(db, env(compensation_granted(oid, uid("AS"), 500)))
    assert await vouchers_of(db, oid) == [
        SALE, REVENUE,
        ("refund", [("6001", 70_000, 0), ("6051", FREIGHT, 0), ("1122", 0, 70_000 + FREIGHT)]),
        ("compensation", [("660101", 500, 0), ("1122", 0, 500)]),
    ]  # fmt: skip
    assert await balances(client, oid) == {"1122": PAID - 71_500, "6001": GOODS - 70_000, "660101": 500}
    r = await client.get("/accounts", params={"limit": 200})
    names = {a["code"]: a["name"] for a in r.json()["items"]}
    assert names["660101"] == "销售费用-售后赔付" and names["112201"] == "应收账款-账期客户"


async def test_a_case_books_once_redelivered_or_announced_again(db, kafka_bootstrap, fresh_topic):
    topic = await fresh_topic("omni.test.order")
    spec = next(s for s in consumers.specs() if s.group == consumers.ORDERS_GROUP)
    assert {
        "order.refund-approved",
        "order.compensation-granted",
        "order.payment-received",
    } <= spec.event_types
    spec = dataclasses.replace(spec, topics=[topic], group=f"finance-orders-{uuid.uuid4().hex[:8]}")
    oid = uid("O")
    data = refund_approved(
        oid, uid("AS"), [(f"{oid}-1", "BEAN-YIRGA", 1, 10_000)], kind="refund_before_shipment"
    )
    first, again = env(data), env(data)  # one event, and the same case announced by a new event
    comp = env(compensation_granted(oid, uid("AS"), 300))
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await publish(kafka_bootstrap, topic, accepted(oid), first, first, again, comp, comp)
        await eventually(lambda: scalar(db, "SELECT count(*) = 3 FROM inbox WHERE event_id IN (:a, :b, :c)",
                                        a=first.event_id, b=again.event_id, c=comp.event_id))  # fmt: skip
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "refund", "compensation"]
    # past the inbox too (as if its rows were lost): the case's voucher id is taken, nothing more is booked
    await book(db, first, again, comp)
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "refund", "compensation"]
    refunded = "SELECT deferred_refund_cents FROM order_lines WHERE order_id = :o AND line_no = 1"
    assert await scalar(db, refunded, o=oid) == 10_000
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE event_type = 'finance.voucher-posted'") == 3
    # and the last fence: the voucher's primary key (its id comes from the case)
    refund_row = await rows(
        db, "SELECT voucher_id FROM vouchers WHERE order_id = :o AND kind = 'refund'", o=oid
    )
    with pytest.raises(IntegrityError, match="vouchers_pkey"):
        async with db.transaction() as s:
            dup = Voucher(refund_row[0].voucher_id, VoucherKind.REFUND, oid, uuid.uuid4(), "x", "s", "CNY",
                          utcnow(), (Line.dr("2205", 1), Line.cr("1122", 1)))  # fmt: skip
            await store.Repository(s).save(store.Writes({}, vouchers=[dup]), utcnow())


async def test_a_merged_sources_refund_reverses_the_sources_own_sale(
    db, client, kafka_bootstrap, fresh_topic
):
    topic = await fresh_topic("omni.test.order")
    spec = dataclasses.replace(ORDERS, topics=[topic], group=f"finance-orders-{uuid.uuid4().hex[:8]}")
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    # the OMS names the source's own line ids (finance keeps M's): matched by material
    early = refund(
        s1, [("own-line-2", "FILTER-100", 3, 3_000)], freight=S1_FREIGHT, kind="refund_before_shipment"
    )
    parked = "SELECT count(*) FROM parked WHERE waits_for = :k"
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        # the refund comes first (M's acceptance travels under M's key): it waits on the source's key
        await publish(kafka_bootstrap, topic, early)
        await eventually(lambda: scalar(db, parked, k=f"order:{s1}"))
        assert await vouchers_of(db, s1) == []
        await publish(kafka_bootstrap, topic, merged_accepted(m, s1, s2))
        await eventually(
            lambda: scalar(db, "SELECT count(*) = 2 FROM vouchers WHERE order_id = :o", o=s1), 30
        )
        await eventually(lambda: scalar(db, "SELECT count(*) = 0 FROM parked"))
    assert await vouchers_of(db, s1) == [
        ("sale", [("1122", S1_GOODS + S1_FREIGHT, 0), ("2205", 0, S1_GOODS), ("2206", 0, S1_FREIGHT)]),
        ("refund", [("2205", 3_000, 0), ("2206", S1_FREIGHT, 0), ("1122", 0, 3_000 + S1_FREIGHT)]),
    ]
    assert await vouchers_of(db, m) == [] and await balances(client, s1) == {"1122": 10_000, "2205": 10_000}
    got = await rows(
        db, "SELECT line_id, cancelled_qty FROM order_lines WHERE order_id = :o ORDER BY line_no", o=s1
    )
    assert [tuple(x) for x in got] == [(f"{s1}-1", 0), (f"{s1}-2", 3)]
    r = (await client.get(f"/orders/{s1}/vouchers", params={"kind": "refund"})).json()["items"][0]
    assert f"via merged order {m}" in r["summary"] and r["source_event_id"] == str(early.event_id)


async def test_a_refund_of_an_order_already_reversed_by_its_cancellation_books_nothing(db, client):
    oid = uid("O")
    await book(db, accepted(oid), cancelled(oid))
    await book(db, refund(oid, [(f"{oid}-1", "BEAN-YIRGA", 1, 10_000)], kind="refund_before_shipment"))
    assert [k for k, _ in await vouchers_of(db, oid)] == ["sale", "reversal"]
    assert await scalar(db, "SELECT sum(refunded_qty) FROM order_lines WHERE order_id = :o", o=oid) == 0
    assert await balances(client, oid) == {}
    # a refund approved before the cancellation: the cancellation reverses only what is left
    other = uid("O")
    await book(db, accepted(other), refund(other, [(f"{other}-4", "MACHINE-AUTO", 1, 70_000)],
                                           kind="refund_before_shipment"), cancelled(other))  # fmt: skip
    left = [("1122", 0, PAID - 70_000), ("2205", GOODS - 70_000, 0), ("2206", FREIGHT, 0)]
    assert (await vouchers_of(db, other))[2] == ("reversal", left)
    assert await balances(client, other) == {}
