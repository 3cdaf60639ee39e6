"""The POS intake over HTTP on real PostgreSQL: the pos listings projection (migration channel0007), the store
config, a signed create_from_ui call publishing channel.store-sale.recorded once per uid (received_orders), a
till return, a problem order beside an accepted one, and a bad signature publishing nothing."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import text

import omni_channel
from omni_channel import api, store
from omni_channel.app import Settings, build
from omni_channel.service import pos
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import decode

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from pos_samples import V16, till_return

pytestmark = pytest.mark.integration
MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
NOW = datetime(2025, 6, 12, 3, 0, tzinfo=UTC)
SECRET = "till-secret-0123456789"


@pytest.fixture
async def db(make_database):
    return await make_database("channel", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, kafka_bootstrap):
    app = build(Settings(service_database_url=db.url))
    app.dependency_overrides[api.clock] = lambda: NOW
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield c


def listing(shop: str, lid: str, item: str, outer: str, product: str, version: int = 1) -> Any:
    data = SimpleNamespace(listing_id=lid, channel="pos", shop_id=shop, channel_item_id=item, outer_id=outer,
                           sales_product_code=product, status="on_sale", version=version)  # fmt: skip
    return SimpleNamespace(event_type="product.channel-listing.upserted", data=data)


@pytest.fixture
async def shop(db, client) -> str:
    shop = f"pos-{uuid.uuid4().hex[:8]}"
    r = await client.put(f"/shops/pos/{shop}", json={"name": "杭州店", "app_key": "odoo", "secret": SECRET})
    assert r.status_code == 201, r.text
    config = {"node_code": "STORE-HZ", "payment_methods": {"payment_method_id:2": "wechat"}}
    r = await client.put(f"/channels/pos/stores/{shop}", json=config)
    assert r.status_code == 200, r.text
    lids = [uuid.uuid4().hex, uuid.uuid4().hex]
    await pos.project_listings(SqlUnitOfWork(db, store.Repository), [
        listing(shop, lids[0], "501", "SET-COFFEE-PRO", "SP-SET"),
        listing(shop, lids[1], "502", "X", "SP-BEAN", 1),
        listing(shop, lids[1], "502", "BEAN-ETH-500", "SP-BEAN", 2),  # the newest version of the batch wins
    ])  # fmt: skip
    return shop


async def call(client, shop: str, orders: list[dict[str, Any]], secret: str = SECRET) -> httpx.Response:
    body = json.dumps(orders, ensure_ascii=False).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return await client.post("/channels/pos/orders", content=body,
                             headers={"X-Pos-Shop": shop, "X-Pos-Signature": sig})  # fmt: skip


async def published(db) -> list[Any]:
    sql = "SELECT value FROM outbox WHERE event_type LIKE 'channel.store-%' ORDER BY id"
    async with db.transaction() as s:
        return [decode(r.value) for r in (await s.execute(text(sql))).all()]


async def test_a_sale_a_duplicate_and_a_return(db, client, shop):
    r = await call(client, shop, [V16])
    assert r.status_code == 200, r.text
    assert [o["outcome"] for o in r.json()["orders"]] == ["accepted"]
    again = await call(client, shop, [V16, till_return()])
    assert [o["outcome"] for o in again.json()["orders"]] == ["duplicate", "accepted"]
    events = await published(db)
    assert [e.event_type for e in events] == ["channel.store-sale.recorded", "channel.store-return.recorded"]
    assert [x.paid_cents for x in events[0].data.lines] == [300775, 28825]
    assert [x.sales_product_code for x in events[0].data.lines] == ["SP-SET", "SP-BEAN"]
    got = await client.get("/received-orders", params={"channel": "pos"})
    assert {x["channel_order_id"] for x in got.json()["items"]} >= {f"{shop}:00012-003-0045"}
    assert (await client.get(f"/channels/pos/stores/{shop}")).json()["node_code"] == "STORE-HZ"


async def test_a_problem_order_is_a_422_naming_it_and_the_good_one_is_taken(db, client, shop):
    bad = copy.deepcopy(V16)
    bad["id"] = bad["data"]["uid"] = "00012-003-0099"
    bad["data"]["lines"][0][2]["product_id"], bad["data"]["lines"][0][2]["full_product_name"] = 1, "[NOPE] x"
    r = await call(client, shop, [bad, till_return()])
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["platform"] == "pos" and body["problems"][0]["path"] == "orders[0].data.lines[0].product_id"
    assert [o["outcome"] for o in body["orders"]] == ["problem", "accepted"]
    assert [e.event_type for e in await published(db)] == ["channel.store-return.recorded"]


async def test_bad_signature_unknown_shop_and_malformed_body(db, client, shop):
    assert (await call(client, shop, [V16], secret="not-the-secret")).status_code == 401
    assert (await call(client, "nope", [V16])).status_code == 401
    sig = hmac.new(SECRET.encode(), b"{nope", hashlib.sha256).hexdigest()
    r = await client.post(
        "/channels/pos/orders", content=b"{nope", headers={"X-Pos-Shop": shop, "X-Pos-Signature": sig}
    )
    assert r.status_code == 400
    assert await published(db) == []
    r = await client.put("/channels/pos/stores/nope", json={"node_code": "S"})
    assert r.status_code == 404


async def test_the_same_sale_sent_twice_at_once_is_published_once(db, client, shop):
    import asyncio

    answers = await asyncio.gather(*(call(client, shop, [V16]) for _ in range(4)))
    outcomes = sorted(r.json()["orders"][0]["outcome"] for r in answers)
    assert outcomes == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert [e.event_type for e in await published(db)] == ["channel.store-sale.recorded"]
