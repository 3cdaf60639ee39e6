"""What the OMS does with a store's tasks given back (issue #11), on the fake unit of work: an order
allocated again after a store rejected its task keeps its status and gets the new allocation (the shipment
from the new node then ships it); units no other node could take make an allocated order a backorder; a
pickup nobody collected cancels the order with the refund due, or, when it cannot be cancelled any more, is
noted in its decision trace."""

from __future__ import annotations

from order_factories import envelope
from order_journeys import (
    STORE_LINES,
    WH_LINES,
    accepted_order,
    all_lines,
    follow,
    qty,
    shipped_v2,
    started,
    two_tasks,
)

from omni_contracts import utcnow
from omni_contracts.events.common import Shortfall
from omni_contracts.events.fulfillment import OrderAllocatedV1, OrderUnfulfillableV1, TaskRef
from omni_contracts.events.fulfillment_tasks import PickupExpiredV1, ReleasedLine
from omni_order import consumers

WH, OTHER = "WH-HZ", "ST-2"


def moved(order_id: str) -> OrderAllocatedV1:
    """T2 (ST-1) was rejected; its bag is now T3 at ST-2: every task the order still has."""
    return OrderAllocatedV1(order_id=order_id, tasks=[
        TaskRef(task_id="T1", node_code=WH, kind="ship", reservation_id="R1", lines=qty(*WH_LINES)),
        TaskRef(task_id="T3", node_code=OTHER, kind="ship", reservation_id="R3", lines=qty(*STORE_LINES)),
    ])  # fmt: skip


def expired(order_id: str, task: str = "T2") -> PickupExpiredV1:
    return PickupExpiredV1(
        task_id=task, order_id=order_id, node_code="ST-1", reservation_id="R2",
        lines=[ReleasedLine(material_code="BEAN-ETH-500", qty=1)], ready_at=utcnow(), hold_s=172800,
        reason="not collected within 48 h of being ready for pickup", expired_at=utcnow(),
    )  # fmt: skip


async def on_fulfillment(uow, *events) -> None:
    await consumers.on_fulfillment(uow, [envelope(e) for e in events])


async def test_an_allocation_again_replaces_the_allocation_and_keeps_the_status():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    before = len(uow.repo.history)
    await follow(uow, moved(oid))
    o = uow.repo.orders[oid]
    assert (o["status"], o["role_fulfiller"]) == ("allocated", f"node:{OTHER},node:{WH}")
    assert len(uow.repo.history) == before, "no transition: the order stays allocated"
    assert {a["task_id"] for a in uow.repo.allocation_rows} == {"T1", "T3"}
    wh = [(lid, m, 2 if m == "BEAN-ETH-500" else q) for lid, m, q in all_lines(oid)]
    await follow(uow, shipped_v2(oid, "T1", wh))
    assert uow.repo.orders[oid]["status"] == "partially_shipped"
    await follow(uow, moved(oid))  # again while partially shipped: replaced, still partially shipped
    assert uow.repo.orders[oid]["status"] == "partially_shipped"
    (bag,) = [lid for lid, m, _ in all_lines(oid) if m == "BEAN-ETH-500"]
    await follow(uow, shipped_v2(oid, "T3", [(bag, "BEAN-ETH-500", 1)], node=OTHER))
    assert uow.repo.orders[oid]["status"] == "shipped", "the re-sourced task was the last one"


async def test_units_no_other_node_takes_make_an_allocated_order_a_backorder():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    gave_up = OrderUnfulfillableV1(
        order_id=oid, attempts=2,
        reason="node ST-1 rejected the task (out_of_stock: out of stock); re-sourcing its lines failed: not "
        "enough stock in any combination of active nodes",
        shortfall=[Shortfall(material_code="BEAN-ETH-500", requested=1, available=0)],
    )  # fmt: skip
    await follow(uow, gave_up)
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"]) == ("backorder", "backorder")
    assert uow.of_type("order.exception-raised") == []


async def test_a_pickup_nobody_collected_cancels_the_order_with_the_refund_due():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    await on_fulfillment(uow, expired(oid))
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"]) == ("cancelled", "pickup_expired")
    (cancel,) = uow.of_type("order.cancelled")
    assert "not collected within 48 h" in cancel.data.reason and f"a refund of {o['paid_cents']} fen" in (
        cancel.data.reason
    )
    (row,) = [d for d in await uow.repo.decisions(oid) if d["stage"] == "fulfillment"]
    assert (row["subject"], row["effect"]) == ("pickup task T2", "cancelled")
    await on_fulfillment(uow, expired(oid))  # the same expiry again (a new event): nothing more
    assert len(uow.of_type("order.cancelled")) == 1


async def test_a_pickup_expired_after_part_of_the_order_left_is_noted_not_cancelled():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid))
    wh = [(lid, m, 2 if m == "BEAN-ETH-500" else q) for lid, m, q in all_lines(oid)]
    await follow(uow, shipped_v2(oid, "T1", wh))
    await on_fulfillment(uow, expired(oid))
    assert uow.repo.orders[oid]["status"] == "partially_shipped"
    assert uow.of_type("order.cancelled") == []
    (row,) = [d for d in await uow.repo.decisions(oid) if d["stage"] == "fulfillment"]
    assert row["effect"].startswith("kept partially_shipped: refund the units of task T2")
    assert "fulfillment.pickup-expired" in consumers.fulfillment_spec().event_types
