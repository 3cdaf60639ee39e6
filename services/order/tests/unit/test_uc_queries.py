"""Reads on the fake unit of work, and the order view the API presents from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from order_factories import channel_order, envelope
from order_journeys import WH_LINES, accepted_order, follow, shipped_v1, started, two_tasks

from omni_order import service
from omni_order.api_models import OrderDetail
from omni_order.api_views import present


async def test_the_view_shows_six_dimensions_allocations_and_shipped_units_per_line():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), two_tasks(oid), shipped_v1(oid, "T1", WH_LINES))
    view = present(await service.get_order(uow, oid))
    OrderDetail.model_validate(view)  # the documented response shape
    assert view["status"] == "partially_shipped"
    stock = {x["line_id"]: x for x in view["stock"]["lines"]}
    beans = stock[f"{oid}-005"]
    assert sorted((a["node_code"], a["qty"]) for a in beans["allocations"]) == [("ST-1", 1), ("WH-HZ", 2)]
    assert beans["shipped_qty"] == 2 and stock[f"{oid}-001"]["shipped_qty"] == 1
    assert [s["task_id"] for s in view["logistics"]["shipments"]] == ["T1"]
    assert [h["to_status"] for h in view["history"]] == [
        "received",
        "accepted",
        "sourcing",
        "allocated",
        "partially_shipped",
    ]
    assert view["money"]["goods_paid_cents"] == sum(x["amount_cents"] for x in view["money"]["allocation"])
    by_channel = await service.get_order_by_channel(uow, "tmall", view["trade"]["channel_order_id"])
    assert by_channel.order["order_id"] == oid


async def test_lists_filter_and_page_newest_first():
    uow, _ = await accepted_order()
    day = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    later = [channel_order(created_at=day + timedelta(days=d)) for d in (1, 2)]
    result = await service.intake(uow, [envelope(o) for o in later] + [envelope(channel_order(shop_id="S9"))])
    items, total = await service.list_orders(uow, limit=2)
    assert total == 4 and len(items) == 2 and items[0]["order_id"] == result.accepted[1]
    items, total = await service.list_orders(uow, status="exception")
    assert (total, [x["order_id"] for x in items]) == (1, result.exceptions)
    _, total = await service.list_orders(uow, created_from=day + timedelta(hours=1))
    assert total == 2
