"""The SLA timers of store tasks on the fake unit of work (FakeUnitOfWork.fire_due plays time forward): the
accept SLA per store and channel reassigns a task nobody accepted to the next best node (the one that timed
out kept out), the pick-and-pack SLA escalates, the pickup hold cancels an uncollected pickup and tells the
OMS; a task that moved on is left alone, and each step stops the SLA before it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fulfillment_fakes import accepted, new_uow, node, reserved, stock_changed
from task_support import pack, ready

from omni_contracts import utcnow
from omni_fulfillment import service
from omni_fulfillment.domain.sla import SlaPolicy
from omni_fulfillment.domain.tasks import TaskStatus
from omni_fulfillment.service import task_config, task_flow, task_timers
from omni_fulfillment.service.task_config import ACCEPT_TIMER, PICK_PACK_TIMER, PICKUP_HOLD_TIMER, TaskConfig

H = task_timers.HANDLERS


@pytest.fixture(autouse=True)
def defaults():
    task_config.configure(TaskConfig())
    yield
    task_config.configure(TaskConfig())


async def seed(uow: Any) -> None:
    for n in (node("ST1", 1, type="store"), node("ST2", 5, type="store"), node("WH", 50)):
        await service.put_node(uow, n)
    stock = [("ST1", "A", 5), ("ST2", "A", 5), ("WH", "A", 5)]
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


async def reserve_pending(uow: Any) -> None:
    for e in uow.of_type("fulfillment.reservation-requested"):
        o = uow.repo.sourcings[e.data.order_id]
        if any(
            r.reservation_id == e.data.reservation_id and r.status.value == "pending" for r in o.reservations
        ):
            await service.on_reservation_replies(uow, [reserved(e.data)])


async def order(uow: Any, oid: str = "O1", **kw: Any) -> dict[str, str]:
    await service.on_order_events(uow, [accepted(oid, {"A": 1}, **kw)])
    await reserve_pending(uow)
    return {t.node_code: t.task_id for t in uow.repo.tasks.values() if t.order_id == oid}


async def test_the_accept_sla_per_store_and_channel_is_set_when_the_task_is_made():
    uow = new_uow()
    await seed(uow)
    await uow.repo.put_sla_policy(SlaPolicy("*", "tmall", accept_s=600), None, utcnow())
    await uow.repo.put_sla_policy(SlaPolicy("ST2", "*", accept_s=120, pick_pack_s=0), None, utcnow())
    tasks = await order(uow)
    t = uow.repo.tasks[tasks["ST1"]]
    assert (t.node_type, t.channel, t.due_kind) == ("store", "tmall", "accept")
    assert t.due_at == t.created_at + timedelta(seconds=600), "the channel's policy beats the default"
    assert uow.timers[(ACCEPT_TIMER, t.task_id)].due_at == t.due_at
    resolved = task_config.config().sla.of("warehouse")
    assert resolved.accept_s == 0, "a warehouse has no accept SLA by default"


async def test_a_task_not_accepted_in_time_moves_to_the_next_best_node():
    uow = new_uow()
    await seed(uow)
    tasks = await order(uow)
    late = utcnow() + timedelta(minutes=31)
    assert await uow.fire_due(H, late) == [(ACCEPT_TIMER, tasks["ST1"])]
    t = uow.repo.tasks[tasks["ST1"]]
    assert (t.status, t.status_reason) == (
        TaskStatus.REASSIGNED,
        "node ST1 did not accept the task within 30 min",
    )
    (moved,) = uow.of_type("fulfillment.task-reassigned")
    assert (moved.data.node_code, moved.data.sla_s, moved.data.reservation_id) == (
        "ST1",
        1800,
        t.reservation_id,
    )
    request = uow.of_type("fulfillment.reservation-requested")[-1].data
    assert request.node_code == "ST2", "the next best node; ST1 kept out"
    decided = uow.of_type("fulfillment.sourcing-decided")[-1].data
    assert {n.node_code: n.why for n in decided.nodes}["ST1"].endswith(
        "did not accept the task within 30 min"
    )
    await reserve_pending(uow)
    new = next(x for x in uow.repo.tasks.values() if x.node_code == "ST2")
    assert new.status is TaskStatus.ASSIGNED and (ACCEPT_TIMER, new.task_id) in uow.timers
    assert uow.repo.work.rejections[0]["kind"] == "accept_timeout"


async def test_accepting_stops_the_accept_sla_and_starts_pick_and_pack_which_escalates():
    uow = new_uow()
    await seed(uow)
    tid = (await order(uow))["ST1"]
    await task_flow.accept_task(uow, tid, "s1")
    assert (ACCEPT_TIMER, tid) not in uow.timers and (PICK_PACK_TIMER, tid) in uow.timers
    assert uow.repo.tasks[tid].due_kind == "pick_pack"
    assert await uow.fire_due(H, utcnow() + timedelta(minutes=61)) == [(PICK_PACK_TIMER, tid)]
    t = uow.repo.tasks[tid]
    assert (t.status, t.escalation) == (TaskStatus.ACCEPTED, "not packed within 60 min of being accepted")
    (esc,) = uow.of_type("fulfillment.task-escalated")
    assert (esc.data.task_id, esc.data.status, esc.data.sla_s) == (tid, "accepted", 3600)
    await pack(uow, tid)
    assert uow.repo.tasks[tid].due_kind is None and not [k for k in uow.timers if k[1] == tid]


async def test_an_uncollected_pickup_is_cancelled_and_the_oms_told():
    uow = new_uow()
    await seed(uow)
    tid = (await order(uow, delivery="store_pickup", pickup_node="ST1"))["ST1"]
    await task_flow.accept_task(uow, tid, "s1")
    await ready(uow, tid)
    assert (PICK_PACK_TIMER, tid) not in uow.timers and uow.repo.tasks[tid].due_kind == "pickup_hold"
    assert await uow.fire_due(H, utcnow() + timedelta(hours=47)) == []
    assert await uow.fire_due(H, utcnow() + timedelta(hours=49)) == [(PICKUP_HOLD_TIMER, tid)]
    t = uow.repo.tasks[tid]
    assert (t.status, t.status_reason) == (
        TaskStatus.CANCELLED,
        "not collected within 48 h of being ready for pickup",
    )
    (gone,) = uow.of_type("fulfillment.pickup-expired")
    assert (gone.data.reservation_id, [(x.material_code, x.qty) for x in gone.data.lines]) == (
        t.reservation_id,
        [("A", 1)],
    )


async def test_a_handler_leaves_a_task_that_moved_on_alone():
    uow = new_uow()
    await seed(uow)
    tid = (await order(uow))["ST1"]
    await task_flow.accept_task(uow, tid, "s1")
    async with uow:
        await task_timers.on_accept_sla(uow, tid, {"sla_s": 1800})
        await task_timers.on_pickup_hold(uow, tid, {"sla_s": 60})
        await task_timers.on_accept_sla(uow, "T-gone", None)
    assert uow.repo.tasks[tid].status is TaskStatus.ACCEPTED
    assert uow.of_type("fulfillment.task-reassigned") == uow.of_type("fulfillment.pickup-expired") == []
