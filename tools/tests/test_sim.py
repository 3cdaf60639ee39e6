"""The platform simulator over HTTP: TOP's stock calls with their signature, refusals, faults and drift."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from omni_channel.domain.signing import format_china_time, sign_tmall
from omni_contracts import utcnow
from omni_tools.sim.server import build

SHOP = {"shop_id": "TM-1", "app_key": "app-1", "secret": "s3cret-key", "session": "token-1"}
OTHER = {"shop_id": "TM-2", "app_key": "app-2", "secret": "other-secret", "session": "token-2"}


@pytest.fixture
async def sim() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(build(seed=7)))
    await client.start_server()
    for shop in (SHOP, OTHER):
        assert (await client.put("/_sim/taobao/shops", json=shop)).status == 200
    await client.put("/_sim/taobao/items", json={"num_iid": 1001, "shop_id": "TM-1", "quantity": 5})
    await client.put(
        "/_sim/taobao/items",
        json={"num_iid": 2002, "shop_id": "TM-1", "skus": [
            {"sku_id": 31, "outer_id": "SKU-RED", "quantity": 3}, {"sku_id": 32, "outer_id": "SKU-BLUE"}]},
    )  # fmt: skip
    yield client
    await client.close()


def signed(
    method: str, shop: dict = SHOP, sign_method: str = "hmac-sha256", **args: object
) -> dict[str, str]:
    params = {"method": method, "app_key": shop["app_key"], "session": shop["session"], "format": "json",
              "v": "2.0", "sign_method": sign_method, "timestamp": format_china_time(utcnow()),
              **{k: str(v) for k, v in args.items()}}  # fmt: skip
    params["sign"] = sign_tmall(params, b"", shop["secret"], sign_method)
    return params


async def top(sim: TestClient, params: dict[str, str]) -> dict:
    r = await sim.post("/taobao/router/rest", data=params)
    assert r.status == 200, await r.text()
    return await r.json()


def error(body: dict) -> tuple[int, str | None]:
    err = body["error_response"]
    return err["code"], err.get("sub_code")


async def quantity_of(sim: TestClient, num_iid: int, sku_id: int | None = None) -> int:
    item = await (await sim.get(f"/_sim/taobao/items/{num_iid}")).json()
    return (
        item["num"] if sku_id is None else next(s["quantity"] for s in item["skus"] if s["sku_id"] == sku_id)
    )


@pytest.mark.parametrize("sign_method", ["md5", "hmac", "hmac-sha256"])
async def test_full_and_incremental_updates_change_the_quantity_the_seller_api_reports(sim, sign_method):
    body = await top(
        sim, signed("taobao.item.quantity.update", sign_method=sign_method, num_iid=1001, quantity=40)
    )
    assert body["item_quantity_update_response"]["item"]["num"] == 40
    body = await top(sim, signed("taobao.item.quantity.update", num_iid=1001, quantity=-15, type=2))
    assert body["item_quantity_update_response"]["item"]["num"] == 25
    got = await top(sim, signed("taobao.item.seller.get", num_iid=1001, fields="num_iid,num"))
    assert got["item_seller_get_response"]["item"]["num"] == 25


async def test_skus_are_updated_by_id_or_outer_id_and_the_item_total_follows(sim):
    await top(sim, signed("taobao.item.quantity.update", num_iid=2002, sku_id=31, quantity=10))
    body = await top(
        sim, signed("taobao.item.quantity.update", num_iid=2002, outer_id="SKU-BLUE", quantity=4)
    )
    item = body["item_quantity_update_response"]["item"]
    assert item["skus"]["sku"][0] == {"sku_id": 32, "quantity": 4, "modified": item["modified"]}
    assert item["num"] == 14 and await quantity_of(sim, 2002, 31) == 10


async def test_refusals_name_the_problem_and_change_nothing(sim):
    update = "taobao.item.quantity.update"
    cases = [
        (signed(update, num_iid=1001, quantity=-9, type=2), (15, "isv.invalid-parameter")),  # below zero
        (signed(update, num_iid=2002, sku_id=99, quantity=1), (15, "isv.sku-not-exist")),
        (signed(update, num_iid=2002, outer_id="NOPE", quantity=1), (15, "isv.sku-not-exist")),
        (signed(update, num_iid=2002, quantity=1), (15, "isv.invalid-parameter")),  # an item with SKUs
        (signed(update, num_iid=9999, quantity=1), (15, "isv.item-not-exist")),
        (signed(update, shop=OTHER, num_iid=1001, quantity=1), (15, "isv.item-not-exist")),  # not its item
        (signed(update, quantity=1), (40, "missing-parameter:num_iid")),
        (signed(update, num_iid="abc", quantity=1), (41, "invalid-parameter:num_iid")),
        (signed(update, num_iid=1001, quantity=1, type=3), (41, "invalid-parameter:type")),
        (signed("taobao.item.delete", num_iid=1001), (22, None)),
    ]
    for params, want in cases:
        assert error(await top(sim, params)) == want, params
    assert await quantity_of(sim, 1001) == 5 and await quantity_of(sim, 2002, 31) == 3


async def test_authentication_is_checked_like_top_does(sim):
    good = signed("taobao.item.seller.get", num_iid=1001)
    tampered = {**good, "num_iid": "2002"}
    assert error(await top(sim, tampered)) == (25, None)
    assert error(await top(sim, {**good, "app_key": "nobody"})) == (29, None)
    assert error(await top(sim, {k: v for k, v in good.items() if k != "method"})) == (21, None)
    stale = signed("taobao.item.seller.get", num_iid=1001)
    stale["timestamp"] = "2020-01-01 00:00:00"
    stale["sign"] = sign_tmall(stale, b"", SHOP["secret"], "hmac-sha256")
    assert error(await top(sim, stale)) == (31, None)
    wrong_token = dict(good, session="expired")
    wrong_token["sign"] = sign_tmall(wrong_token, b"", SHOP["secret"], "hmac-sha256")
    assert error(await top(sim, wrong_token)) == (27, None)


async def test_a_deleted_item_refuses_updates(sim):
    await sim.put(
        "/_sim/taobao/items", json={"num_iid": 1001, "shop_id": "TM-1", "approve_status": "deleted"}
    )
    body = await top(sim, signed("taobao.item.quantity.update", num_iid=1001, quantity=1))
    assert error(body) == (15, "isv.item-is-delete")


async def test_drift_changes_a_quantity_behind_the_clients_back(sim):
    r = await sim.post("/_sim/taobao/items/2002/drift", json={"sku_id": 31, "quantity": 77})
    assert r.status == 200
    got = await top(sim, signed("taobao.item.seller.get", num_iid=2002))
    skus = got["item_seller_get_response"]["item"]["skus"]["sku"]
    assert [s["quantity"] for s in skus] == [77, 0]
    assert (await sim.post("/_sim/taobao/items/2002/drift", json={"sku_id": 5, "quantity": 1})).status == 404


async def test_failures_timeouts_and_rate_limits_on_demand(sim):
    await sim.put("/_sim/taobao/faults", json={"failure_rate": 1.0})
    answers = []
    for _ in range(8):
        r = await sim.post(
            "/taobao/router/rest", data=signed("taobao.item.quantity.update", num_iid=1001, quantity=9)
        )
        answers.append(r.status if r.status != 200 else error(await r.json()))
    assert set(answers) == {503, (10, "isp.service-unavailable")}  # both ways platforms fail, nothing applied
    assert await quantity_of(sim, 1001) == 5

    await sim.put("/_sim/taobao/faults", json={"timeout_rate": 1.0, "timeout_s": 0.05})
    r = await sim.post("/taobao/router/rest", data=signed("taobao.item.seller.get", num_iid=1001))
    assert r.status == 504

    await sim.put("/_sim/taobao/faults", json={"rate_limit_per_s": 0.001, "rate_limit_burst": 2})
    bodies = [await top(sim, signed("taobao.item.seller.get", num_iid=1001)) for _ in range(3)]
    codes = [error(b)[0] if "error_response" in b else "ok" for b in bodies]
    assert codes == ["ok", "ok", 7]


async def test_the_same_seed_gives_the_same_faults():
    runs = []
    for _ in range(2):
        client = TestClient(TestServer(build(seed=3)))
        await client.start_server()
        await client.put("/_sim/taobao/faults", json={"failure_rate": 0.5})
        statuses = [
            (await client.post("/taobao/router/rest", data={"method": "x"})).status for _ in range(20)
        ]
        runs.append(statuses)
        await client.close()
    assert runs[0] == runs[1] and 503 in runs[0] and 200 in runs[0]


async def test_the_call_log_keeps_no_secret_and_the_control_api_validates(sim):
    await top(sim, signed("taobao.item.seller.get", num_iid=1001))
    log = (await (await sim.get("/_sim/taobao/calls?method=taobao.item.seller.get")).json())["calls"]
    assert log and "sign" not in log[-1]["params"] and "session" not in log[-1]["params"]
    assert log[-1]["outcome"] == "ok"
    bad = await sim.put("/_sim/taobao/items", json={"num_iid": -1, "quantity": -2, "extra": 1})
    problems = (await bad.json())["problems"]
    assert bad.status == 422 and {p["path"] for p in problems} >= {"num_iid", "quantity", "shop_id", "extra"}
    assert (await sim.put("/_sim/taobao/faults", json={"failure_rate": 2})).status == 422
    assert (await sim.put("/_sim/nowhere/faults", json={})).status == 404
    assert (await sim.put("/_sim/taobao/shops", data=b"{not json")).status == 400
