"""Store tasks on PostgreSQL, through the real app's REST API (in-process) and the chassis timer loop: a
store's task from accept to ship with client action ids, a rejection out of stock re-sourced elsewhere,
the pickup code's resend and lock, the reasons, SLA policies, pauses and count requests, and the SLA timers
written in the task's transaction and fired by a timer loop that was not running when they were set."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from omni_chassis.timers import TimerLoop
from omni_fulfillment import service
from omni_fulfillment.app import Settings, build
from omni_fulfillment.service import task_timers

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
    app = build(Settings(service_database_url=db.dsn, consumers_enabled=False, timers_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, db


async def store_order(
    db: Any, *, pickup: bool = False, lines: dict[str, int] | None = None
) -> dict[str, str]:
    """A store ST-x 1 km away and a warehouse WH-x 50 km away, both with A and B; one order, reserved."""
    x = uid()
    st, wh, oid = f"ST-{x}", f"WH-{x}", f"O-{x}"
    await seed_nodes(db, node(st, 1, type="store"), node(wh, 50))
    await seed_stock(db, [(st, "A", 5), (st, "B", 5), (wh, "A", 50), (wh, "B", 50)])
    kw = {"delivery": "store_pickup", "pickup_node": st} if pickup else {}
    await service.on_order_events(uow(db), [accepted(oid, lines or {"A": 2}, **kw)])
    await reserve_pending(db, oid)
    (tid,) = [r.task_id for r in await rows(db, "SELECT task_id FROM tasks WHERE order_id = :o", o=oid)]
    return {"st": st, "wh": wh, "order": oid, "task": tid}


async def reserve_pending(db: Any, oid: str) -> None:
    for req in await outbox(db, "fulfillment.reservation-requested", key=oid):
        got = await rows(
            db, "SELECT status FROM reservations WHERE reservation_id = :r", r=req["reservation_id"]
        )
        if got and got[0].status == "pending":
            await service.on_reservation_replies(uow(db), [reserved(req)])


async def test_a_store_task_goes_from_accept_to_ship_and_a_retry_does_nothing_again(api):
    client, db = api
    o = await store_order(db, lines={"A": 2, "B": 1})
    url, staff = f"/tasks/{o['task']}", {SCOPE: o["st"]}
    task = (await client.get(url, headers=staff)).json()
    assert (task["node_type"], task["sla"]["kind"], task["actions"]) == (
        "store",
        "accept",
        ["accept", "reject"],
    )
    assert 1790 <= task["sla"]["seconds_left"] <= 1800
    (timer,) = await rows(db, "SELECT kind FROM timers WHERE key = :k", k=o["task"])
    assert timer.kind == "fulfillment.accept-sla"
    key = {**staff, "Idempotency-Key": f"acc-{o['task']}"}
    first = await client.post(f"{url}/accept", json={"staff_id": "s1"}, headers=key)
    again = await client.post(f"{url}/accept", json={"staff_id": "s1"}, headers=key)
    assert first.status_code == again.status_code == 200 and again.json()["status"] == "accepted"
    assert len(await outbox(db, "fulfillment.task-accepted", key=o["order"])) == 1
    other = await client.post(f"{url}/start-picking", json={}, headers=key)
    assert other.status_code == 409 and "was used for accept" in other.json()["detail"]
    assert [t.kind for t in await rows(db, "SELECT kind FROM timers WHERE key = :k", k=o["task"])] == [
        "fulfillment.pick-pack-sla"
    ]
    r = await client.post(f"{url}/pick", json={"scanned_code": "A", "action_id": "scan-0001"}, headers=staff)
    assert r.status_code == 200 and r.json()["picked"] == [{"material_code": "A", "qty": 1}]
    picked = [{"material_code": "A", "qty": 2}, {"material_code": "B", "qty": 1}]
    r = await client.post(f"{url}/pick", json={"lines": picked}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "picking"
    r = await client.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": "SF1"}, headers=staff)
    assert r.status_code == 409 and r.json()["detail"].endswith("is picking: pack it before it ships")
    assert (await client.post(f"{url}/pack", json={}, headers=staff)).json()["status"] == "packed"
    r = await client.post(f"{url}/ship", json={"carrier": "SF", "tracking_no": "SF1"}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "shipped" and r.json()["sla"] is None
    assert await rows(db, "SELECT kind FROM timers WHERE key = :k", k=o["task"]) == []
    done = (await client.get(f"{url}/actions", headers=staff)).json()
    assert [a["action"] for a in done] == ["accept", "pick"], "the actions that carried an id"
    assert [e["order_id"] for e in await outbox(db, "fulfillment.order-fulfilled")] == [o["order"]]


async def test_a_rejection_out_of_stock_zeroes_the_store_and_moves_the_order_to_the_warehouse(api):
    client, db = api
    o = await store_order(db)
    staff = {SCOPE: o["st"]}
    r = await client.post(f"/tasks/{o['task']}/reject", json={"reason_code": "out_of_stock"}, headers=staff)
    assert r.status_code == 200 and (r.json()["status"], r.json()["actions"]) == ("rejected", [])
    (ev,) = await outbox(db, "fulfillment.task-rejected", key=o["order"])
    assert (ev["stock_out"], ev["count_requested"], ev["whole"]) == (["A"], ["A"], True)
    (stock,) = await rows(
        db, "SELECT available FROM stock WHERE node_code = :n AND material_code = 'A'", n=o["st"]
    )
    assert stock.available == 0
    requests = await outbox(db, "fulfillment.reservation-requested", key=o["order"])
    assert [q["node_code"] for q in requests] == [o["st"], o["wh"]]
    await reserve_pending(db, o["order"])
    found = await rows(db, "SELECT node_code, status FROM tasks WHERE order_id = :o", o=o["order"])
    tasks = {r.node_code: r.status for r in found}
    assert tasks == {o["st"]: "rejected", o["wh"]: "assigned"}
    counts = (await client.get("/count-requests", headers=staff)).json()
    assert [(c["material_code"], c["reason_code"]) for c in counts["items"]] == [("A", "out_of_stock")]
    (rej,) = (await client.get(f"/sourcing/{o['order']}/rejections")).json()
    assert (rej["kind"], rej["outcome"]) == ("rejected", f"re-sourced at {o['wh']}")
    assert (await client.get(f"/sourcing/{o['order']}/rejections", headers=staff)).status_code == 403


async def test_a_pickup_code_is_resent_and_five_wrong_codes_lock_the_task(api):
    client, db = api
    o = await store_order(db, pickup=True)
    url, staff = f"/tasks/{o['task']}", {SCOPE: o["st"]}
    code = (await client.get(url)).json()["pickup_code"]
    await client.post(f"{url}/accept", json={"staff_id": "s1"}, headers=staff)
    r = await client.post(f"{url}/ready", json={}, headers=staff)
    assert (
        r.status_code == 200 and r.json()["sla"]["kind"] == "pickup_hold" and r.json()["pickup_code"] is None
    )
    await client.post(f"{url}/resend-code", json={}, headers=staff)
    sent = await outbox(db, "fulfillment.pickup-code-issued", key=o["order"])
    assert [(e["pickup_code"], e["sent"]) for e in sent] == [(code, 1), (code, 2)]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        r = await client.post(f"{url}/pickup", json={"pickup_code": wrong}, headers=staff)
        assert r.status_code == 422
    r = await client.post(f"{url}/pickup", json={"pickup_code": code}, headers=staff)
    assert r.status_code == 423 and "locked after too many wrong pickup codes" in r.json()["detail"]
    task = (await client.get(url, headers=staff)).json()
    assert task["locked_until"] is not None and task["status"] == "ready_for_pickup"
    assert "handover" not in task["actions"]


async def test_reasons_sla_policies_and_pauses_are_configured_through_rest(api):
    client, db = api
    r = await client.put("/reject-reasons/closing", json={"label": "closing early", "pause_minutes": 60},
                         headers={"X-Omni-Principal": "ops-1"})  # fmt: skip
    assert r.status_code == 201 and r.json()["version"] == 1 and "paused for 60 min" in r.json()["effects"]
    r = await client.put("/reject-reasons/closing", json={"label": "closing early", "pause_minutes": 30})
    assert r.status_code == 200 and r.json()["version"] == 2
    got = (await client.get("/reject-reasons/closing")).json()
    assert [(v["version"], v["changed_by"]) for v in got["versions"]] == [(1, "ops-1"), (2, None)]
    assert (await client.put("/reject-reasons/Bad", json={"label": "x"})).status_code == 422
    assert (await client.put("/reject-reasons/x1", json={"label": "x", "next": "moon"})).status_code == 422
    assert (await client.delete("/reject-reasons/short_pick")).status_code == 409
    assert (
        await client.put("/reject-reasons/x1", json={"label": "x"}, headers={SCOPE: "ST"})
    ).status_code == 403
    assert (await client.delete("/reject-reasons/closing")).status_code == 200
    codes = [x["code"] for x in (await client.get("/reject-reasons")).json()]
    assert codes == ["out_of_range", "out_of_stock", "short_pick", "too_busy"], "seeded by the migration"

    x = uid()
    r = await client.put(f"/sla-policies/ST-{x}/*", json={"accept_s": 120, "pick_pack_s": 0})
    assert r.status_code == 201 and r.json() == {"node_code": f"ST-{x}", "channel": "*", "accept_s": 120,
                                                 "pick_pack_s": 0, "pickup_hold_s": None}  # fmt: skip
    assert (await client.put(f"/sla-policies/ST-{x}/*", json={"accept_s": 60})).status_code == 200
    assert (await client.put(f"/sla-policies/ST-{x}/tmall", json={})).status_code == 422
    assert [
        p["accept_s"] for p in (await client.get("/sla-policies", params={"node_code": f"ST-{x}"})).json()
    ] == [60]
    assert (await client.delete(f"/sla-policies/ST-{x}/*")).status_code == 204
    assert (await client.delete(f"/sla-policies/ST-{x}/*")).status_code == 404

    o = await store_order(db)
    await client.post(
        f"/tasks/{o['task']}/reject", json={"reason_code": "too_busy"}, headers={SCOPE: o["st"]}
    )
    paused = {p["node_code"]: p for p in (await client.get("/node-pauses")).json()}
    assert paused[o["st"]]["reason"].startswith("too_busy")
    assert (await client.delete(f"/node-pauses/{o['st']}")).status_code == 204
    assert o["st"] not in {p["node_code"] for p in (await client.get("/node-pauses")).json()}


async def test_sla_timers_are_durable_and_fire_in_a_timer_loop_started_afterwards(api):
    client, db = api
    x = uid()
    assert (await client.put(f"/sla-policies/ST-{x}/*", json={"accept_s": 1})).status_code == 201
    st, st2, oid = f"ST-{x}", f"ST2-{x}", f"O-{x}"
    await seed_nodes(db, node(st, 1, type="store"), node(st2, 3, type="store"))
    await seed_stock(db, [(st, "A", 5), (st2, "A", 5)])
    await service.on_order_events(uow(db), [accepted(oid, {"A": 1})])
    await reserve_pending(db, oid)
    (task,) = await rows(db, "SELECT task_id, due_at FROM tasks WHERE order_id = :o", o=oid)
    (timer,) = await rows(db, "SELECT kind, due_at FROM timers WHERE key = :k", k=task.task_id)
    assert (timer.kind, timer.due_at) == ("fulfillment.accept-sla", task.due_at)
    async with db.transaction() as s:  # due now (rather than waiting a second)
        await s.execute(text("UPDATE timers SET due_at = now() - interval '1 second' WHERE key = :k"),
                        {"k": task.task_id})  # fmt: skip
    loop = TimerLoop(db, lambda: uow(db), task_timers.HANDLERS)  # a process that was not running before
    assert await loop.run_once() >= 1
    (moved,) = await rows(db, "SELECT status, status_reason FROM tasks WHERE task_id = :t", t=task.task_id)
    assert (moved.status, moved.status_reason) == (
        "reassigned",
        f"node {st} did not accept the task within 1 s",
    )
    assert [e["node_code"] for e in await outbox(db, "fulfillment.task-reassigned", key=oid)] == [st]
    assert [q["node_code"] for q in await outbox(db, "fulfillment.reservation-requested", key=oid)] == [
        st,
        st2,
    ]
    assert await rows(db, "SELECT 1 FROM timers WHERE key = :k", k=task.task_id) == [], "fired once"
