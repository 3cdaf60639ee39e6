"""Inventory's replies to reservation requests: reserved (allocate when the plan is complete), refused
(re-plan the refused lines elsewhere, or give up after the attempts allowed). A partial refund before
shipment that waited for the order's allocation is applied to its new tasks (intercepts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.inventory import ReservationRefusedV1, ReservedV1

from ..domain.order_sourcing import Ignored, SourcingStatus
from ..domain.sourcing import Shortfall
from ..domain.stock_view import StockView
from . import task_hooks
from .common import DEFAULT_MAX_ATTEMPTS, Uow
from .intercepts import on_allocated
from .outcomes import Batch, apply

log = get_logger(__name__)


async def on_reservation_replies(
    uow: Uow, envs: Sequence[Envelope[Any]], *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> None:
    """`inventory.reserved` and `inventory.reservation-refused`, in the order they came."""
    async with uow:
        batch = Batch.open(uow)
        orders = await uow.repo.load_sourcings({e.data.order_id for e in envs})
        refused = [e.data for e in envs if e.event_type == "inventory.reservation-refused"]
        view = StockView()
        if refused:
            replan = [
                (o, r)
                for d in refused
                if (o := orders.get(d.order_id)) is not None
                for r in o.reservations
                if r.reservation_id == d.reservation_id
            ]
            view = await uow.repo.load_view(
                {line.material_code for _, r in replan for line in r.lines},
                {o.pickup_node for o, _ in replan if o.pickup_node},
            )
            await task_hooks.skip_paused(uow, view)
        sourcing = [o for o, s in orders.items() if s.status is SourcingStatus.SOURCING]
        await task_hooks.load_live(uow, batch, sourcing)  # re-sourced after allocation: the tasks it has
        for env in envs:
            d: ReservedV1 | ReservationRefusedV1 = env.data
            order = orders.get(d.order_id)
            if order is None:
                log.info(
                    "reply for an order not sourced here ignored",
                    order_id=d.order_id,
                    reservation_id=d.reservation_id,
                )
                continue
            if isinstance(d, ReservedV1):
                outcome = order.reserved(d.reservation_id)
            else:
                shortfall = [Shortfall(s.material_code, s.requested, s.available) for s in d.shortfall]
                outcome = order.refused(d.reservation_id, shortfall, d.reason, view, max_attempts)
                if not isinstance(outcome, Ignored):
                    batch.stock.extend((d.node_code, s.material_code, s.available) for s in d.shortfall)
            if not isinstance(outcome, Ignored):
                batch.orders[order.order_id] = order
            apply(batch, order, outcome, env)
        await on_allocated(batch)  # a partial refund that waited for the allocation
        await task_hooks.prepare_new_tasks(uow, batch.new_tasks)  # node type, channel, accept SLA timer
