"""Merged orders (合单) in finance's use cases: the parts service.py's handlers call, in their unit of work
(domain rules in domain/merge.py).

- M's `order.accepted` (with `sources`) books a sale per source, each as an order of its own, and keeps the
  mapping (merged_orders / merged_sources / merged_lines); M gets no projection and no voucher of its own.
  It releases what waits on `order:<M>` (M's shipments that came first).
- M's shipment is split over the sources and booked on each (one revenue voucher and one shipments row per
  source). Events of M are parked and ordered on `order:<M>`, like any order's.
- M's cancellation reverses each source's sale still booked via M.
- An acceptance of an order finance already projected goes through `book` (merge.rebooking): after an
  unmerge, each source's own order.accepted books it afresh, so each source nets one live sale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope

from .domain import merge, posting
from .domain.merge import Rebooking
from .domain.posting import CancelOutcome, OrderState, Shipment, Shipped, Source
from .domain.vouchers import InvalidVoucher, Voucher
from .service_credit import credited, opened
from .store import NewMerged, NewOrder, Repository, Writes, order_key

log = get_logger(__name__)


def source_of(env: Envelope[Any]) -> Source:
    return Source(env.event_id, env.event_type, getattr(env.data, "order_id", None))


def book(w: Writes, order: OrderState, voucher: Voucher | None, env: Envelope[Any], now: datetime) -> bool:
    """Put a new booking of `order` (its own acceptance, or as a source of a merged order) in `w`, unless it
    is already booked that way or goods left under its other booking (merge.rebooking). True when booked."""
    prior = w.orders.get(order.order_id)
    decision = merge.rebooking(prior, order.merged_into)
    if decision in (Rebooking.ALREADY, Rebooking.REFUSE):
        log.warning(
            "order accepted again; already booked, nothing posted"
            if decision is Rebooking.ALREADY
            else "order accepted again after goods left under its earlier booking; nothing posted",
            order_id=order.order_id,
            merged_into=order.merged_into,
            booked_via=prior.merged_into if prior else None,
        )
        return False
    if decision is Rebooking.SUPERSEDE and prior is not None:
        how = f"via merged order {order.merged_into}" if order.merged_into else "on its own"
        _, reversal = posting.cancel(prior, source_of(env), now, f"accepted again {how}")
        if reversal is not None:
            w.vouchers.append(reversal)
            credited(w, reversal, now)
        log.info("sale via merged order superseded", order_id=order.order_id, merged_into=prior.merged_into)
    entry = NewOrder(order, env.event_id, env.occurred_at)
    (w.new if prior is None or order.order_id in w.new else w.renewed)[order.order_id] = entry
    w.changed.discard(order.order_id)
    w.orders[order.order_id] = order
    if voucher is not None:
        w.vouchers.append(voucher)
    opened(w, order, voucher, env)  # its receivable, when sold on account
    return True


def accept_merged(uow: UnitOfWork[Repository], w: Writes, env: Envelope[Any], now: datetime) -> None:
    """M's order.accepted: a sale per source (as if each were an order of its own) and M's mapping."""
    data = env.data
    if data.order_id in w.merged or data.order_id in w.orders:
        log.warning("merged order accepted again; already booked, nothing posted", order_id=data.order_id)
        return
    try:
        merged, booked = merge.accept_merged(data, source_of(env), now)
    except (posting.InconsistentOrder, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    w.merged[merged.order_id] = merged
    w.new_merged.append(NewMerged(merged, env.event_id, env.occurred_at))
    n = sum(book(w, order, voucher, env, now) for order, voucher in booked)
    # M's events parked waiting for it may now be applied, and the sources' own (after-sales, payments)
    uow.release(order_key(merged.order_id), *(order_key(s) for s in merged.source_ids))
    log.debug("merged order booked per source", order_id=merged.order_id, sources=len(booked), booked=n)


def cancel_merged(w: Writes, env: Envelope[Any], now: datetime) -> None:
    """M's order.cancelled (an unmerge, or a cancel): reverse each source's sale still booked via M."""
    merged = w.merged[env.data.order_id]
    for s in merged.source_ids:
        order = w.orders.get(s)
        if order is None or order.merged_into != merged.order_id:
            log.info("source no longer booked via the merged order", order_id=s, merged_into=merged.order_id)
            continue
        outcome, voucher = posting.cancel(order, source_of(env), now, env.data.reason)
        w.changed.add(s)
        if voucher is not None:
            w.vouchers.append(voucher)
            credited(w, voucher, now)
        if outcome is CancelOutcome.AFTER_SHIPMENT:
            log.warning(
                "merged order cancelled after goods left; nothing reversed (refunds are booked separately)",
                order_id=s,
                merged_into=merged.order_id,
            )
    log.debug("merged order cancellation booked", order_id=merged.order_id)


def ship_merged(w: Writes, env: Envelope[Any], shipped: list[Shipped], now: datetime, what: str) -> None:
    """M's shipment (or pickup): revenue per source, from the shipped lines mapped to their sources."""
    merged = w.merged[env.data.order_id]
    try:
        parts = merge.split_shipment(merged, w.orders, shipped)
        results = [(s, posting.ship(w.orders[s], lines, source_of(env), now, what)) for s, lines in parts]
    except (posting.ShipmentRejected, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    for s, result in results:
        record_shipment(w, env, s, result, merged_order_id=merged.order_id)


def record_shipment(
    w: Writes, env: Envelope[Any], order_id: str, result: Shipment, *, merged_order_id: str | None = None
) -> None:
    """What one shipment booked on one order: its lines, its shipments row, its voucher."""
    data = env.data
    picked_up = env.event_type == "fulfillment.picked-up"
    w.changed.add(order_id)
    w.dirty_lines.update((order_id, line_no) for line_no, _, _ in result.allocations)
    w.shipments.append(
        {
            "task_id": data.task_id,
            "order_id": order_id,
            "merged_order_id": merged_order_id,
            "source_event_id": env.event_id,
            "source_event_type": env.event_type,
            "node_code": data.node_code,
            "goods_cents": result.goods_cents,
            "freight_cents": result.freight_cents,
            "voucher_id": result.voucher.voucher_id if result.voucher else None,
            "left_at": data.picked_up_at if picked_up else data.shipped_at,
            "carrier": None if picked_up else data.carrier,
        }
    )
    if result.voucher is not None:
        w.vouchers.append(result.voucher)
    log.debug(
        "revenue recognised",
        order_id=order_id,
        merged_into=merged_order_id,
        task_id=data.task_id,
        goods_cents=result.goods_cents,
        freight_cents=result.freight_cents,
    )
