"""The in-memory twin of `store_backorders.BackorderQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any


class FakeBackorderQueries:
    FAKE_STATE: tuple[str, ...] = ("backorder_rows", "backorder_shortfalls")
    orders: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.backorder_rows: dict[str, dict[str, Any]] = {}
        self.backorder_shortfalls: dict[tuple[str, str], dict[str, Any]] = {}

    async def backorders_of(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {i: copy.deepcopy(self.backorder_rows[i]) for i in set(order_ids) if i in self.backorder_rows}

    async def orders_by_id(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {i: copy.deepcopy(self.orders[i]) for i in set(order_ids) if i in self.orders}

    async def save_backorders(
        self, rows: Sequence[dict[str, Any]], shortfalls: Sequence[dict[str, Any]]
    ) -> None:
        for r in rows:
            assert r["order_id"] in self.orders, "a backorder needs its order"
            before = self.backorder_rows.get(r["order_id"])
            self.backorder_rows[r["order_id"]] = copy.deepcopy(r) | (
                {"since": before["since"]} if before else {}
            )
        ids = {r["order_id"] for r in rows}
        self.backorder_shortfalls = {k: v for k, v in self.backorder_shortfalls.items() if k[0] not in ids}
        for s in shortfalls:
            self.backorder_shortfalls[(s["order_id"], s["material_code"])] = copy.deepcopy(s)

    def _waiting(self) -> list[dict[str, Any]]:
        rows = [
            b for b in self.backorder_rows.values() if self.orders[b["order_id"]]["status"] == "backorder"
        ]
        return sorted(rows, key=lambda b: (b["since"], b["order_id"]))

    async def waiting_for(self, material_code: str, limit: int) -> list[dict[str, Any]]:
        out = []
        for b in self._waiting():
            s = self.backorder_shortfalls.get((b["order_id"], material_code))
            if s is not None:
                o = self.orders[b["order_id"]]
                out.append({"order_id": b["order_id"], "missing": s["missing"], "delivery": o["delivery"],
                            "pickup_node": o["pickup_node"]})  # fmt: skip
        return out[:limit]

    async def update_backorders(self, changes: dict[str, dict[str, Any]]) -> None:
        for order_id, cols in changes.items():
            self.backorder_rows[order_id].update(copy.deepcopy(cols))

    async def list_backorders(
        self, *, material_code: str | None, channel: str | None, shop_id: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        found = []
        for b in self._waiting():
            o = self.orders[b["order_id"]]
            short = sorted(
                (copy.deepcopy(s) for k, s in self.backorder_shortfalls.items() if k[0] == b["order_id"]),
                key=lambda s: s["material_code"],
            )
            if material_code and material_code not in {s["material_code"] for s in short}:
                continue
            if (channel and o["channel"] != channel) or (shop_id and o["shop_id"] != shop_id):
                continue
            found.append(
                {k: o[k] for k in ("order_id", "channel", "shop_id", "channel_order_id", "status")}
                | {k: v for k, v in b.items() if k not in ("escalated_at", "escalation")}
                | {"shortfall": short}
            )
        return found[offset : offset + limit], len(found)
