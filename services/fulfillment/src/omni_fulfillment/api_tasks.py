"""REST routes of tasks, as a node's staff work them: thin (service/task_flow.py does the work).

Every action takes a client-generated action id, in the `Idempotency-Key` header or the body's
`action_id` (both: they must agree): a retry with it does nothing again and answers the task as it is.
Store staff (`X-Omni-Node-Scope`) see and act on their node's tasks only (403 otherwise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo, json_int
from omni_contracts import utcnow

from .api import LineOut, Scope, Text64, _errors, _scope
from .domain.tasks import Task, TaskKind, TaskStatus
from .service import task_flow, tasks
from .service.task_flow import Acted, Ask

router = APIRouter(tags=["tasks"])

ActionId = Annotated[str, Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a client-generated id of this action: a retry with it is done once",
    ),
]
Picked = json_int(0, 1_000_000)
Units = json_int(1, 1_000_000)
Principal = Annotated[str | None, Header(alias="X-Omni-Principal", description="set by the gateway")]


class SlaOut(BaseModel):
    kind: str = Field(description="accept | pick_pack | pickup_hold: what the node must do by due_at")
    due_at: datetime
    seconds_left: int = Field(description="negative once overdue")


class TaskOut(BaseModel):
    task_id: str
    order_id: str
    node_code: str
    node_type: str | None = Field(None, description="store | warehouse; null for a task made before")
    kind: TaskKind
    status: TaskStatus
    reservation_id: str
    group: str | None = Field(
        None, description="split by type: its lines' group (cold_chain, frozen, ...); null: the main group"
    )
    lines: list[LineOut]
    picked: list[LineOut]
    pickup_code: str | None = Field(None, description="store pickups; never shown to store staff")
    accepted_by: str | None
    carrier: str | None
    tracking_no: str | None
    created_at: datetime | None
    accepted_at: datetime | None
    picking_at: datetime | None
    packed_at: datetime | None
    ready_at: datetime | None
    shipped_at: datetime | None
    picked_up_at: datetime | None
    cancelled_at: datetime | None
    released_at: datetime | None = Field(None, description="when it was rejected or reassigned")
    status_reason: str | None = Field(None, description="why it was rejected, reassigned or cancelled")
    sla: SlaOut | None = Field(None, description="the SLA running now, for the countdown")
    escalated_at: datetime | None
    escalation: str | None
    code_sent: int = Field(description="pickup-code messages sent to the buyer")
    locked_until: datetime | None = Field(None, description="too many wrong pickup codes: locked until")
    actions: list[str] = Field(description="what its staff may do next")

    @classmethod
    def of(cls, t: Task, scope: str | None) -> TaskOut:
        now = utcnow()
        sla = None
        if t.due_kind and t.due_at:
            sla = SlaOut(kind=t.due_kind, due_at=t.due_at, seconds_left=int((t.due_at - now).total_seconds()))
        return cls(
            task_id=t.task_id,
            order_id=t.order_id,
            node_code=t.node_code,
            node_type=t.node_type,
            kind=t.kind,
            status=t.status,
            reservation_id=t.reservation_id,
            group=t.group,
            lines=[LineOut(material_code=x.material_code, qty=x.qty) for x in t.lines],
            picked=[LineOut(material_code=x.material_code, qty=x.qty) for x in t.picked],
            pickup_code=t.pickup_code if scope is None else None,
            accepted_by=t.accepted_by,
            carrier=t.carrier,
            tracking_no=t.tracking_no,
            created_at=t.created_at,
            accepted_at=t.accepted_at,
            picking_at=t.picking_at,
            packed_at=t.packed_at,
            ready_at=t.ready_at,
            shipped_at=t.done_at if t.status is TaskStatus.SHIPPED else None,
            picked_up_at=t.done_at if t.status is TaskStatus.PICKED_UP else None,
            cancelled_at=t.cancelled_at,
            released_at=t.released_at,
            status_reason=t.status_reason,
            sla=sla,
            escalated_at=t.escalated_at,
            escalation=t.escalation,
            code_sent=t.code_sent,
            locked_until=t.locked_until if t.locked_until and t.locked_until > now else None,
            actions=t.actions(now),
        )


class TaskPage(PageInfo):
    items: list[TaskOut]
    total: int
    limit: int
    offset: int


class ActionOut(BaseModel):
    action_id: str
    action: str
    outcome: str
    actor: str | None
    detail: str
    at: datetime


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action_id: ActionId | None = Field(None, description="or the Idempotency-Key header")


class AcceptBody(Action):
    staff_id: Text64


class QtyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    material_code: Text64
    qty: Picked


class PickBody(Action):
    lines: list[QtyIn] = Field(
        default_factory=list, max_length=200, description="picked so far, per material"
    )
    scanned_code: Text64 | None = Field(None, description="one unit of the material with this code")


class FinishBody(Action):
    accept_shortage: StrictBool = Field(
        False, description="what is not picked goes back (reason short_pick) and is re-sourced elsewhere"
    )


class ShipBody(Action):
    carrier: Text64
    tracking_no: Text64


class PickupBody(Action):
    pickup_code: str = Field(pattern=r"^[0-9]{6}$", description="the six digits the buyer shows")


class RejectLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    material_code: Text64
    qty: Units


class RejectBody(Action):
    reason_code: Text64
    lines: list[RejectLine] = Field(
        default_factory=list, max_length=200, description="some units only; none: the whole task"
    )
    staff_id: Text64 | None = None


def _ask(task_id: str, scope: str | None, body: Action, key: str | None, actor: str | None) -> Ask:
    if key is not None and body.action_id is not None and key != body.action_id:
        raise HTTPException(422, "the Idempotency-Key header and the body's action_id differ")
    action_id = key if key is not None else body.action_id
    if action_id is not None and not 8 <= len(action_id) <= 100:
        raise HTTPException(422, "an action id is 8-100 characters")
    return Ask(task_id, _scope(scope), actor, action_id)


async def _run(uow: Uow, ask: Ask, action: str, body: BaseModel, step: task_flow.Step) -> TaskOut:
    fields: dict[str, Any] = body.model_dump(exclude={"action_id"})
    with _errors():
        done: Acted = await task_flow.act(uow, ask, action, fields, step)
    if done.outcome == "wrong_code":
        raise HTTPException(422, f"the pickup code does not match task {ask.task_id}")
    if done.outcome == "locked":
        until = done.task.locked_until.isoformat() if done.task.locked_until else "later"
        raise HTTPException(
            423, f"task {ask.task_id} is locked after too many wrong pickup codes until {until}"
        )
    return TaskOut.of(done.task, ask.scope)


@router.get("/tasks", response_model=TaskPage)
async def list_tasks(
    uow: Uow,
    node_code: str | None = None,
    status: TaskStatus | None = None,
    order_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    scope: Scope = None,
) -> TaskPage:
    scope = _scope(scope)
    with _errors():
        found, total = await tasks.list_tasks(
            uow,
            scope=scope,
            node_code=node_code,
            status=status,
            order_id=order_id,
            limit=limit,
            offset=offset,
        )
    return TaskPage(items=[TaskOut.of(t, scope) for t in found], total=total, limit=limit, offset=offset)


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(task_id: str, uow: Uow, scope: Scope = None) -> TaskOut:
    scope = _scope(scope)
    with _errors():
        return TaskOut.of(await tasks.get_task(uow, task_id, scope), scope)


@router.get("/tasks/{task_id}/actions", response_model=list[ActionOut])
async def task_actions(task_id: str, uow: Uow, scope: Scope = None) -> list[ActionOut]:
    """What was done on the task, by which action id, oldest first."""
    with _errors():
        _, done = await tasks.task_history(uow, task_id, _scope(scope))
    return [ActionOut(**a) for a in done]


@router.post("/tasks/{task_id}/accept", response_model=TaskOut)
async def accept(
    task_id: str, body: AcceptBody, uow: Uow, scope: Scope = None, key: KeyHeader = None
) -> TaskOut:
    ask = _ask(task_id, scope, body, key, body.staff_id)
    return await _run(uow, ask, "accept", body, task_flow.accept(body.staff_id))


@router.post("/tasks/{task_id}/start-picking", response_model=TaskOut)
async def start_picking(
    task_id: str, body: Action, uow: Uow, scope: Scope = None, key: KeyHeader = None, who: Principal = None
) -> TaskOut:
    return await _run(
        uow, _ask(task_id, scope, body, key, who), "start_picking", body, task_flow.start_picking()
    )


@router.post("/tasks/{task_id}/pick", response_model=TaskOut)
async def pick(
    task_id: str, body: PickBody, uow: Uow, scope: Scope = None, key: KeyHeader = None, who: Principal = None
) -> TaskOut:
    """Confirm what is picked per material (the count so far), or scan one unit's code."""
    if not body.lines and body.scanned_code is None:
        raise HTTPException(422, "pick names lines (material and quantity picked) or a scanned code")
    step = task_flow.pick([(x.material_code, x.qty) for x in body.lines], body.scanned_code)
    return await _run(uow, _ask(task_id, scope, body, key, who), "pick", body, step)


