"""Sourcing, "complete > nearest > priority" (就全 > 就近 > 就优先级): pure, no I/O."""

from __future__ import annotations

import itertools
import random

import pytest

from omni_fulfillment.domain.sourcing import (
    Candidate,
    Line,
    Plan,
    Point,
    Shortfall,
    Unfulfillable,
    haversine_km,
    source,
)

# Shanghai People's Square, and nodes at known distances from it.
SHANGHAI = Point(31.2304, 121.4737)
NEAR = (31.2404, 121.4737)  # ~1.1 km
MID = (31.3304, 121.4737)  # ~11 km
FAR = (39.9042, 116.4074)  # Beijing, ~1,070 km


def node(code: str, where: tuple[float, float] = NEAR, priority: int = 0, **stock: int) -> Candidate:
    return Candidate(code, where[0], where[1], priority, {k.replace("_", "-"): v for k, v in stock.items()})


def lines(**qty: int) -> list[Line]:
    return [Line(k.replace("_", "-"), v) for k, v in qty.items()]


def as_dict(plan: Plan | Unfulfillable) -> dict[str, dict[str, int]]:
    assert isinstance(plan, Plan), plan
    return {a.node_code: {x.material_code: x.qty for x in a.lines} for a in plan.allocations}


def test_haversine_is_the_great_circle_distance():
    assert haversine_km(SHANGHAI, SHANGHAI) == 0
    assert haversine_km(SHANGHAI, Point(*FAR)) == pytest.approx(1067, rel=0.01)
    assert haversine_km(Point(0, 0), Point(0, 1)) == pytest.approx(111.2, rel=0.001)


# -- (a) one node for the whole order ------------------------------------------------------------------------
def test_a_node_that_has_everything_wins_over_a_nearer_node_that_has_part():
    plan = source(
        lines(A=2, B=1),
        [node("NEAR", NEAR, priority=100, A=5), node("FAR", FAR, A=2, B=1)],
        destination=SHANGHAI,
    )
    assert as_dict(plan) == {"FAR": {"A": 2, "B": 1}}


def test_among_complete_nodes_the_nearest_wins_whatever_the_priority():
    plan = source(
        lines(A=1),
        [node("FAR", FAR, priority=99, A=9), node("MID", MID, priority=50, A=9), node("NEAR", NEAR, A=1)],
        destination=SHANGHAI,
    )
    assert as_dict(plan) == {"NEAR": {"A": 1}}


def test_priority_breaks_a_distance_tie_then_the_code():
    same_place = [
        node("W2", MID, priority=1, A=1),
        node("W3", MID, priority=7, A=1),
        node("W1", MID, priority=7, A=1),
    ]
    assert as_dict(source(lines(A=1), same_place, destination=SHANGHAI)) == {"W1": {"A": 1}}
    assert as_dict(source(lines(A=1), same_place[:2], destination=SHANGHAI)) == {"W3": {"A": 1}}


def test_without_a_destination_priority_decides():
    plan = source(lines(A=1), [node("NEAR", NEAR, priority=1, A=1), node("FAR", FAR, priority=2, A=1)])
    assert as_dict(plan) == {"FAR": {"A": 1}}


def test_lines_of_the_same_material_are_added_up():
    plan = source(
        [Line("A", 2), Line("A", 3)], [node("S1", NEAR, A=4), node("S2", FAR, A=5)], destination=SHANGHAI
    )
    assert as_dict(plan) == {"S2": {"A": 5}}


def test_negative_or_missing_stock_counts_as_none():
    plan = source(lines(A=1), [node("S1", NEAR, A=-3), node("S2", FAR, A=1)], destination=SHANGHAI)
    assert as_dict(plan) == {"S2": {"A": 1}}


# -- (b) split over the fewest nodes -------------------------------------------------------------------------
def test_split_uses_the_fewest_nodes():
    # Three single-material stores are nearer, but one warehouse has B and C: two nodes, not three.
    candidates = [
        node("SA", NEAR, A=1),
        node("SB", NEAR, B=1),
        node("SC", NEAR, C=1),
        node("WBC", FAR, B=1, C=1),
    ]
    plan = source(lines(A=1, B=1, C=1), candidates, destination=SHANGHAI)
    assert as_dict(plan) == {"SA": {"A": 1}, "WBC": {"B": 1, "C": 1}}


def test_among_splits_of_the_same_size_the_smaller_total_distance_wins():
    candidates = [node("A-FAR", FAR, priority=9, A=1), node("A-MID", MID, A=1), node("B-NEAR", NEAR, B=1)]
    plan = source(lines(A=1, B=1), candidates, destination=SHANGHAI)
    assert as_dict(plan) == {"B-NEAR": {"B": 1}, "A-MID": {"A": 1}}


def test_among_equally_distant_splits_the_higher_priority_wins():
    candidates = [node("A1", MID, priority=1, A=1), node("A2", MID, priority=5, A=1), node("B", MID, B=1)]
    assert as_dict(source(lines(A=1, B=1), candidates, destination=SHANGHAI)) == {
        "A2": {"A": 1},
        "B": {"B": 1},
    }


