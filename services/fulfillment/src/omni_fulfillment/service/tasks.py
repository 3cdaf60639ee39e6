"""Tasks as their node's staff see them (read, list, what was done on them), and what the staff's actions
share (task_flow.py, rejections.py): the scope check, the lock of a task with its order's other tasks,
the SLA of a task, a shipment's lines, and the order's fulfilment when its last task is done. Store staff (a
node scope) see and work only their node's tasks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts.events.fulfillment import OrderFulfilledV1, ShippedLine

from ..domain.errors import Forbidden, NotFound
from ..domain.order_sourcing import OrderSourcing, SourcingStatus
from ..domain.sla import Sla, resolve
from ..domain.tasks import Task, TaskStatus, order_fulfilled
from .common import Uow
from .task_config import TASK_TIMERS, config

log = get_logger(__name__)


def in_scope(task: Task, scope: str | None) -> Task:
    if scope is not None and task.node_code != scope:
        raise Forbidden(f"task {task.task_id} belongs to node {task.node_code}")
    return task


async def get_task(uow: Uow, task_id: str, scope: str | None) -> Task:
    async with uow:
        task = await uow.repo.get_task(task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return in_scope(task, scope)


async def task_history(uow: Uow, task_id: str, scope: str | None) -> tuple[Task, list[dict[str, Any]]]:
    """The task and the staff's actions on it, oldest first."""
    async with uow:
        task = await uow.repo.get_task(task_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        in_scope(task, scope)
        return task, await uow.repo.task_actions(task_id)


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


def shipped_lines(task: Task) -> list[ShippedLine]:
    """The task's units by order line (several lines of one material apart); without line ids for a task
    made before fulfillment kept them."""
    if task.order_lines:
        return [
            ShippedLine(material_code=p.material_code, qty=p.qty, line_id=p.line_id) for p in task.order_lines
        ]
    return [ShippedLine(material_code=x.material_code, qty=x.qty) for x in task.lines]


async def lock_with_order(
    uow: Uow, task_id: str, scope: str | None
) -> tuple[Task, list[Task], OrderSourcing | None]:
    """The task, its order's other tasks and the order's sourcing, locked (order first, then tasks: the
    consumers' lock order), so that two tasks finishing (or given back) at once see each other."""
    peek = await uow.repo.get_task(task_id)
    if peek is None:
        raise NotFound(f"task {task_id} does not exist")
    in_scope(peek, scope)
    order = (await uow.repo.load_sourcings([peek.order_id])).get(peek.order_id)
    all_tasks = await uow.repo.order_tasks([peek.order_id], lock=True)
    task = next(t for t in all_tasks if t.task_id == task_id)
    return task, [t for t in all_tasks if t.task_id != task_id], order


async def sla_of(uow: Uow, task: Task) -> Sla:
    policies = await uow.repo.sla_policies_for([task.node_code])
    return resolve(policies, task.node_code, task.channel, config().sla.of(task.node_type))


def clear_timers(uow: Uow, task: Task) -> None:
    for kind in TASK_TIMERS:
        uow.cancel_timer(kind, task.task_id)
    task.due_kind = task.due_at = None


def start_sla(uow: Uow, task: Task, kind: str, timer: str, seconds: int, since: datetime) -> None:
    """Run one SLA of the task (the others stop): its due time on the task, its timer."""
    clear_timers(uow, task)
    if seconds:
        task.due_kind, task.due_at = kind, since + timedelta(seconds=seconds)
        uow.schedule_timer(timer, task.task_id, task.due_at, {"order_id": task.order_id, "sla_s": seconds})


async def maybe_fulfilled(
    uow: Uow, task: Task, siblings: list[Task], now: datetime, order: OrderSourcing | None = None
) -> None:
    """Every task the order still has has left, and nothing of it is being re-sourced: fulfilled."""
    if order is not None and order.status is SourcingStatus.SOURCING:
        return  # some of its units are being placed at another node: not fulfilled yet
    if order_fulfilled([task, *siblings]):
        await uow.repo.mark_fulfilled(task.order_id)
        uow.emit(OrderFulfilledV1(order_id=task.order_id, fulfilled_at=now), key=task.order_id)
        log.info("order fulfilled", order_id=task.order_id)
