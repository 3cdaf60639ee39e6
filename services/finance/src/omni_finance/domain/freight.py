"""Freight 运费成本: what a carrier charges for a parcel finance books once the parcel left (pure).

Fulfillment's carrier routing chooses the carrier of each ship task (one parcel) and announces every choice
as `fulfillment.carrier-chosen` (attempt 1 at allocation, one more each time a carrier refuses the parcel at
ship time). The latest attempt of a task is the one in force (`take`); an older one arriving late changes
nothing. When the task has left (`fulfillment.shipped`) with the chosen carrier, its cost is booked once per
task (`book`): a `freight` voucher, Dr 660102 销售费用-运费 / Cr 2202 应付账款-承运商, under the order's id.

- Either order of arrival books the same: the choice after the shipment books at the choice, the shipment
  after the choice books at the shipment. The voucher id is derived from the task (and the order it is
  under), never from the event, so the same facts again book nothing.
- Nothing for a task that never ships, is picked up (no carrier), has no carrier chosen, or costs 0.
- Shipped with another carrier than the one chosen: nothing (the cost is only known for the carrier routing
  chose); the caller logs both. A later choice of the carrier it shipped with books then.
- A merged order's parcel (合单) carries goods of several source orders, each booked as an order of its own:
  the cost is split over the sources the task carried goods of, in proportion to the goods' money booked by
  the shipment (largest remainder, ties to the lower order id; all of it on the first when that is 0).
- The carrier is the dimension of 2202: the chart is fixed, so the carrier is named in the voucher's summary
  and kept, with what was booked, in `carrier_costs` (the payables ledger per task: Σ 2202 = Σ booked_cents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from .accounts import AP_CARRIERS, FREIGHT_EXPENSE
from .projection import Source
from .vouchers import Line, Voucher, VoucherKind

_NS = uuid5(NAMESPACE_URL, "omni:finance:freight")


def freight_voucher_id(task_id: str, order_id: str) -> UUID:
    """Once per task and order it is booked under (a merged order's task: one per source order)."""
    return uuid5(_NS, f"task:{task_id}:freight:{order_id}")


@dataclass
class CarrierCost:
    """The choice in force for a task's parcel (one row of `carrier_costs`), and what was booked of it."""

    task_id: str
    order_id: str  # the event's order (a merged order's own id)
    node_code: str
    attempt: int
    carrier: str | None  # None: no carrier could take the parcel
    cost_cents: int | None
    currency: str
    source_event_id: UUID  # the carrier-chosen event of this attempt
    chosen_at: datetime
    booked_carrier: str | None = None
    booked_cents: int | None = None
    booked_at: datetime | None = None


@dataclass(frozen=True)
class Parcel:
    """What a shipment booked of a task on one order (a `shipments` row): the carrier it left with (None for
    a pickup) and the goods' money it recognised."""

    order_id: str
    carrier: str | None
    goods_cents: int


class Taken(StrEnum):
    NEW = "new"  # the task's first choice finance sees
    REPLACES = "replaces"  # a later attempt: in force now
    STALE = "stale"  # an attempt not later than the one in force (late, or again): nothing changes
    AFTER_BOOKING = "after_booking"  # a later attempt once the freight was booked: kept, the books unchanged


def take(prior: CarrierCost | None, new: CarrierCost) -> Taken:
    if prior is None:
        return Taken.NEW
    if new.attempt <= prior.attempt:
        return Taken.STALE
    return Taken.AFTER_BOOKING if prior.booked_at is not None else Taken.REPLACES


def replaced(prior: CarrierCost | None, new: CarrierCost) -> CarrierCost:
    """`new` in force, keeping what was booked before (a booking is never undone by a later choice)."""
    if prior is not None:
        new.booked_carrier, new.booked_cents, new.booked_at = (
            prior.booked_carrier, prior.booked_cents, prior.booked_at
        )  # fmt: skip
    return new


class Outcome(StrEnum):
    BOOKED = "booked"
    ALREADY = "already"  # booked before: once per task
    NOT_SHIPPED = "not_shipped"  # no shipment of the task yet (or no choice yet): it books when both are in
    NO_CARRIER = "no_carrier"  # no carrier could take the parcel (an operator chose at ship time)
    NO_COST = "no_cost"  # the chosen carrier costs 0
    PICKED_UP = "picked_up"  # the task left without a carrier
    OTHER_CARRIER = "other_carrier"  # it left with another carrier than the one chosen


def book(
    cost: CarrierCost | None, parcels: Sequence[Parcel], source: Source, now: datetime
) -> tuple[Outcome, list[Voucher]]:
    """The freight vouchers of a task, once it has both its choice and its shipment (see the module)."""
    if cost is not None and cost.booked_at is not None:
        return Outcome.ALREADY, []
    if cost is None or not parcels:
        return Outcome.NOT_SHIPPED, []
    if cost.carrier is None:
        return Outcome.NO_CARRIER, []
    shipped_with = {p.carrier for p in parcels}
    if shipped_with == {None}:
        return Outcome.PICKED_UP, []
    if shipped_with != {cost.carrier}:
        return Outcome.OTHER_CARRIER, []
    if not cost.cost_cents:
        return Outcome.NO_COST, []
    shares = split(cost.cost_cents, parcels)
    merged = len(shares) > 1 or shares[0][0] != cost.order_id
    vouchers = [
        _voucher(cost, order_id, cents, source, now, merged=merged) for order_id, cents in shares if cents
    ]
    cost.booked_carrier, cost.booked_cents, cost.booked_at = cost.carrier, cost.cost_cents, now
    return Outcome.BOOKED, vouchers


def split(cents: int, parcels: Sequence[Parcel]) -> list[tuple[str, int]]:
    """`cents` over the parcels' orders, by goods' money (largest remainder; ties to the lower order id)."""
    goods: dict[str, int] = {}
    for p in parcels:
        goods[p.order_id] = goods.get(p.order_id, 0) + p.goods_cents
    ids = sorted(goods)
    total = sum(goods.values())
    if total == 0:
        return [(ids[0], cents)] + [(i, 0) for i in ids[1:]]
    base = {i: cents * goods[i] // total for i in ids}
    rest = cents - sum(base.values())
    by_remainder = sorted(ids, key=lambda i: (-(cents * goods[i] % total), i))
    for i in by_remainder[:rest]:
        base[i] += 1
    return [(i, base[i]) for i in ids]


def _voucher(
    cost: CarrierCost, order_id: str, cents: int, source: Source, now: datetime, *, merged: bool
) -> Voucher:
    part = f" (its share of merged order {cost.order_id}'s parcel, by goods)" if merged else ""
    return Voucher(
        voucher_id=freight_voucher_id(cost.task_id, order_id),
        kind=VoucherKind.FREIGHT,
        order_id=order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=(
            f"Freight: task {cost.task_id} shipped from {cost.node_code} with carrier {cost.carrier} "
            f"(attempt {cost.attempt}), {_yuan(cents)} owed to {cost.carrier}{part}"
        ),
        currency=cost.currency,
        posted_at=now,
        lines=(Line.dr(FREIGHT_EXPENSE, cents), Line.cr(AP_CARRIERS, cents)),
    )


def _yuan(cents: int) -> str:
    return f"¥{cents // 100}.{cents % 100:02d}"
