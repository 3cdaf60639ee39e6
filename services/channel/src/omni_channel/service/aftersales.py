"""After-sales webhooks: a signed Tmall refund push -> `channel.refund.received`, once per (refund id,
status), in one unit of work with its dedupe row (service/aftersales_record.py); on any error nothing is
recorded or published. Signed exactly as the trade webhook (TOP, over the sorted query and the body)."""

from __future__ import annotations

from datetime import datetime

from ..domain.aftersales_tmall import normalise_refund
from ..domain.tmall import parse_json
from .aftersales_record import AfterSaleReceipt, Uow, record
from .orders import _query, authenticate_tmall


async def receive_tmall_refund(
    uow: Uow, *, params: list[tuple[str, str]], body: bytes, now: datetime
) -> AfterSaleReceipt:
    """Raises Unauthorized (401), MalformedPayload (400), InvalidTrade (422) or EventTooLarge (413)."""
    query = _query(params)
    async with uow:
        shop_id = await authenticate_tmall(uow, query, body, now)
        event = normalise_refund(parse_json(body), shop_id=shop_id, received_at=now)
        return await record(uow, event, now)
