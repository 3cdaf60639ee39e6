"""On PostgreSQL: an order shipped where the old 57-city table knew nothing (大理, 三沙) gets its coordinates,
the level and adcode it was located at (order0016), and the trace's word; an unknown place gets none."""

from __future__ import annotations

import pytest
from order_db_helpers import order_database, outbox, project, rows, take_in, uow_for
from order_factories import channel_order, envelope, product_events

from omni_contracts.events.channel import Address
from omni_order import service

pytestmark = pytest.mark.integration


def _to(state: str, city: str, district: str) -> Address:
    return Address(name="赵六", phone="13700000000", state=state, city=city, district=district, detail="1 号")


async def test_orders_outside_the_old_table_get_coordinates_and_their_level(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    dali = channel_order(receiver=_to("云南省", "大理白族自治州", "大理市"))
    sansha = channel_order(receiver=_to("海南省", "三沙市", "永兴镇"))
    nowhere = channel_order(receiver=_to("火星", "奥林帕斯市", ""))
    result = await take_in(db, [envelope(dali), envelope(sansha), envelope(nowhere)])
    assert len(result.accepted) == 3

    sql = "SELECT channel_order_id, order_id, lat, lng, geo_level, geo_adcode FROM orders"
    got = {r.channel_order_id: r for r in await rows(db, sql)}
    d, s, n = got[dali.channel_order_id], got[sansha.channel_order_id], got[nowhere.channel_order_id]
    assert (d.geo_level, d.geo_adcode) == ("district", "532901")
    assert abs(d.lat - 25.6) < 0.2 and abs(d.lng - 100.2) < 0.2
    # 永兴镇 is a town, below the districts: the city is as precise as it gets
    assert (s.geo_level, s.geo_adcode) == ("city", "460300")
    assert s.lat < 18 and 111 < s.lng < 113
    assert (n.lat, n.lng, n.geo_level, n.geo_adcode) == (None, None, None, None)

    (accepted,) = await outbox(db, "order.accepted", key=d.order_id)
    assert (accepted["data"]["ship_to"]["lat"], accepted["data"]["ship_to"]["lng"]) == (d.lat, d.lng)
    trace = await service.trace(uow_for(db), d.order_id)
    assert [(x["stage"], x["why"]) for x in trace["decisions"] if x["stage"] == "geo"] == [
        ("geo", "address located at district 大理市 (532901)")
    ]
    trace = await service.trace(uow_for(db), n.order_id)
    assert [(x["matched"], x["why"]) for x in trace["decisions"] if x["stage"] == "geo"] == [
        (False, "address not located: routing cannot rank by distance")
    ]
