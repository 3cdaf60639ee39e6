"""The repository's queries for backorders (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class BackorderQueries:
    session: AsyncSession
