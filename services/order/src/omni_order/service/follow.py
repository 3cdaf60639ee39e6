"""Following fulfillment: its own events drive the order through sourcing, allocation, shipment, completion.

    fulfillment.sourcing-started    -> sourcing (fulfillment began sourcing the order; again on a retry)
    fulfillment.order-allocated     -> allocated (the allocation per order line and node is recorded); again
                                       while allocated or partially shipped: a store gave units back and they
                                       were re-sourced, the allocation is replaced and the status stays
    fulfillment.order-unfulfillable -> backorder when stock is short (waits for stock, see backorder.py),
                                       else exception (order.exception-raised); from sourcing, or from
                                       allocated when units a store gave back found no other node
    fulfillment.shipped / picked-up -> partially_shipped while some task of a split order has not shipped,
                                       then shipped (units recorded per order line, see domain/shipping.py)
    fulfillment.order-fulfilled     -> completed (order.completed)
    fulfillment.lines-intercepted   -> no status of its own: a partial refund's units leave the allocation
                                       (intercept.py), so the shipments count only what is left; an order
                                       partially shipped whose remaining tasks were all intercepted is shipped

The order never reads fulfillment's commands to inventory (reservation-requested): fulfillment owns that
conversation. A late or repeated event the order has gone past is ignored; one that contradicts the order
(goods leaving for a cancelled order, an order skipping steps, an order this OMS does not know) is a
PermanentError: dead-lettered, nothing of its batch applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from omni_chassis.failures import PermanentError
from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.order import OrderCompletedV1, OrderExceptionRaisedV1

from ..domain.intake import UNFULFILLABLE, LineRef, TaskLine, assign_nodes
from ..domain.shipping import ShippedLine, shipped_per_line, shipping_status
from ..domain.status import Reaction, Status, react
from . import backorder
from .intercept import INTERCEPTED, record_intercept
from .journal import OrderUow, StatusJournal
from .sourcing_trace import SOURCING_DECIDED, record_sourcing_decisions

log = get_logger(__name__)

SOURCING_STARTED = "fulfillment.sourcing-started"
ALLOCATED = "fulfillment.order-allocated"
UNFULFILLABLE_EVENT = "fulfillment.order-unfulfillable"
SHIPPED = "fulfillment.shipped"
PICKED_UP = "fulfillment.picked-up"
FULFILLED = "fulfillment.order-fulfilled"
SHIPMENTS = frozenset({SHIPPED, PICKED_UP})
# an allocation again while allocated (or partly shipped): fulfillment re-sourced units a store gave back
REALLOCATED = frozenset({Status.ALLOCATED, Status.PARTIALLY_SHIPPED})

# the status each event asks for (a shipment: shipped, or partially shipped while tasks remain)
FULFILLMENT_TARGETS: dict[str, Status] = {
    SOURCING_STARTED: Status.SOURCING,
    ALLOCATED: Status.ALLOCATED,
    UNFULFILLABLE_EVENT: Status.EXCEPTION,
    SHIPPED: Status.SHIPPED,
    PICKED_UP: Status.SHIPPED,
    FULFILLED: Status.COMPLETED,
}
# the trace (sourcing_trace.py) and partial intercepts (intercept.py) move no status of their own
FULFILLMENT_EVENTS = frozenset(FULFILLMENT_TARGETS) | {SOURCING_DECIDED, INTERCEPTED}


@dataclass
class _Batch:
    """What the batch knows of its orders' tasks, and the rows it writes at commit."""

    lines: dict[str, list[dict[str, Any]]]
    tasks: dict[str, set[str]]  # order -> its tasks (from the allocation)
    shipped: dict[str, set[str]]  # order -> its tasks that have shipped
    allocated: dict[tuple[str, str], list[LineRef]]  # (order, task) -> the lines (and qty) it was given
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # order -> its allocation rows
    allocations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    shipment_lines: list[dict[str, Any]] = field(default_factory=list)
    backorders: list[Envelope[Any]] = field(default_factory=list)  # the unfulfillable that made a backorder


