"""The shipment write-back worker: claim_loop.ClaimLoop over `shipment_writebacks` (the stock push's
shape): claims due write-backs, calls the order's platform, records the answer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from omni_chassis.logging import get_logger

from ..domain.stock_push import Answer, Outcome
from ..domain.writeback import Shipment, State
from ..platforms.logistics import LogisticsPlatform
from ..store import ShopCredentials
from . import writeback
from .claim_loop import ClaimLoop, Job

log = get_logger(__name__)


class WritebackWorker(ClaimLoop):
    platforms: Mapping[str, LogisticsPlatform]

    def __init__(self, *args: object, platforms: Mapping[str, LogisticsPlatform], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.platforms = platforms

    async def take(self, limit: int) -> list[Job]:
        claims = await writeback.claim_writebacks(
            self.new_uow(), now=self.clock(), limit=limit, lease_s=self.settings.lease_s
        )
        return [(f"writeback:{s.writeback_id}", self._send(s, shop)) for s, shop in claims]

    async def next_due(self):  # type: ignore[no-untyped-def]
        return await writeback.next_writeback_due_at(self.new_uow())

    async def _send(self, shipment: Shipment, shop: ShopCredentials | None) -> None:
        started = self.clock()
        platform = self.platforms.get(shipment.channel)
        answer: Answer | None = None
        code: str | None = None
        held = None
        try:
            if platform is not None:
                answer = _local_answer(shipment, shop)
                if answer is None:
                    splits = bool(getattr(platform, "splits", False))
                    held = await writeback.held_parcel(self.new_uow(), shipment, splits=splits)
                if answer is None and held is None:
                    answer, code = await platform.send(shipment, shop, started)
            t = await writeback.finish_writeback(
                self.new_uow(),
                shipment,
                answer,
                company_code=code,
                now=self.clock(),
                backoff=self.settings.backoff,
                held=held,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database: the lease runs out and the write-back is taken again
            log.warning(
                "write-back not recorded", writeback_id=shipment.writeback_id, error=type(exc).__name__
            )
            return
        if t is not None and t.state is State.ACKNOWLEDGED:
            log.info("shipment written back", writeback_id=shipment.writeback_id, order_id=shipment.order_id,
                     channel=shipment.channel)  # fmt: skip


def _local_answer(shipment: Shipment, shop: ShopCredentials | None) -> Answer | None:
    where = f"{shipment.channel} shop {shipment.shop_id!r}"
    if shop is None:
        return Answer(Outcome.CREDENTIALS, f"no {where} is registered (PUT /shops/...)")
    if not shop.active:
        return Answer(Outcome.CREDENTIALS, f"the {where} is not active")
    if shop.credentials_error:
        return Answer(Outcome.CREDENTIALS, shop.credentials_error)
    return None
