"""REST routes of reservations made directly (own-mall carts before payment, issue #8 layer 2): thin.

`POST /reservations` reserves all lines at a node or none (as fulfillment's requests do), optionally with
a time-to-live; `POST /reservations/{id}/confirm` says payment arrived (the TTL is cleared). Queries are in
api.py (`GET /reservations`, `GET /reservations/{id}`). The TTL's bounds come from the settings
(`INVENTORY_RESERVATION_TTL_MIN_S`, `..._MAX_S`), so the OpenAPI schema states exactly what is accepted.
"""

# no `from __future__ import annotations`: the request model is built inside make_router and FastAPI reads
# the route's annotations at definition time

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import Field

from omni_chassis.app import Uow
from omni_chassis.errors import problem_response
from omni_chassis.paging import JsonInt

from .api import CodeStr, IdStr, LineIn, ReservationOut, ShortfallOut, _In, _refusal, _reservation_out
from .domain.model import InventoryError, ReservationStatus
from .service import holds

ReservationId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\s\x85]+$")]
TTL_MIN_S, TTL_MAX_S = 60, 86_400


def make_router(ttl_min_s: int = TTL_MIN_S, ttl_max_s: int = TTL_MAX_S) -> APIRouter:
    router = APIRouter(tags=["reservations"])

    class ReservationRequestIn(_In):
        reservation_id: IdStr = Field(
            description="idempotency key: the same id with the same content answers what was recorded"
        )
        order_id: IdStr
        node_code: CodeStr
        lines: list[LineIn] = Field(min_length=1, max_length=500)
        # omitted, not null: the schema is then one integer with its bounds (a JsonInt union loses them)
        ttl_seconds: JsonInt = Field(  # type: ignore[assignment]
            None,
            ge=ttl_min_s,
            le=ttl_max_s,
            description="unpaid, the reservation is released by itself after this long (omitted: it is "
            "held until consumed or released); POST /reservations/{id}/confirm clears it",
        )

    @router.post(
        "/reservations",
        status_code=201,
        response_model=ReservationOut,
        responses={
            200: {"description": "the reservation id was seen before with the same content"},
            409: {"description": "not enough available at the node (with the shortfall per line), or the "
                  "id was used with other content"},
            422: {},
        },
    )  # fmt: skip
    async def post_reservation(body: ReservationRequestIn, uow: Uow, response: Response) -> Any:
        """Reserve every line at the node or none, optionally with a time-to-live (an unpaid cart)."""
        cmd = holds.HoldCommand(
            reservation_id=body.reservation_id,
            order_id=body.order_id,
            node_code=body.node_code,
            lines=[(x.material_code, x.qty) for x in body.lines],
            ttl_seconds=body.ttl_seconds,
        )
        try:
            result = await holds.hold(uow, cmd)
        except InventoryError as exc:
            return _refusal(exc)
        res = result.reservation
        if res.status is ReservationStatus.REFUSED:
            short = [ShortfallOut(material_code=s.material_code, requested=s.requested, available=s.available)
                     for s in res.shortfall or []]  # fmt: skip
            return problem_response(
                409,
                res.reason or "not enough stock",
                reservation_id=res.reservation_id,
                node_code=res.node_code,
                shortfall=[s.model_dump() for s in short],
            )
        response.status_code = 201 if result.created else 200
        return _reservation_out(res)

    @router.post(
        "/reservations/{reservation_id}/confirm",
        response_model=ReservationOut,
        responses={404: {}, 409: {"description": "it expired, was released, refused or consumed"}},
    )
    async def confirm_reservation(reservation_id: ReservationId, uow: Uow) -> Any:
        """Payment arrived: the reservation no longer expires (confirming twice answers it as it is)."""
        try:
            result = await holds.confirm(uow, reservation_id)
        except holds.ReservationNotFound as exc:
            return problem_response(404, str(exc))
        except InventoryError as exc:
            return _refusal(exc)
        return _reservation_out(result.reservation)

    return router
