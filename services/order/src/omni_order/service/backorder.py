"""Backorders: an order no node can fill today waits for stock, re-sources by itself, and escalates.

    sourcing  -> backorder  fulfillment.order-unfulfillable for lack of stock (`follow` calls
                            `waits_for_stock` and `record_backorders`); its place (`since`, the first time)
                            and what it lacks are kept, and an escalation timer is set in the same unit of
                            work. Any other reason (a configuration problem) still goes to exception.
    backorder -> accepted   a receipt or transfer-in of a short material (inventory.stock-changed) re-sources
                            the waiting backorders of that material, oldest first, as far as the node's new
                            available quantity goes (`resource_backorders`): order.accepted is emitted again
                            (as an operator's retry does), the timer is cancelled, and fulfillment sources the
                            order anew. Unfillable again, it comes back to backorder in its first place.
    backorder -> held       the timer fired and the policy says hold (reason code backorder_overdue);
    backorder -> cancelled  ... or cancel (order.cancelled, saying that a refund is due).

The policy comes from ONE place, `backorder_policy(uow, order_row)`: the order's strategy (its `backorder`
settings, per channel, shop and business model), else the service's settings (`app.build` through
`configure_defaults`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_chassis.paging import MAX_LIMIT
from omni_contracts import Envelope, utcnow
from omni_contracts.events.order import OrderCancelledV1

from ..domain.backorder import (
    BACKORDER,
    OVERDUE,
    RESTOCK_MOVEMENTS,
    BackorderPolicy,
    OnOverdue,
    Waiting,
    overdue_reason,
    pick_for_receipt,
    stock_shortfall,
)
from ..domain.rules.ruleset import StrategyDoc
from ..domain.status import Status, can_transition
from .journal import OrderUow, StatusJournal
from .records import accepted_event

log = get_logger(__name__)

OVERDUE_TIMER = "order.backorder-overdue"  # key: the order id
STOCK_CHANGED = "inventory.stock-changed"
STOCK_EVENTS = frozenset({STOCK_CHANGED})

_defaults = BackorderPolicy()


def configure_defaults(policy: BackorderPolicy) -> None:
    """The policy every backorder gets until the strategy decides it (called once, by app.build)."""
    global _defaults
    _defaults = policy


async def backorder_policy(uow: OrderUow, order_row: dict[str, Any]) -> BackorderPolicy:
    """The backorder policy of this order: its strategy's, in the version that reviewed it (`orders.strategy`
    is "<id> v<n>"; a later edit applies to new orders only), else the service's default."""
    sid, _, version = (order_row.get("strategy") or "").rpartition(" v")
    if sid and version.isdigit():
        row = await uow.repo.doc_version("strategy", sid, int(version))
        settings = StrategyDoc.model_validate(row["doc"]).backorder if row else None
        if settings is not None:
            return BackorderPolicy(settings.max_age_s, OnOverdue(settings.on_overdue))
    return _defaults


def waits_for_stock(current: Status, d: Any) -> bool:
    """An order-unfulfillable `d` for an order in `current`: does the order wait as a backorder?"""
    return can_transition(current, Status.BACKORDER) and bool(stock_shortfall(d.reason, d.shortfall))


def to_backorder(journal: StatusJournal, order: dict[str, Any], env: Envelope[Any]) -> None:
    """sourcing -> backorder (the rows and the timer follow in `record_backorders`, once per batch)."""
    journal.transition(order, Status.BACKORDER, reason_code=BACKORDER, reason=env.data.reason, cause=env)


async def record_backorders(uow: OrderUow, made: Sequence[Envelope[Any]], at: datetime) -> None:
    """Keep each new backorder's place and shortfall, and set its escalation timer (same unit of work)."""
    repo = uow.repo
    ids = [e.data.order_id for e in made]
    known = await repo.backorders_of(ids)
    rows_of = await repo.orders_by_id(ids)
    rows, shortfalls = {}, {}
    for env in made:
        oid, d = env.data.order_id, env.data
        policy = await backorder_policy(uow, rows_of[oid])
        before = known.get(oid)
        since = before["since"] if before else at
        # after an escalation an operator released, the age counts again from that escalation
        clock = max(since, before["escalated_at"]) if before and before["escalated_at"] else since
        rows[oid] = {
            "order_id": oid, "since": since, "last_at": at, "times": (before["times"] if before else 0) + 1,
            "due_at": policy.due_at(clock), "on_overdue": policy.on_overdue.value, "reason": d.reason,
            "resourced_at": before["resourced_at"] if before else None, "escalated_at": None,
            "escalation": None,
        }  # fmt: skip
        shortfalls[oid] = [
            {"order_id": oid, "material_code": s.material_code, "requested": s.requested,
             "available": s.available, "missing": s.missing}
            for s in stock_shortfall(d.reason, d.shortfall)
        ]  # fmt: skip
        uow.schedule_timer(OVERDUE_TIMER, oid, rows[oid]["due_at"], None)
        log.info("order backordered", order_id=oid, since=since.isoformat(), times=rows[oid]["times"])
    await repo.save_backorders(list(rows.values()), [s for ss in shortfalls.values() for s in ss])


