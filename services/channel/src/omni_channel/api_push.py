"""REST of the stock push: thin. Validate, call the service, shape the answer (errors: problem+json)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo

from . import service
from .api import clock
from .tables import PUSH_STATES

router = APIRouter(tags=["stock push"])

StateName = Literal["pending", "retrying", "acknowledged", "refused", "credentials", "unsupported"]
assert set(StateName.__args__) == set(PUSH_STATES)  # type: ignore[attr-defined]
ListingId = Annotated[str, Path(pattern=r"^[^\s/\x00-\x1f\x85]{1,200}$", description="the listing's id")]


class PushStatusOut(BaseModel):
    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    channel_sku_id: str | None
    state: StateName = Field(description="pending, retrying, acknowledged, refused, credentials, unsupported")
    desired_qty: int = Field(description="what Omni wants the platform to show (the newest seq's number)")
    desired_seq: int
    rules_version: int
    computed_at: AwareDatetime
    pushed_qty: int | None = Field(description="the last number the platform acknowledged")
    pushed_seq: int | None
    acknowledged_at: AwareDatetime | None
    platform_qty: int | None = Field(description="what the platform said it shows after that push")
    platform_answer: str | None
    next_attempt_at: AwareDatetime | None = Field(description="when the next push goes out; null: none due")
    attempts: int = Field(description="failed attempts for the current number")
    last_error: str | None = Field(description="the platform's message of the last refusal or failure")
    last_attempt_at: AwareDatetime | None
    claimed_until: AwareDatetime | None = Field(description="a push is in flight until then")
    drift_qty: int | None = Field(description="what the platform showed instead, when drift was last seen")
    drift_seen_at: AwareDatetime | None
    drifts: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class AttemptOut(BaseModel):
    kind: Literal["push", "drift"]
    seq: int
    quantity: int
    outcome: str
    detail: str | None
    code: int | None
    sub_code: str | None
    platform_qty: int | None
    started_at: AwareDatetime
    finished_at: AwareDatetime


class PushStatusDetail(PushStatusOut):
    history: list[AttemptOut] = Field(description="the last attempts, newest first")


class PushStatusPage(PageInfo):
    items: list[PushStatusOut]


class ResyncOut(BaseModel):
    listing_id: str
    state: StateName


class DriftProblem(BaseModel):
    listing_id: str
    reason: str


class DriftCheckOut(BaseModel):
    started_at: AwareDatetime
    finished_at: AwareDatetime | None
    checked: int = Field(description="listings read back from their platform")
    drifted: int = Field(description="listings whose platform quantity differed: now due for a resync")
    errors: int
    problems: list[DriftProblem] = Field(description="the first listings that could not be read, and why")


@router.get("/push-status", response_model=PushStatusPage)
async def list_push_status(
    uow: Uow,
    state: StateName | None = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
    listing_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Every listing's push status, by listing id."""
    items, total = await service.list_push_status(
        uow, state=state, channel=channel, shop_id=shop_id, listing_id=listing_id, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/drift-checks", response_model=DriftCheckOut)
async def run_drift_check(request: Request) -> Any:
    """Run the drift check now: read every acknowledged listing back from its platform; each difference is
    recorded and the listing pushed again."""
    summary = await request.app.state.drift.run_now()
    return summary.as_dict()


@router.get("/push-status/{listing_id}", response_model=PushStatusDetail)
async def get_push_status(listing_id: ListingId, uow: Uow) -> Any:
    """Desired vs acknowledged, attempts, the last error, drift seen, and the last attempts."""
    found = await service.push_status_of(uow, listing_id)
    if found is None:
        raise HTTPException(404, f"no push status for listing {listing_id!r}")
    return found


@router.post("/push-status/{listing_id}/resync", response_model=ResyncOut, status_code=202)
async def resync(
    listing_id: ListingId, uow: Uow, request: Request, now: Annotated[datetime, Depends(clock)]
) -> Any:
    """Push the listing's desired number again now (also after a refusal)."""
    if not await service.resync(uow, listing_id, now=now, wake=request.app.state.push_signal.wake):
        raise HTTPException(404, f"no push status for listing {listing_id!r}")
    return {"listing_id": listing_id, "state": "pending"}
