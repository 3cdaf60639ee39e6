"""Gifts (赠品): what the rule set's `add_gift` actions give one order, after caps and stock. Pure: the
service loads the counters (locked) and the stock the order service has seen, and writes what this answers.

For each gift asked (the first action per `gift_id` wins; a later one is traced as a repeat):
- sets: 1, or with `per_units` one set per `per_units` units of `for_skus` (of every line when empty): buy 2
  get 1 is per_units 2, so 5 units give 2 sets;
- caps, in this order: `per_order`, then `per_buyer` minus what the buyer already got, then `total` minus
  what every buyer got (each traced with the numbers: "per buyer: 2 of 3 given, 1 left");
- stock: the gift's material, else its first substitute, with at least `sets × qty` available over every
  node the service has seen; one with no stock seen at all is added and sourcing decides (traced as such);
  none with enough: skipped, with the reason.
A gift line carries 0 paid and the gift id, so finance books its cost and nothing of the paid amount moves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .rules.actions import AddGift
from .rules.ruleset import TraceEntry


class LineLike(Protocol):
    material_code: str
    sales_product_code: str
    qty: int


@dataclass(frozen=True)
class GiftCounts:
    """Sets given so far per gift id: to this buyer, and to everyone."""

    buyer: Mapping[str, int] = field(default_factory=dict)
    total: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class GiftLine:
    gift_id: str
    rule_id: str
    material_code: str
    qty: int
    sets: int


@dataclass
class GiftPlan:
    lines: list[GiftLine] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)


def _units(gift: AddGift, lines: Sequence[LineLike]) -> int:
    skus = set(gift.for_skus)
    return sum(x.qty for x in lines if not skus or x.material_code in skus or x.sales_product_code in skus)


def _sets(gift: AddGift, lines: Sequence[LineLike], counts: GiftCounts) -> tuple[int, list[str]]:
    """How many sets after the caps, and why (one phrase per step that counted)."""
    why: list[str] = []
    if gift.per_units is None:
        sets = 1
    else:
        units = _units(gift, lines)
        sets = units // gift.per_units
        scope = ", ".join(gift.for_skus) if gift.for_skus else "the order"
        why.append(f"{units} units of {scope}, one set per {gift.per_units}: {sets}")
    caps = gift.caps
    if caps.per_order is not None and sets > caps.per_order:
        sets = caps.per_order
        why.append(f"per order at most {caps.per_order}")
    for label, cap, given in (
        ("per buyer", caps.per_buyer, counts.buyer.get(gift.gift_id, 0)),
        ("in total", caps.total, counts.total.get(gift.gift_id, 0)),
    ):
        if cap is None:
            continue
        left = max(cap - given, 0)
        if sets > left:
            sets = left
            why.append(f"{label}: {given} of {cap} given, {left} left")
    return sets, why


def _in_stock(gift: AddGift, qty: int, stock: Mapping[str, int | None]) -> tuple[str | None, str]:
    """The material to give (the gift's or a substitute) and why; None when none has enough."""
    tried = []
    for code in (gift.material_code, *gift.substitutes):
        available = stock.get(code)
        if available is None:
            note = f"no stock of {code} seen yet: added, sourcing decides"
            return code, note if not tried else f"{'; '.join(tried)}; substitute {code}: {note}"
        if available >= qty:
            note = f"{available} of {code} available"
            return code, note if not tried else f"{'; '.join(tried)}; substitute {code}: {note}"
        tried.append(f"{code}: {available} available, {qty} needed")
    return None, "; ".join(tried)


def plan_gifts(
    asked: Sequence[tuple[str, AddGift]],
    lines: Sequence[LineLike],
    counts: GiftCounts,
    stock: Mapping[str, int | None],
) -> GiftPlan:
    """The gift lines for one order, and the trace of every gift asked (added, reduced or skipped)."""
    out = GiftPlan()
    seen: set[str] = set()
    for rule_id, gift in asked:
        subject = f"gift {gift.gift_id} (rule {rule_id})"
        if gift.gift_id in seen:
            out.trace.append(TraceEntry("gifts", subject, False, "already given by an earlier rule"))
            continue
        seen.add(gift.gift_id)
        sets, why = _sets(gift, lines, counts)
        if sets <= 0:
            out.trace.append(TraceEntry("gifts", subject, False, "; ".join(why) or "no set", "skipped"))
            continue
        qty = sets * gift.qty
        code, stock_why = _in_stock(gift, qty, stock)
        why.append(stock_why)
        if code is None:
            out.trace.append(TraceEntry("gifts", subject, False, "; ".join(why), "skipped: out of stock"))
            continue
        out.lines.append(GiftLine(gift.gift_id, rule_id, code, qty, sets))
        effect = f"gift {qty} × {code}" + (f" ({sets} sets)" if sets > 1 else "")
        out.trace.append(TraceEntry("gifts", subject, True, "; ".join(why), effect))
    return out
