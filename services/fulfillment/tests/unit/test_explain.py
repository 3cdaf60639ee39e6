"""The explanation of a sourcing decision: every node considered, winner and losers with their reasons,
from the same candidates `source` was given. Pure."""

from __future__ import annotations

from omni_fulfillment.domain.explain import explain, explain_without_plan
from omni_fulfillment.domain.order_sourcing import GaveUp, OrderSourcing, Requested
from omni_fulfillment.domain.sourcing import Candidate, Line, Point, Shortfall, source
from omni_fulfillment.domain.stock_view import NodeInfo, StockView

DEST = Point(31.2304, 121.4737)  # Shanghai
NEAR = (31.2304 + 0.1, 121.4737)  # ~11 km north
FAR = (31.2304 + 7.5, 121.4737)  # ~834 km north


def cand(code: str, where: tuple[float, float], priority: int = 0, **stock: int) -> Candidate:
    return Candidate(code, where[0], where[1], priority, stock)


def decide(lines: list[Line], cands: list[Candidate], **kw):
    result = source(lines, cands, destination=kw.get("destination", DEST), pickup_node=kw.get("pickup_node"))
    return result, explain(lines, cands, result, attempt=1, destination=kw.get("destination", DEST), **{
        k: v for k, v in kw.items() if k != "destination"
    })  # fmt: skip


def by_code(decision) -> dict[str, tuple[str, str]]:
    return {n.node_code: (n.outcome, n.why) for n in decision.nodes}


def test_one_complete_node_wins_over_a_farther_one_with_the_same_coverage():
    cands = [cand("WH-BJ", FAR, 10, BEAN=5), cand("WH-HZ", NEAR, 10, BEAN=5)]
    result, d = decide([Line("BEAN", 2)], cands)
    assert result.node_codes == ["WH-HZ"]
    assert d.planned and d.reason == "" and d.lines == (Line("BEAN", 2),)
    got = by_code(d)
    assert got["WH-HZ"] == (
        "chosen",
        "holds every line; 11 km; priority 10; the best of 2 nodes that hold every line",
    )
    assert got["WH-BJ"] == ("lost", "lost: 834 km, farther than WH-HZ (11 km) with the same coverage")
    chosen = next(n for n in d.nodes if n.outcome == "chosen")
    assert chosen.lines == (Line("BEAN", 2),) and round(chosen.distance_km) == 11


def test_equal_distance_loses_on_priority_then_on_code():
    cands = [cand("B", NEAR, 5, X=1), cand("A", NEAR, 10, X=1), cand("C", NEAR, 10, X=1)]
    result, d = decide([Line("X", 1)], cands)
    assert result.node_codes == ["A"]
    got = by_code(d)
    assert got["B"] == ("lost", "lost: as near as A (11 km); lower priority 5 than A (10)")
    assert got["C"] == ("lost", "lost: ties A on distance and priority (10); A comes first by code")


def test_a_partial_node_loses_to_a_complete_one_and_an_empty_one_is_unusable():
    cands = [cand("P", NEAR, 0, X=1), cand("W", FAR, 0, X=2, Y=1), cand("E", NEAR, 0, X=0)]
    result, d = decide([Line("X", 2), Line("Y", 1)], cands)
    assert result.node_codes == ["W"]
    got = by_code(d)
    assert got["P"] == ("lost", "lost: holds X 1 of 2 (no Y); W holds every line")
    assert got["E"] == ("unusable", "no stock of X, Y")


def test_a_split_names_what_each_chosen_node_ships_and_why_a_loser_lost():
    cands = [cand("A", NEAR, 0, X=2), cand("B", NEAR, 0, Y=1), cand("C", FAR, 0, Y=1)]
    result, d = decide([Line("X", 2), Line("Y", 1)], cands)
    assert sorted(result.node_codes) == ["A", "B"]
    got = by_code(d)
    assert got["A"][0] == "chosen" and got["A"][1].startswith("ships X×2; no single node holds every line")
    assert "2 nodes (A, B) cover the order (22 km in total)" in got["A"][1]
    assert got["B"][1].startswith("ships Y×1;")
    assert got["C"] == (
        "lost",
        "lost: holds Y 1 of 1 (no X); the best 2 nodes with it (A, C) are 845 km in total, "
        "farther than A, B (22 km)",
    )


def test_a_split_loser_that_cannot_complete_any_set_of_that_size():
    cands = [cand("A", NEAR, 0, X=2), cand("B", NEAR, 0, Y=1), cand("C", FAR, 0, X=1)]
    _, d = decide([Line("X", 2), Line("Y", 1)], cands)
    assert by_code(d)["C"] == ("lost", "lost: holds X 1 of 2 (no Y); no 2 nodes with it cover the order")


