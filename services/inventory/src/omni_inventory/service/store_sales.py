"""Store sales (issue #9, POS): a sale at a store's till takes the goods out of the store node's stock, a till
return puts them back into its good stock. No reservation, no order: the goods already left (or came back).

- Each line's sales product is decomposed into materials through the inventory's own projection of product's
  sales products (a bundle sold at the till takes each of its parts). A sales product inventory has never
  heard of is a PermanentError (dead-lettered, replayable): the channel only accepts a sale whose listing it
  knows, and product publishes the sales product before its listing.
- Idempotent per (sale, line, material): a line already applied (store_sale_lines) changes nothing, on top of
  the inbox's per-event dedupe.
- A sale of more than the store has available: the sale happened physically, so it is never refused, but the
  stock row must stay consistent (on hand never below reserved + frozen: those units are promised to online
  orders or held back by an operator). The sale books what is available, and the rest is recorded on its
  line (`booked` < `qty`, logged as a warning): the store's stock was wrong, and a count is due. On hand then
  stands at reserved + frozen, which is what a count will correct.
- Ledger kinds `store-sale` (−booked) and `store-return` (+qty), reference `pos:<shop>:<sale uid>`;
  `inventory.stock-changed` v4 (the first version with these movements) as every movement publishes it.
"""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow

from ..domain.model import InventoryError, Line
from .changes import StockChanges, Uow

log = get_logger(__name__)

SALE, RETURN = "channel.store-sale.recorded", "channel.store-return.recorded"
STORE_SALE_EVENTS = {SALE, RETURN}


class UnknownSalesProduct(InventoryError):
    """A store sale names a sales product inventory does not know: it cannot say which materials left."""


async def handle_batch(uow: Uow, envs: list[Envelope[Any]]) -> None:
    envs = [e for e in envs if e.event_type in STORE_SALE_EVENTS]
    if not envs:
        return
    async with uow:
        parts = await uow.repo.product_components({x.sales_product_code for e in envs for x in e.data.lines})
        plan = [(env, line, material, per * line.qty) for env in envs for line in env.data.lines
                for material, per in _materials(parts, env, line)]  # fmt: skip
        applied = await uow.repo.store_lines_applied(_ref(env, line, m) for env, line, m, _ in plan)
        now = utcnow()
        changes, records = StockChanges(), []
        for env, line, material, qty in plan:
            ref = _ref(env, line, material)
            if ref in applied:
                continue
            applied.add(ref)
            booked = await _apply(uow, changes, env, material, qty, now)
            records.append({"line_ref": ref, "kind": _kind(env), "document": _document(env),
                            "node_code": env.data.node_code, "material_code": material, "qty": qty,
                            "booked": booked, "at": now})  # fmt: skip
        await uow.repo.add_store_lines(records)
        changes.publish(uow)
    log.info("store sales applied", events=len(envs), lines=len(records))


def _materials(parts: dict[str, tuple[bool, list[tuple[str, int]]]], env: Envelope[Any], line: Any):
    found = parts.get(line.sales_product_code)
    if not found or not found[1]:
        raise UnknownSalesProduct(
            f"store sale {_document(env)} line {line.line_id}: sales product {line.sales_product_code} is "
            "not known to inventory (no product.sales-product.upserted seen); replay it once it is"
        )
    return found[1]


async def _apply(
    uow: Uow, changes: StockChanges, env: Envelope[Any], material: str, qty: int, now: Any
) -> int:
    node, kind = env.data.node_code, _kind(env)
    if kind == "store-return":
        (row,) = await uow.repo.receive(node, [Line(material, qty)], now)
        changes.stock(row, kind, _document(env), qty, 0, env)
        return qty
    row, booked = await uow.repo.take_for_store_sale(node, material, qty, now)
    if row is not None:
        changes.stock(row, kind, _document(env), -booked, 0, env)
    if booked < qty:
        log.warning("store sold more than its stock had available; booked what there was, count the store",
                    node_code=node, material_code=material, sold=qty, booked=booked,
                    document=_document(env))  # fmt: skip
    return booked


def _kind(env: Envelope[Any]) -> str:
    return "store-sale" if env.event_type == SALE else "store-return"


def _document(env: Envelope[Any]) -> str:
    return f"pos:{env.data.shop_id}:{env.data.sale_uid}"


def _ref(env: Envelope[Any], line: Any, material: str) -> str:
    return f"{_document(env)}:{line.line_id}:{material}"


async def short_lines(uow: Uow, node: str, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The store's sale lines its stock could not give in full, newest first (one page, and the total)."""
    async with uow:
        return await uow.repo.short_store_lines(node, limit=limit, offset=offset)
