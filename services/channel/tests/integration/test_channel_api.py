"""The channel service over HTTP, on the real PostgreSQL (and the real Kafka its lifespan connects to).

What a request emitted is read from the service's own outbox table (never from the shared topics).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

import omni_channel
from omni_channel import api, service
from omni_channel.app import Settings, build
from omni_channel.domain import format_china_time, sign_tmall
from omni_contracts import Topic, decode

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "tmall_trade.json"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
SECRET = "tmall-secret-0123456789abcdef"
APP_KEY = "12345678"


@pytest.fixture
async def db(make_database):
    return await make_database("channel", migrations=MIGRATIONS)


@pytest.fixture
async def app(db, kafka_bootstrap):
    app = build(Settings(service_database_url=db.url))
    app.dependency_overrides[api.clock] = lambda: NOW
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


@pytest.fixture
async def shop(client) -> str:
    shop_id = uid("tm")
    r = await client.put(
        f"/shops/tmall/{shop_id}", json={"name": "Omni Coffee 旗舰店", "app_key": APP_KEY, "secret": SECRET}
    )
    assert r.status_code == 201, r.text
    return shop_id


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fresh_trade() -> tuple[dict[str, Any], str]:
    """The fixture order with unique 19-digit ids (the relay publishes it to the shared topic)."""
    doc = json.loads(FIXTURE.read_text())
    trade = doc["trade_fullinfo_get_response"]["trade"]
    tid = random.randint(10**18, 9 * 10**18)
    trade["tid"], trade["tid_str"] = tid, str(tid)
    for i, order in enumerate(trade["orders"]["order"], start=1):
        order["oid"], order["oid_str"] = tid + i, str(tid + i)
    return doc, str(tid)


def signed(
    shop_id: str,
    body: bytes,
    *,
    method: str = "hmac-sha256",
    secret: str = SECRET,
    app_key: str = APP_KEY,
    timestamp: datetime = NOW,
) -> list[tuple[str, str]]:
    params = {
        "shop_id": shop_id,
        "app_key": app_key,
        "timestamp": format_china_time(timestamp),
        "sign_method": method,
    }
    return [*params.items(), ("sign", sign_tmall(params, body, secret, method))]


async def post_trade(client, params, body: bytes) -> httpx.Response:
    return await client.post(
        "/channels/tmall/orders", params=params, content=body, headers={"content-type": "application/json"}
    )


async def outbox(db) -> list[dict[str, Any]]:
    async with db.transaction() as s:
        rows = (
            await s.execute(text("SELECT event_type, topic, key, value, headers FROM outbox ORDER BY id"))
        ).all()
    out = []
    for r in rows:
        env = decode(r.value, [(k, v) for k, v in r.headers])
        out.append({"type": r.event_type, "topic": r.topic, "key": r.key, "env": env})
    return out


async def receipts(db) -> list[dict[str, Any]]:
    async with db.transaction() as s:
        rows = (await s.execute(text("SELECT * FROM received_orders ORDER BY received_at"))).mappings().all()
    return [dict(r) for r in rows]


async def assert_nothing_written(db) -> None:
    assert await outbox(db) == []
    assert await receipts(db) == []


# ------------------------------------------------------------------------------------------------ shops


async def test_shops_are_created_replaced_listed_and_never_show_their_secret(client) -> None:
    a, b = uid("a"), uid("b")
    r = await client.put(f"/shops/tmall/{a}", json={"name": "A", "app_key": "k1", "secret": "first-secret"})
    assert r.status_code == 201
    assert r.json()["active"] is True and "secret" not in r.json()
    r = await client.put(
        f"/shops/tmall/{a}", json={"name": "A2", "app_key": "k2", "secret": "second-secret", "active": False}
    )
    assert r.status_code == 200
    assert {k: r.json()[k] for k in ("channel", "shop_id", "name", "app_key", "active")} == {
        "channel": "tmall",
        "shop_id": a,
        "name": "A2",
        "app_key": "k2",
        "active": False,
    }
    assert (
        await client.put(f"/shops/jd/{b}", json={"name": "B", "app_key": "k", "secret": "third-secret"})
    ).status_code == 201

    page = await client.get("/shops", params={"limit": 1})
    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (2, 1, 0, 1)
    second = await client.get("/shops", params={"limit": 1, "offset": 1})
    assert {body["items"][0]["shop_id"], second.json()["items"][0]["shop_id"]} == {a, b}
    only_tmall = await client.get("/shops", params={"channel": "tmall"})
    assert [s["shop_id"] for s in only_tmall.json()["items"]] == [a]
    inactive = (await client.get("/shops", params={"active": "false"})).json()
    assert [s["shop_id"] for s in inactive["items"]] == [a]
    one = await client.get(f"/shops/tmall/{a}")
    assert one.status_code == 200 and one.json()["name"] == "A2"
    for text_ in (page.text, second.text, only_tmall.text, one.text):
        assert "secret" not in text_


async def test_shop_lookups_and_bad_shop_input(client) -> None:
    missing = await client.get("/shops/tmall/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert (await client.get("/shops", params={"limit": 201})).status_code == 422
    assert (
        await client.put("/shops/TMALL!/x", json={"name": "x", "app_key": "k", "secret": "12345678"})
    ).status_code == 422
    leaky = "s3cr3t!"
    r = await client.put(f"/shops/tmall/{uid('s')}", json={"app_key": "k", "secret": leaky})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {p["path"] for p in r.json()["problems"]} == {"body.name", "body.secret"}
    assert leaky not in r.text  # the validation answer never echoes the input


# --------------------------------------------------------------------------------------------- webhook


@pytest.mark.parametrize("method", ["hmac-sha256", "hmac", "md5"])
async def test_a_signed_paid_trade_is_published_once_with_the_right_key(client, db, shop, method) -> None:
    doc, tid = fresh_trade()
    body = json.dumps(doc, ensure_ascii=False).encode()
    r = await post_trade(client, signed(shop, body, method=method), body)
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["accepted"] is True and answer["channel_order_id"] == tid

    [row] = await outbox(db)
    assert (row["type"], row["topic"], row["key"]) == (
        "channel.order.received",
        Topic.CHANNEL_ORDERS,
        f"tmall:{tid}",
    )
    env = row["env"]
    assert str(env.event_id) == answer["event_id"]
    data = env.data
    assert (data.channel, data.shop_id, data.channel_order_id, data.channel_status) == (
        "tmall",
        shop,
        tid,
        "WAIT_SELLER_SEND_GOODS",
    )
    assert (data.goods_cents, data.discount_cents, data.post_fee_cents, data.paid_cents) == (
        339600,
        10000,
        0,
        329600,
    )
    assert [(ln.outer_sku_id, ln.qty, ln.paid_cents) for ln in data.lines] == [
        ("SET-COFFEE-PRO", 1, 300775),
        ("BEAN-ETH-500", 3, 28825),
    ]
    assert [ln.channel_line_id for ln in data.lines] == [str(int(tid) + 1), str(int(tid) + 2)]
    assert data.received_at == NOW
    assert data.created_at == datetime(2025, 6, 12, 2, 15, 32, tzinfo=UTC)

    [receipt] = await receipts(db)
    assert (receipt["channel"], receipt["shop_id"], receipt["channel_order_id"], receipt["outcome"]) == (
        "tmall",
        shop,
        tid,
        "published",
    )
    assert str(receipt["event_id"]) == answer["event_id"] and receipt["deliveries"] == 1
    assert receipt["payload_sha256"] == hashlib.sha256(body).hexdigest()


async def test_a_repeated_delivery_is_published_again_and_counted(client, db, shop) -> None:
    doc, tid = fresh_trade()
    body = json.dumps(doc).encode()
    first = await post_trade(client, signed(shop, body), body)
    again = await post_trade(client, signed(shop, body), body)
    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] != again.json()["event_id"]
    rows = await outbox(db)
    assert [r["key"] for r in rows] == [f"tmall:{tid}", f"tmall:{tid}"]
    [receipt] = await receipts(db)
    assert receipt["deliveries"] == 2 and str(receipt["event_id"]) == again.json()["event_id"]

    listed = (await client.get("/received-orders", params={"channel_order_id": tid})).json()
    assert listed["total"] == 1 and listed["items"][0]["deliveries"] == 2


async def test_the_simplified_bare_trade_is_accepted(client, db, shop) -> None:
    doc, tid = fresh_trade()
    trade = doc["trade_fullinfo_get_response"]["trade"]
    trade["orders"] = trade["orders"]["order"]
    body = json.dumps(trade).encode()
    r = await post_trade(client, signed(shop, body, method="md5"), body)
    assert r.status_code == 202 and r.json()["channel_order_id"] == tid
    assert len(await outbox(db)) == 1


async def test_a_trade_that_needs_no_fulfilment_is_acknowledged_not_published(client, db, shop) -> None:
    doc, tid = fresh_trade()  # (a closed trade publishes channel.order.closed: test_aftersales_api.py)
    doc["trade_fullinfo_get_response"]["trade"]["status"] = "TRADE_FINISHED"
    body = json.dumps(doc).encode()
    r = await post_trade(client, signed(shop, body), body)
    assert r.status_code == 202
    assert r.json() == {
        "accepted": False,
        "reason": "status TRADE_FINISHED: already finished",
        "channel_order_id": tid,
    }
    assert await outbox(db) == []
    [receipt] = await receipts(db)
    assert (receipt["outcome"], receipt["channel_status"], receipt["event_id"]) == (
        "ignored",
        "TRADE_FINISHED",
        None,
    )
    listed = (await client.get("/received-orders", params={"shop_id": shop})).json()
    assert listed["items"][0]["reason"] == "status TRADE_FINISHED: already finished"


async def test_a_bad_signature_is_refused_and_nothing_is_written(client, db, shop) -> None:
    doc, _ = fresh_trade()
    body = json.dumps(doc).encode()
    r = await post_trade(client, signed(shop, body, secret="not-the-secret"), body)
    assert r.status_code == 401 and r.json()["detail"].startswith("bad signature")
    tampered = body.replace(b'"3296.00"', b'"1.00"', 1)
    r = await post_trade(client, signed(shop, body), tampered)
    assert r.status_code == 401 and r.json()["detail"].startswith("bad signature")
    await assert_nothing_written(db)


async def test_a_stale_timestamp_is_refused(client, db, shop) -> None:
    doc, _ = fresh_trade()
    body = json.dumps(doc).encode()
    for ts in (NOW - timedelta(minutes=11), NOW + timedelta(minutes=11)):
        r = await post_trade(client, signed(shop, body, timestamp=ts), body)
        assert r.status_code == 401 and r.json()["detail"].startswith("stale timestamp"), r.text
    await assert_nothing_written(db)


async def test_unknown_inactive_or_mismatched_shops_are_refused(client, db, shop) -> None:
    doc, _ = fresh_trade()
    body = json.dumps(doc).encode()
    r = await post_trade(client, signed("no-such-shop", body), body)
    assert r.status_code == 401 and r.json()["detail"].startswith("unknown shop")
    r = await post_trade(client, signed(shop, body, app_key="other"), body)
    assert r.status_code == 401 and r.json()["detail"].startswith("bad app_key")
    put = await client.put(
        f"/shops/tmall/{shop}", json={"name": "x", "app_key": APP_KEY, "secret": SECRET, "active": False}
    )
    assert put.status_code == 200
    r = await post_trade(client, signed(shop, body), body)
    assert r.status_code == 401 and r.json()["detail"].startswith("inactive shop")
    await assert_nothing_written(db)


async def test_missing_or_odd_query_parameters_are_refused(client, db, shop) -> None:
    doc, _ = fresh_trade()
    body = json.dumps(doc).encode()
    params = signed(shop, body)
    r = await post_trade(client, [p for p in params if p[0] != "sign"], body)
    assert r.status_code == 401 and "missing query parameter(s): sign" in r.json()["detail"]
    r = await post_trade(client, [*params, ("shop_id", shop)], body)
    assert r.status_code == 401 and "given twice" in r.json()["detail"]
    r = await post_trade(client, [(k, "sha1" if k == "sign_method" else v) for k, v in params], body)
    assert r.status_code == 401 and "unsupported sign_method" in r.json()["detail"]
    await assert_nothing_written(db)


async def test_malformed_json_is_a_400(client, db, shop) -> None:
    body = b'{"trade_fullinfo_get_response": {"trade": '
    r = await post_trade(client, signed(shop, body), body)
    assert r.status_code == 400 and r.json()["detail"].startswith("malformed JSON")
    assert r.headers["content-type"] == "application/problem+json" and r.json()["title"] == "Bad Request"
    await assert_nothing_written(db)


async def test_an_invalid_trade_is_a_422_listing_every_problem(client, db, shop) -> None:
    doc, _ = fresh_trade()
    trade = doc["trade_fullinfo_get_response"]["trade"]
    trade["payment"] = "3296.01"
    trade["orders"]["order"][1]["num"] = 0
    trade["created"] = "2025-06-12T10:15:32"
    body = json.dumps(doc).encode()
    r = await post_trade(client, signed(shop, body), body)
    assert r.status_code == 422
    answer = r.json()
    assert answer["detail"] == "the trade is invalid: 3 problem(s)"
    assert r.headers["content-type"] == "application/problem+json" and answer["status"] == 422
    assert {p["path"] for p in answer["problems"]} == {"payment", "orders.order[1].num", "created"}
    await assert_nothing_written(db)


async def test_a_precision_lost_tid_is_a_422(client, db, shop) -> None:
    doc, _ = fresh_trade()
    del doc["trade_fullinfo_get_response"]["trade"]["tid_str"]
    body = json.dumps(doc).encode()
    r = await post_trade(client, signed(shop, body), body)
    assert r.status_code == 422
    assert r.json()["problems"][0]["path"] == "tid" and "lost precision" in r.json()["problems"][0]["message"]
    await assert_nothing_written(db)


async def test_logs_never_carry_the_receiver_or_the_secret(client, db, shop, monkeypatch) -> None:
    seen: list[str] = []

    class Recorder:
        def __getattr__(self, _level: str):
            return lambda event, **kw: seen.append(json.dumps([event, kw], ensure_ascii=False, default=str))

    for module in (service.orders, service.shops, service.push, api):
        monkeypatch.setattr(module, "log", Recorder())
    doc, _ = fresh_trade()
    body = json.dumps(doc, ensure_ascii=False).encode()
    assert (await post_trade(client, signed(shop, body), body)).status_code == 202
    assert (await post_trade(client, signed(shop, body, secret="wrong-secret"), body)).status_code == 401
    await client.put(
        f"/shops/tmall/{shop}",
        json={"name": "x", "app_key": APP_KEY, "secret": SECRET, "session_key": "session-key-never-logged"},
    )
    logged = "\n".join(seen)
    assert (
        "channel order published" in logged and "channel webhook refused" in logged and "shop saved" in logged
    )
    for secret_or_pii in (
        SECRET,
        "session-key-never-logged",
        "wrong-secret",
        "屈**",
        "1389289****",
        "0571-8597****",
        "文**路**号**小区",
        "西湖区",
    ):
        assert secret_or_pii not in logged
