"""The after-sales returns' SQL (part of the repository, see store.py): claiming the return lines a
`order.return-received` brings (one statement: the lines already applied are left out), and reading back
what was applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables_returns import return_lines


class ReturnQueries:
    session: AsyncSession

    async def claim_return_lines(self, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
        """Record the return lines not recorded yet; returns the (case_id, line_id) of those it recorded."""
        if not rows:
            return set()
        c = return_lines.c
        stmt = (
            insert(return_lines)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=[c.case_id, c.line_id])
            .returning(c.case_id, c.line_id)
        )
        return {(r.case_id, r.line_id) for r in await self.session.execute(stmt)}

    async def return_lines_of(self, case_id: str) -> list[dict[str, Any]]:
        """The lines of a case applied so far, in line order."""
        c = return_lines.c
        found = await self.session.execute(
            select(return_lines).where(c.case_id == case_id).order_by(c.line_id)
        )
        return [dict(r._mapping) for r in found]
