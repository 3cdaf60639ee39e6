"""A node gives units back: its staff rejected a task or some of its lines, picked fewer than asked, or did
not accept the task within its SLA. The units leave the task (inventory releases them from the
reservation), the reason's effects apply (the node's stock of those materials to 0 and a cycle count
requested, or the node paused), and the units are re-sourced at once to the next best node, the giving node
kept out (domain/resourcing.py). Never back to manual review: an order that used every re-source it may
(`max_resources`), or whose reason says so, is given up on whole, and the OMS backorders it (or holds it,
per `exhausted`). Every step is in the order's decision trace (`sourcing-decided`) and in
`task_rejections`, whose rows are the re-sources the order used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.fulfillment_tasks import ReleasedLine, TaskReassignedV1, TaskRejectedV1

from ..domain.errors import Conflict
from ..domain.lines import LinePart
from ..domain.order_sourcing import GaveUp, Ignored, OrderSourcing, Requested
from ..domain.reject_reasons import ACCEPT_TIMEOUT, Next, RejectReason
from ..domain.resourcing import give_up, resource
from ..domain.sourcing import Line
from ..domain.tasks import REJECTABLE, Task
from . import task_hooks
from .common import Uow
from .outcomes import Batch, apply
from .task_config import Exhausted, config
from .tasks import clear_timers

log = get_logger(__name__)


def _released(parts: Sequence[LinePart | Line]) -> list[ReleasedLine]:
    return [
        ReleasedLine(material_code=p.material_code, qty=p.qty, line_id=getattr(p, "line_id", None))
        for p in parts
        if p.qty
    ]


def _merged(lines: Sequence[Line]) -> list[Line]:
    qty: dict[str, int] = {}
    for x in lines:
        qty[x.material_code] = qty.get(x.material_code, 0) + x.qty
    return [Line(m, q) for m, q in qty.items() if q > 0]


async def give_back(
    uow: Uow,
    task: Task,
    siblings: list[Task],
    order: OrderSourcing | None,
    lines: Sequence[Line],
    reason: RejectReason,
    *,
    kind: str,
    whole: bool,
    actor: str | None,
    why: str,
) -> str:
    """Staff give `lines` of `task` back for `reason` (whole: the task ends rejected). Returns what became
    of the units, in a sentence."""
    now = utcnow()
    lines = _merged(lines)
    if whole:
        parts: list[LinePart | Line] = list(task.order_lines or task.lines)
        task.reject(why, now)
        clear_timers(uow, task)
    else:
        if task.status not in REJECTABLE:
            raise Conflict(
                f"task {task.task_id} is {task.status.value}: only an assigned, accepted or picking task "
                "can give units back"
            )
        parts = [p for x in lines for p in task.give_back(x.material_code, x.qty)]
    materials = sorted({x.material_code for x in lines})
    paused_until = None
    if reason.zero_stock:
        # believed at once here; inventory sets the node's available to 0 when it reads the event
        await uow.repo.set_available([(task.node_code, m, 0) for m in materials])
    if reason.request_count:
        await uow.repo.request_counts(task.node_code, materials, task.task_id, reason.code, now)
    if reason.pause_minutes:
        paused_until = now + timedelta(minutes=reason.pause_minutes)
        await uow.repo.pause_node(
            task.node_code, paused_until, f"{reason.code}: {reason.label}", task.task_id, now
        )
        log.info("node paused", node_code=task.node_code, until=paused_until.isoformat(), reason=reason.code)
    uow.emit(
        TaskRejectedV1(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            reservation_id=task.reservation_id,
            reason_code=reason.code,
            reason=reason.label,
            lines=_released(parts),
            whole=whole,
            stock_out=materials if reason.zero_stock else [],
            count_requested=materials if reason.request_count else [],
            paused_until=paused_until,
            next=reason.next.value,
            rejected_by=actor,
            rejected_at=now,
        ),
        key=task.order_id,
    )
    outcome = await resource_given(uow, task, siblings, order, lines, why, reason.next, whole=whole, now=now)
    await uow.repo.add_rejection(
        {
            "order_id": task.order_id,
            "task_id": task.task_id,
            "node_code": task.node_code,
            "kind": kind,
            "reason_code": reason.code,
            "reason": why,
            "lines": [x.model_dump() for x in _released(parts)],
            "next": reason.next.value,
            "outcome": outcome,
            "actor": actor,
            "at": now,
        }
    )
    log.info(
        "units given back",
        task_id=task.task_id,
        order_id=task.order_id,
        node_code=task.node_code,
        reason=reason.code,
        whole=whole,
        outcome=outcome,
    )
    return outcome


async def reassign(
    uow: Uow, task: Task, siblings: list[Task], order: OrderSourcing | None, sla_s: int
) -> str | None:
    """The accept SLA ran out on a task still assigned: it moves to the next best node. None: it was
    accepted (or ended) meanwhile, nothing to do."""
    now = utcnow()
    minutes = f"{sla_s // 60} min" if sla_s % 60 == 0 else f"{sla_s} s"
    why = f"node {task.node_code} did not accept the task within {minutes}"
    parts: list[LinePart | Line] = list(task.order_lines or task.lines)
    lines = list(task.lines)
    if not task.reassign(why, now):
        return None
    clear_timers(uow, task)
    uow.emit(
        TaskReassignedV1(
            task_id=task.task_id,
            order_id=task.order_id,
            node_code=task.node_code,
            reservation_id=task.reservation_id,
            lines=_released(parts),
            sla_s=sla_s,
            reason=why,
            reassigned_at=now,
        ),
        key=task.order_id,
    )
    outcome = await resource_given(
        uow, task, siblings, order, lines, why, Next.NEXT_BEST_NODE, whole=True, now=now
    )
    await uow.repo.add_rejection(
        {
            "order_id": task.order_id,
            "task_id": task.task_id,
            "node_code": task.node_code,
            "kind": "accept_timeout",
            "reason_code": ACCEPT_TIMEOUT,
            "reason": why,
            "lines": [x.model_dump() for x in _released(parts)],
            "next": Next.NEXT_BEST_NODE.value,
            "outcome": outcome,
            "actor": None,
            "at": now,
        }
    )
    log.info(
        "task reassigned: accept SLA ran out",
        task_id=task.task_id,
        order_id=task.order_id,
        node_code=task.node_code,
        outcome=outcome,
    )
    return outcome


async def resource_given(
    uow: Uow,
    task: Task,
    siblings: list[Task],
    order: OrderSourcing | None,
    lines: Sequence[Line],
    why: str,
    next_: Next,
    *,
    whole: bool,
    now: datetime,
) -> str:
    """Place the units elsewhere (or give the order up), staging the decision, the reservation requests or
    the give-up in this unit of work."""
    if order is None:
        raise Conflict(f"order {task.order_id} of task {task.task_id} has no sourcing here")
    repo, cfg = uow.repo, config()
    used = await repo.resources_used(task.order_id, order.first_attempt)  # in this sourcing (a retry: anew)
    view = await repo.load_view(
        {x.material_code for x in lines}, [order.pickup_node] if order.pickup_node else []
    )
    keep_out = await task_hooks.skip_paused(uow, view, now)
    if next_ is Next.WAREHOUSES_ONLY:
        types = await repo.node_types(view.nodes)
        why_not = "a store: the reason sends these lines to a warehouse"
        keep_out |= {c: why_not for c, t in types.items() if t == "store"}
    held = task.reservation_id if whole else None
    outcome: Requested | GaveUp | Ignored
    if next_ is Next.BACKORDER:
        outcome = give_up(
            order,
            lines,
            task.group,
            task.node_code,
            why,
            view,
            left="the reason sends the order to wait for stock (backorder)",
            short=True,
            whole_reservation=held,
        )
    elif used >= cfg.max_resources:
        left = f"no re-source left ({used} of {cfg.max_resources} used)"
        outcome = give_up(
            order,
            lines,
            task.group,
            task.node_code,
            why,
            view,
            left=left,
            short=cfg.exhausted is Exhausted.BACKORDER,
            whole_reservation=held,
        )
    else:
        outcome = resource(
            order, lines, task.group, task.node_code, why, view, whole_reservation=held, keep_out=keep_out
        )
    batch = Batch.open(uow)
    batch.live[task.order_id] = [task, *siblings]
    batch.orders[task.order_id] = order
    batch.changed_tasks.append(task)
    apply(batch, order, outcome, None)
    if isinstance(outcome, Requested):
        return "re-sourced at " + ", ".join(sorted({r.node_code for r in outcome.reservations}))
    if isinstance(outcome, GaveUp):
        return f"gave up: {outcome.reason}"
    return outcome.why
