"""Orders from the order service: accepted (source it, or source again what was given up on), a partial
refund before shipment (take its units off the tasks: intercepts.py), cancelled (stop it); and how
operations read an order's sourcing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.fulfillment import SourcingStartedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderCancelledV1

from ..domain.errors import NotFound
from ..domain.lines import OrderLine
from ..domain.order_sourcing import Ignored, NothingToShip, OrderSourcing, SourcingStatus
from ..domain.sourcing import Line, Point
from ..domain.tasks import Task
from . import task_hooks
from .common import Uow
from .intercepts import REFUND_APPROVED, on_cancelled, on_refunds
from .outcomes import Batch, apply
from .routing import order_routing

log = get_logger(__name__)


async def on_order_events(uow: Uow, envs: Sequence[Envelope[Any]]) -> None:
    """`order.accepted`, `order.refund-approved` and `order.cancelled`. Per order, acceptance comes before
    a refund and before cancellation, so the batch's acceptances are handled first, then its refunds, then
    its cancellations. An order accepted and cancelled in the same batch is never planned: no reservation
    is requested for it. The orders already here are locked at once, in order id order (the lock order of
    every use case on orders), then the tasks of those refunded or cancelled, once for the batch."""
    accepted = [e for e in envs if e.event_type == "order.accepted"]
    refunds = [e for e in envs if e.event_type == REFUND_APPROVED]
    cancelled = [e for e in envs if e.event_type == "order.cancelled"]
    async with uow:
        batch = Batch.open(uow)
        known = await uow.repo.load_sourcings({e.data.order_id for e in envs})
        if accepted:
            await _accept(batch, accepted, {e.data.order_id for e in cancelled}, known)
        tasks = await uow.repo.order_tasks({e.data.order_id for e in [*refunds, *cancelled]}, lock=True)
        if refunds:
            await on_refunds(batch, refunds, {**known, **batch.orders}, tasks)
        if cancelled:
            await _cancel(batch, cancelled, known, tasks)


async def _accept(
    batch: Batch, envs: list[Envelope[Any]], cancelled: set[str], known: dict[str, OrderSourcing]
) -> None:
    """Source each new order; source again an order given up on (unfulfillable) when its acceptance comes
    again, as an event not seen before (an operator's retry). Any other acceptance of an order already here
    (it is being sourced, allocated, done or cancelled) changes nothing.

    Only the lines that ship are sourced, each group (split by type) apart. An order with no line that ships
    is fulfilled at once: kept as fulfilled, no reservation, no task, `fulfillment.order-fulfilled` staged
    in this unit of work (and no sourcing-started: nothing is sourced)."""
    repo = batch.uow.repo
    firsts: dict[str, Envelope[Any]] = {}
    for env in envs:
        firsts.setdefault(env.data.order_id, env)
    todo: list[Envelope[Any]] = []
    for order_id, env in firsts.items():
        order = known.get(order_id)
        if order_id in cancelled and (order is None or order.restartable):
            continue  # cancelled in this very batch: _cancel records it
        if order is None or (order.restartable and order.accepted_event != str(env.event_id)):
            todo.append(env)
        else:
            log.info(
                "order already sourced; acceptance ignored", order_id=order_id, status=order.status.value
            )
    if not todo:
        return
    view = await repo.load_view(
        {line.material_code for e in todo for line in e.data.lines if line.ships},
        {e.data.pickup_node for e in todo if e.data.delivery == "store_pickup" and e.data.pickup_node},
    )
    await task_hooks.skip_paused(batch.uow, view)  # a store too busy takes no new orders for a while
    await task_hooks.remember_orders(batch.uow, todo)  # the channel, for SLAs and the pickup-code message
    now = utcnow()
    for env in todo:
        o: OrderAcceptedV1 = env.data
        shipping = [x for x in o.lines if x.ships]  # a virtual or service line is the OMS's to fulfil
        lines = [Line(x.material_code, x.qty) for x in shipping]
        how = {
            "destination": _destination(o),
            "store_pickup": o.delivery == "store_pickup",
            "pickup_node": o.pickup_node,
            "order_lines": [OrderLine(x.line_id, x.material_code, x.qty, x.group) for x in shipping],
            "accepted_event": str(env.event_id),
            "routing": order_routing(o),
        }
        order = known.get(o.order_id)
        if order is None:
            order, outcome = OrderSourcing.start(o.order_id, lines, view, **how)
        else:
            given_up = order.reason
            outcome = order.restart(lines, view, **how)
            log.info(
                "order accepted again: sourcing restarted",
                order_id=o.order_id,
                attempt=order.first_attempt,
                given_up_because=given_up,
            )
        batch.orders[o.order_id] = order
        if not isinstance(outcome, NothingToShip):
            # Nothing to ship: no sourcing starts, the order is fulfilled at once (order-fulfilled alone)
            started = SourcingStartedV1(order_id=o.order_id, attempt=order.first_attempt, started_at=now)
            batch.uow.emit(started, key=o.order_id, cause=env)
        apply(batch, order, outcome, env)


def _destination(o: OrderAcceptedV1) -> Point | None:
    """Where the goods go, when the order says so with coordinates that exist on Earth."""
    lat, lng = o.ship_to.lat, o.ship_to.lng
    if lat is None or lng is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        log.warning("destination coordinates out of range; sourcing without distance", order_id=o.order_id)
        return None
    return Point(lat, lng)


async def _cancel(
    batch: Batch, envs: list[Envelope[Any]], known: dict[str, OrderSourcing], open_tasks: list[Task]
) -> None:
    known = {**known, **batch.orders}  # as the batch's acceptances (and refunds) left them
    await on_cancelled(batch, sorted({e.data.order_id for e in envs}))
    now = utcnow()
    for env in envs:
        c: OrderCancelledV1 = env.data
        order = known.get(c.order_id)
        if order is None:
            # Never sourced here: remember it, so that a late acceptance does not start sourcing.
            order = OrderSourcing(
                c.order_id, (), status=SourcingStatus.CANCELLED, reason="the order was cancelled"
            )
            known[c.order_id] = batch.orders[c.order_id] = order
            log.info("order cancelled before it was sourced", order_id=c.order_id)
            continue
        outcome = order.cancel()
        if isinstance(outcome, Ignored):
            log.info("cancellation changes nothing", order_id=c.order_id, why=outcome.why)
            continue
        batch.orders[c.order_id] = order
        stopped = [t for t in open_tasks if t.order_id == c.order_id and t.cancel(now)]
        batch.changed_tasks.extend(stopped)
        log.info("order cancelled: sourcing stopped", order_id=c.order_id, tasks_cancelled=len(stopped))


async def get_sourcing(uow: Uow, order_id: str) -> OrderSourcing:
    async with uow:
        found = await uow.repo.load_sourcings([order_id], lock=False)
    if order_id not in found:
        raise NotFound(f"order {order_id} has not been sourced here")
    return found[order_id]
