"""The sourcing use cases on a fake unit of work: accepted -> sourcing started, reservations requested ->
reserved (allocated) | refused (re-planned, or unfulfillable after the attempts allowed); cancelled; and
an operator's retry that sources again an order given up on."""

from __future__ import annotations

from typing import Any

import pytest
from fulfillment_fakes import accepted, cancelled, new_uow, node, refused, reserved, stock_changed

from omni_fulfillment import service
from omni_fulfillment.domain.errors import Conflict
from omni_fulfillment.domain.order_sourcing import ReservationStatus, SourcingStatus
from omni_fulfillment.domain.tasks import TaskStatus


async def seed(uow: Any, nodes: list[Any], stock: list[tuple[str, str, int]], seq: int = 1) -> None:
    for n in nodes:
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q, seq) for n, m, q in stock])


def requests(uow: Any, order_id: str | None = None) -> list[Any]:
    return [e.data for e in uow.of_type("fulfillment.reservation-requested") if order_id in (None, e.key)]


def types(uow: Any, order_id: str) -> list[str]:
    return [e.event_type for e in uow.committed_events if e.key == order_id]


async def test_an_accepted_order_starts_sourcing_and_requests_its_reservation():
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 5)], [("N1", "A", 5), ("N2", "A", 5), ("N2", "B", 5)])
    await service.on_order_events(uow, [accepted("O1", {"A": 2, "B": 1})])

    assert types(uow, "O1") == [
        "fulfillment.sourcing-started",
        "fulfillment.sourcing-decided",
        "fulfillment.reservation-requested",
    ]
    (started,) = [e.data for e in uow.of_type("fulfillment.sourcing-started")]
    assert (started.order_id, started.attempt) == ("O1", 1) and started.started_at.tzinfo is not None
    (request,) = requests(uow)
    assert (request.reservation_id, request.node_code, request.attempt) == ("O1:1:N2", "N2", 1)
    assert [(x.material_code, x.qty) for x in request.lines] == [("A", 2), ("B", 1)]
    kept = uow.repo.sourcings["O1"]
    assert kept.status is SourcingStatus.SOURCING
    assert [(x.line_id, x.material_code, x.qty) for x in kept.order_lines] == [
        ("O1-0", "A", 2),
        ("O1-1", "B", 1),
    ]
    assert kept.accepted_event is not None


async def test_reserved_allocates_with_one_task_per_node():
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 2)], [("N1", "A", 1), ("N2", "B", 1)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1, "B": 1})])
    r1, r2 = requests(uow)
    await service.on_reservation_replies(uow, [reserved(r1)])
    assert not uow.of_type("fulfillment.order-allocated"), "one reservation is still pending"
    await service.on_reservation_replies(uow, [reserved(r2)])
    (allocation,) = [e.data for e in uow.of_type("fulfillment.order-allocated")]
    assert sorted(t.node_code for t in allocation.tasks) == ["N1", "N2"]
    assert sorted(t.node_code for t in uow.repo.tasks.values()) == ["N1", "N2"]
    assert uow.repo.sourcings["O1"].status is SourcingStatus.ALLOCATED


async def test_a_refused_reservation_is_replanned_at_the_next_node():
    uow = new_uow()
    await seed(uow, [node("N1", 1), node("N2", 2)], [("N1", "A", 2), ("N2", "A", 2)])
    await service.on_order_events(uow, [accepted("O1", {"A": 2})])
    (first,) = requests(uow)
    await service.on_reservation_replies(uow, [refused(first, available=1)])
    second = requests(uow)[1]
    assert (second.reservation_id, second.node_code, second.attempt) == ("O1:2:N2", "N2", 2)
    assert uow.repo.stock[("N1", "A")][0] == 1, "the refusal's shortfall corrected the projection"
    assert len(uow.of_type("fulfillment.sourcing-started")) == 1, "a re-plan is the same sourcing"
    await service.on_reservation_replies(uow, [reserved(second), reserved(first)])  # + a late reply
    (allocation,) = [e.data for e in uow.of_type("fulfillment.order-allocated")]
    assert [t.node_code for t in allocation.tasks] == ["N2"]


