"""The partial intercepts' SQL (part of the repository, see store.py): a reservation locked while some of its
units are given back, the lines of it already handled, the new ones recorded, and its lines (and status)
written back. See service/intercepts.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.model import Line, ReservationStatus
from .records import ReservationRow, lines_json, reservation_of
from .tables import reservations
from .tables_intercepts import intercept_lines


class InterceptQueries:
    session: AsyncSession

    async def lock_reservation(self, reservation_id: str) -> ReservationRow | None:
        """The reservation, locked (FOR UPDATE) for the rest of the transaction."""
        q = select(reservations).where(reservations.c.reservation_id == reservation_id).with_for_update()
        row = (await self.session.execute(q)).first()
        return reservation_of(row) if row else None

    async def intercepted_lines(self, reservation_id: str) -> set[tuple[str, str]]:
        """(case_id, line_id) of every intercept line already applied to the reservation."""
        c = intercept_lines.c
        found = await self.session.execute(
            select(c.case_id, c.line_id).where(c.reservation_id == reservation_id)
        )
        return {(r.case_id, r.line_id) for r in found}

    async def add_intercept_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            c = intercept_lines.c
            stmt = insert(intercept_lines).values(list(rows))
            await self.session.execute(
                stmt.on_conflict_do_nothing(index_elements=[c.case_id, c.reservation_id, c.line_id])
            )

    async def set_reservation_lines(
        self, reservation_id: str, lines: Sequence[Line], status: ReservationStatus, at: datetime
    ) -> None:
        """What a reserved reservation still holds (its lines), or released whole (status released)."""
        await self.session.execute(
            reservations.update()
            .where(reservations.c.reservation_id == reservation_id)
            .values(lines=lines_json(lines), status=status.value, updated_at=at)
        )
