"""Cancel and retry on the fake unit of work; a retried unfulfillable order is sourced again to allocated."""

from __future__ import annotations

import pytest
from order_factories import channel_order, envelope
from order_journeys import (
    accepted_order,
    all_lines,
    follow,
    one_task,
    shipped_v2,
    started,
    statuses,
    unfulfillable,
)

from omni_contracts.events.product import ChannelListingUpsertedV1
from omni_order import service
from omni_order.domain.status import IllegalTransition


async def test_an_open_order_is_cancelled_once():
    uow, oid = await accepted_order()
    await service.cancel(uow, oid, "buyer changed their mind")
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"], o["status_reason"]) == (
        "cancelled",
        "cancelled",
        "buyer changed their mind",
    )
    assert o["cancelled_at"] is not None
    assert uow.repo.history[-1]["source"] == "api" and uow.repo.history[-1]["cause_event_id"] is None
    (cancelled,) = uow.of_type("order.cancelled")
    assert (cancelled.key, cancelled.data.reason) == (oid, "buyer changed their mind")
    with pytest.raises(IllegalTransition, match=f"order {oid} is already cancelled"):
        await service.cancel(uow, oid, "twice")
    assert len(uow.of_type("order.cancelled")) == 1


async def test_an_order_whose_goods_left_cannot_be_cancelled():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), one_task(oid), shipped_v2(oid, "T1", all_lines(oid)))
    with pytest.raises(IllegalTransition, match="in status shipped cannot become cancelled"):
        await service.cancel(uow, oid, "too late")
    assert uow.repo.orders[oid]["status"] == "shipped" and uow.of_type("order.cancelled") == []


async def test_an_order_in_exception_may_be_cancelled():
    uow, oid = await accepted_order()
    await follow(uow, unfulfillable(oid))
    await service.cancel(uow, oid, "refunded on the platform")
    assert statuses(uow, oid)[-2:] == [("accepted", "exception"), ("exception", "cancelled")]


async def test_unknown_orders_are_not_found():
    uow, _ = await accepted_order()
    for call in (
        service.cancel(uow, "Onope", "x"),
        service.retry(uow, "Onope"),
        service.get_order(uow, "Onope"),
    ):
        with pytest.raises(service.OrderNotFound, match="no order Onope"):
            await call


async def test_a_retried_unfulfillable_order_is_accepted_then_sourced_again_to_allocated():
    """Fulfillment gave up; stock arrives; the operator retries. order.accepted goes out again (fulfillment
    re-sources an order it gave up on), and the order follows fulfillment's answer to allocated."""
    uow, oid = await accepted_order()
    await follow(uow, started(oid), unfulfillable(oid, "0 MACHINE-AUTO-01 anywhere"))
    first_accepted = uow.of_type("order.accepted")[0]
    await service.retry(uow, oid)
    o = uow.repo.orders[oid]
    assert (o["status"], o["status_reason_code"], o["status_reason"]) == (
        "accepted",
        None,
        "retried by an operator",
    )
    again = uow.of_type("order.accepted")
    assert len(again) == 2 and again[1].key == oid and again[1].causation_id is None
    assert again[1].data.lines == first_accepted.data.lines  # the same material lines: nothing re-planned
    assert len(uow.repo.lines) == 5
    await follow(uow, started(oid, attempt=4), one_task(oid))
    assert uow.repo.orders[oid]["status"] == "allocated"
    assert statuses(uow, oid) == [
        (None, "received"), ("received", "accepted"), ("accepted", "sourcing"), ("sourcing", "exception"),
        ("exception", "accepted"), ("accepted", "sourcing"), ("sourcing", "allocated"),
    ]  # fmt: skip
    assert uow.repo.history[-2]["reason"] == "sourcing started (attempt 4)"


async def test_a_retried_order_can_be_given_up_on_again_and_retried_again():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), unfulfillable(oid))
    await service.retry(uow, oid)
    await follow(uow, started(oid, attempt=4), unfulfillable(oid, attempts=6))
    assert uow.repo.orders[oid]["status"] == "exception" and len(uow.of_type("order.exception-raised")) == 2
    await service.retry(uow, oid)
    await follow(uow, started(oid, attempt=7), one_task(oid))
    assert uow.repo.orders[oid]["status"] == "allocated"


async def test_an_order_stopped_at_intake_is_planned_again_once_its_listing_exists():
    uow, _ = await accepted_order()
    (oid,) = (await service.intake(uow, [envelope(channel_order(shop_id="S9"))])).exceptions
    commits = uow.commits
    with pytest.raises(
        service.StillBlocked, match=f"order {oid} still cannot be accepted: line 1: no tmall listing"
    ):
        await service.retry(uow, oid)
    assert uow.commits == commits and uow.repo.orders[oid]["status"] == "exception"
    listing = dict(channel="tmall", shop_id="S9", price_cents=1, version=1)
    await service.project_catalog(uow, [envelope(e) for e in [
        ChannelListingUpsertedV1(listing_id="L9-SET", channel_item_id="6012345", channel_sku_id="4456",
                                 sales_product_code="SET-COFFEE-PRO", **listing),
        ChannelListingUpsertedV1(listing_id="L9-BEANS", channel_item_id="6019999", outer_id="BEAN-ETH-500",
                                 sales_product_code="BEAN-ETH-500", **listing),
    ]])  # fmt: skip
    await service.retry(uow, oid)
    assert uow.repo.orders[oid]["status"] == "accepted"
    mine = [x for x in uow.repo.lines if x["order_id"] == oid]
    assert len(mine) == 5 and sum(x["amount_cents"] for x in mine) == 329_600
    assert [x["listing_id"] for x in uow.repo.channel_line_rows if x["order_id"] == oid] == [
        "L9-SET",
        "L9-BEANS",
    ]
    (accepted,) = [e for e in uow.of_type("order.accepted") if e.key == oid]
    assert [x.line_id for x in accepted.data.lines] == [x["line_id"] for x in mine]
    with pytest.raises(IllegalTransition, match="is already accepted"):
        await service.retry(uow, oid)
