"""Why a sourcing decision came out as it did: every node looked at, the winners and the losers, each with a
sentence an operator reads. Computed from the very candidates `sourcing.source` was given and from its
result, never re-deciding: the plan is `source`'s, this only says why (complete > fewest nodes > nearest >
priority > code).

    chosen    in the plan, with the lines it ships
    lost      could have given some or all of the lines, another node (or set of nodes) won
    excluded  kept out of this decision: it refused this order's reservation, or holds its other lines
    unusable  cannot serve these lines: no stock, not the store pickup node, the order is short everywhere

Pure: no I/O, no framework.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .sourcing import Candidate, Line, Plan, Point, Unfulfillable, _distance, demand_of

# Beyond this many combinations a loser of a split is explained without searching its own best set.
MAX_LOSER_COMBINATIONS = 2_000

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


def km(d: float) -> str:
    return f"{d:.1f} km" if d < 10 else f"{d:.0f} km"


def explain(
    lines: Sequence[Line],
    candidates: Iterable[Candidate],
    result: Plan | Unfulfillable,
    *,
    attempt: int,
    destination: Point | None = None,
    excluded: Mapping[str, str] | None = None,
    pickup_node: str | None = None,
) -> Decision:
    """Explain `result`, what `source(lines, candidates, destination=..., excluded=excluded.keys(),
    pickup_node=...)` returned. `excluded` maps each node kept out to why ("refused a reservation in
    attempt 1")."""
    demand = demand_of(lines)
    shut = dict(excluded or {})
    every = {c.code: c for c in candidates}
    pool = {code: c for code, c in every.items() if code not in shut}
    dist = {code: _distance(c, destination) for code, c in every.items()}
    shown = {code: (d if destination is not None else None) for code, d in dist.items()}
    verdicts: list[NodeVerdict] = []
    if pickup_node is not None:
        verdicts = _pickup(demand, pool, result, pickup_node, shut, shown)
    elif isinstance(result, Unfulfillable):
        short = ", ".join(s.material_code for s in result.shortfall)
        for c in sorted(pool.values(), key=lambda c: (dist[c.code], -c.priority, c.code)):
            why = f"{_holding(c, demand)}; all the active nodes together are short of {short}"
            verdicts.append(NodeVerdict(c.code, "unusable", why, distance_km=shown[c.code]))
    elif len(result.allocations) == 1:
        verdicts = _complete(demand, pool, result, dist, shown, destination is not None)
    else:
        verdicts = _split(demand, pool, result, dist, shown, destination is not None)
    for code, why in shut.items():
        verdicts.append(NodeVerdict(code, "excluded", f"excluded: {why}", distance_km=shown.get(code)))
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
            distance_km=_distance(c, destination) if destination is not None else None,
        )
        for c in candidates
        if c.code not in shut
    ]
    by_code = {c.code: c for c in candidates}
    for code, why in shut.items():
        d = _distance(by_code[code], destination) if destination is not None and code in by_code else None
        verdicts.append(NodeVerdict(code, "excluded", f"excluded: {why}", distance_km=d))
    return Decision(attempt, False, reason, tuple(Line(m, q) for m, q in demand.items()), tuple(verdicts))


# -- inside -------------------------------------------------------------------------------------------------
def _holding(c: Candidate, demand: Mapping[str, int]) -> str:
    """What the node holds of the demand, in words."""
    if all(c.available(m) >= q for m, q in demand.items()):
        return "holds every line"
    if not any(c.available(m) for m in demand):
        return "no stock of " + ", ".join(demand)
    held = [f"{m} {min(c.available(m), q)} of {q}" for m, q in demand.items() if c.available(m)]
    missing = [m for m in demand if not c.available(m)]
    return "holds " + ", ".join(held) + (f" (no {', '.join(missing)})" if missing else "")


def _where(code: str, shown: Mapping[str, float | None]) -> str:
    d = shown.get(code)
    return "no destination to measure" if d is None else km(d)


def _pickup(
    demand: Mapping[str, int],
    pool: Mapping[str, Candidate],
    result: Plan | Unfulfillable,
    code: str,
    shut: Mapping[str, str],
    shown: Mapping[str, float | None],
) -> list[NodeVerdict]:
    out: list[NodeVerdict] = []
    if isinstance(result, Plan):
        a = result.allocations[0]
        why = "the store pickup node; holds every line"
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
    """One node holds every line: it is the best ranked of those that do."""
    a = plan.allocations[0]
    w = pool[a.node_code]
    complete = [c for c in pool.values() if c.code != w.code and _holding(c, demand) == "holds every line"]
    why = f"holds every line; {_where(w.code, shown)}; priority {w.priority}"
    if complete:
        why += f"; the best of {len(complete) + 1} nodes that hold every line"
    out = [NodeVerdict(w.code, "chosen", why, a.lines, shown[w.code])]
    rest = sorted(
        (c for c in pool.values() if c.code != w.code), key=lambda c: (dist[c.code], -c.priority, c.code)
    )
    for c in rest:
        holding = _holding(c, demand)
        if holding == "holds every line":
            if measured and dist[c.code] > dist[w.code]:
                why = (
                    f"lost: {km(dist[c.code])}, farther than {w.code} ({km(dist[w.code])}) "
                    "with the same coverage"
                )
            elif c.priority < w.priority:
                near = (
                    f"as near as {w.code} ({km(dist[w.code])})" if measured else "no destination to measure"
                )
                why = f"lost: {near}; lower priority {c.priority} than {w.code} ({w.priority})"
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
    total = f"{km(best[0])} in total" if measured else "no destination to measure"
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
