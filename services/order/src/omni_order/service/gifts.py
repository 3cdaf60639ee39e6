"""Gifts at intake: the rule set's `add_gift` actions become 0-paid gift lines on the order, within their
caps (counters locked in this unit of work) and the stock the order service has seen
(domain/gifts.py decides; this loads and writes). Also the stock projection it reads: every
inventory.stock-changed the order-stock group receives updates `stock_seen`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omni_contracts import Envelope

from ..domain.gifts import GiftCounts, GiftPlan, plan_gifts
from ..domain.intake import PlannedLine
from ..domain.review import Review
from ..store_gifts import EVERYONE
from .journal import OrderNotFound, OrderUow
from .records import line_id


@dataclass
class ToGift:
    order_id: str
    buyer_key: str  # <channel>:<buyer nick>
    lines: Sequence[PlannedLine]
    review: Review


def buyer_key(channel: str, buyer_id: str) -> str:
    return f"{channel}:{buyer_id}"


async def decide_gifts(uow: OrderUow, batch: Sequence[ToGift], at: datetime) -> dict[str, GiftPlan]:
    """Each order's gift plan (its trace appended to the order's review trace), in batch order: an order's
    gifts count against the caps of the next one in the same batch."""
    asking = [x for x in batch if x.review.outcome.gifts]
    if not asking:
        return {}
    ids = {g.gift_id for x in asking for _, g in x.review.outcome.gifts}
    keys = {(g, s) for x in asking for g in ids for s in (x.buyer_key, EVERYONE)}
    given = dict(await uow.repo.lock_gift_counters(keys, at))
    asked = [g for x in asking for _, g in x.review.outcome.gifts]
    materials = {c for g in asked for c in (g.material_code, *g.substitutes)}
    seen = await uow.repo.stock_available(materials)
    stock: dict[str, int | None] = {m: seen.get(m) for m in materials}
    plans: dict[str, GiftPlan] = {}
    for x in asking:
        counts = GiftCounts(
            buyer={g: given.get((g, x.buyer_key), 0) for g in ids},
            total={g: given.get((g, EVERYONE), 0) for g in ids},
        )
        plan = plan_gifts(x.review.outcome.gifts, x.lines, counts, stock)
        for gl in plan.lines:  # the next order in the batch sees these
            for scope in (x.buyer_key, EVERYONE):
                given[(gl.gift_id, scope)] = given.get((gl.gift_id, scope), 0) + gl.sets
            if stock.get(gl.material_code) is not None:
                stock[gl.material_code] = (stock[gl.material_code] or 0) - gl.qty
        x.review.trace.extend(plan.trace)
        plans[x.order_id] = plan
    return plans


def gift_line_rows(order_id: str, first_position: int, plan: GiftPlan) -> list[dict[str, Any]]:
    return [
        {"line_id": line_id(order_id, first_position + n), "order_id": order_id,
         "position": first_position + n, "channel_line_id": f"gift:{gl.gift_id}",
         "sales_product_code": gl.material_code, "material_code": gl.material_code, "qty": gl.qty,
         "amount_cents": 0, "gift_id": gl.gift_id}
        for n, gl in enumerate(plan.lines)
    ]  # fmt: skip


def grant_rows(order_id: str, buyer: str, label: str, plan: GiftPlan, at: datetime) -> list[dict[str, Any]]:
    return [
        {"order_id": order_id, "gift_id": gl.gift_id, "rule": f"rule {gl.rule_id} ({label})",
         "buyer_key": buyer, "material_code": gl.material_code, "qty": gl.qty, "sets": gl.sets,
         "granted_at": at}
        for gl in plan.lines
    ]  # fmt: skip


async def project_stock(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> None:
    """Keep the newest available quantity per (node, material) of a batch of inventory.stock-changed."""
    newest: dict[tuple[str, str], Any] = {}
    for env in envs:
        d = env.data
        k = (d.node_code, d.material_code)
        if k not in newest or newest[k].seq < d.seq:
            newest[k] = d
    async with uow:
        await uow.repo.save_stock_seen(
        [{"node_code": d.node_code, "material_code": d.material_code, "available": d.available,
          "seq": d.seq, "changed_at": d.changed_at} for d in newest.values()]
    )  # fmt: skip


async def gifts_of(uow: OrderUow, order_id: str) -> list[dict[str, Any]]:
    """What the order was given: each gift id, the rule that gave it, the material and quantity."""
    async with uow:
        if await uow.repo.get_order(order_id) is None:
            raise OrderNotFound(order_id)
        return await uow.repo.gift_grants_of(order_id)
