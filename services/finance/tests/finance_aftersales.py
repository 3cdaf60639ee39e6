"""After-sales and credit-terms payloads the unit and the integration tests both book (order.refund-approved,
order.compensation-granted, an order.accepted on account, order.payment-received)."""

from __future__ import annotations

from datetime import UTC, datetime

from omni_contracts.events.aftersales import OrderCompensationGrantedV1, OrderRefundApprovedV1, RefundedLine
from omni_contracts.events.order import OrderAcceptedV1, OrderPaymentReceivedV1

AT = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 28, 0, 0, tzinfo=UTC)


def refund_approved(
    order_id: str,
    case_id: str,
    lines: list[tuple[str, str, int, int]],
    *,
    freight: int = 0,
    kind: str = "refund_after_shipment",
    before_shipment: bool = False,
) -> OrderRefundApprovedV1:
    """A refund of (line id, material, units, cents) per line, and `freight`."""
    goods = sum(c for *_, c in lines)
    return OrderRefundApprovedV1(
        case_id=case_id, order_id=order_id, channel="tmall", channel_order_id=f"T-{order_id}", kind=kind,
        before_shipment=before_shipment,
        lines=[RefundedLine(line_id=li, material_code=m, qty=q, refund_cents=c) for li, m, q, c in lines],
        goods_refund_cents=goods, freight_refund_cents=freight, refund_cents=goods + freight, approved_at=AT,
    )  # fmt: skip


def compensation_granted(order_id: str, case_id: str, amount_cents: int) -> OrderCompensationGrantedV1:
    return OrderCompensationGrantedV1(
        case_id=case_id, order_id=order_id, channel="tmall", channel_order_id=f"T-{order_id}",
        amount_cents=amount_cents, reason="parcel late", granted_at=AT,
    )  # fmt: skip


def on_account(order: OrderAcceptedV1, credit_account: str, due_at: datetime | None = DUE) -> OrderAcceptedV1:
    """The same order taken on account (B2B credit terms)."""
    return order.model_copy(
        update={"payment": "on_account", "due_at": due_at, "credit_account": credit_account}
    )


def payment_received(
    order_id: str, credit_account: str, amount_cents: int, reference: str = "BANK-SLIP-1"
) -> OrderPaymentReceivedV1:
    return OrderPaymentReceivedV1(
        order_id=order_id, channel="tmall", channel_order_id=f"T-{order_id}", credit_account=credit_account,
        amount_cents=amount_cents, reference=reference, source="operator", received_at=AT,
    )  # fmt: skip
