"""Split by type (拆单): each group of an order's lines is sourced apart - its own plan, reservations and
re-plans - and the order is allocated when every group is reserved, given up on when any group cannot be
filled; an order with nothing to ship is fulfilled at once. Pure."""

from __future__ import annotations

from typing import Any

from omni_fulfillment.domain.lines import OrderLine, material_lines
from omni_fulfillment.domain.order_sourcing import (
    NOTHING_TO_SHIP,
    Allocated,
    GaveUp,
    Ignored,
    NothingToShip,
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


def lines(*spec: tuple[str, int] | tuple[str, int, str | None]) -> tuple[OrderLine, ...]:
    """Order lines L0, L1, ... from (material, qty[, group])."""
    return tuple(OrderLine(f"L{i}", s[0], s[1], s[2] if len(s) > 2 else None) for i, s in enumerate(spec))


def start(v: StockView, ols: tuple[OrderLine, ...], order_id: str = "O1", **kw) -> tuple[OrderSourcing, Any]:
    return OrderSourcing.start(order_id, material_lines(ols), v, destination=DEST, order_lines=ols, **kw)


def planned(out: object) -> list[tuple[str, str, str | None, tuple[Line, ...]]]:
    assert isinstance(out, Requested)
    return [(r.reservation_id, r.node_code, r.group, r.lines) for r in out.reservations]


def test_reservation_ids_keep_the_main_groups_format_and_suffix_a_named_group():
    assert reservation_id("O1", 2, "N1") == "O1:2:N1"
    assert reservation_id("O1", 2, "N1", "cold_chain") == "O1:2:N1:cold_chain"


def test_each_group_is_planned_apart_even_at_one_node_and_its_decision_says_so():
    order, out = start(view(N1={"A": 5, "B": 5, "C": 5}), lines(("A", 1), ("C", 2, "cold_chain"), ("B", 1)))
    assert planned(out) == [
        ("O1:1:N1", "N1", None, (Line("A", 1), Line("B", 1))),
        ("O1:1:N1:cold_chain", "N1", "cold_chain", (Line("C", 2),)),
    ]
    assert isinstance(out, Requested)
    assert [(d.group, d.attempt, d.lines) for d in out.decisions] == [
        (None, 1, (Line("A", 1), Line("B", 1))),
        ("cold_chain", 1, (Line("C", 2),)),
    ]
    main, cold = out.decisions
    assert [n.why for n in main.nodes] == ["main group: holds every line; 1.1 km; priority 0"]
    assert [n.why for n in cold.nodes] == ["cold_chain group: holds every line; 1.1 km; priority 0"]
    assert order.status is SourcingStatus.SOURCING and order.split_by_type


def test_the_main_group_comes_first_then_the_named_groups_by_name():
    v = view(N1={"A": 9, "B": 9, "C": 9})
    order, out = start(v, lines(("A", 1, "frozen"), ("B", 1, "cold_chain"), ("C", 1)))
    assert [g for g, _ in order.groups()] == [None, "cold_chain", "frozen"]
    assert [r.group for r in out.reservations] == [None, "cold_chain", "frozen"]
    only_named, out = start(v, lines(("A", 1, "frozen"), ("B", 1, "oversize")), order_id="O2")
    assert [g for g, _ in only_named.groups()] == ["frozen", "oversize"], "no main group: no lines"
    assert planned(out) == [
        ("O2:1:N1:frozen", "N1", "frozen", (Line("A", 1),)),
        ("O2:1:N1:oversize", "N1", "oversize", (Line("B", 1),)),
    ]


def test_an_order_without_groups_is_planned_and_explained_as_before():
    _, out = start(view(N1={"A": 5, "B": 5}), lines(("A", 1), ("B", 1)))
    assert planned(out) == [("O1:1:N1", "N1", None, (Line("A", 1), Line("B", 1)))]
    assert isinstance(out, Requested) and len(out.decisions) == 1
    assert out.decision is not None and out.decision.nodes[0].why == "holds every line; 1.1 km; priority 0"


def test_a_group_is_planned_on_what_the_groups_before_it_took():
    # One unit of A at each node: the main group's A takes N1's, the presale group's A goes to N2.
    _, out = start(view(N1={"A": 1}, N2={"A": 1}), lines(("A", 1), ("A", 1, "presale")))
    assert planned(out) == [
        ("O1:1:N1", "N1", None, (Line("A", 1),)),
        ("O1:1:N2:presale", "N2", "presale", (Line("A", 1),)),
    ]


def test_allocated_only_when_every_groups_reservations_are_reserved():
    order, _ = start(view(N1={"A": 1, "C": 1}), lines(("A", 1), ("C", 1, "cold_chain")))
    assert order.reserved("O1:1:N1:cold_chain") == Waiting(pending=1)
    out = order.reserved("O1:1:N1")
    assert isinstance(out, Allocated)
    assert [(r.reservation_id, r.group) for r in out.reservations] == [
        ("O1:1:N1", None),
        ("O1:1:N1:cold_chain", "cold_chain"),
    ]
    assert order.status is SourcingStatus.ALLOCATED


def test_a_refusal_re_plans_only_its_groups_lines():
    v = view(N1={"A": 1, "C": 1}, N2={"A": 1, "C": 1})
    order, _ = start(v, lines(("A", 1), ("C", 1, "cold_chain")))
    out = order.refused("O1:1:N1:cold_chain", [Shortfall("C", 1, 0)], "C short", v, max_attempts=3)
    assert planned(out) == [("O1:2:N2:cold_chain", "N2", "cold_chain", (Line("C", 1),))]
    assert isinstance(out, Requested)
    (decision,) = out.decisions
    assert decision.group == "cold_chain" and decision.lines == (Line("C", 1),)
    verdicts = {n.node_code: (n.outcome, n.why) for n in decision.nodes}
    assert verdicts["N1"] == ("excluded", "cold_chain group: excluded: refused a reservation in attempt 1")
    statuses = {r.reservation_id: r.status for r in order.reservations}
    assert statuses == {
        "O1:1:N1": ReservationStatus.PENDING,  # the main group's lines stay where they are
        "O1:1:N1:cold_chain": ReservationStatus.REFUSED,
        "O1:2:N2:cold_chain": ReservationStatus.PENDING,
    }
    # N1 refused the cold chain only: a refusal of the main group's A may not go back there, but it still
    # could go to N2, where the cold chain is now (another group's lines do not hold a node).
    out = order.refused("O1:1:N1", [Shortfall("A", 1, 0)], "A short", v, max_attempts=3)
    assert planned(out) == [("O1:3:N2", "N2", None, (Line("A", 1),))]
    order.reserved("O1:2:N2:cold_chain")
    out = order.reserved("O1:3:N2")
    assert isinstance(out, Allocated) and [r.reservation_id for r in out.reservations] == [
        "O1:2:N2:cold_chain",
        "O1:3:N2",
    ]


def test_a_groups_re_plan_may_go_to_a_node_holding_another_groups_lines_but_not_its_own():
    # Main A at N2 (only N2 has A); cold C at N1 (nearest), then refused: N2 holds the main group only,
    # so the cold chain may go there (a task of its own); N1 refused the cold chain, so not there again.
    v = view(N1={"C": 1}, N2={"A": 1, "C": 1}, N3={"C": 1})
    order, out = start(v, lines(("A", 1), ("C", 1, "cold_chain")))
    assert [(r.node_code, r.group) for r in out.reservations] == [("N2", None), ("N1", "cold_chain")]
    out = order.refused("O1:1:N1:cold_chain", [Shortfall("C", 1, 0)], "C short", v, max_attempts=3)
    assert planned(out) == [("O1:2:N2:cold_chain", "N2", "cold_chain", (Line("C", 1),))]
    # A second refusal of the cold chain at N2: N2 now holds nothing of the group; N3 is left.
    out = order.refused("O1:2:N2:cold_chain", [Shortfall("C", 1, 0)], "C short", v, max_attempts=3)
    assert planned(out) == [("O1:3:N3:cold_chain", "N3", "cold_chain", (Line("C", 1),))]
    verdicts = {n.node_code: n.why for n in out.decision.nodes if n.outcome == "excluded"}
    assert verdicts == {
        "N1": "cold_chain group: excluded: refused a reservation in attempt 1",
        "N2": "cold_chain group: excluded: refused a reservation in attempt 2",
    }


def test_each_group_has_its_own_budget_of_attempts():
    v = view(**{f"N{i}": {"A": 1, "C": 1} for i in range(1, 5)})
    order, _ = start(v, lines(("A", 1), ("C", 1, "cold_chain")))
    assert isinstance(order.refused("O1:1:N1", [Shortfall("A", 1, 0)], "A short", v, 2), Requested)
    # The main group used its two attempts; the cold chain has used one: it may re-plan once.
    out = order.refused("O1:1:N1:cold_chain", [Shortfall("C", 1, 0)], "C short", v, 2)
    assert planned(out) == [("O1:3:N2:cold_chain", "N2", "cold_chain", (Line("C", 1),))]
    out = order.refused("O1:3:N2:cold_chain", [Shortfall("C", 1, 0)], "C short", v, 2)
    assert isinstance(out, GaveUp) and out.attempts == 2
    assert out.reason == (
        "cold_chain group: node N2 refused the reservation (C short); no attempt left (2 of 2 used)"
    )
    assert out.decision is not None and out.decision.group == "cold_chain"
    assert out.decision.reason == out.reason
    assert order.status is SourcingStatus.UNFULFILLABLE and order.reason == out.reason
    main = next(r for r in order.reservations if r.reservation_id == "O1:2:N2")
    assert main.status is ReservationStatus.ABANDONED, "the whole order is given up"


def test_a_group_that_cannot_be_filled_gives_the_order_up_at_once_and_requests_nothing():
    v = view(N1={"A": 1}, N2={"C": 1})
    order, out = start(v, lines(("A", 1), ("C", 3, "frozen")))
    assert isinstance(out, GaveUp)
    assert out.reason == (
        "frozen group: not enough stock in any combination of active nodes: C needs 3, 1 available in total"
    )
    assert out.shortfall == (Shortfall("C", 3, 1),) and out.attempts == 1
    assert out.decision is not None and out.decision.group == "frozen" and not out.decision.planned
    assert order.status is SourcingStatus.UNFULFILLABLE and not order.reservations
    assert v.available("N1", "A") == 1, "what the main group's plan took is given back"
    _, other = start(v, lines(("A", 1)), order_id="O2")
    assert planned(other) == [("O2:1:N1", "N1", None, (Line("A", 1),))]


def test_a_groups_re_plan_that_fails_gives_up_every_group():
    v = view(N1={"A": 1, "C": 1})
    order, _ = start(v, lines(("A", 1), ("C", 1, "cold_chain")))
    order.reserved("O1:1:N1")
    out = order.refused("O1:1:N1:cold_chain", [Shortfall("C", 1, 0)], "C short", v, 3)
    assert isinstance(out, GaveUp)
    assert out.reason.startswith(
        "cold_chain group: node N1 refused the reservation (C short); re-planning its lines failed: "
    )
    assert {r.reservation_id: r.status for r in order.reservations} == {
        "O1:1:N1": ReservationStatus.ABANDONED,
        "O1:1:N1:cold_chain": ReservationStatus.REFUSED,
    }


def test_a_store_pickup_sources_each_group_at_its_pickup_node():
    v = view(N1={"A": 9, "C": 9}, STORE={"A": 1, "C": 1})
    _, out = start(v, lines(("A", 1), ("C", 1, "cold_chain")), store_pickup=True, pickup_node="STORE")
    assert planned(out) == [
        ("O1:1:STORE", "STORE", None, (Line("A", 1),)),
        ("O1:1:STORE:cold_chain", "STORE", "cold_chain", (Line("C", 1),)),
    ]


def test_an_order_with_nothing_to_ship_is_fulfilled_at_once():
    order, out = OrderSourcing.start("O1", [], view(N1={"A": 1}), destination=DEST)
    assert out == NothingToShip()
    assert (order.status, order.reason, order.reservations) == (SourcingStatus.FULFILLED, NOTHING_TO_SHIP, [])
    assert isinstance(order.cancel(), Ignored)
    assert not order.restartable


def test_a_retry_of_an_order_given_up_on_with_nothing_left_to_ship_is_fulfilled():
    order, out = start(view(N1={"A": 1}), lines(("A", 5)))
    assert isinstance(out, GaveUp)
    again = order.restart([], view(N1={"A": 1}), destination=DEST)
    assert again == NothingToShip() and order.status is SourcingStatus.FULFILLED
