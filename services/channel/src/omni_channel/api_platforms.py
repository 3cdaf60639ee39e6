"""`POST /channels/{platform}/orders` for JD, Pinduoduo, Douyin, Xiaohongshu, Youzan and 1688 (`alibaba`):
thin. Each platform's own signature is checked by the service (service/platform_orders.py); answers as
Tmall's webhook does."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from omni_chassis.app import GroupCommitOf
from omni_chassis.errors import ProblemError, problem_response
from omni_chassis.logging import get_logger
from omni_chassis.outbox import EventTooLarge

from .api import MAX_BODY_BYTES, clock
from .domain.errors import InvalidTrade, MalformedPayload, Unauthorized
from .service.platform_orders import PLATFORMS, receive_platform_order

log = get_logger(__name__)
router = APIRouter()

Platform = Annotated[
    str, Path(pattern=r"^[a-z][a-z0-9_-]{1,31}$", description="jd, pdd, douyin, xiaohongshu, youzan, alibaba")
]


@router.post(
    "/channels/{platform}/orders",
    status_code=202,
    tags=["channels"],
    responses={
        202: {
            "description": '`{"accepted": true, "event_id", "channel_order_id"}` '
            'or `{"accepted": false, "reason", "channel_order_id"}`'
        },
        400: {"description": "the body is not JSON"},
        401: {"description": "unknown or inactive shop, bad signature, stale timestamp"},
        413: {"description": "body too large, or the order would make an event larger than the broker takes"},
        422: {"description": "the order is invalid: every problem with its path, and the platform"},
    },
)
async def platform_order(
    platform: Platform,
    request: Request,
    webhooks: GroupCommitOf("webhooks"),
    now: Annotated[datetime, Depends(clock)],
) -> Any:
    """An order pushed by JD, Pinduoduo, Douyin, Xiaohongshu, Youzan or 1688, signed the platform's own way
    (docs/platforms/<platform>.md). Paid orders awaiting shipment are published as
    `channel.order.received` v2; other statuses are acknowledged with `accepted: false` and a reason. A 1688
    order on credit terms (账期 / 诚E赊) is published `payment: on_account` for a shop that accepts orders on
    account, and answered `accepted: false` for any other.

    - jd: query `shop_id`, `app_key`, `timestamp` (GMT+8), `v`, …, `sign` = UPPER(MD5(secret + sorted k v +
      `360buy_param_json` (the body) + secret));
    - pdd: query `shop_id`, `client_id`, `timestamp` (unix s), `type`, …, `sign` = UPPER(MD5(secret + sorted
      k v + `data` (the body) + secret));
    - douyin: query `shop_id`, `app_key`, `timestamp` (unix s), `sign_method` (md5 | hmac-sha256), `sign`
      over secret + app_key + param_json (the body) + timestamp + secret;
    - xiaohongshu: `appId`, `timestamp`, `version`, `method`, `sign` (query or body), query `shop_id`;
    - youzan: the push envelope (`msg`, `client_id`, `kdt_id`, `sign` = MD5(client_id + msg + secret));
    - alibaba (1688): query `shop_id`, `app_key`, `_aop_timestamp` (unix ms), `_aop_signature` =
      UPPER(HEX(HMAC-SHA1(secret, `param2/1/com.alibaba.trade/alibaba.trade.get.sellerView/<app_key>` +
      the sorted key+value strings of the query and `message` (the body)))).
    """
    if platform not in PLATFORMS:
        return problem_response(
            404, f"no order webhook for channel {platform!r}; one of tmall, {', '.join(PLATFORMS)}"
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem_response(413, f"body too large: {len(body)} bytes, at most {MAX_BODY_BYTES}")
    try:
        params = list(request.query_params.multi_items())
        receipt = await webhooks.submit(
            lambda uow: receive_platform_order(uow, platform=platform, params=params, body=body, now=now)
        )
    except Unauthorized as exc:
        log.warning("channel webhook refused", channel=platform, reason=exc.reason)
        return problem_response(401, exc.reason)
    except MalformedPayload as exc:
        return problem_response(400, f"{platform}: {exc.reason}")
    except EventTooLarge as exc:
        log.warning("channel order too large", channel=platform, size=exc.size, limit=exc.limit)
        raise ProblemError(
            413,
            "Event too large",
            f"the {platform} order would become an event of {exc.size:,} bytes; the broker accepts at most "
            f"{exc.limit:,} bytes (nothing was recorded)",
            size=exc.size,
            limit=exc.limit,
        ) from exc
    except InvalidTrade as exc:
        paths = [p.path for p in exc.problems[:20]]  # paths only: messages may quote values
        log.info("channel order refused", channel=platform, problems=len(exc.problems), paths=paths)
        return problem_response(
            422,
            f"the {platform} order is invalid: {len(exc.problems)} problem(s): "
            + "; ".join(p.path for p in exc.problems[:10]),
            title=f"Invalid {platform} order",
            platform=platform,
            problems=[p.as_dict() for p in exc.problems],
        )
    if receipt.accepted:
        return {"accepted": True, "event_id": receipt.event_id, "channel_order_id": receipt.channel_order_id}
    return {"accepted": False, "reason": receipt.reason, "channel_order_id": receipt.channel_order_id}
