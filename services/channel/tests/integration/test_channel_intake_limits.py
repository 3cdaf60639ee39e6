"""Intake limits over HTTP on the real PostgreSQL: a trade beyond the caps is a 422 listing every problem; a
trade within them whose event is larger than the broker takes (a small OMNI_MAX_EVENT_BYTES here) is a 413
problem naming the limit. Either way nothing is recorded and nothing reaches the outbox (so nothing is
published)."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

import omni_channel
from omni_channel import api
from omni_channel.app import Settings, build
from omni_channel.domain import format_china_time, sign_tmall
from omni_chassis import outbox

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "tmall_trade.json"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
SECRET = "tmall-secret-0123456789abcdef"
APP_KEY = "12345678"
SMALL_LIMIT = 1500  # bytes: the fixture's event is about 2 KB with its headers


@pytest.fixture
async def db(make_database):
    return await make_database("channel_limits", migrations=MIGRATIONS)


async def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.fixture
async def small_events(monkeypatch):
    """The service runs with OMNI_MAX_EVENT_BYTES small; the process-wide limit is put back afterwards."""
    before = outbox.MAX_EVENT_BYTES
    monkeypatch.setenv("OMNI_MAX_EVENT_BYTES", str(SMALL_LIMIT))
    yield SMALL_LIMIT
    outbox.configure(before)


async def _running(db, kafka_bootstrap):
    app = build(Settings(service_database_url=db.url))
    app.dependency_overrides[api.clock] = lambda: NOW
    return app


async def _post(app, doc) -> httpx.Response:
    async with await _client(app) as client:
        shop = f"tm-{random.randint(0, 10**8)}"
        r = await client.put(f"/shops/tmall/{shop}", json={"name": "S", "app_key": APP_KEY, "secret": SECRET})
        assert r.status_code == 201, r.text
        body = json.dumps(doc, ensure_ascii=False).encode()
        params = {
            "shop_id": shop,
            "app_key": APP_KEY,
            "timestamp": format_china_time(NOW),
            "sign_method": "md5",
        }
        params["sign"] = sign_tmall(params, body, SECRET, "md5")
        return await client.post(
            "/channels/tmall/orders",
            params=params,
            content=body,
            headers={"content-type": "application/json"},
        )


async def _nothing_written(db) -> None:
    async with db.transaction() as s:
        assert (await s.execute(text("SELECT count(*) FROM received_orders"))).scalar_one() == 0
        assert (await s.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0


def _trade() -> dict:
    doc = json.loads(FIXTURE.read_text())
    tid = random.randint(10**18, 9 * 10**18)
    trade = doc["trade_fullinfo_get_response"]["trade"]
    trade["tid"], trade["tid_str"] = tid, str(tid)
    for i, order in enumerate(trade["orders"]["order"], start=1):
        order["oid"], order["oid_str"] = tid + i, str(tid + i)
    return doc


async def test_a_trade_beyond_the_caps_is_a_422_listing_every_problem(db, kafka_bootstrap):
    doc = _trade()
    trade = doc["trade_fullinfo_get_response"]["trade"]
    trade["orders"]["order"] = [copy.deepcopy(trade["orders"]["order"][0]) for _ in range(250)]
    trade["buyer_message"] = "请" * 1200
    trade["receiver_address"] = "文三路" * 300
    app = await _running(db, kafka_bootstrap)
    async with app.router.lifespan_context(app):
        r = await _post(app, doc)
        assert r.status_code == 422, r.text
        answer = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert answer["detail"] == "the trade is invalid: 3 problem(s)"
        assert {p["path"]: p["message"] for p in answer["problems"]} == {
            "orders.order": "too many lines: 250, at most 200 per trade",
            "buyer_message": "too long: 1200 characters, at most 1000",
            "receiver_address": "too long: 900 characters, at most 500",
        }
        assert "文三路" not in r.text, "the answer never quotes the buyer's address"
        await _nothing_written(db)


async def test_an_event_too_large_for_the_broker_is_a_413_naming_the_limit(db, kafka_bootstrap, small_events):
    app = await _running(db, kafka_bootstrap)
    async with app.router.lifespan_context(app):
        assert outbox.MAX_EVENT_BYTES == small_events
        r = await _post(app, _trade())  # within every cap, but its event is over the small limit
        assert r.status_code == 413, r.text
        answer = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert (answer["status"], answer["title"], answer["limit"]) == (413, "Event too large", small_events)
        assert answer["size"] > small_events
        assert f"at most {small_events:,} bytes" in answer["detail"]
        await _nothing_written(db)
