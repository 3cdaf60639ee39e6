"""A platform's permanent refusal of a shipment write-back (`channel.shipment-writeback.refused`, consumer
`order-writeback`): kept on the order and shown by GET /orders/{id} (`writeback_problems`), until the channel
service's operator retries the write-back. Nothing about the order's status changes: the goods left."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope

from .journal import OrderUow

log = get_logger(__name__)
EVENTS = ("channel.shipment-writeback.refused",)


async def record_writeback_refusals(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> int:
    """Keep each refusal on its order. Returns how many were recorded (a repeat or an unknown order: 0)."""
    recorded = 0
    async with uow:
        for env in envs:
            d = env.data
            row = {"writeback_id": d.writeback_id, "order_id": d.order_id, "channel": d.channel,
                   "channel_order_id": d.channel_order_id, "carrier": d.carrier,
                   "company_code": d.company_code, "tracking_no": d.tracking_no, "reason": d.reason,
                   "refused_at": d.refused_at}  # fmt: skip
            if await uow.repo.add_writeback_problem(row):
                recorded += 1
            else:
                log.info("write-back refusal not kept (a repeat, or no such order)", order_id=d.order_id,
                         writeback_id=d.writeback_id)  # fmt: skip
    return recorded
