"""Use cases: the one place that orchestrates domain, store and outbox."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.logging import get_logger
from omni_chassis.outbox import build, emit, stage
from omni_contracts import Envelope, utcnow
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.common import Shortfall as ShortfallV
from omni_contracts.events.fulfillment import (
    NodeUpsertedV1,
    OrderAllocatedV1,
    OrderFulfilledV1,
    OrderUnfulfillableV1,
    PickedUpV1,
    ReservationRequestedV1,
    ShippedV1,
    TaskAcceptedV1,
    TaskRef,
)
from omni_contracts.events.inventory import ReservationRefusedV1, ReservedV1, StockChangedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderCancelledV1

from . import store
from .domain.errors import Conflict, Forbidden, NotFound
from .domain.nodes import Node
from .domain.order_sourcing import (
    Allocated,
    GaveUp,
    Ignored,
    OrderSourcing,
    Outcome,
    Requested,
    SourcingStatus,
)
from .domain.sourcing import Line, Point, Shortfall
from .domain.stock_view import StockView
from .domain.tasks import Task, TaskStatus, order_fulfilled

log = get_logger(__name__)

DEFAULT_MAX_ATTEMPTS = 3
Pending = list[tuple[Envelope[Any], Envelope[Any] | None]]


# -- nodes ---------------------------------------------------------------------------------------------------
def _node_event(node: Node) -> NodeUpsertedV1:
    return NodeUpsertedV1(
        node_code=node.code,
        name=node.name,
        type=node.type.value,
        city=node.city,
        lat=node.lat,
        lng=node.lng,
        priority=node.priority,
        active=node.active,
    )


async def create_node(session: AsyncSession, node: Node) -> Node:
    if not await store.insert_node(session, node):
        raise Conflict(f"node {node.code} already exists (PUT /nodes/{node.code} replaces it)")
    await emit(session, _node_event(node), key=node.code)
    log.info("node created", node_code=node.code, type=node.type.value)
    return node


async def put_node(session: AsyncSession, node: Node) -> bool:
    """Create or replace; True when created."""
    created = await store.put_node(session, node)
    await emit(session, _node_event(node), key=node.code)
    log.info("node created" if created else "node replaced", node_code=node.code, active=node.active)
    return created


async def deactivate_node(session: AsyncSession, code: str) -> Node:
    node = await store.get_node(session, code, lock=True)
    if node is None:
        raise NotFound(f"node {code} does not exist")
    node = Node(node.code, node.name, node.type, node.city, node.lat, node.lng, node.priority, active=False)
    await store.put_node(session, node)
    await emit(session, _node_event(node), key=node.code)
    log.info("node deactivated", node_code=code)
    return node


async def get_node(session: AsyncSession, code: str) -> Node:
    node = await store.get_node(session, code)
    if node is None:
        raise NotFound(f"node {code} does not exist")
    return node


# -- stock projection ----------------------------------------------------------------------------------------
async def on_stock_changed(session: AsyncSession, envs: Sequence[Envelope[Any]]) -> None:
    """Keep the newest `seq` per (node, material), within the batch and against what is stored."""
    newest: dict[tuple[str, str], StockChangedV1] = {}
    for env in envs:
        d: StockChangedV1 = env.data
        key = (d.node_code, d.material_code)
        if key not in newest or newest[key].seq < d.seq:
            newest[key] = d
    await store.upsert_stock(session, [(n, m, d.available, d.seq) for (n, m), d in newest.items()])


# -- orders: accepted, cancelled -----------------------------------------------------------------------------
@dataclass
class _Effects:
    """What one batch decided: rows to write and events to stage, flushed once at the end."""

    orders: dict[str, OrderSourcing]
    events: Pending
    tasks: list[Task]
    changed_tasks: list[Task]
    stock: list[tuple[str, str, int]]

    @classmethod
    def empty(cls) -> _Effects:
        return cls({}, [], [], [], [])

    async def flush(self, session: AsyncSession) -> None:
        await store.save_sourcings(session, list(self.orders.values()))
        await store.insert_tasks(session, self.tasks)
        await store.save_tasks(session, self.changed_tasks)
        await store.set_available(session, self.stock)
        await stage(session, self.events)


async def on_order_events(session: AsyncSession, envs: Sequence[Envelope[Any]]) -> None:
    """`order.accepted` and `order.cancelled`. Per order, acceptance always comes before cancellation, so the
    batch's acceptances are handled first, then its cancellations."""
    accepted = [e for e in envs if e.event_type == "order.accepted"]
    cancelled = [e for e in envs if e.event_type == "order.cancelled"]
    fx = _Effects.empty()
    if accepted:
        await _accept(session, accepted, fx)
    if cancelled:
        await _cancel(session, cancelled, fx)
    await fx.flush(session)