def test_a_material_is_split_only_when_no_chosen_node_can_take_it_all():
    # Two nodes are needed (neither has everything); A fits whole in the nearer N1, so it is not split.
    candidates = [node("N1", NEAR, A=3, B=1), node("N2", MID, A=3, B=2)]
    plan = as_dict(source(lines(A=3, B=3), candidates, destination=SHANGHAI))
    assert plan == {"N1": {"A": 3, "B": 1}, "N2": {"B": 2}}
    # Here A must be split: no node holds 5.
    plan = as_dict(source(lines(A=5), [node("N1", NEAR, A=2), node("N2", MID, A=3)], destination=SHANGHAI))
    assert plan == {"N1": {"A": 2}, "N2": {"A": 3}}


def test_split_prefers_the_largest_holders_so_a_line_has_the_fewest_pieces():
    candidates = [node("N1", NEAR, A=1), node("N2", NEAR, A=1), node("N3", FAR, A=4)]
    assert as_dict(source(lines(A=5), candidates, destination=SHANGHAI)) == {"N1": {"A": 1}, "N3": {"A": 4}}


def test_nodes_with_nothing_useful_are_never_in_a_plan():
    candidates = [node("EMPTY", NEAR, priority=100, Z=50), node("N1", FAR, A=1), node("N2", FAR, B=1)]
    assert set(as_dict(source(lines(A=1, B=1), candidates, destination=SHANGHAI))) == {"N1", "N2"}


def test_greedy_fallback_beyond_the_combination_budget_still_covers_the_order():
    candidates = [node(f"S{i:02d}", NEAR, A=1) for i in range(12)] + [node("BIG", FAR, A=6, B=1)]
    plan = source(lines(A=8, B=1), candidates, destination=SHANGHAI, max_combinations=5)
    got = as_dict(plan)
    assert sum(q.get("A", 0) for q in got.values()) == 8 and got["BIG"]["B"] == 1
    assert len(got) == 3, "BIG plus two singles: the greedy cover takes the largest holder first"


# -- (c) unfulfillable ---------------------------------------------------------------------------------------
def test_unfulfillable_says_what_is_short_in_total():
    result = source(lines(MAT_1=5, MAT_2=1), [node("N1", NEAR, MAT_1=2, MAT_2=1), node("N2", MID, MAT_1=1)])
    assert isinstance(result, Unfulfillable)
    assert result.shortfall == (Shortfall("MAT-1", 5, 3),)
    assert (
        result.reason
        == "not enough stock in any combination of active nodes: MAT-1 needs 5, 3 available in total"
    )


def test_no_candidates_at_all_is_unfulfillable_with_every_line_short():
    result = source(lines(A=1, B=2), [])
    assert isinstance(result, Unfulfillable)
    assert result.shortfall == (Shortfall("A", 1, 0), Shortfall("B", 2, 0))


def test_excluded_nodes_are_not_used():
    candidates = [node("N1", NEAR, A=5), node("N2", FAR, A=5)]
    assert as_dict(source(lines(A=1), candidates, destination=SHANGHAI, excluded=["N1"])) == {"N2": {"A": 1}}
    result = source(lines(A=1), candidates, excluded=["N1", "N2"])
    assert isinstance(result, Unfulfillable) and result.shortfall == (Shortfall("A", 1, 0),)


def test_an_order_without_lines_is_a_programming_error():
    with pytest.raises(ValueError):
        source([], [node("N1", A=1)])
    with pytest.raises(ValueError):
        Line("A", 0)


# -- store pickup --------------------------------------------------------------------------------------------
def test_store_pickup_uses_only_its_node_even_when_another_is_better():
    candidates = [node("WH", NEAR, priority=100, A=9), node("STORE", FAR, A=1)]
    plan = source(lines(A=1), candidates, destination=SHANGHAI, pickup_node="STORE")
    assert as_dict(plan) == {"STORE": {"A": 1}}


def test_store_pickup_short_at_its_node_is_unfulfillable_even_if_others_have_it():
    result = source(lines(A=2, B=1), [node("WH", A=9, B=9), node("STORE", A=1, B=1)], pickup_node="STORE")
    assert isinstance(result, Unfulfillable)
    assert result.shortfall == (Shortfall("A", 2, 1),)
    assert result.reason == "not enough stock at store pickup node STORE: A needs 2, 1 available"


def test_store_pickup_at_an_unknown_inactive_or_excluded_node():
    missing = source(lines(A=1), [node("WH", A=9)], pickup_node="GONE")
    assert isinstance(missing, Unfulfillable) and "GONE is not an active node" in missing.reason
    excluded = source(lines(A=1), [node("STORE", A=9)], pickup_node="STORE", excluded=["STORE"])
    assert isinstance(excluded, Unfulfillable) and "STORE is excluded" in excluded.reason
    assert excluded.shortfall == (Shortfall("A", 1, 0),)


