"""REST routes of review (审单) on one order and in bulk, and what the rules decided: thin. A held order is
released or approved (a block needs approve), bulk actions are answered per order, the trace explains every
decision (strategy, rules, gifts, holds, sourcing), the gifts say what the rules gave."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, Field

from omni_chassis.app import Uow

from . import service
from .api import Caller, _call
from .api_models import CancelRequest, OrderDetail, _Out
from .api_views import present
from .domain.status import Status

router = APIRouter(prefix="/orders", tags=["orders"])


class ReleaseRequest(CancelRequest):
    """Why the operator lets the order continue (kept on its history and its holds)."""


class TraceEntryOut(_Out):
    stage: str = Field(description="strategy | review | gifts | split | sourcing | carrier")
    subject: str = Field(description="the strategy or rule considered")
    matched: bool
    why: str = Field(description="the condition that decided it, with the order's value")
    effect: str = Field(description="what it did when it matched")
    at: AwareDatetime


class HoldOut(_Out):
    code: str
    reason: str
    rule: str | None
    blocking: bool
    held_at: AwareDatetime
    ended_at: AwareDatetime | None
    ended_by: str | None
    end_reason: str | None


class TraceOut(_Out):
    order_id: str
    status: Status
    strategy: str | None
    decisions: list[TraceEntryOut]
    holds: list[HoldOut]


@router.get("/{order_id}/trace", response_model=TraceOut, summary="Why: every strategy and rule considered")
async def get_trace(uow: Uow, order_id: str) -> dict[str, Any]:
    return await _call(service.trace, uow, order_id)


class GiftOut(_Out):
    gift_id: str
    rule: str = Field(description="the rule (and rule set version) that gave it")
    material_code: str = Field(description="the gift's material, or the substitute given")
    qty: int
    sets: int
    granted_at: AwareDatetime


@router.get("/{order_id}/gifts", response_model=list[GiftOut], summary="The gifts the rules gave this order",
            responses={404: {"description": "no such order"}})  # fmt: skip
async def get_gifts(uow: Uow, order_id: str) -> Any:
    return await _call(service.gifts_of, uow, order_id)


_HELD = {404: {"description": "no such order"}, 409: {"description": "the order is not held, or is blocked"}}


@router.post(
    "/{order_id}/release", response_model=OrderDetail, responses=_HELD, summary="Release a held order"
)
async def release(uow: Uow, order_id: str, body: ReleaseRequest, caller: Caller) -> dict[str, Any]:
    """Ends its holds (not a block) and continues the flow: the order goes to sourcing."""
    await _call(service.release, uow, order_id, body.reason)
    return present(await _call(service.get_order, uow, order_id), caller)


@router.post(
    "/{order_id}/approve", response_model=OrderDetail, responses=_HELD, summary="Approve a held order"
)
async def approve(uow: Uow, order_id: str, body: ReleaseRequest, caller: Caller) -> dict[str, Any]:
    """Ends every hold, a block included, and continues the flow."""
    await _call(service.release, uow, order_id, body.reason, approve=True)
    return present(await _call(service.get_order, uow, order_id), caller)


@router.post(
    "/{order_id}/unmerge", response_model=OrderDetail, summary="Undo a merge (合单) before allocation",
    responses={404: {"description": "no such order"},
               409: {"description": "not a merged order (nor merged into one), or already allocated"}},
)  # fmt: skip
async def unmerge(uow: Uow, order_id: str, body: ReleaseRequest, caller: Caller) -> dict[str, Any]:
    """The merged order (named, or through any of its sources) is cancelled, so fulfillment releases what it
    held, and each source order goes on alone with its own order.accepted. Answers the merged order."""
    done = await _call(service.unmerge, uow, order_id, body.reason)
    return present(await _call(service.get_order, uow, done["order_id"]), caller)


actions_router = APIRouter(tags=["orders"])


class BulkRequest(CancelRequest):
    action: Literal["approve", "release", "cancel"]
    order_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(min_length=1, max_length=500)


class BulkResult(_Out):
    order_id: str
    ok: bool
    status: Status | None = Field(description="the order's status after the action (null: no such order)")
    error: str | None


class BulkOut(_Out):
    done: int
    refused: int
    results: list[BulkResult]


@actions_router.post(
    "/order-bulk-actions", response_model=BulkOut, summary="Approve, release or cancel many orders"
)
async def bulk(uow: Uow, body: BulkRequest) -> dict[str, Any]:
    """Each order on its own: one refused never undoes the others; the answer is per order."""
    results = await service.bulk(uow, body.action, body.order_ids, body.reason)
    done = sum(1 for r in results if r["ok"])
    return {"done": done, "refused": len(results) - done, "results": results}
