"""Gifts on real PostgreSQL (the migrations): the gift line stored with its gift id and 0 paid and carried by
order.accepted in the outbox, the grant and its counters, the caps held by the locked counters when two
intakes run at once, and the stock projection keeping the newest seq per (node, material)."""

from __future__ import annotations

import asyncio

import pytest
from order_db_helpers import client_for, order_database, outbox, project, rows, scalar, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_contracts import utcnow
from omni_contracts.events.inventory import StockChangedV4
from omni_order import service
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.service import rules

pytestmark = pytest.mark.integration
GIFT, SUB = "BEAN-YUNNAN-250G", "BEAN-COLOMBIA-250G"


async def with_gift_rules(db, **gift) -> None:
    action = {"type": "add_gift", "gift_id": "mug", "material_code": GIFT, "substitutes": [SUB]} | gift
    doc = {"name": "gifts", "rules": [{"id": "all", "name": "every order", "then": [action]}]}
    await rules.save(uow_for(db), "ruleset", "gifts", RuleSetDoc.model_validate(doc))
    await rules.save(uow_for(db), "strategy", "tmall", StrategyDoc(name="tmall", ruleset_id="gifts"))


def stock(node: str, material: str, available: int, seq: int):
    d = StockChangedV4(
        node_code=node, material_code=material, on_hand=available, reserved=0, frozen=0, available=available,
        movement="receipt", seq=seq, changed_at=utcnow(),
    )  # fmt: skip
    return envelope(d, key=f"{node}:{material}")


async def test_a_gift_is_stored_sent_and_counted(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    await with_gift_rules(db, qty=2)
    await service.project_stock(uow_for(db), [stock("WH-HZ", GIFT, 0, 2), stock("WH-BJ", SUB, 4, 1)])
    await service.project_stock(uow_for(db), [stock("WH-HZ", GIFT, 8, 1)])  # older: ignored
    (oid,) = (await take_in(db, [envelope(channel_order())])).accepted
    line = (await rows(db, "SELECT material_code, qty, amount_cents, gift_id FROM order_lines "
                           "WHERE order_id = :o AND gift_id IS NOT NULL", o=oid))  # fmt: skip
    assert [tuple(x) for x in line] == [(SUB, 2, 0, "mug")]
    (accepted,) = await outbox(db, "order.accepted", key=oid)
    gifts = [x for x in accepted["data"]["lines"] if x.get("gift_id")]
    assert [(x["material_code"], x["qty"], x["amount_cents"]) for x in gifts] == [(SUB, 2, 0)]
    counters = dict(await rows(db, "SELECT scope, sets FROM gift_counters WHERE gift_id = 'mug'"))
    assert counters == {"*": 1, "tmall:buyer-1": 1}
    (why,) = await rows(db, "SELECT why FROM order_decisions WHERE order_id = :o AND stage = 'gifts'", o=oid)
    assert f"{GIFT}: 0 available" in why[0] and f"substitute {SUB}" in why[0]
    assert await scalar(db, "SELECT available FROM stock_seen WHERE material_code = :m", m=GIFT) == 0


async def test_two_intakes_at_once_never_give_more_than_the_total_cap(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    await with_gift_rules(db, caps={"total": 3})
    batches = [[envelope(channel_order(buyer_id=f"b{i}-{j}")) for j in range(3)] for i in range(4)]
    results = await asyncio.gather(*(take_in(db, b) for b in batches))
    assert sum(len(r.accepted) for r in results) == 12
    assert await scalar(db, "SELECT count(*) FROM gift_grants WHERE gift_id = 'mug'") == 3
    assert await scalar(db, "SELECT sets FROM gift_counters WHERE gift_id = 'mug' AND scope = '*'") == 3
    assert await scalar(db, "SELECT count(*) FROM order_lines WHERE gift_id = 'mug'") == 3


async def test_the_order_shows_its_gift_line_and_its_gifts(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    await with_gift_rules(db)
    (oid,) = (await take_in(db, [envelope(channel_order())])).accepted
    async with client_for(db) as client:
        order = (await client.get(f"/orders/{oid}")).json()
        gifts = (await client.get(f"/orders/{oid}/gifts")).json()
        missing = await client.get("/orders/no-such-order/gifts")
    lines = order["goods"]["lines"]
    assert [(x["material_code"], x["amount_cents"]) for x in lines if x["gift_id"] == "mug"] == [(GIFT, 0)]
    assert [(g["gift_id"], g["material_code"], g["qty"], g["rule"]) for g in gifts] == [
        ("mug", GIFT, 1, "rule all (gifts v1)")
    ]
    assert missing.status_code == 404
