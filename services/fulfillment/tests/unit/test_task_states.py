"""A store task's states (domain/tasks.py), pure: pick per line (confirm or scan), a shortage, pack, a store
packs before it ships while a warehouse may ship from accepted, ready and hand over with the code, the lock
after too many wrong codes, giving units back, reassignment, escalation, what staff may do next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni_fulfillment.domain.errors import Conflict, Invalid
from omni_fulfillment.domain.lines import LinePart
from omni_fulfillment.domain.sourcing import Line
from omni_fulfillment.domain.tasks import PickupOutcome, Task, TaskStatus, order_fulfilled

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def task(kind: str = "ship", node_type: str | None = "store", lines=(("A", 2), ("B", 1))) -> Task:
    parts = [LinePart(f"L{i}", m, q) for i, (m, q) in enumerate(lines)]
    t = Task.new(
        "T1", "O1", "ST1", "O1:1:ST1", [Line(m, q) for m, q in lines],
        pickup_code="123456" if kind == "pickup" else None, now=NOW, order_lines=parts,
    )  # fmt: skip
    t.node_type = node_type
    return t


def test_pick_per_line_then_pack_then_ship():
    t = task()
    t.accept("s1", NOW)
    assert t.actions(NOW) == ["pick", "pack", "reject"], "a store does not ship from accepted"
    t.pick("A", 1, NOW)
    assert (t.status, t.picking_at, t.picked) == (TaskStatus.PICKING, NOW, (Line("A", 1),))
    assert t.shortage() == (Line("A", 1), Line("B", 1))
    with pytest.raises(Conflict, match=r"not fully picked \(A short 1, B short 1\)"):
        t.pack(NOW)
    assert t.scan("A", NOW) == "A" and t.scan("B", NOW) == "B"
    with pytest.raises(Invalid, match="every unit of A on task T1 is picked already"):
        t.scan("A", NOW)
    with pytest.raises(Invalid, match="C is not on task T1"):
        t.scan("C", NOW)
    with pytest.raises(Invalid, match="needs 1 of B: 2 cannot be picked"):
        t.pick("B", 2, NOW)
    t.pack(NOW)
    assert (t.status, t.packed_at, t.actions(NOW)) == (TaskStatus.PACKED, NOW, ["ship"])
    t.ship("SF", "SF1", NOW)
    assert t.status is TaskStatus.SHIPPED


def test_a_store_packs_before_it_ships_a_warehouse_may_ship_from_accepted():
    store, wh, old = task(), task(node_type="warehouse"), task(node_type=None)
    for t in (store, wh, old):
        t.accept("s1", NOW)
    with pytest.raises(Conflict, match="task T1 is at a store: pick and pack it before it ships"):
        store.ship("SF", "1", NOW)
    assert "ship" in wh.actions(NOW)
    wh.ship("SF", "1", NOW)
    old.ship("SF", "2", NOW)  # a task made before node types were kept ships as before
    assert wh.status is old.status is TaskStatus.SHIPPED
    store.pack(NOW)  # from accepted: every unit is at hand
    assert store.picked == store.lines
    store.ship("SF", "3", NOW)


def test_picking_cannot_start_before_accepting_nor_after_packing():
    t = task()
    with pytest.raises(Conflict, match=r"only an accepted task can start picking \(accept it first\)"):
        t.start_picking(NOW)
    t.accept("s1", NOW)
    t.start_picking(NOW)
    t.pick("A", 2, NOW)
    t.pick("B", 1, NOW)
    t.pack(NOW)
    with pytest.raises(Conflict, match="task T1 is packed: only a picking task can pick"):
        t.pick("A", 1, NOW)


def test_a_pickup_is_made_ready_then_handed_over_and_locks_after_wrong_codes():
    t = task("pickup")
    t.accept("s1", NOW)
    with pytest.raises(Conflict, match="store pickup: it is made ready for pickup, not packed"):
        t.pack(NOW)
    t.ready(NOW)
    assert (t.status, t.ready_at, t.actions(NOW)) == (
        TaskStatus.READY_FOR_PICKUP,
        NOW,
        ["resend_code", "handover"],
    )
    lock = timedelta(minutes=15)
    for n in range(1, 3):
        assert t.pickup("000000", NOW, max_failures=3, lock_for=lock) is PickupOutcome.WRONG_CODE
        assert (t.code_failures, t.locked_until) == (n, None)
    assert t.pickup("000000", NOW, max_failures=3, lock_for=lock) is PickupOutcome.WRONG_CODE
    assert (t.code_failures, t.locked_until) == (0, NOW + lock), "the third wrong code in a row locks it"
    assert t.actions(NOW) == ["resend_code"], "no handover while locked"
    assert (
        t.pickup("123456", NOW + timedelta(minutes=1), max_failures=3, lock_for=lock) is PickupOutcome.LOCKED
    )
    assert t.status is TaskStatus.READY_FOR_PICKUP, "even the right code waits for the lock to end"
    later = NOW + lock
    assert t.pickup("123456", later, max_failures=3, lock_for=lock) is PickupOutcome.HANDED_OVER
    assert (t.status, t.done_at, t.locked_until) == (TaskStatus.PICKED_UP, later, None)


def test_giving_units_back_takes_them_off_lines_order_lines_and_picks():
    t = Task.new(
        "T1", "O1", "ST1", "R", [Line("A", 3)], pickup_code=None, now=NOW,
        order_lines=[LinePart("L1", "A", 2), LinePart("L2", "A", 1)],
    )  # fmt: skip
    t.accept("s", NOW)
    t.pick("A", 3, NOW)
    taken = t.give_back("A", 2)
    assert taken == [LinePart("L2", "A", 1), LinePart("L1", "A", 1)], "the last order lines first"
    assert (t.lines, t.order_lines, t.picked) == ((Line("A", 1),), (LinePart("L1", "A", 1),), (Line("A", 1),))
    with pytest.raises(Invalid, match="holds 1 of A: 2 cannot be given back"):
        t.give_back("A", 2)


def test_reject_reassign_escalate_and_what_the_order_still_has():
    rejected, moved, open_ = task(), task(), task()
    rejected.reject("node ST1 rejected the task (too_busy)", NOW)
    assert (rejected.status, rejected.released_at, rejected.status_reason) == (
        TaskStatus.REJECTED, NOW, "node ST1 rejected the task (too_busy)",
    )  # fmt: skip
    assert moved.reassign("not accepted within 30 min", NOW) and moved.status is TaskStatus.REASSIGNED
    open_.accept("s", NOW)
    assert not open_.reassign("late", NOW), "an accepted task stays"
    assert open_.escalate("not packed within 60 min", NOW) and not open_.escalate("again", NOW)
    assert (open_.escalated_at, open_.escalation) == (NOW, "not packed within 60 min")
    open_.pack(NOW)
    with pytest.raises(Conflict, match="only an assigned, accepted or picking task can be rejected"):
        open_.reject("late", NOW)
    open_.ship("SF", "1", NOW)
    assert order_fulfilled([rejected, moved, open_]), "rejected and reassigned tasks are not the order's"
    assert not order_fulfilled([rejected, moved])
