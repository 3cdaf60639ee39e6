"""The accept SLA of a store's task, durable (issue #11): two stores of this test, the nearer one with a
shortened accept SLA (an SLA policy through REST). Its task is not accepted; fulfillment is stopped before
the SLA's due time and started again after it: the timer fires in the new process, the task is reassigned,
and the order moves to the other store (its trace says why the first was kept out)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from datetime import datetime

import pytest
from helpers import new_sku, send, sku_line, tasks_of, tid_of, trade, until, wait_status

from omni_chassis.testing import repo_root

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SHANGHAI = (31.229, 121.455)
SLA_S = 20


def services_sh(env: dict[str, str], *args: str) -> None:
    r = subprocess.run([str(repo_root() / "deploy/local/services.sh"), *args], env=env, cwd=repo_root(),
                       capture_output=True, text=True, timeout=180)  # fmt: skip
    assert r.returncode == 0, f"services.sh {' '.join(args)}: {r.stdout[-2000:]} {r.stderr[-2000:]}"


async def store(gw, code: str, km: float) -> None:
    body = {"name": f"e2e store {code}", "type": "store", "city": "上海", "lat": SHANGHAI[0] + km / 111.2,
            "lng": SHANGHAI[1], "priority": 0}  # fmt: skip
    r = await gw.put(f"/api/fulfillment/nodes/{code}", json=body)
    assert r.status_code in (200, 201), r.text


async def test_a_task_not_accepted_within_its_sla_moves_to_another_store_across_a_restart(gw, e2e_stack):
    tag = uuid.uuid4().hex[:6].upper()
    near, far = f"E2E-ST-{tag}-A", f"E2E-ST-{tag}-B"
    await store(gw, near, 1)
    await store(gw, far, 4)
    r = await gw.put(f"/api/fulfillment/sla-policies/{near}/*", json={"accept_s": SLA_S})
    assert r.status_code == 201, r.text
    sku = await new_sku(gw, {near: 2, far: 2})
    doc = trade([sku_line(sku, 1)], address=1)
    assert (await send(gw, doc)).status_code == 202
    order = await wait_status(gw, tid_of(doc), {"allocated", "exception", "backorder"})
    assert order["status"] == "allocated", order.get("status_reason")
    oid = order["order_id"]
    (task,) = await tasks_of(gw, oid)
    assert (task["node_code"], task["status"], task["sla"]["kind"]) == (near, "assigned", "accept")
    due = datetime.fromisoformat(task["sla"]["due_at"])
    env = dict(e2e_stack["env"])  # type: ignore[arg-type]

    services_sh(env, "stop", "fulfillment")  # down before the SLA's due time
    try:
        left = (due - datetime.now(due.tzinfo)).total_seconds()
        assert left > 0, "the service was stopped after the due time: shorten the stop or lengthen SLA_S"
        await asyncio.sleep(left + 1)  # nobody is there to fire the timer while it passes
    finally:
        services_sh(env, "start", "fulfillment")

    async def moved():
        found = {t["node_code"]: t for t in await tasks_of(gw, oid)}
        return found if found.get(near, {}).get("status") == "reassigned" and far in found else None

    found = await until(moved, f"the task of {oid} to move from {near} to {far}", timeout=60)
    assert found[near]["status_reason"] == f"node {near} did not accept the task within {SLA_S} s"
    assert found[far]["status"] == "assigned"

    async def traced():
        r = await gw.get(f"/api/order/orders/{oid}/trace")
        rows = {d["subject"]: d for d in r.json()["decisions"] if d["stage"] == "sourcing"}
        return rows if f"node {near} (attempt 2)" in rows else None

    rows = await until(traced, "the reassignment in the order's trace")
    assert rows[f"node {near} (attempt 2)"]["effect"] == "excluded"
    assert "did not accept the task within" in rows[f"node {near} (attempt 2)"]["why"]
    assert rows[f"node {far} (attempt 2)"]["matched"] is True
    assert (await wait_status(gw, tid_of(doc), {"allocated"}))["status"] == "allocated"
