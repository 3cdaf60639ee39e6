"""After-sales in finance's use cases (domain rules in domain/aftersales.py): the parts service.py's order
handler calls, in its unit of work, for order.refund-approved and order.compensation-granted.

Both travel on omni.order keyed by the order (so after its order.accepted, and in order with its
cancellation). They are the platform order's: a merged order's source refunds and compensates under its own
order id, which finance books like an order of its own (via its merged order), so the refund reverses the
source's own sale. An event about a merged order itself is dead-lettered (it cannot be one).

Idempotent per case: the voucher's id comes from the case id (`case_voucher_id`), so a case announced twice
(a redelivery, or a new event) books once; the handler checks the vouchers already posted first, and the
voucher's primary key backs it up.

A refund of an order whose sale was reversed by its cancellation books nothing (the OMS cancels an order
refunded in full before shipment instead of announcing the refund; if both arrive, the reversal is the
booking). A refund approved before the cancellation is booked, and the cancellation then reverses only what
is left of the sale.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_contracts import Envelope

from .domain import aftersales
from .domain.aftersales import Refund, RefundOutcome, RefundRejected, case_voucher_id
from .domain.posting import Source
from .domain.vouchers import InvalidVoucher, VoucherKind
from .service_credit import credited
from .store import Writes

log = get_logger(__name__)

REFUND = "order.refund-approved"
COMPENSATION = "order.compensation-granted"
AFTERSALES_EVENTS = {REFUND, COMPENSATION}
_KIND = {REFUND: VoucherKind.REFUND, COMPENSATION: VoucherKind.COMPENSATION}


def case_vouchers(envs: Iterable[Envelope[Any]]) -> set[UUID]:
    """The voucher ids the batch's after-sales events would post (to look up which are posted already)."""
    return {case_voucher_id(e.data.case_id, _KIND[e.event_type]) for e in envs if e.event_type in _KIND}


def _not_merged(w: Writes, env: Envelope[Any]) -> None:
    if env.data.order_id in w.merged:
        raise PermanentError(
            f"{env.event_type} for merged order {env.data.order_id} (case {env.data.case_id}): after-sales "
            "are the source orders' (finance books a merged order per source)"
        )


def _source(env: Envelope[Any]) -> Source:
    return Source(env.event_id, env.event_type, env.data.order_id)


def apply_refund(w: Writes, env: Envelope[Any], now: datetime, posted: set[UUID]) -> None:
    """order.refund-approved: the case's refund voucher, once per case."""
    data = env.data
    _not_merged(w, env)
    vid = case_voucher_id(data.case_id, VoucherKind.REFUND)
    if vid in posted:
        log.info(
            "refund of the case already booked; nothing posted", order_id=data.order_id, case_id=data.case_id
        )
        return
    order = w.orders[data.order_id]
    try:
        outcome, voucher = aftersales.refund(order, Refund.of(data), _source(env), now)
    except (RefundRejected, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    if outcome is RefundOutcome.ORDER_REVERSED:
        log.warning(
            "refund approved for an order whose sale its cancellation already reversed; nothing posted",
            order_id=order.order_id,
            case_id=data.case_id,
            refund_cents=data.refund_cents,
        )
        return
    if voucher is None:
        log.info("refund of 0; nothing posted", order_id=order.order_id, case_id=data.case_id)
        return
    posted.add(vid)
    w.changed.add(order.order_id)
    w.dirty_lines.update((order.order_id, x.line_no) for x in order.lines)
    w.vouchers.append(voucher)
    credited(w, voucher, now)
    log.debug("refund booked", order_id=order.order_id, case_id=data.case_id, refund_cents=data.refund_cents)


def apply_compensation(w: Writes, env: Envelope[Any], now: datetime, posted: set[UUID]) -> None:
    """order.compensation-granted: the case's compensation voucher (a sales expense), once per case."""
    data = env.data
    _not_merged(w, env)
    vid = case_voucher_id(data.case_id, VoucherKind.COMPENSATION)
    if vid in posted:
        log.info("compensation already booked; nothing posted", order_id=data.order_id, case_id=data.case_id)
        return
    order = w.orders[data.order_id]
    try:
        voucher = aftersales.compensate(
            order, data.case_id, data.amount_cents, data.currency, data.reason, _source(env), now
        )
    except (RefundRejected, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    posted.add(vid)
    w.vouchers.append(voucher)
    credited(w, voucher, now)
    log.debug("compensation booked", order_id=order.order_id, case_id=data.case_id)
