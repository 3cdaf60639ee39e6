"""A presale end to end on Tmall: the deposit-only trade is not taken (the channel answers why: its balance
is unpaid), the fully paid trade is; the strategy's ship-from date holds it (presale_ship_from, in the
trace), the order service's timer sends it on at that date, fulfillment allocates it, it is shipped and
completed. The strategy is disabled at the end (the stack is shared)."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import new_sku, order_of, send, sku_line, tasks_of, tid_of, trade, until, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_a_presale_waits_for_its_balance_and_its_ship_from_date_then_ships(gw):
    sku = await new_sku(gw, {"WH-HZ": 5})
    sid = f"presale-{uuid.uuid4().hex[:8]}"
    ship_from = datetime.now(UTC) + timedelta(seconds=8)
    strategy = {"name": "e2e presale", "match": {"channels": ["tmall"]}, "priority": 950,
                "presale": {"ship_from": ship_from.isoformat()}}  # fmt: skip
    r = await gw.put(f"/api/order/strategies/{sid}", json=strategy)
    assert r.status_code == 200, r.text
    try:
        doc = trade([sku_line(sku, 2)])
        doc["trade_fullinfo_get_response"]["trade"]["step_trade_status"] = "FRONT_PAID_FINAL_NOPAID"
        deposit_only = await send(gw, doc)
        answer = deposit_only.json()
        assert deposit_only.status_code == 202 and answer["accepted"] is False, deposit_only.text
        assert "presale balance not paid" in answer["reason"], answer
        assert await order_of(gw, tid_of(doc)) is None
        doc["trade_fullinfo_get_response"]["trade"]["step_trade_status"] = "FRONT_PAID_FINAL_PAID"
        assert (await send(gw, doc)).status_code == 202
        held = await wait_status(gw, tid_of(doc), {"held", "accepted", "allocated", "exception"})
        if datetime.now(UTC) < ship_from:  # on a slow machine the date may already have come
            assert (held["status"], held["status_reason_code"]) == ("held", "presale_ship_from"), held
            assert not await tasks_of(gw, held["order_id"])
        order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"}, timeout=90)
        assert order["status"] == "allocated", order.get("status_reason")
        steps = [h["to_status"] for h in order["history"]]
        assert steps[:2] == ["received", "held"] and "accepted" in steps, steps
        trace = (await gw.get(f"/api/order/orders/{order['order_id']}/trace")).json()
        hold = [(h["code"], h["ended_by"]) for h in trace["holds"]]
        assert hold == [("presale_ship_from", "ship_from")], trace["holds"]
        (task,) = await tasks_of(gw, order["order_id"])
        for step, body in (
            ("accept", {"staff_id": "e2e"}),
            ("ship", {"carrier": "SF", "tracking_no": f"SF{sid}"}),
        ):
            r = await gw.post(f"/api/fulfillment/tasks/{task['task_id']}/{step}", json=body)
            assert r.status_code == 200, r.text

        async def completed():
            o = await order_of(gw, tid_of(doc))
            return o if o and o["status"] == "completed" else None

        await until(completed, f"presale order {order['order_id']} completed")
    finally:
        r = await gw.put(f"/api/order/strategies/{sid}", json={**strategy, "enabled": False})
        assert r.status_code == 200, r.text
