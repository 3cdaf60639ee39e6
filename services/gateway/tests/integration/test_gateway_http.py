"""The gateway in-process (ASGI) in front of real upstream apps served over real HTTP by uvicorn."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from omni_gateway.app import Settings, build
from omni_gateway.domain.keys import hash_key

KEYS = [
    {"name": "t-admin", "key_sha256": hash_key("k-admin"), "role": "admin"},
    {"name": "t-ops", "key_sha256": hash_key("k-ops"), "role": "operations"},
    {"name": "t-fin", "key_sha256": hash_key("k-fin"), "role": "finance"},
    {"name": "t-sh01", "key_sha256": hash_key("k-sh01"), "role": "store_staff", "node_code": "STORE-SH-01"},
]
ADMIN = {"X-API-Key": "k-admin"}
OPS = {"X-API-Key": "k-ops"}
STORE = {"X-API-Key": "k-sh01"}


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(upstreams, **overrides) -> Settings:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: 'service down'
    urls = {f"{s}_url": dead for s in ("product", "inventory", "order", "fulfillment", "finance", "channel")}
    urls.update({f"{name}_url": up.url for name, up in upstreams.items()})
    return Settings(api_keys=json.dumps(KEYS), api_keys_file=None, **{**urls, **overrides})


@asynccontextmanager
async def running(settings: Settings):
    app = build(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield app, client


@pytest.fixture(scope="module")
async def gw(upstreams) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings_for(upstreams)) as (_, client):
        yield client


async def test_no_key_or_an_unknown_key_is_refused_before_any_upstream_call(gw, upstreams):
    before = len(upstreams["product"].seen)
    r = await gw.get("/api/product/materials")
    assert (r.status_code, r.json()["detail"]) == (401, "missing API key")
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Unauthorized" and r.json()["status"] == 401
    r = await gw.get("/api/product/materials", headers={"X-API-Key": "k-guess"})
    assert (r.status_code, r.json()["detail"]) == (401, "unknown API key")
    assert len(upstreams["product"].seen) == before


async def test_a_role_without_permission_gets_403_with_a_sentence(gw, upstreams):
    before = len(upstreams["product"].seen)
    r = await gw.post("/api/product/materials", json={"code": "M9", "name": "x"}, headers=STORE)
    assert r.status_code == 403
    assert r.json()["detail"] == "role store_staff may not POST /api/product/materials"
    assert len(upstreams["product"].seen) == before


async def test_forwarding_keeps_method_query_body_status_and_content_type(gw, upstreams):
    r = await gw.post("/api/product/materials?dry_run=1", json={"code": "M2", "name": "mug"}, headers=OPS)
    assert r.status_code == 201
    assert r.json() == {"code": "M2", "name": "mug"}
    seen = upstreams["product"].last()
    assert (seen.method, seen.raw_path, seen.query) == ("POST", b"/materials", b"dry_run=1")
    assert json.loads(seen.body) == {"code": "M2", "name": "mug"}
    assert seen.headers["content-type"] == "application/json"
    assert "x-api-key" not in seen.headers  # the caller's secret stays at the gateway
    assert (seen.headers["x-omni-role"], seen.headers["x-omni-principal"]) == ("operations", "t-ops")
    assert "x-omni-node-scope" not in seen.headers

    r = await gw.get("/api/product/materials/M2/label", headers=OPS)
    assert (r.status_code, r.text) == (409, "label M2")
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-upstream"] == "product"


async def test_store_staff_requests_carry_the_node_scope_and_client_omni_headers_are_stripped(gw, upstreams):
    forged = {"X-Omni-Node-Scope": "STORE-BJ-09", "X-Omni-Role": "admin", "X-Omni-Whatever": "1"}
    r = await gw.get("/api/fulfillment/tasks?status=open&limit=5", headers={**STORE, **forged})
    assert r.status_code == 200
    assert r.json()["query"] == "status=open&limit=5"
    seen = upstreams["fulfillment"].last()
    assert seen.headers["x-omni-node-scope"] == "STORE-SH-01"
    assert seen.headers["x-omni-role"] == "store_staff"
    assert seen.headers["x-omni-principal"] == "t-sh01"
    assert "x-omni-whatever" not in seen.headers

    r = await gw.post("/api/fulfillment/tasks/T-7/accept", headers=STORE)
    assert (r.status_code, r.json()["task_id"]) == (200, "T-7")
    r = await gw.get("/api/fulfillment/tasks/T-7", headers=STORE)
    assert r.json() == {"task_id": "T-7", "node_code": "STORE-SH-01"}

    # an operations key forging a node scope gets it removed, not forwarded
    await gw.get("/api/fulfillment/tasks", headers={**OPS, "X-Omni-Node-Scope": "STORE-SH-01"})
    assert "x-omni-node-scope" not in upstreams["fulfillment"].last().headers


async def test_the_same_correlation_id_goes_upstream_and_back(gw, upstreams):
    corr = f"corr-{uuid.uuid4()}"
    r = await gw.get("/api/product/materials", headers={**ADMIN, "X-Correlation-ID": corr})
    assert r.status_code == 200
    assert r.headers["x-correlation-id"] == corr
    assert upstreams["product"].last().headers["x-correlation-id"] == corr

    r = await gw.get("/api/product/materials", headers=ADMIN)  # none sent: the gateway makes one
    generated = r.headers["x-correlation-id"]
    assert generated and upstreams["product"].last().headers["x-correlation-id"] == generated


async def test_the_trace_context_continues_upstream(gw, upstreams):
    trace_id, parent = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    await gw.get("/api/product/materials", headers={**ADMIN, "traceparent": f"00-{trace_id}-{parent}-01"})
    sent = upstreams["product"].last().headers["traceparent"]
    version, tid, span_id, _flags = sent.split("-")
    assert (version, tid) == ("00", trace_id)  # same trace...
    assert span_id != parent  # ...under the gateway's own span, not a copy of the caller's header


async def test_webhook_passes_through_without_a_key_byte_for_byte(gw, upstreams):
    body = '{"tid": 1234567890123, "buyer_nick": "张三", "payment": "3099.00" ,\n "x":[ ]}'.encode()
    query = b"shop_id=tmall-1&sign=AB%2Bcd%3D%3D&timestamp=2026-01-01+10%3A00%3A00&app_key=123"
    r = await gw.post(
        "/channels/tmall/orders?" + query.decode(),
        content=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Sign": "abc==",
            "X-Omni-Role": "admin",
        },
    )
    assert r.status_code == 202
    assert r.json() == {"platform": "tmall", "sha256": hashlib.sha256(body).hexdigest()}
    seen = upstreams["channel"].last()
    assert (seen.method, seen.raw_path, seen.query, seen.body) == (
        "POST",
        b"/channels/tmall/orders",
        query,
        body,
    )
    assert seen.headers["content-type"] == "application/json; charset=utf-8"
    assert seen.headers["x-sign"] == "abc=="  # platform signature headers reach the channel service
    assert not [h for h in seen.headers if h.startswith("x-omni-")]


async def test_a_service_that_is_down_gives_502_naming_it(gw):
    r = await gw.get("/api/order/orders", headers=ADMIN)
    assert r.status_code == 502
    assert r.json()["detail"] == "the order service is unavailable"


async def test_unknown_service_and_bad_paths(gw):
    r = await gw.get("/api/billing/x", headers=ADMIN)
    assert r.status_code == 404 and "unknown service 'billing'" in r.json()["detail"]
    r = await gw.get("/api/product/a/%2E%2E/b", headers=ADMIN)
    assert r.status_code == 400 and "'..'" in r.json()["detail"]


async def test_upstream_redirects_point_back_through_the_gateway(gw):
    r = await gw.get("/api/product/old", headers=ADMIN)
    assert r.status_code == 307
    assert r.headers["location"] == "/api/product/materials?x=1"


async def test_merged_openapi_and_docs(gw):
    r = await gw.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"] == "Omni API"  # the merged one, not FastAPI's own for the gateway app
    assert {"/api/product/materials", "/api/fulfillment/tasks/{task_id}/accept", "/api/channel/shops"} <= set(
        doc["paths"]
    )
    assert doc["paths"]["/channels/{platform}/orders"]["post"]["security"] == []
    assert set(doc["info"]["x-unavailable"]) == {"inventory", "order", "finance"}
    assert {"ProductMaterial", "FulfillmentTask"} <= set(doc["components"]["schemas"])
    created = doc["paths"]["/api/product/materials"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProductMaterial"
    }
    assert "X-API-Key" == doc["components"]["securitySchemes"]["ApiKeyAuth"]["name"]

    # one Problem schema for every service's errors, and the gateway's own answers on every /api route
    assert "Problem" in doc["components"]["schemas"] and "ProductProblem" not in doc["components"]["schemas"]
    responses = doc["paths"]["/api/product/materials"]["post"]["responses"]
    assert {"401", "403", "413", "422", "429", "500"} <= set(responses)
    assert responses["403"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }

    r = await gw.get("/docs")
    assert r.status_code == 200 and "/openapi.json" in r.text and "swagger-ui" in r.text
    # Swagger UI's assets are served by the gateway: no URL in the page leaves it
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text) + re.findall(r"url: *'([^']+)'", r.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "http://" not in r.text and "https://" not in r.text
    types = {}
    for u in urls:
        if u == "/openapi.json":
            continue
        asset = await gw.get(u)
        assert asset.status_code == 200, u
        types[u.rsplit(".", 1)[-1]] = asset.headers["content-type"]
        assert len(asset.content) > 1000, u
    assert types["js"].startswith("text/javascript") and types["css"].startswith("text/css")
    assert (await gw.get("/docs/assets/secret.txt")).status_code == 404
    assert (await gw.get("/redoc")).status_code == 404


async def test_rate_limits_per_key_and_per_webhook_shop(upstreams):
    settings = settings_for(
        upstreams, rate_per_s=0.001, rate_burst=2, webhook_rate_per_s=0.001, webhook_rate_burst=1
    )
    async with running(settings) as (_, gw):
        codes = [(await gw.get("/api/channel/shops", headers=OPS)).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = await gw.get("/api/channel/shops", headers=OPS)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "t-ops" in r.json()["detail"]
        assert (await gw.get("/api/channel/shops", headers=ADMIN)).status_code == 200  # another key

        hook = "/channels/tmall/orders?shop_id="
        assert (await gw.post(hook + "s1", content=b"{}")).status_code == 202
        assert (await gw.post(hook + "s1", content=b"{}")).status_code == 429
        assert (await gw.post(hook + "s2", content=b"{}")).status_code == 202


async def test_timeouts_give_504_and_the_client_is_closed_at_shutdown(upstreams):
    async with running(settings_for(upstreams, read_timeout_s=0.3)) as (app, gw):
        r = await gw.get("/api/product/slow", headers=ADMIN)
        assert (r.status_code, r.json()["detail"]) == (504, "the product service did not answer in time")
        client = app.state.gateway.client
        assert not client.closed
    assert client.closed


async def test_a_large_answer_is_streamed_through_whole(gw, upstreams):
    r = await gw.get("/api/product/big", headers=ADMIN)
    assert r.status_code == 200 and r.text == "x" * 1_000_000
    assert r.headers["content-type"].startswith("text/plain")


async def test_oversized_bodies_are_refused(upstreams):
    async with running(settings_for(upstreams, max_body_bytes=10)) as (_, gw):
        before = len(upstreams["product"].seen)
        r = await gw.post("/api/product/materials", content=b"x" * 11, headers=OPS)
        assert r.status_code == 413 and "10 bytes" in r.json()["detail"]

        async def chunks():  # no Content-Length: the limit applies while reading
            for _ in range(3):
                yield b"12345"

        r = await gw.post("/api/product/materials", content=chunks(), headers=OPS)
        assert r.status_code == 413
        r = await gw.post("/api/product/materials", content=b'{"a":1}', headers=OPS)
        assert r.status_code == 422  # within the limit: reaches the upstream, which validates it
        assert len(upstreams["product"].seen) == before + 1


async def test_the_merged_openapi_is_cached_then_refreshed(upstreams):
    now = [1000.0]
    async with running(settings_for(upstreams, openapi_cache_s=30)) as (app, gw):
        app.state.gateway.clock = lambda: now[0]

        def fetches() -> int:
            return sum(1 for s in upstreams["product"].seen if s.raw_path == b"/openapi.json")

        before = fetches()
        first = (await gw.get("/openapi.json")).json()
        now[0] += 29
        assert (await gw.get("/openapi.json")).json() == first
        assert fetches() == before + 1
        now[0] += 2
        await gw.get("/openapi.json")
        assert fetches() == before + 2
