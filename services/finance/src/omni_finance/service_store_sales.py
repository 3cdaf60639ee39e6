"""Use case of store sales (issue #9, POS): book each store sale and till return at once, in the chassis unit
of work (group `finance-store-sales` on omni.channel.orders; posting rules in domain/store_sales.py).

Idempotent per sale: the voucher's id comes from the sale (`pos:<shop>:<uid>` and the kind), so a sale that
arrives twice, as a redelivery or as a new event, posts one voucher. Nothing here is an order: no order
projection is created, and the order service never sees these events.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow

from .domain import store_sales
from .domain.posting import Source
from .domain.vouchers import InvalidVoucher
from .service import Uow, voucher_posted

log = get_logger(__name__)

STORE_SALE_EVENTS = {"channel.store-sale.recorded", "channel.store-return.recorded"}


async def handle_store_sales(uow: Uow, envs: list[Envelope[Any]]) -> None:
    envs = [e for e in envs if e.event_type in STORE_SALE_EVENTS]
    if not envs:
        return
    now = utcnow()
    try:
        booked = [(e, store_sales.book(e.data, Source(e.event_id, e.event_type), now)) for e in envs]
    except (store_sales.UnbookableStoreSale, InvalidVoucher) as exc:
        raise PermanentError(str(exc)) from exc
    async with uow:
        posted = await uow.repo.posted_vouchers({v.voucher_id for _, v in booked if v is not None})
        new = []
        for env, v in booked:
            if v is None or v.voucher_id in posted:
                log.info(
                    "store sale already booked or of 0; nothing posted",
                    document=store_sales.document_of(env.data),
                )
                continue
            posted.add(v.voucher_id)
            new.append(v)
            uow.emit(voucher_posted(v), key=v.order_id or v.kind.value, cause=env)
        if new:
            uow.defer(partial(uow.repo.add_vouchers, new))
    log.info("store sales booked", events=len(envs), vouchers=len(new))