async def test_unfulfillable_after_the_attempts_allowed():
    uow = new_uow()
    await seed(uow, [node(f"N{i}", i) for i in range(1, 5)], [(f"N{i}", "A", 2) for i in range(1, 5)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    for attempt in (1, 2, 3):
        request = requests(uow)[attempt - 1]
        assert request.attempt == attempt
        await service.on_reservation_replies(uow, [refused(request)], max_attempts=3)
    (verdict,) = [e.data for e in uow.of_type("fulfillment.order-unfulfillable")]
    assert verdict.attempts == 3 and "no attempt left (3 of 3 used)" in verdict.reason
    assert [(s.material_code, s.requested, s.available) for s in verdict.shortfall] == [("A", 1, 0)]
    assert len(requests(uow)) == 3
    kept = uow.repo.sourcings["O1"]
    assert kept.status is SourcingStatus.UNFULFILLABLE and kept.excluded == ["N1", "N2", "N3"]
    assert not uow.repo.tasks


async def test_unfulfillable_at_once_still_says_sourcing_started():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 2)])
    await service.on_order_events(uow, [accepted("O1", {"A": 5})])
    assert types(uow, "O1") == [
        "fulfillment.sourcing-started",
        "fulfillment.sourcing-decided",
        "fulfillment.order-unfulfillable",
    ]
    (verdict,) = [e.data for e in uow.of_type("fulfillment.order-unfulfillable")]
    assert (
        verdict.reason
        == "not enough stock in any combination of active nodes: A needs 5, 2 available in total"
    )


async def test_a_duplicate_acceptance_of_an_order_being_sourced_or_allocated_is_ignored():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 9)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    await service.on_order_events(uow, [accepted("O1", {"A": 1}), accepted("O1", {"A": 3})])
    assert len(requests(uow)) == 1, "sourcing: ignored"
    await service.on_reservation_replies(uow, [reserved(requests(uow)[0])])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    assert len(requests(uow)) == 1 and len(uow.of_type("fulfillment.sourcing-started")) == 1
    assert uow.repo.sourcings["O1"].status is SourcingStatus.ALLOCATED


async def test_retry_sources_again_an_order_given_up_on_with_fresh_attempts():
    uow = new_uow()
    await seed(uow, [node(f"N{i}", i) for i in range(1, 4)], [(f"N{i}", "A", 1) for i in range(1, 4)])
    first = accepted("O1", {"A": 1})
    await service.on_order_events(uow, [first])
    for attempt in (1, 2, 3):
        await service.on_reservation_replies(uow, [refused(requests(uow)[attempt - 1])], max_attempts=3)
    assert uow.repo.sourcings["O1"].status is SourcingStatus.UNFULFILLABLE

    # The same acceptance again (a redelivery) changes nothing.
    await service.on_order_events(uow, [first])
    assert len(requests(uow)) == 3

    # Stock arrives at N1 (the projection moves on); the operator retries: a new order.accepted.
    await service.on_stock_changed(uow, [stock_changed("N1", "A", 4, seq=2)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    started = [e.data for e in uow.of_type("fulfillment.sourcing-started")]
    assert [s.attempt for s in started] == [1, 4]
    request = requests(uow)[3]
    assert (request.reservation_id, request.node_code, request.attempt) == ("O1:4:N1", "N1", 4)
    kept = uow.repo.sourcings["O1"]
    assert (kept.status, kept.excluded, kept.attempts_used, kept.reason) == (
        SourcingStatus.SOURCING,
        [],
        1,
        "",
    )

    # A fresh budget: refused again at N1, it re-plans (2 of 3), and the next node holds.
    await service.on_stock_changed(uow, [stock_changed("N2", "A", 3, seq=2)])
    await service.on_reservation_replies(uow, [refused(request)], max_attempts=3)
    again = requests(uow)[4]
    assert (again.node_code, again.attempt) == ("N2", 5)
    await service.on_reservation_replies(uow, [reserved(again)], max_attempts=3)
    (allocation,) = [e.data for e in uow.of_type("fulfillment.order-allocated")]
    assert [(t.node_code, t.reservation_id) for t in allocation.tasks] == [("N2", "O1:5:N2")]
    old = {r.reservation_id: r.status for r in uow.repo.sourcings["O1"].reservations}
    assert old["O1:1:N1"] is ReservationStatus.REFUSED and old["O1:5:N2"] is ReservationStatus.RESERVED
    assert len(uow.of_type("fulfillment.order-unfulfillable")) == 1


async def test_a_retry_given_up_at_once_is_unfulfillable_again():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 1)])
    await service.on_order_events(uow, [accepted("O1", {"A": 3})])
    await service.on_order_events(uow, [accepted("O1", {"A": 3})])
    assert (
        types(uow, "O1")
        == ["fulfillment.sourcing-started", "fulfillment.sourcing-decided", "fulfillment.order-unfulfillable"]
        * 2
    )
    assert [e.data.attempts for e in uow.of_type("fulfillment.order-unfulfillable")] == [1, 1]


