"""The REST API on the real PostgreSQL: detail, lists with filters and pages, lookup by channel id, cancel."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from order_db_helpers import follow, order_database, outbox, project, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_contracts.events.channel import InvoiceRequest
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import (
    OrderAllocatedV1,
    OrderUnfulfillableV1,
    ShippedV1,
    SourcingStartedV1,
    TaskRef,
)
from omni_contracts.events.product import ChannelListingUpsertedV1
from omni_order import service
from omni_order.app import Settings, build

pytestmark = pytest.mark.integration
DAY1 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@asynccontextmanager
async def client_for(db):
    app = build(Settings(service_database_url=db.dsn, consumers_enabled=False))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            yield client


async def _ship(db, order_id):
    """Drive an order to shipped through the fulfillment events, as in production."""
    lines = [MaterialQty(material_code="MACHINE-AUTO-01", qty=1)]
    events = [
        SourcingStartedV1(order_id=order_id, attempt=1, started_at=DAY1),
        OrderAllocatedV1(order_id=order_id, tasks=[
            TaskRef(task_id="T", node_code="W", kind="ship", reservation_id="R", lines=lines)]),
        ShippedV1(task_id="T", order_id=order_id, node_code="W", reservation_id="R", carrier="SF",
                  tracking_no="SF1", lines=lines, shipped_at=DAY1),
    ]  # fmt: skip
    await follow(db, events)


async def _seed(db):
    """Six orders over three days, two shops, one channel more; one of them in exception."""
    await project(db, product_events())
    orders = [
        channel_order(created_at=DAY1 + timedelta(days=d, hours=h), shop_id=shop)
        for d, h, shop in [(0, 0, "S1"), (0, 1, "S1"), (1, 0, "S1"), (1, 1, "S1"), (2, 0, "S1")]
    ]
    orders.append(channel_order(created_at=DAY1 + timedelta(days=1, hours=2), shop_id="S2"))  # no listing
    result = await take_in(db, [envelope(o) for o in orders])
    assert len(result.accepted) == 5 and len(result.exceptions) == 1
    return result


async def test_get_shows_the_six_dimensions_and_the_history(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order = channel_order(
        invoice=InvoiceRequest(kind="electronic_special", title="杭州某公司", tax_id="91330100")
    )
    (order_id,) = (await take_in(db, [envelope(order)])).accepted
    async with client_for(db) as c:
        r = await c.get(f"/orders/{order_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        by_channel = await c.get(f"/orders/by-channel/tmall/{order.channel_order_id}")
        assert by_channel.status_code == 200 and by_channel.json() == body
        missing = await c.get("/orders/by-channel/tmall/nope")
        assert (
            missing.status_code == 404
            and missing.json()["detail"] == "no order from tmall with channel order id nope"
        )
        assert (await c.get("/orders/Onope")).status_code == 404

    assert body["order_id"] == order_id and body["status"] == "accepted"
    trade = body["trade"]
    assert (trade["channel"], trade["shop_id"], trade["channel_order_id"]) == (
        "tmall",
        "S1",
        order.channel_order_id,
    )
    assert trade["roles"] == {
        "owner": "brand", "seller": "brand", "channel": "tmall:S1", "fulfiller": None, "platform": "tmall",
        "partners": [],
    }  # fmt: skip
    assert trade["created_at"] == "2024-05-01T08:00:00Z"
    assert [x["channel_line_id"] for x in body["goods"]["channel_lines"]] == ["oid-1", "oid-2"]
    assert len(body["goods"]["lines"]) == 5
    assert [x["allocations"] for x in body["stock"]["lines"]] == [[]] * 5
    logistics = body["logistics"]
    # no X-Omni-Role: the receiver masked (docs/buyer-data.md)
    assert logistics["address"]["phone"] == "138****0000" and logistics["address"]["city"] == "杭州市"
    assert logistics["geo"]["lat"] == pytest.approx(30.27, abs=0.1)
    assert logistics["shipments"] == []
    money = body["money"]
    assert (money["paid_cents"], money["goods_paid_cents"], money["discount_cents"]) == (
        329_600,
        329_600,
        10_000,
    )
    assert sum(x["amount_cents"] for x in money["allocation"]) == 329_600
    assert body["invoice"] == {"kind": "electronic_special", "title": "杭州某公司", "tax_id": "91330100"}
    assert [(h["from_status"], h["to_status"]) for h in body["history"]] == [
        (None, "received"), ("received", "accepted")
    ]  # fmt: skip


async def test_list_filters_and_pages_newest_first(make_database):
    db = await order_database(make_database)
    result = await _seed(db)
    async with client_for(db) as c:

        async def page(**params):
            r = await c.get("/orders", params=params)
            assert r.status_code == 200, r.text
            return r.json()

        everything = await page()
        assert (everything["total"], everything["limit"], everything["offset"]) == (6, 50, 0)
        created = [x["created_at"] for x in everything["items"]]
        assert created == sorted(created, reverse=True)

        first, second, third = (
            await page(limit=2),
            await page(limit=2, offset=2),
            await page(limit=2, offset=4),
        )
        ids = [x["order_id"] for p in (first, second, third) for x in p["items"]]
        assert ids == [x["order_id"] for x in everything["items"]] and first["total"] == 6
        assert (first["next_offset"], second["next_offset"], third["next_offset"]) == (2, 4, None)
        assert (await page(limit=2, offset=6))["items"] == []

        exceptions = await page(status="exception")
        assert exceptions["total"] == 1 and exceptions["items"][0]["order_id"] == result.exceptions[0]
        assert exceptions["items"][0]["status_reason_code"] == "unknown_listing"
        assert (await page(shop_id="S1"))["total"] == 5
        assert (await page(channel="jd"))["total"] == 0
        assert (await page(channel="tmall", shop_id="S1", status="accepted"))["total"] == 5

        day2 = await page(created_from="2024-05-02", created_to="2024-05-02")  # a whole UTC day
        assert day2["total"] == 3
        assert {x["created_at"][:10] for x in day2["items"]} == {"2024-05-02"}
        assert (await page(created_from="2024-05-02T08:30:00Z"))["total"] == 3
        assert (await page(created_to="2024-05-01T09:00:00+00:00"))["total"] == 1  # a date-time is exclusive
        assert (await page(created_from="2024-05-02T16:30:00+08:00", created_to="2024-05-03"))["total"] == 3
        assert (await page(created_from="2024-05-03", created_to="2024-05-01"))["total"] == 0  # empty window
        assert (await page(created_from="0001-01-01T00:00:00+05:00", created_to="9999-12-31"))["total"] == 6

        for params, needle in [
            ({"limit": 201}, "less than or equal to 200"),
            ({"offset": 2**63}, "less than or equal to 100000"),
            ({"limit": 0}, "greater than or equal to 1"),
            ({"offset": -1}, "greater than or equal to 0"),
            ({"status": "lost"}, "received"),
            ({"created_from": "yesterday"}, "created_from must be an ISO date"),
        ]:
            r = await c.get("/orders", params=params)
            assert r.status_code == 422, (params, r.text)
            assert needle in r.text, (params, r.text)


async def test_cancel_is_allowed_while_open_and_refused_after_shipping(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    result = await take_in(db, [envelope(channel_order()) for _ in range(2)])
    open_id, shipped_id = result.accepted
    await _ship(db, shipped_id)
    async with client_for(db) as c:
        r = await c.post(f"/orders/{open_id}/cancel", json={"reason": "  buyer changed their mind "})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "cancelled" and body["status_reason"] == "buyer changed their mind"
        assert body["trade"]["cancelled_at"] is not None
        assert body["history"][-1]["from_status"] == "accepted" and body["history"][-1]["source"] == "api"

        again = await c.post(f"/orders/{open_id}/cancel", json={"reason": "twice"})
        assert again.status_code == 409
        assert again.json()["detail"].startswith(f"order {open_id} is already cancelled")

        refused = await c.post(f"/orders/{shipped_id}/cancel", json={"reason": "too late"})
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            f"order {shipped_id} in status shipped cannot become cancelled (from shipped it can only become "
            "completed); an order can be cancelled only while received, held, accepted, sourcing, "
            "allocated, backorder or exception"
        )
        assert (await c.get(f"/orders/{shipped_id}")).json()["status"] == "shipped"

        for payload in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x", "extra": 1}):
            bad = await c.post(f"/orders/{shipped_id}/cancel", json=payload)
            assert bad.status_code == 422, payload
        assert (await c.post("/orders/Onope/cancel", json={"reason": "x"})).status_code == 404

    (cancelled,) = await outbox(db, "order.cancelled")
    assert cancelled["data"] == {"order_id": open_id, "reason": "buyer changed their mind"}
    changed = await outbox(db, "order.status-changed", key=open_id)
    assert [(e["data"]["from_status"], e["data"]["to_status"]) for e in changed] == [
        ("received", "accepted"), ("accepted", "cancelled")
    ]  # fmt: skip
    assert await outbox(db, "order.cancelled", key=shipped_id) == []


async def test_a_cancel_racing_with_sourcing_leaves_one_consistent_outcome(make_database):
    """Cancel first, then fulfillment starts sourcing: the late planning event is ignored, not applied."""
    db = await order_database(make_database)
    await project(db, product_events())
    (order_id,) = (await take_in(db, [envelope(channel_order())])).accepted
    async with client_for(db) as c:
        assert (await c.post(f"/orders/{order_id}/cancel", json={"reason": "r"})).status_code == 200
    await follow(db, [SourcingStartedV1(order_id=order_id, attempt=1, started_at=DAY1)])
    assert (await service.get_order(uow_for(db), order_id)).order["status"] == "cancelled"


async def test_retry_accepts_an_exception_order_once_its_cause_is_fixed(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    (blocked,) = (await take_in(db, [envelope(channel_order(shop_id="S9"))])).exceptions
    (gave_up,) = (await take_in(db, [envelope(channel_order())])).accepted
    await follow(db, [OrderUnfulfillableV1(order_id=gave_up, reason="no stock", attempts=3)])
    async with client_for(db) as c:
        r = await c.post(f"/orders/{blocked}/retry")
        assert r.status_code == 409
        assert r.json()["detail"].startswith(
            f"order {blocked} still cannot be accepted: line 1: no tmall listing for item 6012345 sku 4456"
        )
        # the operator maps the items of shop S9 in PIM; the projection learns it
        listing = dict(channel="tmall", shop_id="S9", price_cents=1, version=1)
        await project(db, [
            ChannelListingUpsertedV1(listing_id="L9-SET", channel_item_id="6012345", channel_sku_id="4456",
                                     sales_product_code="SET-COFFEE-PRO", **listing),
            ChannelListingUpsertedV1(listing_id="L9-BEANS", channel_item_id="6019999",
                                     outer_id="BEAN-ETH-500", sales_product_code="BEAN-ETH-500", **listing),
        ])  # fmt: skip
        r = await c.post(f"/orders/{blocked}/retry")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "accepted" and body["status_reason"] == "retried by an operator"
        assert sum(x["amount_cents"] for x in body["goods"]["lines"]) == 329_600
        assert [x["listing_id"] for x in body["goods"]["channel_lines"]] == ["L9-SET", "L9-BEANS"]
        assert [h["to_status"] for h in body["history"]] == ["received", "exception", "accepted"]

        again = await c.post(f"/orders/{blocked}/retry")
        assert again.status_code == 409 and "is already accepted" in again.json()["detail"]

        r = await c.post(f"/orders/{gave_up}/retry")
        assert r.status_code == 200 and r.json()["status"] == "accepted"
        assert len(r.json()["goods"]["lines"]) == 5
        assert (await c.post("/orders/Onope/retry")).status_code == 404

    (accepted,) = await outbox(db, "order.accepted", key=blocked)
    assert len(accepted["data"]["lines"]) == 5 and accepted["data"]["goods_paid_cents"] == 329_600
    assert len(await outbox(db, "order.accepted", key=gave_up)) == 2  # at intake, then on retry
