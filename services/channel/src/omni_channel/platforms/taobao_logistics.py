"""Taobao/Tmall's `taobao.logistics.offline.send` over the TOP router (the same HTTP client as the stock
push, platforms/taobao.py): our carrier mapped to Taobao's company code, the signed call, the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp

from ..domain import writeback
from ..domain.stock_push import Answer, Outcome
from ..domain.writeback import Shipment
from .carriers import CarrierCodes
from .taobao import CHANNELS, TaobaoStock, _creds

__all__ = ["CHANNELS", "TaobaoLogistics", "platform"]


class TaobaoLogistics:
    def __init__(self, client: TaobaoStock, carriers: CarrierCodes) -> None:
        self.client = client
        self.carriers = carriers

    async def send(self, shipment: Shipment, shop: Any, now: datetime) -> tuple[Answer, str | None]:
        code = self.carriers.code_for(shipment.channel, shipment.carrier)
        if code is None:
            why = (f"carrier {shipment.carrier!r} has no Taobao company code (carrier codes "
                   f"v{self.carriers.version}: platforms/carrier_codes.json)")  # fmt: skip
            return Answer(Outcome.REFUSED, why), None
        if not shipment.channel_order_id.isdigit():
            return Answer(
                Outcome.REFUSED, f"not sent: tid {shipment.channel_order_id!r} is not a number"
            ), code
        creds = _creds(shop)
        if isinstance(creds, Answer):
            return creds, code
        params = writeback.request_params(shipment.channel_order_id, shipment.tracking_no, code, creds, now)
        status, body = await self.client._post(params)
        return (body if isinstance(body, Answer) else writeback.read_answer(status, body)), code


def platform(http: aiohttp.ClientSession, settings: Any, carriers: CarrierCodes) -> TaobaoLogistics:
    client = TaobaoStock(http, settings.taobao_router_url, timeout_s=settings.push_timeout_s)
    return TaobaoLogistics(client, carriers)
