"""An in-memory order repository with the methods of `store.Repository`, for use cases run against
`FakeUnitOfWork(FakeRepository())`. `begin/commit/rollback` snapshot and restore its state, so a use case
that fails leaves nothing half-applied (as the real transaction would)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from order_fakes_aftersales import FakeAfterSalesQueries
from order_fakes_backorders import FakeBackorderQueries
from order_fakes_credit import FakeCreditQueries
from order_fakes_gifts import FakeGiftQueries
from order_fakes_merge import FakeMergeQueries
from order_fakes_rules import FakeRuleQueries

from omni_chassis.uow import FakeUnitOfWork
from omni_contracts.bundles import Component
from omni_order.domain.intake import Catalog, Listing, Material, SalesProduct
from omni_order.store import SUMMARY_COLUMNS, newest

STATE = (
    "materials", "sales_products", "listings", "orders", "channel_line_rows", "lines", "allocation_rows",
    "shipments", "shipment_lines", "history",
)  # fmt: skip


class FakeRepository(
    FakeRuleQueries,
    FakeAfterSalesQueries,
    FakeBackorderQueries,
    FakeGiftQueries,
    FakeMergeQueries,
    FakeCreditQueries,
):
    def __init__(self) -> None:
        self.materials: dict[str, dict[str, Any]] = {}
        self.sales_products: dict[str, dict[str, Any]] = {}  # with their components
        self.listings: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.channel_line_rows: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.allocation_rows: list[dict[str, Any]] = []
        self.shipments: dict[tuple[str, str], dict[str, Any]] = {}
        self.shipment_lines: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self._snapshot: dict[str, Any] | None = None
        super().__init__()  # the mixins' own state (each Fake*Queries.__init__ calls super().__init__())

    # -- the unit of work's hooks --------------------------------------------------------------------------
    def _state(self) -> tuple[str, ...]:
        """STATE, and each mixin's own FAKE_STATE."""
        return STATE + tuple(k for c in type(self).__mro__ for k in c.__dict__.get("FAKE_STATE", ()))

    def begin(self) -> None:
        self._snapshot = copy.deepcopy({k: getattr(self, k) for k in self._state()})

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        if self._snapshot is not None:
            for k, v in self._snapshot.items():
                setattr(self, k, v)
        self._snapshot = None

    # -- catalog -----------------------------------------------------------------------------------------
    @staticmethod
    def _upsert(store: dict[str, dict[str, Any]], key: str, rows: list[dict[str, Any]]) -> list[str]:
        written = []
        for r in newest(rows, key):
            cur = store.get(r[key])
            if cur is None or cur["version"] < r["version"]:
                store[r[key]] = copy.deepcopy(r)
                written.append(r[key])
        return written

    async def upsert_materials(self, rows: list[dict[str, Any]]) -> list[str]:
        return self._upsert(self.materials, "code", rows)

    async def upsert_sales_products(self, rows: list[dict[str, Any]]) -> list[str]:
        return sorted(self._upsert(self.sales_products, "code", rows))

    async def upsert_listings(self, rows: list[dict[str, Any]]) -> list[str]:
        return self._upsert(self.listings, "listing_id", rows)

    async def load_catalog(
        self, shops: set[tuple[str, str]], item_ids: set[str], outer_ids: set[str]
    ) -> Catalog:
        found = [
            x for x in self.listings.values()
            if (x["channel"], x["shop_id"]) in shops
            and (x["channel_item_id"] in item_ids or x["outer_id"] in outer_ids)
        ]  # fmt: skip
        listings = [
            Listing(x["listing_id"], x["channel"], x["shop_id"], x["channel_item_id"], x["channel_sku_id"],
                    x["outer_id"], x["sales_product_code"], x["status"], x.get("price_cents", 0))
            for x in found
        ]  # fmt: skip
        products = [
            SalesProduct(p["code"], p["name"], p["active"],
                         tuple(Component(c["material_code"], c["qty"], c["price_weight"])
                               for c in p["components"]))
            for code in {x.sales_product_code for x in listings} if (p := self.sales_products.get(code))
        ]  # fmt: skip
        codes = {c.material_code for p in products for c in p.components}
        mats = [
            Material(m["code"], m["active"], m.get("category", ""), frozenset(m.get("tags", ())),
                     m.get("handling", "normal"), m.get("weight_g", 0), m.get("high_value", False),
                     m.get("tax_rate_bp", 1300))
            for code in codes if (m := self.materials.get(code))
        ]  # fmt: skip
        return Catalog(listings, products, mats)

    async def get_listing(self, listing_id: str) -> dict[str, Any] | None:
        row = self.listings.get(listing_id)
        return copy.deepcopy(row) if row else None

    async def get_material(self, code: str) -> dict[str, Any] | None:
        row = self.materials.get(code)
        return copy.deepcopy(row) if row else None

    # -- orders: writes ----------------------------------------------------------------------------------
    async def insert_new_orders(self, rows: list[dict[str, Any]]) -> set[str]:
        taken = {(o["channel"], o["channel_order_id"]) for o in self.orders.values()}
        new = set()
        for r in rows:
            if (r["channel"], r["channel_order_id"]) not in taken:
                taken.add((r["channel"], r["channel_order_id"]))
                self.orders[r["order_id"]] = copy.deepcopy(r)
                new.add(r["order_id"])
        return new

    async def count_duplicates(self, counts: dict[tuple[str, str], int], at: datetime) -> None:
        for o in self.orders.values():
            n = counts.get((o["channel"], o["channel_order_id"]))
            if n:
                o["duplicate_deliveries"] += n
                o["last_duplicate_at"] = at

    async def add_channel_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        self.channel_line_rows.extend(copy.deepcopy(list(rows)))

    async def add_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        ids = {x["line_id"] for x in self.lines}
        for r in rows:
            assert r["line_id"] not in ids, f"duplicate line {r['line_id']}"
        self.lines.extend(copy.deepcopy(list(rows)))

    async def add_history(self, rows: Sequence[dict[str, Any]]) -> None:
        self.history.extend(copy.deepcopy(list(rows)))

    async def set_channel_line_matches(
        self, order_id: str, matches: list[tuple[int, str | None, str | None]]
    ) -> None:
        by_pos = {p: (listing, code) for p, listing, code in matches}
        for x in self.channel_line_rows:
            if x["order_id"] == order_id and x["position"] in by_pos:
                x["listing_id"], x["sales_product_code"] = by_pos[x["position"]]

    async def update_orders(self, changes: dict[str, dict[str, Any]]) -> None:
        for order_id, cols in changes.items():
            self.orders[order_id].update(copy.deepcopy(cols))

    async def replace_allocations(self, order_ids: Iterable[str], rows: list[dict[str, Any]]) -> None:
        ids = set(order_ids)
        self.allocation_rows = [a for a in self.allocation_rows if a["order_id"] not in ids] + copy.deepcopy(
            rows
        )

    async def upsert_shipments(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            self.shipments[(r["order_id"], r["task_id"])] = copy.deepcopy(r)

    async def upsert_shipment_lines(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            assert (r["order_id"], r["task_id"]) in self.shipments, "a shipment line needs its shipment"
            self.shipment_lines[(r["order_id"], r["task_id"], r["line_id"])] = copy.deepcopy(r)

    # -- orders: reads -----------------------------------------------------------------------------------
    async def lock_orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        cols = ("order_id", "status", "channel", "channel_order_id", "delivery")
        return {i: {c: self.orders[i][c] for c in cols} for i in sorted(set(order_ids)) if i in self.orders}

    def _by_order(
        self, rows: Iterable[dict[str, Any]], order_ids: Iterable[str]
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in set(order_ids)}
        for r in rows:
            if r["order_id"] in out:
                out[r["order_id"]].append(copy.deepcopy(r))
        return out

    async def material_lines(self, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        return self._by_order(sorted(self.lines, key=lambda x: x["position"]), order_ids)

    async def allocations(self, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        return self._by_order(
            sorted(self.allocation_rows, key=lambda x: (x["task_id"], x["line_id"])), order_ids
        )

    async def channel_lines(self, order_id: str) -> list[dict[str, Any]]:
        rows = [copy.deepcopy(x) for x in self.channel_line_rows if x["order_id"] == order_id]
        return sorted(rows, key=lambda x: x["position"])

    async def shipped_tasks(self, order_ids: Iterable[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {i: set() for i in set(order_ids)}
        for oid, task in self.shipments:
            if oid in out:
                out[oid].add(task)
        return out

    async def get_order(self, order_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        row = self.orders.get(order_id)
        return copy.deepcopy(row) if row else None

    async def find_order_id(self, channel: str, channel_order_id: str) -> str | None:
        key = (channel, channel_order_id)
        found = [o["order_id"] for o in self.orders.values() if (o["channel"], o["channel_order_id"]) == key]
        return found[0] if found else None

    async def order_children(self, order_id: str) -> dict[str, list[dict[str, Any]]]:
        mine = lambda rows: [copy.deepcopy(r) for r in rows if r["order_id"] == order_id]  # noqa: E731
        return {
            "channel_lines": sorted(mine(self.channel_line_rows), key=lambda x: x["position"]),
            "lines": sorted(mine(self.lines), key=lambda x: x["position"]),
            "allocations": sorted(mine(self.allocation_rows), key=lambda x: (x["line_id"], x["task_id"])),
            "shipments": sorted(mine(self.shipments.values()), key=lambda x: (x["at"], x["task_id"])),
            "shipment_lines": sorted(
                mine(self.shipment_lines.values()), key=lambda x: (x["task_id"], x["line_id"])
            ),
            "history": mine(self.history),
        }

    async def list_orders(
        self, *, status: str | None, channel: str | None, shop_id: str | None, created_from: datetime | None,
        created_to: datetime | None, limit: int, offset: int,
    ) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
        found = [
            o for o in self.orders.values()
            if (not status or o["status"] == status) and (not channel or o["channel"] == channel)
            and (not shop_id or o["shop_id"] == shop_id)
            and (not created_from or o["created_at"] >= created_from)
            and (not created_to or o["created_at"] < created_to)
        ]  # fmt: skip
        found.sort(key=lambda o: (o["created_at"], o["order_id"]), reverse=True)
        return [{c: o[c] for c in SUMMARY_COLUMNS} for o in found[offset : offset + limit]], len(found)


def fake_uow() -> FakeUnitOfWork[Any]:
    return FakeUnitOfWork(FakeRepository())
