"""The walking skeleton, end to end: real Kafka and PostgreSQL, each service a process, via the gateway."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import (
    Line,
    new_sku,
    order_of,
    reservations,
    send,
    sku_line,
    stock,
    tasks_of,
    tid_of,
    trade,
    until,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ADMIN, OPS, STORE, FINANCE = "dev-admin-key", "dev-ops-key", "dev-store-sh01-key", "dev-finance-key"


def as_key(client: httpx.AsyncClient, key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def ship_all(gw: httpx.AsyncClient, order_id: str, key: str = OPS) -> list[dict]:
    tasks = await tasks_of(gw, order_id)
    for i, task in enumerate(tasks):
        r = await gw.post(
            f"/api/fulfillment/tasks/{task['task_id']}/accept",
            json={"staff_id": "e2e-staff"},
            headers=as_key(gw, key),
        )
        assert r.status_code == 200, r.text
        r = await gw.post(
            f"/api/fulfillment/tasks/{task['task_id']}/ship",
            json={"carrier": "SF", "tracking_no": f"SF{order_id[-8:]}{i}"},
            headers=as_key(gw, key),
        )
        assert r.status_code == 200, r.text
    return tasks


async def movements(gw: httpx.AsyncClient, reference: str) -> list[dict]:
    r = await gw.get("/api/inventory/movements", params={"reference": reference, "limit": 200})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_1_coffee_bundle_and_single_item_order_lives_to_completed(gw):
    before = {m: (await stock(gw, "WH-HZ", m)) for m in ("MACHINE-AUTO-01", "BEAN-YN-250", "BEAN-ETH-500")}
    doc = trade(
        [Line("SET-COFFEE-PRO", 1, Decimal("3007.75")), Line("BEAN-ETH-500", 3, Decimal("288.25"))],
        post_fee_cents=1200,
        address=0,
    )  # Hangzhou: WH-HZ is nearest and can ship it all
    r = await send(gw, doc)
    assert r.status_code == 202, r.text
    order = await wait_status(gw, tid_of(doc), {"allocated"})
    oid = order["order_id"]
    lines = order["goods"]["lines"]
    assert sum(line["amount_cents"] for line in lines) == 300_775 + 28_825, "decomposed to the cent"
    assert {line["material_code"] for line in lines} == {
        "BEAN-YN-250",
        "BEAN-ETH-250",
        "BEAN-COL-250",
        "MACHINE-AUTO-01",
        "BEAN-ETH-500",
    }

    tasks = await tasks_of(gw, oid)
    assert [t["node_code"] for t in tasks] == ["WH-HZ"]
    (res,) = await reservations(gw, oid)
    assert res["status"] == "reserved" and res["node_code"] == "WH-HZ"
    held = await stock(gw, "WH-HZ", "BEAN-ETH-500")
    assert held["reserved"] >= before["BEAN-ETH-500"]["reserved"] + 3

    await ship_all(gw, oid)
    done = await wait_status(gw, tid_of(doc), {"completed"})
    assert [h["to_status"] for h in done["history"]] == [
        "received",
        "accepted",
        "sourcing",
        "allocated",
        "shipped",
        "completed",
    ]

    async def consumed():
        return (await reservations(gw, oid))[0]["status"] == "consumed"

    await until(consumed, "the reservation to be consumed")
    after = await stock(gw, "WH-HZ", "MACHINE-AUTO-01")
    assert after["on_hand"] == before["MACHINE-AUTO-01"]["on_hand"] - 1
    kinds = sorted((m["material_code"], m["kind"]) for m in await movements(gw, res["reservation_id"]))
    assert kinds == sorted(
        [
            (m, k)
            for m in ("BEAN-YN-250", "BEAN-ETH-250", "BEAN-COL-250", "MACHINE-AUTO-01", "BEAN-ETH-500")
            for k in ("reservation", "shipment")
        ]
    ), "every ledger movement is there"

    async def vouchers():
        r = await gw.get(f"/api/finance/orders/{oid}/vouchers")
        items = r.json()["items"] if r.status_code == 200 else []
        return items if {v["kind"] for v in items} >= {"sale", "revenue"} else None

    vs = await until(vouchers, "sale and revenue vouchers")
    for v in vs:
        assert sum(x["debit_cents"] for x in v["lines"]) == sum(x["credit_cents"] for x in v["lines"])
    sale = next(v for v in vs if v["kind"] == "sale")
    assert sale["total_cents"] == 300_775 + 28_825 + 1200
    tb = (
        await gw.get("/api/finance/trial-balance", params={"order_id": oid}, headers=as_key(gw, FINANCE))
    ).json()
    assert tb["balanced"] is True


async def test_2_the_same_webhook_twice_gives_one_order_one_reservation_one_set_of_vouchers(gw):
    sku = await new_sku(gw, {"WH-HZ": 10})
    doc = trade([sku_line(sku, 2)], address=0)
    assert (await send(gw, doc)).status_code == 202
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated"})

    async def counted():
        o = await order_of(gw, tid_of(doc))
        return o if o["trade"]["duplicate_deliveries"] >= 1 else None

    again = await until(counted, "the duplicate delivery to be counted")
    assert again["order_id"] == order["order_id"], (
        "one order for one trade (unique channel, channel order id)"
    )
    assert len(await reservations(gw, order["order_id"])) == 1
    assert (await stock(gw, "WH-HZ", sku["code"]))["reserved"] == 2
    await asyncio.sleep(1)
    vs = (await gw.get(f"/api/finance/orders/{order['order_id']}/vouchers")).json()["items"]
    assert [v["kind"] for v in vs] == ["sale"]


async def test_3_split_across_fewest_nodes_and_more_than_all_stock_is_unfulfillable(gw):
    sku = await new_sku(gw, {"WH-HZ": 3, "WH-BJ": 3, "STORE-SH-01": 1})
    split = trade([sku_line(sku, 6)], address=0)
    assert (await send(gw, split)).status_code == 202
    order = await wait_status(gw, tid_of(split), {"allocated", "exception"})
    assert order["status"] == "allocated", order.get("status_reason")
    assert sorted(t["node_code"] for t in await tasks_of(gw, order["order_id"])) == ["WH-BJ", "WH-HZ"]

    too_much = trade([sku_line(sku, 50)], address=0)
    assert (await send(gw, too_much)).status_code == 202
    # No combination of nodes holds 50: the order waits for stock as a backorder (not an exception).
    failed = await wait_status(gw, tid_of(too_much), {"backorder", "exception", "allocated"})
    assert failed["status"] == "backorder", (failed["status"], failed.get("status_reason"))
    assert failed["status_reason_code"] == "backorder"
    assert sku["code"] in failed["status_reason"] and "50" in failed["status_reason"]
    for node in ("WH-HZ", "WH-BJ", "STORE-SH-01"):
        s = await stock(gw, node, sku["code"])
        assert s["available"] >= 0 and s["on_hand"] >= s["reserved"]


def _pid_listening(port: int) -> int:
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


async def test_4_a_reservation_refused_because_stock_moved_is_replanned_to_another_node(gw, e2e_stack):
    sku = await new_sku(gw, {"WH-HZ": 5, "WH-BJ": 5})
    inventory = _pid_listening(e2e_stack["ports"]["inventory"])
    first, second = (trade([sku_line(sku, 5)], address=0) for _ in range(2))
    os.kill(inventory, signal.SIGSTOP)  # inventory answers nothing: both orders get sourced on the same stock
    try:
        assert (await send(gw, first)).status_code == 202
        o1 = await wait_status(gw, tid_of(first), {"sourcing"})
        assert (await send(gw, second)).status_code == 202
        o2 = await wait_status(gw, tid_of(second), {"sourcing"})

        async def both_planned_at_hz():
            plans = [(await gw.get(f"/api/fulfillment/sourcing/{o['order_id']}")).json() for o in (o1, o2)]
            nodes = [{r["node_code"] for r in p.get("reservations", [])} for p in plans]
            return nodes if all("WH-HZ" in n for n in nodes) else None

        await until(both_planned_at_hz, "both orders to be sourced at WH-HZ (nearest, complete)")
    finally:
        os.kill(inventory, signal.SIGCONT)
    done = [await wait_status(gw, tid_of(d), {"allocated", "exception"}) for d in (first, second)]
    assert [d["status"] for d in done] == ["allocated", "allocated"]
    nodes = sorted([t["node_code"] for d in done for t in await tasks_of(gw, d["order_id"])])
    assert nodes == ["WH-BJ", "WH-HZ"], "one order was re-planned to the other warehouse"
    at_bj = [d for d in done if [t["node_code"] for t in await tasks_of(gw, d["order_id"])] == ["WH-BJ"]]
    (replanned,) = at_bj
    history = {(r["node_code"], r["status"]) for r in await reservations(gw, replanned["order_id"])}
    assert ("WH-HZ", "refused") in history and ("WH-BJ", "reserved") in history


async def test_5_two_hundred_concurrent_orders_for_fifty_units(gw):
    sku = await new_sku(gw, {"WH-HZ": 50})
    docs = [trade([sku_line(sku, 1)], address=i) for i in range(200)]
    sem = asyncio.Semaphore(50)

    async def post(doc):
        async with sem:
            return (await send(gw, doc)).status_code

    assert set(await asyncio.gather(*(post(d) for d in docs))) == {202}

    async def all_settled():
        got = [await order_of(gw, tid_of(d)) for d in docs]
        return got if all(o and o["status"] in {"allocated", "backorder", "exception"} for o in got) else None

    orders = await until(all_settled, "200 orders to be allocated or backordered", timeout=180, interval=1)
    allocated = [o for o in orders if o["status"] == "allocated"]
    waiting = [o for o in orders if o["status"] == "backorder"]
    assert len(allocated) == 50 and len(waiting) == 150, sorted({o["status"] for o in orders})
    assert all(o["status_reason_code"] == "backorder" and o["status_reason"] for o in waiting)
    s = await stock(gw, "WH-HZ", sku["code"])
    assert (s["on_hand"], s["reserved"], s["available"]) == (50, 50, 0)
    ledger = (
        await gw.get("/api/inventory/movements", params={"material_code": sku["code"], "limit": 200})
    ).json()["items"]
    assert all(m["on_hand_after"] - m["reserved_after"] >= 0 for m in ledger), "never negative"


async def test_6_bad_signature_malformed_payload_and_unknown_listing(gw):
    doc = trade([Line("BEAN-ETH-500", 1)])
    bad = await send(gw, doc, secret="not-the-shop-secret")
    assert bad.status_code == 401 and "signature" in bad.text
    malformed = await gw.post(
        "/channels/tmall/orders", params={"shop_id": "TM-OMNI-FLAGSHIP"}, content=b"{not json"
    )
    assert malformed.status_code in (400, 401)
    invalid = trade([Line("BEAN-ETH-500", 1)])
    invalid["trade_fullinfo_get_response"]["trade"]["payment"] = "12.345"
    r = await send(gw, invalid)
    assert r.status_code == 422 and "payment" in r.text
    unknown = trade([Line("NO-SUCH-SKU", 1, num_iid="999999999", sku_id="1")])
    assert (await send(gw, unknown)).status_code == 202
    held = await wait_status(gw, tid_of(unknown), {"exception"})
    assert held["status_reason_code"] == "unknown_listing" and "999999999" in held["status_reason"]
    cancel = await gw.post(
        f"/api/order/orders/{held['order_id']}/cancel",
        json={"reason": "refunded on Tmall"},
        headers={"X-API-Key": OPS},
    )
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled", cancel.text
    await asyncio.sleep(1)
    for d in (doc, invalid):
        assert await order_of(gw, tid_of(d)) is None, "nothing was published for a refused webhook"


async def test_7_auth_roles_and_store_scope(gw):
    anon = await gw.get("/api/order/orders", headers={"X-API-Key": ""})
    assert anon.status_code == 401
    wrong = await gw.put("/api/product/materials/X", json={}, headers={"X-API-Key": FINANCE})
    assert wrong.status_code == 403
    # an order shipped from the Shanghai store (the only node with this SKU) and one from a warehouse
    store_sku = await new_sku(gw, {"STORE-SH-01": 5})
    wh_sku = await new_sku(gw, {"WH-HZ": 5})
    store_doc, wh_doc = trade([sku_line(store_sku, 1)], address=1), trade([sku_line(wh_sku, 1)], address=0)
    for d in (store_doc, wh_doc):
        assert (await send(gw, d)).status_code == 202
    store_order = await wait_status(gw, tid_of(store_doc), {"allocated"})
    wh_order = await wait_status(gw, tid_of(wh_doc), {"allocated"})
    (store_task,) = await tasks_of(gw, store_order["order_id"])
    (wh_task,) = await tasks_of(gw, wh_order["order_id"])
    staff = {"X-API-Key": STORE}
    assert (await gw.get(f"/api/fulfillment/tasks/{wh_task['task_id']}", headers=staff)).status_code == 403
    r = await gw.post(
        f"/api/fulfillment/tasks/{wh_task['task_id']}/accept", json={"staff_id": "s1"}, headers=staff
    )
    assert r.status_code == 403
    mine = (await gw.get("/api/fulfillment/tasks", headers=staff)).json()["items"]
    assert mine and {t["node_code"] for t in mine} == {"STORE-SH-01"}
    r = await gw.post(
        f"/api/fulfillment/tasks/{store_task['task_id']}/accept", json={"staff_id": "s1"}, headers=staff
    )
    assert r.status_code == 200, r.text
    assert (await gw.get("/api/finance/trial-balance", headers=staff)).status_code == 403


async def test_8_one_orders_spans_share_one_trace_across_every_service(gw, e2e_stack):
    doc = trade([Line("BEAN-ETH-500", 1)], address=2)
    r = await send(gw, doc)
    assert r.status_code == 202
    correlation = r.headers["X-Correlation-ID"]
    order = await wait_status(gw, tid_of(doc), {"allocated"})

    async def vouchered():
        r = await gw.get(f"/api/finance/orders/{order['order_id']}/vouchers")
        return r.status_code == 200 and r.json()["items"]

    await until(vouchered, "the sale voucher")
    traces: Path = e2e_stack["traces"]

    async def services_in_trace():
        await asyncio.sleep(1)  # spans are exported in batches
        spans = [json.loads(line) for line in traces.read_text().splitlines() if line.strip()]
        roots = {s["trace_id"] for s in spans if s["attributes"].get("omni.correlation_id") == correlation}
        if len(roots) != 1:
            return None
        (trace_id,) = roots
        found = {s["service"] for s in spans if s["trace_id"] == trace_id}
        return (
            found if found >= {"gateway", "channel", "order", "fulfillment", "inventory", "finance"} else None
        )

    found = await until(
        services_in_trace,
        "one trace id across gateway, channel, order, fulfillment, inventory, finance",
        timeout=30,
        interval=0.5,
    )
    assert found >= {"gateway", "channel", "order", "fulfillment", "inventory", "finance"}
