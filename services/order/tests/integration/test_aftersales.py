"""After-sales on real PostgreSQL (the migrations, order0005): a platform refund applied once per (refund id,
status), a whole refund before shipment intercepting the order, a return received after shipment, the case
list and its filters, and the consumer that parks a refund whose order has not arrived."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from order_db_helpers import follow, order_database, outbox, project, scalar, take_in, uow_for
from order_factories import SHOP, channel_order, envelope, product_events
from order_journeys import all_lines, one_task, shipped_v2, started

from omni_chassis.consumer import WaitingFor
from omni_contracts.events.channel import ChannelRefundLine, ChannelRefundReceivedV1
from omni_order import consumers, service
from omni_order.domain.aftersales import Inspected
from omni_order.service import aftersales_ops as ops

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def refund(
    coid: str, status: str, cents: int, lines=(), kind: str = "refund_only"
) -> ChannelRefundReceivedV1:
    return ChannelRefundReceivedV1(
        channel="tmall", shop_id=SHOP, channel_order_id=coid, channel_refund_id=f"RF-{coid}", kind=kind,
        status=status, channel_status=status.upper(), refund_cents=cents, received_at=AT,
        lines=[ChannelRefundLine(channel_line_id=c, qty=q, refund_cents=m) for c, q, m in lines],
    )  # fmt: skip


async def test_a_whole_refund_before_shipment_cancels_the_order_once(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order = channel_order()
    (oid,) = (await take_in(db, [envelope(order)])).accepted
    for status in ("requested", "refunded", "refunded"):  # the last: a repeat of (refund id, status)
        await service.apply_channel_aftersales(
            uow_for(db), envelope(refund(order.channel_order_id, status, 329_600), key="k")
        )
    assert await scalar(db, "SELECT status FROM orders WHERE order_id = :o", o=oid) == "cancelled"
    assert len(await outbox(db, "order.cancelled", key=oid)) == 1
    assert await outbox(db, "order.refund-approved") == []
    (case,), total = await ops.list_cases(uow_for(db), order_id=oid, kind="refund_before_shipment")
    assert total == 1 and (case["state"], case["money_done"], case["refund_cents"]) == (
        "refunded",
        True,
        329_600,
    )
    record = await ops.get_case(uow_for(db), case["case_id"])
    assert [h["platform_status"] for h in record.history] == ["requested", "refunded"]
    assert sum(x["refund_cents"] for x in record.lines) == 329_600 and len(record.lines) == 5


async def test_a_return_after_shipment_is_expected_received_and_refunded(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    order = channel_order()
    (oid,) = (await take_in(db, [envelope(order)])).accepted
    await follow(db, [started(oid), one_task(oid), shipped_v2(oid, "T1", all_lines(oid))])
    beans = (("oid-2", 1, 9_608),)
    for status in ("agreed", "refunded"):
        ev = refund(order.channel_order_id, status, 9_608, beans, kind="return_and_refund")
        await service.apply_channel_aftersales(uow_for(db), envelope(ev, key="k"))
    (expected,) = await outbox(db, "order.return-expected", key=oid)
    assert expected["data"]["node_code"] == "WH-HZ"
    (approved,) = await outbox(db, "order.refund-approved", key=oid)
    assert approved["data"]["lines"] == [
        {"line_id": f"{oid}-005", "material_code": "BEAN-ETH-500", "qty": 1, "refund_cents": 9_608}
    ]
    case_id = expected["data"]["case_id"]
    await ops.receive(uow_for(db), case_id, None, [Inspected(f"{oid}-005", 1, 0)])
    (received,) = await outbox(db, "order.return-received", key=oid)
    assert received["data"]["lines"][0]["good_qty"] == 1
    assert (await ops.get_case(uow_for(db), case_id)).case["state"] == "completed"
    items, total = await ops.list_cases(uow_for(db), channel="tmall", state="completed")
    assert total == 1 and items[0]["case_id"] == case_id


async def test_the_consumer_takes_only_after_sales_and_a_refund_before_its_order_waits(make_database):
    assert consumers.aftersales_spec().event_types == {"channel.refund.received", "channel.order.closed"}
    assert consumers.intake_spec().event_types == {"channel.order.received"}
    db = await order_database(make_database)
    with pytest.raises(WaitingFor, match="not been received yet"):
        await consumers.on_aftersales(
            uow_for(db), envelope(refund("T-LATER", "requested", 1), key="tmall:T-LATER")
        )
    assert await scalar(db, "SELECT count(*) FROM aftersales_cases") == 0
