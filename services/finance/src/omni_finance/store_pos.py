"""The store sales' SQL (part of the repository, see store.py): which of these vouchers are already posted."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.vouchers import Voucher
from .tables import vouchers


class StoreSaleQueries:
    session: AsyncSession

    async def posted_vouchers(self, ids: Collection[UUID]) -> set[UUID]:
        if not ids:
            return set()
        rows = await self.session.execute(
            select(vouchers.c.voucher_id).where(vouchers.c.voucher_id.in_(list(ids)))
        )
        return {r[0] for r in rows}

    async def add_vouchers(self, posted: list[Voucher]) -> None:
        """Vouchers and their lines (the repository's own two statements)."""
        await self._insert_vouchers(posted)  # type: ignore[attr-defined]
