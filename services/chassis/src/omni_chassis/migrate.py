"""Alembic, shared: the chassis's tables first (version table `alembic_version_chassis`), then the service's.

A service's `migrations/env.py` is two lines: import its metadata and call `run_env(metadata)`.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from .settings import asyncpg_url, plain_url

CHASSIS_MIGRATIONS = Path(__file__).parent / "migrations"
CHASSIS_VERSION_TABLE = "alembic_version_chassis"


def run_env(target_metadata: MetaData) -> None:
    """Body of every env.py: run the migrations online over asyncpg (or offline, as SQL)."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    version_table = config.get_main_option("version_table") or "alembic_version"
    opts = {"target_metadata": target_metadata, "version_table": version_table, "compare_type": True}
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _run(conn: object) -> None:
        context.configure(connection=conn, **opts)
        with context.begin_transaction():
            context.run_migrations()

    async def _main() -> None:
        engine = create_async_engine(asyncpg_url(url), poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
        await engine.dispose()

    asyncio.run(_main())


def _config(url: str, script_location: Path, version_table: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", asyncpg_url(url).replace("%", "%%"))
    cfg.set_main_option("version_table", version_table)
    return cfg


def service_migrations(service: str) -> Path:
    """The migrations folder of the installed package `omni_<service>` (found without importing it)."""
    spec = importlib.util.find_spec(f"omni_{service.replace('-', '_')}")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"no installed package omni_{service}")
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


async def ensure_database(url: str) -> bool:
    """Create the database `url` names when it does not exist yet. True when created."""
    dsn = plain_url(url)
    base, _, name = dsn.rpartition("/")
    name = name.split("?")[0]
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    except asyncpg.DuplicateDatabaseError:
        return False
    finally:
        await conn.close()


def upgrade(url: str, script_location: Path | None = None, version_table: str = "alembic_version") -> None:
    """Chassis tables, then (when given) the service's own migrations, to head. Synchronous."""
    command.upgrade(_config(url, CHASSIS_MIGRATIONS, CHASSIS_VERSION_TABLE), "head")
    if script_location is not None:
        command.upgrade(_config(url, script_location, version_table), "head")