async def _accept(session: AsyncSession, envs: list[Envelope[Any]], fx: _Effects) -> None:
    firsts: dict[str, Envelope[Any]] = {}
    for env in envs:
        firsts.setdefault(env.data.order_id, env)
    known = await store.existing_orders(session, firsts)
    for order_id in known:
        log.info("order already sourced; acceptance ignored", order_id=order_id)
    todo = [e for oid, e in firsts.items() if oid not in known]
    if not todo:
        return
    view = await store.load_view(
        session,
        {line.material_code for e in todo for line in e.data.lines},
        {e.data.pickup_node for e in todo if e.data.delivery == "store_pickup" and e.data.pickup_node},
    )
    for env in todo:
        o: OrderAcceptedV1 = env.data
        dest = _destination(o)
        lines = [Line(x.material_code, x.qty) for x in o.lines]
        order, outcome = OrderSourcing.start(
            o.order_id,
            lines,
            view,
            destination=dest,
            store_pickup=o.delivery == "store_pickup",
            pickup_node=o.pickup_node,
        )
        fx.orders[order.order_id] = order
        _apply(order, outcome, env, fx)


def _destination(o: OrderAcceptedV1) -> Point | None:
    """Where the goods go, when the order says so with coordinates that exist on Earth."""
    lat, lng = o.ship_to.lat, o.ship_to.lng
    if lat is None or lng is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        log.warning("destination coordinates out of range; sourcing without distance", order_id=o.order_id)
        return None
    return Point(lat, lng)


async def _cancel(session: AsyncSession, envs: list[Envelope[Any]], fx: _Effects) -> None:
    ids = {e.data.order_id for e in envs}
    accepted_here = ids & set(fx.orders)
    known = await store.load_sourcings(session, ids - accepted_here)
    known.update({oid: fx.orders[oid] for oid in accepted_here})
    open_tasks = await store.order_tasks(session, ids, lock=True)
    now = utcnow()
    for env in envs:
        c: OrderCancelledV1 = env.data
        order = known.get(c.order_id)
        if order is None:
            # Never accepted here: remember it, so that a late acceptance does not start sourcing.
            order = OrderSourcing(
                c.order_id, (), status=SourcingStatus.CANCELLED, reason="the order was cancelled"
            )
            known[c.order_id] = order
            fx.orders[c.order_id] = order
            log.info("order cancelled before it was sourced", order_id=c.order_id)
            continue
        outcome = order.cancel()
        if isinstance(outcome, Ignored):
            log.info("cancellation changes nothing", order_id=c.order_id, why=outcome.why)
            continue
        if c.order_id in accepted_here:
            # Accepted and cancelled in one batch: its reservation requests never leave.
            fx.events = [(e, cause) for e, cause in fx.events if e.key != c.order_id]
        fx.orders[c.order_id] = order
        stopped = [t for t in open_tasks if t.order_id == c.order_id and t.cancel(now)]
        fx.changed_tasks.extend(stopped)
        log.info("order cancelled: sourcing stopped", order_id=c.order_id, tasks_cancelled=len(stopped))


