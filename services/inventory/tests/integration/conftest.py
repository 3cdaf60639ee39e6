"""Fixtures for the inventory's integration tests (real PostgreSQL, real Kafka)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from inventory_helpers import MIGRATIONS

from omni_inventory.app import Settings, build


@pytest.fixture
async def db(make_database):
    """A fresh database with the chassis tables and the inventory's own."""
    return await make_database("inventory", migrations=MIGRATIONS)


@pytest.fixture
async def api(db):
    """The inventory's REST API on that database (no consumers), through an in-process client."""
    app = build(Settings(service_database_url=db.url, consumers_enabled=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client
