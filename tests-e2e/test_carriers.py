"""Carrier routing end to end: carriers as data through the gateway, the cheapest carrier within the promised
days chosen for an order's parcel (its task carries it) and shown in the order's decision trace with its
cost; the same carrier marked down, the next order gets the other one, and the trace says why."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import new_sku, send, sku_line, tid_of, trade, until, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
F = "/api/fulfillment"


def carrier(name: str, first_cents: int, days: int) -> dict:
    band = {"min_g": 0, "max_g": None, "first_g": 1000, "first_cents": first_cents, "step_g": 1000,
            "step_cents": 200}  # fmt: skip
    return {"name": name, "bands": [band], "default_sla_days": days}


async def _retire_every_carrier_and_pin(gw) -> None:
    """Only this test's carriers route (the API conformance run may have left some behind)."""
    for kind in ("carriers", "carrier-pins"):
        while True:
            r = await gw.get(f"{F}/{kind}", params={"active": "true", "limit": 200})
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            if not items:
                break
            for it in items:
                key = it.get("code") or it["rule_id"]
                assert (await gw.delete(f"{F}/{kind}/{key}")).status_code == 200


async def _carrier_rows(gw, oid: str) -> list[dict]:
    async def rows() -> list[dict]:
        r = await gw.get(f"/api/order/orders/{oid}/trace")
        assert r.status_code == 200, r.text
        found = [d for d in r.json()["decisions"] if d["stage"] == "carrier"]
        return found if len(found) >= 3 else []

    return await until(rows, f"the carrier choice of {oid} in its trace")


async def _allocated(gw, sku: dict) -> str:
    doc = trade([sku_line(sku, 2)], address=0)  # Hangzhou
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder", "held"})
    assert order["status"] == "allocated", (order["status"], order.get("status_reason"))
    return order["order_id"]


async def test_the_cheapest_carrier_within_the_promise_and_the_next_one_when_it_is_down(gw):
    await _retire_every_carrier_and_pin(gw)
    promise = (await gw.get(f"{F}/carrier-promise")).json()
    r = await gw.put(f"{F}/carrier-promise", json={"default_days": 3, "base_version": promise["version"]})
    assert r.status_code == 200, r.text
    tag = uuid.uuid4().hex[:6].upper()
    cheap, dear, slow = f"CHEAP-{tag}", f"DEAR-{tag}", f"SLOW-{tag}"
    for code, body in ((cheap, carrier("cheap", 500, 2)), (dear, carrier("dear", 1200, 1)),
                       (slow, carrier("slow", 300, 5))):  # fmt: skip
        assert (await gw.put(f"{F}/carriers/{code}", json=body)).status_code == 201
    try:
        sku = await new_sku(gw, {"WH-HZ": 10})
        oid = await _allocated(gw, sku)
        rows = {d["subject"].split(" (")[0]: d for d in await _carrier_rows(gw, oid)}
        chosen = rows[f"carrier {cheap}"]
        assert chosen["matched"] is True and chosen["effect"] == f"ships with {cheap} for ¥5.00, 2 days", (
            chosen
        )
        assert chosen["why"].startswith(f"{cheap}: the cheapest within the promised 3 days: ¥5.00, 2 days")
        assert rows[f"carrier {dear}"]["why"].startswith(f"lost: ¥7.00 dearer than {cheap}"), rows
        assert rows[f"carrier {slow}"]["why"].startswith("lost: over the promised 3 days (¥3.00, 5 days)"), (
            rows
        )
        tasks = (await gw.get(f"{F}/tasks", params={"order_id": oid})).json()["items"]
        assert [t["carrier"] for t in tasks] == [cheap], tasks

        r = await gw.put(
            f"{F}/carriers/{cheap}/health", json={"state": "down", "note": "sorting centre shut"}
        )
        assert r.status_code == 200 and r.json()["health"] == "down"
        oid2 = await _allocated(gw, sku)
        rows = {d["subject"].split(" (")[0]: d for d in await _carrier_rows(gw, oid2)}
        assert rows[f"carrier {dear}"]["matched"] is True, rows
        assert rows[f"carrier {dear}"]["effect"] == f"ships with {dear} for ¥12.00, 1 day"
        down = rows[f"carrier {cheap}"]
        assert (down["matched"], down["why"], down["effect"]) == (
            False,
            "down (sorting centre shut)",
            "unusable",
        )
        tasks = (await gw.get(f"{F}/tasks", params={"order_id": oid2})).json()["items"]
        assert [t["carrier"] for t in tasks] == [dear], tasks
    finally:
        for code in (cheap, dear, slow):
            await gw.delete(f"{F}/carriers/{code}")


FINANCE = {"X-API-Key": "dev-finance-key"}


async def test_finance_books_the_chosen_cost_of_a_shipped_parcel(gw):
    """Issue #11: the parcel's chosen carrier and cost reach finance; once the task ships (through
    fulfillment's REST route), a freight voucher Dr 660102 销售费用-运费 / Cr 2202 应付账款-承运商 for the
    chosen cost is under the order's vouchers and in its trial balance."""
    await _retire_every_carrier_and_pin(gw)
    promise = (await gw.get(f"{F}/carrier-promise")).json()
    r = await gw.put(f"{F}/carrier-promise", json={"default_days": 3, "base_version": promise["version"]})
    assert r.status_code == 200, r.text
    tag = uuid.uuid4().hex[:6].upper()
    cheap, dear = f"CHEAP-{tag}", f"DEAR-{tag}"
    for code, body in ((cheap, carrier("cheap", 500, 2)), (dear, carrier("dear", 1200, 1))):
        assert (await gw.put(f"{F}/carriers/{code}", json=body)).status_code == 201
    try:
        sku = await new_sku(gw, {"WH-HZ": 10})
        oid = await _allocated(gw, sku)

        async def carried() -> dict | None:
            tasks = (await gw.get(f"{F}/tasks", params={"order_id": oid})).json()["items"]
            return tasks[0] if len(tasks) == 1 and tasks[0]["carrier"] else None

        task = await until(carried, f"the carrier of {oid}'s task")
        assert task["carrier"] == cheap, task
        url = f"{F}/tasks/{task['task_id']}"
        r = await gw.post(f"{url}/accept", json={"staff_id": "e2e"})
        assert r.status_code == 200, r.text
        r = await gw.post(f"{url}/ship", json={"carrier": cheap, "tracking_no": f"CH{tag}01"})
        assert r.status_code == 200, r.text

        async def freight() -> list[dict]:
            r = await gw.get(
                f"/api/finance/orders/{oid}/vouchers", params={"kind": "freight"}, headers=FINANCE
            )
            return r.json()["items"] if r.status_code == 200 else []

        (voucher,) = await until(freight, f"finance's freight voucher of {oid}")
        lines = [(x["account_code"], x["debit_cents"], x["credit_cents"]) for x in voucher["lines"]]
        assert lines == [("660102", 500, 0), ("2202", 0, 500)], voucher  # ¥5.00, the trace's chosen cost
        assert f"carrier {cheap}" in voucher["summary"] and task["task_id"] in voucher["summary"], voucher
        r = await gw.get("/api/finance/trial-balance", params={"order_id": oid}, headers=FINANCE)
        tb = r.json()
        assert r.status_code == 200 and tb["balanced"] is True, tb
        moved = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
        assert (moved.get("660102"), moved.get("2202")) == (500, 500), moved
    finally:
        for code in (cheap, dear):
            await gw.delete(f"{F}/carriers/{code}")
