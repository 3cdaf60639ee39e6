"""The staff's actions on a task, from accept to handover (domain/tasks.py has the state machine).

Every action may carry a client-generated action id (`Idempotency-Key`): it is claimed in `task_actions`
in the action's own unit of work, so a retry (a poor network, a double tap) finds it and does nothing again;
the same id for another task, action or body is refused. Without one, the action is not deduplicated
(the state machine still refuses most repeats).

The SLAs follow the task: accepting stops the accept SLA and starts pick-and-pack; packing (or ready for
pickup) stops it, and ready starts the pickup hold; leaving (shipped, picked up) stops every SLA. Ready sends
the buyer the pickup code (`fulfillment.pickup-code-issued`), which can be resent. A wrong code counts;
after `code_max_failures` wrong codes in a row the task locks for `code_lock` and the lock is logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.fulfillment import PickedUpV2, ShippedV2, TaskAcceptedV1
from omni_contracts.events.fulfillment_tasks import PickupCodeIssuedV1

from ..domain.errors import Conflict, Invalid
from ..domain.order_sourcing import OrderSourcing
from ..domain.reject_reasons import DEFAULT_SHORT_PICK, SHORT_PICK
from ..domain.sourcing import Line
from ..domain.tasks import PickupOutcome, Task, TaskStatus
from . import rejections
from .common import Uow
from .task_config import PICK_PACK_TIMER, PICKUP_HOLD_TIMER, config
from .tasks import clear_timers, lock_with_order, maybe_fulfilled, shipped_lines, sla_of, start_sla

log = get_logger(__name__)


@dataclass(frozen=True)
class Acted:
    task: Task
    outcome: str = "done"  # done | wrong_code | locked
    repeated: bool = False  # the action id was seen before: nothing was done again


@dataclass(frozen=True)
class Ask:
    """Who asks what: the task, the caller's node scope, the staff member, the client's action id."""

    task_id: str
    scope: str | None = None
    actor: str | None = None
    action_id: str | None = None


Step = Callable[[Uow, Task, list[Task], OrderSourcing | None], Awaitable[str]]


def digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


async def act(uow: Uow, ask: Ask, action: str, body: dict[str, Any], step: Step) -> Acted:
    """Run one action on a task in one unit of work, once per action id."""
    async with uow:
        if ask.action_id:
            seen = await uow.repo.claim_action(
                ask.action_id, ask.task_id, action, digest(body), ask.actor, utcnow()
            )
            if seen is not None:
                if (seen["task_id"], seen["action"], seen["digest"]) != (ask.task_id, action, digest(body)):
                    raise Conflict(
                        f"action id {ask.action_id} was used for {seen['action']} of task {seen['task_id']} "
                        "with other content; use a new id for a new action"
                    )
                task, _, _ = await lock_with_order(uow, ask.task_id, ask.scope)
                log.info(
                    "action repeated; nothing done again",
                    task_id=ask.task_id,
                    action=action,
                    action_id=ask.action_id,
                )
                return Acted(task, seen["outcome"], repeated=True)
        task, siblings, order = await lock_with_order(uow, ask.task_id, ask.scope)
        outcome = await step(uow, task, siblings, order)
        await uow.repo.save_tasks([task])
        if ask.action_id and outcome != "done":
            await uow.repo.finish_action(ask.action_id, outcome)
    return Acted(task, outcome)


# -- the steps -----------------------------------------------------------------------------------------------
def accept(staff_id: str) -> Step:
    async def step(uow: Uow, task: Task, _s: list[Task], _o: OrderSourcing | None) -> str:
        now = utcnow()
        task.accept(staff_id, now)
        sla = await sla_of(uow, task)
        start_sla(uow, task, "pick_pack", PICK_PACK_TIMER, sla.pick_pack_s, now)
        uow.emit(
            TaskAcceptedV1(
                task_id=task.task_id, order_id=task.order_id, node_code=task.node_code, accepted_by=staff_id
            ),
            key=task.order_id,
        )
        log.info("task accepted", task_id=task.task_id, order_id=task.order_id, node_code=task.node_code)
        return "done"

    return step


def start_picking() -> Step:
    async def step(uow: Uow, task: Task, _s: list[Task], _o: OrderSourcing | None) -> str:
        task.start_picking(utcnow())
        return "done"

    return step


def pick(lines: list[tuple[str, int]], scanned: str | None) -> Step:
    """Set what is picked per material (confirm), or add one unit of a scanned code."""

    async def step(uow: Uow, task: Task, _s: list[Task], _o: OrderSourcing | None) -> str:
        now = utcnow()
        if scanned is not None:
            task.scan(scanned, now)
        for material, qty in lines:
            task.pick(material, qty, now)
        return "done"

    return step


def finish(accept_shortage: bool, actor: str | None) -> Step:
    """Pack a ship task, or make a pickup ready (its code goes to the buyer). What is not picked is a
    shortage: refused, unless accepted, when those units go back (reason short_pick) and are re-sourced."""

    async def step(uow: Uow, task: Task, siblings: list[Task], order: OrderSourcing | None) -> str:
        now = utcnow()
        short = task.shortage()
        if short and accept_shortage:
            reason = await uow.repo.get_reason(SHORT_PICK) or DEFAULT_SHORT_PICK
            whole = sum(x.qty for x in short) == sum(x.qty for x in task.lines)
            await rejections.give_back(
                uow,
                task,
                siblings,
                order,
                list(short),
                reason,
                kind="short_pick",
                whole=whole,
                actor=actor,
                why=f"short at picking at {task.node_code}",
            )
            if whole or task.status is TaskStatus.CANCELLED:  # rejected, or the order was given up on
                return "done"
        if task.kind.value == "pickup":
            task.ready(now)
            sla = await sla_of(uow, task)
            start_sla(uow, task, "pickup_hold", PICKUP_HOLD_TIMER, sla.pickup_hold_s, now)
            await send_code(uow, task)
        else:
            task.pack(now)
            clear_timers(uow, task)
        return "done"

    return step


def ship(carrier: str, tracking_no: str) -> Step:
    async def step(uow: Uow, task: Task, siblings: list[Task], order: OrderSourcing | None) -> str:
        now = utcnow()
        task.ship(carrier, tracking_no, now)
        clear_timers(uow, task)
        uow.emit(
            ShippedV2(
                task_id=task.task_id,
                order_id=task.order_id,
                node_code=task.node_code,
                reservation_id=task.reservation_id,
                carrier=carrier,
                tracking_no=tracking_no,
                lines=shipped_lines(task),
                shipped_at=now,
            ),
            key=task.order_id,
        )
        log.info("task shipped", task_id=task.task_id, order_id=task.order_id, carrier=carrier)
        await maybe_fulfilled(uow, task, siblings, now, order)
        return "done"

    return step


def handover(code: str) -> Step:
    async def step(uow: Uow, task: Task, siblings: list[Task], order: OrderSourcing | None) -> str:
        now, cfg = utcnow(), config()
        was_locked = task.locked_until
        outcome = task.pickup(code, now, max_failures=cfg.code_max_failures, lock_for=cfg.code_lock)
        if outcome is PickupOutcome.LOCKED:
            log.info(
                "pickup code refused: the task is locked",
                task_id=task.task_id,
                node_code=task.node_code,
                locked_until=task.locked_until.isoformat() if task.locked_until else None,
            )
            return outcome.value
        if outcome is PickupOutcome.WRONG_CODE:
            if task.locked_until is not None and task.locked_until != was_locked:
                log.warning(
                    "pickup code guessed wrong too often: task locked",
                    task_id=task.task_id,
                    order_id=task.order_id,
                    node_code=task.node_code,
                    failures=cfg.code_max_failures,
                    locked_until=task.locked_until.isoformat(),
                )
            else:
                log.info(
                    "wrong pickup code",
                    task_id=task.task_id,
                    node_code=task.node_code,
                    failures=task.code_failures,
                )
            return outcome.value
        clear_timers(uow, task)
        uow.emit(
            PickedUpV2(
                task_id=task.task_id,
                order_id=task.order_id,
                node_code=task.node_code,
                reservation_id=task.reservation_id,
                lines=shipped_lines(task),
                picked_up_at=now,
            ),
            key=task.order_id,
        )
        log.info("task picked up", task_id=task.task_id, order_id=task.order_id)
        await maybe_fulfilled(uow, task, siblings, now, order)
        return "done"

    return step


def resend_code() -> Step:
    async def step(uow: Uow, task: Task, _s: list[Task], _o: OrderSourcing | None) -> str:
        if task.status is not TaskStatus.READY_FOR_PICKUP:
            raise Conflict(
                f"task {task.task_id} is {task.status.value}: a pickup code is sent once the task is ready "
                "for pickup"
            )
        await send_code(uow, task)
        return "done"

    return step


def reject(reason_code: str, lines: list[tuple[str, int]] | None, actor: str | None) -> Step:
    """Give the whole task back (no lines), or some of its units, with a configured reason."""

    async def step(uow: Uow, task: Task, siblings: list[Task], order: OrderSourcing | None) -> str:
        reason = await uow.repo.get_reason(reason_code)
        if reason is None or not reason.active:
            known = ", ".join(r.code for r in await uow.repo.list_reasons(active=True))
            raise Invalid(f"{reason_code} is not an active reject reason (the reasons: {known})")
        asked = [Line(m, q) for m, q in lines] if lines else list(task.lines)
        whole = not lines or sorted((x.material_code, x.qty) for x in asked) == sorted(
            (x.material_code, x.qty) for x in task.lines
        )
        why = f"node {task.node_code} rejected the task ({reason.code}: {reason.label})"
        await rejections.give_back(
            uow,
            task,
            siblings,
            order,
            asked,
            reason,
            kind="rejected",
            whole=whole,
            actor=actor,
            why=why,
        )
        return "done"

    return step


async def send_code(uow: Uow, task: Task) -> None:
    """The buyer is told the pickup code (the channel makes it a platform message)."""
    if task.pickup_code is None:
        raise Conflict(f"task {task.task_id} has no pickup code")
    node = await uow.repo.get_node(task.node_code)
    refs = (await uow.repo.order_refs([task.order_id])).get(task.order_id)
    task.code_sent += 1
    task.changed = True
    uow.emit(
        PickupCodeIssuedV1(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            node_name=node.name if node else "",
            channel=refs[0] if refs else None,
            shop_id=refs[1] if refs else None,
            channel_order_id=refs[2] if refs else None,
            pickup_code=task.pickup_code,
            sent=task.code_sent,
            collect_by=task.due_at if task.due_kind == "pickup_hold" else None,
            issued_at=utcnow(),
        ),
        key=task.order_id,
    )
    log.info(
        "pickup code sent to the buyer", task_id=task.task_id, order_id=task.order_id, sent=task.code_sent
    )


# -- the actions as calls (tools, tests): one task, one action ---------------------------------------------
async def accept_task(
    uow: Uow, task_id: str, staff_id: str, scope: str | None = None, *, action_id: str | None = None
) -> Task:
    ask = Ask(task_id, scope, staff_id, action_id)
    return (await act(uow, ask, "accept", {"staff_id": staff_id}, accept(staff_id))).task


async def ship_task(
    uow: Uow,
    task_id: str,
    carrier: str,
    tracking_no: str,
    scope: str | None = None,
    *,
    action_id: str | None = None,
) -> Task:
    body = {"carrier": carrier, "tracking_no": tracking_no}
    return (
        await act(uow, Ask(task_id, scope, None, action_id), "ship", body, ship(carrier, tracking_no))
    ).task


async def pickup_task(
    uow: Uow, task_id: str, pickup_code: str, scope: str | None = None, *, action_id: str | None = None
) -> Task:
    """Hand over; a wrong code is counted (committed), then refused (Invalid); a locked task is refused
    (Conflict)."""
    body = {"pickup_code": pickup_code}
    done = await act(uow, Ask(task_id, scope, None, action_id), "pickup", body, handover(pickup_code))
    if done.outcome == PickupOutcome.WRONG_CODE.value:
        raise Invalid(f"the pickup code does not match task {task_id}")
    if done.outcome == PickupOutcome.LOCKED.value:
        raise Conflict(f"task {task_id} is locked after too many wrong pickup codes")
    return done.task
