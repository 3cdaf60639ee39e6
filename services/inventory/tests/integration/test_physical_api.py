"""Quality moves, cycle counts and transfers through the REST API on the real PostgreSQL: what moves, the
ledger, the stock-changed v3 events they stage, the refusals with numbers, every problem of a bad request,
nothing half-applied; and the migrations create exactly the tables' metadata."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from inventory_helpers import handle, outbox, requested, rows, uid

from omni_contracts import REGISTRY
from omni_contracts.events.inventory import StockChangedV1, StockChangedV3
from omni_inventory.tables import metadata

pytestmark = pytest.mark.integration
CHASSIS_TABLES = {"outbox", "inbox", "parked", "timers", "alembic_version", "alembic_version_chassis"}


async def stock_up(api, node: str, lines: dict[str, int]) -> None:
    body = {
        "receipt_id": uid("rcpt"),
        "node_code": node,
        "lines": [{"material_code": m, "qty": q} for m, q in lines.items()],
    }
    assert (await api.post("/receipts", json=body)).status_code == 201


async def ledger(db, reference: str) -> list[tuple[str, str, str, int, int]]:
    found = await rows(
        db,
        "SELECT node_code, material_code, kind, delta_on_hand, on_hand_after FROM movements "
        "WHERE reference = :r ORDER BY id",
        r=reference,
    )
    return [tuple(r) for r in found]


async def states(api, node: str, material: str) -> dict:
    r = await api.get(f"/stock/{node}/{material}/quality")
    assert r.status_code == 200, r.text
    return r.json()


async def test_migrations_match_the_tables(db):
    def diff(conn):
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_name": lambda name, kind, _p: name not in CHASSIS_TABLES},
        )
        return compare_metadata(ctx, metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_a_quality_move_lowers_available_and_stock_changed_says_so(api, db):
    node = uid("WH")
    await stock_up(api, node, {"A": 10})
    body = {
        "move_id": uid("qm"),
        "node_code": node,
        "material_code": "A",
        "qty": 3,
        "from_state": "good",
        "to_state": "quarantined",
        "reason": "inbound inspection",
    }
    r = await api.post("/quality-moves", json=body)
    assert r.status_code == 201, r.text
    after = r.json()["stock_after"]
    assert (after["on_hand"], after["available"], after["quarantined"], after["total"]) == (7, 7, 3, 10)
    assert (await api.post("/quality-moves", json=body)).status_code == 200
    assert (await api.get(f"/stock/{node}/A")).json()["available"] == 7
    assert await ledger(db, body["move_id"]) == [(node, "A", "quality", -3, 7)]
    (event,) = [
        e
        for e in await outbox(db, "inventory.stock-changed", key=f"{node}:A")
        if e["data"]["movement"] == "quality"
    ]
    assert (event["event_version"], event["data"]["available"]) == (3, 7)
    decoded = REGISTRY.decode(_wire(event))
    assert isinstance(decoded.data, StockChangedV3) and isinstance(decoded.data, StockChangedV1)

    half = {**body, "move_id": uid("qm"), "qty": 1, "from_state": "quarantined", "to_state": "defective"}
    assert (await api.post("/quality-moves", json=half)).status_code == 201
    listed = (await api.get("/quality-stock", params={"node_code": node})).json()
    assert [(x["state"], x["qty"]) for x in listed["items"]] == [("defective", 1), ("quarantined", 2)]

    # beyond what is available: 409 with the numbers, nothing recorded
    await handle(db, requested(uid("R"), uid("O"), node, {"A": 6}))
    too_much = await api.post("/quality-moves", json={**body, "move_id": uid("qm"), "qty": 2})
    assert too_much.status_code == 409 and too_much.json()["available"] == 1
    assert (await api.get("/quality-moves", params={"node_code": node})).json()["total"] == 2


def _wire(env: dict) -> bytes:
    return json.dumps({k: v for k, v in env.items() if k != "topic"}).encode()


async def test_a_count_sets_on_hand_and_records_the_variance(api, db):
    node = uid("WH")
    await stock_up(api, node, {"A": 10, "B": 4})
    body = {
        "count_id": uid("cnt"),
        "node_code": node,
        "note": "monthly",
        "lines": [
            {"material_code": "A", "counted": 8},
            {"material_code": "B", "counted": 4},
            {"material_code": "A", "counted": 2, "state": "defective"},
        ],
    }
    r = await api.post("/counts", json=body)
    assert r.status_code == 201, r.text
    got = [
        (x["material_code"], x["state"], x["expected"], x["counted"], x["variance"])
        for x in r.json()["lines"]
    ]
    assert got == [("A", "defective", 0, 2, 2), ("A", "good", 10, 8, -2), ("B", "good", 4, 4, 0)]
    assert (await api.post("/counts", json=body)).json()["lines"] == r.json()["lines"]
    assert (await api.get(f"/counts/{body['count_id']}")).json()["lines"] == r.json()["lines"]
    view = await states(api, node, "A")
    assert (view["on_hand"], view["defective"]) == (8, 2)
    assert await ledger(db, body["count_id"]) == [(node, "A", "count", -2, 8)], "B had no variance"
    assert (await outbox(db, "inventory.stock-changed", key=f"{node}:A"))[-1]["data"]["movement"] == "count"
    assert (await api.get("/counts", params={"node_code": node})).json()["total"] == 1

    rid = uid("R")
    await handle(db, requested(rid, uid("O"), node, {"B": 3}))
    short = await api.post(
        "/counts",
        json={
            "count_id": uid("cnt"),
            "node_code": node,
            "lines": [{"material_code": "A", "counted": 1}, {"material_code": "B", "counted": 2}],
        },
    )
    assert short.status_code == 409, short.text
    (line,) = short.json()["short"]
    assert (line["material_code"], line["missing"], line["reservations_at_risk"]) == ("B", 1, [rid])
    assert (await states(api, node, "A"))["on_hand"] == 8, "nothing half-applied"


async def test_a_transfer_ships_through_in_transit_and_a_short_receipt_records_the_loss(api, db):
    src, dst = uid("WH"), uid("STORE")
    await stock_up(api, src, {"A": 10, "B": 3})
    body = {
        "transfer_id": uid("tr"),
        "source_node": src,
        "target_node": dst,
        "note": "rebalance",
        "lines": [{"material_code": "A", "qty": 6}, {"material_code": "B", "qty": 3}],
    }
    tid = body["transfer_id"]
    created = await api.post("/transfers", json=body)
    assert created.status_code == 201 and created.json()["status"] == "created"
    assert (await api.post("/transfers", json=body)).status_code == 200

    shipped = await api.post(f"/transfers/{tid}/ship")
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    assert (await states(api, src, "A"))["on_hand"] == 4
    assert (await states(api, dst, "A"))["in_transit"] == 6
    assert (await api.get("/in-transit", params={"node_code": dst})).json()["total"] == 2
    assert (await api.post(f"/transfers/{tid}/cancel")).status_code == 409

    done = await api.post(
        f"/transfers/{tid}/receive",
        json={"lines": [{"material_code": "A", "received": 4}, {"material_code": "B", "received": 3}]},
    )
    assert done.status_code == 200, done.text
    assert [(x["material_code"], x["received"], x["lost"]) for x in done.json()["lines"]] == [
        ("A", 4, 2),
        ("B", 3, 0),
    ]
    target = await states(api, dst, "A")
    assert (target["on_hand"], target["available"], target["in_transit"]) == (4, 4, 0)
    assert (await states(api, dst, "B"))["on_hand"] == 3
    assert await ledger(db, tid) == [
        (src, "A", "transfer-out", -6, 4),
        (src, "B", "transfer-out", -3, 0),
        (dst, "A", "transfer-in", 6, 6),
        (dst, "A", "transfer-loss", -2, 4),
        (dst, "B", "transfer-in", 3, 3),
    ]
    last = (await outbox(db, "inventory.stock-changed", key=f"{dst}:A"))[-1]
    assert (last["event_version"], last["data"]["movement"], last["data"]["on_hand"]) == (
        3,
        "transfer-loss",
        4,
    )
    listed = (await api.get("/transfers", params={"node_code": dst, "status": "received"})).json()
    assert [t["transfer_id"] for t in listed["items"]] == [tid]


async def test_shipping_short_is_refused_with_the_numbers_and_moves_nothing(api, db):
    src, dst = uid("WH"), uid("STORE")
    await stock_up(api, src, {"A": 2, "B": 9})
    tid = uid("tr")
    body = {
        "transfer_id": tid,
        "source_node": src,
        "target_node": dst,
        "lines": [{"material_code": "A", "qty": 5}, {"material_code": "B", "qty": 1}],
    }
    assert (await api.post("/transfers", json=body)).status_code == 201
    r = await api.post(f"/transfers/{tid}/ship")
    assert r.status_code == 409 and r.json()["short"] == [
        {"material_code": "A", "requested": 5, "available": 2}
    ]
    assert (
        (await states(api, src, "B"))["on_hand"],
        (await api.get(f"/transfers/{tid}")).json()["status"],
    ) == (9, "created")
    assert await rows(db, "SELECT * FROM in_transit WHERE node_code = :n", n=dst) == []
    assert (await api.post(f"/transfers/{tid}/cancel")).json()["status"] == "cancelled"


async def test_bad_input_gets_a_422_listing_every_problem_and_nothing_is_applied(api, db):
    node = uid("WH")
    await stock_up(api, node, {"A": 5})
    bad_move = await api.post(
        "/quality-moves",
        json={
            "move_id": uid("qm"),
            "node_code": node,
            "material_code": "A",
            "qty": -1,
            "from_state": "broken",
            "to_state": "good",
            "reason": "",
        },
    )
    assert bad_move.status_code == 422
    assert {p["path"] for p in bad_move.json()["problems"]} == {"body.qty", "body.from_state", "body.reason"}
    same = await api.post(
        "/quality-moves",
        json={
            "move_id": uid("qm"),
            "node_code": node,
            "material_code": "A",
            "qty": 0,
            "from_state": "good",
            "to_state": "good",
            "reason": "x",
        },
    )
    assert {p["path"] for p in same.json()["problems"]} == {"body.qty", "body.to_state"}

    bad_transfer = await api.post(
        "/transfers",
        json={
            "transfer_id": uid("tr"),
            "source_node": node,
            "target_node": node,
            "lines": [{"material_code": "A", "qty": -2}, {"material_code": "A", "qty": 1}],
        },
    )
    assert bad_transfer.status_code == 422
    assert {p["path"] for p in bad_transfer.json()["problems"]} == {
        "body.target_node",
        "body.lines[0].qty",
        "body.lines[1].material_code",
    }

    bad_count = await api.post(
        "/counts",
        json={
            "count_id": uid("cnt"),
            "node_code": node,
            "lines": [
                {"material_code": "A", "counted": -1},
                {"material_code": "A", "counted": 3, "state": "lost"},
            ],
        },
    )
    assert bad_count.status_code == 422
    assert {p["path"] for p in bad_count.json()["problems"]} == {
        "body.lines[0].counted",
        "body.lines[1].state",
    }

    dst = uid("STORE")
    tid = uid("tr")
    await api.post(
        "/transfers",
        json={
            "transfer_id": tid,
            "source_node": node,
            "target_node": dst,
            "lines": [{"material_code": "A", "qty": 2}],
        },
    )
    await api.post(f"/transfers/{tid}/ship")
    too_many = await api.post(
        f"/transfers/{tid}/receive",
        json={"lines": [{"material_code": "A", "received": 3}, {"material_code": "Z", "received": 1}]},
    )
    assert too_many.status_code == 422, too_many.text
    assert {p["path"] for p in too_many.json()["problems"]} == {
        "body.lines[0].received",
        "body.lines[1].material_code",
    }
    assert (await states(api, dst, "A"))["in_transit"] == 2 and (await states(api, node, "A"))["on_hand"] == 3
    for table in ("quality_moves", "counts", "quality_stock"):
        assert await rows(db, f"SELECT * FROM {table}") == [], table
    assert (await api.post("/transfers/NOPE/ship")).status_code == 404
    assert (await api.get(f"/stock/{uid('WH')}/A/quality")).status_code == 404
