"""The simulator's `taobao.logistics.offline.send`: signed, recorded, idempotent for the same shipment,
refusing what the platform refuses, failing on demand like the stock API."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_sim import SHOP, error, signed, sim, top  # noqa: F401

METHOD = "taobao.logistics.offline.send"


async def test_a_shipment_is_recorded_and_shown(sim):  # noqa: F811
    ok = await top(sim, signed(METHOD, tid=3900000001, out_sid="SF1", company_code="SF"))
    assert ok == {"logistics_offline_send_response": {"shipping": {"is_success": True}}}
    again = await top(sim, signed(METHOD, tid=3900000001, out_sid="SF1", company_code="SF"))
    assert "error_response" not in again  # the same shipment again: success, one record
    [s] = (await (await sim.get("/_sim/taobao/shipments", params={"tid": "3900000001"})).json())["shipments"]
    assert (s["out_sid"], s["company_code"], s["shop_id"], s["sends"]) == ("SF1", "SF", "TM-1", 2)
    calls = (await (await sim.get("/_sim/taobao/calls", params={"method": METHOD})).json())["calls"]
    assert calls and all("session" not in c["params"] and "sign" not in c["params"] for c in calls)


async def test_refusals_and_signature(sim):  # noqa: F811
    bad = signed(METHOD, tid=3900000002, out_sid="SF2", company_code="SF")
    bad["out_sid"] = "SF3"  # tampered after signing
    assert error(await top(sim, bad))[0] == 25
    assert error(await top(sim, signed(METHOD, tid=3900000002, out_sid="X", company_code="PIGEON"))) == (
        15,
        "isv.logistics-offline-service-error:P38",
    )
    await top(sim, signed(METHOD, tid=3900000002, out_sid="SF2", company_code="SF"))
    assert error(await top(sim, signed(METHOD, tid=3900000002, out_sid="SF9", company_code="SF")))[
        1
    ].endswith("B27")
    assert (await sim.post("/_sim/taobao/trades/3900000003/close")).status == 200
    assert error(await top(sim, signed(METHOD, tid=3900000003, out_sid="SF4", company_code="SF")))[
        1
    ].endswith("B04")
    assert error(await top(sim, signed(METHOD, tid=3900000004, company_code="SF")))[0] == 40


async def test_faults_apply_to_write_backs(sim):  # noqa: F811
    assert (await sim.put("/_sim/taobao/faults", json={"failure_rate": 1.0})).status == 200
    r = await sim.post(
        "/taobao/router/rest", data=signed(METHOD, tid=3900000005, out_sid="SF5", company_code="SF")
    )
    body = await r.json() if r.status == 200 else None
    assert r.status == 503 or error(body)[0] == 10
    assert not (await (await sim.get("/_sim/taobao/shipments")).json())["shipments"]
