"""`POST /channels/{platform}/refunds`: thin. A refund push, signed as that platform's order webhook, becomes
`channel.refund.received` once per (refund id, status); a repeat is acknowledged and publishes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import GroupCommitOf, Uow
from omni_chassis.errors import problem_response
from omni_chassis.logging import get_logger
from omni_chassis.outbox import EventTooLarge
from omni_chassis.paging import Limit, Offset, PageInfo

from .api import MAX_BODY_BYTES, clock
from .domain.errors import InvalidTrade, MalformedPayload, Unauthorized
from .service import aftersales
from .service.aftersales import REFUND_CHANNELS, receive_refund

log = get_logger(__name__)
router = APIRouter()

Platform = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description=", ".join(REFUND_CHANNELS))]


@router.post(
    "/channels/{platform}/refunds",
    status_code=202,
    tags=["channels"],
    responses={
        202: {"description": '`{"published": bool, "event_id", "channel_refund_id", "channel_order_id"}`'},
        400: {"description": "the body is not JSON"},
        401: {"description": "unknown or inactive shop, bad signature, stale timestamp"},
        404: {"description": "no refund webhook for this channel"},
        413: {"description": "body too large"},
        422: {"description": "the refund is invalid: every problem with its field"},
    },
)
async def platform_refund(
    platform: Platform,
    request: Request,
    webhooks: GroupCommitOf("webhooks"),
    now: Annotated[datetime, Depends(clock)],
) -> Any:
    """A refund, return or exchange pushed by a platform, signed as its order webhook
    (docs/platforms/<platform>.md, "Refund / after-sale"). Published as `channel.refund.received` once per
    (refund id, status): a repeat answers `published: false`.

    - tmall: `taobao.refund.get`'s Refund (refund_id, tid, oid, refund_fee yuan, status, has_good_return or
      bill_type, …), bare, as `{"refund": …}` or in `{"refund_get_response": {"refund": …}}`;
    - jd: a RefundApplyVo (id, orderId, applyRefundSum fen, status, applyTime, …);
    - pdd: `pdd.refund.information.get` (id, order_sn, after_sales_type, after_sales_status, refund_amount);
    - douyin: `afterSale/Detail` data (process_info.after_sale_info, order_info.related_order_info);
    - xiaohongshu: `afterSale.getAfterSaleDetail` data (returnsId, orderId, returnType, status, refundAmount);
    - youzan: a refund push whose msg is the refund (refund_id, tid, refund_fee yuan, status, demand, oids).
    """
    if platform not in REFUND_CHANNELS:
        return problem_response(
            404, f"no refund webhook for channel {platform!r}; one of {', '.join(REFUND_CHANNELS)}"
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem_response(413, f"body too large: {len(body)} bytes, at most {MAX_BODY_BYTES}")
    try:
        params = list(request.query_params.multi_items())
        receipt = await webhooks.submit(
            lambda uow: receive_refund(uow, platform=platform, params=params, body=body, now=now)
        )
    except Unauthorized as exc:
        log.warning("channel refund webhook refused", channel=platform, reason=exc.reason)
        return problem_response(401, exc.reason)
    except MalformedPayload as exc:
        return problem_response(400, f"{platform}: {exc.reason}")
    except EventTooLarge as exc:
        return problem_response(413, f"the {platform} refund would become an event of {exc.size:,} bytes")
    except InvalidTrade as exc:
        return problem_response(
            422,
            f"the {platform} refund is invalid: {len(exc.problems)} problem(s): "
            + "; ".join(p.path for p in exc.problems[:10]),
            title=f"Invalid {platform} refund",
            platform=platform,
            problems=[p.as_dict() for p in exc.problems],
        )
    return {
        "published": receipt.published,
        "event_id": receipt.event_id,
        "channel_refund_id": receipt.ref_id,
        "channel_order_id": receipt.channel_order_id,
        "channel_status": receipt.channel_status,
        "deliveries": receipt.deliveries,
    }


Text200 = Annotated[str | None, Query(max_length=200)]
KindName = Literal["refund", "close"]


class StatusOut(BaseModel):
    channel_status: str = Field(description="the platform's own status (a close: the first one)")
    event_id: uuid.UUID
    deliveries: int = Field(description="how many times it arrived")
    received_at: AwareDatetime
    last_received_at: AwareDatetime


class AfterSaleRow(StatusOut):
    channel: str
    kind: KindName
    ref_id: str = Field(description="the platform's refund id, or the order id of a close")
    shop_id: str
    channel_order_id: str


class AfterSalePage(PageInfo):
    items: list[AfterSaleRow]


class AfterSaleOut(BaseModel):
    channel: str
    kind: KindName
    ref_id: str
    shop_id: str
    channel_order_id: str
    statuses: list[StatusOut]


@router.get("/after-sales", response_model=AfterSalePage, tags=["after-sales"])
async def list_after_sales(
    uow: Uow,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    kind: KindName | None = None,
    channel_order_id: Text200 = None,
    shop_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """The refunds (one row per status) and closes received, newest first."""
    filters = {"channel": channel, "kind": kind, "channel_order_id": channel_order_id, "shop_id": shop_id}
    items, total = await aftersales.list_after_sales(uow, filters=filters, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/after-sales/{channel}/{kind}/{ref_id}", response_model=AfterSaleOut, tags=["after-sales"])
async def get_after_sale(
    channel: Annotated[str, Path(max_length=32)],
    kind: KindName,
    ref_id: Annotated[str, Path(pattern=r"^[^\s/\x00-\x1f\x85]{1,200}$")],
    uow: Uow,
) -> Any:
    """A refund with every status it arrived in, or a close, each with its delivery count."""
    found = await aftersales.after_sale(uow, channel, kind, ref_id)
    if found is None:
        raise HTTPException(404, f"no {kind} {ref_id!r} received from {channel}")
    return found
