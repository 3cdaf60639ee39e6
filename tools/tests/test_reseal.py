"""`omni-tools reseal-buyer-data` pages through POST /api/order/buyer-data/reseal until `next_after` is
null, passing each page's cursor to the next, and adds up what it did; a refusal stops it with the answer."""

from __future__ import annotations

import json

import httpx
import pytest
from rich.console import Console

from omni_tools.reseal import reseal_all


def order_service(pages: list[dict]) -> tuple[httpx.MockTransport, list[dict]]:
    seen: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/order/buyer-data/reseal" and request.headers["x-api-key"] == "k"
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=pages[len(seen) - 1])

    return httpx.MockTransport(answer), seen


async def test_it_follows_the_cursor_to_the_end_and_adds_up():
    transport, seen = order_service([
        {"scanned": 2, "resealed": 1, "key_id": "new", "next_after": "O2"},
        {"scanned": 1, "resealed": 1, "key_id": "new", "next_after": None},
    ])  # fmt: skip
    total = await reseal_all("http://gw", "k", page=2, after=None, console=Console(quiet=True),
                             transport=transport)  # fmt: skip
    assert seen == [{"limit": 2, "after": None}, {"limit": 2, "after": "O2"}]
    assert (total["scanned"], total["resealed"], total["key_id"]) == (3, 2, "new")


async def test_a_refusal_stops_it():
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"detail": "only an admin re-seals buyer data"})

    with pytest.raises(Exception, match="only an admin"):
        await reseal_all("http://gw", "k", page=2, after="O1", console=Console(quiet=True),
                         transport=httpx.MockTransport(refuse))  # fmt: skip
