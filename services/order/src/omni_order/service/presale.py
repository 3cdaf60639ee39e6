"""Presale (预售) timers: the strategy's presale settings, decided at review (domain/review.py), end here.

    held presale_ship_from  -> (SHIP_FROM_TIMER at the ship-from date) the hold ends; with no other hold the
                               order continues to sourcing (`review.end_flow_hold`).
    held presale_balance    -> (BALANCE_DUE_TIMER at paid_at + balance_due_h) still unpaid: the order is
                               closed (order.cancelled, reason code presale_unpaid; nothing was reserved
                               while it was held). The balance paid first cancels the timer (`balance_paid`).
Both timers are set by intake in the unit of work that holds the order, and fire once in effect (chassis).
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger

from ..domain.review import PRESALE_BALANCE, PRESALE_SHIP_FROM
from ..domain.status import Status
from .journal import OrderUow, StatusJournal
from .operator import cancel_order
from .review import BALANCE_DUE_TIMER, SHIP_FROM_TIMER, end_flow_hold

log = get_logger(__name__)
UNPAID = "presale_unpaid"


async def on_ship_from(uow: OrderUow, key: str, payload: dict[str, Any] | None) -> None:
    async with uow:
        order = await uow.repo.get_order(key, for_update=True)
        if order is None:
            return
        journal = StatusJournal(uow, "timer")
        ended = await end_flow_hold(
            uow, journal, order, PRESALE_SHIP_FROM, "ship_from", "the ship-from date came"
        )
    log.info("presale ship-from date", order_id=key, hold_ended=ended)


async def on_balance_due(uow: OrderUow, key: str, payload: dict[str, Any] | None) -> None:
    async with uow:
        repo = uow.repo
        order = await repo.get_order(key, for_update=True)
        open_ = (await repo.open_holds([key])).get(key, []) if order else []
        if (
            order is None
            or order["status"] != Status.HELD.value
            or not any(h["code"] == PRESALE_BALANCE for h in open_)
        ):
            log.info("presale balance deadline for an order no longer waiting", order_id=key)
            return
        journal = StatusJournal(uow, "timer")
        reason = "presale: the balance was not paid by its deadline; the order is closed"
        await repo.end_holds(key, "balance_due", reason, journal.at)
        cancel_order(journal, order, reason, reason_code=UNPAID)
        uow.cancel_timer(SHIP_FROM_TIMER, key)
    log.info("presale order closed: balance unpaid", order_id=key)


TIMERS = {SHIP_FROM_TIMER: on_ship_from, BALANCE_DUE_TIMER: on_balance_due}