@router.post("/tasks/{task_id}/pack", response_model=TaskOut)
async def pack(
    task_id: str,
    body: FinishBody,
    uow: Uow,
    scope: Scope = None,
    key: KeyHeader = None,
    who: Principal = None,
) -> TaskOut:
    ask = _ask(task_id, scope, body, key, who)
    return await _run(uow, ask, "pack", body, task_flow.finish(body.accept_shortage, who))


@router.post("/tasks/{task_id}/ready", response_model=TaskOut)
async def ready(
    task_id: str,
    body: FinishBody,
    uow: Uow,
    scope: Scope = None,
    key: KeyHeader = None,
    who: Principal = None,
) -> TaskOut:
    """A pickup is ready at the counter: the buyer is sent the pickup code and the pickup hold starts."""
    ask = _ask(task_id, scope, body, key, who)
    return await _run(uow, ask, "ready", body, task_flow.finish(body.accept_shortage, who))


@router.post("/tasks/{task_id}/ship", response_model=TaskOut)
async def ship(
    task_id: str, body: ShipBody, uow: Uow, scope: Scope = None, key: KeyHeader = None, who: Principal = None
) -> TaskOut:
    """A store's task ships once packed; a warehouse's may ship straight from accepted."""
    step = task_flow.ship(body.carrier, body.tracking_no)
    return await _run(uow, _ask(task_id, scope, body, key, who), "ship", body, step)


