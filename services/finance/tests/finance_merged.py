"""A merged order (合单) of two sources, the payloads the unit and the integration tests both book:
S1 (shop A) beans 100.00 + 3 filters 30.00, freight 5.00; S2 (shop B) a machine 700.00 + a filter 4.00.
Line ids f"{source}-{position}" (a merged order keeps its sources' line ids)."""

from __future__ import annotations

from datetime import datetime

from omni_contracts.events.order import OrderAcceptedV1, OrderLine, OrderSource, ShipTo

S1_LINES = [("BEAN-YIRGA", 1, 10_000), ("FILTER-100", 3, 3_000)]
S2_LINES = [("MACHINE-AUTO", 1, 70_000), ("FILTER-100", 1, 400)]
S1_GOODS, S1_FREIGHT, S2_GOODS = 13_000, 500, 70_400
SHIP_TO = ShipTo(name="someone", phone="13800000000", detail="somewhere")


def lines_of(order_id: str, lines: list[tuple[str, int, int]], source: str | None) -> list[OrderLine]:
    return [
        OrderLine(line_id=f"{order_id}-{i}", channel_line_id=f"C{i}", sales_product_code="P", material_code=m,
                  qty=q, amount_cents=a, source_order_id=source)
        for i, (m, q, a) in enumerate(lines, 1)
    ]  # fmt: skip


def merged_order(m: str, s1: str, s2: str, *, paid_at: datetime | None = None) -> OrderAcceptedV1:
    """M's order.accepted: S1's lines then S2's, each naming its source; `sources` with their money."""
    return OrderAcceptedV1(
        order_id=m, channel="tmall", shop_id="A", channel_order_id=m, ship_to=SHIP_TO,
        lines=lines_of(s1, S1_LINES, s1) + lines_of(s2, S2_LINES, s2),
        goods_paid_cents=S1_GOODS + S2_GOODS, post_fee_cents=S1_FREIGHT,
        paid_cents=S1_GOODS + S2_GOODS + S1_FREIGHT,
        sources=[
            OrderSource(order_id=s1, shop_id="A", channel_order_id=f"T-{s1}", goods_paid_cents=S1_GOODS,
                        post_fee_cents=S1_FREIGHT, paid_cents=S1_GOODS + S1_FREIGHT, paid_at=paid_at),
            OrderSource(order_id=s2, shop_id="B", channel_order_id=f"T-{s2}", goods_paid_cents=S2_GOODS,
                        paid_cents=S2_GOODS),
        ],
    )  # fmt: skip


def own_order(source: str, *, first: bool) -> OrderAcceptedV1:
    """A source of `merged_order` accepted on its own (after an unmerge): its own lines and money."""
    lines, goods, freight = (S1_LINES, S1_GOODS, S1_FREIGHT) if first else (S2_LINES, S2_GOODS, 0)
    return OrderAcceptedV1(
        order_id=source, channel="tmall", shop_id="A" if first else "B", channel_order_id=f"T-{source}",
        ship_to=SHIP_TO, lines=lines_of(source, lines, None), goods_paid_cents=goods, post_fee_cents=freight,
        paid_cents=goods + freight,
    )  # fmt: skip
