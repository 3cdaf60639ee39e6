"""The store sales' queries on the in-memory repository (the SQL ones in store_pos.py, and the sales product
projection's `product_components`), and store-sale / till-return events to feed them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from inventory_fakes import FakeRepository

from omni_contracts import make_envelope
from omni_contracts.events.store_sales import (
    StoreReturnLine,
    StoreReturnRecordedV1,
    StoreSaleLine,
    StoreSaleRecordedV1,
)
from omni_inventory.records import StockRow

AT = datetime(2025, 6, 12, 2, 15, 30, tzinfo=UTC)


class FakeStoreSales(FakeRepository):
    _STATE = (*FakeRepository._STATE, "store_lines")

    def __init__(self) -> None:
        super().__init__()
        self.store_lines: dict[str, dict[str, Any]] = {}
        self.products: dict[str, list[tuple[str, int]]] = {}

    async def product_components(self, codes):
        return {c: (True, list(self.products[c])) for c in codes if c in self.products}

    async def store_lines_applied(self, refs) -> set[str]:
        return {r for r in refs if r in self.store_lines}

    async def take_for_store_sale(self, node: str, material: str, qty: int, at: datetime):
        row = self.stock.get((node, material))
        take = min(qty, max(row.available, 0)) if row else 0
        if row is None or take == 0:
            return None, 0
        return self._bump(row, at, on_hand=row.on_hand - take), take

    async def add_store_lines(self, rows) -> None:
        for r in rows:
            self.store_lines.setdefault(r["line_ref"], dict(r))

    def on_hand(self, node: str, material: str) -> StockRow | None:
        return self.stock.get((node, material))


def _line(line_id: str, product: str, qty: int, paid: int, cls: type = StoreSaleLine) -> Any:
    return cls(line_id=line_id, sales_product_code=product, pos_product_id=line_id, qty=qty,
               unit_price_cents=paid // qty, paid_cents=paid)  # fmt: skip


def sale(uid: str, lines: list[tuple[str, str, int, int]], node: str = "STORE-HZ"):
    data = StoreSaleRecordedV1(
        shop_id="HZ-01", node_code=node, sale_uid=uid, lines=[_line(*x) for x in lines],
        total_cents=sum(x[3] for x in lines), tax_cents=0, occurred_at=AT, received_at=AT,
    )  # fmt: skip
    return make_envelope(data, producer="channel", key=f"pos:HZ-01:{uid}")


def till_return(uid: str, lines: list[tuple[str, str, int, int]], node: str = "STORE-HZ"):
    data = StoreReturnRecordedV1(
        shop_id="HZ-01", node_code=node, sale_uid=uid, lines=[_line(*x, cls=StoreReturnLine) for x in lines],
        total_cents=sum(x[3] for x in lines), tax_cents=0, occurred_at=AT, received_at=AT,
    )  # fmt: skip
    return make_envelope(data, producer="channel", key=f"pos:HZ-01:{uid}")
