"""The hand-written migrations create exactly the tables, columns, indexes and constraints of tables.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import omni_channel
from omni_channel.store import metadata

pytestmark = pytest.mark.integration

MIGRATIONS = Path(omni_channel.__file__).parent / "migrations"
CHASSIS_TABLES = {"outbox", "inbox", "parked", "timers", "alembic_version", "alembic_version_chassis"}


async def test_migrations_match_the_store_metadata(make_database):
    db = await make_database("channel_mig", migrations=MIGRATIONS)

    def diff(conn):
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_name": lambda name, kind, _p: name not in CHASSIS_TABLES},
        )
        return compare_metadata(ctx, metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
