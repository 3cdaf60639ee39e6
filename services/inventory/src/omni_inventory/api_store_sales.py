"""`GET /store-sales/short-lines`: thin. The store sale lines a store's stock could not give in full (a sale
of more than it had available: service/store_sales.py), newest first: where a count is due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset, PageInfo

from .api import CodeStr
from .service import store_sales

router = APIRouter(tags=["store sales"])


class ShortLineOut(BaseModel):
    line_ref: str
    kind: str
    document: str
    node_code: str
    material_code: str
    qty: int
    booked: int
    at: datetime


class ShortLinePage(PageInfo):
    items: list[ShortLineOut]
    total: int
    limit: int
    offset: int


@router.get("/store-sales/short-lines", response_model=ShortLinePage)
async def short_lines(uow: Uow, node_code: CodeStr, limit: Limit = 50, offset: Offset = 0) -> Any:
    """Store sale lines at `node_code` that sold more than the stock had available (`booked` < `qty`)."""
    items, total = await store_sales.short_lines(uow, node_code, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}
