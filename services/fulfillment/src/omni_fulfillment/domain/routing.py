"""Routing around "complete > fewest nodes > nearest > priority": which nodes may take an order at all, and
the sets of them sourcing tries first. Pure: no I/O, no framework.

1. Barred (never used for this order): a full node (capacity: open tasks or orders today); for same-city
   delivery (`same_city`) every node but the stores whose same-city radius reaches the address.
2. Tiers, tried in this order; the first whose nodes can ship the lines by themselves (one node, or a split
   among them) wins, and `sourcing` ranks inside it as always:
   - open nodes before closed ones (a closed node takes the order only when no open node can ship it);
   - within that, high-value lines at the nodes dedicated to high-value goods first;
   - within that, the OMS rules' route hints: each node hint, then each pool hint, in the order the rules
     set them; then every node left.
   A carrier hint is not sourcing's: it is kept with the order for the carrier choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .candidates import Candidate, Point, distance_km, km


@dataclass(frozen=True)
class Hint:
    """A route hint the OMS rules set (order.accepted route_hints): a node, a pool or a carrier."""

    node: str | None = None
    pool: str | None = None
    carrier: str | None = None
    ruleset: str = ""  # the rule set and version that set it, for the trace

    def __str__(self) -> str:
        what = (
            f"node {self.node}"
            if self.node
            else f"pool {self.pool}"
            if self.pool
            else f"carrier {self.carrier}"
        )
        return f"route hint {what}" + (f" ({self.ruleset})" if self.ruleset else "")

    def json(self) -> dict[str, Any]:
        d: dict[str, Any] = {k: v for k in ("node", "pool", "carrier") if (v := getattr(self, k))}
        return d | ({"ruleset": self.ruleset} if self.ruleset else {})


@dataclass(frozen=True)
class OrderRouting:
    """What an order asks of routing, kept with its sourcing (a re-plan after a refusal asks the same)."""

    delivery: str = "express"  # express | same_city | store_pickup
    hints: tuple[Hint, ...] = ()
    high_value: frozenset[str] = frozenset()  # the materials of its high-value lines

    @property
    def same_city(self) -> bool:
        return self.delivery == "same_city"

    @property
    def sourcing_hints(self) -> tuple[Hint, ...]:
        """Node hints, then pool hints, each in the rules' order (carrier hints are the carrier choice's)."""
        return tuple(h for h in self.hints if h.node) + tuple(h for h in self.hints if h.pool and not h.node)

    @property
    def carrier_hints(self) -> tuple[Hint, ...]:
        return tuple(h for h in self.hints if h.carrier)

    def json(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.delivery != "express":
            d["delivery"] = self.delivery
        if self.hints:
            d["hints"] = [h.json() for h in self.hints]
        if self.high_value:
            d["high_value"] = sorted(self.high_value)
        return d

    @classmethod
    def of_json(cls, d: Mapping[str, Any] | None) -> OrderRouting:
        d = d or {}
        return cls(
            delivery=d.get("delivery", "express"),
            hints=tuple(Hint(**h) for h in d.get("hints", ())),
            high_value=frozenset(d.get("high_value", ())),
        )


NO_ROUTING = OrderRouting()


@dataclass(frozen=True)
class Tier:
    """A set of nodes sourcing tries on its own, and what made it."""

    codes: frozenset[str]
    open_only: bool = False  # the closed nodes are left out
    high_value: bool = False  # only the nodes dedicated to high-value goods
    hint: Hint | None = None  # only the hint's node or pool


@dataclass(frozen=True)
class Screen:
    barred: Mapping[str, str]  # node -> why it cannot take this order at all
    tiers: tuple[Tier, ...]
    high_value: bool  # the lines sourced include high-value ones


def screen(
    pool: Mapping[str, Candidate],
    demand: Mapping[str, int],
    destination: Point | None,
    routing: OrderRouting,
) -> Screen:
    """The barred nodes of `pool` (the active nodes not excluded) and the tiers to try, in order."""
    barred: dict[str, str] = {}
    for c in pool.values():
        why = c.full or (_same_city_why(c, destination) if routing.same_city else "")
        if why:
            barred[c.code] = why
    eligible = [c for c in pool.values() if c.code not in barred]
    hv = any(m in routing.high_value for m in demand)
    tiers: list[Tier] = []
    seen: set[frozenset[str]] = set()

    def add(t: Tier) -> None:
        if t.codes and t.codes not in seen:  # the same nodes again would plan the same way
            seen.add(t.codes)
            tiers.append(t)

    for open_only in (True, False):
        avail = [c for c in eligible if not (open_only and c.closed)]
        for only_hv in (True, False) if hv else (False,):
            scope = [c for c in avail if c.high_value or not only_hv]
            for h in routing.sourcing_hints:
                add(Tier(frozenset(c.code for c in scope if _in_hint(c, h)), open_only, only_hv, h))
            add(Tier(frozenset(c.code for c in scope), open_only, only_hv))
    return Screen(barred, tuple(tiers), hv)


def _in_hint(c: Candidate, h: Hint) -> bool:
    return c.code == h.node if h.node else h.pool in c.pools


def _same_city_why(c: Candidate, destination: Point | None) -> str:
    if c.type != "store":
        return "same-city delivery comes from stores; this is a warehouse"
    if c.radius_km is None:
        return "no same-city radius set: it does not deliver same-city"
    if destination is None:
        return "address not located: the same-city radius cannot be measured"
    d = distance_km(c, destination)
    if d > c.radius_km:
        return f"{km(d)} away, beyond its same-city radius of {c.radius_km:g} km"
    return ""


# -- what the trace says of a tier ---------------------------------------------------------------------------
def outside(c: Candidate, tier: Tier, screen_: Screen, holds: str) -> tuple[str, str]:
    """(outcome, why) of a node not in the tier that won: barred, closed, or not preferred."""
    if c.code in screen_.barred:
        return "unusable", f"{screen_.barred[c.code]}; {holds}"
    if tier.open_only and c.closed:
        return "unusable", f"{c.closed}; {holds}"
    if holds.startswith("no stock"):
        return "unusable", holds
    if tier.high_value and not c.high_value:
        return (
            "lost",
            f"lost: not a high-value node, and high-value lines go to those that can ship them; {holds}",
        )
    if tier.hint is not None:
        return "lost", f"lost: {tier.hint} is followed; {holds}"
    return (
        "lost",
        f"lost: {holds}",
    )  # pragma: no cover - every tier but the last leaves nodes out for a reason


def notes(
    tier: Tier | None, screen_: Screen, pool: Mapping[str, Candidate], routing: OrderRouting
) -> list[str]:
    """What the chosen nodes' sentences add: the high-value rule and each hint, followed or why not."""
    out: list[str] = []
    if screen_.high_value:
        if tier is not None and tier.high_value:
            out.append("high-value lines: sourced at the nodes dedicated to high-value goods")
        else:
            dedicated = sorted(c.code for c in pool.values() if c.high_value)
            out.append(
                f"high-value lines: the high-value nodes ({', '.join(dedicated)}) cannot ship them"
                if dedicated
                else "high-value lines: no node dedicated to high-value goods holds them"
            )
    hints = routing.sourcing_hints
    won = tier.hint if tier is not None else None
    for i, h in enumerate(hints):
        if h == won:
            out.append(f"{h} followed")
        elif won is not None and i > hints.index(won):
            out.append(f"{h} not needed: {won} came first")
        else:
            out.append(f"{h} not followed: {_hint_why(h, tier, screen_, pool)}")
    return out


def _hint_why(h: Hint, tier: Tier | None, screen_: Screen, pool: Mapping[str, Candidate]) -> str:
    codes = sorted(c.code for c in pool.values() if _in_hint(c, h))
    name = h.node if h.node else f"pool {h.pool}"
    if not codes:
        return (
            f"{h.node} holds none of these lines" if h.node else f"no node of pool {h.pool} holds these lines"
        )
    if all(x in screen_.barred for x in codes):
        return "; ".join(f"{x} {screen_.barred[x]}" for x in codes)
    usable = [pool[x] for x in codes if x not in screen_.barred]
    if tier is not None and tier.high_value and not any(c.high_value for c in usable):
        return f"{name} has no node dedicated to high-value goods"
    if tier is not None and tier.open_only and all(c.closed for c in usable):
        return "; ".join(f"{c.code} {c.closed}" for c in usable)
    return (
        f"{name} cannot ship these lines by itself"
        if h.node
        else f"the nodes of {name} cannot ship these lines"
    )
