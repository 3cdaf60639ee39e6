"""Choosing the carrier of one parcel (one task: its own lines' weight), and why every other carrier lost.

Each active carrier is first asked whether it can take the parcel at all, in this order (the first "no"
is its reason): it refused this parcel already (at ship time), it does not serve the destination, it is
down, no weight band of it holds the weight, it is full on the day it would take the parcel (its daily
capacity, counted from the tasks given to it for that day). A carrier that can take it has a price, its
SLA days to the destination, plus one day when past its cut-off (it takes the parcel the next day).

Then, the first that holds:
1. a pin (sku, then shop, then region; see carriers.Pin) whose carrier can take it, whatever it costs and
   however long it takes (a pin is a business decision; the trace says when it is over the promise);
2. a carrier the OMS rules prefer (`route_hints` of order.accepted, in their order) that can take it
   within the promised days and is healthy;
3. the cheapest healthy carrier within the promised days (then the faster, then by code);
4. the cheapest degraded carrier within the promised days;
5. no carrier within the promise: the fastest (then the cheaper) healthy one, then degraded one;
6. none: no carrier, and the trace says why each one could not (an operator chooses at ship time).
Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from .carriers import Carrier, Health, Pin, Promise, Region, yuan


@dataclass(frozen=True)
class Parcel:
    task_id: str
    order_id: str
    shop_id: str
    region: Region
    weight_g: int
    materials: frozenset[str] = frozenset()
    hints: tuple[tuple[str, str], ...] = ()  # (carrier, the rule set that set it), the OMS rules' order
    refused: Mapping[str, str] = field(default_factory=dict)  # carrier -> why it refused this parcel
    unknown_weight: tuple[str, ...] = ()  # materials whose weight fulfillment does not know (counted 0 g)


@dataclass(frozen=True)
class Considered:
    carrier: str
    chosen: bool
    reason: str
    cost_cents: int | None = None
    sla_days: int | None = None


@dataclass(frozen=True)
class Choice:
    carrier: str | None
    cost_cents: int | None
    sla_days: int | None
    ship_day: date | None
    promised_days: int
    reason: str
    considered: tuple[Considered, ...]


@dataclass
class _Fit:
    carrier: Carrier
    no: str | None = None  # why it cannot take the parcel
    cost: int = 0
    days: int = 0
    day: date | None = None
    late: bool = False  # past its cut-off: it takes the parcel tomorrow

    @property
    def healthy(self) -> bool:
        return self.carrier.health is Health.HEALTHY

    def terms(self) -> str:
        late = f", past its {self.carrier.cutoff:%H:%M} cut-off: taken tomorrow" if self.late else ""
        days = "day" if self.days == 1 else "days"
        return f"{yuan(self.cost)}, {self.days} {days}{late}"


def choose(
    parcel: Parcel,
    carriers: Iterable[Carrier],
    pins: Sequence[Pin],
    promise: Promise,
    used: Mapping[tuple[str, date], int],
    now: datetime,
) -> Choice:
    """The carrier for `parcel` at `now`; `used`: tasks already given to (carrier, local day)."""
    promised = promise.days(parcel.region)
    fits = [_fit(c, parcel, used, now) for c in sorted(carriers, key=lambda c: c.code) if c.active]
    by_code = {f.carrier.code: f for f in fits}
    notes: dict[str, str] = {}  # a pin or a hint that could not be honoured, said on that carrier's row
    chosen: _Fit | None = None
    why = by_rule = ""
    for pin in sorted((p for p in pins if p.applies(parcel.shop_id, parcel.region, parcel.materials)),
                      key=lambda p: p.sort_key):  # fmt: skip
        f = by_code.get(pin.carrier)
        if f is None:
            continue  # a pin to a carrier retired (inactive) or unknown
        if f.no is None:
            chosen, why = f, f"pinned by {pin}"
            by_rule = why
            break
        notes.setdefault(f.carrier.code, f"pinned by {pin}, but")
    if chosen is None:
        for carrier, ruleset in parcel.hints:
            f = by_code.get(carrier)
            if f is None:
                continue
            if f.no is None and f.days <= promised and f.healthy:
                chosen, why = f, f"preferred by the OMS rules{_by(ruleset)}"
                by_rule = why
                break
            notes.setdefault(carrier, f"preferred by the OMS rules{_by(ruleset)}, but")
    able = [f for f in fits if f.no is None]
    within = [f for f in able if f.days <= promised]
    if chosen is None:
        cheapest = f"the cheapest within the promised {_days(promised)}"
        for tier, what in (
            ([f for f in within if f.healthy], cheapest),
            ([f for f in within if not f.healthy], f"{cheapest} (degraded: no healthy one could take it)"),
        ):
            if tier:
                chosen, why = min(tier, key=lambda f: (f.cost, f.days, f.carrier.code)), what
                break
    if chosen is None:
        late = [f for f in able if f.healthy] or able
        if late:
            chosen = min(late, key=lambda f: (f.days, f.cost, f.carrier.code))
            why = f"no carrier within the promised {_days(promised)}: the fastest" + (
                "" if chosen.healthy else " (degraded: no healthy carrier could take it)"
            )
    weight = _weight(parcel)
    considered = tuple(_row(f, chosen, promised, notes.get(f.carrier.code), by_rule) for f in fits)
    if chosen is None:
        reason = f"no carrier can take {weight} to {parcel.region}" + (
            "" if fits else ": no carrier is configured"
        )
        return Choice(None, None, None, None, promised, reason, considered)
    over = f", over the promised {_days(promised)}" if chosen.days > promised else ""
    reason = f"{chosen.carrier.code}: {why}: {chosen.terms()} for {weight}{over}"
    return Choice(chosen.carrier.code, chosen.cost, chosen.days, chosen.day, promised, reason, considered)


def _fit(c: Carrier, parcel: Parcel, used: Mapping[tuple[str, date], int], now: datetime) -> _Fit:
    f = _Fit(c)
    if c.code in parcel.refused:
        f.no = f"refused this parcel: {parcel.refused[c.code]}"
    elif not parcel.region.known and c.includes:
        f.no = "the destination has no province: it cannot be told whether it is served"
    elif not c.serves(parcel.region):
        f.no = f"does not serve {parcel.region}"
    elif c.health is Health.DOWN:
        f.no = "down" + (f" ({c.health_note})" if c.health_note else "")
    elif (band := c.band_for(parcel.region, parcel.weight_g)) is None:
        f.no = f"no weight band of it holds {parcel.weight_g:,} g to {parcel.region}"
    else:
        f.day, f.late = c.ship_day(now)
        count = used.get((c.code, f.day), 0)
        if c.daily_capacity is not None and count >= c.daily_capacity:
            f.no = f"full: {count}/{c.daily_capacity} parcels on {f.day.isoformat()}"
        else:
            f.cost = band.price(parcel.weight_g)
            f.days = c.sla_days(parcel.region) + (1 if f.late else 0)
    return f


def _row(f: _Fit, chosen: _Fit | None, promised: int, note: str | None, by_rule: str) -> Considered:
    code = f.carrier.code
    if f.no is not None:
        return Considered(code, False, f"{note} {f.no}" if note else f.no)
    if chosen is f:
        return Considered(code, True, f"chosen: {f.terms()}", f.cost, f.days)
    assert chosen is not None  # a carrier able to take it means one was chosen
    other = chosen.carrier.code
    if by_rule:
        lost = f"{other} is {by_rule}"
    elif not f.healthy and chosen.healthy:
        lost = "degraded: taken only when no healthy carrier can"
    elif chosen.days <= promised:  # the cheapest within the promise
        if f.days > promised:
            lost = f"over the promised {_days(promised)}"
        elif f.cost > chosen.cost:
            lost = f"{yuan(f.cost - chosen.cost)} dearer than {other}"
        elif f.days > chosen.days:
            lost = f"as cheap as {other} but slower"
        else:
            lost = f"as cheap and as fast as {other}, which comes first by code"
    elif f.days > chosen.days:  # none within the promise: the fastest
        lost = f"slower than {other}"
    elif f.cost > chosen.cost:
        lost = f"as fast as {other} but {yuan(f.cost - chosen.cost)} dearer"
    else:
        lost = f"as fast and as cheap as {other}, which comes first by code"
    text = f"{note} lost: {lost}" if note else f"lost: {lost}"
    return Considered(code, False, f"{text} ({f.terms()})", f.cost, f.days)


def _weight(parcel: Parcel) -> str:
    unknown = f" (weight unknown for {', '.join(parcel.unknown_weight)})" if parcel.unknown_weight else ""
    return f"{parcel.weight_g:,} g{unknown}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _by(ruleset: str) -> str:
    return f" ({ruleset})" if ruleset else ""
