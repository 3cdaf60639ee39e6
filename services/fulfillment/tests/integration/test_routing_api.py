"""Routing on PostgreSQL: node settings through REST (validated, published, kept by a plain PUT of the node,
read by the next sourcing without a restart), a node's load counted by SQL from its open tasks and pending
reservations and its orders since its local midnight, and a sourcing that skips a full node."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from omni_fulfillment import service
from omni_fulfillment.app import Settings, build

sys.path.insert(0, str(Path(__file__).parent))
from fulfillment_support import (
    MIGRATIONS,
    accepted,
    node,
    outbox,
    reserved,
    rows,
    seed_nodes,
    seed_stock,
    uid,
    uow,
)

pytestmark = pytest.mark.integration
SCOPE = "X-Omni-Node-Scope"

SETTINGS = {
    "timezone": "Asia/Shanghai",
    "hours": [
        {"day": "mon", "opens": "09:00", "closes": "21:00"},
        {"day": "sat", "opens": "10:00", "closes": "18:00"},
    ],
    "holidays": [{"date": "2026-10-01", "name": "National Day", "windows": []}],
    "orders_per_day": 120,
    "max_open_tasks": 40,
    "same_city_radius_km": 5.0,
    "load_band_km": 1.5,
    "pools": ["EAST", "SH"],
    "high_value": True,
}


@pytest.fixture
async def api(make_database, kafka_bootstrap, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    app = build(Settings(service_database_url=db.dsn, consumers_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, db


async def _allocate(db, order_id, lines):
    await service.on_order_events(uow(db), [accepted(order_id, lines)])
    for request in await outbox(db, "fulfillment.reservation-requested", key=order_id):
        await service.on_reservation_replies(uow(db), [reserved(request)])


async def test_node_settings_through_rest(api):
    client, db = api
    st = f"ST-{uid()}"
    await seed_nodes(db, node(st, 1, type="store"))
    r = await client.get(f"/nodes/{st}/routing")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "node_code": st, "timezone": "Asia/Shanghai", "hours": [], "holidays": [], "orders_per_day": None,
        "max_open_tasks": None, "same_city_radius_km": None, "load_band_km": 2.0, "pools": [],
        "high_value": False,
    }  # fmt: skip

    r = await client.put(f"/nodes/{st}/routing", json=SETTINGS)
    assert r.status_code == 200, r.text
    assert r.json() == {"node_code": st, **SETTINGS}
    assert (await client.get(f"/nodes/{st}/routing")).json() == {"node_code": st, **SETTINGS}
    (event,) = [e for e in await outbox(db, "fulfillment.node.upserted") if e["max_open_tasks"] == 40]
    assert (event["node_code"], event["hours"][1], event["holidays"][0]["date"], event["pools"]) == (
        st, {"day": "sat", "opens": "10:00", "closes": "18:00"}, "2026-10-01", ["EAST", "SH"],
    )  # fmt: skip

    # a plain PUT of the node (name, place, priority) keeps its routing settings
    base = {
        "name": "renamed",
        "type": "store",
        "city": "Shanghai",
        "lat": 31.24,
        "lng": 121.47,
        "priority": 2,
    }
    assert (await client.put(f"/nodes/{st}", json=base)).status_code == 200
    assert (await client.get(f"/nodes/{st}/routing")).json()["max_open_tasks"] == 40
    assert (await outbox(db, "fulfillment.node.upserted"))[-1]["same_city_radius_km"] == 5.0

    bad = {
        "timezone": ("Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        "hours": ([{"day": "mon", "opens": "21:00", "closes": "09:00"}], "opens before it closes"),
    }
    for field, (value, said) in bad.items():
        r = await client.put(f"/nodes/{st}/routing", json={**SETTINGS, field: value})
        assert r.status_code == 422 and said in r.json()["detail"], r.text
    overlap = [
        {"day": "mon", "opens": "09:00", "closes": "12:00"},
        {"day": "mon", "opens": "11:00", "closes": "13:00"},
    ]
    r = await client.put(f"/nodes/{st}/routing", json={"hours": overlap})
    assert (
        r.status_code == 422
        and r.json()["detail"] == "mon: opening windows 09:00-12:00 and 11:00-13:00 overlap"
    )
    for junk in (
        {"hours": [{"day": "mon", "opens": "9:00", "closes": "12:00"}]},
        {"max_open_tasks": -1},
        {"same_city_radius_km": 0},
        {"pools": ["bad pool!"]},
        {"colour": "red"},
        {"high_value": "yes"},
    ):
        assert (await client.put(f"/nodes/{st}/routing", json=junk)).status_code == 422, junk
    assert (await client.get(f"/nodes/{st}/routing")).json()["max_open_tasks"] == 40, "nothing was written"
    assert (await client.put("/nodes/NOPE/routing", json={})).status_code == 404
    assert (await client.get("/nodes/NOPE/routing")).status_code == 404

    # store staff read their own node's, never another's, and change nothing
    assert (await client.get(f"/nodes/{st}/routing", headers={SCOPE: st})).status_code == 200
    assert (await client.get(f"/nodes/{st}/routing", headers={SCOPE: "ST-OTHER"})).status_code == 404
    r = await client.put(f"/nodes/{st}/routing", json={}, headers={SCOPE: st})
    assert r.status_code == 403 and r.json()["detail"] == "store staff cannot change nodes; ask operations"


async def test_sourcing_skips_a_full_node_counted_from_its_open_tasks(api):
    client, db = api
    x = uid()
    st, wh = f"ST-{x}", f"WH-{x}"
    await seed_nodes(db, node(st, 1, type="store"), node(wh, 40))
    await seed_stock(db, [(st, "A", 9), (wh, "A", 9)])
    assert (await client.put(f"/nodes/{st}/routing", json={"max_open_tasks": 1})).status_code == 200

    await _allocate(db, f"O1-{x}", {"A": 1})
    (task,) = await rows(db, "SELECT node_code, status FROM tasks WHERE order_id = :o", o=f"O1-{x}")
    assert task.node_code == st
    r = await client.get(f"/nodes/{st}/load")
    assert r.json() == {
        "node_code": st, "active": True, "open_tasks": 1, "orders_today": 1, "closed": None,
        "full": "full: 1 of 1 open tasks",
    }  # fmt: skip

    await service.on_order_events(uow(db), [accepted(f"O2-{x}", {"A": 1})])
    (request,) = await outbox(db, "fulfillment.reservation-requested", key=f"O2-{x}")
    assert request["node_code"] == wh
    (decided,) = await outbox(db, "fulfillment.sourcing-decided", key=f"O2-{x}")
    by = {n["node_code"]: n for n in decided["nodes"]}
    assert (by[st]["outcome"], by[st]["why"], by[st]["open_tasks"]) == (
        "unusable", "full: 1 of 1 open tasks; holds every line", 1,
    )  # fmt: skip
    assert (by[wh]["outcome"], by[wh]["open_tasks"]) == ("chosen", 0)
    # the pending reservation at WH counts as its open task until it becomes one
    assert (await client.get(f"/nodes/{wh}/load")).json()["open_tasks"] == 1

    # raised through REST: the next order goes to the store again, no restart
    assert (await client.put(f"/nodes/{st}/routing", json={"max_open_tasks": 5})).status_code == 200
    await service.on_order_events(uow(db), [accepted(f"O3-{x}", {"A": 1})])
    (request,) = await outbox(db, "fulfillment.reservation-requested", key=f"O3-{x}")
    assert request["node_code"] == st


async def test_orders_today_count_from_the_nodes_local_midnight(api):
    client, db = api
    x = uid()
    st = f"ST-{x}"
    await seed_nodes(db, node(st, 1, type="store"))
    await seed_stock(db, [(st, "A", 9)])
    for i in range(3):
        await _allocate(db, f"O{i}-{x}", {"A": 1})
    # one task was made yesterday (Shanghai time): it is not today's
    async with db.transaction() as s:
        await s.execute(
            text(
                "UPDATE tasks SET created_at = date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') "
                "AT TIME ZONE 'Asia/Shanghai' - interval '1 minute' WHERE order_id = :o"
            ),
            {"o": f"O0-{x}"},
        )
    r = await client.get(f"/nodes/{st}/load")
    assert (r.json()["open_tasks"], r.json()["orders_today"]) == (3, 2)
    assert (await client.put(f"/nodes/{st}/routing", json={"orders_per_day": 2})).status_code == 200
    assert (await client.get(f"/nodes/{st}/load")).json()["full"] == "full: 2 of 2 orders today"
    await service.on_order_events(uow(db), [accepted(f"O9-{x}", {"A": 1})])
    (verdict,) = await outbox(db, "fulfillment.order-unfulfillable", key=f"O9-{x}")
    assert verdict["reason"].startswith(
        "not enough stock in any combination of active nodes that can take the order (1 skipped: full)"
    )
    # a node in another zone counts from its own midnight
    assert (
        await client.put(f"/nodes/{st}/routing", json={"timezone": "America/Los_Angeles"})
    ).status_code == 200
    (o0,) = await rows(db, "SELECT created_at FROM tasks WHERE order_id = :o", o=f"O0-{x}")
    la_midnight = datetime.now(ZoneInfo("America/Los_Angeles")).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    expected = 2 + (o0.created_at >= la_midnight)
    assert (await client.get(f"/nodes/{st}/load")).json()["orders_today"] == expected
