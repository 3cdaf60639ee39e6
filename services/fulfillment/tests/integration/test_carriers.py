"""Carrier routing on PostgreSQL (and Kafka): carriers, pins and the promise through the REST API (versioned,
audited, validated, not for store staff); a task gets its carrier from the SQL store (weights, capacity
counted from the day's tasks); a refusal at ship time through REST; over Kafka an allocation read before its
order's acceptance is parked and chosen once the acceptance arrives."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import httpx
import pytest

from omni_chassis.testing import eventually, running_consumers
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import utcnow
from omni_fulfillment import consumers_carriers, store, store_carriers
from omni_fulfillment.app import Settings, build
from omni_fulfillment.domain.carriers import Band, Carrier
from omni_fulfillment.domain.sourcing import Line
from omni_fulfillment.domain.tasks import Task
from omni_fulfillment.service import carriers as routing

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from carrier_fakes import accepted_to, allocated, material
from fulfillment_support import MIGRATIONS, outbox, publish, rows, uid

pytestmark = pytest.mark.integration
BANDS = [{"min_g": 0, "max_g": None, "first_g": 1000, "first_cents": 800, "step_g": 1000, "step_cents": 200}]


def carrier_body(first_cents: int = 800, **over):
    return {"name": "a carrier", "bands": [{**BANDS[0], "first_cents": first_cents}], **over}


def uow(db):
    return SqlUnitOfWork(db, store_carriers.Repository)


@pytest.fixture
async def api(make_database, kafka_bootstrap, monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    app = build(Settings(service_database_url=db.dsn, consumers_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, db


async def add_tasks(db, *tasks: Task) -> None:
    u = SqlUnitOfWork(db, store.Repository)
    async with u:
        await u.repo.insert_tasks(list(tasks))


def task(task_id: str, order_id: str, lines: dict[str, int]) -> Task:
    return Task.new(task_id, order_id, "WH-1", f"{order_id}:1:WH-1", [Line(m, q) for m, q in lines.items()],
                    pickup_code=None, now=utcnow())  # fmt: skip


async def test_carriers_pins_and_the_promise_through_rest(api):
    client, _ = api
    code = f"SF-{uid()}"
    body = carrier_body(cutoff="16:00", daily_capacity=100, areas=[{"province": "新疆", "exclude": True}],
                        sla=[{"area": {"province": "浙江"}, "days": 1}])  # fmt: skip
    r = await client.put(f"/carriers/{code}", json=body, headers={"X-Omni-Principal": "alice"})
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["version"], got["cutoff"], got["timezone"], got["health"]) == (
        1,
        "16:00",
        "Asia/Shanghai",
        "healthy",
    )
    assert got["areas"] == [{"province": "新疆", "city": "", "district": "", "exclude": True}]
    r = await client.put(f"/carriers/{code}", json={**body, "default_sla_days": 2, "base_version": 1})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await client.put(f"/carriers/{code}", json={**body, "base_version": 1})
    assert r.status_code == 409 and "at version 2, not 1" in r.text
    overlap = {**body, "bands": [BANDS[0], {**BANDS[0], "min_g": 500}]}
    r = await client.put(f"/carriers/{code}", json=overlap)
    assert r.status_code == 422 and "overlap" in r.text
    r = await client.put(f"/carriers/{code}/health", json={"state": "down", "note": "typhoon"})
    assert r.status_code == 200 and (r.json()["health"], r.json()["version"]) == ("down", 3)
    r = await client.get(f"/carriers/{code}/versions")
    assert [(v["version"], v["action"], v["actor"]) for v in r.json()["items"]] == [
        (3, "health down", "api"), (2, "replaced", "api"), (1, "created", "alice")]  # fmt: skip
    assert (await client.get(f"/carriers/{code}")).json()["health_note"] == "typhoon"
    assert code in [
        c["code"] for c in (await client.get("/carriers", params={"active": True})).json()["items"]
    ]
    staff = {"X-Omni-Node-Scope": "STORE-1"}
    assert (await client.put(f"/carriers/{code}", json=body, headers=staff)).status_code == 403
    assert (await client.get("/carriers/NOPE")).status_code == 404

    pin = {"carrier": code, "kind": "sku", "material_code": "M1", "priority": 5}
    r = await client.put("/carrier-pins/P1", json=pin)
    assert r.status_code == 201 and r.json()["version"] == 1
    assert (await client.put("/carrier-pins/P2", json={**pin, "carrier": "NOPE"})).status_code == 422
    r = await client.put("/carrier-pins/P3", json={**pin, "shop_id": "s"})  # a sku pin names a sku only
    assert r.status_code == 422
    assert (await client.delete("/carrier-pins/P1")).json()["active"] is False
    assert [v["action"] for v in (await client.get("/carrier-pins/P1/versions")).json()["items"]] == [
        "deactivated", "created"]  # fmt: skip

    assert (await client.get("/carrier-promise")).json() == {"default_days": 3, "regions": [], "version": 0}
    promise = {"default_days": 2, "regions": [{"area": {"province": "新疆"}, "days": 6}], "base_version": 0}
    r = await client.put("/carrier-promise", json=promise)
    assert r.status_code == 200 and r.json()["version"] == 1
    assert (await client.put("/carrier-promise", json=promise)).status_code == 409
    r = await client.delete(f"/carriers/{code}")
    assert r.json()["active"] is False and r.json()["version"] == 4


async def test_a_task_gets_its_carrier_and_capacity_is_counted_from_the_days_tasks(api):
    client, db = api
    for code, first, cap in (("CHEAP", 300, 1), ("SF", 1200, None)):
        body = carrier_body(first, daily_capacity=cap)
        assert (await client.put(f"/carriers/{code}", json=body)).status_code == 201
    await routing.on_materials(uow(db), [material("M1", 700), material("M2", 1800)])
    t1, t2 = task("T1", "O1", {"M1": 1, "M2": 1}), task("T2", "O2", {"M1": 1})
    await add_tasks(db, t1, t2)
    await routing.on_carrier_events(uow(db), [accepted_to("O1"), accepted_to("O2"), allocated("O1", [t1])])
    await routing.on_carrier_events(uow(db), [allocated("O2", [t2])])
    got = await rows(db, "SELECT task_id, carrier FROM tasks ORDER BY task_id")
    assert [tuple(r) for r in got] == [("T1", "CHEAP"), ("T2", "SF")]  # CHEAP takes one a day
    events = await outbox(db, "fulfillment.carrier-chosen")
    assert [(e["task_id"], e["carrier"], e["weight_g"], e["cost_cents"]) for e in events] == [
        ("T1", "CHEAP", 2500, 300 + 2 * 200), ("T2", "SF", 700, 1200)]  # fmt: skip
    assert events[1]["considered"][0]["reason"].startswith("full: 1/1 parcels on ")

    r = await client.post("/tasks/T1/carrier-refused", json={"reason": "no room on the truck"})
    assert r.status_code == 200, r.text
    assert (r.json()["refused"], r.json()["carrier"], r.json()["cost_cents"]) == ("CHEAP", "SF", 1600)
    history = (await client.get("/tasks/T1/carriers")).json()
    assert [(h["attempt"], h["carrier"], h["current"], h["refused_reason"]) for h in history] == [
        (1, "CHEAP", False, "no room on the truck"), (2, "SF", True, None)]  # fmt: skip
    last = (await outbox(db, "fulfillment.carrier-chosen"))[-1]
    assert (last["attempt"], last["replaces"], last["carrier"]) == (2, "CHEAP", "SF")
    # CHEAP's place of the day is free again: the next parcel gets it
    t3 = task("T3", "O3", {"M1": 1})
    await add_tasks(db, t3)
    await routing.on_carrier_events(uow(db), [accepted_to("O3"), allocated("O3", [t3])])
    assert (await rows(db, "SELECT carrier FROM tasks WHERE task_id = 'T3'"))[0][0] == "CHEAP"
    staff = {"X-Omni-Node-Scope": "STORE-9"}
    assert (await client.post("/tasks/T3/carrier-refused", json={}, headers=staff)).status_code == 403
    assert (await client.get("/tasks/T3/carriers", headers=staff)).status_code == 403
    assert (await client.post("/tasks/NOPE/carrier-refused", json={})).status_code == 404


async def test_over_kafka_an_allocation_before_its_acceptance_waits_for_it(
    make_database, kafka_bootstrap, fresh_topic
):
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    async with uow(db) as u:
        await u.repo.save_carrier(Carrier("SF", "SF", (Band(0, None, 1000, 800, 1000, 200),)))
    t1 = task("T1", "O1", {"M1": 1})
    await add_tasks(db, t1)
    orders, fulfillment = await fresh_topic(), await fresh_topic()
    await publish(kafka_bootstrap, fulfillment, allocated("O1", [t1]))
    (spec, _) = consumers_carriers.specs()
    spec = dataclasses.replace(spec, topics=[orders, fulfillment], group=f"fc-{uid()}")
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store_carriers.Repository):
        await eventually(lambda: rows(db, "SELECT 1 FROM parked WHERE waits_for = 'carrier-order:O1'"))
        await publish(kafka_bootstrap, orders, accepted_to("O1"))
        await eventually(lambda: rows(db, "SELECT 1 FROM tasks WHERE task_id = 'T1' AND carrier = 'SF'"))
    assert [e["carrier"] for e in await outbox(db, "fulfillment.carrier-chosen")] == ["SF"]
