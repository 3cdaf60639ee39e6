"""Sourcing in the decision trace, end to end: a fresh SKU stocked at WH-HZ and WH-BJ, an order shipping to
Hangzhou. Fulfillment chooses WH-HZ (the nearer, holding every line) and says why WH-BJ lost, as
fulfillment.sourcing-decided; the order service keeps one trace row per node: GET /orders/{id}/trace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import new_sku, send, sku_line, tid_of, trade, until, wait_status

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_the_trace_names_the_chosen_node_and_why_the_other_lost(gw):
    sku = await new_sku(gw, {"WH-HZ": 5, "WH-BJ": 5})
    doc = trade([sku_line(sku, 2)], address=0)  # Hangzhou
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder", "held"})
    assert order["status"] == "allocated", (order["status"], order.get("status_reason"))
    oid = order["order_id"]

    async def sourcing() -> list[dict]:
        r = await gw.get(f"/api/order/orders/{oid}/trace")
        assert r.status_code == 200, r.text
        rows = [d for d in r.json()["decisions"] if d["stage"] == "sourcing"]
        return rows if len(rows) >= 2 else []

    # the decision travels on its own event (same topic and group as the allocation): wait for its rows
    rows = await until(sourcing, f"the sourcing decisions of {oid} in its trace")
    by_subject = {d["subject"]: d for d in rows}
    chosen, lost = by_subject["node WH-HZ (attempt 1)"], by_subject["node WH-BJ (attempt 1)"]
    assert chosen["matched"] is True and chosen["effect"] == f"ships {sku['code']}×2", chosen
    assert chosen["why"].startswith("holds every line; "), chosen
    assert lost["matched"] is False and lost["effect"] == "lost", lost
    assert lost["why"].startswith("lost: ") and "farther than WH-HZ" in lost["why"], lost
    assert len(rows) == 2, rows
