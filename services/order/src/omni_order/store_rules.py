"""The repository's queries for rule sets, strategies (versioned), order holds and the decision trace
(a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


class RuleQueries:
    session: AsyncSession
