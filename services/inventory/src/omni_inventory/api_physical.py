"""REST routes of quality states and cycle counts, and the stock view per state: thin.

Request bodies check each field and the rules across fields (same state twice, a material counted twice)
TOGETHER, so a 422 lists every problem at once; what only the stored data can say is checked by the service
(its `Problems` become the same 422).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError, ValidatorFunctionWrapHandler, model_validator
from pydantic_core import PydanticCustomError

from omni_chassis.app import Uow
from omni_chassis.errors import problem_response
from omni_chassis.paging import JsonInt, Limit, Offset, PageInfo

from .api import CodeStr, IdStr, _In, _refusal
from .domain.model import MAX_QTY, IdempotencyConflict, InventoryError
from .domain.physical import NotFound, Problems, Refused
from .records_physical import CountRow, QualityMoveRow, QualityQty
from .service import counts, quality
from .service.quality import StockView

router = APIRouter(tags=["quality and counts"])
State = Literal["good", "defective", "quarantined"]
NonGood = Literal["defective", "quarantined"]
REASON = r"[^ \t\r\n]"
PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\s\x85]+$")]
Filter = Annotated[str | None, Query(max_length=64)]
Cross = Callable[[dict[str, Any]], list[tuple[tuple[Any, ...], str]]]


def cross_checked(cls: type, data: Any, handler: ValidatorFunctionWrapHandler, cross: Cross) -> Any:
    """Validate the fields and the rules across them (`cross`, on the raw dict); all failures at once."""
    found = [
        {"type": PydanticCustomError("cross_field", msg), "loc": loc, "input": None}
        for loc, msg in (cross(data) if isinstance(data, dict) else [])
    ]
    try:
        out = handler(data)
    except ValidationError as exc:
        if not found:
            raise
        again = [
            {"type": PydanticCustomError(e["type"], e["msg"]), "loc": e["loc"], "input": e.get("input")}
            for e in exc.errors()
        ]
        raise ValidationError.from_exception_data(exc.title, [*again, *found]) from None  # type: ignore[list-item]
    if found:
        raise ValidationError.from_exception_data(cls.__name__, found)  # type: ignore[arg-type]
    return out


def repeated(
    lines: Any, key: Callable[[dict[str, Any]], Any], what: str
) -> list[tuple[tuple[Any, ...], str]]:
    """A line whose key an earlier line had (lines as sent: anything)."""
    out, seen = [], set()
    for i, x in enumerate(lines if isinstance(lines, list) else []):
        if not isinstance(x, dict):
            continue
        try:
            k = key(x)
            hash(k)
        except TypeError:
            continue
        if k in seen:
            out.append((("lines", i, "material_code"), f"{what} appears on more than one line"))
        seen.add(k)
    return out


def answer(exc: InventoryError) -> JSONResponse:
    """A refusal as a problem: 422 with every problem, 404, or 409 with the numbers."""
    if isinstance(exc, Problems):
        problems = [{"path": f"body.{p}", "message": m} for p, m in exc.problems]
        return problem_response(422, str(exc), problems=problems)
    if isinstance(exc, NotFound):
        return problem_response(404, str(exc))
    if isinstance(exc, Refused):
        return problem_response(409, str(exc), **exc.numbers)
    if isinstance(exc, IdempotencyConflict):
        return problem_response(409, str(exc))
    return _refusal(exc)


# -- the stock view per state ------------------------------------------------------------------------------
class StockStatesOut(BaseModel):
    node_code: str
    material_code: str
    on_hand: int = Field(description="good stock (what can be sold): the stock row's on_hand")
    reserved: int
    frozen: int
    available: int = Field(description="on_hand - reserved - frozen")
    defective: int = Field(description="次品: not sellable, not in on_hand")
    quarantined: int = Field(description="待检/隔离: not sellable, not in on_hand")
    in_transit: int = Field(description="shipped to this node on a transfer, not yet received")
    total: int = Field(description="on_hand + defective + quarantined (at the node, every state)")
    seq: int = Field(description="the stock row's seq (0: no stock row yet)")


def states_out(v: StockView) -> StockStatesOut:
    lv = v.level
    return StockStatesOut(
        node_code=v.node_code,
        material_code=v.material_code,
        on_hand=lv.on_hand,
        reserved=lv.reserved,
        frozen=lv.frozen,
        available=lv.available,
        defective=v.defective,
        quarantined=v.quarantined,
        in_transit=v.in_transit,
        total=lv.on_hand + v.defective + v.quarantined,
        seq=v.stock.seq if v.stock else 0,
    )


@router.get("/stock/{node_code}/{material_code}/quality", response_model=StockStatesOut, responses={404: {}})
async def get_stock_states(node_code: str, material_code: str, uow: Uow) -> Any:
    """One material at one node in every state: good (on hand, reserved, frozen, available), defective,
    quarantined, and in transit to it."""
    view = await quality.stock_view(uow, node_code, material_code)
    if not view.known:
        raise HTTPException(404, f"no stock of material {material_code} at node {node_code}")
    return states_out(view)


class QualityQtyOut(BaseModel):
    node_code: str
    material_code: str
    state: NonGood
    qty: int
    seq: int
    updated_at: datetime


class QualityQtyPage(PageInfo):
    items: list[QualityQtyOut]


def _qq(q: QualityQty) -> QualityQtyOut:
    return QualityQtyOut(
        node_code=q.node_code,
        material_code=q.material_code,
        state=q.state,
        qty=q.qty,  # type: ignore[arg-type]
        seq=q.seq,
        updated_at=q.updated_at,
    )


@router.get("/quality-stock", response_model=QualityQtyPage)
async def list_quality_stock(
    uow: Uow,
    node_code: Filter = None,
    material_code: Filter = None,
    state: NonGood | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Non-good stock (defective, quarantined) with a quantity, by node and material."""
    items, total = await quality.list_non_good(
        uow, node=node_code, material=material_code, state=state, limit=limit, offset=offset
    )
    return QualityQtyPage(items=[_qq(q) for q in items], total=total, limit=limit, offset=offset)


