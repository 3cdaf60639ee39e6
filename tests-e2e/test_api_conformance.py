"""The API answers every request as documented: schemathesis against the e2e gateway's merged OpenAPI.

Runs the schemathesis CLI (every phase: examples, coverage, fuzzing, stateful) with `--checks all` and an
admin key, deterministic (`--seed`, `--generation-deterministic`), bounded (`--max-examples`, `--max-time`).
It fails on any 5xx, any response that does not match its documented schema or content type, any status
the document does not list, valid data refused or invalid data accepted. Its summary line is printed.

Exclusions (kept small):
- `POST /channels/{platform}/orders` and `/api/channel/channels/{platform}/orders`: the Tmall webhook,
  whose body is covered by a signature over the raw bytes: generated bodies can only be refused with 401
  (its signature and problem answers are tested in the channel service and in test_platform.py).
- State-changing routes all run (on random ids, and on ids learnt from responses in the stateful phase);
  afterwards the seed is applied again (idempotent PUTs), so the shared e2e data is as seeded.
- `schemathesis.toml` beside this file: the few operations whose bodies obey rules JSON Schema cannot
  state (ids equal in path and body, references to existing products) may answer a schema-valid body with
  their documented 422; every other check applies to them.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from omni_fulfillment.domain.reject_reasons import SEEDED as SEEDED_REASONS
from omni_tools.seed import seed

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SEED = 20240501
MAX_EXAMPLES = int(os.environ.get("OMNI_SCHEMATHESIS_MAX_EXAMPLES", "8"))
MAX_TIME_S = int(os.environ.get("OMNI_SCHEMATHESIS_MAX_TIME_S", "150"))
EXCLUDE_PATH_REGEX = r"^(/api/channel)?/channels/[^/]+/orders$"


def test_docs_are_served_without_a_cdn(e2e_stack):
    gateway = str(e2e_stack["gateway"])
    with httpx.Client(base_url=gateway, timeout=10) as c:
        page = c.get("/docs")
        assert page.status_code == 200 and "swagger-ui" in page.text
        assert "http://" not in page.text and "https://" not in page.text, "a URL outside the gateway"
        assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", page.text)
        assert {a.rsplit(".", 1)[-1] for a in assets} >= {"js", "css"}, assets
        for a in assets:
            r = c.get(a)
            assert r.status_code == 200, a
            kind = a.rsplit(".", 1)[-1]
            expected = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[kind]
            assert r.headers["content-type"].startswith(expected), (a, r.headers["content-type"])
        assert c.get("/openapi.json").json()["info"]["x-unavailable"] == []


async def _reseed(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway, headers={"X-API-Key": "dev-admin-key"}, timeout=30) as c:
        await seed(c)  # idempotent PUTs: what the run replaced is put back
        await _undo_order_rules(c)
        await _undo_store_task_settings(c)


async def _undo_store_task_settings(c: httpx.AsyncClient) -> None:
    """The run saved random SLA policies (one on every node and channel would reassign every task in
    seconds), paused nodes, and edited or deleted reject reasons: the policies and pauses go, the seeded
    reasons are put back as the migration made them."""
    for p in (await c.get("/api/fulfillment/sla-policies")).json():
        url = f"/api/fulfillment/sla-policies/{quote(p['node_code'], safe='')}/{quote(p['channel'], safe='')}"
        assert (await c.delete(url)).status_code in (204, 404)
    for p in (await c.get("/api/fulfillment/node-pauses")).json():
        gone = await c.delete(f"/api/fulfillment/node-pauses/{quote(p['node_code'], safe='')}")
        assert gone.status_code in (204, 404)
    for r in SEEDED_REASONS:
        body = {"label": r.label, "zero_stock": r.zero_stock, "request_count": r.request_count,
                "pause_minutes": r.pause_minutes, "next": r.next.value, "active": True}  # fmt: skip
        put = await c.put(f"/api/fulfillment/reject-reasons/{r.code}", json=body)
        assert put.status_code in (200, 201), put.text


async def _undo_order_rules(c: httpx.AsyncClient) -> None:
    """The run saved random strategies (one may hold every order for manual review or a merge window) and
    blacklisted random buyers: disable each strategy (a new version, history kept) and empty the blacklist,
    so the tests after this one see the stack's own rules only."""
    offset = 0
    while True:
        page = (await c.get("/api/order/strategies", params={"limit": 200, "offset": offset})).json()
        for x in page["items"]:
            if x["doc"]["enabled"]:
                put = await c.put(f"/api/order/strategies/{x['id']}", json={**x["doc"], "enabled": False},
                                  params={"comment": "disabled after the conformance run"})  # fmt: skip
                assert put.status_code == 200, put.text
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    while items := (await c.get("/api/order/buyer-blacklist", params={"limit": 200})).json()["items"]:
        for x in items:
            r = await c.delete(f"/api/order/buyer-blacklist/{quote(x['buyer_key'], safe='')}")
            assert r.status_code == 204, r.text


def test_schemathesis_finds_nothing(e2e_stack, tmp_path):
    gateway = str(e2e_stack["gateway"])
    cmd = [
        str(ROOT / ".venv/bin/schemathesis"),
        "--config-file",
        str(Path(__file__).parent / "schemathesis.toml"),
        "run",
        f"{gateway}/openapi.json",
        "--url",
        gateway,
        "--checks",
        "all",
        "--header",
        "X-API-Key: dev-admin-key",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME_S),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--workers",
        "1",  # CPython 3.11's compile() is not thread-safe ("AST constructor recursion depth mismatch")
        "--request-timeout",
        "10",
        "--exclude-path-regex",
        EXCLUDE_PATH_REGEX,
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1", "COLUMNS": "160"}
    try:
        result = subprocess.run(
            cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=MAX_TIME_S + 240
        )
    finally:
        asyncio.run(_reseed(gateway))  # stateful runs may have replaced seeded shops, products or nodes
    out = result.stdout + result.stderr
    (ROOT / ".data" / "e2e").mkdir(parents=True, exist_ok=True)
    (ROOT / ".data" / "e2e" / "schemathesis.txt").write_text(out)
    lines = [line.strip() for line in out.splitlines()]
    cases = next((lines[i + 1] for i, line in enumerate(lines[:-1]) if line == "Test cases:"), "")
    final = next((line.strip("= ") for line in reversed(lines) if line.startswith("====")), "")
    print(f"schemathesis summary: {cases}; {final}", file=sys.stderr)
    assert result.returncode == 0, out[-20000:]