def test_unfulfillable_says_why_each_node_could_not_serve():
    cands = [cand("A", NEAR, 0, X=1), cand("B", FAR, 0, Y=1)]
    result, d = decide([Line("X", 3)], cands)
    assert not d.planned and d.reason == result.reason
    assert by_code(d) == {
        "A": ("unusable", "holds X 1 of 3; all the active nodes together are short of X"),
        "B": ("unusable", "no stock of X; all the active nodes together are short of X"),
    }


def test_excluded_nodes_are_listed_with_their_reason_and_never_chosen():
    cands = [cand("A", NEAR, 0, X=5), cand("B", FAR, 0, X=5)]
    result = source([Line("X", 1)], cands, destination=DEST, excluded=["A"])
    d = explain([Line("X", 1)], cands, result, attempt=2, destination=DEST, excluded={"A": "refused it"})
    assert d.attempt == 2
    assert by_code(d) == {
        "B": ("chosen", "holds every line; 834 km; priority 0"),
        "A": ("excluded", "excluded: refused it"),
    }


def test_store_pickup_only_the_pickup_node_counts():
    cands = [cand("S1", FAR, 0, X=1), cand("W", NEAR, 0, X=9)]
    _, d = decide([Line("X", 1)], cands, pickup_node="S1")
    assert by_code(d) == {
        "S1": ("chosen", "the store pickup node; holds every line"),
        "W": ("unusable", "not the store pickup node (S1)"),
    }
    _, short = decide([Line("X", 2)], cands, pickup_node="S1")
    assert by_code(short)["S1"] == ("unusable", "the store pickup node: holds X 1 of 2")


def test_without_a_destination_no_distance_is_claimed_and_the_trace_says_the_address_was_not_located():
    cands = [cand("A", NEAR, 1, X=1), cand("B", FAR, 5, X=1)]
    result, d = decide([Line("X", 1)], cands, destination=None)
    assert result.node_codes == ["B"]
    got = by_code(d)
    assert got["B"] == (
        "chosen",
        "holds every line; address not located: ranked by priority; priority 5; the best of 2 nodes that hold "
        "every line",
    )
    assert got["A"] == ("lost", "lost: address not located; lower priority 1 than B (5)")
    assert all(n.distance_km is None for n in d.nodes)


def test_no_plan_at_all_marks_every_other_node_not_tried():
    cands = [cand("A", NEAR, 0, X=1), cand("B", FAR, 0, X=1)]
    d = explain_without_plan(
        [Line("X", 1)], cands, "node A refused; no attempt left", "no attempt left", attempt=4,
        excluded={"A": "refused a reservation in attempt 3"},
    )  # fmt: skip
    assert not d.planned and d.reason == "node A refused; no attempt left"
    assert by_code(d) == {
        "B": ("unusable", "not tried: no attempt left"),
        "A": ("excluded", "excluded: refused a reservation in attempt 3"),
    }


# -- as OrderSourcing attaches it to its outcomes ----------------------------------------------------------
def view(**nodes: dict[str, int]) -> StockView:
    infos = [NodeInfo(code, 31.2304 + 0.1 * (i + 1), 121.4737, 0) for i, code in enumerate(nodes)]
    return StockView(infos, [(code, m, q) for code, stock in nodes.items() for m, q in stock.items()])


def test_the_first_plan_and_a_re_plan_carry_their_decision():
    v = view(N1={"A": 2}, N2={"A": 2})
    order, first = OrderSourcing.start("O1", [Line("A", 2)], v, destination=DEST)
    assert isinstance(first, Requested) and first.decision is not None
    assert first.decision.attempt == 1
    assert [(n.node_code, n.outcome) for n in first.decision.nodes] == [("N1", "chosen"), ("N2", "lost")]

    again = order.refused("O1:1:N1", [Shortfall("A", 2, 0)], "short", v, max_attempts=3)
    assert isinstance(again, Requested) and again.decision is not None
    assert again.decision.attempt == 2 == again.reservations[0].attempt
    assert by_code(again.decision) == {
        "N2": ("chosen", "holds every line; 22 km; priority 0"),
        "N1": ("excluded", "excluded: refused a reservation in attempt 1"),
    }


def test_a_give_up_carries_why_each_node_could_not_serve():
    v = view(N1={"A": 2})
    order, _ = OrderSourcing.start("O1", [Line("A", 2)], v, destination=DEST)
    out = order.refused("O1:1:N1", [Shortfall("A", 2, 0)], "short", v, max_attempts=1)
    assert isinstance(out, GaveUp) and out.decision is not None
    assert out.decision.reason == out.reason and out.decision.attempt == 2
    assert by_code(out.decision) == {"N1": ("excluded", "excluded: refused a reservation in attempt 1")}

    _, none = OrderSourcing.start("O2", [Line("A", 5)], view(N1={"A": 1}), destination=DEST)
    assert isinstance(none, GaveUp) and none.decision is not None and not none.decision.planned
    assert [(n.node_code, n.outcome) for n in none.decision.nodes] == [("N1", "unusable")]
