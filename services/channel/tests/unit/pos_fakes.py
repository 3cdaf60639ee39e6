"""An in-memory repository for the POS intake's use cases: the channel fake plus the POS store configs, the
POS listings projection (newest version per listing wins) and the published-sale lookup."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from channel_fakes import FakeRepository


class FakePosRepository(FakeRepository):
    def __init__(self) -> None:
        super().__init__()
        self.pos_stores: dict[str, dict[str, Any]] = {}
        self.pos_listings: dict[str, dict[str, Any]] = {}

    def begin(self) -> None:
        super().begin()
        self._pos_snapshot = copy.deepcopy((self.pos_stores, self.pos_listings))

    def rollback(self) -> None:
        super().rollback()
        self.pos_stores, self.pos_listings = self._pos_snapshot

    async def upsert_pos_store(
        self, shop_id: str, node_code: str, payment_methods: dict[str, str], now: datetime
    ) -> dict[str, Any]:
        created = self.pos_stores.get(shop_id, {}).get("created_at", now)
        row = {"shop_id": shop_id, "node_code": node_code, "payment_methods": dict(payment_methods),
               "created_at": created, "updated_at": now}  # fmt: skip
        self.pos_stores[shop_id] = row
        return dict(row)

    async def get_pos_store(self, shop_id: str) -> dict[str, Any] | None:
        row = self.pos_stores.get(shop_id)
        return dict(row) if row else None

    async def upsert_pos_listings(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            old = self.pos_listings.get(r["listing_id"])
            if old is None or old["version"] < r["version"]:
                self.pos_listings[r["listing_id"]] = dict(r)

    async def pos_listings_of(self, shop_id: str, product_ids, codes):
        ids, outer = set(product_ids), set(codes)
        rows = [r for r in self.pos_listings.values() if r["shop_id"] == shop_id
                and (r["pos_product_id"] in ids or r["outer_id"] in outer)]  # fmt: skip
        return {r["pos_product_id"]: r for r in rows}, {r["outer_id"]: r for r in rows if r["outer_id"]}

    async def pos_sale_seen(self, channel_order_id: str) -> bool:
        return any(
            k[0] == "pos" and k[1] == channel_order_id and r["outcome"] == "published"
            for k, r in self.receipts.items()
        )


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(orders: list[dict[str, Any]]) -> bytes:
    return json.dumps(orders, ensure_ascii=False).encode()
