"""Turning one batch's sourcing decisions into rows (written once, at commit) and events (staged in order)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.common import Shortfall as ShortfallV
from omni_contracts.events.fulfillment import (
    NodeConsidered,
    OrderAllocatedV1,
    OrderFulfilledV1,
    OrderUnfulfillableV1,
    ReservationRequestedV1,
    SourcingDecidedV1,
    TaskRef,
)

from ..domain.explain import Decision
from ..domain.lines import split_by_group
from ..domain.order_sourcing import (
    Allocated,
    GaveUp,
    Ignored,
    NothingToShip,
    OrderSourcing,
    Outcome,
    Requested,
)
from ..domain.tasks import Task
from . import task_hooks
from .common import Uow, mq

log = get_logger(__name__)


@dataclass
class Batch:
    """The orders, tasks and stock hints one batch changed: written by the unit of work at commit (a
    collected write, `uow.defer`), so an order touched by several events of the batch is written once."""

    uow: Uow
    orders: dict[str, OrderSourcing] = field(default_factory=dict)
    new_tasks: list[Task] = field(default_factory=list)
    changed_tasks: list[Task] = field(default_factory=list)
    stock: list[tuple[str, str, int]] = field(default_factory=list)
    allocated: dict[str, Envelope[Any]] = field(default_factory=dict)  # order -> the event that allocated it
    live: dict[str, list[Task]] = field(default_factory=dict)  # re-sourced orders: the tasks they had (hooks)

    @classmethod
    def open(cls, uow: Uow) -> Batch:
        batch = cls(uow)
        uow.defer(batch.write)
        return batch

    async def write(self) -> None:
        repo = self.uow.repo
        await repo.save_sourcings(list(self.orders.values()))
        await repo.insert_tasks(self.new_tasks)
        await repo.save_tasks(list({t.task_id: t for t in self.changed_tasks}.values()))
        await repo.set_available(self.stock)


def apply(batch: Batch, order: OrderSourcing, outcome: Outcome, cause: Envelope[Any]) -> None:
    """Stage the events of a decision; new tasks for an allocation (one per reservation: per node and
    group); an order with nothing to ship is fulfilled here and now."""
    uow, oid = batch.uow, order.order_id
    if isinstance(outcome, Requested):
        for d in outcome.decisions:  # one per group planned
            uow.emit(decided(oid, d), key=oid, cause=cause)
    elif isinstance(outcome, GaveUp) and outcome.decision is not None:
        uow.emit(decided(oid, outcome.decision), key=oid, cause=cause)
    if isinstance(outcome, Requested):
        for r in outcome.reservations:
            event = ReservationRequestedV1(
                reservation_id=r.reservation_id,
                order_id=oid,
                node_code=r.node_code,
                lines=mq(r.lines),
                attempt=r.attempt,
            )
            uow.emit(event, key=oid, cause=cause)
        # Routine per order at 1,000 orders/s: debug; a re-plan is worth an info line.
        replan = order.attempt > order.first_attempt
        (log.info if replan else log.debug)(
            "re-planned after a refusal" if replan else "reservations requested",
            order_id=oid,
            attempt=order.attempt,
            nodes=[r.node_code for r in outcome.reservations],
            groups=sorted({r.group for r in outcome.reservations if r.group}),
        )
    elif isinstance(outcome, Allocated):
        now = utcnow()
        # re-sourced after its allocation: tasks only for the new reservations; the event names them all
        fresh, kept = task_hooks.split_allocation(batch, oid, outcome.reservations)
        unheld = task_hooks.unheld_lines(order.order_lines, kept)
        parts = split_by_group(unheld, [(r.group, r.lines) for r in fresh])
        # one code for the buyer, whatever the groups: a pickup order's tasks are all at its pickup node
        code = f"{secrets.randbelow(10**6):06d}" if order.is_pickup else None
        made = [
            Task.new(
                f"T-{uuid.uuid4().hex[:20]}",
                oid,
                r.node_code,
                r.reservation_id,
                r.lines,
                pickup_code=code,
                now=now,
                order_lines=p,
                group=r.group,
            )
            for r, p in zip(fresh, parts, strict=True)
        ]
        batch.new_tasks.extend(made)
        batch.allocated[oid] = (
            cause  # a refund waiting for the allocation is applied to these (intercepts.py)
        )
        refs = [
            TaskRef(
                task_id=t.task_id,
                node_code=t.node_code,
                kind=t.kind.value,
                reservation_id=t.reservation_id,
                lines=mq(t.lines),
            )
            for t in [*kept, *made]
        ]
        uow.emit(OrderAllocatedV1(order_id=oid, tasks=refs), key=oid, cause=cause)
        log.debug("order allocated", order_id=oid, tasks=len(made), nodes=[t.node_code for t in made])
    elif isinstance(outcome, GaveUp):
        task_hooks.cancel_live(batch, oid, outcome.reason, utcnow())  # given up on after its allocation
        event = OrderUnfulfillableV1(
            order_id=oid,
            reason=outcome.reason,
            shortfall=[
                ShortfallV(material_code=s.material_code, requested=s.requested, available=s.available)
                for s in outcome.shortfall
            ],
            attempts=outcome.attempts,
        )
        uow.emit(event, key=oid, cause=cause)
        log.info("order unfulfillable", order_id=oid, reason=outcome.reason, attempts=outcome.attempts)
    elif isinstance(outcome, NothingToShip):
        uow.emit(OrderFulfilledV1(order_id=oid, fulfilled_at=utcnow()), key=oid, cause=cause)
        log.info("order fulfilled at once: no line ships", order_id=oid)
    elif isinstance(outcome, Ignored):
        log.info("reply ignored", order_id=oid, why=outcome.why)


def decided(order_id: str, d: Decision) -> SourcingDecidedV1:
    """The decision trace of one plan (or give-up), for the order's GET /orders/{id}/trace."""
    return SourcingDecidedV1(
        order_id=order_id,
        attempt=d.attempt,
        decided_at=utcnow(),
        result="planned" if d.planned else "unfulfillable",
        reason=d.reason,
        lines=mq(d.lines),
        nodes=[
            NodeConsidered(
                node_code=n.node_code,
                outcome=n.outcome,  # type: ignore[arg-type]
                lines=mq(n.lines),
                distance_km=n.distance_km,
                why=n.why,
                open_tasks=n.open_tasks,
            )
            for n in d.nodes
        ],
    )
