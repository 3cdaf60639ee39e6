"""The order pull's windows and cursor (service/pull.py), on fakes, and its JD / PDD clients against the
in-process simulator: each order fetched is recorded, a re-fetch dedupes, a failed page resumes."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from omni_channel.domain import jd, pdd
from omni_channel.domain.pull import Page, PullPolicy, PullState, Window, next_window, run
from omni_channel.platforms.order_pull import JdOrderSearch, PddOrderIncrement, PullError
from omni_tools.sim.server import build

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
POLICY = PullPolicy(
    overlap=timedelta(minutes=5), max_span=timedelta(minutes=30), first_lookback=timedelta(hours=1)
)


def test_first_window_looks_back_then_overlaps_the_cursor() -> None:
    first = next_window(PullState(), NOW, POLICY)
    assert first == Window(NOW - timedelta(hours=1), NOW - timedelta(minutes=30))
    after = next_window(PullState(cursor=NOW - timedelta(minutes=30)), NOW, POLICY)
    assert after == Window(NOW - timedelta(minutes=35), NOW - timedelta(minutes=5))
    assert next_window(PullState(cursor=NOW), NOW, POLICY) is None
    in_progress = Window(NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert next_window(PullState(cursor=NOW, window=in_progress, page=3), NOW, POLICY) == in_progress


class FakePlatform:
    """Orders with modified times; pages sorted by (modified, id); can fail one call."""

    def __init__(self, orders: dict[str, datetime]) -> None:
        self.orders, self.fail_at, self.calls = orders, -1, 0

    async def __call__(self, window: Window, page: int, size: int) -> Page:
        self.calls += 1
        if self.calls == self.fail_at:
            raise PullError("HTTP 503")
        found = sorted((m, o) for o, m in self.orders.items() if window.start <= m <= window.end)
        chunk = found[(page - 1) * size : page * size]
        return Page([{"id": o, "modified": m.isoformat()} for m, o in chunk], page * size < len(found))


class Dedupe:
    """The received_orders rule: an order publishes when its payload is new."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.published: list[str] = []
        self.fetched = 0

    async def __call__(self, order: dict) -> None:
        self.fetched += 1
        oid = str(order.get("id") or order.get("orderId") or order.get("order_sn"))
        digest = hashlib.sha256(json.dumps(order, sort_keys=True, default=str).encode()).hexdigest()
        if (oid, digest) not in self.seen:
            self.seen.add((oid, digest))
            self.published.append(oid)


class Saved:
    def __init__(self) -> None:
        self.state = PullState()

    async def __call__(self, state: PullState) -> None:
        self.state = state


async def test_overlapping_windows_publish_each_once_and_a_failed_page_resumes() -> None:
    orders = {f"o{i:04d}": NOW - timedelta(minutes=90) + timedelta(seconds=i * 3) for i in range(1500)}
    platform, dedupe, saved = FakePlatform(orders), Dedupe(), Saved()
    policy = PullPolicy(first_lookback=timedelta(hours=2), page_size=50)
    platform.fail_at = 7
    with pytest.raises(PullError):
        await run(saved.state, NOW, policy, platform, dedupe, saved)
    mid = saved.state  # failed mid-window: the window and its next page are kept, the cursor is not moved
    assert mid.window is not None and mid.page > 1 and mid.cursor == mid.window.start + policy.overlap
    assert "503" in (mid.last_error or "")
    state = await run(saved.state, NOW, policy, platform, dedupe, saved)
    assert state.cursor == NOW and state.window is None and state.last_error is None
    assert sorted(dedupe.published) == sorted(orders)  # each exactly once
    assert dedupe.fetched > len(orders)  # the overlaps fetched some twice; dedupe kept them once
    orders["o0003"] = NOW + timedelta(minutes=1)  # changed: moves past the cursor
    await run(state, NOW + timedelta(minutes=2), policy, platform, dedupe, saved)
    assert dedupe.published.count("o0003") == 2  # its payload changed: fetched and published again
    assert len(dedupe.published) == len(orders) + 1


# -- the real clients against the in-process simulator -------------------------------------------------
SHOPS = {
    "jd": {"shop_id": "JD-1", "app_key": "jd-app", "secret": "jd-secret-1", "session": "jd-token"},
    "pdd": {"shop_id": "PDD-1", "app_key": "pdd-client", "secret": "pdd-secret-1", "session": "pdd-token"},
}


@pytest.mark.parametrize("channel", ["jd", "pdd"])
async def test_sync_against_the_simulator_fetches_each_exactly_once(channel: str) -> None:
    server = TestServer(build(seed=1))
    await server.start_server()
    shop = SHOPS[channel]
    try:
        async with aiohttp.ClientSession() as http:
            base = str(server.make_url(""))
            assert (await http.put(f"{base}/_sim/{channel}/shops", json=shop)).status == 200
            spec = {"shop_id": shop["shop_id"], "count": 10_000, "spread_s": 3000}
            made = await http.post(f"{base}/_sim/{channel}/orders/generate", json=spec)
            assert (await made.json())["count"] == 10_000
            url = f"{base}/jd/routerjson" if channel == "jd" else f"{base}/pdd/api/router"
            cls = JdOrderSearch if channel == "jd" else PddOrderIncrement
            client = cls(http, url, shop["app_key"], shop["secret"], shop["session"])
            await http.put(f"{base}/_sim/{channel}/faults", json={"failure_rate": 0.05})
            adapter = jd if channel == "jd" else pdd
            dedupe, saved, now = Dedupe(), Saved(), datetime.now(UTC) + timedelta(seconds=2)
            policy = PullPolicy(first_lookback=timedelta(hours=1), page_size=100)

            async def record(order: dict) -> None:
                assert (
                    type(adapter.normalise(order, shop_id=shop["shop_id"], received_at=now)).__name__
                    == "Accepted"
                )
                await dedupe(order)

            started, failures = time.monotonic(), 0
            while True:  # the timer's re-runs: a failed page is retried from the saved state
                try:
                    state = await run(saved.state, now, policy, client, record, saved)
                    break
                except PullError:
                    failures += 1
            assert time.monotonic() - started < 60
            assert failures > 0 and state.cursor == now
            assert len(dedupe.published) == len(set(dedupe.published)) == 10_000
            first = dedupe.published[0]
            await http.post(f"{base}/_sim/{channel}/orders/{first}/modify")
            await http.put(f"{base}/_sim/{channel}/faults", json={})
            later = datetime.now(UTC) + timedelta(seconds=2)
            await run(state, later, policy, client, record, saved)
            assert dedupe.published.count(first) == 2  # changed: published again
            assert len(dedupe.published) == 10_001
    finally:
        await server.close()
