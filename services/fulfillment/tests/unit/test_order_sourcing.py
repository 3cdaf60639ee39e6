"""One order's sourcing: plan, reserve, re-plan on refusal (bounded), allocate, give up, cancel. Pure."""

from __future__ import annotations

from omni_fulfillment.domain.order_sourcing import (
    Allocated,
    Cancelled,
    GaveUp,
    Ignored,
    OrderSourcing,
    Requested,
    ReservationStatus,
    SourcingStatus,
    Waiting,
    reservation_id,
)
from omni_fulfillment.domain.sourcing import Line, Point, Shortfall
from omni_fulfillment.domain.stock_view import NodeInfo, StockView

DEST = Point(31.2304, 121.4737)


def view(**nodes: dict[str, int]) -> StockView:
    """Nodes in order of distance from DEST (N1 nearest), equal priority."""
    infos = [NodeInfo(code, 31.2304 + 0.01 * (i + 1), 121.4737, 0) for i, code in enumerate(nodes)]
    return StockView(infos, [(code, m, q) for code, stock in nodes.items() for m, q in stock.items()])


def start(v: StockView, *lines: Line, order_id: str = "O1", **kw) -> tuple[OrderSourcing, object]:
    return OrderSourcing.start(order_id, list(lines), v, destination=DEST, **kw)


def test_start_requests_one_reservation_per_node_of_the_plan():
    order, out = start(view(N1={"A": 1}, N2={"B": 1}), Line("A", 1), Line("B", 1))
    assert isinstance(out, Requested)
    assert [(r.reservation_id, r.node_code, r.attempt, r.lines) for r in out.reservations] == [
        ("O1:1:N1", "N1", 1, (Line("A", 1),)),
        ("O1:1:N2", "N2", 1, (Line("B", 1),)),
    ]
    assert order.status is SourcingStatus.SOURCING and order.attempt == 1


def test_what_a_plan_takes_is_gone_for_the_next_order_of_the_batch():
    v = view(N1={"A": 1}, N2={"A": 1})
    _, first = start(v, Line("A", 1), order_id="O1")
    _, second = start(v, Line("A", 1), order_id="O2")
    assert isinstance(first, Requested) and isinstance(second, Requested)
    assert [r.node_code for r in first.reservations] == ["N1"]
    assert [r.node_code for r in second.reservations] == ["N2"], "the last unit of N1 went to O1"


def test_no_plan_gives_up_at_once_with_the_shortfall():
    order, out = start(view(N1={"A": 3}), Line("A", 5))
    assert isinstance(out, GaveUp)
    assert out.shortfall == (Shortfall("A", 5, 3),) and out.attempts == 1
    assert (
        out.reason == "not enough stock in any combination of active nodes: A needs 5, 3 available in total"
    )
    assert order.status is SourcingStatus.UNFULFILLABLE and order.reason == out.reason


def test_allocated_only_when_every_reservation_of_the_plan_is_reserved():
    order, _ = start(view(N1={"A": 1}, N2={"B": 1}), Line("A", 1), Line("B", 1))
    assert order.reserved("O1:1:N2") == Waiting(pending=1)
    out = order.reserved("O1:1:N1")
    assert isinstance(out, Allocated)
    assert {r.node_code for r in out.reservations} == {"N1", "N2"}
    assert order.status is SourcingStatus.ALLOCATED


def test_late_duplicate_and_foreign_replies_are_ignored():
    order, _ = start(view(N1={"A": 1}), Line("A", 1))
    assert isinstance(order.reserved("O1:1:N1"), Allocated)
    assert isinstance(order.reserved("O1:1:N1"), Ignored), "a duplicate"
    assert isinstance(order.refused("O1:1:N1", [], "late", view(), 3), Ignored), "after allocation"
    assert isinstance(order.reserved("O9:1:N1"), Ignored), "not this order's"
    assert order.status is SourcingStatus.ALLOCATED


