"""Use cases: the one place that orchestrates domain, store and outbox.

Both consumers handle a whole batch in one transaction: load the projections the batch touches (locked,
in order_id order, so the order and shipment consumers never deadlock), apply the events in order in
memory (pure domain), then write everything back with a handful of set-based statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_chassis.outbox import build, stage
from omni_contracts import Envelope, utcnow
from omni_contracts.events.finance import JournalLine, VoucherPostedV1

from . import store
from .domain import posting
from .domain.accounts import CHART, Account, AccountType, Side
from .domain.posting import CancelOutcome, OrderState, Source
from .domain.vouchers import InvalidVoucher, Voucher

log = get_logger(__name__)

ORDER_EVENTS = {"order.accepted", "order.cancelled"}
SHIPMENT_EVENTS = {"fulfillment.shipped", "fulfillment.picked-up"}


class OrderNotProjected(Exception):
    """A shipment for an order whose order.accepted has not been handled yet (topics are not ordered with
    each other). An ordinary exception: the chassis retries with backoff, and dead-letters it in the end
    (replay it with `omni dlq replay finance-shipments` once the order is known)."""


@dataclass
class _Batch:
    """What one batch changes, written back at the end."""

    orders: dict[str, OrderState]
    new: dict[str, store.NewOrder] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    dirty_lines: set[tuple[str, int]] = field(default_factory=set)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    posted: list[tuple[Voucher, Envelope[Any]]] = field(default_factory=list)

    async def save(self, session: AsyncSession) -> None:
        now = utcnow()
        await store.insert_orders(session, self.new.values(), now)
        await store.update_orders(
            session, [self.orders[i] for i in sorted(self.changed - set(self.new))], self.dirty_lines, now
        )
        await store.insert_vouchers(session, [v for v, _ in self.posted])
        await store.insert_shipments(session, self.shipments)
        await stage(
            session,
            [(build(voucher_posted(v), key=v.order_id or v.kind.value, cause=e), e) for v, e in self.posted],
        )


def voucher_posted(v: Voucher) -> VoucherPostedV1:
    return VoucherPostedV1(
        voucher_id=str(v.voucher_id),
        order_id=v.order_id,
        source_event_id=str(v.source_event_id),
        source_event_type=v.source_event_type,
        summary=v.summary,
        lines=[
            JournalLine(
                account_code=x.account_code,
                account_name=CHART[x.account_code].name,
                debit_cents=x.debit_cents,
                credit_cents=x.credit_cents,
            )
            for x in v.lines
        ],
        currency=v.currency,
        posted_at=v.posted_at,
    )


def _source(env: Envelope[Any]) -> Source:
    return Source(env.event_id, env.event_type)


# -- order.accepted / order.cancelled --
async def handle_order_events(session: AsyncSession, envs: list[Envelope[Any]]) -> None:
    """Book a batch of order events (in their order): sale vouchers, and reversals of cancelled sales."""
    envs = [e for e in envs if e.event_type in ORDER_EVENTS]
    if not envs:
        return
    batch = _Batch(await store.load_orders(session, {e.data.order_id for e in envs}, with_sale_lines=True))
    now = utcnow()
    for env in envs:
        data = env.data
        if env.event_type == "order.accepted":
            if data.order_id in batch.orders:
                log.warning("order accepted again; already booked, nothing posted", order_id=data.order_id)
                continue
            try:
                order, voucher = posting.accept(data, _source(env), now)
            except (posting.InconsistentOrder, InvalidVoucher) as exc:
                raise PermanentError(str(exc)) from exc
            batch.orders[order.order_id] = order
            batch.new[order.order_id] = store.NewOrder(order, env.event_id, env.occurred_at)
            if voucher is not None:
                batch.posted.append((voucher, env))
            log.debug("sale booked", order_id=order.order_id, paid_cents=order.paid_cents)
        else:
            order = batch.orders.get(data.order_id)
            if order is None:
                log.info(
                    "order cancelled before finance booked it; nothing to reverse", order_id=data.order_id
                )
                continue
            outcome, voucher = posting.cancel(order, _source(env), now, data.reason)
            batch.changed.add(order.order_id)
            if voucher is not None:
                batch.posted.append((voucher, env))
            if outcome is CancelOutcome.AFTER_SHIPMENT:
                log.warning(
                    "order cancelled after goods left; nothing reversed (refunds are booked separately)",
                    order_id=order.order_id,
                )
            else:
                log.debug("order cancellation booked", order_id=order.order_id, outcome=outcome.value)
    await batch.save(session)
    log.info("order events booked", events=len(envs), vouchers=len(batch.posted))


# -- fulfillment.shipped / fulfillment.picked-up --
async def handle_shipments(session: AsyncSession, envs: list[Envelope[Any]]) -> None:
    """Recognise revenue for goods that left. Unknown orders raise (retried); impossible shipments are
    dead-lettered at once (PermanentError)."""
    envs = [e for e in envs if e.event_type in SHIPMENT_EVENTS]
    if not envs:
        return
    batch = _Batch(await store.load_orders(session, {e.data.order_id for e in envs}))
    missing = sorted({e.data.order_id for e in envs} - set(batch.orders))
    if missing:
        raise OrderNotProjected(f"no order.accepted handled yet for order(s) {', '.join(missing[:20])}")
    seen = await store.known_tasks(session, [e.data.task_id for e in envs])
    now = utcnow()
    for env in envs:
        data = env.data
        if data.task_id in seen:
            log.warning(
                "task already booked as shipped; nothing posted", order_id=data.order_id, task_id=data.task_id
            )
            continue
        seen.add(data.task_id)
        picked_up = env.event_type == "fulfillment.picked-up"
        order = batch.orders[data.order_id]
        try:
            result = posting.ship(
                order,
                [(x.material_code, x.qty) for x in data.lines],
                _source(env),
                now,
                what="picked up" if picked_up else "shipped",
            )
        except (posting.ShipmentRejected, InvalidVoucher) as exc:
            raise PermanentError(str(exc)) from exc
        batch.changed.add(order.order_id)
        batch.dirty_lines.update((order.order_id, line_no) for line_no, _, _ in result.allocations)
        batch.shipments.append(
            {
                "task_id": data.task_id,
                "order_id": order.order_id,
                "source_event_id": env.event_id,
                "source_event_type": env.event_type,
                "node_code": data.node_code,
                "goods_cents": result.goods_cents,
                "freight_cents": result.freight_cents,
                "voucher_id": result.voucher.voucher_id if result.voucher else None,
                "left_at": data.picked_up_at if picked_up else data.shipped_at,
            }
        )
        if result.voucher is not None:
            batch.posted.append((result.voucher, env))
        log.debug(
            "revenue recognised",
            order_id=order.order_id,
            task_id=data.task_id,
            goods_cents=result.goods_cents,
            freight_cents=result.freight_cents,
        )
    await batch.save(session)
    log.info("shipments booked", events=len(envs), vouchers=len(batch.posted))


# -- queries (API) --
async def trial_balance(session: AsyncSession, *, currency: str, order_id: str | None) -> dict[str, Any]:
    rows = await store.account_totals(session, currency=currency, order_id=order_id)
    items = [
        {
            "account_code": code,
            "account_name": name,
            "type": type_,
            "normal_side": side,
            "debit_cents": dr,
            "credit_cents": cr,
            "balance_cents": Account(code, name, AccountType(type_), Side(side)).balance(dr, cr),
        }
        for code, name, type_, side, dr, cr in rows
    ]
    total_dr = sum(x["debit_cents"] for x in items)
    total_cr = sum(x["credit_cents"] for x in items)
    return {
        "currency": currency,
        "order_id": order_id,
        "accounts": items,
        "total_debit_cents": total_dr,
        "total_credit_cents": total_cr,
        "balanced": total_dr == total_cr,
    }
