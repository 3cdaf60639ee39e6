"""The channel's JD, Pinduoduo, Douyin, Xiaohongshu and Youzan clients against the in-process simulator:
a stock push lands on the platform's item and reads back, a drift shows, a shipment is recorded (a split
parcel beside the others where the platform takes one), and the platform's refusals, credential errors,
rate limits and faults mean what they should."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from omni_channel.domain.push_status import Listing
from omni_channel.domain.stock_push import Outcome
from omni_channel.domain.writeback import Shipment
from omni_channel.platforms import carriers
from omni_channel.platforms.outbound import SPECS, PlatformClient
from omni_channel.store import ShopCredentials
from omni_tools.sim.server import build

ORDER_IDS = {"jd": "400000000123", "pdd": "261203-000000000000123", "douyin": "6920000000000000123",
             "xiaohongshu": "P776512345678901234", "youzan": "E20261203000000000123"}  # fmt: skip
BY_CHANNEL = {spec.CHANNELS[0]: spec for spec in SPECS}
CHANNELS = sorted(BY_CHANNEL)


@pytest.fixture
async def sim() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(build(seed=5)))
    await client.start_server()
    yield client
    await client.close()


async def setup(sim: TestClient, channel: str, secret: str = "secret-0123456789") -> tuple[Any, Any]:
    shop = {"shop_id": "S1", "app_key": f"{channel}-app", "secret": "secret-0123456789", "session": "tok-1"}
    assert (await sim.put(f"/_sim/{channel}/shops", json=shop)).status == 200
    item = {"num_iid": 7001, "shop_id": "S1", "skus": [{"sku_id": 8001, "outer_id": "RED", "quantity": 3}]}
    assert (await sim.put(f"/_sim/{channel}/items", json=item)).status == 200
    http = aiohttp.ClientSession()
    client = PlatformClient(BY_CHANNEL[channel], http, str(sim.make_url(_base(channel))), timeout_s=0.5,
                            carriers=carriers.load())  # fmt: skip
    keys = ShopCredentials(channel, "S1", f"{channel}-app", secret, True, "tok-1")
    return client, keys


def _base(channel: str) -> str:
    return {"jd": "/jd/routerjson", "pdd": "/pdd/api/router", "douyin": "/douyin",
            "xiaohongshu": "/xiaohongshu/api/open", "youzan": "/youzan/api"}[channel]  # fmt: skip


def shipment(channel: str, tracking: str = "SF100", carrier: str = "SF", **kw: Any) -> Shipment:
    return Shipment("T1", "O1", channel, "S1", ORDER_IDS[channel], carrier, tracking, 0, "tok", **kw)


LISTING = {c: Listing("L1", c, "S1", "7001", "8001") for c in CHANNELS}
NOW = datetime.now(UTC)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_stock_is_pushed_read_back_and_a_drift_shows(sim, channel):
    client, keys = await setup(sim, channel)
    try:
        answer = await client.push(LISTING[channel], 42, keys, NOW)
        assert answer.outcome is Outcome.ACKNOWLEDGED, answer.reason
        item = await (await sim.get(f"/_sim/{channel}/items/7001")).json()
        assert item["skus"][0]["quantity"] == 42
        assert (await client.read([LISTING[channel]], keys, NOW))["L1"] == 42
        await sim.post(f"/_sim/{channel}/items/7001/drift", json={"sku_id": 8001, "quantity": 5})
        assert (await client.read([LISTING[channel]], keys, NOW))["L1"] == 5
        missing = Listing("L2", channel, "S1", "7001", "9999")
        refused = await client.push(missing, 1, keys, NOW)
        assert refused.outcome is Outcome.REFUSED, refused.reason
    finally:
        await client.http.close()


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_shipment_is_recorded_once_and_refusals_are_refusals(sim, channel):
    client, keys = await setup(sim, channel)
    try:
        answer, code = await client.send(shipment(channel), keys, NOW)
        assert answer.outcome is Outcome.ACKNOWLEDGED, answer.reason
        assert code == carriers.load().code_for(channel, "SF")
        again, _ = await client.send(shipment(channel), keys, NOW)  # a retry after a lost answer
        assert again.outcome is Outcome.ACKNOWLEDGED
        shipped = (await (await sim.get(f"/_sim/{channel}/shipments")).json())["shipments"]
        assert [(s["tid"], s["out_sid"], s["company_code"], s["sends"]) for s in shipped] == [
            (ORDER_IDS[channel], "SF100", code, 2)
        ]
        other, _ = await client.send(shipment(channel, tracking="SF200"), keys, NOW)
        assert other.outcome is Outcome.REFUSED, other.reason  # already shipped under another number
        unmapped, none = await client.send(shipment(channel, carrier="PIGEON"), keys, NOW)
        assert unmapped.outcome is Outcome.REFUSED and "PIGEON" in unmapped.reason and none is None
        await sim.post(f"/_sim/{channel}/trades/{ORDER_IDS[channel]}-X/close")
        closed = Shipment("T2", "O2", channel, "S1", f"{ORDER_IDS[channel]}-X", "SF", "SF300", 0, "tok")
        if channel == "jd":  # a JD orderId is a number: refused before any call
            closed = Shipment("T2", "O2", channel, "S1", "400000000999", "SF", "SF300", 0, "tok")
            await sim.post("/_sim/jd/trades/400000000999/close")
        answer, _ = await client.send(closed, keys, NOW)
        assert answer.outcome is Outcome.REFUSED, answer.reason
    finally:
        await client.http.close()


@pytest.mark.parametrize("channel", [c for c in CHANNELS if BY_CHANNEL[c].SPLITS])
async def test_a_split_parcel_is_kept_beside_the_others(sim, channel):
    client, keys = await setup(sim, channel)
    try:
        first = shipment(channel, "SF1", lines=(("line-1", 1),), split=True)
        second = shipment(channel, "SF2", lines=(("line-2", 2),), split=True)
        for parcel in (first, second):
            answer, _ = await client.send(parcel, keys, NOW)
            assert answer.outcome is Outcome.ACKNOWLEDGED, answer.reason
        shipped = (await (await sim.get(f"/_sim/{channel}/shipments")).json())["shipments"]
        assert sorted((s["out_sid"], s["is_split"]) for s in shipped) == [("SF1", "1"), ("SF2", "1")]
        assert all("line-" in str(s["lines"]) for s in shipped)
    finally:
        await client.http.close()


@pytest.mark.parametrize("channel", CHANNELS)
async def test_credentials_rate_limits_and_faults(sim, channel):
    client, keys = await setup(sim, channel)
    try:
        if channel != "youzan":  # Youzan signs nothing: only its token counts
            bad = ShopCredentials(channel, "S1", keys.app_key, "wrong-secret-0000", True, "tok-1")
            answer = await client.push(LISTING[channel], 1, bad, NOW)
            assert answer.outcome is Outcome.CREDENTIALS, answer.reason
        expired = ShopCredentials(channel, "S1", keys.app_key, keys.secret, True, "tok-old")
        assert (await client.push(LISTING[channel], 1, expired, NOW)).outcome is Outcome.CREDENTIALS
        faults = {"rate_limit_per_s": 0.001, "rate_limit_burst": 1}
        assert (await sim.put(f"/_sim/{channel}/faults", json=faults)).status == 200
        assert (await client.push(LISTING[channel], 1, keys, NOW)).outcome is Outcome.ACKNOWLEDGED
        limited = await client.push(LISTING[channel], 2, keys, NOW)
        assert limited.outcome is Outcome.RETRY, limited.reason
        assert (await sim.put(f"/_sim/{channel}/faults", json={"failure_rate": 1.0})).status == 200
        answer, _ = await client.send(shipment(channel), keys, NOW)
        assert answer.outcome is Outcome.RETRY and "503" in answer.reason
        assert (
            await sim.put(f"/_sim/{channel}/faults", json={"timeout_rate": 1.0, "timeout_s": 2})
        ).status == 200
        answer = await client.push(LISTING[channel], 3, keys, NOW)
        assert answer.outcome is Outcome.RETRY and "did not answer" in answer.reason
        calls = (await (await sim.get(f"/_sim/{channel}/calls")).json())["calls"]
        assert calls and not any("tok-1" in str(c) or "secret-0123" in str(c) for c in calls)
    finally:
        await client.http.close()