# -- reservation replies -------------------------------------------------------------------------------------
async def on_reservation_replies(
    session: AsyncSession, envs: Sequence[Envelope[Any]], *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> None:
    """`inventory.reserved` and `inventory.reservation-refused`, in the order they came."""
    orders = await store.load_sourcings(session, {e.data.order_id for e in envs})
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
        view = await store.load_view(
            session,
            {line.material_code for _, r in replan for line in r.lines},
            {o.pickup_node for o, _ in replan if o.pickup_node},
        )
    fx = _Effects.empty()
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
                fx.stock.extend((d.node_code, s.material_code, s.available) for s in d.shortfall)
        if not isinstance(outcome, Ignored):
            fx.orders[order.order_id] = order
        _apply(order, outcome, env, fx)
    await fx.flush(session)


# -- turning decisions into rows and events ------------------------------------------------------------------
def _mq(lines: Sequence[Line]) -> list[MaterialQty]:
    return [MaterialQty(material_code=x.material_code, qty=x.qty) for x in lines]


def _apply(order: OrderSourcing, outcome: Outcome, cause: Envelope[Any], fx: _Effects) -> None:
    oid = order.order_id
    if isinstance(outcome, Requested):
        for r in outcome.reservations:
            event = ReservationRequestedV1(
                reservation_id=r.reservation_id,
                order_id=oid,
                node_code=r.node_code,
                lines=_mq(r.lines),
                attempt=r.attempt,
            )
            fx.events.append((build(event, key=oid, cause=cause), cause))
        # Routine per order at 1,000 orders/s: debug; a re-plan is worth an info line.
        (log.info if order.attempt > 1 else log.debug)(
            "reservations requested" if order.attempt == 1 else "re-planned after a refusal",
            order_id=oid,
            attempt=order.attempt,
            nodes=[r.node_code for r in outcome.reservations],
        )
    elif isinstance(outcome, Allocated):
        now = utcnow()
        made = [
            Task.new(
                f"T-{uuid.uuid4().hex[:20]}",
                oid,
                r.node_code,
                r.reservation_id,
                r.lines,
                pickup_code=f"{secrets.randbelow(10**6):06d}" if order.is_pickup else None,
                now=now,
            )
            for r in outcome.reservations
        ]
        fx.tasks.extend(made)
        refs = [
            TaskRef(
                task_id=t.task_id,
                node_code=t.node_code,
                kind=t.kind.value,
                reservation_id=t.reservation_id,
                lines=_mq(t.lines),
            )
            for t in made
        ]
        fx.events.append((build(OrderAllocatedV1(order_id=oid, tasks=refs), key=oid, cause=cause), cause))
        log.debug("order allocated", order_id=oid, tasks=len(made), nodes=[t.node_code for t in made])
    elif isinstance(outcome, GaveUp):
        event = OrderUnfulfillableV1(
            order_id=oid,
            reason=outcome.reason,
            shortfall=[
                ShortfallV(material_code=s.material_code, requested=s.requested, available=s.available)
                for s in outcome.shortfall
            ],
            attempts=outcome.attempts,
        )
        fx.events.append((build(event, key=oid, cause=cause), cause))
        log.info("order unfulfillable", order_id=oid, reason=outcome.reason, attempts=outcome.attempts)
    elif isinstance(outcome, Ignored):
        log.info("reply ignored", order_id=oid, why=outcome.why)


# -- tasks (staff actions) -----------------------------------------------------------------------------------
def _in_scope(task: Task, scope: str | None) -> Task:
    if scope is not None and task.node_code != scope:
        raise Forbidden(f"task {task.task_id} belongs to node {task.node_code}")
    return task


async def get_task(session: AsyncSession, task_id: str, scope: str | None) -> Task:
    task = await store.get_task(session, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return _in_scope(task, scope)


async def list_tasks(
    session: AsyncSession,
    *,
    scope: str | None,
    node_code: str | None,
    status: TaskStatus | None,
    order_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Task], int]:
    if scope is not None:
        if node_code is not None and node_code != scope:
            raise Forbidden(f"you may only list the tasks of node {scope}, not of node {node_code}")
        node_code = scope
    return await store.list_tasks(
        session,
        node_code=node_code,
        status=status.value if status else None,
        order_id=order_id,
        limit=limit,
        offset=offset,
    )


async def accept_task(session: AsyncSession, task_id: str, staff_id: str, scope: str | None) -> Task:
    task = await store.get_task(session, task_id, lock=True)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    _in_scope(task, scope)
    task.accept(staff_id, utcnow())
    await store.save_tasks(session, [task])
    await emit(
        session,
        TaskAcceptedV1(
            task_id=task.task_id, order_id=task.order_id, node_code=task.node_code, accepted_by=staff_id
        ),
        key=task.order_id,
    )
    log.info("task accepted", task_id=task.task_id, order_id=task.order_id, node_code=task.node_code)
    return task


async def ship_task(
    session: AsyncSession, task_id: str, carrier: str, tracking_no: str, scope: str | None
) -> Task:
    task, siblings = await _lock_for_completion(session, task_id, scope)
    now = utcnow()
    task.ship(carrier, tracking_no, now)
    await store.save_tasks(session, [task])
    await emit(
        session,
        ShippedV1(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            reservation_id=task.reservation_id,
            carrier=carrier,
            tracking_no=tracking_no,
            lines=_mq(task.lines),
            shipped_at=now,
        ),
        key=task.order_id,
    )
    log.info("task shipped", task_id=task.task_id, order_id=task.order_id, carrier=carrier)
    await _maybe_fulfilled(session, task, siblings, now)
    return task


async def pickup_task(session: AsyncSession, task_id: str, pickup_code: str, scope: str | None) -> Task:
    task, siblings = await _lock_for_completion(session, task_id, scope)
    now = utcnow()
    task.pickup(pickup_code, now)
    await store.save_tasks(session, [task])
    await emit(
        session,
        PickedUpV1(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            reservation_id=task.reservation_id,
            lines=_mq(task.lines),
            picked_up_at=now,
        ),
        key=task.order_id,
    )
    log.info("task picked up", task_id=task.task_id, order_id=task.order_id)
    await _maybe_fulfilled(session, task, siblings, now)
    return task


async def _lock_for_completion(
    session: AsyncSession, task_id: str, scope: str | None
) -> tuple[Task, list[Task]]:
    """The task and its order's other tasks, locked (order first, then tasks: the consumers' lock order), so
    that two tasks finishing at once cannot both miss that the order is complete."""
    peek = await store.get_task(session, task_id)
    if peek is None:
        raise NotFound(f"task {task_id} does not exist")
    _in_scope(peek, scope)
    await store.lock_sourcing(session, peek.order_id)
    all_tasks = await store.order_tasks(session, [peek.order_id], lock=True)
    task = next(t for t in all_tasks if t.task_id == task_id)
    return task, [t for t in all_tasks if t.task_id != task_id]


async def _maybe_fulfilled(session: AsyncSession, task: Task, siblings: list[Task], now: Any) -> None:
    if order_fulfilled([task, *siblings]):
        await store.mark_fulfilled(session, task.order_id)
        await emit(session, OrderFulfilledV1(order_id=task.order_id, fulfilled_at=now), key=task.order_id)
        log.info("order fulfilled", order_id=task.order_id)


# -- sourcing (read) -----------------------------------------------------------------------------------------
async def get_sourcing(session: AsyncSession, order_id: str) -> OrderSourcing:
    found = await store.load_sourcings(session, [order_id], lock=False)
    if order_id not in found:
        raise NotFound(f"order {order_id} has not been sourced here")
    return found[order_id]


async def stock_view(session: AsyncSession, node_code: str, material_code: str) -> tuple[int, int]:
    """(available, seq) as the stock projection has it; NotFound before the first stock-changed event."""
    found = await store.get_stock(session, node_code, material_code)
    if found is None:
        raise NotFound(f"no stock known for {material_code} at {node_code}")
    return found
