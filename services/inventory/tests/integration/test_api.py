"""The REST API on the real PostgreSQL: receipts, adjustments (idempotent, refusals), queries."""

from __future__ import annotations

import pytest
from inventory_helpers import handle, outbox, requested, rows, uid

pytestmark = pytest.mark.integration


def receipt(node: str, lines: dict[str, int], receipt_id: str | None = None, note: str = "PO 42"):
    return {
        "receipt_id": receipt_id or uid("rcpt"),
        "node_code": node,
        "lines": [{"material_code": m, "qty": q} for m, q in lines.items()],
        "note": note,
    }


async def test_receipt_creates_stock_and_is_idempotent(api, db):
    node = uid("WH")
    body = receipt(node, {"B": 4, "A": 10})

    first = await api.post("/receipts", json=body)
    assert first.status_code == 201, first.text
    got = first.json()
    assert [(x["material_code"], x["qty"], x["on_hand"], x["available"], x["seq"]) for x in got["lines"]] == [
        ("A", 10, 10, 10, 1),
        ("B", 4, 4, 4, 1),
    ]

    again = await api.post("/receipts", json=body)
    assert again.status_code == 200
    assert again.json() == got, "the recorded result, not a second receipt"
    stock = (await api.get(f"/stock/{node}/A")).json()
    assert (stock["on_hand"], stock["seq"]) == (10, 1)
    assert len(await rows(db, "SELECT * FROM movements WHERE reference = :r", r=body["receipt_id"])) == 2

    conflict = await api.post("/receipts", json={**body, "lines": [{"material_code": "A", "qty": 11}]})
    assert conflict.status_code == 409
    expected = f"receipt {body['receipt_id']} was already recorded with other content"
    assert expected in conflict.json()["detail"]

    more = await api.post("/receipts", json=receipt(node, {"A": 5}))
    assert more.status_code == 201
    assert more.json()["lines"][0] | {} == {
        "material_code": "A",
        "qty": 5,
        "on_hand": 15,
        "reserved": 0,
        "frozen": 0,
        "available": 15,
        "seq": 2,
    }
    events = await outbox(db, "inventory.stock-changed", key=f"{node}:A")
    assert [(e["data"]["seq"], e["data"]["on_hand"], e["data"]["movement"]) for e in events] == [
        (1, 10, "receipt"),
        (2, 15, "receipt"),
    ]


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"material_code": "A", "qty": 0}]}, "qty"),
        ({"lines": [{"material_code": "A", "qty": 2.5}]}, "qty"),
        ({"node_code": ""}, "node_code"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_receipts_are_refused_with_what_is_wrong(api, db, change, expect):
    r = await api.post("/receipts", json={**receipt(uid("WH"), {"A": 1}), **change})
    assert r.status_code == 422
    assert expect in r.text
    assert await rows(db, "SELECT * FROM stock") == []


async def test_receipt_listing_a_material_twice_is_refused_whole(api, db):
    body = receipt(uid("WH"), {"A": 1})
    body["lines"] = [{"material_code": m, "qty": q} for m, q in (("A", 1), ("B", 1), ("A", 2))]
    r = await api.post("/receipts", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "material A appears on more than one line" and r.json()["status"] == 422
    assert await rows(db, "SELECT * FROM stock") == [] and await rows(db, "SELECT * FROM receipts") == []


async def test_adjustments_apply_idempotently_and_refuse_with_numbers(api, db):
    node, order = uid("WH"), uid("O")
    await api.post("/receipts", json=receipt(node, {"A": 10}))
    await handle(db, requested(uid("R"), order, node, {"A": 6}))  # available 4

    down = {
        "adjustment_id": uid("adj"),
        "node_code": node,
        "material_code": "A",
        "delta": -3,
        "reason": "damaged",
    }
    r = await api.post("/adjustments", json=down)
    assert r.status_code == 201, r.text
    after = r.json()["stock_after"]
    assert (after["on_hand"], after["reserved"], after["available"], after["seq"]) == (7, 6, 1, 3)
    again = await api.post("/adjustments", json=down)
    assert again.status_code == 200 and again.json() == r.json()
    assert (await api.get(f"/stock/{node}/A")).json()["on_hand"] == 7

    clash = await api.post("/adjustments", json={**down, "delta": -1})
    assert clash.status_code == 409 and "already recorded with other content" in clash.json()["detail"]

    too_much = {**down, "adjustment_id": uid("adj"), "delta": -2}
    refused = await api.post("/adjustments", json=too_much)
    assert refused.status_code == 409
    body = refused.json()
    numbers = tuple(body[k] for k in ("on_hand", "reserved", "frozen", "available", "delta"))
    assert numbers == (7, 6, 0, 1, -2)
    assert "on hand 7 would become 5, below reserved 6 + frozen 0" in body["detail"]
    recorded = await rows(
        db, "SELECT * FROM adjustments WHERE adjustment_id = :a", a=too_much["adjustment_id"]
    )
    assert recorded == [], "a refused adjustment leaves no record"

    unknown = {**down, "adjustment_id": uid("adj"), "material_code": "NOPE", "delta": -1}
    r = await api.post("/adjustments", json=unknown)
    assert r.status_code == 409 and "on hand 0 would become -1" in r.json()["detail"]

    found = {**down, "adjustment_id": uid("adj"), "material_code": "NEW", "delta": 2, "reason": "count"}
    r = await api.post("/adjustments", json=found)
    assert r.status_code == 201 and r.json()["stock_after"]["on_hand"] == 2

    zero = await api.post("/adjustments", json={**down, "adjustment_id": uid("adj"), "delta": 0})
    assert zero.status_code == 422 and zero.json()["detail"] == "delta must not be 0"

    ledger = (await api.get("/movements", params={"node_code": node, "kind": "adjustment"})).json()
    assert [(m["material_code"], m["delta_on_hand"]) for m in ledger["items"]] == [("NEW", 2), ("A", -3)]


async def test_queries_paginate_and_filter(api, db):
    node = uid("WH")
    await api.post("/receipts", json=receipt(node, {f"M{i:02d}": i + 1 for i in range(7)}))

    page = (await api.get("/stock", params={"node_code": node, "limit": 3, "offset": 3})).json()
    assert (page["total"], page["limit"], page["offset"], page["next_offset"]) == (7, 3, 3, 6)
    assert [x["material_code"] for x in page["items"]] == ["M03", "M04", "M05"]
    assert (await api.get("/stock", params={"limit": 201})).status_code == 422
    too_deep = await api.get("/stock", params={"offset": 2**63})
    assert too_deep.status_code == 422 and too_deep.json()["problems"][0]["path"] == "query.offset"
    assert (await api.get("/stock", params={"offset": -1})).status_code == 422
    one = (await api.get("/stock", params={"node_code": node, "material_code": "M06"})).json()
    assert one["total"] == 1 and one["items"][0]["on_hand"] == 7

    missing = await api.get(f"/stock/{node}/NOPE")
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"no stock of material NOPE at node {node}"
    assert missing.headers["content-type"] == "application/problem+json"

    order, r1, r2 = uid("O"), uid("R"), uid("R")
    await handle(db, requested(r1, order, node, {"M00": 1}), requested(r2, order, node, {"M01": 5}))
    moves = (await api.get("/movements", params={"node_code": node, "limit": 2})).json()
    assert moves["total"] == 8
    # Newest first: r1's reservation, then the receipt's last line; r2 was refused and moved nothing.
    newest = [(m["kind"], m["material_code"]) for m in moves["items"]]
    assert newest == [("reservation", "M00"), ("receipt", "M06")]
    assert moves["items"][0]["reference"] == r1
    by_ref = (await api.get("/movements", params={"reference": r1})).json()
    assert by_ref["total"] == 1 and by_ref["items"][0]["delta_reserved"] == 1

    res = (await api.get(f"/reservations/{r2}")).json()
    assert res["status"] == "refused"
    assert res["shortfall"] == [{"material_code": "M01", "requested": 5, "available": 2}]
    listed = (await api.get("/reservations", params={"order_id": order})).json()
    assert listed["total"] == 2 and {x["reservation_id"] for x in listed["items"]} == {r1, r2}
    held = (await api.get("/reservations", params={"order_id": order, "status": "reserved"})).json()
    assert [x["reservation_id"] for x in held["items"]] == [r1]
    assert (await api.get(f"/reservations/{uid('R')}")).status_code == 404
