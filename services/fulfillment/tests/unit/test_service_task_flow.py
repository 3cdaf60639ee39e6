"""The staff's actions on the fake unit of work: a retry with the same action id does nothing again (and the
id cannot be reused for something else), store staff act on their store's tasks only, a pack that accepts
a shortage gives the missing units back (short_pick: stock to 0, a count, re-sourced), a ready pickup sends
the buyer its code (resendable), and five wrong codes lock the task, every wrong code counted once."""

from __future__ import annotations

from typing import Any

import pytest
from fulfillment_fakes import accepted, new_uow, node, reserved, stock_changed
from task_support import do, pack, ready

from omni_fulfillment import service
from omni_fulfillment.domain.errors import Conflict, Forbidden, Invalid
from omni_fulfillment.domain.tasks import TaskStatus
from omni_fulfillment.service import task_config, task_flow
from omni_fulfillment.service.task_config import TaskConfig
from omni_fulfillment.service.tasks import task_history


@pytest.fixture(autouse=True)
def defaults():
    task_config.configure(TaskConfig())
    yield
    task_config.configure(TaskConfig())


async def store_task(uow: Any, lines: dict[str, int], **kw: Any) -> str:
    for n in (node("ST1", 1, type="store"), node("WH", 50)):
        await service.put_node(uow, n)
    stock = [("ST1", "A", 5), ("ST1", "B", 5), ("WH", "A", 50), ("WH", "B", 50)]
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])
    await service.on_order_events(uow, [accepted("O1", lines, **kw)])
    for e in uow.of_type("fulfillment.reservation-requested"):
        await service.on_reservation_replies(uow, [reserved(e.data)])
    (t,) = [t for t in uow.repo.tasks.values() if t.node_code == "ST1"]
    return t.task_id


async def test_a_retried_action_is_done_once_and_its_id_is_not_reused():
    uow = new_uow()
    tid = await store_task(uow, {"A": 1})
    first = await do(
        uow, tid, task_flow.accept("s1"), "accept", action_id="act-0001", body={"staff_id": "s1"}
    )
    again = await do(
        uow, tid, task_flow.accept("s1"), "accept", action_id="act-0001", body={"staff_id": "s1"}
    )
    assert (first.repeated, again.repeated, again.task.status) == (False, True, TaskStatus.ACCEPTED)
    assert len(uow.of_type("fulfillment.task-accepted")) == 1, "the retry did nothing again"
    with pytest.raises(Conflict, match="action id act-0001 was used for accept of task"):
        await do(uow, tid, task_flow.start_picking(), "start_picking", action_id="act-0001")
    with pytest.raises(Conflict, match="accepted by s1"):
        await task_flow.accept_task(uow, tid, "s2")  # without an id, a repeat is the state machine's
    await do(uow, tid, task_flow.pick([("A", 1)], None), "pick", action_id="act-0002", body={"l": 1})
    _, done = await task_history(uow, tid, "ST1")
    assert [(a["action_id"], a["action"], a["outcome"]) for a in done] == [
        ("act-0001", "accept", "done"),
        ("act-0002", "pick", "done"),
    ]


async def test_store_staff_act_on_their_store_only():
    uow = new_uow()
    tid = await store_task(uow, {"A": 1})
    with pytest.raises(Forbidden, match=f"task {tid} belongs to node ST1"):
        await do(uow, tid, task_flow.accept("x"), "accept", scope="ST9", action_id="act-0003")
    assert uow.repo.work.actions == {}, "a refused action records nothing"
    await do(uow, tid, task_flow.accept("x"), "accept", scope="ST1")


async def test_a_pack_that_accepts_a_shortage_gives_the_missing_units_back():
    uow = new_uow()
    tid = await store_task(uow, {"A": 2, "B": 1})
    await task_flow.accept_task(uow, tid, "s1")
    await do(uow, tid, task_flow.pick([("A", 1), ("B", 1)], None), "pick")
    with pytest.raises(Conflict, match=r"not fully picked \(A short 1\)"):
        await pack(uow, tid)
    done = await pack(uow, tid, shortage=True)
    assert (done.task.status, done.task.lines) == (TaskStatus.PACKED, uow.repo.tasks[tid].lines)
    assert [(x.material_code, x.qty) for x in done.task.lines] == [("A", 1), ("B", 1)]
    (ev,) = uow.of_type("fulfillment.task-rejected")
    assert (ev.data.reason_code, ev.data.whole, ev.data.stock_out) == ("short_pick", False, ["A"])
    request = uow.of_type("fulfillment.reservation-requested")[-1].data
    assert (request.node_code, [(x.material_code, x.qty) for x in request.lines]) == ("WH", [("A", 1)])
    assert uow.repo.work.rejections[0]["kind"] == "short_pick"


async def test_nothing_picked_at_all_is_a_whole_rejection():
    uow = new_uow()
    tid = await store_task(uow, {"A": 1})
    await task_flow.accept_task(uow, tid, "s1")
    await do(uow, tid, task_flow.start_picking(), "start_picking")
    done = await pack(uow, tid, shortage=True)
    assert done.task.status is TaskStatus.REJECTED
    assert uow.of_type("fulfillment.task-rejected")[0].data.whole is True


async def test_ready_sends_the_code_resend_sends_it_again_and_five_wrong_codes_lock():
    uow = new_uow()
    tid = await store_task(uow, {"A": 1}, delivery="store_pickup", pickup_node="ST1")
    code = uow.repo.tasks[tid].pickup_code
    await task_flow.accept_task(uow, tid, "s1", "ST1")
    with pytest.raises(Conflict, match="a pickup code is sent once the task is ready for pickup"):
        await do(uow, tid, task_flow.resend_code(), "resend_code")
    await ready(uow, tid, "ST1")
    await do(uow, tid, task_flow.resend_code(), "resend_code")
    sent = uow.of_type("fulfillment.pickup-code-issued")
    assert [(e.data.pickup_code, e.data.sent, e.data.channel_order_id) for e in sent] == [
        (code, 1, "TMO1"),
        (code, 2, "TMO1"),
    ]
    assert sent[0].data.collect_by == uow.repo.tasks[tid].due_at, "the end of the pickup hold"
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    # a retry of one wrong guess (same action id) counts once
    for _ in range(2):
        got = await do(
            uow, tid, task_flow.handover(wrong), "pickup", action_id="guess-0001", body={"c": wrong}
        )
        assert got.outcome == "wrong_code"
    assert uow.repo.tasks[tid].code_failures == 1
    for _ in range(3):
        with pytest.raises(Invalid, match="the pickup code does not match"):
            await task_flow.pickup_task(uow, tid, wrong, "ST1")
    assert uow.repo.tasks[tid].locked_until is None
    with pytest.raises(Invalid):
        await task_flow.pickup_task(uow, tid, wrong, "ST1")  # the fifth
    locked = uow.repo.tasks[tid]
    assert locked.locked_until is not None and locked.status is TaskStatus.READY_FOR_PICKUP
    with pytest.raises(Conflict, match="locked after too many wrong pickup codes"):
        await task_flow.pickup_task(uow, tid, code, "ST1")
    assert uow.of_type("fulfillment.picked-up") == []
