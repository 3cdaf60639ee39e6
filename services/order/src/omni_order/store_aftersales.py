"""The repository's queries for after-sales cases (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class AfterSalesQueries:
    session: AsyncSession
