"""REST routes of after-sales 售后: thin. Validate, call a use case (service/aftersales_ops.py), shape the
answer. Every refusal is the one problem+json shape: 404 (no order or case), 409 (not in a state that
allows it), 422 (a body the request cannot be applied with, every problem named)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from omni_chassis.app import Uow
from omni_chassis.errors import ProblemError
from omni_chassis.paging import Code, JsonInt, Limit, Offset, PageInfo, json_int

from .domain.aftersales import AfterSalesError, IllegalCaseTransition, Inspected, Kind, State
from .service import aftersales_ops as ops
from .service.journal import OrderNotFound

router = APIRouter(tags=["after-sales"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseLineIn(_In):
    line_id: Code = Field(description="the order's material line (GET /orders/{id} goods.lines[].line_id)")
    qty: json_int(1) | None = Field(None, description="units; omitted: every unit of the line")


class OpenCaseIn(_In):
    kind: Literal["reship", "repair", "compensation"]
    reason: str = Field(min_length=1, max_length=500, pattern=r"\S", description="why, for the record")
    lines: list[CaseLineIn] = Field(default_factory=list, max_length=200, description="default: every line")
    amount_cents: JsonInt = Field(0, ge=0, description="compensation only: the money, in fen")


class InspectedIn(_In):
    line_id: Code
    good_qty: JsonInt = Field(0, ge=0)
    defective_qty: JsonInt = Field(0, ge=0)


class ReceiveIn(_In):
    node_code: Code | None = Field(None, description="where it arrived; default: where it was expected")
    lines: list[InspectedIn] = Field(min_length=1, max_length=200)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CaseSummary(_Out):
    case_id: str
    order_id: str
    channel: str
    shop_id: str
    channel_order_id: str
    channel_refund_id: str | None
    kind: Kind
    state: State
    source: str
    channel_status: str | None
    currency: str
    refund_cents: int = Field(description="goods + freight refunded (compensation: the amount granted)")
    goods_refund_cents: int
    freight_refund_cents: int
    money_done: bool = Field(
        description="the refund or compensation event was emitted (or the order cancelled)"
    )
    node_code: str | None
    outbound_order_id: str | None = Field(description="the reship's or exchange's new order")
    reason: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class CaseLineOut(_Out):
    line_id: str
    channel_line_id: str
    material_code: str
    qty: int
    refund_cents: int
    good_qty: int
    defective_qty: int


class CaseHistoryOut(_Out):
    from_state: str | None
    to_state: str
    platform_status: str | None
    channel_status: str | None
    source: str
    note: str
    at: AwareDatetime


class CaseDetail(CaseSummary):
    lines: list[CaseLineOut]
    history: list[CaseHistoryOut]


class CasePage(PageInfo):
    items: list[CaseSummary]


async def _call(fn: Any, uow: Uow, *args: Any, **kwargs: Any) -> Any:
    try:
        return await fn(uow, *args, **kwargs)
    except OrderNotFound as exc:
        raise ProblemError(404, "Not Found", str(exc)) from None
    except IllegalCaseTransition as exc:
        raise ProblemError(409, "Conflict", str(exc)) from None
    except AfterSalesError as exc:
        problems = [{"path": "body", "message": m} for m in str(exc).split("; ")]
        raise ProblemError(422, "Invalid request", str(exc), problems=problems) from None


async def _detail(uow: Uow, case_id: str) -> dict[str, Any]:
    record = await _call(ops.get_case, uow, case_id)
    return record.case | {"lines": record.lines, "history": record.history}


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such order or case"},
    409: {"description": "the order or case is not in a state that allows it"},
    422: {
        "description": "a line that is not the order's (or the case's), more units than it has or expects, "
        "an amount beyond what was paid: every problem listed"
    },
}


@router.get("/after-sales", response_model=CasePage, summary="List after-sales cases, newest first")
async def list_cases(
    uow: Uow,
    order_id: str | None = Query(None, min_length=1, max_length=64),
    channel: str | None = Query(None, min_length=1, max_length=64),
    kind: Kind | None = None,
    state: State | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    items, total = await _call(
        ops.list_cases, uow, order_id=order_id, channel=channel, kind=kind.value if kind else None,
        state=state.value if state else None, limit=limit, offset=offset,
    )  # fmt: skip
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/after-sales/{case_id}", response_model=CaseDetail, summary="One case, its lines and history",
            responses=_ERRORS)  # fmt: skip
async def get_case(uow: Uow, case_id: str) -> dict[str, Any]:
    return await _detail(uow, case_id)


@router.post(
    "/orders/{order_id}/after-sales", response_model=CaseDetail, status_code=201, responses=_ERRORS,
    summary="Open a reship, repair or compensation case (the platform sends refunds, returns and exchanges)",
)  # fmt: skip
async def open_case(uow: Uow, order_id: str, body: OpenCaseIn) -> dict[str, Any]:
    lines = [ops.CaseLine(x.line_id, x.qty) for x in body.lines]
    cmd = ops.OpenCase(Kind(body.kind), body.reason.strip(), lines, body.amount_cents)
    return await _detail(uow, await _call(ops.open_case, uow, order_id, cmd))


@router.post("/after-sales/{case_id}/receive", response_model=CaseDetail, responses=_ERRORS,
             summary="Record a return's arrival and inspection: good, defective units per line")  # fmt: skip
async def receive(uow: Uow, case_id: str, body: ReceiveIn) -> dict[str, Any]:
    inspected = [Inspected(x.line_id, x.good_qty, x.defective_qty) for x in body.lines]
    await _call(ops.receive, uow, case_id, body.node_code, inspected)
    return await _detail(uow, case_id)


@router.post("/after-sales/{case_id}/complete", response_model=CaseDetail, responses=_ERRORS,
             summary="A repair is mended and sent back: the case is completed")  # fmt: skip
async def complete(uow: Uow, case_id: str) -> dict[str, Any]:
    await _call(ops.complete_repair, uow, case_id)
    return await _detail(uow, case_id)