@router.post(
    "/tasks/{task_id}/pickup",
    response_model=TaskOut,
    responses={422: {"description": "wrong code"}, 423: {"description": "locked after too many wrong codes"}},
)
async def pickup(
    task_id: str,
    body: PickupBody,
    uow: Uow,
    scope: Scope = None,
    key: KeyHeader = None,
    who: Principal = None,
) -> TaskOut:
    """Hand a ready pickup over to the buyer who shows the code."""
    step = task_flow.handover(body.pickup_code)
    return await _run(uow, _ask(task_id, scope, body, key, who), "pickup", body, step)


@router.post("/tasks/{task_id}/resend-code", response_model=TaskOut)
async def resend_code(
    task_id: str, body: Action, uow: Uow, scope: Scope = None, key: KeyHeader = None, who: Principal = None
) -> TaskOut:
    return await _run(uow, _ask(task_id, scope, body, key, who), "resend_code", body, task_flow.resend_code())


@router.post("/tasks/{task_id}/reject", response_model=TaskOut)
async def reject(
    task_id: str,
    body: RejectBody,
    uow: Uow,
    scope: Scope = None,
    key: KeyHeader = None,
    who: Principal = None,
) -> TaskOut:
    """Give the task (or some of its units) back with a reason: the units are re-sourced at once."""
    actor = body.staff_id or who
    lines = [(x.material_code, x.qty) for x in body.lines] or None
    step = task_flow.reject(body.reason_code, lines, actor)
    return await _run(uow, _ask(task_id, scope, body, key, actor), "reject", body, step)