# -- quality moves ----------------------------------------------------------------------------------------
class QualityMoveIn(_In):
    move_id: IdStr = Field(description="idempotency key: the same id with the same content answers 200")
    node_code: CodeStr
    material_code: CodeStr
    qty: JsonInt = Field(gt=0, le=MAX_QTY)
    from_state: State
    to_state: State = Field(description="not from_state")
    reason: str = Field(min_length=1, max_length=500, pattern=REASON)

    @model_validator(mode="wrap")
    @classmethod
    def _across(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        def same(d: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
            a, b = d.get("from_state"), d.get("to_state")
            return [(("to_state",), "must differ from from_state")] if isinstance(a, str) and a == b else []

        return cross_checked(cls, data, handler, same)


class QualityMoveOut(BaseModel):
    move_id: str
    node_code: str
    material_code: str
    qty: int
    from_state: State
    to_state: State
    reason: str
    created_at: datetime
    stock_after: StockStatesOut | None = Field(None, description="the material at the node right after")


class QualityMovePage(PageInfo):
    items: list[QualityMoveOut]


def _move_out(m: QualityMoveRow, view: StockView | None = None) -> QualityMoveOut:
    return QualityMoveOut(
        move_id=m.move_id,
        node_code=m.node_code,
        material_code=m.material_code,
        qty=m.qty,
        from_state=m.from_state,
        to_state=m.to_state,
        reason=m.reason,  # type: ignore[arg-type]
        created_at=m.created_at,
        stock_after=states_out(view) if view else None,
    )


@router.post(
    "/quality-moves",
    status_code=201,
    response_model=QualityMoveOut,
    responses={200: {"description": "the move id was seen before with the same content"}, 409: {}, 422: {}},
)
async def post_quality_move(body: QualityMoveIn, uow: Uow, response: Response) -> Any:
    """Move stock between good, defective and quarantined (409 with the numbers beyond what the source has;
    out of good only what is available)."""
    cmd = quality.QualityMoveCommand(
        body.move_id,
        body.node_code,
        body.material_code,
        body.qty,
        body.from_state,
        body.to_state,
        body.reason,
    )
    try:
        result = await quality.move(uow, cmd)
    except InventoryError as exc:
        return answer(exc)
    response.status_code = 201 if result.created else 200
    return _move_out(result.move, result.view)


@router.get("/quality-moves/{move_id}", response_model=QualityMoveOut, responses={404: {}})
async def get_quality_move(move_id: PathId, uow: Uow) -> Any:
    found = await quality.get_move(uow, move_id)
    if found is None:
        raise HTTPException(404, f"no quality move {move_id!r}")
    return _move_out(found)


@router.get("/quality-moves", response_model=QualityMovePage)
async def list_quality_moves(
    uow: Uow, node_code: Filter = None, material_code: Filter = None, limit: Limit = 50, offset: Offset = 0
) -> Any:
    """Quality moves, newest first."""
    items, total = await quality.list_moves(
        uow, node=node_code, material=material_code, limit=limit, offset=offset
    )
    return QualityMovePage(items=[_move_out(m) for m in items], total=total, limit=limit, offset=offset)


# -- counts -----------------------------------------------------------------------------------------------
class CountLineIn(_In):
    material_code: CodeStr
    counted: JsonInt = Field(ge=0, le=MAX_QTY, description="what was physically counted")
    state: State = "good"


class CountIn(_In):
    count_id: IdStr = Field(description="idempotency key: the same id with the same content answers 200")
    node_code: CodeStr
    lines: list[CountLineIn] = Field(min_length=1, max_length=500)
    note: str = Field("", max_length=500)

    @model_validator(mode="wrap")
    @classmethod
    def _across(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        def twice(d: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
            return repeated(
                d.get("lines"),
                lambda x: (x.get("material_code"), x.get("state", "good")),
                "a (material, state)",
            )

        return cross_checked(cls, data, handler, twice)


class CountedLineOut(BaseModel):
    material_code: str
    state: State
    expected: int = Field(description="what the books said when counted")
    counted: int
    variance: int = Field(description="counted - expected (0: nothing changed)")


class CountOut(BaseModel):
    count_id: str
    node_code: str
    note: str
    created_at: datetime
    lines: list[CountedLineOut]


class CountPage(PageInfo):
    items: list[CountOut]


def _count_out(c: CountRow) -> CountOut:
    lines = [
        CountedLineOut(
            material_code=x.material_code,
            state=x.state,
            expected=x.expected,  # type: ignore[arg-type]
            counted=x.counted,
            variance=x.variance,
        )
        for x in c.lines
    ]
    return CountOut(
        count_id=c.count_id, node_code=c.node_code, note=c.note, created_at=c.created_at, lines=lines
    )


@router.post(
    "/counts",
    status_code=201,
    response_model=CountOut,
    responses={200: {"description": "the count id was seen before with the same content"}, 409: {}, 422: {}},
)
async def post_count(body: CountIn, uow: Uow, response: Response) -> Any:
    """A cycle count: each line's count becomes the stock, its variance recorded. A good line counted below
    reserved + frozen refuses the whole count (409: the numbers and the reservations at risk)."""
    cmd = counts.CountCommand(
        body.count_id, body.node_code, [(x.material_code, x.counted, x.state) for x in body.lines], body.note
    )
    try:
        result = await counts.count(uow, cmd)
    except InventoryError as exc:
        return answer(exc)
    response.status_code = 201 if result.created else 200
    return _count_out(result.count)


@router.get("/counts/{count_id}", response_model=CountOut, responses={404: {}})
async def get_count(count_id: PathId, uow: Uow) -> Any:
    found = await counts.get_count(uow, count_id)
    if found is None:
        raise HTTPException(404, f"no count {count_id!r}")
    return _count_out(found)


@router.get("/counts", response_model=CountPage)
async def list_counts(uow: Uow, node_code: Filter = None, limit: Limit = 50, offset: Offset = 0) -> Any:
    """Counts, newest first."""
    items, total = await counts.list_counts(uow, node=node_code, limit=limit, offset=offset)
    return CountPage(items=[_count_out(c) for c in items], total=total, limit=limit, offset=offset)