async def test_cancel_stops_sourcing_cancels_open_tasks_and_later_replies_are_ignored():
    uow = new_uow()
    await seed(
        uow, [node("N1", 1), node("N2", 2), node("N3", 3)], [("N1", "A", 2), ("N2", "B", 1), ("N3", "B", 1)]
    )
    await service.on_order_events(
        uow, [accepted("O1", {"A": 1}, to=None), accepted("O2", {"A": 1, "B": 1}, to=None)]
    )
    r1, *r2 = requests(uow)
    await service.on_reservation_replies(uow, [reserved(r1), reserved(r2[0])])
    (task,) = uow.repo.tasks.values()
    await service.on_order_events(uow, [cancelled("O1"), cancelled("O2")])
    assert uow.repo.tasks[task.task_id].status is TaskStatus.CANCELLED
    assert {o: s.status for o, s in uow.repo.sourcings.items()} == {
        "O1": SourcingStatus.CANCELLED,
        "O2": SourcingStatus.CANCELLED,
    }
    before = len(uow.committed_events)
    await service.on_reservation_replies(uow, [refused(r2[1]), reserved(r2[1])])
    assert len(uow.committed_events) == before, "no re-plan, no allocation after a cancellation"
    assert {r.status for r in uow.repo.sourcings["O2"].reservations} == {ReservationStatus.ABANDONED}
    # A cancelled order is not sourced again by an acceptance.
    await service.on_order_events(uow, [accepted("O2", {"A": 1})])
    assert len(uow.committed_events) == before


async def test_accepted_and_cancelled_in_one_batch_requests_nothing():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1}), accepted("O2", {"A": 1}), cancelled("O1")])
    assert [r.order_id for r in requests(uow)] == ["O2"]
    assert types(uow, "O1") == []
    assert uow.repo.sourcings["O1"].status is SourcingStatus.CANCELLED


async def test_a_cancellation_before_acceptance_keeps_the_order_from_being_sourced():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5)])
    await service.on_order_events(uow, [cancelled("O1")])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    assert not requests(uow) and not uow.of_type("fulfillment.sourcing-started")


async def test_a_failed_use_case_leaves_nothing_behind():
    uow = new_uow()
    await seed(uow, [node("N1", 1)], [("N1", "A", 5)])
    await service.on_order_events(uow, [accepted("O1", {"A": 1})])
    await service.on_reservation_replies(uow, [reserved(requests(uow)[0])])
    (task,) = uow.repo.tasks.values()
    events, rollbacks = len(uow.committed_events), uow.rollbacks
    with pytest.raises(Conflict, match=r"accept it first"):
        await service.ship_task(uow, task.task_id, "SF", "SF1", None)
    assert (len(uow.committed_events), uow.rollbacks) == (events, rollbacks + 1)
    assert uow.repo.tasks[task.task_id].status is TaskStatus.ASSIGNED
