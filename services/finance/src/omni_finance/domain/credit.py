"""B2B credit terms 账期: the receivable of an order taken on account, and the payment that clears it.

- The sale of an order with `payment: on_account` debits 112201 应收账款-账期客户 instead of the platform's
  wallet 1122 (accounts.RECEIVABLE_ACCOUNTS; posting.sale). The buyer is a dimension of that account, not
  an account of the chart: each such sale opens a `Receivable` (the receivables ledger, 应收明细) on the
  order's `credit_account`, for what the sale debited, due at `due_at`.
- What is credited to the account since (a refund, a compensation, the cancellation's reversal) lowers what
  the buyer still owes (`credited_cents`); a cancellation before shipment cancels the receivable.
- order.payment-received: a `payment` voucher, once per order: Dr 1002 银行存款, Cr 112201 the amount paid.
  The receivable is cleared. A payment that is not what was owed is booked as received (the difference
  stays visible as `outstanding_cents`, the caller logs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from .accounts import BANK
from .projection import OrderState, Source
from .vouchers import Line, Voucher, VoucherKind

PAYMENT_ACCOUNT = BANK  # where a B2B buyer's payment lands
_NS = uuid5(NAMESPACE_URL, "omni:finance:credit")


class ReceivableStatus(StrEnum):
    OPEN = "open"  # owed
    CLEARED = "cleared"  # paid
    CANCELLED = "cancelled"  # the order was cancelled before shipment: its sale reversed


class PaymentRejected(ValueError):
    """A payment that cannot be booked against its order (retrying cannot help)."""


class PaymentOutcome(StrEnum):
    CLEARED = "cleared"
    NOT_ON_ACCOUNT = "not_on_account"  # the order has no receivable (paid through the platform)
    ALREADY_PAID = "already_paid"


@dataclass
class Receivable:
    order_id: str
    credit_account: str
    currency: str
    account_code: str
    amount_cents: int  # what the sale debited
    due_at: datetime | None
    sale_voucher_id: UUID
    booked_at: datetime
    credited_cents: int = 0  # refunds, compensation, the cancellation's reversal
    paid_cents: int = 0
    status: ReceivableStatus = ReceivableStatus.OPEN
    payment_voucher_id: UUID | None = None
    payment_reference: str | None = None
    cleared_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def outstanding_cents(self) -> int:
        """What the buyer still owes (negative: paid more than owed)."""
        return self.amount_cents - self.credited_cents - self.paid_cents

    def overdue(self, now: datetime) -> bool:
        return self.status is ReceivableStatus.OPEN and self.due_at is not None and self.due_at < now

    def credit(self, voucher: Voucher) -> None:
        """A voucher of the order crediting the receivable account lowers what is owed."""
        mine = [x for x in voucher.lines if x.account_code == self.account_code]
        self.credited_cents += sum(x.credit_cents for x in mine)


def open_receivable(
    order: OrderState,
    voucher: Voucher | None,
    *,
    credit_account: str | None,
    due_at: datetime | None,
    booked_at: datetime,
) -> Receivable | None:
    """The receivable an order's sale on account opens (None for a paid order, or one of 0)."""
    if order.payment != "on_account" or voucher is None:
        return None
    debit = sum(x.debit_cents for x in voucher.lines if x.account_code == order.receivable_account)
    return Receivable(
        order_id=order.order_id,
        credit_account=credit_account or "unassigned",
        currency=order.currency,
        account_code=order.receivable_account,
        amount_cents=debit,
        due_at=due_at,
        sale_voucher_id=voucher.voucher_id,
        booked_at=booked_at,
    )


def payment_voucher_id(order_id: str) -> UUID:
    """Derived from the order: an order is paid once, however often its payment is announced."""
    return uuid5(_NS, f"payment:{order_id}")


def pay(
    order: OrderState,
    receivable: Receivable | None,
    *,
    amount_cents: int,
    currency: str,
    credit_account: str,
    reference: str,
    received_at: datetime,
    source: Source,
    now: datetime,
) -> tuple[PaymentOutcome, Voucher | None]:
    """Clear the order's receivable: Dr 1002, Cr 112201 the amount received (updates `receivable`)."""
    if receivable is None:
        return PaymentOutcome.NOT_ON_ACCOUNT, None
    if receivable.payment_voucher_id is not None:
        return PaymentOutcome.ALREADY_PAID, None
    if currency != receivable.currency:
        raise PaymentRejected(
            f"order {order.order_id}: paid in {currency}, its receivable is in {receivable.currency}"
        )
    if credit_account != receivable.credit_account:
        raise PaymentRejected(
            f"order {order.order_id}: paid on credit account {credit_account}, its receivable is on "
            f"{receivable.credit_account}"
        )
    ref = f" ref {reference[:80]}" if reference else ""
    voucher = Voucher(
        voucher_id=payment_voucher_id(order.order_id),
        kind=VoucherKind.PAYMENT,
        order_id=order.order_id,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"Payment: {order.label} on account {receivable.credit_account} paid {amount_cents}{ref}",
        currency=receivable.currency,
        posted_at=now,
        lines=(Line.dr(PAYMENT_ACCOUNT, amount_cents), Line.cr(receivable.account_code, amount_cents)),
    )
    receivable.paid_cents += amount_cents
    receivable.payment_voucher_id = voucher.voucher_id
    receivable.payment_reference = reference or None
    receivable.cleared_at = received_at
    if receivable.status is ReceivableStatus.OPEN:
        receivable.status = ReceivableStatus.CLEARED
    return PaymentOutcome.CLEARED, voucher
