"""Issue #8 end to end: a stock change at a node reaches the platform (the stack's own simulator) through
inventory's sellable numbers and channel's push, every process real, on real Kafka and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import SHOP, connect_shop, new_sku, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ADMIN = "dev-admin-key"
STORE_NODE, WAREHOUSE = "STORE-SH-01", "WH-HZ"


@pytest.fixture
async def sim(e2e_stack):
    async with httpx.AsyncClient(base_url=e2e_stack["sim"], timeout=30) as c:
        yield c


async def empty_rules(gw: httpx.AsyncClient) -> None:
    version = (await gw.get("/api/inventory/allocation-rules")).json()["version"]
    r = await gw.put(
        "/api/inventory/allocation-rules", json={"expected_version": version, "note": "e2e reset"}
    )
    assert r.status_code == 200, r.text


@pytest.fixture(autouse=True)
async def platform(gw, e2e_stack):
    """Each test starts with the shop connected to the simulator and no allocation rules (other e2e tests
    fuzz the API), and leaves no rules behind."""
    await connect_shop(gw, str(e2e_stack["sim"]))
    await empty_rules(gw)
    yield
    await empty_rules(gw)


def put_on_platform(sim: httpx.AsyncClient):
    """An `on_ids` hook: the item exists on the simulator (quantity 0) before Omni lists it."""

    async def hook(item_id: str, sku_id: str, code: str) -> None:
        item = {"num_iid": int(item_id), "shop_id": SHOP, "outer_id": code,
                "skus": [{"sku_id": int(sku_id), "outer_id": code, "quantity": 0}]}  # fmt: skip
        (await sim.put("/_sim/taobao/items", json=item)).raise_for_status()

    return hook


async def platform_qty(sim: httpx.AsyncClient, item_id: str, sku_id: str) -> int:
    item = (await sim.get(f"/_sim/taobao/items/{item_id}")).json()
    (sku,) = [s for s in item["skus"] if s["sku_id"] == int(sku_id)]
    return sku["quantity"]


async def until_platform_shows(sim, sku: dict[str, str], qty: int, what: str) -> None:
    async def check():
        return await platform_qty(sim, sku["item_id"], sku["sku_id"]) == qty

    await until(check, f"{what}: the platform shows {qty} for {sku['listing_id']}", timeout=60)


async def receive(gw, node: str, code: str, qty: int) -> None:
    body = {"receipt_id": f"e2e-{uuid.uuid4().hex[:10]}", "node_code": node,
            "lines": [{"material_code": code, "qty": qty}]}  # fmt: skip
    r = await gw.post("/api/inventory/receipts", json=body)
    assert r.status_code == 201, r.text


async def test_1_a_receipt_at_a_store_raises_the_tmall_listing_on_the_platform(gw, sim):
    sku = await new_sku(gw, {WAREHOUSE: 5}, on_ids=put_on_platform(sim))
    await until_platform_shows(sim, sku, 5, "the first stock")
    await receive(gw, STORE_NODE, sku["code"], 20)
    await until_platform_shows(sim, sku, 25, "after a receipt at the store")
    status = (await gw.get(f"/api/channel/push-status/{sku['listing_id']}")).json()
    assert status["state"] == "acknowledged" and status["pushed_qty"] == 25 == status["desired_qty"]
    explained = (await gw.get(f"/api/inventory/listings/{sku['listing_id']}/stock")).json()
    assert explained["quantity"] == 25 and explained["steps"][0]["inputs"]["node_available"] == {
        WAREHOUSE: 5,
        STORE_NODE: 20,
    }


async def test_2_a_bundle_listing_follows_its_scarcest_part(gw, sim):
    beans = await new_sku(gw, {WAREHOUSE: 30})
    cups = await new_sku(gw, {WAREHOUSE: 4})
    tag = uuid.uuid4().hex[:8].upper()
    code = f"E2E-SET-{tag}"
    product = {"code": code, "name": "e2e set", "kind": "bundle", "components": [
        {"material_code": beans["code"], "qty": 3, "price_weight": 2},
        {"material_code": cups["code"], "qty": 2, "price_weight": 1}]}  # fmt: skip
    assert (await gw.put(f"/api/product/sales-products/{code}", json=product)).status_code in (200, 201)
    bundle = {"listing_id": f"L-E2E-SET-{tag}", "item_id": str(800_000_000_000 + int(tag, 16) % 10**11),
              "sku_id": str(int(tag, 16)), "code": code}  # fmt: skip
    await put_on_platform(sim)(bundle["item_id"], bundle["sku_id"], code)
    listing = {"listing_id": bundle["listing_id"], "channel": "tmall", "shop_id": SHOP,
               "channel_item_id": bundle["item_id"], "channel_sku_id": bundle["sku_id"],
               "sales_product_code": code, "price_cents": 50_000}  # fmt: skip
    r = await gw.put(f"/api/product/channel-listings/{bundle['listing_id']}", json=listing)
    assert r.status_code in (200, 201), r.text
    await until_platform_shows(sim, bundle, 2, "min(30 // 3, 4 // 2)")
    await receive(gw, WAREHOUSE, cups["code"], 40)  # now the beans are the scarcer part
    await until_platform_shows(sim, bundle, 10, "min(30 // 3, 44 // 2)")


async def test_3_a_freeze_lowers_the_number_everywhere_and_a_transfer_moves_it_through_in_transit(gw, sim):
    sku = await new_sku(gw, {WAREHOUSE: 12, STORE_NODE: 3}, on_ids=put_on_platform(sim))
    await until_platform_shows(sim, sku, 15, "the opening stock")
    fid = f"e2e-{uuid.uuid4().hex[:8]}"
    freeze = {"freeze_id": fid, "node_code": WAREHOUSE, "material_code": sku["code"], "qty": 10,
              "reason": "quality hold"}  # fmt: skip
    assert (await gw.post("/api/inventory/freezes", json=freeze)).status_code == 201
    await until_platform_shows(sim, sku, 5, "after the freeze")
    r = await gw.post(f"/api/inventory/freezes/{freeze['freeze_id']}/release", json={"reason": "passed QC"})
    assert r.status_code == 200
    await until_platform_shows(sim, sku, 15, "after the release")

    tid = f"e2e-{uuid.uuid4().hex[:8]}"
    body = {"transfer_id": tid, "source_node": WAREHOUSE, "target_node": STORE_NODE,
            "lines": [{"material_code": sku["code"], "qty": 8}]}  # fmt: skip
    assert (await gw.post("/api/inventory/transfers", json=body)).status_code == 201, "created"
    assert (await gw.post(f"/api/inventory/transfers/{tid}/ship")).status_code == 200
    await until_platform_shows(sim, sku, 7, "while 8 are in transit (not sellable)")
    transit = (await gw.get("/api/inventory/in-transit", params={"material_code": sku["code"]})).json()
    assert [(x["node_code"], x["qty"]) for x in transit["items"]] == [(STORE_NODE, 8)]
    received = {"lines": [{"material_code": sku["code"], "received": 7}]}  # one lost on the way
    r = await gw.post(f"/api/inventory/transfers/{tid}/receive", json=received)
    assert r.status_code == 200, r.text
    assert r.json()["lines"][0]["lost"] == 1
    await until_platform_shows(sim, sku, 14, "after the short receipt")
    store = (await gw.get(f"/api/inventory/stock/{STORE_NODE}/{sku['code']}")).json()
    assert store["on_hand"] == 10


async def test_4_drift_on_the_platform_is_detected_and_resynced(gw, sim):
    sku = await new_sku(gw, {WAREHOUSE: 9}, on_ids=put_on_platform(sim))
    await until_platform_shows(sim, sku, 9, "the opening stock")
    drift = {"sku_id": int(sku["sku_id"]), "quantity": 40}  # someone edited it in the seller backend
    assert (await sim.post(f"/_sim/taobao/items/{sku['item_id']}/drift", json=drift)).status_code == 200
    assert await platform_qty(sim, sku["item_id"], sku["sku_id"]) == 40

    async def resynced():
        s = (await gw.get(f"/api/channel/push-status/{sku['listing_id']}")).json()
        shown = await platform_qty(sim, sku["item_id"], sku["sku_id"])
        return s["drifts"] >= 1 and s["drift_qty"] == 40 and shown == 9 and s["state"] == "acknowledged"

    await until(resynced, "the scheduled drift check to see 40 and push 9 again", timeout=90)


async def test_5_with_30_percent_of_pushes_failing_every_listing_converges(gw, sim):
    skus = [await new_sku(gw, {WAREHOUSE: 1 + i}, on_ids=put_on_platform(sim)) for i in range(6)]
    for i, s in enumerate(skus):
        await until_platform_shows(sim, s, 1 + i, "the opening stock")
    (await sim.put("/_sim/taobao/faults", json={"failure_rate": 0.3})).raise_for_status()
    try:
        for _ in range(3):  # several changes each, while a third of the calls fail
            for s in skus:
                await receive(gw, STORE_NODE, s["code"], 2)
        for i, s in enumerate(skus):
            await until_platform_shows(sim, s, 1 + i + 6, "despite the failures")
        params = {"method": "taobao.item.quantity.update"}
        calls = (await sim.get("/_sim/taobao/calls", params=params)).json()["calls"]
        assert any(c.get("outcome") == "failure" for c in calls), "the simulator did fail some pushes"
    finally:
        (await sim.put("/_sim/taobao/faults", json={"failure_rate": 0.0})).raise_for_status()


async def test_6_a_low_water_pool_protects_the_core_channel(gw, sim):
    sku = await new_sku(gw, {WAREHOUSE: 30, STORE_NODE: 10}, on_ids=put_on_platform(sim))
    await until_platform_shows(sim, sku, 40, "before any rule")
    jd_listing = f"L-E2E-JD-{uuid.uuid4().hex[:8]}"
    listing = {
        "listing_id": jd_listing,
        "channel": "jd",
        "shop_id": "JD-OMNI",
        "channel_item_id": "100012345",
        "sales_product_code": sku["code"],
        "price_cents": 10_000,
    }
    r = await gw.put(f"/api/product/channel-listings/{jd_listing}", json=listing)
    assert r.status_code in (200, 201), r.text

    async def jd_stock():
        r = await gw.get(f"/api/inventory/listings/{jd_listing}/stock")
        return r.status_code == 200 and r.json()["published"] and r.json()["published"]["quantity"] == 40

    await until(jd_stock, "inventory to learn the JD listing")
    current = (await gw.get("/api/inventory/allocation-rules")).json()["version"]
    doc = {
        "expected_version": current,
        "note": "e2e: protect tmall when stock is low",
        "pools": [{"code": "EAST", "nodes": [WAREHOUSE, STORE_NODE]}],
        "allocations": [
            {"pool": "EAST", "channel": "tmall", "core": True},
            {"pool": "EAST", "channel": "jd", "mode": "quota", "quota": 15},
        ],
        "water_levels": [{"pool": "EAST", "material_code": sku["code"], "low": 100, "high": 1000}],
    }
    r = await gw.put("/api/inventory/allocation-rules", json=doc)
    assert r.status_code == 200, r.text
    await until_platform_shows(sim, sku, 25, "tmall keeps what jd's quota leaves (40 - 15)")
    jd = (await gw.get(f"/api/inventory/listings/{jd_listing}/stock")).json()
    assert jd["quantity"] == 15 and jd["published"]["quantity"] == 15
    assert jd["steps"][0]["inputs"]["water"] == "low"

    bad = {**doc, "expected_version": current + 1, "pools": [{"code": "EAST", "nodes": ["NO-SUCH-NODE"]}]}
    r = await gw.put("/api/inventory/allocation-rules", json=bad)
    assert r.status_code == 422 and r.json()["problems"][0]["path"] == "body.pools[0].nodes[0]"
    assert await platform_qty(sim, sku["item_id"], sku["sku_id"]) == 25


def _pid_listening(port: int) -> int:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


async def _receive_until_accepted(gw, node: str, code: str, qty: int) -> None:
    body = {"receipt_id": f"e2e-{uuid.uuid4().hex[:10]}", "node_code": node,
            "lines": [{"material_code": code, "qty": qty}]}  # fmt: skip

    async def accepted():
        try:
            return (await gw.post("/api/inventory/receipts", json=body)).status_code in (200, 201)
        except httpx.HTTPError:
            return False

    await until(accepted, "inventory to take the receipt (it restarts)", timeout=90, interval=0.5)


async def test_7_changes_and_pushes_survive_kill_9_of_inventory_and_channel(gw, sim, e2e_stack):
    sku = await new_sku(gw, {WAREHOUSE: 10}, on_ids=put_on_platform(sim))
    await until_platform_shows(sim, sku, 10, "the opening stock")
    ports = e2e_stack["ports"]
    (await sim.put("/_sim/taobao/faults", json={"latency_ms": 300})).raise_for_status()  # pushes in flight
    try:
        for i in range(6):
            await _receive_until_accepted(gw, STORE_NODE, sku["code"], 1)
            if i == 1:
                os.kill(_pid_listening(ports["channel"]), signal.SIGKILL)
            if i == 3:
                os.kill(_pid_listening(ports["inventory"]), signal.SIGKILL)
        await until_platform_shows(sim, sku, 16, "every change, after both were killed and restarted")
    finally:
        (await sim.put("/_sim/taobao/faults", json={"latency_ms": 0})).raise_for_status()
    status = (await gw.get(f"/api/channel/push-status/{sku['listing_id']}")).json()
    assert status["state"] == "acknowledged" and status["pushed_qty"] == 16
