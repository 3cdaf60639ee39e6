"""The task state machine: assigned -> accepted -> (picking -> packed ->) shipped, or accepted (-> picking)
-> ready_for_pickup -> picked_up; cancelled while open (more in test_task_states.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni_fulfillment.domain.errors import Conflict
from omni_fulfillment.domain.sourcing import Line
from omni_fulfillment.domain.tasks import PickupOutcome, Task, TaskKind, TaskStatus, order_fulfilled

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def ship_task(task_id: str = "T1") -> Task:
    return Task.new(task_id, "O1", "WH1", f"O1:1:{task_id}", [Line("A", 1)], pickup_code=None, now=NOW)


def pickup_task(task_id: str = "T2") -> Task:
    return Task.new(task_id, "O1", "S1", f"O1:1:{task_id}", [Line("A", 1)], pickup_code="012345", now=NOW)


def test_a_new_task_is_assigned_and_its_kind_follows_the_pickup_code():
    assert (ship_task().status, ship_task().kind) == (TaskStatus.ASSIGNED, TaskKind.SHIP)
    assert (pickup_task().kind, pickup_task().pickup_code) == (TaskKind.PICKUP, "012345")
    with pytest.raises(ValueError):
        Task.new("T", "O", "S", "R", [Line("A", 1)], pickup_code="12345", now=NOW)


def test_ship_path():
    t = ship_task()
    t.accept("staff-7", NOW)
    assert (t.status, t.accepted_by, t.accepted_at) == (TaskStatus.ACCEPTED, "staff-7", NOW)
    t.ship("SF", "SF123", NOW)
    assert (t.status, t.carrier, t.tracking_no, t.done_at) == (TaskStatus.SHIPPED, "SF", "SF123", NOW)


def test_pickup_path_needs_the_right_code():
    t = pickup_task()
    t.accept("staff-7", NOW)
    t.ready(NOW)
    assert t.pickup("999999", NOW) is PickupOutcome.WRONG_CODE
    assert (t.status, t.code_failures) == (TaskStatus.READY_FOR_PICKUP, 1), "a wrong code only counts"
    assert t.pickup("012345", NOW) is PickupOutcome.HANDED_OVER
    assert (t.status, t.code_failures) == (TaskStatus.PICKED_UP, 0)


def test_cannot_ship_or_pick_up_before_accepting():
    with pytest.raises(Conflict, match="only an accepted task can be shipped \\(accept it first\\)"):
        ship_task().ship("SF", "1", NOW)
    with pytest.raises(Conflict, match="only a task ready for pickup can be picked up"):
        pickup_task().pickup("012345", NOW)


def test_accepting_twice_says_who_has_it():
    t = ship_task()
    t.accept("staff-7", NOW)
    with pytest.raises(
        Conflict, match="task T1 is accepted by staff-7: only an assigned task can be accepted"
    ):
        t.accept("staff-8", NOW)


def test_kinds_do_not_mix():
    s, p = ship_task(), pickup_task()
    s.accept("a", NOW)
    p.accept("a", NOW)
    with pytest.raises(Conflict, match="is a store pickup"):
        p.ship("SF", "1", NOW)
    with pytest.raises(Conflict, match="is a shipment, not a store pickup"):
        s.pickup("012345", NOW)


def test_nothing_happens_to_a_finished_task():
    t = ship_task()
    t.accept("a", NOW)
    t.ship("SF", "1", NOW)
    with pytest.raises(Conflict, match="task T1 is shipped"):
        t.ship("SF", "2", NOW)
    assert t.cancel(NOW) is False and t.status is TaskStatus.SHIPPED


def test_cancel_an_open_task():
    t = ship_task()
    assert t.cancel(NOW) is True and (t.status, t.cancelled_at) == (TaskStatus.CANCELLED, NOW)
    with pytest.raises(Conflict, match="task T1 is cancelled"):
        t.accept("a", NOW)


def test_an_order_is_fulfilled_when_every_live_task_is_done():
    a, b, c = ship_task("T1"), pickup_task("T2"), ship_task("T3")
    assert not order_fulfilled([])
    for t in (a, b):
        t.accept("x", NOW)
    a.ship("SF", "1", NOW)
    assert not order_fulfilled([a, b, c])
    b.ready(NOW)
    b.pickup("012345", NOW)
    assert not order_fulfilled([a, b, c])
    c.cancel(NOW)
    assert order_fulfilled([a, b, c])
    assert not order_fulfilled([c]), "only cancelled tasks: nothing was fulfilled"
