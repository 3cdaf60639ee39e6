"""The buyer's pickup-code message (service/buyer_messages.py): read by the channel-shipments group beside
the shipments, composed with the code, logged with the code masked."""

from __future__ import annotations

from datetime import UTC, datetime

from omni_channel import consumers_writeback
from omni_channel.service.buyer_messages import on_pickup_code, pickup_message
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import make_envelope
from omni_contracts.events.fulfillment_tasks import PickupCodeIssuedV1

AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def issued(**kw) -> PickupCodeIssuedV1:
    return PickupCodeIssuedV1(
        task_id="T1",
        order_id="O1",
        node_code="STORE-SH-01",
        node_name="上海静安门店",
        channel="tmall",
        shop_id="TM-1",
        channel_order_id="4001",
        pickup_code="482913",
        sent=1,
        collect_by=AT,
        issued_at=AT,
        **kw,
    )


def test_the_message_names_the_order_the_store_and_the_code_masked_for_a_log():
    d = issued()
    text = pickup_message(d)
    assert "4001" in text and "上海静安门店" in text and "482913" in text and "2026-05-01 10:00" in text
    masked = pickup_message(d, masked=True)
    assert "482913" not in masked and "******" in masked


async def test_the_shipments_group_reads_the_pickup_code_and_logs_it_masked(capsys):
    (spec,) = [s for s in consumers_writeback.specs() if s.group == consumers_writeback.SHIPMENTS_GROUP]
    assert {"fulfillment.shipped", "fulfillment.pickup-code-issued"} <= set(spec.event_types)
    env = make_envelope(issued(), producer="fulfillment", key="O1")
    await spec.handler(FakeUnitOfWork(object()), env)
    await on_pickup_code(FakeUnitOfWork(object()), env)
    out = capsys.readouterr()
    logged = out.out + out.err
    assert "pickup code message to the buyer composed" in logged and "482913" not in logged
