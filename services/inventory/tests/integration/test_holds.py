"""Reservations with a time-to-live over REST, on real PostgreSQL and Kafka (the app's own timer loop and
outbox relay): an unpaid one expires by itself and available comes back, a confirmed one no longer can, and
a restart before the due time still expires it."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
import pytest
from inventory_helpers import rows, uid

from omni_chassis.testing import eventually
from omni_inventory.app import Settings, build
from omni_inventory.service.holds import EXPIRY

pytestmark = pytest.mark.integration
NODE = "WH-TTL"


@asynccontextmanager
async def serving(db, **settings):
    """The inventory app on `db` (no consumers; timers, relay on), TTLs allowed from 1 s."""
    app = build(Settings(service_database_url=db.url, consumers_enabled=False, reservation_ttl_min_s=1,
                         **settings))  # fmt: skip
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


async def _stock(client, material="M1"):
    r = await client.get(f"/stock/{NODE}/{material}")
    assert r.status_code == 200, r.text
    return r.json()


async def _setup(client, qty=10):
    r = await client.post(
        "/receipts",
        json={"receipt_id": uid("rc"), "node_code": NODE, "lines": [{"material_code": "M1", "qty": qty}]},
    )
    assert r.status_code == 201, r.text


def _hold(rid, ttl=None, qty=3):
    body = {"reservation_id": rid, "order_id": "O-" + rid, "node_code": NODE,
            "lines": [{"material_code": "M1", "qty": qty}]}  # fmt: skip
    return body if ttl is None else {**body, "ttl_seconds": ttl}


async def _timer(db, rid):
    found = await rows(
        db,
        "SELECT due_at, due_at > now() AS future FROM timers WHERE kind = :k AND key = :r",
        k=EXPIRY,
        r=rid,
    )
    return found[0] if found else None


async def test_an_unpaid_reservation_expires_by_itself_and_available_comes_back(db):
    rid = uid("H")
    async with serving(db) as client:
        await _setup(client)
        r = await client.post("/reservations", json=_hold(rid, ttl=2))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "reserved" and body["expires_at"] and body["confirmed_at"] is None
        assert (await _stock(client))["available"] == 7
        timer = await _timer(db, rid)
        assert timer is not None and timer.future

        async def expired():
            # one snapshot: while its timer is still in the future, the reservation is held
            ((status, future),) = await rows(
                db,
                "SELECT status, (SELECT due_at > now() FROM timers WHERE kind = :k AND key = :r) "
                "FROM reservations WHERE reservation_id = :r",
                k=EXPIRY,
                r=rid,
            )
            assert status == "reserved" or not future, "released before its due time"
            return status == "released"

        await eventually(expired, timeout=15)
        got = (await client.get(f"/reservations/{rid}")).json()
        assert got["reason"] == "expired" and got["updated_at"] >= timer.due_at.isoformat()[:19]
        assert (await _stock(client))["available"] == 10
        assert await _timer(db, rid) is None

        # the ledger row, and the events through the outbox to Kafka (the relay marks them sent)
        moves = (await client.get("/movements", params={"reference": rid})).json()["items"]
        assert [(m["kind"], m["delta_reserved"]) for m in moves] == [("release", -3), ("reservation", 3)]

        async def published():
            found = await rows(
                db,
                "SELECT event_type, sent_at IS NOT NULL AS sent FROM outbox WHERE event_type IN "
                "('inventory.reservation-released', 'inventory.stock-changed') AND created_at >= :t",
                t=timer.due_at,
            )
            return {r.event_type for r in found} == {
                "inventory.reservation-released", "inventory.stock-changed"
            } and all(r.sent for r in found)  # fmt: skip

        await eventually(published, timeout=15)


async def test_a_confirmed_reservation_does_not_expire(db):
    rid = uid("H")
    async with serving(db) as client:
        await _setup(client)
        assert (await client.post("/reservations", json=_hold(rid, ttl=600))).status_code == 201
        r = await client.post(f"/reservations/{rid}/confirm")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "reserved" and body["expires_at"] is None and body["confirmed_at"]
        assert await _timer(db, rid) is None, "nothing left that could expire it"
        again = await client.post(f"/reservations/{rid}/confirm")
        assert again.status_code == 200 and again.json()["confirmed_at"] == body["confirmed_at"]
        assert (await _stock(client))["available"] == 7
        assert (await client.post("/reservations/nope/confirm")).status_code == 404


async def test_a_restart_before_the_due_time_still_expires_it(db):
    rid = uid("H")
    async with serving(db) as client:
        await _setup(client)
        assert (await client.post("/reservations", json=_hold(rid, ttl=2))).status_code == 201
    # the service is down before the due time: the timer is a row, not a sleep
    timer = await _timer(db, rid)
    assert timer is not None and timer.future
    async with serving(db) as client:

        async def expired():
            return (await client.get(f"/reservations/{rid}")).json()["status"] == "released"

        await eventually(expired, timeout=15)
        assert (await _stock(client))["available"] == 10
        r = await client.post(f"/reservations/{rid}/confirm")
        assert r.status_code == 409 and "expired" in r.json()["detail"]


async def test_bad_requests_and_refusals(db):
    async with serving(db, reservation_ttl_max_s=3600) as client:
        await _setup(client, qty=2)
        for ttl in (0, 3601, "60"):
            r = await client.post("/reservations", json=_hold(uid("H"), ttl=ttl))
            assert r.status_code == 422, (ttl, r.text)
        r = await client.post("/reservations", json={**_hold(uid("H")), "ttl_seconds": None})
        assert r.status_code == 422, "omit it rather than null: " + r.text
        rid = uid("H")
        r = await client.post("/reservations", json=_hold(rid, ttl=60, qty=5))
        assert r.status_code == 409, r.text
        assert r.json()["shortfall"] == [{"material_code": "M1", "requested": 5, "available": 2}]
        assert await _timer(db, rid) is None and (await _stock(client))["available"] == 2
        assert (await client.post("/reservations", json=_hold(rid, ttl=60, qty=5))).status_code == 409
        ok = uid("H")
        assert (await client.post("/reservations", json=_hold(ok, ttl=60, qty=1))).status_code == 201
        assert (await client.post("/reservations", json=_hold(ok, ttl=60, qty=1))).status_code == 200
        conflict = await client.post("/reservations", json=_hold(ok, ttl=60, qty=2))
        assert conflict.status_code == 409 and "other content" in conflict.json()["detail"]
    openapi = build(Settings()).openapi()
    schema = openapi["components"]["schemas"]["ReservationRequestIn"]["properties"]["ttl_seconds"]
    assert (schema["type"], schema["minimum"], schema["maximum"]) == ("integer", 60, 86400), schema
