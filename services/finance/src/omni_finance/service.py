"""Use cases: the one place that orchestrates domain, repository and outbox. Each runs in the chassis unit of
work (`async with uow:`): `uow.repo` is store.Repository, vouchers are emitted with `uow.emit`, and what a
batch changed is written back at commit (`uow.defer`) in a handful of set-based statements.

Both consumers hand a whole batch to one use case: load the orders the batch touches (locked, in order_id
order, so the order and shipment consumers never deadlock), apply the events in order in memory (pure
domain), then write everything back.

**Parking.** `omni.order` and `omni.fulfillment` are not ordered with each other, so a shipment can come
before finance has booked its order. It is parked on `order:<id>` (`uow.park`) and skipped in its batch; the
order.accepted use case releases that key (`uow.release`) and the chassis applies the shipment again, through
the same handler. Events of one order are applied in the order finance received them: while an order has
events parked, its later events (shipments, and a cancellation) are parked behind them, and whoever applies
one of that order's events releases those behind it.

**Merged orders** (合单, service_merge.py): a merged order M is booked per source order, never on its own; its
events are parked and ordered on `order:<M>` like any order's.

**After-sales and credit terms** (service_aftersales.py, service_credit.py): order.refund-approved,
order.compensation-granted and order.payment-received are order events like the cancellation, handled in
the same batch and order. One of an order finance has not booked yet is parked on `order:<id>` (a merged
order's source is booked with M's acceptance, which travels under M's key), released when it is booked.

**Freight** (service_freight.py): fulfillment.carrier-chosen joins the shipments' batch; a shipped parcel's
chosen cost is booked once per task, whichever of its choice and its shipment comes first.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope, utcnow
from omni_contracts.events.finance import JournalLine, VoucherPostedV1

from .domain import posting
from .domain.accounts import CHART, Account, AccountType, Side
from .domain.posting import CancelOutcome, Shipped
from .domain.vouchers import InvalidVoucher, Voucher
from .service_aftersales import AFTERSALES_EVENTS, apply_compensation, apply_refund, case_vouchers
from .service_credit import CREDIT_EVENTS, apply_payment, credited
from .service_freight import CARRIER_EVENTS, apply_choice, shipped
from .service_merge import accept_merged, book, cancel_merged, record_shipment, ship_merged, source_of
from .store import Repository, Writes, order_key

log = get_logger(__name__)

ORDER_EVENTS = {"order.accepted", "order.cancelled", *AFTERSALES_EVENTS, *CREDIT_EVENTS}
SHIPMENT_EVENTS = {"fulfillment.shipped", "fulfillment.picked-up"}

Uow = UnitOfWork[Repository]


class OrderNotKnown(Exception):
    """Finance has not booked this order (no order.accepted handled): 404 at the API."""


class VoucherNotFound(Exception):
    """No voucher with this id: 404 at the API."""


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


class _Queue:
    """Per-order order of application across parking (see the module docstring).

    `parked` maps the batch's orders that have events parked to when the oldest of them was parked. An event
    the parking loop is applying again knows when it was first parked (`uow.first_parked`, set by the
    chassis): only events parked before it are ahead of it. A live event has everything parked ahead of it.
    """

    def __init__(self, uow: Uow, parked: dict[str, datetime]) -> None:
        self.uow = uow
        self.parked = parked
        self.held: set[str] = set()  # orders with an event parked by this batch
        self._first_parked: dict[UUID, datetime] = getattr(uow, "first_parked", None) or {}

    def hold(self, env: Envelope[Any], *, known: bool) -> bool:
        """Park `env` when it cannot be applied yet; True when it was parked (skip it in the batch)."""
        order_id = env.data.order_id
        if not known:
            reason = "finance has not booked the order's order.accepted yet"
        elif order_id in self.held or self._behind(env, order_id):
            reason = "behind earlier events of the order that are parked"
        else:
            return False
        self.uow.park(env, order_key(order_id), reason)
        self.held.add(order_id)
        log.info("event parked", order_id=order_id, event_type=env.event_type, reason=reason)
        return True

    def _behind(self, env: Envelope[Any], order_id: str) -> bool:
        oldest = self.parked.get(order_id)
        if oldest is None:
            return False
        mine = self._first_parked.get(env.event_id)
        return mine is None or oldest < mine

    def applied(self, order_id: str) -> None:
        """One of the order's events was applied: the events parked behind it may follow."""
        if order_id in self.parked:
            self.uow.release(order_key(order_id))


def _save(uow: Uow, w: Writes, envs: dict[UUID, Envelope[Any]], now: datetime) -> None:
    """Write back at commit, and emit finance.voucher-posted for every voucher (after the rows, in order)."""
    if (
        w.new or w.renewed or w.new_merged or w.changed or w.vouchers or w.shipments
        or w.new_receivables or w.changed_receivables or w.changed_costs
    ):  # fmt: skip
        uow.defer(partial(uow.repo.save, w, now))
    for v in w.vouchers:
        uow.emit(voucher_posted(v), key=v.order_id or v.kind.value, cause=envs[v.source_event_id])


