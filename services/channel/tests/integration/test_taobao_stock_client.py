"""The stock push client against the platform simulator over real HTTP (signature, refusals, faults)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from omni_channel.domain.stock_push import Credentials, Outcome, StockTarget
from omni_channel.platforms.taobao import TaobaoStock
from omni_contracts import utcnow
from omni_tools.sim.server import build

SHOP = {"shop_id": "TM-1", "app_key": "app-1", "secret": "s3cret-key", "session": "token-1"}
CREDS = Credentials(SHOP["app_key"], SHOP["secret"], SHOP["session"])


@pytest.fixture
async def sim() -> AsyncIterator[tuple[TestServer, aiohttp.ClientSession]]:
    server = TestServer(build(seed=1))
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        await http.put(server.make_url("/_sim/taobao/shops"), json=SHOP)
        await http.put(
            server.make_url("/_sim/taobao/items"),
            json={
                "num_iid": 2002,
                "shop_id": "TM-1",
                "skus": [{"sku_id": 31, "outer_id": "RED", "quantity": 3}],
            },
        )
        yield server, http
    await server.close()


def client(server: TestServer, http: aiohttp.ClientSession, timeout_s: float = 5) -> TaobaoStock:
    return TaobaoStock(http, str(server.make_url("/taobao/router/rest")), timeout_s=timeout_s)


async def shown(server: TestServer, http: aiohttp.ClientSession) -> int:
    async with http.get(server.make_url("/_sim/taobao/items/2002")) as r:
        return (await r.json())["skus"][0]["quantity"]


async def test_a_push_sets_the_quantity_and_the_platforms_count_comes_back(sim):
    server, http = sim
    answer = await client(server, http).set_quantity(StockTarget(2002, sku_id=31), 40, CREDS, utcnow())
    assert (answer.outcome, answer.platform_quantity) == (Outcome.ACKNOWLEDGED, 40)
    assert await shown(server, http) == 40
    again = await client(server, http).set_quantity(StockTarget(2002, outer_id="RED"), 40, CREDS, utcnow())
    assert (
        again.outcome is Outcome.ACKNOWLEDGED and await shown(server, http) == 40
    )  # full: a repeat is harmless


async def test_refusals_and_bad_credentials_are_told_apart_from_failures(sim):
    server, http = sim
    c = client(server, http)
    missing = await c.set_quantity(StockTarget(2002, sku_id=99), 1, CREDS, utcnow())
    assert (missing.outcome, missing.sub_code) == (Outcome.REFUSED, "isv.sku-not-exist")
    stale = await c.set_quantity(StockTarget(2002, sku_id=31), 1, Credentials("app-1", SHOP["secret"], "old"),
                                 utcnow())  # fmt: skip
    assert (stale.outcome, stale.code) == (Outcome.CREDENTIALS, 27)
    assert await shown(server, http) == 3


async def test_failures_timeouts_and_rate_limits_are_retryable_and_apply_nothing(sim):
    server, http = sim
    await http.put(server.make_url("/_sim/taobao/faults"), json={"failure_rate": 1.0})
    c = client(server, http)
    outcomes = {
        (await c.set_quantity(StockTarget(2002, sku_id=31), 9, CREDS, utcnow())).outcome for _ in range(6)
    }
    assert outcomes == {Outcome.RETRY}
    await http.put(server.make_url("/_sim/taobao/faults"), json={"timeout_rate": 1.0, "timeout_s": 2})
    late = await client(server, http, timeout_s=0.2).set_quantity(
        StockTarget(2002, sku_id=31), 9, CREDS, utcnow()
    )
    assert late.outcome is Outcome.RETRY and "did not answer" in late.reason
    await http.put(
        server.make_url("/_sim/taobao/faults"), json={"rate_limit_per_s": 0.001, "rate_limit_burst": 1}
    )
    c = client(server, http)
    first = await c.set_quantity(StockTarget(2002, sku_id=31), 5, CREDS, utcnow())
    second = await c.set_quantity(StockTarget(2002, sku_id=31), 6, CREDS, utcnow())
    assert (first.outcome, second.outcome, second.code) == (Outcome.ACKNOWLEDGED, Outcome.RETRY, 7)
    assert await shown(server, http) == 5


async def test_an_unreachable_platform_is_a_retry():
    async with aiohttp.ClientSession() as http:
        c = TaobaoStock(http, "http://127.0.0.1:9/router/rest", timeout_s=1)
        answer = await c.set_quantity(StockTarget(1), 1, CREDS, utcnow())
    assert answer.outcome is Outcome.RETRY and "could not be reached" in answer.reason
