"""Why a sourcing decision came out as it did: every node looked at, the winners and the losers, each with a
sentence an operator reads. Computed from the very candidates `sourcing.source` was given and from its
result, never re-deciding: the plan is `source`'s (and the set of nodes it was sourced in, `Plan.tier`),
this only says why (routing's tiers, then complete > fewest nodes > nearest (load within the band) >
priority > code).

    chosen    in the plan, with the lines it ships
    lost      could have given some or all of the lines, another node (or set of nodes) won
    excluded  kept out of this decision: it refused this order's reservation, or holds its other lines
    unusable  cannot serve these lines: no stock, closed or full, out of same-city reach, not the store
              pickup node, the order is short everywhere

Pure: no I/O, no framework.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .candidates import distance_km, km
from .candidates import holding as _holding
from .routing import NO_ROUTING, OrderRouting, Tier, notes, outside, screen
from .sourcing import Candidate, Line, Plan, Point, Unfulfillable, demand_of, nearest_complete

__all__ = ["Decision", "NodeVerdict", "explain", "explain_without_plan", "for_group", "km"]

# Beyond this many combinations a loser of a split is explained without searching its own best set.
MAX_LOSER_COMBINATIONS = 2_000
UNLOCATED = "address not located"

_Key = tuple[
    float, int, tuple[str, ...]
]  # how `source` ranks a set of nodes: total distance, priority, codes


@dataclass(frozen=True)
class NodeVerdict:
    node_code: str
    outcome: str  # chosen | lost | excluded | unusable
    why: str
    lines: tuple[Line, ...] = ()
    distance_km: float | None = None
    open_tasks: int | None = None  # its load when sourcing decided


@dataclass(frozen=True)
class Decision:
    """One plan's (or one give-up's) explanation."""

    attempt: int
    planned: bool
    reason: str  # why there is no plan (planned=False)
    lines: tuple[Line, ...]  # what was sourced
    nodes: tuple[NodeVerdict, ...]
    group: str | None = None  # split by type: the group these lines are (None: the order's main group)


def for_group(d: Decision, group: str | None, label: str) -> Decision:
    """The decision of one group's lines. An order split by type says which group in every sentence
    (`label`, "cold_chain group", "main group"); an order with one group only has no label, no prefix."""
    if not label:
        return replace(d, group=group)
    return replace(
        d,
        group=group,
        reason=f"{label}: {d.reason}" if d.reason else "",
        nodes=tuple(replace(n, why=f"{label}: {n.why}") for n in d.nodes),
    )


def explain(
    lines: Sequence[Line],
    candidates: Iterable[Candidate],
    result: Plan | Unfulfillable,
    *,
    attempt: int,
    destination: Point | None = None,
    excluded: Mapping[str, str] | None = None,
    pickup_node: str | None = None,
    routing: OrderRouting | None = None,
) -> Decision:
    """Explain `result`, what `source(lines, candidates, destination=..., excluded=excluded.keys(),
    pickup_node=..., routing=...)` returned. `excluded` maps each node kept out to why ("refused a
    reservation in attempt 1")."""
    routing = routing or NO_ROUTING
    demand = demand_of(lines)
    shut = dict(excluded or {})
    every = {c.code: c for c in candidates}
    pool = {code: c for code, c in every.items() if code not in shut}
    dist = {code: distance_km(c, destination) for code, c in every.items()}
    shown = {code: (d if destination is not None else None) for code, d in dist.items()}
    verdicts: list[NodeVerdict] = []
    if pickup_node is not None:
        verdicts = _pickup(demand, pool, result, pickup_node, shut, shown)
    else:
        found = screen(pool, demand, destination, routing)
        if isinstance(result, Unfulfillable):
            short = ", ".join(s.material_code for s in result.shortfall)
            for c in sorted(pool.values(), key=lambda c: (dist[c.code], -c.priority, c.code)):
                why = f"{_holding(c, demand)}; all the active nodes together are short of {short}"
                if c.code in found.barred:
                    why = f"{found.barred[c.code]}; {_holding(c, demand)}"
                verdicts.append(NodeVerdict(c.code, "unusable", why, distance_km=shown[c.code]))
        else:
            tier = result.tier or Tier(frozenset(pool))
            inside = {code: c for code, c in pool.items() if code in tier.codes}
            measured = destination is not None
            how = _complete if len(result.allocations) == 1 else _split
            verdicts = how(demand, inside, result, dist, shown, measured)
            said = notes(tier, found, pool, routing)
            verdicts = [_noted(v, pool[v.node_code], said) if v.outcome == "chosen" else v for v in verdicts]
            rest = sorted(
                (c for code, c in pool.items() if code not in tier.codes),
                key=lambda c: (dist[c.code], -c.priority, c.code),
            )
            for c in rest:
                outcome, why = outside(c, tier, found, _holding(c, demand))
                verdicts.append(NodeVerdict(c.code, outcome, why, distance_km=shown[c.code]))
    for code, why in shut.items():
        verdicts.append(NodeVerdict(code, "excluded", f"excluded: {why}", distance_km=shown.get(code)))
    verdicts = [_loaded(v, every.get(v.node_code)) for v in verdicts]
    planned = isinstance(result, Plan)
    reason = "" if planned else result.reason  # type: ignore[union-attr]
    return Decision(attempt, planned, reason, tuple(Line(m, q) for m, q in demand.items()), tuple(verdicts))


def explain_without_plan(
    lines: Sequence[Line],
    candidates: Iterable[Candidate],
    reason: str,
    not_tried: str,
    *,
    attempt: int,
    destination: Point | None = None,
    excluded: Mapping[str, str] | None = None,
) -> Decision:
    """A give-up that planned nothing (no attempt left, a pickup order without a pickup node): the excluded
    nodes as such, every other node `not_tried` (the why)."""
    demand = demand_of(lines)
    shut = dict(excluded or {})
    verdicts = [
        NodeVerdict(
            c.code,
            "unusable",
            f"not tried: {not_tried}",
            distance_km=distance_km(c, destination) if destination is not None else None,
        )
        for c in candidates
        if c.code not in shut
    ]
    by_code = {c.code: c for c in candidates}
    for code, why in shut.items():
        d = distance_km(by_code[code], destination) if destination is not None and code in by_code else None
        verdicts.append(NodeVerdict(code, "excluded", f"excluded: {why}", distance_km=d))
    return Decision(attempt, False, reason, tuple(Line(m, q) for m, q in demand.items()), tuple(verdicts))


# -- inside -------------------------------------------------------------------------------------------------
def _loaded(v: NodeVerdict, c: Candidate | None) -> NodeVerdict:
    if c is None:
        return v
    return NodeVerdict(v.node_code, v.outcome, v.why, v.lines, v.distance_km, c.load)


def _noted(v: NodeVerdict, c: Candidate, said: Sequence[str]) -> NodeVerdict:
    """A chosen node's sentence, with what routing adds: closed now (no open node could ship the lines), the
    high-value rule, each route hint."""
    extra = (
        [f"{c.closed}: no open node can ship these lines, so it works them once it opens"] if c.closed else []
    )
    return replace(v, why="; ".join([v.why, *extra, *said])) if extra or said else v


def _where(code: str, shown: Mapping[str, float | None]) -> str:
    d = shown.get(code)
    return f"{UNLOCATED}: ranked by priority" if d is None else km(d)


def _pickup(
    demand: Mapping[str, int],
    pool: Mapping[str, Candidate],
    result: Plan | Unfulfillable,
    code: str,
    shut: Mapping[str, str],
    shown: Mapping[str, float | None],
) -> list[NodeVerdict]:
    """The buyer chose the store: its hours and capacity are said, never held against it."""
    out: list[NodeVerdict] = []
    if isinstance(result, Plan):
        a = result.allocations[0]
        why = "the store pickup node; holds every line"
        c = pool.get(a.node_code)
        if c is not None and c.closed:
            why += f"; {c.closed}, and the buyer collects once it is open"
        if c is not None and c.full:
            why += f"; {c.full}, taken all the same: the buyer chose it"
        out.append(NodeVerdict(a.node_code, "chosen", why, a.lines, shown.get(a.node_code)))
    elif code in pool:
        why = f"the store pickup node: {_holding(pool[code], demand)}"
        out.append(NodeVerdict(code, "unusable", why, distance_km=shown.get(code)))
    elif code not in shut:
        out.append(NodeVerdict(code, "unusable", "the store pickup node is not an active node"))
    for other in sorted(c for c in pool if c != code):
        why = f"not the store pickup node ({code})"
        out.append(NodeVerdict(other, "unusable", why, distance_km=shown.get(other)))
    return out


def _complete(
    demand: Mapping[str, int],
    pool: Mapping[str, Candidate],
    plan: Plan,
    dist: Mapping[str, float],
    shown: Mapping[str, float | None],
    measured: bool,
) -> list[NodeVerdict]:
    """One node holds every line: it is the best ranked of those that do (sourcing.best_complete)."""
    a = plan.allocations[0]
    w = pool[a.node_code]
    holds = {code: _holding(c, demand) for code, c in pool.items()}
    whole = [c for code, c in pool.items() if holds[code] == "holds every line"]
    near = nearest_complete(whole, dist)
    reach = round(dist[near.code] + near.band_km, 3)

    def banded(c: Candidate) -> str:
        return (
            f"{c.code} ({km(dist[c.code])}) and {w.code} ({km(dist[w.code])}) within {near.band_km:g} km: "
            f"the less loaded {w.code} wins ({w.load} vs {c.load} open tasks)"
        )

    why = f"holds every line; {_where(w.code, shown)}; priority {w.priority}"
    if len(whole) > 1:
        why += f"; the best of {len(whole)} nodes that hold every line"
    if measured and near.code != w.code:
        why += f"; {banded(near)}"
    out = [NodeVerdict(w.code, "chosen", why, a.lines, shown[w.code])]
    rest = sorted(
        (c for c in pool.values() if c.code != w.code), key=lambda c: (dist[c.code], -c.priority, c.code)
    )
    for c in rest:
        holding = holds[c.code]
        if holding == "holds every line":
            if measured and dist[c.code] <= reach and c.load > w.load:
                why = f"lost: {banded(c)}"
            elif measured and dist[c.code] > dist[w.code]:
                why = (
                    f"lost: {km(dist[c.code])}, farther than {w.code} ({km(dist[w.code])}) "
                    "with the same coverage"
                )
            elif c.priority < w.priority:
                where = f"as near as {w.code} ({km(dist[w.code])})" if measured else UNLOCATED
                why = f"lost: {where}; lower priority {c.priority} than {w.code} ({w.priority})"
            elif c.load > w.load:
                why = (
                    f"lost: {UNLOCATED}; the same priority as {w.code} ({w.priority}) and more open tasks "
                    f"({c.load} vs {w.load})"
                )
            else:
                why = (
                    f"lost: ties {w.code} on distance and priority ({c.priority}); "
                    f"{w.code} comes first by code"
                )
            out.append(NodeVerdict(c.code, "lost", why, distance_km=shown[c.code]))
        elif holding.startswith("no stock"):
            out.append(NodeVerdict(c.code, "unusable", holding, distance_km=shown[c.code]))
        else:
            why = f"lost: {holding}; {w.code} holds every line"
            out.append(NodeVerdict(c.code, "lost", why, distance_km=shown[c.code]))
    return out


def _split(
    demand: Mapping[str, int],
    pool: Mapping[str, Candidate],
    plan: Plan,
    dist: Mapping[str, float],
    shown: Mapping[str, float | None],
    measured: bool,
) -> list[NodeVerdict]:
    """No node holds every line: the fewest nodes that cover the order, the nearest (in total) of those."""
    need = tuple(demand.values())
    chosen = plan.node_codes
    k = len(chosen)
    gives = {c.code: tuple(min(c.available(m), q) for m, q in demand.items()) for c in pool.values()}
    options = [code for code in pool if any(gives[code])]

    def key(codes: Sequence[str]) -> _Key:
        return (
            round(sum(dist[x] for x in codes), 3),
            -sum(pool[x].priority for x in codes),
            tuple(sorted(codes)),
        )

    def covers(codes: Sequence[str]) -> bool:
        return all(sum(gives[x][i] for x in codes) >= q for i, q in enumerate(need))

    best = key(chosen)
    total = f"{km(best[0])} in total" if measured else UNLOCATED
    out = []
    for a in plan.allocations:
        c = pool[a.node_code]
        ships = ", ".join(f"{x.material_code}×{x.qty}" for x in a.lines)
        why = (
            f"ships {ships}; no single node holds every line, and {k} nodes ({', '.join(chosen)}) cover the "
            f"order ({total}); {_where(c.code, shown)}; priority {c.priority}"
        )
        out.append(NodeVerdict(c.code, "chosen", why, a.lines, shown[c.code]))
    losers = sorted(
        (c for c in pool.values() if c.code not in chosen), key=lambda c: (dist[c.code], -c.priority, c.code)
    )
    for c in losers:
        if c.code not in options:
            out.append(NodeVerdict(c.code, "unusable", _holding(c, demand), distance_km=shown[c.code]))
            continue
        why = _split_loser(c.code, chosen, options, gives, key, covers, best, k, measured, demand, pool)
        out.append(NodeVerdict(c.code, "lost", why, distance_km=shown[c.code]))
    return out


def _split_loser(
    code: str,
    chosen: list[str],
    options: list[str],
    gives: Mapping[str, tuple[int, ...]],
    key: Callable[[Sequence[str]], _Key],
    covers: Callable[[Sequence[str]], bool],
    best: _Key,
    k: int,
    measured: bool,
    demand: Mapping[str, int],
    pool: Mapping[str, Candidate],
) -> str:
    holding = _holding(pool[code], demand)
    others = [x for x in options if x != code]
    if math.comb(len(others), k - 1) > MAX_LOSER_COMBINATIONS:
        return f"lost: {holding}; not in the {k} nodes chosen ({', '.join(chosen)})"
    mine = None
    for rest in itertools.combinations(others, k - 1):
        combo = (code, *rest)
        if covers(combo) and (mine is None or key(combo) < mine):
            mine = key(combo)
    if mine is None:
        return f"lost: {holding}; no {k} nodes with it cover the order"
    with_it = ", ".join(mine[2])
    if mine < best:
        return (
            f"lost: {holding}; not in the {k} nodes chosen ({', '.join(chosen)}): the search for the fewest "
            "nodes had too many combinations and took a greedy cover"
        )
    if measured and mine[0] > best[0]:
        return (
            f"lost: {holding}; the best {k} nodes with it ({with_it}) are {km(mine[0])} in total, farther "
            f"than {', '.join(chosen)} ({km(best[0])})"
        )
    if mine[1] > best[1]:
        return (
            f"lost: {holding}; the best {k} nodes with it ({with_it}) have a lower total priority "
            f"({-mine[1]}) than {', '.join(chosen)} ({-best[1]})"
        )
    return (
        f"lost: {holding}; the best {k} nodes with it ({with_it}) tie the chosen ones, "
        "which come first by code"
    )