async def resource_backorders(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> list[str]:
    """Receipts and transfers-in re-source the backorders waiting for their material (see the module
    docstring). Returns the orders re-sourced."""
    restocks = [
        e for e in envs
        if e.event_type == STOCK_CHANGED and e.data.movement in RESTOCK_MOVEMENTS and e.data.available > 0
    ]  # fmt: skip
    if not restocks:
        return []
    async with uow:
        repo = uow.repo
        chosen: dict[str, Envelope[Any]] = {}
        for env in restocks:
            d = env.data
            rows = await repo.waiting_for(d.material_code, min(d.available, MAX_LIMIT))
            waiting = [
                Waiting(
                    r["order_id"], r["missing"], r["pickup_node"] if r["delivery"] == "store_pickup" else None
                )
                for r in rows
                if r["order_id"] not in chosen
            ]
            for oid in pick_for_receipt(waiting, d.node_code, d.available):
                chosen[oid] = env
        if not chosen:
            return []
        locked = await repo.lock_orders(chosen)
        full = await repo.orders_by_id(chosen)
        lines = await repo.material_lines(chosen)
        journal = StatusJournal(uow, "inventory")
        done: dict[str, dict[str, Any]] = {}
        for oid, env in chosen.items():
            order = locked.get(oid)
            if order is None or order["status"] != Status.BACKORDER.value:
                continue  # it left backorder since it was read (cancelled, say)
            d = env.data
            journal.transition(
                order, Status.ACCEPTED,
                reason=f"re-sourced: {d.material_code} arrived at {d.node_code} ({d.movement}), "
                f"{d.available} available",
                cause=env,
            )  # fmt: skip
            uow.emit(accepted_event(full[oid], lines[oid]), key=oid, cause=env)
            uow.cancel_timer(OVERDUE_TIMER, oid)
            done[oid] = {"resourced_at": journal.at}
        await repo.update_backorders(done)
    if done:
        log.info("backorders re-sourced", orders=sorted(done), count=len(done))
    return sorted(done)


async def on_overdue(uow: OrderUow, key: str, payload: dict[str, Any] | None) -> None:
    """The escalation timer of backorder `key` fired: hold it for an operator, or cancel it (a refund is
    due), per its policy. An order no longer in backorder is left alone."""
    async with uow:
        repo = uow.repo
        order = await repo.get_order(key, for_update=True)
        if order is None or order["status"] != Status.BACKORDER.value:
            log.info("backorder timer fired for an order no longer waiting", order_id=key,
                     status=order["status"] if order else None)  # fmt: skip
            return
        since = (await repo.backorders_of([key]))[key]["since"]
        policy = await backorder_policy(uow, order)
        journal = StatusJournal(uow, "timer")
        reason = overdue_reason(policy, since, journal.at)
        if policy.on_overdue is OnOverdue.HOLD:
            journal.transition(order, Status.HELD, reason_code=OVERDUE, reason=reason)
            escalation = "held"
        else:
            journal.transition(order, Status.CANCELLED, reason_code=OVERDUE, reason=reason)
            journal.set(key, cancelled_at=journal.at)
            refund = f"a refund of {order['paid_cents']} fen ({order['currency']}) is due to the buyer"
            uow.emit(OrderCancelledV1(order_id=key, reason=f"{reason} ({refund})"), key=key)
            escalation = "cancelled"
        await repo.update_backorders({key: {"escalated_at": journal.at, "escalation": escalation}})
    log.info("backorder escalated", order_id=key, escalation=escalation)


async def list_backorders(
    uow: OrderUow, *, material_code: str | None, channel: str | None, shop_id: str | None, limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """The waiting backorders, oldest first, each with its shortfall, age (s) and escalation time."""
    async with uow:
        items, total = await uow.repo.list_backorders(
            material_code=material_code, channel=channel, shop_id=shop_id, limit=limit, offset=offset
        )
    now = utcnow()
    return [_with_age(x, now) for x in items], total


def _with_age(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {**row, "age_s": int((now - row["since"]).total_seconds())}
