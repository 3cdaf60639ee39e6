"""Freezes through the REST API on the real PostgreSQL: held back, refused with numbers, released, listed,
and the stock-changed v2 events they publish."""

from __future__ import annotations

import pytest
from inventory_helpers import handle, outbox, requested, rows, uid

pytestmark = pytest.mark.integration


async def stock_up(api, node: str, qty: int) -> None:
    body = {"receipt_id": uid("rcpt"), "node_code": node, "lines": [{"material_code": "A", "qty": qty}]}
    assert (await api.post("/receipts", json=body)).status_code == 201


async def test_a_freeze_holds_stock_back_until_released(api, db):
    node = uid("WH")
    await stock_up(api, node, 10)
    body = {
        "freeze_id": uid("frz"),
        "node_code": node,
        "material_code": "A",
        "qty": 4,
        "reason": "quality hold",
    }
    r = await api.post("/freezes", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["active"], r.json()["stock_after"]["frozen"], r.json()["stock_after"]["available"]) == (
        True, 4, 6
    )  # fmt: skip
    assert (await api.post("/freezes", json=body)).status_code == 200  # the same request again
    stock = (await api.get(f"/stock/{node}/A")).json()
    assert (stock["frozen"], stock["available"]) == (4, 6)

    # a reservation cannot take it
    await handle(db, requested(uid("R"), uid("O"), node, {"A": 7}))
    assert (await api.get(f"/stock/{node}/A")).json()["reserved"] == 0

    listed = (await api.get("/freezes", params={"node_code": node, "active": "true"})).json()
    assert listed["total"] == 1 and listed["items"][0]["freeze_id"] == body["freeze_id"]

    back = await api.post(f"/freezes/{body['freeze_id']}/release", json={"reason": "checked: good"})
    assert back.status_code == 200 and back.json()["active"] is False
    assert back.json()["stock_after"]["available"] == 10
    assert (await api.get("/freezes", params={"node_code": node, "active": "true"})).json()["total"] == 0

    events = await outbox(db, "inventory.stock-changed", key=f"{node}:A")
    assert [(e["event_version"], e["data"]["movement"], e["data"]["frozen"]) for e in events[-2:]] == [
        (3, "freeze", 4), (3, "unfreeze", 0)
    ]  # fmt: skip
    kinds = [
        r.kind for r in await rows(db, "SELECT kind FROM movements WHERE node_code = :n ORDER BY id", n=node)
    ]
    assert kinds == ["receipt", "freeze", "unfreeze"]


async def test_bad_freezes_get_a_clear_answer_and_nothing_is_half_applied(api, db):
    node = uid("WH")
    await stock_up(api, node, 3)
    base = {"freeze_id": uid("frz"), "node_code": node, "material_code": "A", "qty": 5, "reason": "dispute"}
    too_much = await api.post("/freezes", json=base)
    assert too_much.status_code == 409
    assert too_much.json()["available"] == 3 and "only 3 available" in too_much.json()["detail"]
    assert await rows(db, "SELECT * FROM freezes") == []

    bad = await api.post("/freezes", json={**base, "qty": 0, "reason": "", "extra": 1})
    assert bad.status_code == 422
    assert {p["path"] for p in bad.json()["problems"]} >= {"body.qty", "body.reason", "body.extra"}

    ok = await api.post("/freezes", json={**base, "qty": 1})
    clash = await api.post("/freezes", json={**base, "qty": 2})
    assert ok.status_code == 201 and clash.status_code == 409 and "new freeze id" in clash.json()["detail"]
    assert (await api.post("/freezes/NOPE/release", json={"reason": "x"})).status_code == 404
    assert (await api.get("/freezes/NOPE")).status_code == 404
