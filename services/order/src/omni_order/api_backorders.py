"""REST routes of backorders: thin. `GET /backorders` lists the orders waiting for stock, oldest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict

from omni_chassis.app import Uow
from omni_chassis.paging import Code, Limit, Offset, PageInfo, page

from . import service
from .domain.backorder import OnOverdue

router = APIRouter(prefix="/backorders", tags=["backorders"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShortLine(_Out):
    material_code: str
    requested: int
    available: int
    missing: int


class Backorder(_Out):
    order_id: str
    channel: str
    shop_id: str
    channel_order_id: str
    since: AwareDatetime  # its place: the first time it became a backorder
    age_s: int
    last_at: AwareDatetime
    times: int  # how many times fulfillment gave up on it for lack of stock
    due_at: AwareDatetime  # when it escalates
    on_overdue: OnOverdue
    reason: str
    resourced_at: AwareDatetime | None
    shortfall: list[ShortLine]


class BackorderPage(PageInfo):
    items: list[Backorder]


@router.get("", response_model=BackorderPage, summary="Orders waiting for stock, oldest first")
async def list_backorders(
    uow: Uow,
    material_code: Code | None = None,
    channel: Code | None = None,
    shop_id: Code | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    items, total = await service.list_backorders(
        uow, material_code=material_code, channel=channel, shop_id=shop_id, limit=limit, offset=offset
    )
    return page(items, total, limit=limit, offset=offset)