def test_refusal_replans_only_the_refused_lines_elsewhere_and_keeps_what_is_held():
    v = view(N1={"A": 1}, N2={"B": 1}, N3={"B": 5})
    order, _ = start(v, Line("A", 1), Line("B", 1))
    assert isinstance(order.reserved("O1:1:N1"), Waiting)
    out = order.refused("O1:1:N2", [Shortfall("B", 1, 0)], "B short", v, max_attempts=3)
    assert isinstance(out, Requested)
    assert [(r.reservation_id, r.node_code, r.lines) for r in out.reservations] == [
        ("O1:2:N3", "N3", (Line("B", 1),))
    ]
    assert order.attempt == 2 and order.excluded == ["N2"]
    assert v.available("N2", "B") == 0, "the refusal's numbers replace what was believed"
    statuses = {r.reservation_id: r.status for r in order.reservations}
    assert statuses == {
        "O1:1:N1": ReservationStatus.RESERVED,
        "O1:1:N2": ReservationStatus.REFUSED,
        "O1:2:N3": ReservationStatus.PENDING,
    }
    out = order.reserved("O1:2:N3")
    assert isinstance(out, Allocated) and {r.node_code for r in out.reservations} == {"N1", "N3"}


def test_a_replan_does_not_reuse_a_node_that_already_holds_a_reservation_of_the_order():
    # N1 holds A; after N2 refuses B, N1 (which now seems to have B too) is not asked a second time.
    v = view(N1={"A": 1}, N2={"B": 1}, N3={"B": 1})
    order, _ = start(v, Line("A", 1), Line("B", 1))
    v.set_available("N1", "B", 5)
    out = order.refused("O1:1:N2", [Shortfall("B", 1, 0)], "B short", v, max_attempts=3)
    assert isinstance(out, Requested) and [r.node_code for r in out.reservations] == ["N3"]


def test_refused_with_no_attempt_left_gives_up_and_abandons_what_is_held():
    v = view(N1={"A": 1}, N2={"A": 1}, N3={"A": 1}, N4={"A": 1}, N5={"B": 1})
    order, _ = start(v, Line("A", 1), Line("B", 1))
    assert {r.node_code for r in order.reservations} == {"N1", "N5"}
    order.reserved("O1:1:N5")
    for attempt, node in [(1, "N1"), (2, "N2")]:
        out = order.refused(reservation_id("O1", attempt, node), [Shortfall("A", 1, 0)], "A short", v, 3)
        assert isinstance(out, Requested)
    out = order.refused("O1:3:N3", [Shortfall("A", 1, 0)], "A short", v, 3)
    assert isinstance(out, GaveUp)
    assert out.attempts == 3 and out.shortfall == (Shortfall("A", 1, 0),)
    assert out.reason == "node N3 refused the reservation (A short); no attempt left (3 of 3 used)"
    assert order.status is SourcingStatus.UNFULFILLABLE and order.excluded == ["N1", "N2", "N3"]
    held = next(r for r in order.reservations if r.node_code == "N5")
    assert held.status is ReservationStatus.ABANDONED, "inventory releases it on order-unfulfillable"
    assert isinstance(order.reserved("O1:1:N5"), Ignored)


def test_refused_with_nowhere_else_to_go_gives_up_with_the_replans_shortfall():
    v = view(N1={"A": 2}, N2={"A": 1})
    order, _ = start(v, Line("A", 2))
    out = order.refused("O1:1:N1", [Shortfall("A", 2, 1)], "A short", v, 3)
    assert isinstance(out, GaveUp)
    assert out.shortfall == (Shortfall("A", 2, 1),), "N1 (excluded now) aside, only N2's 1 is left"
    assert out.reason.startswith(
        "node N1 refused the reservation (A short); re-planning its lines failed: not enough"
    )
    assert out.attempts == 1


