"""Finance's projection of an order 订单投影: what it booked of it, line by line (built from order.accepted,
moved by shipments, refunds and the cancellation). Pure data and the arithmetic on it; the rules that post
vouchers are in posting.py (sale, revenue, reversal) and aftersales.py (refund, compensation).

A line's money is always in one of three places, and they add up to what was paid for it:
- deferred (2205, 合同负债): `deferred_cents` = amount − recognised − refunded while deferred;
- recognised (6001): `revenue_cents` = recognised − refunded after it was recognised;
- refunded: `deferred_refund_cents` + `revenue_refund_cents`.

Its units: `shipped_qty` left, `cancelled_qty` were refunded before they left (they are not expected to
leave), the rest (`open_qty`) are still to ship. Units refunded before they left that leave anyway are
booked at 0: their money was refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from .accounts import RECEIVABLE_ACCOUNTS
from .vouchers import Line


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
    refunded_qty: int = 0  # units refunded (left or not)
    cancelled_qty: int = 0  # units refunded before they left: not expected to leave
    deferred_refund_cents: int = 0  # goods money refunded while deferred (Dr 2205)
    revenue_refund_cents: int = 0  # goods money refunded after it was recognised (Dr 6001)

    @property
    def open_qty(self) -> int:
        """Units still to ship."""
        return self.qty - self.cancelled_qty - self.shipped_qty

    @property
    def shippable_qty(self) -> int:
        """Units that may still leave: the open ones, and those refunded before they left (at 0)."""
        return self.qty - self.shipped_qty

    @property
    def deferred_cents(self) -> int:
        return self.amount_cents - self.recognized_cents - self.deferred_refund_cents

    @property
    def revenue_cents(self) -> int:
        return self.recognized_cents - self.revenue_refund_cents

    @property
    def refunded_shipped_qty(self) -> int:
        """Units that left and were refunded since (a return, a refund after shipment)."""
        return self.refunded_qty - self.cancelled_qty

    @property
    def refunded(self) -> bool:
        return bool(self.refunded_qty or self.deferred_refund_cents or self.revenue_refund_cents)


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
    payment: str = "paid"  # order.accepted `payment`: paid | on_account (RECEIVABLE_ACCOUNTS)
    freight_refund_cents: int = 0  # freight refunded (from 2206 before it was recognised, else 6051)

    @property
    def label(self) -> str:
        return self.describe()

    @property
    def receivable_account(self) -> str:
        """What the sale debited: the platform's wallet (1122), or the buyer's account for credit terms."""
        return RECEIVABLE_ACCOUNTS[self.payment]

    @property
    def freight_left_cents(self) -> int:
        """Freight paid and not refunded: deferred until the first shipment, then revenue."""
        return self.post_fee_cents - self.freight_refund_cents

    @property
    def refunded(self) -> bool:
        return bool(self.freight_refund_cents) or any(x.refunded for x in self.lines)

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
    Splitting what is left (amount left over the units left, from 0) gives the same cents as splitting the
    whole line from the units already taken, which is how shipments use it once a line was refunded.
    """
    if qty <= 0 or start < 0 or count < 0 or start + count > qty:
        raise ValueError(f"units [{start}, {start + count}) are outside a line of {qty}")
    base, extra = divmod(amount_cents, qty)
    return count * base + max(0, min(start + count, extra) - start)
