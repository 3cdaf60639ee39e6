"""The in-memory twin of `store_gifts.GiftQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from omni_order.store_gifts import EVERYONE


class FakeGiftQueries:
    FAKE_STATE: tuple[str, ...] = ("gift_grant_rows", "gift_counter_rows", "stock_seen_rows")
    orders: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.gift_grant_rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.gift_counter_rows: dict[tuple[str, str], int] = {}
        self.stock_seen_rows: dict[tuple[str, str], dict[str, Any]] = {}

    async def lock_gift_counters(
        self, keys: Iterable[tuple[str, str]], at: datetime
    ) -> dict[tuple[str, str], int]:
        out = {}
        for k in sorted(set(keys)):
            out[k] = self.gift_counter_rows.setdefault(k, 0)
        return out

    async def gift_counts(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {k: self.gift_counter_rows[k] for k in set(keys) if k in self.gift_counter_rows}

    async def add_gift_grants(self, rows: Sequence[dict[str, Any]], at: datetime) -> None:
        for r in rows:
            key = (r["order_id"], r["gift_id"])
            assert r["order_id"] in self.orders, "a grant needs its order"
            assert key not in self.gift_grant_rows, f"duplicate key {key} in gift_grants"
            self.gift_grant_rows[key] = copy.deepcopy(r)
            for scope in (r["buyer_key"], EVERYONE):
                k = (r["gift_id"], scope)
                self.gift_counter_rows[k] = self.gift_counter_rows.get(k, 0) + r["sets"]

    async def gift_grants_of(self, order_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for (o, _), r in sorted(self.gift_grant_rows.items()) if o == order_id]

    async def stock_available(self, materials: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for (m, _), r in self.stock_seen_rows.items():
            if m in set(materials):
                out[m] = out.get(m, 0) + max(r["available"], 0)
        return out

    async def save_stock_seen(self, rows: Sequence[dict[str, Any]]) -> None:
        keys = [(r["material_code"], r["node_code"]) for r in rows]
        assert len(keys) == len(set(keys)), "ON CONFLICT cannot affect a row twice in one statement"
        for r in rows:
            k = (r["material_code"], r["node_code"])
            if k not in self.stock_seen_rows or self.stock_seen_rows[k]["seq"] < r["seq"]:
                self.stock_seen_rows[k] = copy.deepcopy(r)
