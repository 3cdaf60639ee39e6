"""Taobao/Tmall's TOP router over HTTP: one full stock update per call (domain/stock_push.py decides what
an answer means), and the item read-back of the drift check (domain/stock_drift.py). A timeout or a broken
connection is an answer too: `retry`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import aiohttp

from ..credentials import CredentialsKeyError, reveal
from ..domain import stock_drift
from ..domain.push_status import Listing
from ..domain.stock_push import Answer, Credentials, Outcome, StockTarget, read_answer, request_params

CHANNELS = ("tmall", "taobao")


class TaobaoStock:
    def __init__(self, session: aiohttp.ClientSession, router_url: str, *, timeout_s: float = 10.0) -> None:
        self.session = session
        self.router_url = router_url  # https://gw.api.taobao.com/router/rest, or the simulator's
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def set_quantity(
        self, target: StockTarget, quantity: int, creds: Credentials, now: datetime
    ) -> Answer:
        status, body = await self._post(request_params(target, quantity, creds, now))
        return body if isinstance(body, Answer) else read_answer(status, body)

    async def get_item(
        self, num_iid: int, creds: Credentials, now: datetime
    ) -> stock_drift.ItemShown | Answer:
        status, body = await self._post(stock_drift.request_params(num_iid, creds, now))
        return body if isinstance(body, Answer) else stock_drift.read_item(status, body)

    async def _post(self, params: dict[str, str]) -> tuple[int, Any]:
        try:
            async with self.session.post(self.router_url, data=params, timeout=self.timeout) as r:
                try:
                    body = await r.json(content_type=None)
                except ValueError:
                    body = None
                return r.status, body
        except TimeoutError:
            return 0, Answer(Outcome.RETRY, f"the platform did not answer within {self.timeout.total:g} s")
        except aiohttp.ClientError as exc:
            return 0, Answer(Outcome.RETRY, f"the platform could not be reached: {type(exc).__name__}")
        except asyncio.CancelledError:
            raise


class TaobaoPlatform:
    """The registry's face of TaobaoStock: listings and shops in, answers out."""

    def __init__(self, client: TaobaoStock) -> None:
        self.client = client

    async def push(self, listing: Listing, quantity: int, shop: Any, now: datetime) -> Answer:
        creds = _creds(shop)
        if isinstance(creds, Answer):
            return creds
        target = stock_drift.target_of(listing)
        if isinstance(target, str):
            return Answer(Outcome.REFUSED, f"not pushed: {target}")
        return await self.client.set_quantity(target, quantity, creds, now)

    async def read(self, listings: Sequence[Listing], shop: Any, now: datetime) -> Mapping[str, int | Answer]:
        """Each listing's shown quantity: one `taobao.item.seller.get` per item, for all its listings."""
        creds = _creds(shop)
        out: dict[str, int | Answer] = {}
        by_item: dict[int, list[tuple[Listing, StockTarget]]] = {}
        if isinstance(creds, Answer):
            return {listing.listing_id: creds for listing in listings}
        for listing in listings:
            target = stock_drift.target_of(listing)
            if isinstance(target, str):
                out[listing.listing_id] = Answer(Outcome.REFUSED, target)
            else:
                by_item.setdefault(target.num_iid, []).append((listing, target))
        for num_iid, group in by_item.items():
            item = await self.client.get_item(num_iid, creds, now)
            for listing, target in group:
                if isinstance(item, Answer):
                    out[listing.listing_id] = item
                    continue
                shown = item.quantity_of(target)
                out[listing.listing_id] = (
                    shown if shown is not None else Answer(Outcome.REFUSED, "the item has no such SKU")
                )
        return out


def _creds(shop: Any) -> Credentials | Answer:
    """The shop's keys in the clear, for one signed call (the only place they are decrypted). A key that
    cannot decrypt them is a retry: the shop is fine, the service's configuration is not."""
    if not shop.session_key:
        return Answer(Outcome.CREDENTIALS, "the shop has no session_key (the seller's TOP access token)")
    try:
        return Credentials(shop.app_key, reveal(shop.secret) or "", reveal(shop.session_key) or "")
    except CredentialsKeyError as exc:
        return Answer(Outcome.RETRY, str(exc))


def platform(http: aiohttp.ClientSession, settings: Any) -> TaobaoPlatform:
    return TaobaoPlatform(TaobaoStock(http, settings.taobao_router_url, timeout_s=settings.push_timeout_s))
