"""The simulator's JD and PDD order pull: signed like the platforms, paged, filtered by modified time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from omni_channel.domain import jd, pdd
from omni_channel.domain.platform_signing import sign_jd, sign_pdd
from omni_channel.domain.signing import format_china_time
from omni_channel.domain.tmall_fields import parse_json
from omni_tools.sim.server import build

JD_SHOP = {"shop_id": "JD-1", "app_key": "jd-app", "secret": "jd-secret-1", "session": "jd-token"}
PDD_SHOP = {"shop_id": "PDD-1", "app_key": "pdd-client", "secret": "pdd-secret-1", "session": "pdd-token"}


@pytest.fixture
async def sim() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(build(seed=3)))
    await client.start_server()
    assert (await client.put("/_sim/jd/shops", json=JD_SHOP)).status == 200
    assert (await client.put("/_sim/pdd/shops", json=PDD_SHOP)).status == 200
    yield client
    await client.close()


def jd_params(start: datetime, end: datetime, page: int, size: int, secret: str = JD_SHOP["secret"]) -> dict:
    biz = {"start_date": format_china_time(start), "end_date": format_china_time(end),
           "page": str(page), "page_size": str(size)}  # fmt: skip
    params = {"method": "jingdong.pop.order.search", "app_key": JD_SHOP["app_key"],
              "access_token": JD_SHOP["session"], "timestamp": format_china_time(datetime.now(UTC)),
              "v": "2.0", "360buy_param_json": json.dumps(biz)}  # fmt: skip
    params["sign"] = sign_jd(params, secret)
    return params


def pdd_params(
    start: datetime, end: datetime, page: int, size: int, secret: str = PDD_SHOP["secret"]
) -> dict:
    params = {"type": "pdd.order.number.list.increment.get", "client_id": PDD_SHOP["app_key"],
              "access_token": PDD_SHOP["session"], "timestamp": str(int(datetime.now(UTC).timestamp())),
              "data_type": "JSON", "start_updated_at": str(int(start.timestamp())),
              "end_updated_at": str(int(end.timestamp())), "page": str(page),
              "page_size": str(size)}  # fmt: skip
    params["sign"] = sign_pdd(params, secret)
    return params


async def test_jd_search_pages_by_modified_time_and_each_order_parses(sim: TestClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    made = await sim.post("/_sim/jd/orders/generate", json={"shop_id": "JD-1", "count": 25, "spread_s": 600})
    assert (await made.json())["count"] == 25
    seen: list[str] = []
    for page in (1, 2, 3):
        body = await (
            await sim.post("/jd/routerjson", data=jd_params(now - timedelta(hours=1), now, page, 10))
        ).json()
        result = body["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
        assert result["orderTotal"] == 25
        for info in result["orderInfoList"]:
            assert jd.normalise(info, shop_id="JD-1", received_at=now).__class__.__name__ == "Accepted"
            seen.append(info["orderId"])
    assert len(seen) == len(set(seen)) == 25
    narrow = await (
        await sim.post(
            "/jd/routerjson", data=jd_params(now - timedelta(hours=1), now - timedelta(seconds=301), 1, 100)
        )
    ).json()
    assert 0 < narrow["jingdong_pop_order_search_responce"]["searchorderinfo_result"]["orderTotal"] < 25


async def test_jd_bad_signature_and_modify(sim: TestClient) -> None:
    now = datetime.now(UTC)
    await sim.post(
        "/_sim/jd/orders/generate",
        json={"shop_id": "JD-1", "count": 2, "start": (now - timedelta(hours=2)).isoformat()},
    )
    bad = await (
        await sim.post("/jd/routerjson", data=jd_params(now - timedelta(hours=3), now, 1, 10, "wrong-secret"))
    ).json()
    assert bad["error_response"]["code"] == "14"
    ids = (await (await sim.get("/_sim/jd/orders?shop_id=JD-1")).json())["orders"]
    changed = await sim.post(f"/_sim/jd/orders/{ids[0]}/modify")
    assert changed.status == 200
    recent = await (
        await sim.post(
            "/jd/routerjson", data=jd_params(now - timedelta(minutes=5), now + timedelta(minutes=1), 1, 10)
        )
    ).json()
    found = recent["jingdong_pop_order_search_responce"]["searchorderinfo_result"]["orderInfoList"]
    assert [o["orderId"] for o in found] == [ids[0]]
    assert (await sim.post("/_sim/jd/orders/404/modify")).status == 404


async def test_pdd_increment_pages_with_has_next(sim: TestClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await sim.post("/_sim/pdd/orders/generate", json={"shop_id": "PDD-1", "count": 15, "spread_s": 60})
    seen, page = [], 1
    while True:
        raw = await (
            await sim.post(
                "/pdd/api/router",
                data=pdd_params(now - timedelta(minutes=5), now + timedelta(minutes=5), page, 4),
            )
        ).read()
        body = parse_json(raw)  # yuan as JSON numbers: exact, never through a float
        resp = body["order_sn_increment_get_response"]
        assert resp["total_count"] == 15
        for o in resp["order_sn_list"]:
            assert pdd.normalise(o, shop_id="PDD-1", received_at=now).__class__.__name__ == "Accepted"
            seen.append(o["order_sn"])
        if not resp["has_next"]:
            break
        page += 1
    assert page == 4 and len(set(seen)) == 15
    bad = await (await sim.post("/pdd/api/router", data=pdd_params(now, now, 1, 4, "nope-nope"))).json()
    assert bad["error_response"]["error_code"] == 10016


async def test_faults_apply_to_pull(sim: TestClient) -> None:
    await sim.put("/_sim/pdd/faults", json={"failure_rate": 1.0})
    now = datetime.now(UTC)
    assert (await sim.post("/pdd/api/router", data=pdd_params(now, now, 1, 4))).status == 503
    assert (await sim.post("/_sim/pdd/orders/generate", json={"shop_id": "PDD-1", "count": 0})).status == 422
