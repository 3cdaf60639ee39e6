"""The REST API of the real app (lifespan, database, outbox relay), called in-process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

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


@pytest.fixture
async def api(make_database, kafka_bootstrap, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    app = build(Settings(service_database_url=db.dsn, consumers_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, db


def body(code: str | None = None, **over):
    b = {
        "name": "Pudong DC",
        "type": "warehouse",
        "city": "Shanghai",
        "lat": 31.2,
        "lng": 121.5,
        "priority": 5,
    }
    if code:
        b["code"] = code
    return {**b, **over}


async def test_nodes(api):
    client, db = api
    x = uid()
    wh, st = f"WH-{x}", f"ST-{x}"

    r = await client.post("/nodes", json=body(wh))
    assert r.status_code == 201, r.text
    assert r.json() == {**body(wh), "active": True}
    r = await client.post("/nodes", json=body(wh, name="other"))
    assert (
        r.status_code == 409
        and r.json()["detail"] == f"node {wh} already exists (PUT /nodes/{wh} replaces it)"
    )

    for bad in (
        body("X1", lat=91),
        body("X1", type="shop"),
        body("X1", colour="red"),
        body("bad code!"),
        body("X1", name=""),
        {k: v for k, v in body("X1").items() if k != "lng"},
    ):
        assert (await client.post("/nodes", json=bad)).status_code == 422, bad

    r = await client.put(f"/nodes/{st}", json=body(type="store", name="Nanjing Rd store", priority=1))
    assert r.status_code == 201 and r.json()["type"] == "store"
    r = await client.put(f"/nodes/{st}", json=body(type="store", name="Nanjing Rd flagship", priority=2))
    assert r.status_code == 200 and (r.json()["name"], r.json()["priority"]) == ("Nanjing Rd flagship", 2)
    r = await client.put(f"/nodes/{st}", json=body("OTHER", type="store"))
    assert r.status_code == 422 and "differs from the path" in r.json()["detail"]

    assert (await client.get(f"/nodes/{st}")).json()["name"] == "Nanjing Rd flagship"
    r = await client.get("/nodes/NOPE")
    assert r.status_code == 404 and r.json()["detail"] == "node NOPE does not exist"

    r = await client.delete(f"/nodes/{wh}")
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await client.delete("/nodes/NOPE")).status_code == 404

    page = (await client.get("/nodes", params={"limit": 1, "offset": 1})).json()
    assert (page["total"], page["limit"], page["offset"], [n["code"] for n in page["items"]]) == (
        2,
        1,
        1,
        [wh],
    )
    assert [n["code"] for n in (await client.get("/nodes", params={"type": "store"})).json()["items"]] == [st]
    assert [n["code"] for n in (await client.get("/nodes", params={"active": "false"})).json()["items"]] == [
        wh
    ]
    assert (await client.get("/nodes", params={"limit": 501})).status_code == 422

    # Store staff cannot change nodes; nothing is written.
    for method, url, payload in (
        ("POST", "/nodes", body(f"N-{x}")),
        ("PUT", f"/nodes/{st}", body(type="store", name="hijacked")),
        ("DELETE", f"/nodes/{st}", None),
    ):
        r = await client.request(method, url, json=payload, headers={SCOPE: st})
        assert (
            r.status_code == 403 and r.json()["detail"] == "store staff cannot change nodes; ask operations"
        )
    assert (await client.get(f"/nodes/{st}")).json()["name"] == "Nanjing Rd flagship"

    events = await outbox(db, "fulfillment.node.upserted")
    assert [(e["node_code"], e["active"]) for e in events] == [
        (wh, True),
        (st, True),
        (st, True),
        (wh, False),
    ]


async def _allocate(db, order_id, lines, **kw):
    await service.on_order_events(uow(db), [accepted(order_id, lines, **kw)])
    for request in await outbox(db, "fulfillment.reservation-requested", key=order_id):
        await service.on_reservation_replies(uow(db), [reserved(request)])
    return {
        t.node_code: t.task_id for t in await rows(db, "SELECT * FROM tasks WHERE order_id = :o", o=order_id)
    }


async def test_staff_work_their_tasks_within_their_scope(api):
    client, db = api
    x = uid()
    wh, st = f"WH-{x}", f"ST-{x}"
    await seed_nodes(db, node(wh, 1), node(st, 2, type="store"))
    await seed_stock(db, [(wh, "A", 5), (st, "B", 5)])
    split, pick = f"OS-{x}", f"OP-{x}"
    split_tasks = await _allocate(db, split, {"A": 1, "B": 1})
    (pick_task,) = (await _allocate(db, pick, {"B": 1}, delivery="store_pickup", pickup_node=st)).values()
    ship_st, ship_wh = split_tasks[st], split_tasks[wh]
    staff = {SCOPE: st}

    # Listing: staff see their node only, and never a pickup code.
    page = (await client.get("/tasks", headers=staff)).json()
    assert page["total"] == 2 and {t["task_id"] for t in page["items"]} == {ship_st, pick_task}
    assert all(t["pickup_code"] is None for t in page["items"])
    r = await client.get("/tasks", params={"node_code": wh}, headers=staff)
    assert (
        r.status_code == 403
        and r.json()["detail"] == f"you may only list the tasks of node {st}, not of node {wh}"
    )
    assert (await client.get("/tasks")).json()["total"] == 3
    assert (await client.get("/tasks", params={"order_id": split, "limit": 1})).json()["total"] == 2
    assert (await client.get("/tasks", headers={SCOPE: " "})).status_code == 403
    assert (await client.get("/tasks", params={"status": "lost"})).status_code == 422

    # Another node's task: 403 with the reason, and nothing changes.
    r = await client.get(f"/tasks/{ship_wh}", headers=staff)
    assert r.status_code == 403 and r.json()["detail"] == f"task {ship_wh} belongs to node {wh}"
    r = await client.post(f"/tasks/{ship_wh}/accept", json={"staff_id": "s1"}, headers=staff)
    assert r.status_code == 403
    assert (await client.get(f"/tasks/{ship_wh}")).json()["status"] == "assigned"
    assert (await client.get("/tasks/T-nope")).status_code == 404

    # Ship: accept first, then ship; illegal steps are 409 with a sentence.
    r = await client.post(
        f"/tasks/{ship_st}/ship", json={"carrier": "SF", "tracking_no": "SF1"}, headers=staff
    )
    assert r.status_code == 409 and r.json()["detail"].endswith("(accept it first)")
    r = await client.post(f"/tasks/{ship_st}/accept", json={"staff_id": "s1"}, headers=staff)
    assert r.status_code == 200 and (r.json()["status"], r.json()["accepted_by"]) == ("accepted", "s1")
    r = await client.post(f"/tasks/{ship_st}/accept", json={"staff_id": "s2"}, headers=staff)
    assert r.status_code == 409 and "accepted by s1" in r.json()["detail"]
    assert (
        await client.post(f"/tasks/{ship_st}/ship", json={"carrier": ""}, headers=staff)
    ).status_code == 422
    # A store's task is packed before it ships (a warehouse's may ship from accepted, below).
    r = await client.post(
        f"/tasks/{ship_st}/ship", json={"carrier": "SF", "tracking_no": "SF1"}, headers=staff
    )
    assert r.status_code == 409 and r.json()["detail"].endswith("pick and pack it before it ships")
    r = await client.post(f"/tasks/{ship_st}/pack", json={}, headers=staff)
    assert r.status_code == 200 and (r.json()["status"], r.json()["actions"]) == ("packed", ["ship"])
    r = await client.post(
        f"/tasks/{ship_st}/ship", json={"carrier": "SF", "tracking_no": "SF1"}, headers=staff
    )
    assert r.status_code == 200 and (r.json()["status"], r.json()["tracking_no"]) == ("shipped", "SF1")
    assert r.json()["shipped_at"] is not None
    assert not await outbox(db, "fulfillment.order-fulfilled"), "the warehouse's task is still open"

    # Operations (no scope) finish the warehouse's part: the order is fulfilled, once.
    await client.post(f"/tasks/{ship_wh}/accept", json={"staff_id": "ops"})
    r = await client.post(f"/tasks/{ship_wh}/ship", json={"carrier": "YTO", "tracking_no": "Y1"})
    assert r.status_code == 200
    assert [e["order_id"] for e in await outbox(db, "fulfillment.order-fulfilled")] == [split]

    # Pickup: the code the buyer shows (operations can read it; staff cannot).
    code = (await client.get(f"/tasks/{pick_task}")).json()["pickup_code"]
    assert len(code) == 6 and code.isdigit()
    await client.post(f"/tasks/{pick_task}/accept", json={"staff_id": "s1"}, headers=staff)
    r = await client.post(
        f"/tasks/{pick_task}/ship", json={"carrier": "SF", "tracking_no": "X"}, headers=staff
    )
    assert r.status_code == 409 and "store pickup" in r.json()["detail"]
    r = await client.post(f"/tasks/{pick_task}/pickup", json={"pickup_code": code}, headers=staff)
    assert r.status_code == 409 and r.json()["detail"].endswith("(make it ready for pickup first)")
    r = await client.post(f"/tasks/{pick_task}/ready", json={}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "ready_for_pickup" and r.json()["code_sent"] == 1
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = await client.post(f"/tasks/{pick_task}/pickup", json={"pickup_code": wrong}, headers=staff)
    assert r.status_code == 422 and r.json()["detail"] == f"the pickup code does not match task {pick_task}"
    assert (
        await client.post(f"/tasks/{pick_task}/pickup", json={"pickup_code": "12ab"}, headers=staff)
    ).status_code == 422
    r = await client.post(f"/tasks/{pick_task}/pickup", json={"pickup_code": code}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "picked_up" and r.json()["pickup_code"] is None

    # The events, in the outbox.
    accepted_events = await outbox(db, "fulfillment.task-accepted")
    assert [(e["task_id"], e["accepted_by"]) for e in accepted_events] == [
        (ship_st, "s1"),
        (ship_wh, "ops"),
        (pick_task, "s1"),
    ]
    shipped = await outbox(db, "fulfillment.shipped")
    assert [(e["task_id"], e["carrier"], e["tracking_no"]) for e in shipped] == [
        (ship_st, "SF", "SF1"),
        (ship_wh, "YTO", "Y1"),
    ]
    # v2: each line names the order line it fulfils (the split order's second line is B)
    assert shipped[0]["lines"] == [{"material_code": "B", "qty": 1, "line_id": f"{split}-1"}]
    assert shipped[1]["lines"] == [{"material_code": "A", "qty": 1, "line_id": f"{split}-0"}]
    sql = "SELECT value FROM outbox WHERE event_type IN ('fulfillment.shipped', 'fulfillment.picked-up')"
    assert {json.loads(r.value)["event_version"] for r in await rows(db, sql)} == {2}
    assert shipped[0]["reservation_id"] == f"{split}:1:{st}"
    (picked,) = await outbox(db, "fulfillment.picked-up")
    assert (picked["task_id"], picked["reservation_id"], picked["lines"]) == (
        pick_task,
        f"{pick}:1:{st}",
        [{"material_code": "B", "qty": 1, "line_id": f"{pick}-0"}],
    )
    assert [e["order_id"] for e in await outbox(db, "fulfillment.order-fulfilled")] == [split, pick]
    shipped_list = (await client.get("/tasks", params={"status": "shipped"})).json()
    assert {t["task_id"] for t in shipped_list["items"]} == {ship_st, ship_wh}

    # Sourcing, as operations see it.
    r = await client.get(f"/sourcing/{split}")
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    assert {x["status"] for x in r.json()["reservations"]} == {"reserved"}
    assert (await client.get(f"/sourcing/{split}", headers=staff)).status_code == 403
    assert (await client.get("/sourcing/nope")).status_code == 404
