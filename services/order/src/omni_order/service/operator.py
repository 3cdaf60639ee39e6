"""What an operator does to one order through the REST API: cancel it, or retry it after fixing its cause.

Retry (exception -> accepted) emits order.accepted again, so fulfillment sources the order anew (it
re-sources an order it had given up on); the order then follows fulfillment's events as on the first try
(sourcing-started -> sourcing, order-allocated -> allocated, or unfulfillable -> exception again).
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts.events.order import OrderCancelledV1

from ..domain.intake import plan_intake
from ..domain.status import DomainError, Status, check_transition
from .journal import Cause, OrderNotFound, OrderUow, StatusJournal, StillBlocked
from .records import accepted_event, material_line_rows, trade_from_rows

log = get_logger(__name__)


class MergedSource(DomainError):
    """An order merged into another is cancelled through it (409)."""


async def cancel(uow: OrderUow, order_id: str, reason: str) -> None:
    async with uow:
        order = await uow.repo.get_order(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        if order.get("merged_into"):
            raise MergedSource(
                f"order {order_id} is merged into {order['merged_into']}: cancel that order, or unmerge it "
                f"(POST /orders/{order['merged_into']}/unmerge) and cancel this one"
            )
        journal = StatusJournal(uow, "api")
        cancel_order(journal, order, reason)
        await cancel_sources(journal, order, reason)
    log.info("order cancelled", order_id=order_id)


def cancel_order(
    journal: StatusJournal,
    order: dict[str, Any],
    reason: str,
    *,
    reason_code: str = "cancelled",
    cause: Cause = None,
) -> None:
    """Cancel a locked order row: the transition, cancelled_at, and order.cancelled (fulfillment stops its
    tasks, inventory releases the stock, finance reverses the sale). Shared with after-sales' intercept."""
    order_id = order["order_id"]
    journal.transition(order, Status.CANCELLED, reason_code=reason_code, reason=reason, cause=cause)
    journal.set(order_id, cancelled_at=journal.at)
    journal.uow.emit(OrderCancelledV1(order_id=order_id, reason=reason), key=order_id, cause=cause)


async def cancel_sources(journal: StatusJournal, merged: dict[str, Any], reason: str) -> list[str]:
    """A merged order cancelled (not unmerged) takes its sources with it: status only, since M's
    order.cancelled is what reverses the sales finance booked per source."""
    if merged.get("kind") != "merged":
        return []
    sources = await journal.uow.repo.merged_sources(merged["order_id"])
    for s in sources:
        why = f"its merged order {merged['order_id']} was cancelled: {reason}"
        journal.transition(s, Status.CANCELLED, reason_code="merged_cancelled", reason=why)
        journal.set(s["order_id"], cancelled_at=journal.at, merged_into=None)
    return [s["order_id"] for s in sources]


async def retry(uow: OrderUow, order_id: str) -> None:
    """exception -> accepted, once an operator has fixed the cause (mapped a listing, restocked a node).

    An order stopped at intake is planned again against today's catalog; one that fulfillment gave up on
    keeps its material lines. Either way order.accepted is emitted again, so fulfillment sources it anew.
    """
    async with uow:
        repo = uow.repo
        order = await repo.get_order(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        check_transition(Status(order["status"]), Status.ACCEPTED, order_id)
        lines = (await repo.material_lines([order_id]))[order_id]
        if not lines:
            trade = trade_from_rows(order, await repo.channel_lines(order_id))
            catalog = await repo.load_catalog(
                {(trade.channel, trade.shop_id)},
                {x.channel_item_id for x in trade.lines},
                {c for x in trade.lines for c in (x.outer_sku_id, x.outer_iid) if c},
            )
            plan = plan_intake(trade, catalog)
            if not plan.accepted:
                raise StillBlocked(f"order {order_id} still cannot be accepted: {plan.reason}")
            lines = material_line_rows(order_id, plan)
            await repo.add_lines(lines)
            await repo.set_channel_line_matches(
                order_id, [(m.position, m.listing_id, m.sales_product_code) for m in plan.matches]
            )
        journal = StatusJournal(uow, "api")
        journal.transition(order, Status.ACCEPTED, reason="retried by an operator")
        uow.emit(accepted_event(order, lines), key=order_id)
    log.info("order retried", order_id=order_id)