# -- order.accepted / order.cancelled / after-sales / payments on account --
async def handle_order_events(uow: Uow, envs: list[Envelope[Any]]) -> None:
    """Book a batch of order events (in their order): sale vouchers, reversals of cancelled sales, refunds,
    compensations and payments of orders on account.

    A cancellation of an order finance never booked is not parked: order.cancelled travels on the same topic
    and partition as its order.accepted, so the order was never accepted (cancelled at intake or from
    exception) and there is nothing to reverse. An after-sales event or a payment of an order finance does
    not know is parked until the order is booked (a merged order's source is booked under M's key).
    """
    envs = [e for e in envs if e.event_type in ORDER_EVENTS]
    if not envs:
        return
    async with uow:
        ids = {e.data.order_id for e in envs}
        merged = await uow.repo.load_merged(ids)
        sources = {s.order_id for e in envs if e.event_type == "order.accepted" for s in e.data.sources}
        sources |= {s for m in merged.values() for s in m.source_ids}
        w = Writes(await uow.repo.load_orders(ids | sources, with_sale_lines=True), merged=merged)
        w.receivables = await uow.repo.load_receivables(ids | sources)
        posted = await uow.repo.posted_vouchers(case_vouchers(envs))
        queue = _Queue(uow, await uow.repo.parked_orders(ids))
        now = utcnow()
        for env in envs:
            order_id = env.data.order_id
            known = order_id in w.merged or order_id in w.orders
            if env.event_type == "order.accepted":
                _accept(uow, w, env, now)
            elif env.event_type == "order.cancelled" and not known:
                log.info("order cancelled before finance booked it; nothing to reverse", order_id=order_id)
            elif not queue.hold(env, known=known):
                _apply(w, env, now, posted)
                queue.applied(order_id)
        _save(uow, w, {e.event_id: e for e in envs}, now)
    log.info("order events booked", events=len(envs), vouchers=len(w.vouchers))


