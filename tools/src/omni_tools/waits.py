"""Waiting until the services' projections have caught up with what was seeded (events are asynchronous)."""

from __future__ import annotations

import asyncio
import time

import httpx

from .catalog import LISTINGS, STOCK


async def until(check, what: str, timeout: float = 60, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


async def wait_for_listing(client: httpx.AsyncClient, listing_id: str, timeout: float = 60) -> None:
    async def seen() -> bool:
        return (await client.get(f"/api/order/catalog/listings/{listing_id}")).status_code == 200

    await until(seen, f"the order service to learn listing {listing_id}", timeout)


async def wait_for_stock(
    client: httpx.AsyncClient, node: str, material: str, at_least: int, timeout: float = 60
) -> None:
    async def seen() -> bool:
        r = await client.get(f"/api/fulfillment/stock/{node}/{material}")
        return r.status_code == 200 and r.json()["available"] >= at_least

    await until(seen, f"fulfillment to see {at_least} of {material} at {node}", timeout)


async def wait_for_catalog(client: httpx.AsyncClient, timeout: float = 60) -> None:
    for listing in LISTINGS:
        await wait_for_listing(client, listing["listing_id"], timeout)
    for node, material, _ in STOCK:
        await wait_for_stock(client, node, material, 0, timeout)  # known there (orders may have used it up)
