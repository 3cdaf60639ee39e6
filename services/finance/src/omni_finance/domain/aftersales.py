"""Posting rules of after-sales 售后记账, over finance's projection of the order (projection.py).

- order.refund-approved: a `refund` voucher, once per case. Each refunded part is reversed where the sale
  and the shipments booked it: goods still deferred Dr 2205, goods recognised Dr 6001, freight still
  deferred Dr 2206, freight recognised Dr 6051; Cr the account the sale debited (1122 the platform's wallet,
  or 112201 for an order on account), the refund in full. Before anything shipped, that is the sale's own
  accounts (a red partial reversal); after, the revenue of what left. Finance splits no VAT out of an
  order's sale, so there is none to reverse.
- order.compensation-granted: a `compensation` voucher, once per case: Dr 660101 销售费用-售后赔付, Cr the
  account the sale debited (the platform paid the buyer out of our wallet).

Which units of a line a refund takes: a refund before shipment (its kind, or the event says nothing had
left) takes the units still to ship first, any other kind the units that left (not yet refunded) first.
The money follows the units (by count), money only (no units) follows the same order; what one side
cannot take goes to the other. Units refunded before they left are not expected to ship any more; the
money kept for such units when no unit of the line is left to ship (refunded for less than their value) is
recognised at once (Dr 2205, Cr 6001), and so is the freight kept when no unit of the order is left to ship:
nothing deferred is left waiting for goods that will not leave.

A refund line names the order line (`line_id`); a line finance does not know by that id (a merged order's
source: finance keeps the merged order's line ids) is matched by material, the first line of the order
in line order that can take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from omni_contracts.events.aftersales import OrderRefundApprovedV1

from .accounts import COMPENSATION_EXPENSE, DEFERRED_FREIGHT, DEFERRED_GOODS, FREIGHT_REVENUE, SALES_REVENUE
from .projection import OrderLineState, OrderState, OrderStatus, Source
from .vouchers import Line, Voucher, VoucherKind, nonzero

# Posting as data: where a refunded part of an order was booked, by (what, where it is now).
REFUND_ACCOUNTS: dict[tuple[str, str], str] = {
    ("goods", "deferred"): DEFERRED_GOODS,
    ("goods", "revenue"): SALES_REVENUE,
    ("freight", "deferred"): DEFERRED_FREIGHT,
    ("freight", "revenue"): FREIGHT_REVENUE,
}
COMPENSATION_ACCOUNT = COMPENSATION_EXPENSE

_NS = uuid5(NAMESPACE_URL, "omni:finance:after-sales")


class RefundRejected(ValueError):
    """A refund or compensation that cannot be booked against its order (retrying cannot help)."""


def case_voucher_id(case_id: str, kind: VoucherKind) -> UUID:
    """Derived from the after-sales case, not the event: a case published twice still posts one voucher."""
    return uuid5(_NS, f"case:{case_id}:{kind.value}")


@dataclass(frozen=True)
class RefundLine:
    line_id: str
    material_code: str
    qty: int
    refund_cents: int


@dataclass(frozen=True)
class Refund:
    """What order.refund-approved says was refunded."""

    case_id: str
    kind: str
    before_shipment: bool
    lines: tuple[RefundLine, ...]
    goods_cents: int
    freight_cents: int
    total_cents: int
    currency: str

    @classmethod
    def of(cls, d: OrderRefundApprovedV1) -> Refund:
        return cls(
            case_id=d.case_id,
            kind=d.kind,
            before_shipment=d.before_shipment,
            lines=tuple(RefundLine(x.line_id, x.material_code, x.qty, x.refund_cents) for x in d.lines),
            goods_cents=d.goods_refund_cents,
            freight_cents=d.freight_refund_cents,
            total_cents=d.refund_cents,
            currency=d.currency,
        )

    @property
    def unshipped_first(self) -> bool:
        return self.before_shipment or self.kind == "refund_before_shipment"


class RefundOutcome(StrEnum):
    BOOKED = "booked"
    ORDER_REVERSED = "order_reversed"  # the order was cancelled and its sale reversed: nothing to refund
    NOTHING = "nothing"  # a refund of 0


@dataclass
class _Part:
    """What a refund takes of one line."""

    line: OrderLineState
    cut: int  # units that had not left
    taken: int  # units that had left
    deferred: int  # cents from 2205
    revenue: int  # cents from 6001


def refund(
    order: OrderState, r: Refund, source: Source, now: datetime
) -> tuple[RefundOutcome, Voucher | None]:
    """Book the refund on the order (updates it) and return its voucher. RefundRejected (nothing changed)
    when it does not add up or takes more than is left on the order."""
    if order.status is OrderStatus.CANCELLED:
        return RefundOutcome.ORDER_REVERSED, None
    _check(order, r)
    if r.total_cents == 0:
        return RefundOutcome.NOTHING, None
    parts = _plan(order, r)
    freight_left = order.freight_left_cents
    if r.freight_cents > freight_left:
        raise RefundRejected(
            f"order {order.order_id}: case {r.case_id} refunds freight {r.freight_cents}, "
            f"only {freight_left} of it is left"
        )
    # apply (nothing above changed the order)
    kept_goods = 0
    for p in parts:
        x = p.line
        x.refunded_qty += p.cut + p.taken
        x.cancelled_qty += p.cut
        x.deferred_refund_cents += p.deferred
        x.revenue_refund_cents += p.revenue
        if p.cut and x.open_qty == 0 and x.deferred_cents > 0:  # kept for units that will not leave
            kept_goods += x.deferred_cents
            x.recognized_cents += x.deferred_cents
    freight_where = "revenue" if order.freight_recognized else "deferred"
    order.freight_refund_cents += r.freight_cents
    kept_freight = 0
    if not order.freight_recognized and not any(x.open_qty for x in order.lines) and order.freight_left_cents:
        kept_freight = order.freight_left_cents
        order.freight_recognized = True
    deferred_goods = sum(p.deferred for p in parts)
    revenue_goods = sum(p.revenue for p in parts)
    freight_deferred = r.freight_cents if freight_where == "deferred" else 0
    freight_revenue = r.freight_cents - freight_deferred
    lines = [
        *nonzero(
            [
                ("dr", REFUND_ACCOUNTS[("goods", "deferred")], deferred_goods + kept_goods),
                ("dr", REFUND_ACCOUNTS[("freight", "deferred")], freight_deferred + kept_freight),
            ]
        ),
        *_net(REFUND_ACCOUNTS[("goods", "revenue")], revenue_goods - kept_goods),
        *_net(REFUND_ACCOUNTS[("freight", "revenue")], freight_revenue - kept_freight),
        Line.cr(order.receivable_account, r.total_cents),
    ]
    kept = f", kept {kept_goods + kept_freight} recognised" if kept_goods or kept_freight else ""
    voucher = Voucher(
        voucher_id=case_voucher_id(r.case_id, VoucherKind.REFUND),
        kind=VoucherKind.REFUND,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Refund: {order.label} case {r.case_id} ({r.kind}) refunded {r.total_cents} "
        f"(goods {r.goods_cents}: deferred {deferred_goods}, revenue {revenue_goods}; "
        f"freight {r.freight_cents}){kept}",
        currency=order.currency,
        posted_at=now,
        lines=tuple(lines),
        reverses_voucher_id=order.sale_voucher_id,
    )
    return RefundOutcome.BOOKED, voucher


def _net(code: str, cents: int) -> list[Line]:
    """One line of `code` on the side its net amount falls (none when 0)."""
    if cents > 0:
        return [Line.dr(code, cents)]
    return [Line.cr(code, -cents)] if cents < 0 else []


def _check(order: OrderState, r: Refund) -> None:
    problems = []
    if r.currency != order.currency:
        problems.append(f"refunds in {r.currency}, the order is in {order.currency}")
    if sum(x.refund_cents for x in r.lines) != r.goods_cents:
        problems.append(f"its lines add up to {sum(x.refund_cents for x in r.lines)}, goods {r.goods_cents}")
    if r.goods_cents + r.freight_cents != r.total_cents:
        problems.append(f"goods {r.goods_cents} + freight {r.freight_cents} != refund {r.total_cents}")
    if any(x.qty < 0 or x.refund_cents < 0 for x in r.lines):
        problems.append("a line refunds a negative amount")
    if problems:
        raise RefundRejected(f"order {order.order_id}: case {r.case_id}: " + "; ".join(problems))


def _plan(order: OrderState, r: Refund) -> list[_Part]:
    """Per refund line, the order line it takes and what of it (RefundRejected when one does not fit)."""
    by_id = {x.line_id: x for x in order.lines}
    parts: list[_Part] = []
    for want in r.lines:
        if not want.qty and not want.refund_cents:
            continue
        line = by_id.get(want.line_id)
        candidates = (
            [line] if line is not None else [x for x in order.lines if x.material_code == want.material_code]
        )
        for c in candidates:
            part = _take(c, want, r.unshipped_first, parts)
            if part is not None:
                parts.append(part)
                break
        else:
            where = f"line {want.line_id}" if line is not None else f"a line of material {want.material_code}"
            raise RefundRejected(
                f"order {order.order_id}: case {r.case_id} refunds {want.qty} units and "
                f"{want.refund_cents} on {where}, more than is left of it"
            )
    return parts


def _take(x: OrderLineState, want: RefundLine, unshipped_first: bool, planned: list[_Part]) -> _Part | None:
    """What the refund line takes of order line `x` (after what this refund already planned on it), or None
    when it does not fit (other material, more units or money than are left)."""
    if x.material_code != want.material_code:
        return None
    before = [p for p in planned if p.line is x]
    open_qty = x.open_qty - sum(p.cut for p in before)
    left_qty = x.shipped_qty - x.refunded_shipped_qty - sum(p.taken for p in before)
    deferred = x.deferred_cents - sum(p.deferred for p in before)
    revenue = x.revenue_cents - sum(p.revenue for p in before)
    q, cents = want.qty, want.refund_cents
    if q > open_qty + left_qty or cents > deferred + revenue:
        return None
    cut = min(q, open_qty) if unshipped_first else q - min(q, left_qty)
    if q:
        from_deferred = cents * cut // q
    else:
        from_deferred = cents if unshipped_first else 0
    from_revenue = cents - from_deferred
    if from_revenue > revenue:  # what one side cannot take goes to the other
        from_deferred, from_revenue = cents - revenue, revenue
    if from_deferred > deferred:
        from_deferred, from_revenue = deferred, cents - deferred
    return _Part(x, cut, q - cut, from_deferred, from_revenue)


# -- order.compensation-granted --
def compensate(
    order: OrderState,
    case_id: str,
    amount_cents: int,
    currency: str,
    reason: str,
    source: Source,
    now: datetime,
) -> Voucher:
    """Money paid to the buyer (赔付): a sales expense against the account the order's sale debited."""
    if currency != order.currency:
        raise RefundRejected(
            f"order {order.order_id}: case {case_id} compensates in {currency}, "
            f"the order is in {order.currency}"
        )
    why = f" ({reason[:120]})" if reason else ""
    return Voucher(
        voucher_id=case_voucher_id(case_id, VoucherKind.COMPENSATION),
        kind=VoucherKind.COMPENSATION,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Compensation: {order.label} case {case_id} paid the buyer {amount_cents}{why}",
        currency=order.currency,
        posted_at=now,
        lines=(Line.dr(COMPENSATION_ACCOUNT, amount_cents), Line.cr(order.receivable_account, amount_cents)),
    )
