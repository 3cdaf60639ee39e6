"""The durable timers of store tasks (the chassis' timers.py: set in the transaction that starts the SLA,
fired once in effect, surviving restarts). Each is keyed by the task id; each handler runs in the timer
loop's unit of work and does nothing when the task has moved on (the SLA was met, or the task ended).

- `fulfillment.accept-sla`: the task is still assigned -> reassigned; its units are re-sourced at the next
  best node, this one kept out (rejections.reassign);
- `fulfillment.pick-pack-sla`: still accepted or picking -> escalated (marked on the task, and
  `fulfillment.task-escalated`); nothing moves;
- `fulfillment.pickup-hold`: still ready for pickup -> cancelled; inventory releases its reservation and the
  OMS cancels the order (`fulfillment.pickup-expired`: a refund is due).
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.fulfillment_tasks import PickupExpiredV1, TaskEscalatedV1

from ..domain.errors import NotFound
from ..domain.tasks import Task, TaskStatus
from .common import Uow
from .rejections import _released, reassign
from .task_config import ACCEPT_TIMER, PICK_PACK_TIMER, PICKUP_HOLD_TIMER
from .tasks import clear_timers, lock_with_order

log = get_logger(__name__)


def _sla_s(payload: dict[str, Any] | None) -> int:
    return int((payload or {}).get("sla_s") or 0)


async def _locked(uow: Uow, task_id: str) -> tuple[Task, list[Task], Any] | None:
    try:
        return await lock_with_order(uow, task_id, None)
    except NotFound:
        log.warning("timer for a task that does not exist; nothing to do", task_id=task_id)
        return None


async def on_accept_sla(uow: Uow, key: str, payload: dict[str, Any] | None) -> None:
    async with uow:
        found = await _locked(uow, key)
        if found is None:
            return
        task, siblings, order = found
        if task.status is not TaskStatus.ASSIGNED:
            log.info("accept SLA timer: the task moved on", task_id=key, status=task.status.value)
            return
        await reassign(uow, task, siblings, order, _sla_s(payload) or 1)
        await uow.repo.save_tasks([task])


async def on_pick_pack_sla(uow: Uow, key: str, payload: dict[str, Any] | None) -> None:
    async with uow:
        found = await _locked(uow, key)
        if found is None:
            return
        task, _, _ = found
        now, sla_s = utcnow(), _sla_s(payload) or 1
        due = task.due_at if task.due_kind == "pick_pack" and task.due_at else now
        minutes = f"{sla_s // 60} min" if sla_s % 60 == 0 else f"{sla_s} s"
        reason = (
            f"not packed within {minutes} of being accepted"
            if task.kind.value == "ship"
            else (f"not ready for pickup within {minutes} of being accepted")
        )
        if not task.escalate(reason, now):
            log.info("pick-and-pack SLA timer: the task moved on", task_id=key, status=task.status.value)
            return
        uow.emit(
            TaskEscalatedV1(
                task_id=task.task_id,
                order_id=task.order_id,
                node_code=task.node_code,
                status=task.status.value,
                sla_s=sla_s,
                due_at=due,
                reason=reason,
                escalated_at=now,
            ),
            key=task.order_id,
        )
        await uow.repo.save_tasks([task])
        log.warning(
            "task escalated: pick-and-pack SLA breached",
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            status=task.status.value,
        )


async def on_pickup_hold(uow: Uow, key: str, payload: dict[str, Any] | None) -> None:
    async with uow:
        found = await _locked(uow, key)
        if found is None:
            return
        task, _, _ = found
        if task.status is not TaskStatus.READY_FOR_PICKUP:
            log.info("pickup hold timer: the task moved on", task_id=key, status=task.status.value)
            return
        now, hold_s = utcnow(), _sla_s(payload) or 1
        hours = f"{hold_s // 3600} h" if hold_s % 3600 == 0 else f"{hold_s} s"
        reason = f"not collected within {hours} of being ready for pickup"
        ready_at = task.ready_at or now
        lines = _released(task.order_lines or task.lines)
        task.cancel(now, reason)
        clear_timers(uow, task)
        uow.emit(
            PickupExpiredV1(
                task_id=task.task_id,
                order_id=task.order_id,
                node_code=task.node_code,
                reservation_id=task.reservation_id,
                lines=lines,
                ready_at=ready_at,
                hold_s=hold_s,
                reason=reason,
                expired_at=now,
            ),
            key=task.order_id,
        )
        await uow.repo.save_tasks([task])
        log.info(
            "pickup not collected: task cancelled",
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
        )


HANDLERS = {ACCEPT_TIMER: on_accept_sla, PICK_PACK_TIMER: on_pick_pack_sla, PICKUP_HOLD_TIMER: on_pickup_hold}
