"""Sourcing: where an order ships from. "complete > nearest > priority" (就全 > 就近 > 就优先级).

1. One node that can ship the whole order wins; among those the nearest to the destination (haversine),
   then the higher priority, then the smaller code (so that the answer depends only on the inputs). Load:
   the nodes at most the nearest one's `band_km` farther than it compete on load, and the fewest open tasks
   win among them (then the nearest, the priority, the code). Without a destination (an address the OMS
   could not locate): the higher priority, then the fewer open tasks, then the code.
2. Only when no single node can: split across the FEWEST nodes. Every combination of k nodes is tried
   for k = 2, 3, ... while that is affordable (`max_combinations`, after dropping the nodes that better
   ranked ones outdo on every line), else a greedy cover is used. Among the covering combinations of the
   smallest size: the smaller total distance, then the higher total priority, then the codes. Inside the
   chosen nodes a material goes to one node when one can take it all, and is split only when none can.
3. When even all the nodes together hold too little: unfulfillable, with the shortfall per material.

Routing (routing.py) decides first which nodes may take the order (a full node never; same-city delivery:
the stores within their radius) and the sets tried in turn (open nodes before closed ones, high-value
nodes for high-value lines, the OMS rules' route hints); the first set that can ship the lines by itself
is sourced as above.

Store pickup (`pickup_node`): only that node is considered (its hours and capacity do not turn the buyer's
choice away).
Pure: no I/O, no framework.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .candidates import Candidate, Line, Point, distance_km, haversine_km, holds_all
from .routing import NO_ROUTING, OrderRouting, Tier, screen

__all__ = [
    "DEFAULT_MAX_COMBINATIONS",
    "Allocation",
    "Candidate",
    "Line",
    "Plan",
    "Point",
    "Shortfall",
    "Unfulfillable",
    "best_complete",
    "demand_of",
    "haversine_km",
    "source",
]

DEFAULT_MAX_COMBINATIONS = 5_000


@dataclass(frozen=True)
class Allocation:
    node_code: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Plan:
    allocations: tuple[Allocation, ...]
    tier: Tier | None = field(default=None, compare=False)  # the set of nodes it was sourced in (routing.py)

    @property
    def node_codes(self) -> list[str]:
        return [a.node_code for a in self.allocations]


@dataclass(frozen=True)
class Shortfall:
    material_code: str
    requested: int
    available: int


@dataclass(frozen=True)
class Unfulfillable:
    reason: str
    shortfall: tuple[Shortfall, ...]


def demand_of(lines: Iterable[Line]) -> dict[str, int]:
    """Quantities per material (lines of the same material added up), in order of first appearance."""
    demand: dict[str, int] = {}
    for line in lines:
        demand[line.material_code] = demand.get(line.material_code, 0) + line.qty
    return demand


def source(
    lines: Sequence[Line],
    candidates: Iterable[Candidate],
    *,
    destination: Point | None = None,
    excluded: Iterable[str] = (),
    pickup_node: str | None = None,
    max_combinations: int = DEFAULT_MAX_COMBINATIONS,
    routing: OrderRouting | None = None,
) -> Plan | Unfulfillable:
    """A plan (node -> lines) for `lines`, or why there is none. `candidates` are the active nodes."""
    demand = demand_of(lines)
    if not demand:
        raise ValueError("an order to source needs at least one line")
    shut = set(excluded)
    pool = {c.code: c for c in candidates if c.code not in shut}
    if pickup_node is not None:
        return _pickup(demand, pool, pickup_node, shut)
    found = screen(pool, demand, destination, routing or NO_ROUTING)
    distances = {code: distance_km(c, destination) for code, c in pool.items()}
    for tier in found.tiers:
        nodes = [c for code, c in pool.items() if code in tier.codes]
        plan = _within(demand, nodes, distances, destination is not None, max_combinations)
        if plan is not None:
            return replace(plan, tier=tier)
    eligible = [c for code, c in pool.items() if code not in found.barred]
    total = {m: sum(c.available(m) for c in eligible) for m in demand}
    short = tuple(Shortfall(m, q, total[m]) for m, q in demand.items() if total[m] < q)
    needs = "; ".join(
        f"{s.material_code} needs {s.requested}, {s.available} available in total" for s in short
    )
    skipped = ""
    if found.barred:
        kinds = sorted(
            {"full" if why.startswith("full") else "out of same-city reach" for why in found.barred.values()}
        )
        skipped = f" that can take the order ({len(found.barred)} skipped: {' or '.join(kinds)})"
    return Unfulfillable(f"not enough stock in any combination of active nodes{skipped}: {needs}", short)


def best_complete(complete: Sequence[Candidate], dist: Mapping[str, float], measured: bool) -> Candidate:
    """The node that ships the whole order, among those that can: the nearest, unless a node within the
    nearest one's load band has fewer open tasks (the fewest win, then the nearest, the priority, the code).
    Without a destination: the priority, then the fewer open tasks, then the code."""
    if not measured:
        return min(complete, key=lambda c: (-c.priority, c.load, c.code))
    nearest = min(complete, key=lambda c: (dist[c.code], -c.priority, c.code))
    reach = round(dist[nearest.code] + nearest.band_km, 3)
    close = [c for c in complete if dist[c.code] <= reach]
    return min(close, key=lambda c: (c.load, dist[c.code], -c.priority, c.code))


def nearest_complete(complete: Sequence[Candidate], dist: Mapping[str, float]) -> Candidate:
    return min(complete, key=lambda c: (dist[c.code], -c.priority, c.code))


def _within(
    demand: dict[str, int],
    nodes: Sequence[Candidate],
    dist: Mapping[str, float],
    measured: bool,
    max_combinations: int,
) -> Plan | None:
    """The plan of `demand` among `nodes` alone, or None when they together hold too little."""

    def rank(c: Candidate) -> tuple[float, int, str]:
        return (dist[c.code], -c.priority, c.code)

    # (a) One node for everything: the best of those that can.
    complete = [c for c in nodes if holds_all(c, demand)]
    if complete:
        return Plan((Allocation(best_complete(complete, dist, measured).code, _lines(demand)),))
    if any(sum(c.available(m) for c in nodes) < q for m, q in demand.items()):
        return None
    # (b) Split over the fewest nodes.
    options = [
        _Option(c, gives, dist[c.code])
        for c in sorted(nodes, key=rank)
        if any(gives := tuple(min(c.available(m), q) for m, q in demand.items()))
    ]
    chosen = _fewest_nodes(tuple(demand.values()), options, max_combinations)
    return Plan(_allocate(demand, [o.node for o in sorted(chosen, key=lambda o: rank(o.node))]))


@dataclass(frozen=True)
class _Option:
    """A node for a split: what it can give of each line (capped at the line's quantity), how far it is."""

    node: Candidate
    gives: tuple[int, ...]
    distance: float


def _pickup(
    demand: dict[str, int], pool: dict[str, Candidate], code: str, shut: set[str]
) -> Unfulfillable | Plan:
    node = pool.get(code)
    if node is None:
        why = "is excluded (it refused a reservation)" if code in shut else "is not an active node"
        return Unfulfillable(
            f"store pickup node {code} {why}", tuple(Shortfall(m, q, 0) for m, q in demand.items())
        )
    short = tuple(Shortfall(m, q, node.available(m)) for m, q in demand.items() if node.available(m) < q)
    if short:
        needs = "; ".join(f"{s.material_code} needs {s.requested}, {s.available} available" for s in short)
        return Unfulfillable(f"not enough stock at store pickup node {code}: {needs}", short)
    return Plan((Allocation(code, _lines(demand)),))


def _lines(demand: Mapping[str, int]) -> tuple[Line, ...]:
    return tuple(Line(m, q) for m, q in demand.items())


def _covers(need: tuple[int, ...], options: Sequence[_Option]) -> bool:
    return all(sum(o.gives[i] for o in options) >= q for i, q in enumerate(need))


def _fewest_nodes(need: tuple[int, ...], options: list[_Option], max_combinations: int) -> list[_Option]:
    """The smallest set of nodes that covers the demand; among sets of that size the smallest total distance,
    then the highest total priority, then the codes. Exact while the combinations to try stay within
    `max_combinations` (after pruning), greedy beyond. `options` are in preference order."""
    budget = max_combinations
    for k in range(2, len(options) + 1):
        pool = _prune(options, k)
        count = math.comb(len(pool), k)
        if count > budget:
            return _greedy(need, options)
        budget -= count
        best: tuple[tuple[float, int, tuple[str, ...]], tuple[_Option, ...]] | None = None
        for combo in itertools.combinations(pool, k):
            if not _covers(need, combo):
                continue
            key = (
                round(sum(o.distance for o in combo), 3),
                -sum(o.node.priority for o in combo),
                tuple(sorted(o.node.code for o in combo)),
            )
            if best is None or key < best[0]:
                best = (key, combo)
        if best is not None:
            return list(best[1])
    raise AssertionError("the nodes together cover the demand, so some combination must")  # pragma: no cover


def _prune(options: list[_Option], k: int) -> list[_Option]:
    """Drop the nodes no best set of k nodes needs: those with k or more better-ranked nodes that give at
    least as much of every line. (A set of k holding such a node leaves one of them out: swapping it in
    covers as well, at no greater distance and no lower priority.)"""
    kept: list[_Option] = []
    same: dict[tuple[int, ...], int] = {}
    for o in options:
        if same.get(o.gives, 0) >= k:
            continue
        better = 0
        for p in kept:
            if all(a >= b for a, b in zip(p.gives, o.gives, strict=True)):
                better += 1
                if better >= k:
                    break
        if better < k:
            kept.append(o)
            same[o.gives] = same.get(o.gives, 0) + 1
    return kept


def _greedy(need: tuple[int, ...], options: list[_Option]) -> list[_Option]:
    """Take the node that covers most of what is left (options are in preference order, which breaks ties)
    until all is covered; then drop the chosen nodes that turned out unnecessary, the last taken first."""
    left = list(need)
    chosen: list[_Option] = []
    rest = list(options)
    while any(q > 0 for q in left):
        best = max(rest, key=lambda o: sum(min(g, q) for g, q in zip(o.gives, left, strict=True)))
        rest.remove(best)
        chosen.append(best)
        left = [max(q - g, 0) for q, g in zip(left, best.gives, strict=True)]
    for o in reversed(list(chosen)):
        others = [x for x in chosen if x is not o]
        if _covers(need, others):
            chosen = others
    return chosen


def _allocate(demand: dict[str, int], nodes: list[Candidate]) -> tuple[Allocation, ...]:
    """Lines per node. `nodes` are in preference order and together cover the demand."""
    per_node: dict[str, list[Line]] = {c.code: [] for c in nodes}
    for m, q in demand.items():
        whole = next((c for c in nodes if c.available(m) >= q), None)
        if whole is not None:
            per_node[whole.code].append(Line(m, q))
            continue
        # No node can take it all: split, largest stock first (the fewest pieces), ties by preference.
        left = q
        order = sorted(range(len(nodes)), key=lambda i: (-nodes[i].available(m), i))
        for i in order:
            take = min(nodes[i].available(m), left)
            if take > 0:
                per_node[nodes[i].code].append(Line(m, take))
                left -= take
            if left == 0:
                break
    return tuple(Allocation(code, tuple(lines)) for code, lines in per_node.items() if lines)
