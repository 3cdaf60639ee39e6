"""REST routes of what store tasks are configured with and what they leave behind: reject reasons (read by
store staff too; changed by operations, every save a version), SLA policies per node and channel, node
pauses, cycle-count requests (store staff: their node's), and an order's rejections."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo, json_int

from .api import CODE_PATTERN, Scope, _errors, _no_scope, _scope
from .api_tasks import Principal
from .domain.reject_reasons import Next as NextStep
from .domain.reject_reasons import RejectReason
from .domain.sla import SlaPolicy
from .service import task_admin

router = APIRouter()

ReasonCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
NodeOrAny = Annotated[str, Path(min_length=1, max_length=64, pattern=rf"({CODE_PATTERN})|(^\*$)")]
Seconds = json_int(0, 30 * 24 * 3600) | None
Minutes = json_int(1, 7 * 24 * 60) | None


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=200)
    zero_stock: StrictBool = Field(False, description="the node's stock of those materials goes to 0")
    request_count: StrictBool = Field(False, description="a cycle count of those materials is requested")
    pause_minutes: Minutes = Field(None, description="the node takes no new orders for that long")
    next: NextStep = Field(NextStep.NEXT_BEST_NODE, description="where the units go next")
    active: StrictBool = True


class ReasonOut(ReasonBody):
    code: str
    system: bool = Field(description="used by fulfillment itself (short_pick): editable, never deleted")
    version: int
    effects: str

    @classmethod
    def of(cls, r: RejectReason) -> ReasonOut:
        return cls(
            code=r.code,
            label=r.label,
            zero_stock=r.zero_stock,
            request_count=r.request_count,
            pause_minutes=r.pause_minutes,
            next=r.next,
            active=r.active,
            system=r.system,
            version=r.version,
            effects=r.effects(),
        )


class ReasonVersion(BaseModel):
    version: int
    doc: dict[str, Any]
    changed_at: datetime
    changed_by: str | None


class ReasonDetail(ReasonOut):
    versions: list[ReasonVersion]


@router.get("/reject-reasons", response_model=list[ReasonOut], tags=["tasks"])
async def list_reasons(uow: Uow, active: bool | None = None) -> list[ReasonOut]:
    with _errors():
        return [ReasonOut.of(r) for r in await task_admin.list_reasons(uow, active)]


@router.get("/reject-reasons/{code}", response_model=ReasonDetail, tags=["tasks"])
async def get_reason(code: str, uow: Uow) -> ReasonDetail:
    with _errors():
        found, versions = await task_admin.get_reason(uow, code)
    return ReasonDetail(**ReasonOut.of(found).model_dump(), versions=[ReasonVersion(**v) for v in versions])


@router.put(
    "/reject-reasons/{code}",
    response_model=ReasonOut,
    tags=["tasks"],
    responses={201: {"model": ReasonOut, "description": "created"}},
)
async def put_reason(
    code: ReasonCode,
    body: ReasonBody,
    uow: Uow,
    response: Response,
    scope: Scope = None,
    who: Principal = None,
) -> ReasonOut:
    """Create or replace a reason: a new version, kept with who saved it (unchanged: no new version)."""
    _no_scope(scope)
    reason = RejectReason(
        code, body.label, body.zero_stock, body.request_count, body.pause_minutes, body.next, body.active
    )
    with _errors():
        saved, created = await task_admin.put_reason(uow, reason, who)
    response.status_code = 201 if created else 200
    return ReasonOut.of(saved)


@router.delete("/reject-reasons/{code}", response_model=ReasonOut, tags=["tasks"])
async def delete_reason(code: str, uow: Uow, scope: Scope = None, who: Principal = None) -> ReasonOut:
    """Delete a reason (its versions stay; a deletion is a version too). Tasks rejected with it keep it."""
    _no_scope(scope)
    with _errors():
        return ReasonOut.of(await task_admin.delete_reason(uow, code, who))


# -- SLA policies --------------------------------------------------------------------------------------------
class SlaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accept_s: Seconds = Field(None, description="to accept a new task (0: no accept SLA; null: inherit)")
    pick_pack_s: Seconds = Field(None, description="from accepted to packed or ready for pickup")
    pickup_hold_s: Seconds = Field(None, description="a ready pickup waits this long for its buyer")


class SlaOut(SlaBody):
    node_code: str = Field(description="a node, or * for every node")
    channel: str = Field(description="a channel, or * for every channel")


@router.get("/sla-policies", response_model=list[SlaOut], tags=["tasks"])
async def list_sla_policies(uow: Uow, node_code: str | None = None) -> list[SlaOut]:
    with _errors():
        found = await task_admin.list_sla_policies(uow, node_code)
    return [SlaOut(**vars(p)) for p in found]


@router.put(
    "/sla-policies/{node_code}/{channel}",
    response_model=SlaOut,
    tags=["tasks"],
    responses={201: {"model": SlaOut, "description": "created"}},
)
async def put_sla_policy(
    node_code: NodeOrAny,
    channel: NodeOrAny,
    body: SlaBody,
    uow: Uow,
    response: Response,
    scope: Scope = None,
    who: Principal = None,
) -> SlaOut:
    """The SLAs of a node (or *) for orders of a channel (or *); each value null inherits, 0 turns it off.
    New SLAs use it; the timers already running keep their due time."""
    _no_scope(scope)
    policy = SlaPolicy(node_code, channel, body.accept_s, body.pick_pack_s, body.pickup_hold_s)
    with _errors():
        created = await task_admin.put_sla_policy(uow, policy, who)
    response.status_code = 201 if created else 200
    return SlaOut(**vars(policy))


@router.delete("/sla-policies/{node_code}/{channel}", status_code=204, tags=["tasks"])
async def delete_sla_policy(node_code: str, channel: str, uow: Uow, scope: Scope = None) -> Response:
    _no_scope(scope)
    with _errors():
        await task_admin.delete_sla_policy(uow, node_code, channel)
    return Response(status_code=204)


# -- node pauses and cycle-count requests --------------------------------------------------------------------
class PauseOut(BaseModel):
    node_code: str
    until: datetime
    reason: str


@router.get("/node-pauses", response_model=list[PauseOut], tags=["nodes"])
async def list_pauses(uow: Uow) -> list[PauseOut]:
    """The nodes sourcing skips until then (a store rejected a task as too busy)."""
    with _errors():
        found = await task_admin.list_pauses(uow)
    return [PauseOut(node_code=c, until=u, reason=r) for c, (u, r) in found.items()]


@router.delete("/node-pauses/{node_code}", status_code=204, tags=["nodes"])
async def resume_node(node_code: str, uow: Uow, scope: Scope = None) -> Response:
    _no_scope(scope)
    with _errors():
        await task_admin.resume_node(uow, node_code)
    return Response(status_code=204)


class CountRequestOut(BaseModel):
    id: int
    node_code: str
    material_code: str
    task_id: str
    reason_code: str
    requested_at: datetime
    done_at: datetime | None
    done_by: str | None


class CountRequestPage(PageInfo):
    items: list[CountRequestOut]
    total: int
    limit: int
    offset: int


@router.get("/count-requests", response_model=CountRequestPage, tags=["tasks"])
async def list_count_requests(
    uow: Uow,
    node_code: str | None = None,
    open: bool = True,
    limit: Limit = 50,
    offset: Offset = 0,
    scope: Scope = None,
) -> CountRequestPage:
    """Cycle counts requested (a store said it is out of stock); done when inventory records the count."""
    scope = _scope(scope)
    if scope is not None and node_code not in (None, scope):
        raise HTTPException(403, f"you may only see the requests of node {scope}")
    with _errors():
        found, total = await task_admin.list_count_requests(
            uow, node_code=scope or node_code, open_only=open, limit=limit, offset=offset
        )
    return CountRequestPage(
        items=[CountRequestOut(**r) for r in found], total=total, limit=limit, offset=offset
    )


@router.post("/count-requests/{request_id}/done", status_code=204, tags=["tasks"])
async def close_count_request(
    request_id: Annotated[int, Path(ge=1, le=2**63 - 1)], uow: Uow, scope: Scope = None, who: Principal = None
) -> Response:
    _no_scope(scope)
    with _errors():
        await task_admin.close_count_request(uow, request_id, who or "operations")
    return Response(status_code=204)


class RejectionOut(BaseModel):
    task_id: str
    node_code: str
    kind: str
    reason_code: str
    reason: str
    lines: list[dict[str, Any]]
    next: str
    outcome: str
    actor: str | None
    at: datetime


@router.get("/sourcing/{order_id}/rejections", response_model=list[RejectionOut], tags=["sourcing"])
async def order_rejections(order_id: str, uow: Uow, scope: Scope = None) -> list[RejectionOut]:
    """Every time a node gave the order's units back (rejected, short at picking, not accepted in time)."""
    if _scope(scope) is not None:
        raise HTTPException(403, "store staff cannot read an order's sourcing; see your node's tasks")
    with _errors():
        return [RejectionOut(**r) for r in await task_admin.order_rejections(uow, order_id)]