def test_store_pickup_is_planned_on_its_node_and_a_refusal_ends_it():
    v = view(N1={"A": 5}, STORE={"A": 1})
    order, out = start(v, Line("A", 1), store_pickup=True, pickup_node="STORE")
    assert isinstance(out, Requested) and [r.node_code for r in out.reservations] == ["STORE"]
    assert order.is_pickup
    out = order.refused("O1:1:STORE", [Shortfall("A", 1, 0)], "A short", v, 3)
    assert isinstance(out, GaveUp) and "store pickup node STORE is excluded" in out.reason


def test_store_pickup_without_a_node_is_unfulfillable():
    order, out = start(view(N1={"A": 5}), Line("A", 1), store_pickup=True, pickup_node=None)
    assert isinstance(out, GaveUp) and out.reason == "a store pickup order needs a pickup node and has none"
    assert order.status is SourcingStatus.UNFULFILLABLE and not order.reservations


def test_a_pickup_node_is_ignored_when_the_delivery_is_not_store_pickup():
    order, out = start(view(N1={"A": 5}, STORE={"A": 1}), Line("A", 1), pickup_node="STORE")
    assert isinstance(out, Requested) and [r.node_code for r in out.reservations] == ["N1"]
    assert not order.is_pickup


def test_cancel_stops_sourcing_and_later_replies_are_ignored():
    order, _ = start(view(N1={"A": 1}, N2={"B": 1}), Line("A", 1), Line("B", 1))
    order.reserved("O1:1:N1")
    out = order.cancel()
    assert isinstance(out, Cancelled) and {r.reservation_id for r in out.abandoned} == {"O1:1:N1", "O1:1:N2"}
    assert order.status is SourcingStatus.CANCELLED
    assert isinstance(order.reserved("O1:1:N2"), Ignored)
    assert isinstance(order.cancel(), Ignored), "cancelling twice changes nothing"


def test_an_allocated_order_can_be_cancelled_a_fulfilled_one_cannot():
    order, _ = start(view(N1={"A": 1}), Line("A", 1))
    order.reserved("O1:1:N1")
    order.fulfilled()
    assert order.status is SourcingStatus.FULFILLED
    assert isinstance(order.cancel(), Ignored)
    other, _ = start(view(N1={"A": 1}), Line("A", 1), order_id="O2")
    other.reserved("O2:1:N1")
    assert isinstance(other.cancel(), Cancelled)


def test_restart_only_restarts_an_order_given_up_on():
    order, _ = start(view(N1={"A": 5}), Line("A", 1))
    out = order.restart([Line("A", 1)], view(N1={"A": 5}), destination=DEST)
    assert out == Ignored("order O1 is sourcing: only an unfulfillable one restarts")
    assert order.attempt == 1


def test_a_restart_resets_excluded_nodes_and_the_attempt_budget():
    v = view(N1={"A": 1}, N2={"A": 1})
    order, _ = start(v, Line("A", 1))
    order.refused("O1:1:N1", [Shortfall("A", 1, 0)], "short", v, 2)
    order.refused("O1:2:N2", [Shortfall("A", 1, 0)], "short", v, 2)
    fresh = view(N1={"A": 3}, N2={"A": 3})
    out = order.restart([Line("A", 1)], fresh, destination=DEST)
    assert isinstance(out, Requested)
    assert [(r.reservation_id, r.attempt) for r in out.reservations] == [("O1:3:N1", 3)]
    assert (order.first_attempt, order.attempts_used, order.excluded) == (3, 1, [])
    again = order.refused("O1:3:N1", [Shortfall("A", 1, 0)], "short", fresh, 2)
    assert isinstance(again, Requested) and again.reservations[0].reservation_id == "O1:4:N2"
    last = order.refused("O1:4:N2", [Shortfall("A", 1, 0)], "short", fresh, 2)
    assert isinstance(last, GaveUp) and last.attempts == 2 and "(2 of 2 used)" in last.reason
