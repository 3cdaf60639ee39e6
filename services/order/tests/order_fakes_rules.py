"""The in-memory twin of `store_rules.RuleQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

OPEN = ("received", "held", "accepted", "sourcing", "allocated", "backorder")


class FakeRuleQueries:
    FAKE_STATE: tuple[str, ...] = ("docs", "doc_rows", "hold_rows", "decision_rows", "blacklist")
    orders: dict[str, dict[str, Any]]
    lines: list[dict[str, Any]]
    listings: dict[str, dict[str, Any]]
    materials: dict[str, dict[str, Any]]
    sales_products: dict[str, dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, id) -> head
        self.doc_rows: list[dict[str, Any]] = []  # every version
        self.hold_rows: list[dict[str, Any]] = []
        self.decision_rows: list[dict[str, Any]] = []
        self.blacklist: dict[str, dict[str, Any]] = {}

    async def save_version(
        self, kind: str, doc_id: str, name: str, doc: dict[str, Any], comment: str, at: datetime
    ) -> int:
        head = self.docs.get((kind, doc_id))
        if head is None:
            head = self.docs[(kind, doc_id)] = {"id": doc_id, "version": 0, "created_at": at}
        head.update(version=head["version"] + 1, name=name, updated_at=at)
        row = {"kind": kind, "id": doc_id, "version": head["version"], "doc": copy.deepcopy(doc)}
        self.doc_rows.append({**row, "comment": comment, "created_at": at})
        return head["version"]

    def _row(self, kind: str, doc_id: str, version: int) -> dict[str, Any] | None:
        return next(
            (r for r in self.doc_rows if (r["kind"], r["id"], r["version"]) == (kind, doc_id, version)), None
        )

    async def current_docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        want = set(ids) if ids is not None else None
        out = []
        for (k, i), head in sorted(self.docs.items()):
            if k == kind and (want is None or i in want):
                row = self._row(kind, i, head["version"])
                assert row is not None
                out.append({**head, "doc": copy.deepcopy(row["doc"]), "comment": row["comment"]})
        return out

    async def doc_page(self, kind: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        rows = await self.current_docs(kind)
        return rows[offset : offset + limit], len(rows)

    async def doc_versions(self, kind: str, doc_id: str) -> list[dict[str, Any]]:
        rows = [copy.deepcopy(r) for r in self.doc_rows if (r["kind"], r["id"]) == (kind, doc_id)]
        return sorted(rows, key=lambda r: -r["version"])

    async def doc_version(self, kind: str, doc_id: str, version: int) -> dict[str, Any] | None:
        row = self._row(kind, doc_id, version)
        return copy.deepcopy(row) if row else None

    async def known_shops(self) -> set[str]:
        rows = list(self.listings.values()) + list(self.orders.values())
        return {f"{x['channel']}:{x['shop_id']}" for x in rows}

    async def known_skus(self, codes: set[str]) -> set[str]:
        return {c for c in codes if c in self.materials or c in self.sales_products}

    async def known_categories(self) -> set[str]:
        return {m["category"] for m in self.materials.values() if m.get("category")}

    async def buyer_orders(
        self, buyers: set[tuple[str, str, str]], since: datetime
    ) -> tuple[dict[tuple[str, str, str], int], list[dict[str, Any]]]:
        counts: dict[tuple[str, str, str], int] = {}
        open_: list[dict[str, Any]] = []
        for o in self.orders.values():
            key = (o["channel"], o["shop_id"], o["buyer_id"])
            if key not in buyers:
                continue
            counts[key] = counts.get(key, 0) + 1
            goods = [f"{x['material_code']}×{x['qty']}" for x in self.lines if x["order_id"] == o["order_id"]]
            if o["status"] in OPEN and o["created_at"] >= since and goods:
                open_.append({"order_id": o["order_id"], "channel": o["channel"], "shop_id": o["shop_id"],
                              "buyer_id": o["buyer_id"], "goods": goods})  # fmt: skip
        return counts, open_

    async def blacklisted(self, keys: set[str]) -> set[str]:
        return keys & set(self.blacklist)

    async def put_blacklist(self, key: str, reason: str, at: datetime) -> dict[str, Any]:
        self.blacklist.setdefault(key, {"buyer_key": key, "added_at": at})["reason"] = reason
        return copy.deepcopy(self.blacklist[key])

    async def delete_blacklist(self, key: str) -> bool:
        return self.blacklist.pop(key, None) is not None

    async def blacklist_page(self, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        rows = [copy.deepcopy(v) for _, v in sorted(self.blacklist.items())]
        return rows[offset : offset + limit], len(rows)

    async def add_holds(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.hold_rows.append({"id": len(self.hold_rows) + 1, "ended_at": None, "ended_by": None,
                                   "end_reason": None, **copy.deepcopy(r)})  # fmt: skip

    async def open_holds(self, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        ids = list(order_ids)
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        for h in self.hold_rows:
            if h["order_id"] in out and h["ended_at"] is None:
                out[h["order_id"]].append(copy.deepcopy(h))
        return out

    async def holds(self, order_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(h) for h in self.hold_rows if h["order_id"] == order_id]

    async def end_holds(
        self, order_id: str, by: str, reason: str, at: datetime, codes: Sequence[str] | None = None
    ) -> None:
        for h in self.hold_rows:
            if h["order_id"] == order_id and h["ended_at"] is None and (codes is None or h["code"] in codes):
                h.update(ended_at=at, ended_by=by, end_reason=reason)

    async def add_decisions(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.decision_rows.append({"id": len(self.decision_rows) + 1, **copy.deepcopy(r)})

    async def decisions(self, order_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for r in self.decision_rows if r["order_id"] == order_id]

    async def recent_orders(
        self, limit: int, since: datetime | None, until: datetime | None
    ) -> list[dict[str, Any]]:
        rows = [
            o for o in self.orders.values()
            if (since is None or o["created_at"] >= since) and (until is None or o["created_at"] < until)
            and o.get("kind", "order") == "order"
        ]  # fmt: skip
        rows.sort(key=lambda o: (o["created_at"], o["order_id"]), reverse=True)
        return [copy.deepcopy(o) for o in rows[:limit]]

    async def statuses(self, order_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [{"order_id": i, "status": self.orders[i]["status"]} for i in order_ids if i in self.orders]

    async def orders_by_channel_keys(self, keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(o) for o in self.orders.values() if (o["channel"], o["channel_order_id"]) in keys
        ]
