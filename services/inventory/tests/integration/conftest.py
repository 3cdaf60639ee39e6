"""Fixtures for the inventory's integration tests (real PostgreSQL, real Kafka)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from inventory_helpers import MIGRATIONS


@pytest.fixture
async def db(make_database):
    """A fresh database with the chassis tables and the inventory's own."""
    return await make_database("inventory", migrations=MIGRATIONS)
