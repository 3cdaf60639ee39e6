"""Split by type (拆单), the pure part: which group each order line ships in, decided once at intake from
the material's facts and the kinds the rules asked to split (`split_by_type`), before sourcing's split by
node. Lines are never re-priced: each keeps its allocated amount to the fen, whatever its group.

- `virtual` and `service` materials (a coupon, a class) never ship, whatever the rules say: the OMS fulfils
  them (`ships: false` on order.accepted; fulfillment does not source them);
- asked `cold_chain`: chilled (`cold_chain`) and `frozen` lines each go in a group of their own;
- asked `oversize`: oversize lines; asked `high_value`: the material's high-value flag; asked `presale`:
  materials tagged `presale` (sold ahead of stock) apart from the goods in stock.
The first that applies decides, in that order. Fulfillment sources and ships each group apart (its own
reservations and tasks, even at one node); lines of no group are the order's main group.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

NO_SHIP = ("virtual", "service")
COLD = ("cold_chain", "frozen")


@dataclass(frozen=True)
class LineKind:
    """What split by type looks at on a line's material."""

    handling: str = "normal"
    high_value: bool = False
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Placement:
    group: str | None
    ships: bool
    why: str = ""  # '' for a line of the main group that ships


def place(line: LineKind, kinds: Collection[str]) -> Placement:
    if line.handling in NO_SHIP:
        return Placement(None, False, f"{line.handling} goods: fulfilled without shipping")
    if "cold_chain" in kinds and line.handling in COLD:
        return Placement(line.handling, True, f"{line.handling.replace('_', ' ')}: ships apart")
    if "oversize" in kinds and line.handling == "oversize":
        return Placement("oversize", True, "oversize: ships apart")
    if "high_value" in kinds and line.high_value:
        return Placement("high_value", True, "high value: ships apart")
    if "presale" in kinds and "presale" in line.tags:
        return Placement("presale", True, "presale goods: ship apart from the goods in stock")
    return Placement(None, True)


def unmatched(kinds: Iterable[str], placed: Iterable[Placement]) -> list[str]:
    """The kinds asked that no line of the order has (said in the trace: an option never silently ignored)."""
    groups = {p.group for p in placed}
    have = {"cold_chain" if g in COLD else g for g in groups}
    return [k for k in kinds if k != "virtual" and k not in have]
