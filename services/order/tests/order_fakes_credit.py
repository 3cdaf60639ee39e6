"""The in-memory twin of `store_credit.CreditQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any


class FakeCreditQueries:
    FAKE_STATE: tuple[str, ...] = ("credit_account_rows", "credit_order_rows")
    orders: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.credit_account_rows: dict[str, int] = {}
        self.credit_order_rows: dict[str, dict[str, Any]] = {}

    async def lock_credit_accounts(self, accounts: Iterable[str], at: datetime) -> dict[str, int]:
        return {a: self.credit_account_rows.setdefault(a, 0) for a in sorted(set(accounts))}

    async def take_credit(self, rows: Sequence[dict[str, Any]], at: datetime) -> None:
        for r in rows:
            assert r["order_id"] in self.orders, "credit needs its order"
            assert r["order_id"] not in self.credit_order_rows, f"duplicate credit order {r['order_id']}"
            self.credit_order_rows[r["order_id"]] = copy.deepcopy(r) | {
                "status": "open", "closed_at": None, "reference": None,
            }  # fmt: skip
            a = r["account"]
            self.credit_account_rows[a] = self.credit_account_rows.get(a, 0) + r["amount_cents"]

    async def close_credit(
        self, order_ids: Iterable[str], status: str, at: datetime, reference: str | None = None
    ) -> list[dict[str, Any]]:
        closed = []
        for oid in sorted(set(order_ids)):
            r = self.credit_order_rows.get(oid)
            if r is None or r["status"] != "open":
                continue
            r.update(status=status, closed_at=at, reference=reference)
            self.credit_account_rows[r["account"]] -= r["amount_cents"]
            assert self.credit_account_rows[r["account"]] >= 0, "open credit below 0"
            closed.append(copy.deepcopy(r))
        return closed

    async def credit_order(self, order_id: str) -> dict[str, Any] | None:
        r = self.credit_order_rows.get(order_id)
        return copy.deepcopy(r) if r else None

    async def credit_accounts_page(
        self, account: str | None, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        out = []
        for a in sorted(self.credit_account_rows):
            if (account and a != account) or (after and a <= after):
                continue
            opened = [
                r for r in self.credit_order_rows.values() if r["account"] == a and r["status"] == "open"
            ]
            dues = [r["due_at"] for r in opened if r["due_at"]]
            out.append({"account": a, "open_cents": self.credit_account_rows[a], "updated_at": None,
                        "open_orders": len(opened), "next_due_at": min(dues) if dues else None})  # fmt: skip
        return out[:limit]

    async def count_credit_accounts(self, account: str | None) -> int:
        return sum(1 for a in self.credit_account_rows if not account or a == account)

    async def credit_orders_of(self, account: str, limit: int = 200) -> list[dict[str, Any]]:
        rows = [r for r in self.credit_order_rows.values() if r["account"] == account]
        return copy.deepcopy(sorted(rows, key=lambda r: r["taken_at"], reverse=True)[:limit])
