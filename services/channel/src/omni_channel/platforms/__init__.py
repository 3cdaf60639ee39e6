"""Platform stock APIs, by channel: a small registry the push worker and the drift check look a listing's
channel up in. A platform plugs in with a factory (`register`) that builds its client from the shared HTTP
session and the service's settings: Taobao/Tmall (taobao.py), JD, Pinduoduo, Douyin, Xiaohongshu and Youzan
(outbound.py).

Every platform answers a push with a `domain.stock_push.Answer` (acknowledged / retry / refused /
credentials) and a read-back with each listing's shown quantity (or the Answer that says why not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import aiohttp

from ..domain.push_status import Listing
from ..domain.stock_push import Answer


class ShopKeys(Protocol):
    """What a platform client needs of a shop (store.ShopCredentials): never logged, never answered."""

    app_key: str
    secret: str
    session_key: str | None


class StockPlatform(Protocol):
    async def push(self, listing: Listing, quantity: int, shop: ShopKeys, now: datetime) -> Answer: ...

    async def read(
        self, listings: Sequence[Listing], shop: ShopKeys, now: datetime
    ) -> Mapping[str, int | Answer]: ...


Factory = Callable[[aiohttp.ClientSession, Any], StockPlatform]
_FACTORIES: dict[str, Factory] = {}


def register(channels: Sequence[str], factory: Factory) -> None:
    for channel in channels:
        _FACTORIES[channel] = factory


def build(http: aiohttp.ClientSession, settings: Any) -> dict[str, StockPlatform]:
    """One client per registered channel (channels sharing a factory share the client)."""
    made: dict[Factory, StockPlatform] = {}
    out: dict[str, StockPlatform] = {}
    for channel, factory in _FACTORIES.items():
        if factory not in made:
            made[factory] = factory(http, settings)
        out[channel] = made[factory]
    return out


def channels() -> list[str]:
    return sorted(_FACTORIES)


def _load() -> None:
    from . import outbound, taobao

    register(taobao.CHANNELS, taobao.platform)
    for spec in outbound.SPECS:  # JD, Pinduoduo, Douyin, Xiaohongshu, Youzan
        register(spec.CHANNELS, outbound.stock_factory(spec))


_load()
