"""A platform's refusal of a shipment write-back (`channel.shipment-writeback.refused`) is kept on the order
and shown in its view (real PostgreSQL, the migrations): a repeat adds nothing, an unknown order keeps
nothing, the order's status is untouched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from order_db_helpers import order_database, project, scalar, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_contracts.events.channel import ChannelShipmentWritebackRefusedV1
from omni_order import service
from omni_order.api_views import present

pytestmark = pytest.mark.integration
AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def refused(order_id: str, writeback_id: str = "T-1") -> ChannelShipmentWritebackRefusedV1:
    return ChannelShipmentWritebackRefusedV1(
        order_id=order_id, writeback_id=writeback_id, channel="jd", shop_id="S1",
        channel_order_id="400000000123", carrier="SF", company_code="467", tracking_no="SF100",
        reason="JD refused the shipment: order is closed", refused_at=AT,
    )  # fmt: skip


async def test_a_refusal_is_kept_on_the_order_and_shown(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    (order_id,) = (await take_in(db, [envelope(channel_order())])).accepted
    status = await scalar(db, "SELECT status FROM orders WHERE order_id = :o", o=order_id)
    same = envelope(refused(order_id))
    assert await service.record_writeback_refusals(uow_for(db), [same, same]) == 1  # a repeat: nothing new
    assert await service.record_writeback_refusals(uow_for(db), [envelope(refused("no-such-order"))]) == 0
    view = present(await service.get_order(uow_for(db), order_id))
    assert view["writeback_problems"] == [
        {"writeback_id": "T-1", "channel": "jd", "carrier": "SF", "company_code": "467",
         "tracking_no": "SF100", "reason": "JD refused the shipment: order is closed", "refused_at": AT}
    ]  # fmt: skip
    assert await scalar(db, "SELECT status FROM orders WHERE order_id = :o", o=order_id) == status
