"""REST routes: thin. Validate, call a use case with the chassis unit of work (`Uow`), shape the answer
(`api_views`). No route opens a transaction or touches the repository."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from omni_chassis.app import Uow
from omni_chassis.errors import ProblemError
from omni_chassis.paging import Limit, Offset

from . import service
from .api_models import CancelRequest, OrderDetail, OrderPage
from .api_views import Viewer, present, visible_to
from .domain.status import DomainError, IllegalTransition, Status

router = APIRouter(prefix="/orders", tags=["orders"])


# -- helpers -------------------------------------------------------------------------------------
_WHEN = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


def _bound(value: str | None, name: str, *, end: bool) -> datetime | None:
    """An ISO date (a whole UTC day) or an ISO datetime (naive means UTC). `end` bounds are exclusive."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            try:
                return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=UTC)
            except OverflowError:  # the end of 9999-12-31
                return datetime.max.replace(tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ProblemError(
            422,
            "Invalid request",
            f"{name} must be an ISO date (2024-05-01) or date-time (2024-05-01T08:00:00Z)",
            problems=[{"path": f"query.{name}", "message": "not an ISO date or date-time"}],
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # a moment of year 1 or 9999 that UTC cannot hold
        return (datetime.max if moment.year > 1 else datetime.min).replace(tzinfo=UTC)


async def _call(fn: Any, uow: Uow, *args: Any, **kwargs: Any) -> Any:
    """Run a use case (it opens its own unit of work); domain refusals become 404/409/422."""
    try:
        return await fn(uow, *args, **kwargs)
    except service.OrderNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except (
        IllegalTransition,
        service.StillBlocked,
        service.StillHeld,
        service.NotMergeable,
        service.MergedSource,
        service.NotOnAccount,
    ) as exc:
        raise HTTPException(409, str(exc)) from None
    except DomainError as exc:
        raise HTTPException(422, str(exc)) from None


def _viewer(
    x_omni_role: Annotated[str | None, Header(description="the caller's role (set by the gateway)")] = None,
    x_omni_node_scope: Annotated[
        str | None, Header(description="a store's node (set by the gateway)")
    ] = None,
) -> Viewer:
    """Who asks, as the gateway forwards it (it drops any X-Omni-* a client sent): decides the masking."""
    return Viewer(role=x_omni_role, node_scope=x_omni_node_scope)


Caller = Annotated[Viewer, Depends(_viewer)]


# -- routes --------------------------------------------------------------------------------------
@router.get("", response_model=OrderPage, summary="List orders, newest first")
async def list_orders(
    uow: Uow,
    status: Status | None = None,
    channel: str | None = Query(None, min_length=1, max_length=64),
    shop_id: str | None = Query(None, min_length=1, max_length=64),
    created_from: Annotated[
        str | None,
        Query(
            description="inclusive; ISO date (a UTC day) or date-time (naive = UTC)", json_schema_extra=_WHEN
        ),
    ] = None,
    created_to: Annotated[
        str | None,
        Query(
            description="a date includes that whole UTC day; a date-time is exclusive",
            json_schema_extra=_WHEN,
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    lo = _bound(created_from, "created_from", end=False)
    hi = _bound(created_to, "created_to", end=True)
    # created_from at or after created_to: an empty window, so an empty page
    items, total = await _call(
        service.list_orders,
        uow,
        status=status.value if status else None,
        channel=channel,
        shop_id=shop_id,
        created_from=lo,
        created_to=hi,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get(
    "/by-channel/{channel}/{channel_order_id}", response_model=OrderDetail, summary="Find by channel order id"
)
async def get_by_channel(uow: Uow, channel: str, channel_order_id: str, caller: Caller) -> dict[str, Any]:
    return _shown(await _call(service.get_order_by_channel, uow, channel, channel_order_id), caller)


@router.get("/{order_id}", response_model=OrderDetail, summary="One order: six dimensions, lines and history")
async def get_order(uow: Uow, order_id: str, caller: Caller) -> dict[str, Any]:
    return _shown(await _call(service.get_order, uow, order_id), caller)


def _shown(record: service.OrderRecord, caller: Viewer) -> dict[str, Any]:
    """The order as the caller may see it; a store's staff get 404 for another store's order (as if it
    did not exist: they learn nothing of it)."""
    if not visible_to(caller, record.order, record.children):
        raise HTTPException(404, f"no order {record.order['order_id']} at store {caller.node_scope}")
    return present(record, caller)


@router.post(
    "/{order_id}/cancel",
    response_model=OrderDetail,
    summary="Cancel an order",
    responses={
        404: {"description": "no such order"},
        409: {"description": "the order can no longer be cancelled"},
    },
)
async def cancel(uow: Uow, order_id: str, body: CancelRequest, caller: Caller) -> dict[str, Any]:
    await _call(service.cancel, uow, order_id, body.reason)
    return present(await _call(service.get_order, uow, order_id), caller)


@router.post(
    "/{order_id}/retry",
    response_model=OrderDetail,
    summary="Retry an order held in exception (after fixing its cause)",
    responses={
        404: {"description": "no such order"},
        409: {"description": "the order is not in exception, or still cannot be accepted (reasons given)"},
    },
)
async def retry(uow: Uow, order_id: str, caller: Caller) -> dict[str, Any]:
    await _call(service.retry, uow, order_id)
    return present(await _call(service.get_order, uow, order_id), caller)


catalog_router = APIRouter(prefix="/catalog", tags=["catalog"])


@catalog_router.get("/listings/{listing_id}", summary="The catalog projection's copy of a channel listing")
async def get_catalog_listing(uow: Uow, listing_id: str) -> dict[str, Any]:
    return await _call(service.get_catalog_listing, uow, listing_id)


@catalog_router.get(
    "/materials/{code}", summary="The catalog projection's copy of a material, with its facts",
    responses={404: {"description": "not (yet) known to the order service"}},
)  # fmt: skip
async def get_catalog_material(uow: Uow, code: str) -> dict[str, Any]:
    """What the order service knows of a material: the facts (category, tags, handling, weight, high value,
    VAT rate) its rules and split by type decide on, and the version it has."""
    return await _call(service.get_catalog_material, uow, code)


buyer_data_router = APIRouter(prefix="/buyer-data", tags=["buyer data"])


class ResealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: str | None = Field(
        None, min_length=1, max_length=64, description="the last order id of the page before"
    )
    limit: int = Field(500, ge=1, le=5000, description="orders per page (one transaction)")


class ResealPage(BaseModel):
    scanned: int
    resealed: int = Field(description="orders of the page whose receiver was sealed again")
    key_id: str = Field(description="the key everything is now sealed under (the ring's first)")
    next_after: str | None = Field(description="pass it as `after` for the next page; null: done")


@buyer_data_router.post(
    "/reseal", response_model=ResealPage, summary="Seal the receivers again under the newest key (a page)",
    responses={403: {"description": "only an admin re-seals buyer data"}},
)  # fmt: skip
async def reseal(uow: Uow, body: ResealRequest, caller: Caller) -> dict[str, Any]:
    """After a key rotation (a new key first in ORDER_BUYER_DATA_KEYS), every receiver under an older key,
    and any legacy plain one, is sealed under the first key, a page at a time in order id order; repeat
    with `after` = `next_after` until it is null (`omni-tools reseal-buyer-data` does). Then the old key can
    go. Values already under the first key and platform masks are left as they are."""
    if caller.role != "admin":
        raise HTTPException(403, "only an admin re-seals buyer data (X-Omni-Role admin)")
    return await _call(service.reseal_page, uow, after=body.after, limit=body.limit)