def _accept(uow: Uow, w: Writes, env: Envelope[Any], now: datetime) -> None:
    data = env.data
    if data.sources:
        accept_merged(uow, w, env, now)
        return
    if data.order_id in w.merged:
        log.warning("merged order accepted again; already booked, nothing posted", order_id=data.order_id)
        return
    try:
        order, voucher = posting.accept(data, source_of(env), now)
    except (posting.InconsistentOrder, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    # already booked: nothing (as ever), unless its earlier booking was via a merged order (an unmerge)
    if not book(w, order, voucher, env, now):
        return
    uow.release(order_key(order.order_id))  # events parked waiting for this order may now be applied
    log.debug("sale booked", order_id=order.order_id, paid_cents=order.paid_cents)
    _fulfil_virtual(w, env, order, now)


VIRTUAL = "virtual"  # the shipments row of the lines fulfilled without shipping: task id <order>:virtual


def _fulfil_virtual(w: Writes, env: Envelope[Any], order: Any, now: datetime) -> None:
    """Lines that do not ship (`ships: false`: a coupon, a service) are fulfilled by the OMS when it accepts
    the order (it decided so; order.accepted carries it): their revenue is recognised with the sale."""
    virtual = [Shipped(x.material_code, x.qty, x.line_id) for x in env.data.lines if not x.ships]
    if not virtual:
        return
    try:
        what = "fulfilled without shipping"
        result = posting.ship(order, virtual, source_of(env), now, what=what, virtual=True)
    except (posting.ShipmentRejected, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    w.changed.add(order.order_id)
    w.dirty_lines.update((order.order_id, line_no) for line_no, _, _ in result.allocations)
    w.shipments.append({
        "task_id": f"{order.order_id}:{VIRTUAL}", "order_id": order.order_id, "merged_order_id": None,
        "source_event_id": env.event_id, "source_event_type": env.event_type, "node_code": "-",
        "goods_cents": result.goods_cents, "freight_cents": result.freight_cents,
        "voucher_id": result.voucher.voucher_id if result.voucher else None, "left_at": now, "carrier": None,
    })  # fmt: skip
    if result.voucher is not None:
        w.vouchers.append(result.voucher)


def _apply(w: Writes, env: Envelope[Any], now: datetime, posted: set[UUID]) -> None:
    """An order event other than its acceptance, of an order finance booked."""
    if env.event_type == "order.refund-approved":
        apply_refund(w, env, now, posted)
    elif env.event_type == "order.compensation-granted":
        apply_compensation(w, env, now, posted)
    elif env.event_type == "order.payment-received":
        apply_payment(w, env, now)
    elif env.data.order_id in w.merged:
        cancel_merged(w, env, now)
    else:
        _cancel(w, env, now)


def _cancel(w: Writes, env: Envelope[Any], now: datetime) -> None:
    order = w.orders[env.data.order_id]
    outcome, voucher = posting.cancel(order, source_of(env), now, env.data.reason)
    w.changed.add(order.order_id)
    if voucher is not None:
        w.vouchers.append(voucher)
        credited(w, voucher, now)
    if outcome is CancelOutcome.AFTER_SHIPMENT:
        log.warning(
            "order cancelled after goods left; nothing reversed (refunds are booked separately)",
            order_id=order.order_id,
        )
    else:
        log.debug("order cancellation booked", order_id=order.order_id, outcome=outcome.value)


# -- fulfillment.shipped / fulfillment.picked-up / fulfillment.carrier-chosen --
async def handle_shipments(uow: Uow, envs: list[Envelope[Any]]) -> None:
    """Recognise revenue for goods that left, and book each shipped parcel's freight from its carrier choice
    (service_freight.py). A shipment of an order finance does not know yet is parked (module docstring); an
    impossible shipment is dead-lettered at once (PermanentError). A choice is never parked."""
    envs = [e for e in envs if e.event_type in SHIPMENT_EVENTS or e.event_type in CARRIER_EVENTS]
    if not envs:
        return
    async with uow:
        ids = {e.data.order_id for e in envs if e.event_type in SHIPMENT_EVENTS}
        merged = await uow.repo.load_merged(ids)
        sources = {s for m in merged.values() for s in m.source_ids}
        w = Writes(await uow.repo.load_orders(ids | sources), merged=merged)
        queue = _Queue(uow, await uow.repo.parked_orders(ids))
        # after the orders: the tasks' locks. A task with shipments rows was booked as shipped.
        w.costs, w.parcels = await uow.repo.load_freight([e.data.task_id for e in envs])
        seen = set(w.parcels)
        now = utcnow()
        for env in envs:
            data = env.data
            if env.event_type in CARRIER_EVENTS:
                apply_choice(w, env, now)
                continue
            if queue.hold(env, known=_ships_known(w, data.order_id)):
                continue
            if data.task_id in seen:
                log.warning(
                    "task already booked as shipped; nothing posted",
                    order_id=data.order_id,
                    task_id=data.task_id,
                )
            else:
                seen.add(data.task_id)
                _ship(w, env, now)
                shipped(w, env, now)
            queue.applied(data.order_id)
        _save(uow, w, {e.event_id: e for e in envs}, now)
    log.info("shipments booked", events=len(envs), vouchers=len(w.vouchers), parked=len(queue.held))


def _ships_known(w: Writes, order_id: str) -> bool:
    """A merged order, or an order booked on its own. A source still booked via its merged order is not
    (yet) an order of its own: its own shipment waits for its own order.accepted (after an unmerge)."""
    if order_id in w.merged:
        return True
    order = w.orders.get(order_id)
    return order is not None and order.merged_into is None


def _shipped_lines(data: Any) -> list[Shipped]:
    """The event's lines; `line_id` is None for a v1 event (posting.ship then matches by material)."""
    return [Shipped(x.material_code, x.qty, getattr(x, "line_id", None)) for x in data.lines]


def _ship(w: Writes, env: Envelope[Any], now: datetime) -> None:
    data = env.data
    what = "picked up" if env.event_type == "fulfillment.picked-up" else "shipped"
    if data.order_id in w.merged:
        ship_merged(w, env, _shipped_lines(data), now, what)
        return
    order = w.orders[data.order_id]
    try:
        result = posting.ship(order, _shipped_lines(data), source_of(env), now, what=what)
    except (posting.ShipmentRejected, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    record_shipment(w, env, order.order_id, result)


# -- queries (API) --
async def list_vouchers(
    uow: Uow, *, order_id: str | None = None, kind: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_vouchers(order_id=order_id, kind=kind, limit=limit, offset=offset)


async def order_vouchers(
    uow: Uow, order_id: str, *, kind: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        if not await uow.repo.order_exists(order_id):
            raise OrderNotKnown(f"order {order_id} is not known to finance (no order.accepted booked)")
        return await uow.repo.list_vouchers(order_id=order_id, kind=kind, limit=limit, offset=offset)


async def get_voucher(uow: Uow, voucher_id: UUID) -> dict[str, Any]:
    async with uow:
        found = await uow.repo.get_voucher(voucher_id)
    if found is None:
        raise VoucherNotFound(f"voucher {voucher_id} not found")
    return found


async def list_accounts(uow: Uow, *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_accounts(limit=limit, offset=offset)


async def trial_balance(uow: Uow, *, currency: str = "CNY", order_id: str | None = None) -> dict[str, Any]:
    async with uow:
        rows = await uow.repo.account_totals(currency=currency, order_id=order_id)
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
