"""After-sales returns 退货入库: the order service's `order.return-received` (a return arrived at a node and
was inspected) puts each line's units back into that node's stock. Consumed in the `inventory-orders` batch
(service/reservations.py), so it shares the batch's unit of work, locks and StockChanges.

- `good_qty` goes back into GOOD stock: on hand up (the stock row is created when the node has none of the
  material: the return came back physically, so it is never refused, whatever node it names), ledger kind
  `return-restock`, reference `aftersales:<case_id>`, and `inventory.stock-changed` as every change of good
  stock publishes it, with movement `return-restock` (v5, the first version with it; the OMS's backorders
  re-source on it as on a receipt).
- `defective_qty` goes into the node's DEFECTIVE stock (quality_stock, the quality states' own statement):
  never sellable, never through good stock, so neither the ledger nor stock-changed move for it; the line
  record (return_lines) is its history, as quality moves are for the other changes of non-good stock.
- `restock: false` (a repair): the goods are the buyer's, not stock; nothing moves, it is logged.
- Idempotent per (case_id, line_id), on top of the inbox's per-event dedupe: a line already applied
  (return_lines) changes nothing; a second event for it with other numbers is logged as a warning and
  ignored (the first inspection is what the stock got).
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.aftersales import InspectedLine, OrderReturnReceivedV1

from ..domain.model import Line
from ..domain.physical import QualityState
from .changes import StockChanges, Uow

log = get_logger(__name__)

RETURN_RECEIVED = "order.return-received"
RESTOCK = "return-restock"


def document(case_id: str) -> str:
    """The ledger's reference of a case's movements."""
    return f"aftersales:{case_id}"


def stock_pairs(data: OrderReturnReceivedV1) -> set[tuple[str, str]]:
    """The stock rows the return will change (for the batch's lock, in its global order)."""
    if not data.restock:
        return set()
    return {(data.node_code, x.material_code) for x in data.lines if x.good_qty > 0}


async def on_return_received(uow: Uow, changes: StockChanges, env: Envelope[OrderReturnReceivedV1]) -> None:
    d = env.data
    if not d.restock:
        log.info("return received for a repair: the goods are the buyer's, no stock moves",
                 case_id=d.case_id, order_id=d.order_id, node_code=d.node_code)  # fmt: skip
        return
    lines = _unique(d)
    now = utcnow()
    claimed = await uow.repo.claim_return_lines([_record(d, x, now) for x in lines])
    repeats = [x for x in lines if (d.case_id, x.line_id) not in claimed]
    if repeats:
        await _compare(uow, d, repeats)
    good = defective = 0
    for x in lines:
        if (d.case_id, x.line_id) not in claimed:
            continue
        if x.good_qty > 0:
            (row,) = await uow.repo.receive(d.node_code, [Line(x.material_code, x.good_qty)], now)
            changes.stock(row, RESTOCK, document(d.case_id), x.good_qty, 0, env)
            good += x.good_qty
        if x.defective_qty > 0:
            await uow.repo.add_quality(
                d.node_code, x.material_code, QualityState.DEFECTIVE.value, x.defective_qty, now
            )
            defective += x.defective_qty
    log.info("return restocked", case_id=d.case_id, order_id=d.order_id, node_code=d.node_code,
             lines=len(claimed), already_applied=len(repeats), good=good, defective=defective)  # fmt: skip


def _unique(d: OrderReturnReceivedV1) -> list[InspectedLine]:
    """The event's lines, each line id once (the first; a repeat within one event is logged)."""
    seen: dict[str, InspectedLine] = {}
    for x in d.lines:
        if x.line_id in seen:
            log.warning("return line appears twice in one event; the first one is applied",
                        case_id=d.case_id, line_id=x.line_id)  # fmt: skip
            continue
        seen[x.line_id] = x
    return list(seen.values())


def _record(d: OrderReturnReceivedV1, x: InspectedLine, now: Any) -> dict[str, Any]:
    return {"case_id": d.case_id, "line_id": x.line_id, "order_id": d.order_id, "kind": d.kind,
            "node_code": d.node_code, "material_code": x.material_code, "good_qty": x.good_qty,
            "defective_qty": x.defective_qty, "received_at": d.received_at, "at": now}  # fmt: skip


async def _compare(uow: Uow, d: OrderReturnReceivedV1, repeats: list[InspectedLine]) -> None:
    """A line applied before changes nothing; say when this event's numbers differ from the applied ones."""
    done = {r["line_id"]: r for r in await uow.repo.return_lines_of(d.case_id)}
    for x in repeats:
        r = done.get(x.line_id)
        was = r and (r["node_code"], r["material_code"], r["good_qty"], r["defective_qty"])
        if was != (d.node_code, x.material_code, x.good_qty, x.defective_qty):
            log.warning("return line already applied with other numbers; this event changes nothing",
                        case_id=d.case_id, line_id=x.line_id, applied=was,
                        received=(d.node_code, x.material_code, x.good_qty, x.defective_qty))  # fmt: skip
