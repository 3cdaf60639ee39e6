"""REST of the shipment write-back: thin. Validate, call the service, shape the answer (problem+json)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo

from .api import clock
from .service import writeback
from .tables import WRITEBACK_STATES

router = APIRouter(tags=["shipment write-back"])

StateName = Literal["waiting", "pending", "retrying", "acknowledged", "refused", "credentials", "unsupported"]
assert set(StateName.__args__) == set(WRITEBACK_STATES)  # type: ignore[attr-defined]
WritebackId = Annotated[
    str,
    Path(
        pattern=r"^[^\s/\x00-\x1f\x85]{1,200}$",
        description="the shipped task's id (a merged order's: <task id>:<source order id>)",
    ),
]
Text200 = Annotated[str | None, Query(max_length=200)]


class WritebackOut(BaseModel):
    writeback_id: str = Field(
        description="the fulfillment task that shipped; a merged order's (合单) task has one write-back per "
        "source's platform order: <task id>:<source order id>"
    )
    task_id: str = Field(description="the fulfillment task that shipped")
    order_id: str = Field(description="the Omni order shipped (a merged order's id for each of its sources)")
    source_order_id: str | None = Field(
        description="the merged order's source written back (its own Omni order id); null: the order's own"
    )
    channel: str | None = Field(description="null while waiting for the order's order.accepted")
    shop_id: str | None
    channel_order_id: str | None = Field(description="the platform's order id (Taobao tid)")
    carrier: str = Field(description="Omni's carrier code, as fulfillment shipped it")
    tracking_no: str
    company_code: str | None = Field(description="the platform's code of the carrier, as sent")
    shipped_at: AwareDatetime
    state: StateName = Field(description="waiting, pending, retrying, acknowledged, refused, credentials, "
                             "unsupported")  # fmt: skip
    next_attempt_at: AwareDatetime | None = Field(description="when the next call goes out; null: none due")
    attempts: int
    last_error: str | None = Field(description="the platform's message of the last refusal or failure")
    code: int | None = Field(description="the platform's error code of the last answer")
    sub_code: str | None
    last_attempt_at: AwareDatetime | None
    claimed_until: AwareDatetime | None = Field(description="a call is in flight until then")
    acknowledged_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WritebackPage(PageInfo):
    items: list[WritebackOut]


class RetryOut(BaseModel):
    writeback_id: str
    state: StateName


@router.get("/shipment-writebacks", response_model=WritebackPage)
async def list_writebacks(
    uow: Uow,
    state: StateName | None = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
    order_id: Text200 = None,
    channel_order_id: Text200 = None,
    task_id: Text200 = None,
    source_order_id: Text200 = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Every shipment write-back, newest first: filter by state, channel, shop, Omni or platform order, task
    or a merged order's source."""
    filters = {"state": state, "channel": channel, "shop_id": shop_id, "order_id": order_id,
               "channel_order_id": channel_order_id, "task_id": task_id,
               "source_order_id": source_order_id}  # fmt: skip
    items, total = await writeback.list_writebacks(uow, filters=filters, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/shipment-writebacks/{writeback_id}", response_model=WritebackOut)
async def get_writeback(writeback_id: WritebackId, uow: Uow) -> Any:
    found = await writeback.writeback_of(uow, writeback_id)
    if found is None:
        raise HTTPException(404, f"no shipment write-back {writeback_id!r}")
    return found


@router.post("/shipment-writebacks/{writeback_id}/retry", response_model=RetryOut, status_code=202)
async def retry(
    writeback_id: WritebackId, uow: Uow, request: Request, now: Annotated[datetime, Depends(clock)]
) -> Any:
    """Send it again now (after a refusal was fixed, e.g. the carrier code map). 409 while it still waits
    for its order."""
    before = await writeback.retry_writeback(
        uow, writeback_id, now=now, wake=request.app.state.writeback_signal.wake
    )
    if before is None:
        raise HTTPException(404, f"no shipment write-back {writeback_id!r}")
    if before == "waiting":
        raise HTTPException(409, f"shipment write-back {writeback_id!r} waits for its order's order.accepted")
    return {"writeback_id": writeback_id, "state": "pending"}
