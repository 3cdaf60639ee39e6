"""Messages to the buyer that fulfillment asks for: `fulfillment.pickup-code-issued` (a store pickup is
ready; its code, first sent or resent).

For now the message is composed and logged, masked (the code is the buyer's secret: never in a log); no
platform's messaging API is called yet (Tmall's 旺旺 and the others need their own permissions per shop).
It is read by the `channel-shipments` group (consumers_writeback.py), beside the shipments it writes back.
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope

log = get_logger(__name__)

PICKUP_CODE = "fulfillment.pickup-code-issued"
EVENTS = frozenset({PICKUP_CODE})


def pickup_message(d: Any, *, masked: bool = False) -> str:
    """The text the buyer gets (the code masked for a log)."""
    code = "******" if masked else d.pickup_code
    where = d.node_name or d.node_code
    by = f"，请在 {d.collect_by.strftime('%Y-%m-%d %H:%M')} (UTC) 前取货" if d.collect_by else ""
    return f"您的订单 {d.channel_order_id or d.order_id} 已在 {where} 备好，取货码 {code}{by}。"


async def on_pickup_code(uow: Any, env: Envelope[Any]) -> None:
    d = env.data
    log.info(
        "pickup code message to the buyer composed (no platform messaging yet: logged only)",
        channel=d.channel, shop_id=d.shop_id, channel_order_id=d.channel_order_id, order_id=d.order_id,
        task_id=d.task_id, sent=d.sent, message=pickup_message(d, masked=True),
    )  # fmt: skip
