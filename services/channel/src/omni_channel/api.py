"""REST routes: thin. Validate, call the service, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictBool

from omni_chassis.app import GroupCommitOf, Uow
from omni_chassis.errors import ProblemError, problem_response
from omni_chassis.logging import get_logger
from omni_chassis.outbox import EventTooLarge
from omni_chassis.paging import Limit, Offset, PageInfo
from omni_contracts import utcnow

from . import service
from .domain.errors import InvalidTrade, MalformedPayload, Unauthorized

log = get_logger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 2 * 1024 * 1024
ChannelCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description="e.g. tmall")]
ShopId = Annotated[str, Path(pattern=r"^[A-Za-z0-9._:-]{1,64}$", description="the shop's id on the channel")]


def clock() -> datetime:
    """The server's clock (a dependency, so tests can pin it)."""
    return utcnow()


# ------------------------------------------------------------------------------------------------ shops


class ShopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    app_key: str = Field(min_length=1, max_length=64, pattern=r"^[^\s\x85]+$")
    secret: str = Field(min_length=8, max_length=256, description="write-only: never returned")
    active: StrictBool = True
    session_key: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        pattern=r"^[^\s\x85]+$",
        description="write-only: the platform session token (TOP `session`) stock pushes are sent with; "
        "never returned; omitted: the one held is kept",
    )
    refresh_token: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        pattern=r"^[^\s\x85]+$",
        description="write-only: the platform's refresh token for the session key; stored encrypted, never "
        "returned; omitted: the one held is kept",
    )
    accepts_on_account: StrictBool = Field(
        False,
        description="B2B: take in orders the platform delivers unpaid on credit terms (1688 账期 `period`, "
        "诚E赊 `creditBuy`) as `payment: on_account`; only for channels that have them (alibaba), else 422; "
        "omitted: false",
    )


class ShopOut(BaseModel):
    channel: str
    shop_id: str
    name: str
    app_key: str
    active: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
    has_session_key: bool = Field(description="whether a session key is held (the key itself never shows)")
    has_refresh_token: bool = Field(False, description="whether a refresh token is held (never shown)")
    credentials_error: str | None = Field(
        None, description="why the platform refused the shop's credentials; its listings wait for a PUT"
    )
    credentials_error_at: AwareDatetime | None = None
    accepts_on_account: bool = Field(False, description="whether orders on account are taken in (B2B)")


class ShopPage(PageInfo):
    items: list[ShopOut]
    total: int
    limit: int
    offset: int


@router.put(
    "/shops/{channel}/{shop_id}",
    response_model=ShopOut,
    tags=["shops"],
    responses={201: {"model": ShopOut, "description": "created"}},
)
async def put_shop(
    channel: ChannelCode, shop_id: ShopId, body: ShopIn, uow: Uow, request: Request, response: Response
) -> Any:
    """Create or replace a shop and its credentials (201 when created, 200 when replaced). Saving a shop
    clears a refusal of its credentials: its listings that waited for them are pushed at once.
    `accepts_on_account` (B2B credit terms) is for alibaba (1688) shops only: 422 for any other channel."""
    view, created = await service.put_shop(
        uow,
        channel=channel,
        shop_id=shop_id,
        name=body.name,
        app_key=body.app_key,
        secret=body.secret,
        active=body.active,
        session_key=body.session_key,
        refresh_token=body.refresh_token,
        accepts_on_account=body.accepts_on_account,
        on_due=request.app.state.push_signal.wake,
    )
    response.status_code = 201 if created else 200
    return view


