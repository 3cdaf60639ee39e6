"""The fake repository's merge queries (a mixin of order_fakes.FakeRepository)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any


class FakeMergeQueries:
    orders: dict[str, dict[str, Any]]
    materials: dict[str, dict[str, Any]]

    def _oldest_first(self, pick: Any) -> list[dict[str, Any]]:
        rows = [copy.deepcopy(o) for o in self.orders.values() if pick(o)]
        return sorted(rows, key=lambda o: (o["created_at"], o["order_id"]))

    async def waiting_to_merge(self, group: str) -> list[dict[str, Any]]:
        return self._oldest_first(lambda o: o.get("merge_group") == group and o["status"] == "held")

    async def merged_sources(self, merged_id: str) -> list[dict[str, Any]]:
        return self._oldest_first(lambda o: o.get("merged_into") == merged_id)

    async def receivers_after(self, after: str | None, limit: int) -> list[dict[str, Any]]:
        cols = ("order_id", "receiver_name", "receiver_phone", "address_detail")
        ids = sorted(i for i in self.orders if after is None or i > after)[:limit]
        return [{c: self.orders[i][c] for c in cols} for i in ids]

    async def material_weights(self, codes: Iterable[str]) -> dict[str, int]:
        return {c: self.materials[c].get("weight_g", 0) for c in set(codes) if c in self.materials}
