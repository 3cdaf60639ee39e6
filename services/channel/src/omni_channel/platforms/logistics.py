"""Platform logistics APIs (shipment write-back), by channel: the registry the write-back worker looks an
order's channel up in, like the stock push's (platforms/__init__.py). A platform's client answers each
shipment with a `domain.stock_push.Answer` and the platform company code it sent (None: none sent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import aiohttp

from ..domain.stock_push import Answer
from ..domain.writeback import Shipment
from .carriers import CarrierCodes


class LogisticsPlatform(Protocol):
    async def send(self, shipment: Shipment, shop: Any, now: datetime) -> tuple[Answer, str | None]: ...


Factory = Callable[[aiohttp.ClientSession, Any, CarrierCodes], LogisticsPlatform]
_FACTORIES: dict[str, Factory] = {}


def register(channels: Sequence[str], factory: Factory) -> None:
    for channel in channels:
        _FACTORIES[channel] = factory


def build(http: aiohttp.ClientSession, settings: Any, carriers: CarrierCodes) -> dict[str, LogisticsPlatform]:
    made: dict[Factory, LogisticsPlatform] = {}
    out: dict[str, LogisticsPlatform] = {}
    for channel, factory in _FACTORIES.items():
        if factory not in made:
            made[factory] = factory(http, settings, carriers)
        out[channel] = made[factory]
    return out


def _load() -> None:
    from . import outbound, taobao_logistics

    register(taobao_logistics.CHANNELS, taobao_logistics.platform)
    for spec in outbound.SPECS:  # JD, Pinduoduo, Douyin, Xiaohongshu, Youzan
        register(spec.CHANNELS, outbound.logistics_factory(spec))


_load()
