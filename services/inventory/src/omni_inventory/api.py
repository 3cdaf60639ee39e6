"""REST routes: thin. Validate, call the service, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omni_chassis.app import Uow
from omni_chassis.errors import problem_response
from omni_chassis.paging import JsonInt, Limit, Offset, PageInfo

from . import service
from .domain.model import (
    MAX_QTY,
    AdjustmentRefused,
    FreezeRefused,
    InvalidRequest,
    InventoryError,
    ReservationStatus,
)
from .records import ReservationRow, StockRow
from .records_physical import MovementKind

router = APIRouter(tags=["inventory"])

CodeStr = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\s\x85]+$")]
IdStr = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x85]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- request bodies ---------------------------------------------------------------------------------------
class LineIn(_In):
    material_code: CodeStr
    qty: JsonInt = Field(gt=0, le=MAX_QTY)


class ReceiptIn(_In):
    receipt_id: IdStr = Field(description="idempotency key: the same id with the same content answers 200")
    node_code: CodeStr
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    note: str = Field("", max_length=500)


class AdjustmentIn(_In):
    adjustment_id: IdStr = Field(description="idempotency key")
    node_code: CodeStr
    material_code: CodeStr
    delta: JsonInt = Field(
        ge=-MAX_QTY,
        le=MAX_QTY,
        description="change of on hand; not 0",
        json_schema_extra={"not": {"const": 0}},
    )
    reason: str = Field(min_length=1, max_length=500)


# -- answers ----------------------------------------------------------------------------------------------
class StockOut(BaseModel):
    node_code: str
    material_code: str
    on_hand: int
    reserved: int
    frozen: int
    available: int
    seq: int
    updated_at: datetime


class LineAfterOut(BaseModel):
    material_code: str
    qty: int
    on_hand: int
    reserved: int
    frozen: int
    available: int
    seq: int


class ReceiptOut(BaseModel):
    receipt_id: str
    node_code: str
    note: str
    created_at: datetime
    lines: list[LineAfterOut]


class AdjustmentOut(BaseModel):
    adjustment_id: str
    node_code: str
    material_code: str
    delta: int
    reason: str
    created_at: datetime
    stock_after: LineAfterOut


class MovementOut(BaseModel):
    id: int
    node_code: str
    material_code: str
    kind: str
    delta_on_hand: int
    delta_reserved: int
    on_hand_after: int
    reserved_after: int
    frozen_after: int
    seq: int
    reference: str
    at: datetime


class QtyOut(BaseModel):
    material_code: str
    qty: int


class ShortfallOut(BaseModel):
    material_code: str
    requested: int
    available: int


class ReservationOut(BaseModel):
    reservation_id: str
    order_id: str
    node_code: str
    status: ReservationStatus
    lines: list[QtyOut]
    shortfall: list[ShortfallOut] | None
    reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = Field(None, description="an unpaid reservation's TTL (POST /reservations)")
    confirmed_at: datetime | None = Field(None, description="when payment confirmed it (its TTL cleared)")


class StockPage(PageInfo):
    items: list[StockOut]
    total: int
    limit: int
    offset: int


class MovementPage(PageInfo):
    items: list[MovementOut]
    total: int
    limit: int
    offset: int


class ReservationPage(PageInfo):
    items: list[ReservationOut]
    total: int
    limit: int
    offset: int


def _stock_out(r: StockRow) -> StockOut:
    return StockOut(
        node_code=r.node_code,
        material_code=r.material_code,
        on_hand=r.on_hand,
        reserved=r.reserved,
        frozen=r.frozen,
        available=r.available,
        seq=r.seq,
        updated_at=r.updated_at,
    )


def _line_out(x: service.LineResult) -> LineAfterOut:
    return LineAfterOut(
        material_code=x.material_code,
        qty=x.qty,
        on_hand=x.on_hand,
        reserved=x.reserved,
        frozen=x.frozen,
        available=x.available,
        seq=x.seq,
    )


def _reservation_out(r: ReservationRow) -> ReservationOut:
    return ReservationOut(
        reservation_id=r.reservation_id,
        order_id=r.order_id,
        node_code=r.node_code,
        status=r.status,
        lines=[QtyOut(material_code=x.material_code, qty=x.qty) for x in r.lines],
        shortfall=None
        if r.shortfall is None
        else [
            ShortfallOut(material_code=s.material_code, requested=s.requested, available=s.available)
            for s in r.shortfall
        ],
        reason=r.reason,
        created_at=r.created_at,
        updated_at=r.updated_at,
        expires_at=r.expires_at,
        confirmed_at=r.confirmed_at,
    )


def _refusal(exc: InventoryError) -> JSONResponse:
    """A domain refusal as a 4xx problem that says what is wrong (with the numbers when there are some)."""
    if isinstance(exc, InvalidRequest):
        return problem_response(422, str(exc))
    body: dict[str, Any] = {}
    if isinstance(exc, AdjustmentRefused | FreezeRefused):
        lv = exc.level
        body.update(
            node_code=exc.node_code,
            material_code=exc.material_code,
            on_hand=lv.on_hand,
            reserved=lv.reserved,
            frozen=lv.frozen,
            available=lv.available,
            delta=exc.delta,
        )
    return problem_response(409, str(exc), **body)


# -- commands ---------------------------------------------------------------------------------------------
@router.post(
    "/receipts",
    status_code=201,
    response_model=ReceiptOut,
    responses={
        200: {"description": "the receipt id was seen before with the same content"},
        409: {},
        422: {},
    },
)
async def post_receipt(body: ReceiptIn, uow: Uow, response: Response) -> Any:
    cmd = service.ReceiveCommand(
        receipt_id=body.receipt_id,
        node_code=body.node_code,
        lines=[(x.material_code, x.qty) for x in body.lines],
        note=body.note,
    )
    try:
        result = await service.receive(uow, cmd)
    except InventoryError as exc:
        return _refusal(exc)
    response.status_code = 201 if result.created else 200
    r = result.receipt
    return ReceiptOut(
        receipt_id=r.receipt_id,
        node_code=r.node_code,
        note=r.note,
        created_at=r.created_at,
        lines=[_line_out(x) for x in result.lines],
    )


@router.post(
    "/adjustments",
    status_code=201,
    response_model=AdjustmentOut,
    responses={
        200: {"description": "the adjustment id was seen before with the same content"},
        409: {},
        422: {},
    },
)
async def post_adjustment(body: AdjustmentIn, uow: Uow, response: Response) -> Any:
    cmd = service.AdjustCommand(
        adjustment_id=body.adjustment_id,
        node_code=body.node_code,
        material_code=body.material_code,
        delta=body.delta,
        reason=body.reason,
    )
    try:
        result = await service.adjust(uow, cmd)
    except InventoryError as exc:
        return _refusal(exc)
    response.status_code = 201 if result.created else 200
    a = result.adjustment
    return AdjustmentOut(
        adjustment_id=a.adjustment_id,
        node_code=a.node_code,
        material_code=a.material_code,
        delta=a.delta,
        reason=a.reason,
        created_at=a.created_at,
        stock_after=_line_out(result.after),
    )


# -- queries ----------------------------------------------------------------------------------------------
@router.get("/stock", response_model=StockPage)
async def list_stock(
    uow: Uow,
    node_code: str | None = None,
    material_code: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    rows, total = await service.list_stock(
        uow, node=node_code, material=material_code, limit=limit, offset=offset
    )
    return StockPage(items=[_stock_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/stock/{node_code}/{material_code}", response_model=StockOut, responses={404: {}})
async def get_stock(node_code: str, material_code: str, uow: Uow) -> Any:
    row = await service.get_stock(uow, node_code, material_code)
    if row is None:
        raise HTTPException(404, f"no stock of material {material_code} at node {node_code}")
    return _stock_out(row)


@router.get("/movements", response_model=MovementPage)
async def list_movements(
    uow: Uow,
    node_code: str | None = None,
    material_code: str | None = None,
    reference: str | None = None,
    kind: MovementKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """The ledger, newest first."""
    rows, total = await service.list_movements(
        uow,
        node=node_code,
        material=material_code,
        reference=reference,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return MovementPage(items=[MovementOut(**r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/reservations/{reservation_id}", response_model=ReservationOut, responses={404: {}})
async def get_reservation(reservation_id: str, uow: Uow) -> Any:
    row = await service.get_reservation(uow, reservation_id)
    if row is None:
        raise HTTPException(404, f"no reservation {reservation_id}")
    return _reservation_out(row)


@router.get("/reservations", response_model=ReservationPage)
async def list_reservations(
    uow: Uow,
    order_id: str | None = None,
    node_code: str | None = None,
    status: ReservationStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    rows, total = await service.list_reservations(
        uow, order_id=order_id, node=node_code, status=status, limit=limit, offset=offset
    )
    return ReservationPage(items=[_reservation_out(r) for r in rows], total=total, limit=limit, offset=offset)
