"""Partial refunds before shipment for the order's tests (service/intercept.py): the platform's refund of
some units (the case it opens) and fulfillment's `fulfillment.lines-intercepted` for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from order_factories import SHOP, envelope

from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1
from omni_contracts.events.fulfillment import InterceptedLine, LinesInterceptedV1, NotIntercepted
from omni_order import service

AT = datetime(2024, 5, 3, 9, 0, tzinfo=UTC)


def refunded(coid: str, channel_line: str, qty: int, cents: int, rid: str = "R1") -> ChannelRefundReceivedV1:
    """The platform refunded `qty` units of one channel line (`refunded`: the money is done)."""
    return ChannelRefundReceivedV1(
        channel="tmall", shop_id=SHOP, channel_order_id=coid, channel_refund_id=rid, kind="refund_only",
        status="refunded", channel_status="SUCCESS", refund_cents=cents, received_at=AT,
        lines=[ChannelRefundLine(channel_line_id=channel_line, qty=qty, refund_cents=cents)],
    )  # fmt: skip


async def partial_refund(uow: Any, coid: str, channel_line: str, qty: int, cents: int) -> None:
    """A partial refund before shipment of platform order `coid`, applied by the after-sales use case."""
    payload = refunded(coid, channel_line, qty, cents)
    await service.apply_channel_aftersales(uow, envelope(payload, key=f"tmall:{coid}"))


Held = tuple[str, str, int, str, str, bool]  # (line id, material, qty, task, node, task cancelled)


def intercepted(order_id: str, case_id: str, held: list[Held],
                gone: list[tuple[str, str, int, str]] = ()) -> LinesInterceptedV1:  # fmt: skip
    return LinesInterceptedV1(
        order_id=order_id, case_id=case_id, intercepted_at=AT,
        intercepted=[InterceptedLine(line_id=i, material_code=m, qty=q, task_id=t, node_code=n,
                                     reservation_id="R" + t[1:], task_cancelled=c)
                     for i, m, q, t, n, c in held],
        not_intercepted=[NotIntercepted(line_id=i, material_code=m, qty=q, why=w) for i, m, q, w in gone],
    )  # fmt: skip