# -- the rules hold on many random instances (checked against a brute force) ---------------------------------
def _brute_min_nodes(demand: dict[str, int], cands: list[Candidate]) -> int | None:
    for k in range(1, len(cands) + 1):
        for combo in itertools.combinations(cands, k):
            if all(sum(c.available(m) for c in combo) >= q for m, q in demand.items()):
                return k
    return None


@pytest.mark.parametrize("seed", range(300))
def test_random_instances_keep_every_promise(seed: int):
    rnd = random.Random(seed)
    materials = ["A", "B", "C", "D"][: rnd.randint(1, 4)]
    demand = {m: rnd.randint(1, 4) for m in materials}
    cands = [
        Candidate(
            f"N{i}",
            31 + rnd.random(),
            121 + rnd.random(),
            rnd.randint(0, 3),
            {m: rnd.randint(-1, 4) for m in materials if rnd.random() < 0.7},
        )
        for i in range(rnd.randint(0, 7))
    ]
    dest = Point(31.5, 121.5) if seed % 3 else None
    result = source([Line(m, q) for m, q in demand.items()], cands, destination=dest)
    best = _brute_min_nodes(demand, cands)
    if best is None:
        assert isinstance(result, Unfulfillable)
        for s in result.shortfall:
            assert s.available == sum(c.available(s.material_code) for c in cands) < s.requested
        return
    assert isinstance(result, Plan)
    by_code = {c.code: c for c in cands}
    assert len(result.allocations) == best, "the fewest nodes"
    shipped: dict[str, int] = {}
    for a in result.allocations:
        assert a.lines, "no empty allocation"
        assert len({x.material_code for x in a.lines}) == len(a.lines), "one line per material per node"
        for x in a.lines:
            assert 0 < x.qty <= by_code[a.node_code].available(x.material_code), "never more than a node has"
            shipped[x.material_code] = shipped.get(x.material_code, 0) + x.qty
    assert shipped == demand, "exactly the order, no more, no less"
    if best == 1:
        whole = [c for c in cands if all(c.available(m) >= q for m, q in demand.items())]
        rank = [
            (round(haversine_km(Point(c.lat, c.lng), dest), 3) if dest else 0.0, -c.priority, c.code)
            for c in whole
        ]
        assert result.allocations[0].node_code == min(zip(rank, whole, strict=True))[1].code


def test_identical_nodes_are_all_available_to_a_split():
    # Three nodes give the same (one unit each); the order needs all three of them.
    candidates = [node("N1", NEAR, A=1), node("N2", MID, A=1), node("N3", FAR, A=1), node("N4", FAR, B=1)]
    got = as_dict(source(lines(A=3, B=1), candidates, destination=SHANGHAI))
    assert got == {"N1": {"A": 1}, "N2": {"A": 1}, "N3": {"A": 1}, "N4": {"B": 1}}


def _brute_best(demand: dict[str, int], cands: list[Candidate], dest: Point) -> tuple[int, float]:
    """(fewest nodes, smallest total distance among covering sets of that size), by trying every set."""
    for k in range(1, len(cands) + 1):
        dists = [
            sum(round(haversine_km(Point(c.lat, c.lng), dest), 3) for c in combo)
            for combo in itertools.combinations(cands, k)
            if all(sum(c.available(m) for c in combo) >= q for m, q in demand.items())
        ]
        if dists:
            return k, round(min(dists), 3)
    raise AssertionError("not coverable")


@pytest.mark.parametrize("seed", range(60))
def test_larger_networks_still_get_the_fewest_nearest_nodes(seed: int):
    """Up to 18 nodes, many alike: the pruned exact search finds what trying every set finds."""
    rnd = random.Random(1000 + seed)
    materials = ["A", "B", "C"]
    demand = {m: rnd.randint(1, 3) for m in materials}
    cands = [
        Candidate(
            f"N{i:02d}",
            31 + rnd.random(),
            121 + rnd.random(),
            rnd.randint(0, 2),
            {m: rnd.choice([0, 0, 1, 1, 2, 3]) for m in materials},
        )
        for i in range(rnd.randint(8, 18))
    ]
    dest = Point(31.5, 121.5)
    result = source([Line(m, q) for m, q in demand.items()], cands, destination=dest)
    if not all(sum(c.available(m) for c in cands) >= q for m, q in demand.items()):
        assert isinstance(result, Unfulfillable)
        return
    k, distance = _brute_best(demand, cands, dest)
    assert isinstance(result, Plan)
    by_code = {c.code: c for c in cands}
    assert len(result.allocations) == k
    got = round(
        sum(
            round(haversine_km(Point(by_code[a.node_code].lat, by_code[a.node_code].lng), dest), 3)
            for a in result.allocations
        ),
        3,
    )
    assert got == pytest.approx(distance, abs=1e-6)