@router.get("/shops", response_model=ShopPage, tags=["shops"])
async def list_shops(
    uow: Uow,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    items, total = await service.list_shops(uow, channel=channel, active=active, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/shops/{channel}/{shop_id}", response_model=ShopOut, tags=["shops"])
async def get_shop(channel: ChannelCode, shop_id: ShopId, uow: Uow) -> Any:
    shop = await service.get_shop(uow, channel, shop_id)
    if shop is None:
        raise HTTPException(404, f"no shop {shop_id!r} on channel {channel!r}")
    return shop


# --------------------------------------------------------------------------------------------- webhooks


@router.post(
    "/channels/tmall/orders",
    status_code=202,
    tags=["channels"],
    responses={
        202: {
            "description": '`{"accepted": true, "event_id", "channel_order_id"}` '
            'or `{"accepted": false, "reason", "channel_order_id"}`'
        },
        400: {"description": "the body is not JSON"},
        401: {"description": "unknown or inactive shop, bad signature, stale timestamp"},
        413: {"description": "body too large, or the trade would make an event larger than the broker takes"},
        422: {"description": "the trade is invalid: every problem with its path"},
    },
)
async def tmall_order(
    request: Request, webhooks: GroupCommitOf("webhooks"), now: Annotated[datetime, Depends(clock)]
) -> Any:
    """A Tmall/Taobao trade (`taobao.trade.fullinfo.get` JSON), pushed and signed TOP/Qimen style.

    Query: `shop_id`, `app_key`, `timestamp` (`yyyy-MM-dd HH:mm:ss`, GMT+8, ±10 min), `sign_method`
    (`hmac-sha256` | `hmac` | `md5`), `sign` (uppercase hex over the sorted query parameters except `sign`,
    as name+value, followed by the raw body bytes). Body: the trade, bare, as `{"trade": …}` or wrapped in
    `{"trade_fullinfo_get_response": {"trade": …}}`. Paid trades awaiting shipment are published as
    `channel.order.received`; other statuses are acknowledged with `accepted: false` and a reason.
    Concurrent deliveries share one transaction (group commit); each is answered after its commit.
    """
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem_response(413, f"body too large: {len(body)} bytes, at most {MAX_BODY_BYTES}")
    try:
        params = list(request.query_params.multi_items())
        receipt = await webhooks.submit(
            lambda uow: service.receive_tmall_order(uow, params=params, body=body, now=now)
        )
    except Unauthorized as exc:
        log.warning("channel webhook refused", channel="tmall", reason=exc.reason)
        return problem_response(401, exc.reason)
    except MalformedPayload as exc:
        return problem_response(400, exc.reason)
    except EventTooLarge as exc:
        log.warning("channel order too large", channel="tmall", size=exc.size, limit=exc.limit)
        raise ProblemError(
            413,
            "Event too large",
            f"the trade would become an event of {exc.size:,} bytes; the broker accepts at most "
            f"{exc.limit:,} bytes (nothing was recorded)",
            size=exc.size,
            limit=exc.limit,
        ) from exc
    except InvalidTrade as exc:
        paths = [p.path for p in exc.problems[:20]]  # paths only: messages may quote values
        log.info("channel order refused", channel="tmall", problems=len(exc.problems), paths=paths)
        return problem_response(
            422,
            f"the trade is invalid: {len(exc.problems)} problem(s)",
            title="Invalid trade",
            problems=[p.as_dict() for p in exc.problems],
        )
    if receipt.accepted:
        return {"accepted": True, "event_id": receipt.event_id, "channel_order_id": receipt.channel_order_id}
    return {"accepted": False, "reason": receipt.reason, "channel_order_id": receipt.channel_order_id}


class ReceiptOut(BaseModel):
    channel: str
    channel_order_id: str
    shop_id: str
    channel_status: str
    outcome: str
    reason: str | None
    event_id: str | None
    payload_sha256: str
    deliveries: int
    received_at: AwareDatetime
    last_received_at: AwareDatetime


class ReceiptPage(PageInfo):
    items: list[ReceiptOut]
    total: int
    limit: int
    offset: int


@router.get("/received-orders", response_model=ReceiptPage, tags=["channels"])
async def list_received_orders(
    uow: Uow,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
    channel_order_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """What each channel delivered and what became of it (published, or ignored and why), newest first."""
    items, total = await service.list_receipts(
        uow, channel=channel, shop_id=shop_id, channel_order_id=channel_order_id, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}
