"""Reads for the REST API: one order with everything hanging off it, lookups, pages of summaries.

They return rows; `api_views.order_view` presents an order in its six dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .journal import OrderNotFound, OrderUow


@dataclass(frozen=True)
class OrderRecord:
    """An order's row and its children (channel_lines, lines, allocations, shipments, shipment_lines,
    history), as stored."""

    order: dict[str, Any]
    children: dict[str, list[dict[str, Any]]]


async def get_order(uow: OrderUow, order_id: str) -> OrderRecord:
    async with uow:
        order = await uow.repo.get_order(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        return OrderRecord(order, await uow.repo.order_children(order_id))


async def get_order_by_channel(uow: OrderUow, channel: str, channel_order_id: str) -> OrderRecord:
    async with uow:
        order_id = await uow.repo.find_order_id(channel, channel_order_id)
        if order_id is None:
            raise OrderNotFound(f"no order from {channel} with channel order id {channel_order_id}")
        return await get_order(uow, order_id)


async def list_orders(
    uow: OrderUow,
    *,
    status: str | None = None,
    channel: str | None = None,
    shop_id: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Summaries, newest first, and how many match the filters."""
    async with uow:
        return await uow.repo.list_orders(
            status=status, channel=channel, shop_id=shop_id, created_from=created_from,
            created_to=created_to, limit=limit, offset=offset,
        )  # fmt: skip
