"""The SQL of reservations with a time-to-live (part of the repository, see store.py; use cases in
service/holds.py). Each change is one conditional statement on the reservation row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.model import ReservationStatus
from .records import ReservationRow
from .tables import reservations

EXPIRED = "expired"  # the reason recorded on a reservation its TTL released


class HoldQueries:
    session: AsyncSession

    async def set_expiry(self, reservation_id: str, expires_at: datetime) -> None:
        await self.session.execute(
            reservations.update()
            .where(reservations.c.reservation_id == reservation_id)
            .values(expires_at=expires_at)
        )

    async def confirm_hold(self, reservation_id: str, at: datetime) -> ReservationRow | None:
        """Payment arrived: a still-reserved reservation loses its TTL (confirmed_at kept from the first
        confirmation). None when it is not (or no longer) reserved."""
        return await self._one(
            reservations.update()
            .where(
                reservations.c.reservation_id == reservation_id,
                reservations.c.status == ReservationStatus.RESERVED.value,
            )
            .values(
                expires_at=None, confirmed_at=func.coalesce(reservations.c.confirmed_at, at), updated_at=at
            )
        )

    async def expire_hold(self, reservation_id: str, at: datetime) -> ReservationRow | None:
        """reserved, unpaid, with a TTL -> released (reason `expired`). None: nothing to expire. (The timer
        says when: its due time is the TTL.)"""
        return await self._one(
            reservations.update()
            .where(
                reservations.c.reservation_id == reservation_id,
                reservations.c.status == ReservationStatus.RESERVED.value,
                reservations.c.confirmed_at.is_(None),
                reservations.c.expires_at.is_not(None),
            )
            .values(status=ReservationStatus.RELEASED.value, reason=EXPIRED, updated_at=at)
        )

    async def _one(self, stmt: Any) -> ReservationRow | None:
        from .store import _reservation  # the row mapping lives with the repository

        row = (await self.session.execute(stmt.returning(*reservations.c))).first()
        return _reservation(row) if row else None
