"""Split by type (拆单) in the flow (domain/split.py decides): intake places each material line in its group
and traces why; the one door to fulfillment (dispatch) records the OMS's own fulfilment of the lines that
do not ship (virtual and service goods), which count towards the order's completion like a shipment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..domain.intake import Catalog
from ..domain.rules.ruleset import TraceEntry
from ..domain.split import LineKind, place, unmatched
from .journal import OrderUow

VIRTUAL_TASK = "oms-virtual"  # the shipment row of the lines the OMS fulfilled itself (no node, no task)


def split_lines(lines: list[dict[str, Any]], catalog: Catalog, kinds: Sequence[str]) -> list[TraceEntry]:
    """Set `group`, `ships` and `high_value` (the material's fact, for fulfillment's dedicated nodes) on an
    order's line rows; the trace of every line placed apart."""
    trace: list[TraceEntry] = []
    placed = []
    for x in lines:
        m = catalog.materials.get(x["material_code"])
        kind = LineKind(getattr(m, "handling", "normal"), getattr(m, "high_value", False),
                        frozenset(getattr(m, "tags", ())))  # fmt: skip
        p = place(kind, kinds)
        placed.append(p)
        x.update(group=p.group, ships=p.ships, high_value=kind.high_value)
        if p.why:
            effect = "fulfilled by the OMS" if not p.ships else f"group {p.group}"
            trace.append(
                TraceEntry("split", f"line {x['line_id']} ({x['material_code']})", True, p.why, effect)
            )
    for k in unmatched(kinds, placed):
        trace.append(TraceEntry("split", f"split {k}", False, f"the rules asked to split {k}: no line is"))
    return trace


def fulfil_virtual(uow: OrderUow, order: dict[str, Any], lines: Sequence[dict[str, Any]], at: Any) -> None:
    """The lines that do not ship are fulfilled now, by the OMS: recorded as a shipment of no node (once:
    re-sending the order writes the same rows)."""
    virtual = [x for x in lines if not x.get("ships", True)]
    if not virtual:
        return
    order_id = order["order_id"]

    async def write() -> None:
        await uow.repo.upsert_shipments([
            {"order_id": order_id, "task_id": VIRTUAL_TASK, "node_code": "-", "kind": "virtual",
             "carrier": None, "tracking_no": None, "at": at}
        ])  # fmt: skip
        await uow.repo.upsert_shipment_lines([
            {"order_id": order_id, "task_id": VIRTUAL_TASK, "line_id": x["line_id"], "qty": x["qty"],
             "matched": False}
            for x in virtual
        ])  # fmt: skip

    uow.defer(write)
