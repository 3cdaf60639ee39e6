"""`POST /channels/tmall/refunds`: thin. A TOP-signed refund push becomes `channel.refund.received` once per
(refund id, status); a repeat is acknowledged and publishes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from omni_chassis.app import GroupCommitOf
from omni_chassis.errors import problem_response
from omni_chassis.logging import get_logger
from omni_chassis.outbox import EventTooLarge

from .api import MAX_BODY_BYTES, clock
from .domain.errors import InvalidTrade, MalformedPayload, Unauthorized
from .service.aftersales import receive_tmall_refund

log = get_logger(__name__)
router = APIRouter()


@router.post(
    "/channels/tmall/refunds",
    status_code=202,
    tags=["channels"],
    responses={
        202: {"description": '`{"published": bool, "event_id", "channel_refund_id", "channel_order_id"}`'},
        400: {"description": "the body is not JSON"},
        401: {"description": "unknown or inactive shop, bad signature, stale timestamp"},
        413: {"description": "body too large"},
        422: {"description": "the refund is invalid: every problem with its field"},
    },
)
async def tmall_refund(
    request: Request, webhooks: GroupCommitOf("webhooks"), now: Annotated[datetime, Depends(clock)]
) -> Any:
    """A Tmall/Taobao refund (`taobao.refund.get`'s Refund: refund_id, tid, oid, refund_fee (yuan string),
    status, has_good_return or bill_type, reason, num, created, modified), bare, as `{"refund": …}` or in
    `{"refund_get_response": {"refund": …}}`, signed as the trade webhook. Published as
    `channel.refund.received` once per (refund_id, status): a repeat answers `published: false`."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem_response(413, f"body too large: {len(body)} bytes, at most {MAX_BODY_BYTES}")
    try:
        params = list(request.query_params.multi_items())
        receipt = await webhooks.submit(
            lambda uow: receive_tmall_refund(uow, params=params, body=body, now=now)
        )
    except Unauthorized as exc:
        log.warning("channel refund webhook refused", channel="tmall", reason=exc.reason)
        return problem_response(401, exc.reason)
    except MalformedPayload as exc:
        return problem_response(400, f"tmall: {exc.reason}")
    except EventTooLarge as exc:
        return problem_response(413, f"the refund would become an event of {exc.size:,} bytes")
    except InvalidTrade as exc:
        return problem_response(
            422,
            f"the tmall refund is invalid: {len(exc.problems)} problem(s): "
            + "; ".join(p.path for p in exc.problems[:10]),
            title="Invalid tmall refund",
            platform="tmall",
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
