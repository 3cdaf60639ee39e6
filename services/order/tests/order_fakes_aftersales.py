"""The in-memory twin of `store_aftersales.AfterSalesQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


class FakeAfterSalesQueries:
    FAKE_STATE: tuple[str, ...] = ("cases", "case_line_rows", "case_history_rows")
    # the FakeRepository's own state this mixin reads
    orders: dict[str, dict[str, Any]]
    lines: list[dict[str, Any]]
    allocation_rows: list[dict[str, Any]]
    shipments: dict[tuple[str, str], dict[str, Any]]
    shipment_lines: dict[tuple[str, str, str], dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.cases: dict[str, dict[str, Any]] = {}
        self.case_line_rows: list[dict[str, Any]] = []
        self.case_history_rows: list[dict[str, Any]] = []

    async def get_case(self, case_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        row = self.cases.get(case_id)
        return copy.deepcopy(row) if row else None

    async def case_by_refund(self, channel: str, channel_refund_id: str) -> dict[str, Any] | None:
        for c in self.cases.values():
            if (c["channel"], c["channel_refund_id"]) == (channel, channel_refund_id):
                return copy.deepcopy(c)
        return None

    async def insert_case(self, row: dict[str, Any]) -> bool:
        if row["channel_refund_id"] is not None and await self.case_by_refund(
            row["channel"], row["channel_refund_id"]
        ):
            return False
        assert row["order_id"] in self.orders, "a case needs its order"
        self.cases[row["case_id"]] = copy.deepcopy(row)
        return True

    async def update_case(self, case_id: str, cols: dict[str, Any]) -> None:
        self.cases[case_id].update(copy.deepcopy(cols))

    async def replace_case_lines(self, case_id: str, rows: Sequence[dict[str, Any]]) -> None:
        self.case_line_rows = [x for x in self.case_line_rows if x["case_id"] != case_id]
        self.case_line_rows += copy.deepcopy(list(rows))

    async def set_inspected(self, case_id: str, rows: Sequence[dict[str, Any]]) -> None:
        by_line = {r["line_id"]: r for r in rows}
        for x in self.case_line_rows:
            if x["case_id"] == case_id and x["line_id"] in by_line:
                r = by_line[x["line_id"]]
                x.update(good_qty=r["good_qty"], defective_qty=r["defective_qty"])

    async def case_lines(self, case_id: str) -> list[dict[str, Any]]:
        rows = [copy.deepcopy(x) for x in self.case_line_rows if x["case_id"] == case_id]
        return sorted(rows, key=lambda x: x["line_id"])

    async def add_case_history(self, row: dict[str, Any]) -> None:
        if row["platform_status"] is not None:
            assert (row["case_id"], row["platform_status"]) not in {
                (h["case_id"], h["platform_status"]) for h in self.case_history_rows
            }, "the unique (case, platform status) index"
        self.case_history_rows.append(copy.deepcopy(row) | {"id": len(self.case_history_rows) + 1})

    async def case_history(self, case_id: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(h) for h in self.case_history_rows if h["case_id"] == case_id]

    async def seen_statuses(self, case_id: str) -> set[str]:
        return {h["platform_status"] for h in self.case_history_rows
                if h["case_id"] == case_id and h["platform_status"] is not None}  # fmt: skip

    async def refunded_by_line(self, order_id: str, *, but: str | None = None) -> dict[str, tuple[int, int]]:
        done = {c["case_id"] for c in self.cases.values()
                if c["order_id"] == order_id and c["money_done"] and c["case_id"] != but}  # fmt: skip
        out: dict[str, tuple[int, int]] = {}
        for x in self.case_line_rows:
            if x["case_id"] in done:
                cents, qty = out.get(x["line_id"], (0, 0))
                out[x["line_id"]] = (cents + x["refund_cents"], qty + x["qty"])
        return out

    async def order_cases(self, order_id: str) -> list[dict[str, Any]]:
        rows = [copy.deepcopy(c) for c in self.cases.values() if c["order_id"] == order_id]
        return sorted(rows, key=lambda c: (c["created_at"], c["case_id"]))

    async def shipping_nodes(self, order_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for a in sorted(self.allocation_rows, key=lambda a: a["task_id"]):
            if a["order_id"] == order_id:
                out.setdefault(a["line_id"], a["node_code"])
        for (oid, task, line_id), _ in sorted(self.shipment_lines.items(),
                                              key=lambda kv: self.shipments[kv[0][:2]]["at"]):  # fmt: skip
            if oid == order_id:
                out[line_id] = self.shipments[(oid, task)]["node_code"]
        return out

    async def list_cases(
        self, *, order_id: str | None, channel: str | None, kind: str | None, state: str | None, limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
        want = {"order_id": order_id, "channel": channel, "kind": kind, "state": state}
        found = [c for c in self.cases.values() if all(v is None or c[k] == v for k, v in want.items())]
        found.sort(key=lambda c: (c["created_at"], c["case_id"]), reverse=True)
        return copy.deepcopy(found[offset : offset + limit]), len(found)
