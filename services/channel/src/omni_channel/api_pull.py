"""REST of the order pull (JD, Pinduoduo): thin. Each shop's sync state, and running one now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo

from .api import ShopId, clock
from .service import pull_sync

router = APIRouter(tags=["order pull"])

PullChannel = Literal["jd", "pdd"]
assert set(PullChannel.__args__) == set(pull_sync.PULL_CHANNELS)  # type: ignore[attr-defined]


class CursorOut(BaseModel):
    channel: str
    shop_id: str
    cursor: AwareDatetime | None = Field(description="every order modified before this has been fetched")
    window_start: AwareDatetime | None = Field(description="the window being fetched (null: none)")
    window_end: AwareDatetime | None
    page: int = Field(description="the window's next page")
    fetched: int = Field(description="orders fetched, all time (an overlap fetches some twice)")
    published: int = Field(description="new payloads recorded (published, or acknowledged as not to ship)")
    refused: int = Field(
        description="pulled orders that did not normalise: recorded with their problem paths"
    )
    failures: int = Field(description="consecutive failed calls (0: the last call worked)")
    last_error: str | None
    last_run_at: AwareDatetime | None
    last_success_at: AwareDatetime | None
    next_run_at: AwareDatetime | None = Field(description="when the shop's sync runs next, as last scheduled")


class CursorPage(PageInfo):
    items: list[CursorOut]


@router.get("/pull-cursors", response_model=CursorPage)
async def list_cursors(
    uow: Uow,
    channel: PullChannel | None = None,
    failing: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Every pulled shop's sync state; `failing=true`: those whose last call failed."""
    items, total = await pull_sync.list_cursors(
        uow, channel=channel, failing=failing, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/pull-cursors/{channel}/{shop_id}", response_model=CursorOut)
async def get_cursor(channel: PullChannel, shop_id: ShopId, uow: Uow) -> Any:
    found = await pull_sync.get_cursor(uow, channel, shop_id)
    if found is None:
        raise HTTPException(404, f"no order pull has run for {channel} shop {shop_id!r}")
    return found


@router.post("/pull-cursors/{channel}/{shop_id}/run", response_model=CursorOut, status_code=202)
async def run_now(
    channel: PullChannel, shop_id: ShopId, uow: Uow, now: Annotated[datetime, Depends(clock)]
) -> Any:
    """Run the shop's sync now (after fixing its credentials, or to catch up at once); answers the state
    before the run. 409: the shop is inactive."""
    return await pull_sync.request_pull(uow, channel, shop_id, now=now)
