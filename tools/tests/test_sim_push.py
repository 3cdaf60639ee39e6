"""The simulator pushes signed orders and refunds to Omni's webhooks for every platform: the fake Omni here
records what arrived; each push carries the platform's signature with the shop's secret, decodes with the
channel's adapters to the kind asked for, and the simulator answers with what Omni answered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from omni_channel.domain import platform_signing as sig
from omni_channel.domain.signing import signature_matches
from omni_channel.domain.tmall_fields import parse_json
from omni_channel.service.aftersales import NORMALISERS
from omni_tools.sim.server import build

SECRET = "sim-push-secret-01"
SIM_NAMES = {"tmall": "taobao", "jd": "jd", "pdd": "pdd", "douyin": "douyin", "xiaohongshu": "xiaohongshu",
             "youzan": "youzan"}  # fmt: skip


@pytest.fixture
async def omni() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append({"path": request.path, "query": dict(request.query), "body": await request.read()})
        return web.json_response({"accepted": True}, status=202)

    app = web.Application()
    app.router.add_post("/channels/{platform}/{what}", hook)
    server = TestServer(app)
    await server.start_server()
    yield server, got
    await server.close()


@pytest.fixture
async def sim(omni) -> AsyncIterator[TestClient]:
    server, _ = omni
    client = TestClient(TestServer(build(seed=1, omni_url=str(server.make_url("")))))
    await client.start_server()
    yield client
    await client.close()


def signed_ok(channel: str, got: dict[str, Any]) -> bool:
    q, body = got["query"], got["body"]
    if channel == "tmall":
        params = {k: v for k, v in q.items() if k != "sign"}
        return signature_matches(params, body, SECRET, q["sign_method"], q["sign"])
    if channel == "jd":
        return sig.same(sig.sign_jd({**{k: v for k, v in q.items() if k not in ("shop_id", "sign")},
                                     "360buy_param_json": body.decode()}, SECRET), q["sign"])  # fmt: skip
    if channel == "pdd":
        signed = {k: v for k, v in q.items() if k not in ("shop_id", "sign")}
        return sig.same(sig.sign_pdd({**signed, "data": body.decode()}, SECRET), q["sign"])
    if channel == "douyin":
        expected = sig.sign_douyin(q["app_key"], body.decode(), q["timestamp"], SECRET, q["sign_method"])
        return sig.same(expected, q["sign"])
    d = json.loads(body)
    if channel == "xiaohongshu":
        expected = sig.sign_xiaohongshu(d["method"], d["appId"], d["timestamp"], d["version"], SECRET)
        return sig.same(expected, d["sign"])
    return sig.same(sig.sign_youzan(d["client_id"], d["msg"], SECRET), d["sign"])


@pytest.mark.parametrize("channel", list(SIM_NAMES))
async def test_the_simulator_pushes_a_signed_order_and_refund(sim, omni, channel):
    _, got = omni
    name = SIM_NAMES[channel]
    shop_id = "4242" if channel == "youzan" else f"S-{channel}"
    shop = {"shop_id": shop_id, "app_key": "sim-app", "secret": SECRET, "session": "tok"}
    assert (await sim.put(f"/_sim/{name}/shops", json=shop)).status == 200

    r = await sim.post(f"/_sim/{name}/push/orders", json={"shop_id": shop_id})
    assert r.status == 200, await r.text()
    answer = await r.json()
    assert answer["status"] == 202 and answer["body"] == {"accepted": True}
    order_id = answer["channel_order_id"]
    assert got[-1]["path"] == f"/channels/{channel}/orders" and signed_ok(channel, got[-1])

    push = {"shop_id": shop_id, "channel_order_id": order_id, "kind": "return_and_refund"}
    r = await sim.post(f"/_sim/{name}/push/refunds", json=push)
    assert r.status == 200, await r.text()
    assert (await r.json())["status"] == 202
    assert got[-1]["path"] == f"/channels/{channel}/refunds" and signed_ok(channel, got[-1])
    if channel != "tmall":
        doc = parse_json(got[-1]["body"])
        if channel == "youzan":
            doc = parse_json(unquote(doc["msg"]).encode())
        e = NORMALISERS[channel](doc, shop_id=shop_id, received_at=datetime.now(UTC))
        assert (e.channel_order_id, e.kind) == (order_id, "return_and_refund")


async def test_an_unknown_shop_is_a_404_and_nothing_is_pushed(sim, omni):
    _, got = omni
    r = await sim.post("/_sim/jd/push/orders", json={"shop_id": "nobody"})
    assert r.status == 404 and "PUT /_sim/jd/shops" in (await r.json())["detail"]
    assert got == []


async def test_the_simulator_pushes_a_signed_1688_order_and_refuses_a_1688_refund(sim, omni):
    _, got = omni
    shop = {"shop_id": "ALI-1", "app_key": "sim-app", "secret": SECRET, "session": "tok"}
    assert (await sim.put("/_sim/alibaba/shops", json=shop)).status == 200
    r = await sim.post("/_sim/alibaba/push/orders", json={"shop_id": "ALI-1", "status": "cancel"})
    assert r.status == 200, await r.text()
    answer = await r.json()
    assert answer["status"] == 202 and answer["channel_order_id"]
    q, body = got[-1]["query"], got[-1]["body"]
    assert got[-1]["path"] == "/channels/alibaba/orders" and q["shop_id"] == "ALI-1"
    signed = {k: v for k, v in q.items() if k != "_aop_signature"} | {"message": body.decode()}
    assert sig.same(sig.sign_alibaba(sig.alibaba_url_path("sim-app"), signed, SECRET), q["_aop_signature"])
    doc = parse_json(body)
    assert doc["result"]["baseInfo"]["status"] == "cancel"
    assert doc["result"]["baseInfo"]["idOfStr"] == answer["channel_order_id"]
    pushes = len(got)
    r = await sim.post("/_sim/alibaba/push/refunds", json={"shop_id": "ALI-1", "channel_order_id": "1"})
    assert r.status == 404 and "orders only" in (await r.json())["detail"]
    assert len(got) == pushes
