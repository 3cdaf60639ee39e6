"""After-sales webhooks: a signed refund push of any channel -> `channel.refund.received`, once per (refund
id, status), in one unit of work with its dedupe row (service/aftersales_record.py); on any error nothing is
recorded or published. Each is signed exactly as that platform's order webhook: Tmall TOP over the sorted
query and the body (service/orders.py), the others as service/platform_orders.py checks them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from omni_contracts.events.channel import ChannelRefundReceivedV1

from ..domain import (
    aftersales_douyin,
    aftersales_jd,
    aftersales_pdd,
    aftersales_xiaohongshu,
    aftersales_youzan,
)
from ..domain.aftersales_tmall import normalise_refund
from ..domain.tmall import parse_json
from .aftersales_record import AfterSaleReceipt, Uow, record
from .orders import _query, authenticate_tmall
from .platform_orders import Request, authenticate
from .platform_orders import _query as platform_query

Normaliser = Callable[..., ChannelRefundReceivedV1]
NORMALISERS: dict[str, Normaliser] = {
    "jd": aftersales_jd.normalise_refund,
    "pdd": aftersales_pdd.normalise_refund,
    "douyin": aftersales_douyin.normalise_refund,
    "xiaohongshu": aftersales_xiaohongshu.normalise_refund,
    "youzan": aftersales_youzan.normalise_refund,
}
REFUND_CHANNELS = ("tmall", *NORMALISERS)


async def receive_refund(
    uow: Uow, *, platform: str, params: list[tuple[str, str]], body: bytes, now: datetime
) -> AfterSaleReceipt:
    """A refund push of `platform` (one of REFUND_CHANNELS). Raises Unauthorized (401), MalformedPayload
    (400), InvalidTrade (422) or EventTooLarge (413)."""
    if platform == "tmall":
        return await receive_tmall_refund(uow, params=params, body=body, now=now)
    request = Request(platform_query(params), body, now)
    async with uow:
        shop_id, doc = await authenticate(uow, platform, request)
        event = _normalise(platform, doc, shop_id, now)
        return await record(uow, event, now)


def _normalise(platform: str, doc: Any, shop_id: str, now: datetime) -> ChannelRefundReceivedV1:
    return NORMALISERS[platform](doc, shop_id=shop_id, received_at=now)


async def receive_tmall_refund(
    uow: Uow, *, params: list[tuple[str, str]], body: bytes, now: datetime
) -> AfterSaleReceipt:
    """Raises Unauthorized (401), MalformedPayload (400), InvalidTrade (422) or EventTooLarge (413)."""
    query = _query(params)
    async with uow:
        shop_id = await authenticate_tmall(uow, query, body, now)
        event = normalise_refund(parse_json(body), shop_id=shop_id, received_at=now)
        return await record(uow, event, now)


async def list_after_sales(
    uow: Uow, *, filters: dict[str, str | None], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_after_sales(filters=filters, limit=limit, offset=offset)


async def after_sale(uow: Uow, channel: str, kind: str, ref_id: str) -> dict[str, Any] | None:
    """A refund (every status it arrived in) or a close, with each status's delivery count; None: unknown."""
    async with uow:
        rows = await uow.repo.after_sale_rows(channel, kind, ref_id)
    if not rows:
        return None
    first = rows[0]
    statuses = [{k: r[k] for k in ("channel_status", "event_id", "deliveries", "received_at",
                                   "last_received_at")} for r in rows]  # fmt: skip
    return {"channel": channel, "kind": kind, "ref_id": ref_id, "shop_id": first["shop_id"],
            "channel_order_id": first["channel_order_id"], "statuses": statuses}  # fmt: skip