async def follow_fulfillment(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> None:
    """Apply a batch of fulfillment events, in order, to the orders they name (locked once each)."""
    await record_sourcing_decisions(uow, envs)  # fulfillment.sourcing-decided: trace rows, no status
    envs = [e for e in envs if e.event_type in FULFILLMENT_TARGETS or e.event_type == INTERCEPTED]
    if not envs:
        return
    async with uow:
        repo = uow.repo
        orders = await repo.lock_orders({e.data.order_id for e in envs})
        moving = {ALLOCATED, INTERCEPTED, *SHIPMENTS}
        wanted = {e.data.order_id for e in envs if e.event_type in moving}
        # the orders whose tasks the batch counts: shipped, or a partial refund's units taken off
        shipping = {e.data.order_id for e in envs if e.event_type in SHIPMENTS or e.event_type == INTERCEPTED}
        lines = await repo.material_lines(wanted)
        batch = _Batch(lines, {}, await repo.shipped_tasks(shipping), {})
        for order_id, rows in (await repo.allocations(shipping)).items():
            _allocation(batch, order_id, rows)
        journal = StatusJournal(uow, "fulfillment")
        for env in envs:
            order = orders.get(env.data.order_id)
            if order is None:
                raise PermanentError(
                    f"{env.event_type} names order {env.data.order_id}, which this OMS does not know"
                )
            if env.event_type == INTERCEPTED:
                await _intercepted(uow, journal, batch, order, env)
            else:
                _apply(uow, journal, batch, order, env)
        if batch.backorders:
            await backorder.record_backorders(uow, batch.backorders, journal.at)

        async def write() -> None:
            if batch.allocations:
                rows = [r for rs in batch.allocations.values() for r in rs]
                await repo.replace_allocations(batch.allocations, rows)
            await repo.upsert_shipments(batch.shipments)
            await repo.upsert_shipment_lines(batch.shipment_lines)

        uow.defer(write)


def _apply(
    uow: OrderUow, journal: StatusJournal, batch: _Batch, order: dict[str, Any], env: Envelope[Any]
) -> None:
    d = env.data
    order_id = d.order_id
    current = Status(order["status"])
    if env.event_type in SHIPMENTS:
        target = shipping_status(
            batch.tasks.get(order_id, ()), batch.shipped.get(order_id, set()) | {d.task_id}
        )
    else:
        target = FULFILLMENT_TARGETS[env.event_type]
        if env.event_type == UNFULFILLABLE_EVENT and backorder.waits_for_stock(current, d):
            target = Status.BACKORDER
    if env.event_type == ALLOCATED and current in REALLOCATED:
        # a store gave some units back and fulfillment placed them at another node: the allocation is
        # replaced (the event names every task the order still has); the status stays
        _allocate(journal, batch, order, env, again=True)
        return
    if env.event_type == FULFILLED and current == Status.PARTIALLY_SHIPPED:
        # fulfillment says every task has left: the order's own count missed one (an allocation line it
        # could not match); it is shipped, then completed
        journal.transition(
            order, Status.SHIPPED, reason="every task shipped, as fulfillment reports", cause=env
        )
        current = Status.SHIPPED
    reaction = react(current, target)
    if reaction == Reaction.CONFLICT:
        raise PermanentError(
            f"{env.event_type} for order {order_id} contradicts its status {current}: "
            f"the order cannot go from {current} to {target}"
        )
    if env.event_type in SHIPMENTS:
        _record_shipment(batch, env)
    if reaction == Reaction.IGNORE:
        log.info(
            "fulfillment event ignored: the order is already past it",
            order_id=order_id, status=str(current), wanted=str(target), event_type=env.event_type,
        )  # fmt: skip
        return

    if env.event_type == SOURCING_STARTED:
        attempt = getattr(d, "attempt", None)
        journal.transition(order, Status.SOURCING, reason=f"sourcing started (attempt {attempt})", cause=env)
    elif env.event_type == ALLOCATED:
        _allocate(journal, batch, order, env)
    elif env.event_type == UNFULFILLABLE_EVENT and target == Status.BACKORDER:
        backorder.to_backorder(journal, order, env)  # waits for stock: no exception raised
        batch.backorders.append(env)
    elif env.event_type == UNFULFILLABLE_EVENT:
        journal.transition(order, Status.EXCEPTION, reason_code=UNFULFILLABLE, reason=d.reason, cause=env)
        uow.emit(
            OrderExceptionRaisedV1(
                order_id=order_id, channel=order["channel"], channel_order_id=order["channel_order_id"],
                reason_code=UNFULFILLABLE, reason=d.reason,
            ),
            key=order_id,
            cause=env,
        )  # fmt: skip
    elif env.event_type == FULFILLED:
        journal.transition(order, Status.COMPLETED, cause=env)
        journal.set(order_id, completed_at=d.fulfilled_at)
        uow.emit(OrderCompletedV1(order_id=order_id, completed_at=d.fulfilled_at), key=order_id, cause=env)
    else:  # a shipment
        how = f"shipped by {d.carrier} ({d.tracking_no})" if env.event_type == SHIPPED else "picked up"
        reason = f"{how} from {d.node_code}"
        tasks = batch.tasks.get(order_id, set())
        if target == Status.PARTIALLY_SHIPPED:
            reason += f" ({len(tasks & batch.shipped[order_id])} of {len(tasks)} tasks shipped)"
        journal.transition(order, target, reason=reason, cause=env)


def _allocation(batch: _Batch, order_id: str, rows: list[dict[str, Any]]) -> None:
    """What the batch knows of an order's allocation: its rows, its tasks, each task's lines."""
    material = {x["line_id"]: x["material_code"] for x in batch.lines.get(order_id, [])}
    batch.rows[order_id] = rows
    batch.tasks[order_id] = {a["task_id"] for a in rows}
    for key in [k for k in batch.allocated if k[0] == order_id]:
        del batch.allocated[key]
    for a in rows:
        batch.allocated.setdefault((order_id, a["task_id"]), []).append(
            LineRef(a["line_id"], material.get(a["line_id"], ""), a["qty"])
        )


async def _intercepted(
    uow: OrderUow, journal: StatusJournal, batch: _Batch, order: dict[str, Any], env: Envelope[Any]
) -> None:
    """A partial refund's units taken off unshipped tasks: noted on the case, gone from the allocation (a
    task left empty is no longer the order's); a partially shipped order with nothing left to ship is
    shipped."""
    order_id = env.data.order_id
    left = await record_intercept(uow, env, batch.rows.get(order_id, []))
    if left is None:
        return
    batch.allocations[order_id] = left
    _allocation(batch, order_id, left)
    shipped = batch.shipped.get(order_id, set())
    if Status(order["status"]) == Status.PARTIALLY_SHIPPED and batch.tasks[order_id] <= shipped:
        reason = f"what was left to ship was intercepted (after-sales case {env.data.case_id})"
        journal.transition(order, Status.SHIPPED, reason=reason, cause=env)


def _allocate(
    journal: StatusJournal, batch: _Batch, order: dict[str, Any], env: Envelope[Any], *, again: bool = False
) -> None:
    d = env.data
    order_id = d.order_id
    refs = [  # the lines fulfillment sources: not the virtual ones the OMS fulfilled itself
        LineRef(x["line_id"], x["material_code"], x["qty"])
        for x in batch.lines.get(order_id, [])
        if x.get("ships", True)
    ]
    tasks = [
        TaskLine(t.task_id, t.node_code, t.reservation_id, m.material_code, m.qty)
        for t in d.tasks
        for m in t.lines
    ]
    assigned, problems = assign_nodes(refs, tasks)
    if problems:
        log.warning("allocation does not match the order's lines", order_id=order_id, problems=problems)
    batch.allocations[order_id] = [
        {"line_id": a.line_id, "task_id": a.task_id, "order_id": order_id, "node_code": a.node_code,
         "reservation_id": a.reservation_id, "qty": a.qty, "allocated_at": journal.at}
        for a in assigned
    ]  # fmt: skip
    _allocation(batch, order_id, batch.allocations[order_id])
    batch.tasks[order_id] = {t.task_id for t in d.tasks}
    nodes = sorted({t.node_code for t in d.tasks})
    if again:
        log.info("order re-allocated: a store gave units back", order_id=order_id, nodes=nodes)
    else:
        journal.transition(order, Status.ALLOCATED, reason=f"allocated at {', '.join(nodes)}", cause=env)
    journal.set(order_id, role_fulfiller=",".join(f"node:{n}" for n in nodes))


def _record_shipment(batch: _Batch, env: Envelope[Any]) -> None:
    """The shipment, and what it took of each order line (v2 names the lines; v1 is matched by material)."""
    d = env.data
    ship = env.event_type == SHIPPED
    batch.shipments.append(
        {"order_id": d.order_id, "task_id": d.task_id, "node_code": d.node_code,
         "kind": "ship" if ship else "pickup", "carrier": d.carrier if ship else None,
         "tracking_no": d.tracking_no if ship else None, "at": d.shipped_at if ship else d.picked_up_at}
    )  # fmt: skip
    batch.shipped.setdefault(d.order_id, set()).add(d.task_id)
    shipped = [ShippedLine(getattr(x, "line_id", None), x.material_code, x.qty) for x in d.lines]
    order_lines = [
        LineRef(x["line_id"], x["material_code"], x["qty"])
        for x in batch.lines.get(d.order_id, [])
        if x.get("ships", True)
    ]
    per_line, problems = shipped_per_line(
        d.task_id, shipped, order_lines, batch.allocated.get((d.order_id, d.task_id), ())
    )
    if problems:
        log.warning("shipment does not match the order's lines", order_id=d.order_id, problems=problems)
    batch.shipment_lines.extend(
        {
            "order_id": d.order_id,
            "task_id": d.task_id,
            "line_id": x.line_id,
            "qty": x.qty,
            "matched": x.matched,
        }
        for x in per_line
    )
