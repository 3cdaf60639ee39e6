"""Tasks, as the staff of a node work them: accept, ship or hand over to the buyer; the order is fulfilled
when its last task is done. Store staff (a node scope) see and work only their node's tasks."""

from __future__ import annotations

from datetime import datetime

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.fulfillment import (
    OrderFulfilledV1,
    PickedUpV2,
    ShippedLine,
    ShippedV2,
    TaskAcceptedV1,
)

from ..domain.errors import Forbidden, NotFound
from ..domain.tasks import Task, TaskStatus, order_fulfilled
from .common import Uow

log = get_logger(__name__)


def _in_scope(task: Task, scope: str | None) -> Task:
    if scope is not None and task.node_code != scope:
        raise Forbidden(f"task {task.task_id} belongs to node {task.node_code}")
    return task


async def get_task(uow: Uow, task_id: str, scope: str | None) -> Task:
    async with uow:
        task = await uow.repo.get_task(task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return _in_scope(task, scope)


async def list_tasks(
    uow: Uow,
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
    async with uow:
        return await uow.repo.list_tasks(
            node_code=node_code,
            status=status.value if status else None,
            order_id=order_id,
            limit=limit,
            offset=offset,
        )


async def accept_task(uow: Uow, task_id: str, staff_id: str, scope: str | None) -> Task:
    async with uow:
        task = await uow.repo.get_task(task_id, lock=True)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        _in_scope(task, scope)
        task.accept(staff_id, utcnow())
        await uow.repo.save_tasks([task])
        event = TaskAcceptedV1(
            task_id=task.task_id, order_id=task.order_id, node_code=task.node_code, accepted_by=staff_id
        )
        uow.emit(event, key=task.order_id)
    log.info("task accepted", task_id=task.task_id, order_id=task.order_id, node_code=task.node_code)
    return task


def shipped_lines(task: Task) -> list[ShippedLine]:
    """The task's units by order line (several lines of one material apart); without line ids for a task
    made before fulfillment kept them."""
    if task.order_lines:
        return [
            ShippedLine(material_code=p.material_code, qty=p.qty, line_id=p.line_id) for p in task.order_lines
        ]
    return [ShippedLine(material_code=x.material_code, qty=x.qty) for x in task.lines]


async def ship_task(uow: Uow, task_id: str, carrier: str, tracking_no: str, scope: str | None) -> Task:
    async with uow:
        task, siblings = await _lock_for_completion(uow, task_id, scope)
        now = utcnow()
        task.ship(carrier, tracking_no, now)
        await uow.repo.save_tasks([task])
        event = ShippedV2(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            reservation_id=task.reservation_id,
            carrier=carrier,
            tracking_no=tracking_no,
            lines=shipped_lines(task),
            shipped_at=now,
        )
        uow.emit(event, key=task.order_id)
        log.info("task shipped", task_id=task.task_id, order_id=task.order_id, carrier=carrier)
        await _maybe_fulfilled(uow, task, siblings, now)
    return task


async def pickup_task(uow: Uow, task_id: str, pickup_code: str, scope: str | None) -> Task:
    async with uow:
        task, siblings = await _lock_for_completion(uow, task_id, scope)
        now = utcnow()
        task.pickup(pickup_code, now)
        await uow.repo.save_tasks([task])
        event = PickedUpV2(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            reservation_id=task.reservation_id,
            lines=shipped_lines(task),
            picked_up_at=now,
        )
        uow.emit(event, key=task.order_id)
        log.info("task picked up", task_id=task.task_id, order_id=task.order_id)
        await _maybe_fulfilled(uow, task, siblings, now)
    return task


async def _lock_for_completion(uow: Uow, task_id: str, scope: str | None) -> tuple[Task, list[Task]]:
    """The task and its order's other tasks, locked (order first, then tasks: the consumers' lock order), so
    that two tasks finishing at once cannot both miss that the order is complete."""
    peek = await uow.repo.get_task(task_id)
    if peek is None:
        raise NotFound(f"task {task_id} does not exist")
    _in_scope(peek, scope)
    await uow.repo.lock_sourcing(peek.order_id)
    all_tasks = await uow.repo.order_tasks([peek.order_id], lock=True)
    task = next(t for t in all_tasks if t.task_id == task_id)
    return task, [t for t in all_tasks if t.task_id != task_id]


async def _maybe_fulfilled(uow: Uow, task: Task, siblings: list[Task], now: datetime) -> None:
    if order_fulfilled([task, *siblings]):
        await uow.repo.mark_fulfilled(task.order_id)
        uow.emit(OrderFulfilledV1(order_id=task.order_id, fulfilled_at=now), key=task.order_id)
        log.info("order fulfilled", order_id=task.order_id)
