"""B2B credit terms (账期) in finance's use cases (domain rules in domain/credit.py): the parts service.py's
order handler and service_merge.py call, in their unit of work, and the receivables query.

- An order's sale on account (order.accepted `payment: on_account`, or a merged order's sources when M is)
  opens its receivable (`opened`, from service_merge.book).
- Whatever credits the receivable account of such an order afterwards (a refund, a compensation, the
  cancellation's reversal) lowers what the buyer owes; the reversal also cancels the receivable
  (`credited`).
- order.payment-received books the payment (Dr 1002, Cr 112201), once per order, and clears the receivable
  (`apply_payment`). It travels on omni.order keyed by the order, after its order.accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope

from .domain import credit
from .domain.credit import PaymentOutcome, Receivable, ReceivableStatus
from .domain.posting import OrderState, Source
from .domain.vouchers import Voucher, VoucherKind
from .store import Repository, Writes

log = get_logger(__name__)

CREDIT_EVENTS = {"order.payment-received"}


def opened(w: Writes, order: OrderState, voucher: Voucher | None, env: Envelope[Any]) -> None:
    """A new booking of `order` (service_merge.book): its receivable when sold on account. A receivable of an
    earlier booking (before an unmerge) is replaced: the store drops it with the projection."""
    w.receivables.pop(order.order_id, None)
    w.changed_receivables.discard(order.order_id)
    w.new_receivables.discard(order.order_id)
    data = env.data
    found = (
        credit.open_receivable(  # booked at the acceptance's time: the same when the projection is replayed
            order, voucher, credit_account=data.credit_account, due_at=data.due_at, booked_at=env.occurred_at
        )
    )
    if found is None:
        return
    w.receivables[order.order_id] = found
    w.new_receivables.add(order.order_id)


def credited(w: Writes, voucher: Voucher, now: datetime) -> None:
    """A voucher of an order sold on account that credits its receivable (refund, compensation, reversal)."""
    r = w.receivables.get(voucher.order_id or "")
    if r is None:
        return
    r.credit(voucher)
    if voucher.kind is VoucherKind.REVERSAL and r.status is ReceivableStatus.OPEN:
        r.status = ReceivableStatus.CANCELLED
        r.cancelled_at = now
    w.changed_receivables.add(r.order_id)


def apply_payment(w: Writes, env: Envelope[Any], now: datetime) -> None:
    """order.payment-received: Dr 1002, Cr 112201, and the receivable cleared (once per order)."""
    data = env.data
    if data.order_id in w.merged:
        raise PermanentError(
            f"order.payment-received for merged order {data.order_id}: payments on account are the source "
            "orders' (finance books a merged order per source)"
        )
    order = w.orders[data.order_id]
    receivable = w.receivables.get(order.order_id)
    try:
        outcome, voucher = credit.pay(
            order,
            receivable,
            amount_cents=data.amount_cents,
            currency=data.currency,
            credit_account=data.credit_account,
            reference=data.reference,
            received_at=data.received_at,
            source=Source(env.event_id, env.event_type, data.order_id),
            now=now,
        )
    except credit.PaymentRejected as exc:
        raise PermanentError(str(exc)) from exc
    if outcome is PaymentOutcome.NOT_ON_ACCOUNT:
        log.warning(
            "payment received for an order not sold on account; nothing posted", order_id=order.order_id
        )
        return
    if outcome is PaymentOutcome.ALREADY_PAID:
        log.info("order on account already paid; nothing posted", order_id=order.order_id)
        return
    assert voucher is not None and receivable is not None
    w.vouchers.append(voucher)
    w.changed_receivables.add(order.order_id)
    if receivable.outstanding_cents or receivable.status is not ReceivableStatus.CLEARED:
        log.warning(
            "payment on account is not what was owed; booked as received",
            order_id=order.order_id,
            status=receivable.status.value,
            outstanding_cents=receivable.outstanding_cents,
        )
    log.debug("payment on account booked", order_id=order.order_id, amount_cents=data.amount_cents)


# -- queries (API) --
async def list_receivables(
    uow: UnitOfWork[Repository],
    *,
    credit_account: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime,
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        found, total = await uow.repo.list_receivables(
            credit_account=credit_account, status=status, limit=limit, offset=offset
        )
    return [_out(r, now) for r in found], total


def _out(r: Receivable, now: datetime) -> dict[str, Any]:
    return {
        "order_id": r.order_id,
        "credit_account": r.credit_account,
        "status": r.status.value,
        "currency": r.currency,
        "account_code": r.account_code,
        "amount_cents": r.amount_cents,
        "credited_cents": r.credited_cents,
        "paid_cents": r.paid_cents,
        "outstanding_cents": r.outstanding_cents,
        "due_at": r.due_at,
        "overdue": r.overdue(now),
        "sale_voucher_id": r.sale_voucher_id,
        "payment_voucher_id": r.payment_voucher_id,
        "payment_reference": r.payment_reference,
        "booked_at": r.booked_at,
        "cleared_at": r.cleared_at,
        "cancelled_at": r.cancelled_at,
    }
