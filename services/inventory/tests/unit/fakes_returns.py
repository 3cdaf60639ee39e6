"""The after-sales returns' queries on the in-memory repository (the SQL ones in store_returns.py), and
`order.return-received` events to feed them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fakes_physical import PhysicalFakeRepository

from omni_contracts import make_envelope
from omni_contracts.events.aftersales import InspectedLine, OrderReturnReceivedV1

AT = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


class FakeReturns(PhysicalFakeRepository):
    _STATE = (*PhysicalFakeRepository._STATE, "return_lines")

    def __init__(self) -> None:
        super().__init__()
        self.return_lines: dict[tuple[str, str], dict[str, Any]] = {}

    async def claim_return_lines(self, rows) -> set[tuple[str, str]]:
        claimed = set()
        for r in rows:  # ON CONFLICT DO NOTHING: the first row of a key wins, the rest are left out
            key = (r["case_id"], r["line_id"])
            if key not in self.return_lines:
                self.return_lines[key] = dict(r)
                claimed.add(key)
        return claimed

    async def return_lines_of(self, case_id: str) -> list[dict[str, Any]]:
        return [dict(r) for (c, _), r in sorted(self.return_lines.items()) if c == case_id]


Inspected = tuple[str, str, int, int]  # (line id, material, good, defective)


def returned(case_id: str, node: str, lines: list[Inspected], *, kind: str = "return_and_refund",
             restock: bool = True, order_id: str = "O-1"):  # fmt: skip
    """`order.return-received` of `lines` at `node`."""
    inspected = [
        InspectedLine(line_id=i, material_code=m, good_qty=g, defective_qty=d) for i, m, g, d in lines
    ]
    data = OrderReturnReceivedV1(
        case_id=case_id, order_id=order_id, kind=kind, node_code=node, restock=restock, received_at=AT,
        lines=inspected,
    )  # fmt: skip
    return make_envelope(data, producer="order", key=order_id)
