"""Async SQLAlchemy/sqlmodel engine on asyncpg, and the session factory every service uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .settings import asyncpg_url, plain_url


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def connect_args(url: str) -> dict[str, object]:
    """asyncpg arguments for a URL: no TLS to a server on this machine unless the URL asks for it.

    asyncpg's default (`prefer`) negotiates TLS whenever the server offers it, and Debian's PostgreSQL
    does: on loopback that encrypts nothing worth encrypting and cost a seventh of a service's CPU.
    """
    parts = urlsplit(plain_url(url))
    if parts.hostname in _LOOPBACK and "ssl" not in parts.query:
        return {"ssl": False}
    return {}


class Database:
    """One service's database: an engine, sessions, and the plain DSN for asyncpg (relay, LISTEN)."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = asyncpg_url(url)
        self.dsn = plain_url(url)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
            hide_parameters=True,  # error strings never carry bound values (a buyer's phone or address)
            connect_args=connect_args(url),
            # JSON columns through orjson (the stdlib encoder was a visible share of handler CPU)
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
