"""Freight (issue #11) on the real broker and database: fulfillment.carrier-chosen in the finance-shipments
group, a shipped parcel's chosen cost booked once per task (Dr 660102 / Cr 2202), either order of arrival."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from omni_chassis import dlq as dlq_mod
from omni_chassis.testing import eventually, running_consumers
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import Envelope
from omni_finance import app as app_mod
from omni_finance import consumers, service
from omni_finance.store import Repository

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from finance_factories import (
    ALL_LINES,
    MIGRATIONS,
    accepted,
    env,
    publish,
    rows,
    scalar,
    shipped,
    uid,
    uow,
    vouchers_of,
)
from finance_freight import carrier_chosen

pytestmark = pytest.mark.integration

FREIGHT = "SELECT count(*) FROM vouchers WHERE order_id = :o AND kind = 'freight'"
COST = (
    "SELECT attempt, carrier, cost_cents, booked_carrier, booked_cents FROM carrier_costs WHERE task_id = :t"
)


@pytest.fixture
async def db(make_database):
    return await make_database("finance_freight", migrations=MIGRATIONS)


def chosen(
    oid: str, task: str, carrier: str | None = "SF", cost: int | None = 500, **kw: Any
) -> Envelope[Any]:
    return env(carrier_chosen(oid, task, carrier, cost, **kw))


def ship(oid: str, task: str, carrier: str = "SF", lines: list[tuple[str, int]] = ALL_LINES) -> Envelope[Any]:
    e = shipped(oid, lines, task_id=task)
    return e if carrier == "SF" else env(e.data.model_copy(update={"carrier": carrier}))


def freight_sides(cents: int) -> tuple[str, list[tuple[str, int, int]]]:
    return ("freight", [("660102", cents, 0), ("2202", 0, cents)])


async def _specs(fresh_topic):
    order_topic, ful_topic = await fresh_topic("omni.test.order"), await fresh_topic("omni.test.fulfillment")
    suffix = uuid.uuid4().hex[:8]
    by_group = {s.group: s for s in consumers.specs()}
    orders = dataclasses.replace(by_group[consumers.ORDERS_GROUP], topics=[order_topic], group=f"fo-{suffix}")
    ships = dataclasses.replace(by_group[consumers.SHIPMENTS_GROUP], topics=[ful_topic], group=f"fs-{suffix}")
    return orders, ships, order_topic, ful_topic


async def test_through_kafka_either_order_books_the_chosen_cost_once(db, kafka_bootstrap, fresh_topic):
    orders, ships, order_topic, ful_topic = await _specs(fresh_topic)
    first, second, parked = uid("O"), uid("O"), uid("O")
    t1, t2, t3 = uid("task"), uid("task"), uid("task")
    async with running_consumers(kafka_bootstrap, db, [orders, ships], repository=Repository):
        await publish(kafka_bootstrap, order_topic, accepted(first), accepted(second))
        await eventually(lambda: scalar(db, "SELECT count(*) = 2 FROM orders"))
        # the choice first; the shipment first; a shipment parked (its order not booked yet) beside its choice
        await publish(
            kafka_bootstrap, ful_topic,
            chosen(first, t1, "SF", 500), ship(first, t1),
            ship(second, t2), chosen(second, t2, "SF", 1_200),
            ship(parked, t3), chosen(parked, t3, "SF", 700),
        )  # fmt: skip
        await eventually(lambda: scalar(db, FREIGHT, o=first))
        await eventually(lambda: scalar(db, FREIGHT, o=second))
        await eventually(lambda: scalar(db, COST, t=t3))
        assert await scalar(db, FREIGHT, o=parked) == 0
        await publish(kafka_bootstrap, order_topic, accepted(parked))
        await eventually(lambda: scalar(db, FREIGHT, o=parked), 30)
        # the same facts again (new events): nothing more
        again = [chosen(first, t1, "SF", 500), ship(first, t1)]
        await publish(kafka_bootstrap, ful_topic, *again)
        for e in again:
            await eventually(
                lambda e=e: scalar(db, "SELECT count(*) FROM inbox WHERE event_id = :e", e=e.event_id)
            )

    for oid, cents in ((first, 500), (second, 1_200), (parked, 700)):
        got = await vouchers_of(db, oid)
        assert [k for k, _ in got] == ["sale", "revenue", "freight"], (oid, got)
        assert got[2] == freight_sides(cents)
    [(attempt, carrier, cost, booked_carrier, booked)] = await rows(db, COST, t=t1)
    assert (attempt, carrier, cost, booked_carrier, booked) == (1, "SF", 500, "SF", 500)
    posted = "SELECT count(*) FROM outbox WHERE event_type = 'finance.voucher-posted' AND key = :o"
    assert [await scalar(db, posted, o=o) for o in (first, second, parked)] == [3, 3, 3]
    for g in (orders.group, ships.group):
        assert await dlq_mod.read_all(kafka_bootstrap, g, timeout_s=2) == [], g


async def test_attempts_carriers_and_replays_on_the_database(db):
    oid = uid("O")
    await service.handle_order_events(uow(db), [accepted(oid)])
    late, replaced, other, none, free = (uid("task") for _ in range(5))
    await service.handle_shipments(uow(db), [chosen(oid, late, "SF", 900, attempt=2)])
    await service.handle_shipments(uow(db), [chosen(oid, late, "YTO", 300)])  # attempt 1, late: ignored
    await service.handle_shipments(
        uow(db), [chosen(oid, replaced, "YTO", 300), chosen(oid, other, "YTO", 300)]
    )
    await service.handle_shipments(uow(db), [chosen(oid, replaced, "SF", 1_100, attempt=2, replaces="YTO")])
    await service.handle_shipments(uow(db), [chosen(oid, none, None, None), chosen(oid, free, "SF", 0)])
    # one task per line of the order (the factory's lines, in line order)
    shipments = [
        ship(oid, t, carrier="ZTO" if t == other else "SF", lines=[line])
        for t, line in zip((late, replaced, other, none, free), ALL_LINES, strict=True)
    ]
    await service.handle_shipments(uow(db), shipments)
    got = [v for v in await vouchers_of(db, oid) if v[0] == "freight"]
    assert got == [freight_sides(900), freight_sides(1_100)]  # late: attempt 2's; replaced: attempt 2's
    assert [tuple(r) for r in await rows(db, COST, t=other)] == [(1, "YTO", 300, None, None)]  # shipped ZTO
    # replayed past the inbox, both ways round: nothing more
    await service.handle_shipments(uow(db), shipments)
    await service.handle_shipments(uow(db), [chosen(oid, late, "SF", 900, attempt=2)])
    assert [v for v in await vouchers_of(db, oid) if v[0] == "freight"] == got
    # no carrier, no cost: recorded, never booked
    assert [tuple(r) for r in await rows(db, COST, t=none)] == [(1, None, None, None, None)]
    assert [tuple(r) for r in await rows(db, COST, t=free)] == [(1, "SF", 0, None, None)]


async def test_a_choice_and_its_shipment_side_by_side_book_once(db):
    """The live consumer and the parking loop may apply a task's two events at once. The choice's transaction
    is held once it has read the task; the shipment's, beside it, must wait for the task's lock and then see
    the choice (without the lock it would commit seeing no choice, and the choice none of the shipment)."""
    oid, task = uid("O"), uid("task")
    await service.handle_order_events(uow(db), [accepted(oid)])
    read, go = asyncio.Event(), asyncio.Event()

    class HeldAfterReading(Repository):
        async def load_freight(self, task_ids):
            found = await super().load_freight(task_ids)
            read.set()
            await go.wait()
            return found

    choice = asyncio.create_task(
        service.handle_shipments(SqlUnitOfWork(db, HeldAfterReading), [chosen(oid, task, "SF", 500)])
    )
    await read.wait()
    shipment = asyncio.create_task(service.handle_shipments(uow(db), [ship(oid, task)]))
    await asyncio.wait([shipment], timeout=1)  # with the lock it waits for the choice's transaction
    go.set()
    await asyncio.gather(choice, shipment)
    assert [v for v in await vouchers_of(db, oid) if v[0] == "freight"] == [freight_sides(500)]


async def test_the_rest_api_shows_the_freight_under_the_order(db, monkeypatch):
    oid, task = uid("O"), uid("task")
    await service.handle_order_events(uow(db), [accepted(oid)])
    await service.handle_shipments(uow(db), [chosen(oid, task, "SF", 650), ship(oid, task)])
    monkeypatch.setattr(consumers, "specs", lambda: [])
    app = app_mod.build(app_mod.Settings(service_database_url=db.dsn))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        r = await c.get(f"/orders/{oid}/vouchers", params={"kind": "freight"})
        assert r.status_code == 200, r.text
        [v] = r.json()["items"]
        assert [
            (x["account_code"], x["account_name"], x["debit_cents"], x["credit_cents"]) for x in v["lines"]
        ] == [
            ("660102", "销售费用-运费", 650, 0),
            ("2202", "应付账款-承运商", 0, 650),
        ]
        assert "carrier SF" in v["summary"]
        tb = (await c.get("/trial-balance", params={"order_id": oid})).json()
        bal = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
        assert tb["balanced"] and (bal["660102"], bal["2202"]) == (650, 650), bal
