"""The repository's queries for B2B credit terms (a mixin of `store.Repository`; SQL only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .tables_credit import credit_accounts, credit_orders

A = credit_accounts.c
O = credit_orders.c  # noqa: E741


class CreditQueries:
    session: AsyncSession

    async def lock_credit_accounts(self, accounts: Iterable[str], at: datetime) -> dict[str, int]:
        """The open credit per account, each row made if missing and locked (FOR UPDATE, in key order)
        until the transaction ends."""
        wanted = sorted(set(accounts))
        if not wanted:
            return {}
        await self.session.execute(
            insert(credit_accounts)
            .values([{"account": a, "open_cents": 0, "updated_at": at} for a in wanted])
            .on_conflict_do_nothing()
        )
        res = await self.session.execute(
            select(A.account, A.open_cents).where(A.account.in_(wanted)).order_by(A.account).with_for_update()
        )
        return {r.account: r.open_cents for r in res}

    async def take_credit(self, rows: Sequence[dict[str, Any]], at: datetime) -> None:
        """Count orders against their accounts (each order once: a second take of the same order is a
        bug, and the primary key refuses it)."""
        if not rows:
            return
        await self.session.execute(insert(credit_orders), [r | {"status": "open"} for r in rows])
        await self._move(((r["account"], r["amount_cents"]) for r in rows), at)

    async def close_credit(
        self, order_ids: Iterable[str], status: str, at: datetime, reference: str | None = None
    ) -> list[dict[str, Any]]:
        """Open credit orders among `order_ids` become `status` (paid | cancelled) and leave their
        accounts' open credit; the rows closed (an order not open is left as it is)."""
        ids = sorted(set(order_ids))
        if not ids:
            return []
        res = await self.session.execute(
            update(credit_orders)
            .where(O.order_id.in_(ids), O.status == "open")
            .values(status=status, closed_at=at, reference=reference)
            .returning(*credit_orders.c)
        )
        closed = [dict(r) for r in res.mappings()]
        by: dict[str, int] = {}
        for r in closed:
            by[r["account"]] = by.get(r["account"], 0) + r["amount_cents"]
        for account, n in sorted(by.items()):  # an UPDATE: an upsert would check the negative row first
            await self.session.execute(
                update(credit_accounts)
                .where(A.account == account)
                .values(open_cents=A.open_cents - n, updated_at=at)
            )
        return closed

    async def _move(self, deltas: Iterable[tuple[str, int]], at: datetime) -> None:
        """Add to the accounts' open credit (made if missing)."""
        by: dict[str, int] = {}
        for account, n in deltas:
            by[account] = by.get(account, 0) + n
        if not by:
            return
        stmt = insert(credit_accounts).values(
            [{"account": a, "open_cents": n, "updated_at": at} for a, n in sorted(by.items())]
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[A.account],
                set_={"open_cents": A.open_cents + stmt.excluded.open_cents, "updated_at": at},
            )
        )

    async def credit_order(self, order_id: str) -> dict[str, Any] | None:
        row = (await self.session.execute(select(credit_orders).where(O.order_id == order_id))).mappings()
        first = row.first()
        return dict(first) if first else None

    async def credit_accounts_page(
        self, account: str | None, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """Accounts in key order after `after`, each with its open credit and its open orders' count."""
        opened = (
            select(O.account, func.count().label("open_orders"), func.min(O.due_at).label("next_due_at"))
            .where(O.status == "open")
            .group_by(O.account)
            .subquery()
        )
        q = (
            select(A.account, A.open_cents, A.updated_at, opened.c.open_orders, opened.c.next_due_at)
            .select_from(credit_accounts.outerjoin(opened, opened.c.account == A.account))
            .order_by(A.account)
            .limit(limit)
        )
        if account:
            q = q.where(A.account == account)
        if after:
            q = q.where(A.account > after)
        rows = (await self.session.execute(q)).mappings()
        return [dict(r) | {"open_orders": r.open_orders or 0} for r in rows]

    async def count_credit_accounts(self, account: str | None) -> int:
        q = select(func.count()).select_from(credit_accounts)
        if account:
            q = q.where(A.account == account)
        return (await self.session.execute(q)).scalar_one()

    async def credit_orders_of(self, account: str, limit: int = 200) -> list[dict[str, Any]]:
        q = select(credit_orders).where(O.account == account).order_by(O.taken_at.desc()).limit(limit)
        return [dict(r) for r in (await self.session.execute(q)).mappings()]
