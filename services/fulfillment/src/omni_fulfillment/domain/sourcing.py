"""Sourcing: where an order ships from. "complete > nearest > priority" (就全 > 就近 > 就优先级).

1. One node that can ship the whole order wins; among those the nearest to the destination (haversine),
   then the higher priority, then the smaller code (so that the answer depends only on the inputs).
2. Only when no single node can: split across the FEWEST nodes. Every combination of k nodes is tried
   for k = 2, 3, ... while that is affordable (`max_combinations`, after dropping the nodes that better
   ranked ones outdo on every line), else a greedy cover is used. Among the covering combinations of the
   smallest size: the smaller total distance, then the higher total priority, then the codes. Inside the
   chosen nodes a material goes to one node when one can take it all, and is split only when none can.
3. When even all the nodes together hold too little: unfulfillable, with the shortfall per material.

Store pickup (`pickup_node`): only that node is considered.
Pure: no I/O, no framework.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

EARTH_RADIUS_KM = 6371.0088
DEFAULT_MAX_COMBINATIONS = 5_000


@dataclass(frozen=True)
class Line:
    material_code: str
    qty: int

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"{self.material_code}: quantity must be positive, got {self.qty}")


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


@dataclass(frozen=True)
class Candidate:
    """An active node and what it has available of the materials asked for."""

    code: str
    lat: float
    lng: float
    priority: int
    stock: Mapping[str, int] = field(default_factory=dict)

    def available(self, material_code: str) -> int:
        return max(self.stock.get(material_code, 0), 0)


@dataclass(frozen=True)
class Allocation:
    node_code: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Plan:
    allocations: tuple[Allocation, ...]

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


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lng - a.lng)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


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
) -> Plan | Unfulfillable:
    """A plan (node -> lines) for `lines`, or why there is none. `candidates` are the active nodes."""
    demand = demand_of(lines)
    if not demand:
        raise ValueError("an order to source needs at least one line")
    shut = set(excluded)
    pool = {c.code: c for c in candidates if c.code not in shut}
    if pickup_node is not None:
        return _pickup(demand, pool, pickup_node, shut)

    distances: dict[str, float] = {}

    def rank(c: Candidate) -> tuple[float, int, str]:
        if c.code not in distances:
            distances[c.code] = _distance(c, destination)
        return (distances[c.code], -c.priority, c.code)

    # (a) One node for everything: the best ranked of those that can.
    complete = [c for c in pool.values() if all(c.available(m) >= q for m, q in demand.items())]
    if complete:
        return Plan((Allocation(min(complete, key=rank).code, _lines(demand)),))

    total = {m: sum(c.available(m) for c in pool.values()) for m in demand}
    short = tuple(Shortfall(m, q, total[m]) for m, q in demand.items() if total[m] < q)
    if short:
        needs = "; ".join(
            f"{s.material_code} needs {s.requested}, {s.available} available in total" for s in short
        )
        return Unfulfillable(f"not enough stock in any combination of active nodes: {needs}", short)

    # (b) Split over the fewest nodes.
    options = [
        _Option(c, gives, rank(c)[0])
        for c in sorted(pool.values(), key=rank)
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


def _distance(c: Candidate, destination: Point | None) -> float:
    """Kilometres to the destination, rounded to the metre so that equal places tie; 0 without one."""
    if destination is None:
        return 0.0
    return round(haversine_km(Point(c.lat, c.lng), destination), 3)


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
