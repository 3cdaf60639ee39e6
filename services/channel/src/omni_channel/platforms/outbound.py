"""JD, Pinduoduo, Douyin, Xiaohongshu and Youzan over HTTP: one client per platform, built from the
platform's pure module (domain/outbound_<platform>.py), that is both the stock push's `StockPlatform`
(push, read) and the write-back's `LogisticsPlatform` (send). A timeout or a broken connection is an
answer too: `retry`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import Any

import aiohttp

from ..credentials import CredentialsKeyError, reveal
from ..domain import (
    outbound_douyin,
    outbound_jd,
    outbound_pdd,
    outbound_xiaohongshu,
    outbound_youzan,
)
from ..domain.errors import MalformedPayload
from ..domain.outbound import Call, Parcel
from ..domain.push_status import Listing
from ..domain.stock_push import Answer, Credentials, Outcome
from ..domain.tmall_fields import parse_json
from ..domain.writeback import Shipment
from .carriers import CarrierCodes

SPECS: tuple[ModuleType, ...] = (outbound_jd, outbound_pdd, outbound_douyin, outbound_xiaohongshu,
                                 outbound_youzan)  # fmt: skip


class PlatformClient:
    def __init__(self, spec: Any, http: aiohttp.ClientSession, base_url: str, *, timeout_s: float = 10.0,
                 carriers: CarrierCodes | None = None) -> None:  # fmt: skip
        self.spec, self.http, self.base_url = spec, http, base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.carriers = carriers
        self.splits: bool = spec.SPLITS  # takes a parcel of some lines (the write-back worker asks)

    # -- the stock push and the drift check ----------------------------------------------------------------
    async def push(self, listing: Listing, quantity: int, shop: Any, now: datetime) -> Answer:
        creds = credentials(shop, self.spec.NAME)
        if isinstance(creds, Answer):
            return creds
        call = self.spec.stock_call(listing, quantity, creds, now)
        if isinstance(call, str):
            return Answer(Outcome.REFUSED, f"not pushed: {call}")
        return await self._send(call, self.spec.stock_answer)

    async def read(self, listings: Sequence[Listing], shop: Any, now: datetime) -> Mapping[str, int | Answer]:
        """Each listing's shown quantity, one read per listing."""
        creds = credentials(shop, self.spec.NAME)
        out: dict[str, int | Answer] = {}
        for listing in listings:
            if isinstance(creds, Answer):
                out[listing.listing_id] = creds
                continue
            call = self.spec.read_call(listing, creds, now)
            if isinstance(call, str):
                out[listing.listing_id] = Answer(Outcome.REFUSED, call)
                continue
            out[listing.listing_id] = await self._send(
                call, lambda status, body, listing=listing: self.spec.read_answer(status, body, listing)
            )
        return out

    # -- the shipment write-back ---------------------------------------------------------------------------
    async def send(self, shipment: Shipment, shop: Any, now: datetime) -> tuple[Answer, str | None]:
        assert self.carriers is not None, "a write-back client is built with the carrier codes"
        code = self.carriers.code_for(shipment.channel, shipment.carrier)
        if code is None:
            why = (f"carrier {shipment.carrier!r} has no {self.spec.NAME} company code (carrier codes "
                   f"v{self.carriers.version}: platforms/carrier_codes.json)")  # fmt: skip
            return Answer(Outcome.REFUSED, why), None
        creds = credentials(shop, self.spec.NAME)
        if isinstance(creds, Answer):
            return creds, code
        parcel = Parcel(shipment.channel_order_id, code, shipment.tracking_no, shipment.lines, shipment.split)
        call = self.spec.ship_call(parcel, creds, now)
        if isinstance(call, str):
            return Answer(Outcome.REFUSED, f"not sent: {call}"), code
        return await self._send(call, self.spec.ship_answer), code

    async def _send(self, call: Call, read: Any) -> Any:
        url = self.base_url + call.path
        headers = {"Content-Type": "application/json"} if call.body is not None else None
        data: Any = call.form if call.form is not None else call.body
        try:
            async with self.http.post(url, params=call.query or None, data=data, headers=headers,
                                      timeout=self.timeout) as resp:  # fmt: skip
                raw = await resp.read()
                status = resp.status
        except TimeoutError:
            return Answer(Outcome.RETRY, f"{self.spec.NAME} did not answer within {self.timeout.total:g} s")
        except aiohttp.ClientError as exc:
            return Answer(Outcome.RETRY, f"{self.spec.NAME} could not be reached: {type(exc).__name__}")
        except asyncio.CancelledError:
            raise
        try:
            body = parse_json(raw)
        except MalformedPayload:
            body = None
        return read(status, body)


def credentials(shop: Any, platform: str) -> Credentials | Answer:
    """The shop's keys in the clear, for one call (decrypted here only). A key that cannot decrypt them is
    a retry: the shop is fine, the service's configuration is not."""
    if not shop.session_key:
        return Answer(Outcome.CREDENTIALS, f"the shop has no session_key (the seller's {platform} token)")
    try:
        return Credentials(shop.app_key, reveal(shop.secret) or "", reveal(shop.session_key) or "")
    except CredentialsKeyError as exc:
        return Answer(Outcome.RETRY, str(exc))


def stock_factory(spec: Any) -> Any:
    def build(http: aiohttp.ClientSession, settings: Any) -> PlatformClient:
        url = getattr(settings, spec.URL_SETTING)
        return PlatformClient(spec, http, url, timeout_s=settings.push_timeout_s)

    return build


def logistics_factory(spec: Any) -> Any:
    def build(http: aiohttp.ClientSession, settings: Any, carriers: CarrierCodes) -> PlatformClient:
        return PlatformClient(spec, http, getattr(settings, spec.URL_SETTING),
                              timeout_s=settings.push_timeout_s, carriers=carriers)  # fmt: skip

    return build
