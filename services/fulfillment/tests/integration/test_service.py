"""Use cases on the real database (the repository's SQL), each in a `SqlUnitOfWork`, as the chassis runs
them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from omni_fulfillment import service, store

sys.path.insert(0, str(Path(__file__).parent))
from fulfillment_support import (
    MIGRATIONS,
    accepted,
    cancelled,
    node,
    outbox,
    refused,
    reserved,
    rows,
    seed_nodes,
    seed_stock,
    stock_changed,
    uid,
    uow,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(make_database):
    return await make_database("fulfillment", migrations=MIGRATIONS)


async def handle_orders(db, *envs):
    await service.on_order_events(uow(db), list(envs))


async def handle_replies(db, *envs, max_attempts=3):
    await service.on_reservation_replies(uow(db), list(envs), max_attempts=max_attempts)


async def test_the_migration_creates_exactly_the_tables_of_the_store(db):
    engine = create_async_engine(db.url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), store.metadata
                )
            )
    finally:
        await engine.dispose()
    chassis = {"outbox", "inbox", "parked", "timers", "alembic_version", "alembic_version_chassis"}

    def chassis_table(d):
        obj = d[1] if isinstance(d, tuple) else None
        table = getattr(obj, "table", obj)
        return getattr(table, "name", None) in chassis

    diff = [d for d in diff if not chassis_table(d)]
    assert diff == []


async def test_stock_projection_keeps_the_newest_seq_in_a_batch_and_against_the_table(db):
    await service.on_stock_changed(uow(db), [stock_changed("N1", "A", 5, 3), stock_changed("N1", "A", 7, 2)])
    await service.on_stock_changed(uow(db), [stock_changed("N1", "A", 1, 1), stock_changed("N1", "B", 4, 1)])
    got = await rows(db, "SELECT material_code, available, seq FROM stock ORDER BY 1")
    assert [(r.material_code, r.available, r.seq) for r in got] == [("A", 5, 3), ("B", 4, 1)]


async def test_split_order_is_allocated_only_when_both_nodes_reserved(db):
    x = uid()
    await seed_nodes(db, node("N1", 1), node("N2", 2), node("OFF", 0, active=False))
    await seed_stock(db, [("N1", "A", 1), ("N2", "B", 1), ("OFF", "A", 9), ("OFF", "B", 9)])
    order_id = f"O-{x}"
    await handle_orders(db, accepted(order_id, {"A": 1, "B": 1}))
    requests = await outbox(db, "fulfillment.reservation-requested")
    assert sorted(r["node_code"] for r in requests) == ["N1", "N2"], "the inactive node is never used"

    await handle_replies(db, reserved(requests[0]))
    assert not await outbox(db, "fulfillment.order-allocated")
    await handle_replies(db, reserved(requests[1]))
    (allocation,) = await outbox(db, "fulfillment.order-allocated")
    assert sorted(t["node_code"] for t in allocation["tasks"]) == ["N1", "N2"]
    tasks = await rows(db, "SELECT node_code, status, reservation_id FROM tasks ORDER BY node_code")
    assert [(t.node_code, t.status) for t in tasks] == [("N1", "assigned"), ("N2", "assigned")]
    assert {t.reservation_id for t in tasks} == {r["reservation_id"] for r in requests}


async def test_orders_of_one_batch_do_not_plan_on_the_same_last_unit(db):
    await seed_nodes(db, node("N1", 1), node("N2", 5))
    await seed_stock(db, [("N1", "A", 1), ("N2", "A", 1)])
    await handle_orders(db, accepted("O1", {"A": 1}), accepted("O2", {"A": 1}), accepted("O3", {"A": 1}))
    requests = await outbox(db, "fulfillment.reservation-requested")
    assert [(r["order_id"], r["node_code"]) for r in requests] == [("O1", "N1"), ("O2", "N2")]
    (verdict,) = await outbox(db, "fulfillment.order-unfulfillable")
    assert verdict["order_id"] == "O3" and verdict["attempts"] == 1
    assert (
        verdict["reason"]
        == "not enough stock in any combination of active nodes: A needs 1, 0 available in total"
    )


async def test_unfulfillable_at_once_says_why(db):
    await seed_nodes(db, node("N1", 1), node("N2", 2))
    await seed_stock(db, [("N1", "MAT-1", 2), ("N2", "MAT-1", 1)])
    await handle_orders(db, accepted("O1", {"MAT-1": 5}))
    assert not await outbox(db, "fulfillment.reservation-requested")
    (verdict,) = await outbox(db, "fulfillment.order-unfulfillable")
    assert verdict == {
        "order_id": "O1",
        "reason": "not enough stock in any combination of active nodes: MAT-1 needs 5, 3 available in total",
        "shortfall": [{"material_code": "MAT-1", "requested": 5, "available": 3}],
        "attempts": 1,
    }


async def test_without_usable_coordinates_priority_decides(db):
    await seed_nodes(db, node("NEAR", 1, priority=0), node("FAR", 500, priority=5))
    await seed_stock(db, [("NEAR", "A", 5), ("FAR", "A", 5)])
    await handle_orders(db, accepted("O1", {"A": 1}), accepted("O2", {"A": 1}, to=None))
    await handle_orders(db, accepted("O3", {"A": 1}, to=(999.0, 0.0)))
    requests = await outbox(db, "fulfillment.reservation-requested")
    got = [(r["order_id"], r["node_code"]) for r in requests]
    assert got == [("O1", "NEAR"), ("O2", "FAR"), ("O3", "FAR")]


async def test_store_pickup_gets_a_pickup_task_with_a_six_digit_code(db):
    await seed_nodes(db, node("WH", 1, priority=100), node("ST", 50, type="store"))
    await seed_stock(db, [("WH", "A", 9), ("ST", "A", 1)])
    await handle_orders(db, accepted("O1", {"A": 1}, delivery="store_pickup", pickup_node="ST"))
    (request,) = await outbox(db, "fulfillment.reservation-requested")
    assert request["node_code"] == "ST"
    await handle_replies(db, reserved(request))
    (task,) = await rows(db, "SELECT kind, pickup_code, node_code FROM tasks")
    assert (task.kind, task.node_code) == ("pickup", "ST")
    assert len(task.pickup_code) == 6 and task.pickup_code.isdigit()
    (allocation,) = await outbox(db, "fulfillment.order-allocated")
    assert allocation["tasks"][0]["kind"] == "pickup"


async def test_a_store_pickup_at_a_store_with_no_stock_is_unfulfillable(db):
    await seed_nodes(db, node("WH", 1), node("ST", 2, type="store"))
    await seed_stock(db, [("WH", "A", 9)])
    await handle_orders(db, accepted("O1", {"A": 2}, delivery="store_pickup", pickup_node="ST"))
    (verdict,) = await outbox(db, "fulfillment.order-unfulfillable")
    assert verdict["reason"] == "not enough stock at store pickup node ST: A needs 2, 0 available"


async def test_a_second_acceptance_of_the_same_order_is_ignored(db):
    await seed_nodes(db, node("N1", 1))
    await seed_stock(db, [("N1", "A", 5)])
    await handle_orders(db, accepted("O1", {"A": 1}))
    await handle_orders(db, accepted("O1", {"A": 1}), accepted("O1", {"A": 3}))
    assert len(await outbox(db, "fulfillment.reservation-requested")) == 1


async def test_cancel_stops_sourcing_cancels_open_tasks_and_later_replies_are_ignored(db):
    await seed_nodes(db, node("N1", 1), node("N2", 2), node("N3", 3))
    await seed_stock(db, [("N1", "A", 2), ("N2", "B", 1), ("N3", "B", 1)])
    await handle_orders(db, accepted("O1", {"A": 1}, to=None), accepted("O2", {"A": 1, "B": 1}, to=None))
    r1, *r2 = await outbox(db, "fulfillment.reservation-requested")
    await handle_replies(db, reserved(r1))
    assert len(await rows(db, "SELECT 1 FROM tasks WHERE order_id = 'O1'")) == 1

    # O2 is cancelled while one of its reservations is still pending.
    await handle_replies(db, reserved(r2[0]))
    await handle_orders(db, cancelled("O1"), cancelled("O2"))
    assert [r.status for r in await rows(db, "SELECT status FROM tasks WHERE order_id = 'O1'")] == [
        "cancelled"
    ]
    states = await rows(db, "SELECT order_id, status FROM sourcing ORDER BY 1")
    assert [(s.order_id, s.status) for s in states] == [("O1", "cancelled"), ("O2", "cancelled")]
    before = len(await outbox(db))
    await handle_replies(db, refused(r2[1]), reserved(r2[1]))
    assert len(await outbox(db)) == before, "no re-plan, no allocation after a cancellation"
    assert not await rows(db, "SELECT 1 FROM tasks WHERE order_id = 'O2'")
    statuses = {r.status for r in await rows(db, "SELECT status FROM reservations WHERE order_id = 'O2'")}
    assert statuses == {"abandoned"}


async def test_accepted_and_cancelled_in_one_batch_requests_nothing(db):
    await seed_nodes(db, node("N1", 1))
    await seed_stock(db, [("N1", "A", 5)])
    await handle_orders(db, accepted("O1", {"A": 1}), accepted("O2", {"A": 1}), cancelled("O1"))
    assert [r["order_id"] for r in await outbox(db, "fulfillment.reservation-requested")] == ["O2"]
    states = await rows(db, "SELECT order_id, status FROM sourcing ORDER BY 1")
    assert [(s.order_id, s.status) for s in states] == [("O1", "cancelled"), ("O2", "sourcing")]


async def test_a_cancellation_before_acceptance_keeps_the_order_from_being_sourced(db):
    await seed_nodes(db, node("N1", 1))
    await seed_stock(db, [("N1", "A", 5)])
    await handle_orders(db, cancelled("O1"))
    await handle_orders(db, accepted("O1", {"A": 1}))
    assert not await outbox(db, "fulfillment.reservation-requested")


async def test_a_cancellation_racing_an_allocation_waits_for_it_and_cancels_its_tasks(db):
    """The order row is locked by whoever handles the order first: a cancellation arriving while a reply's
    transaction is open waits for it, then sees (and cancels) the task it created."""
    await seed_nodes(db, node("N1", 1))
    await seed_stock(db, [("N1", "A", 5)])
    await handle_orders(db, accepted("O1", {"A": 1}))
    (request,) = await outbox(db, "fulfillment.reservation-requested")
    holder = uow(db)
    async with holder:
        await service.on_reservation_replies(holder, [reserved(request)])
        cancel = asyncio.create_task(handle_orders(db, cancelled("O1")))
        await asyncio.sleep(
            0.3
        )  # let the cancellation run into the lock (it cannot finish before the commit)
        assert not cancel.done()
    await cancel
    (state,) = await rows(db, "SELECT status FROM sourcing")
    assert state.status == "cancelled"
    assert [t.status for t in await rows(db, "SELECT status FROM tasks")] == ["cancelled"]


async def test_a_retry_sources_again_an_order_given_up_on_and_its_tasks_keep_the_line_ids(db):
    """On the real tables: the restart's first attempt and acceptance are kept, the attempt numbers go on
    (reservation ids stay unique), and the tasks keep which order lines their units fulfil."""
    await seed_nodes(db, node("N1", 1), node("N2", 2))
    await seed_stock(db, [("N1", "A", 1), ("N2", "A", 1)])
    first = accepted("O1", {"A": 3})
    await handle_orders(db, first)
    (verdict,) = await outbox(db, "fulfillment.order-unfulfillable")
    assert verdict["attempts"] == 1
    await handle_orders(db, first)  # the same event again: nothing
    assert len(await outbox(db, "fulfillment.sourcing-started")) == 1

    await seed_stock(db, [("N1", "A", 1), ("N2", "A", 3)], seq=2)
    retry = accepted("O1", {"A": 3})
    await handle_orders(db, retry)
    assert [s["attempt"] for s in await outbox(db, "fulfillment.sourcing-started")] == [1, 2]
    (request,) = await outbox(db, "fulfillment.reservation-requested")
    assert (request["reservation_id"], request["attempt"]) == ("O1:2:N2", 2)
    (state,) = await rows(db, "SELECT status, attempt, first_attempt, accepted_event, lines FROM sourcing")
    assert (state.status, state.attempt, state.first_attempt) == ("sourcing", 2, 2)
    assert state.accepted_event == str(retry.event_id)
    assert state.lines == [{"line_id": "O1-0", "material_code": "A", "qty": 3}]

    await handle_replies(db, reserved(request))
    (task,) = await rows(db, "SELECT node_code, order_lines FROM tasks")
    assert (task.node_code, task.order_lines) == ("N2", [{"line_id": "O1-0", "material_code": "A", "qty": 3}])
    assert len(await outbox(db, "fulfillment.order-allocated")) == 1
