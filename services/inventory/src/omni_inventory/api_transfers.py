"""REST routes of transfers between nodes 调拨 and of stock in transit: thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, ValidatorFunctionWrapHandler, model_validator

from omni_chassis.app import Uow
from omni_chassis.paging import JsonInt, Limit, Offset, PageInfo

from .api import CodeStr, IdStr, _In
from .api_physical import Filter, PathId, answer, cross_checked, repeated
from .domain.model import MAX_QTY, InventoryError
from .records_physical import TransferRow, TransitQty
from .service import transfers

router = APIRouter(tags=["transfers"])
Status = Literal["created", "shipped", "received", "cancelled"]


class TransferLineIn(_In):
    material_code: CodeStr
    qty: JsonInt = Field(gt=0, le=MAX_QTY)


class TransferIn(_In):
    transfer_id: IdStr = Field(description="idempotency key: the same id with the same content answers 200")
    source_node: CodeStr
    target_node: CodeStr = Field(description="not the source node")
    lines: list[TransferLineIn] = Field(min_length=1, max_length=500)
    note: str = Field("", max_length=500)

    @model_validator(mode="wrap")
    @classmethod
    def _across(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        def problems(d: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
            out = repeated(d.get("lines"), lambda x: x.get("material_code"), "a material")
            a, b = d.get("source_node"), d.get("target_node")
            if isinstance(a, str) and a == b:
                out.insert(0, (("target_node",), "must differ from source_node"))
            return out

        return cross_checked(cls, data, handler, problems)


class ReceivedLineIn(_In):
    material_code: CodeStr
    received: JsonInt = Field(ge=0, le=MAX_QTY, description="what arrived (at most what was shipped)")


class ReceiveIn(_In):
    lines: list[ReceivedLineIn] = Field(
        min_length=1, max_length=500, description="every line of the transfer, once (0 when none arrived)"
    )

    @model_validator(mode="wrap")
    @classmethod
    def _across(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return cross_checked(
            cls,
            data,
            handler,
            lambda d: repeated(d.get("lines"), lambda x: x.get("material_code"), "a material"),
        )


class TransferLineOut(BaseModel):
    material_code: str
    qty: int = Field(description="what ships (and shipped)")
    received: int | None = Field(description="what arrived (once received)")
    lost: int | None = Field(description="qty - received: the loss of a short receipt (once received)")


class TransferOut(BaseModel):
    transfer_id: str
    source_node: str
    target_node: str
    status: Status
    note: str
    lines: list[TransferLineOut]
    created_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime


class TransferPage(PageInfo):
    items: list[TransferOut]


class InTransitOut(BaseModel):
    node_code: str = Field(description="the target node")
    material_code: str
    qty: int
    seq: int
    updated_at: datetime


class InTransitPage(PageInfo):
    items: list[InTransitOut]


def _out(t: TransferRow) -> TransferOut:
    return TransferOut(
        transfer_id=t.transfer_id,
        source_node=t.source_node,
        target_node=t.target_node,
        status=t.status,  # type: ignore[arg-type]
        note=t.note,
        created_at=t.created_at,
        shipped_at=t.shipped_at,
        received_at=t.received_at,
        cancelled_at=t.cancelled_at,
        updated_at=t.updated_at,
        lines=[
            TransferLineOut(material_code=x.material_code, qty=x.qty, received=x.received, lost=x.lost)
            for x in t.lines
        ],
    )


REPEAT = {"description": "a repeat: the transfer as it is"}


@router.post(
    "/transfers", status_code=201, response_model=TransferOut, responses={200: REPEAT, 409: {}, 422: {}}
)
async def post_transfer(body: TransferIn, uow: Uow, response: Response) -> Any:
    """A transfer order from one node to another (status created; nothing moves until it ships)."""
    cmd = transfers.TransferCommand(
        body.transfer_id,
        body.source_node,
        body.target_node,
        [(x.material_code, x.qty) for x in body.lines],
        body.note,
    )
    try:
        result = await transfers.create(uow, cmd)
    except InventoryError as exc:
        return answer(exc)
    response.status_code = 201 if result.created else 200
    return _out(result.transfer)


@router.post("/transfers/{transfer_id}/ship", response_model=TransferOut, responses={404: {}, 409: {}})
async def ship_transfer(transfer_id: PathId, uow: Uow) -> Any:
    """Every line out of the source's available stock into in-transit to the target, or none (409 with the
    numbers of every short line)."""
    try:
        return _out((await transfers.ship(uow, transfer_id)).transfer)
    except InventoryError as exc:
        return answer(exc)


@router.post(
    "/transfers/{transfer_id}/receive", response_model=TransferOut, responses={404: {}, 409: {}, 422: {}}
)
async def receive_transfer(transfer_id: PathId, body: ReceiveIn, uow: Uow) -> Any:
    """What arrived at the target, per line, goes into its on hand; in-transit cleared; short is a loss."""
    try:
        received = [(x.material_code, x.received) for x in body.lines]
        return _out((await transfers.receive(uow, transfer_id, received)).transfer)
    except InventoryError as exc:
        return answer(exc)


@router.post("/transfers/{transfer_id}/cancel", response_model=TransferOut, responses={404: {}, 409: {}})
async def cancel_transfer(transfer_id: PathId, uow: Uow) -> Any:
    """Only before it ships."""
    try:
        return _out((await transfers.cancel(uow, transfer_id)).transfer)
    except InventoryError as exc:
        return answer(exc)


@router.get("/transfers/{transfer_id}", response_model=TransferOut, responses={404: {}})
async def get_transfer(transfer_id: PathId, uow: Uow) -> Any:
    found = await transfers.get_transfer(uow, transfer_id)
    if found is None:
        raise HTTPException(404, f"no transfer {transfer_id!r}")
    return _out(found)


@router.get("/transfers", response_model=TransferPage)
async def list_transfers(
    uow: Uow,
    status: Status | None = None,
    node_code: Filter = None,
    source_node: Filter = None,
    target_node: Filter = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Transfers, newest first; `node_code` matches either end."""
    items, total = await transfers.list_transfers(
        uow, status=status, node=node_code, source=source_node, target=target_node, limit=limit, offset=offset
    )
    return TransferPage(items=[_out(t) for t in items], total=total, limit=limit, offset=offset)


def _transit(t: TransitQty) -> InTransitOut:
    return InTransitOut(
        node_code=t.node_code, material_code=t.material_code, qty=t.qty, seq=t.seq, updated_at=t.updated_at
    )


@router.get("/in-transit", response_model=InTransitPage)
async def list_in_transit(
    uow: Uow, node_code: Filter = None, material_code: Filter = None, limit: Limit = 50, offset: Offset = 0
) -> Any:
    """Stock shipped to a node and not yet received there, by target node and material."""
    items, total = await transfers.list_in_transit(
        uow, node=node_code, material=material_code, limit=limit, offset=offset
    )
    return InTransitPage(items=[_transit(t) for t in items], total=total, limit=limit, offset=offset)
