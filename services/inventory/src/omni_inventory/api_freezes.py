"""REST routes of frozen stock: thin. Validate, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import Uow
from omni_chassis.errors import problem_response
from omni_chassis.paging import JsonInt, Limit, Offset, PageInfo

from .api import CodeStr, IdStr, StockOut, _In, _refusal, _stock_out
from .domain.model import MAX_QTY, InventoryError
from .records import FreezeRow
from .service import freezes
from .service.freezes import FreezeNotFound

router = APIRouter(tags=["freezes"])
REASON = r"[^ \t\r\n]"  # some text besides spaces: the schema says exactly what the service requires
FreezeId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\s\x85]+$")]


class FreezeIn(_In):
    freeze_id: IdStr = Field(description="idempotency key: the same id with the same content answers 200")
    node_code: CodeStr
    material_code: CodeStr
    qty: JsonInt = Field(gt=0, le=MAX_QTY, description="units held back from available")
    reason: str = Field(
        min_length=1, max_length=500, pattern=REASON, description="why (a quality hold, a count)"
    )


class ReleaseIn(_In):
    reason: str = Field(min_length=1, max_length=500, pattern=REASON)


class FreezeOut(BaseModel):
    freeze_id: str
    node_code: str
    material_code: str
    qty: int
    reason: str
    active: bool
    created_at: AwareDatetime
    released_at: AwareDatetime | None
    release_reason: str | None
    stock_after: StockOut | None = Field(None, description="the stock row right after this change")


class FreezePage(PageInfo):
    items: list[FreezeOut]
    total: int
    limit: int
    offset: int


def _out(f: FreezeRow, stock: Any = None) -> FreezeOut:
    return FreezeOut(
        freeze_id=f.freeze_id,
        node_code=f.node_code,
        material_code=f.material_code,
        qty=f.qty,
        reason=f.reason,
        active=f.active,
        created_at=f.created_at,
        released_at=f.released_at,
        release_reason=f.release_reason,
        stock_after=_stock_out(stock) if stock is not None else None,
    )


@router.post(
    "/freezes",
    status_code=201,
    response_model=FreezeOut,
    responses={200: {"description": "the freeze id was seen before with the same content"}, 409: {}, 422: {}},
)
async def post_freeze(body: FreezeIn, uow: Uow, response: Response) -> Any:
    """Hold stock back from available, with a reason (409 with the numbers beyond what is available)."""
    cmd = freezes.FreezeCommand(body.freeze_id, body.node_code, body.material_code, body.qty, body.reason)
    try:
        result = await freezes.freeze(uow, cmd)
    except InventoryError as exc:
        return _refusal(exc)
    response.status_code = 201 if result.created else 200
    return _out(result.freeze, result.stock)


@router.post("/freezes/{freeze_id}/release", response_model=FreezeOut, responses={404: {}, 409: {}, 422: {}})
async def release_freeze(freeze_id: FreezeId, body: ReleaseIn, uow: Uow) -> Any:
    """Give all of a freeze back to available (a released freeze answers as it is)."""
    try:
        result = await freezes.release(uow, freeze_id, body.reason)
    except FreezeNotFound as exc:
        return problem_response(404, str(exc))
    except InventoryError as exc:
        return _refusal(exc)
    return _out(result.freeze, result.stock)


@router.get("/freezes/{freeze_id}", response_model=FreezeOut, responses={404: {}})
async def get_freeze(freeze_id: FreezeId, uow: Uow) -> Any:
    found = await freezes.get_freeze(uow, freeze_id)
    if found is None:
        raise HTTPException(404, f"no freeze {freeze_id!r}")
    return _out(found)


@router.get("/freezes", response_model=FreezePage)
async def list_freezes(
    uow: Uow,
    node_code: Annotated[str | None, Query(max_length=64)] = None,
    material_code: Annotated[str | None, Query(max_length=64)] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Freezes, newest first; `active=true` only those still holding stock back."""
    items, total = await freezes.list_freezes(
        uow, node=node_code, material=material_code, active=active, limit=limit, offset=offset
    )
    return {"items": [_out(f) for f in items], "total": total, "limit": limit, "offset": offset}
