"""The receivables' SQL (part of the repository, see store.py): the ledger of orders sold on account
(domain/credit.py), one row per order, written with the order's projection (the order's row is locked).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.credit import Receivable, ReceivableStatus
from .tables import receivables

if TYPE_CHECKING:
    from .store import Writes

_FIELDS = ("credit_account", "currency", "account_code", "amount_cents", "credited_cents", "paid_cents",
           "due_at", "sale_voucher_id", "payment_voucher_id", "payment_reference", "booked_at", "cleared_at",
           "cancelled_at")  # fmt: skip
_MOVING = ("credited_cents", "paid_cents", "status", "payment_voucher_id", "payment_reference", "cleared_at",
           "cancelled_at", "updated_at")  # fmt: skip


def _row(r: Receivable, now: datetime) -> dict[str, Any]:
    return {"order_id": r.order_id, **{k: getattr(r, k) for k in _FIELDS}, "status": r.status.value,
            "updated_at": now}  # fmt: skip


def receivable_of(row: Any) -> Receivable:
    m = row._mapping
    return Receivable(
        order_id=m["order_id"], status=ReceivableStatus(m["status"]), **{k: m[k] for k in _FIELDS}
    )


class ReceivableQueries:
    session: AsyncSession

    async def load_receivables(self, order_ids: Collection[str]) -> dict[str, Receivable]:
        if not order_ids:
            return {}
        rows = await self.session.execute(
            select(receivables).where(receivables.c.order_id.in_(sorted(set(order_ids))))
        )
        return {r.order_id: receivable_of(r) for r in rows}

    async def _drop_receivables(self, order_ids: Collection[str]) -> None:
        """Receivables of projections about to be written afresh (store_merge._drop_projections)."""
        if order_ids:
            await self.session.execute(
                delete(receivables).where(receivables.c.order_id.in_(sorted(order_ids)))
            )

    async def _save_receivables(self, w: Writes, now: datetime) -> None:
        new = [w.receivables[o] for o in sorted(w.new_receivables)]
        if new:
            await self.session.execute(insert(receivables), [_row(r, now) for r in new])
        changed = [w.receivables[o] for o in sorted(w.changed_receivables - w.new_receivables)]
        if changed:
            await self.session.execute(
                update(receivables)
                .where(receivables.c.order_id == bindparam("b_order_id"))
                .values(**{k: bindparam(k) for k in _MOVING}),
                [{"b_order_id": r.order_id, **{k: _row(r, now)[k] for k in _MOVING}} for r in changed],
            )

    async def list_receivables(
        self, *, credit_account: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Receivable], int]:
        """A page of receivables, the earliest due first (those without a due date last), and the total."""
        conds = []
        if credit_account is not None:
            conds.append(receivables.c.credit_account == credit_account)
        if status is not None:
            conds.append(receivables.c.status == status)
        total = (
            await self.session.execute(select(func.count()).select_from(receivables).where(*conds))
        ).scalar_one()
        rows = await self.session.execute(
            select(receivables)
            .where(*conds)
            .order_by(receivables.c.due_at.asc().nulls_last(), receivables.c.order_id)
            .limit(limit)
            .offset(offset)
        )
        return [receivable_of(r) for r in rows], total
