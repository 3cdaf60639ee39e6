"""`make demo`'s channels act against the e2e stack: an order from each of JD, Pinduoduo, Douyin,
Xiaohongshu and Youzan pushed, and from JD and Pinduoduo pulled, each reaches `allocated`; a till sale at
STORE-SH-01 takes its stock and is booked."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from helpers import demo_poll

from omni_tools.demo_channels import channels_act

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_the_demo_shows_an_allocated_order_from_every_platform(e2e_stack):
    headers = {"X-API-Key": "dev-admin-key"}
    async with httpx.AsyncClient(base_url=e2e_stack["gateway"], headers=headers, timeout=30) as gw:
        table = await channels_act(gw, e2e_stack["sim"], demo_poll)
    rows = list(zip(*(c.cells for c in table.columns), strict=True))
    assert sorted({r[0] for r in rows}) == [
        "Douyin",
        "JD",
        "POS (Odoo)",
        "Pinduoduo",
        "Xiaohongshu",
        "Youzan",
    ]
    assert [r[2] for r in rows].count("pulled: order search") == 2
    assert {r[3] for r in rows[:-1]} == {"allocated"} and all(r[5] for r in rows)
    assert rows[-1][2].startswith("till sale: STORE-SH-01") and rows[-1][3] == "booked"
