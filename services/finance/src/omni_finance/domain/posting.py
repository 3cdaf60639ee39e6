"""Posting rules 记账规则: which voucher each business event becomes, over finance's own projection of orders.

- order.accepted: Dr 1122 paid; Cr 2205 goods paid; Cr 2206 freight (zero lines omitted).
- goods leave (shipped / picked up): Dr 2205, Cr 6001 for the allocated amounts of the lines that left
  (the order lines the event names, or for a v1 event without line ids, matched by material),
  a partial quantity prorated per unit (largest remainder, ties to the earlier unit, so the shipments of a
  line add up to its amount exactly and the last one takes what is left); with the order's first shipment
  also Dr 2206, Cr 6051 for the freight.
- order.cancelled before any shipment: a reversal voucher mirroring the sale voucher (each line on the
  other side: the CHECK on voucher lines keeps amounts non-negative, so "red" means opposite sides here).
  After a shipment: nothing is posted (refunds are a later concern); the caller logs a warning.

A merged order's sources (合单, domain/merge.py) are projected and booked with the same rules, each as an
order of its own (`OrderState.merged_into` names the merged order): `project` and `sale` are what `accept`
does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from omni_contracts.events.order import OrderAcceptedV1, OrderLine

from .accounts import AR_PLATFORM, DEFERRED_FREIGHT, DEFERRED_GOODS, FREIGHT_REVENUE, SALES_REVENUE
from .vouchers import Line, Voucher, VoucherKind, nonzero


class InconsistentOrder(ValueError):
    """An accepted order whose amounts do not add up: it cannot be booked (retrying cannot help)."""


class ShipmentRejected(ValueError):
    """A shipment that cannot be booked against its order (cancelled order, more than was ordered)."""


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"  # sale booked, nothing shipped yet
    SHIPPING = "shipping"  # at least one shipment booked
    CANCELLED = "cancelled"  # cancelled before any shipment; the sale was reversed


@dataclass(frozen=True)
class Source:
    """The event a voucher is posted for (and the order it is about, when it is an order's event)."""

    event_id: UUID
    event_type: str
    order_id: str | None = None

    def part(self, order_id: str) -> str | None:
        """What tells apart the vouchers of one kind this event posts (vouchers.voucher_id_for): None for an
        order's own event, the source order's id for a merged order's event (one voucher per source)."""
        return order_id if self.order_id not in (None, order_id) else None


@dataclass
class OrderLineState:
    line_no: int
    line_id: str
    material_code: str
    qty: int
    amount_cents: int
    shipped_qty: int = 0
    recognized_cents: int = 0

    @property
    def open_qty(self) -> int:
        return self.qty - self.shipped_qty


@dataclass
class OrderState:
    """What finance knows of one order (its projection, built from order.accepted)."""

    order_id: str
    channel: str
    channel_order_id: str
    currency: str
    goods_paid_cents: int
    post_fee_cents: int
    paid_cents: int
    lines: list[OrderLineState]
    status: OrderStatus = OrderStatus.ACCEPTED
    freight_recognized: bool = False
    sale_voucher_id: UUID | None = None
    sale_lines: tuple[Line, ...] = ()
    cancelled_at: datetime | None = None
    merged_into: str | None = None  # booked as a source of this merged order (合单), not on its own

    @property
    def label(self) -> str:
        return self.describe()

    def describe(self, shop_id: str | None = None) -> str:
        """`tmall order T1`; a merged order's source: `tmall order T1 of shop S2 (via merged order M)`."""
        shop = f" of shop {shop_id}" if shop_id else ""
        via = f" (via merged order {self.merged_into})" if self.merged_into else ""
        return f"{self.channel} order {self.channel_order_id}{shop}{via}"


def units_amount(amount_cents: int, qty: int, start: int, count: int) -> int:
    """The amount of units [start, start + count) of a line of `qty` units worth `amount_cents`.

    The line's amount is split over its units by largest remainder (all remainders are equal, so the
    leftover cents go to the earliest units): unit i is worth amount // qty, plus one cent when
    i < amount % qty. Any split of the units into shipments therefore adds up to the amount exactly.
    """
    if qty <= 0 or start < 0 or count < 0 or start + count > qty:
        raise ValueError(f"units [{start}, {start + count}) are outside a line of {qty}")
    base, extra = divmod(amount_cents, qty)
    return count * base + max(0, min(start + count, extra) - start)


# -- order.accepted --
def accept(data: OrderAcceptedV1, source: Source, now: datetime) -> tuple[OrderState, Voucher | None]:
    """The order's projection and its sale voucher (none when nothing was paid)."""
    order = project(
        order_id=data.order_id,
        channel=data.channel,
        channel_order_id=data.channel_order_id,
        currency=data.currency,
        goods_paid_cents=data.goods_paid_cents,
        post_fee_cents=data.post_fee_cents,
        paid_cents=data.paid_cents,
        lines=data.lines,
    )
    return order, sale(order, source, now)


def project(
    *,
    order_id: str,
    channel: str,
    channel_order_id: str,
    currency: str,
    goods_paid_cents: int,
    post_fee_cents: int,
    paid_cents: int,
    lines: Iterable[OrderLine],
    merged_into: str | None = None,
) -> OrderState:
    """An accepted order's projection, once its amounts are seen to add up (InconsistentOrder if not)."""
    lines = list(lines)
    line_sum = sum(x.amount_cents for x in lines)
    if line_sum != goods_paid_cents:
        raise InconsistentOrder(
            f"order {order_id}: line amounts add up to {line_sum}, goods paid is {goods_paid_cents}"
        )
    if goods_paid_cents + post_fee_cents != paid_cents:
        raise InconsistentOrder(
            f"order {order_id}: goods paid {goods_paid_cents} + freight {post_fee_cents} != paid {paid_cents}"
        )
    ids = [x.line_id for x in lines]
    if len(set(ids)) != len(ids):
        raise InconsistentOrder(f"order {order_id}: line ids repeat")
    return OrderState(
        order_id=order_id,
        channel=channel,
        channel_order_id=channel_order_id,
        currency=currency,
        goods_paid_cents=goods_paid_cents,
        post_fee_cents=post_fee_cents,
        paid_cents=paid_cents,
        lines=[
            OrderLineState(i, x.line_id, x.material_code, x.qty, x.amount_cents)
            for i, x in enumerate(lines, 1)
        ],
        merged_into=merged_into,
    )


def sale(order: OrderState, source: Source, now: datetime, *, shop_id: str | None = None) -> Voucher | None:
    """The order's sale voucher (none when nothing was paid); sets `order.sale_voucher_id` and sale lines."""
    if order.paid_cents == 0:
        return None
    lines = nonzero(
        [
            ("dr", AR_PLATFORM, order.paid_cents),
            ("cr", DEFERRED_GOODS, order.goods_paid_cents),
            ("cr", DEFERRED_FREIGHT, order.post_fee_cents),
        ]
    )
    voucher = Voucher.post(
        VoucherKind.SALE,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Sale: {order.describe(shop_id)} paid {order.paid_cents} "
        f"(goods {order.goods_paid_cents}, freight {order.post_fee_cents})",
        currency=order.currency,
        posted_at=now,
        lines=lines,
        part=source.part(order.order_id),
    )
    order.sale_voucher_id = voucher.voucher_id
    order.sale_lines = voucher.lines
    return voucher


# -- goods left --
@dataclass(frozen=True)
class Shipment:
    """What one shipment booked: per order line (line_no, units, cents), goods and freight recognised."""

    allocations: tuple[tuple[int, int, int], ...]
    goods_cents: int
    freight_cents: int
    voucher: Voucher | None = field(default=None)


@dataclass(frozen=True)
class Shipped:
    """Units that left: `qty` of `material_code`, for the order line `line_id` when the event names it."""

    material_code: str
    qty: int
    line_id: str | None = None


def ship(
    order: OrderState,
    shipped: Sequence[Shipped],
    source: Source,
    now: datetime,
    what: str = "shipped",
) -> Shipment:
    """Book goods that left against the order: updates `order`, returns the voucher.

    A shipped line that names its order line (`line_id`, fulfillment.shipped / picked-up v2) is booked on
    that line: its material must be the line's and its quantity within what is still open there. A line
    without one (a v1 event) falls back to matching by material: the quantity is taken from the order's open
    lines of that material in line order. Nothing is changed when the shipment is rejected.
    """
    if order.status is OrderStatus.CANCELLED:
        raise ShipmentRejected(
            f"order {order.order_id} was cancelled and its sale reversed; goods that left it cannot become "
            "revenue (a refund or re-sale must be booked by hand)"
        )
    for x in shipped:
        if x.qty <= 0:
            raise ShipmentRejected(f"order {order.order_id}: material {x.material_code} shipped {x.qty}")
    planned: dict[int, int] = {}  # line_no -> units this shipment takes
    plan: list[tuple[OrderLineState, int]] = []

    def take(line: OrderLineState, n: int) -> None:
        planned[line.line_no] = planned.get(line.line_no, 0) + n
        plan.append((line, n))

    def still_open(line: OrderLineState) -> int:
        return line.open_qty - planned.get(line.line_no, 0)

    by_id = {x.line_id: x for x in order.lines}
    for x in shipped:
        if x.line_id is None:
            continue
        line = by_id.get(x.line_id)
        if line is None:
            raise ShipmentRejected(f"order {order.order_id} has no line {x.line_id}")
        if line.material_code != x.material_code:
            raise ShipmentRejected(
                f"order {order.order_id}: line {x.line_id} is material {line.material_code}, "
                f"not {x.material_code}"
            )
        if x.qty > still_open(line):
            raise ShipmentRejected(
                f"order {order.order_id}: {x.qty} shipped on line {x.line_id} but only {still_open(line)} "
                f"of its {line.qty} are still open"
            )
        take(line, x.qty)
    wanted: dict[str, int] = {}
    for x in shipped:
        if x.line_id is None:
            wanted[x.material_code] = wanted.get(x.material_code, 0) + x.qty
    for material, qty in wanted.items():
        left = qty
        for line in order.lines:
            if line.material_code == material and still_open(line) > 0 and left > 0:
                n = min(left, still_open(line))
                take(line, n)
                left -= n
        if left:
            ordered = sum(x.qty for x in order.lines if x.material_code == material)
            if not ordered:
                raise ShipmentRejected(f"order {order.order_id} has no line of material {material}")
            raise ShipmentRejected(
                f"order {order.order_id}: {qty} of material {material} shipped but only {qty - left} "
                f"of the {ordered} ordered are still open"
            )
    allocations = []
    for line, units in plan:
        if line.shipped_qty + units == line.qty:
            cents = line.amount_cents - line.recognized_cents  # the last shipment takes what is left
        else:
            cents = units_amount(line.amount_cents, line.qty, line.shipped_qty, units)
        line.shipped_qty += units
        line.recognized_cents += cents
        allocations.append((line.line_no, units, cents))
    goods = sum(c for _, _, c in allocations)
    freight = 0
    if not order.freight_recognized:
        freight = order.post_fee_cents
        order.freight_recognized = True
    order.status = OrderStatus.SHIPPING
    voucher = None
    if goods or freight:
        voucher = Voucher.post(
            VoucherKind.REVENUE,
            order_id=order.order_id,
            source_event_id=source.event_id,
            source_event_type=source.event_type,
            summary=f"Revenue: {order.label} {what}, goods {goods}"
            + (f", freight {freight}" if freight else ""),
            currency=order.currency,
            posted_at=now,
            lines=nonzero(
                [
                    ("dr", DEFERRED_GOODS, goods),
                    ("dr", DEFERRED_FREIGHT, freight),
                    ("cr", SALES_REVENUE, goods),
                    ("cr", FREIGHT_REVENUE, freight),
                ]
            ),
            part=source.part(order.order_id),
        )
    return Shipment(tuple(allocations), goods, freight, voucher)


# -- order.cancelled --
class CancelOutcome(StrEnum):
    REVERSED = "reversed"  # the sale voucher was reversed
    NOTHING_PAID = "nothing_paid"  # cancelled before shipment, but no sale voucher to reverse
    AFTER_SHIPMENT = "after_shipment"  # goods already left: nothing posted (refunds come later)
    ALREADY_CANCELLED = "already_cancelled"


def cancel(
    order: OrderState, source: Source, now: datetime, reason: str = ""
) -> tuple[CancelOutcome, Voucher | None]:
    """Cancel the order: reverse its sale voucher when nothing has shipped yet."""
    if order.status is OrderStatus.CANCELLED:
        return CancelOutcome.ALREADY_CANCELLED, None
    if order.cancelled_at is None:
        order.cancelled_at = now
    if order.status is OrderStatus.SHIPPING:
        return CancelOutcome.AFTER_SHIPMENT, None
    order.status = OrderStatus.CANCELLED
    if order.sale_voucher_id is None:
        return CancelOutcome.NOTHING_PAID, None
    why = f" ({reason[:120]})" if reason else ""
    voucher = Voucher.post(
        VoucherKind.REVERSAL,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Reversal: {order.label} cancelled before shipment{why}",
        currency=order.currency,
        posted_at=now,
        lines=[x.reversed() for x in order.sale_lines],
        reverses_voucher_id=order.sale_voucher_id,
        part=source.part(order.order_id),
    )
    return CancelOutcome.REVERSED, voucher
