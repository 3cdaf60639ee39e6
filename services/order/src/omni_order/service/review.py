"""Review (审单) in the flow: intake asks `review_batch` what to do with the orders it understood; an
operator releases, approves or cancels a held order, one at a time or in bulk (answered per order).

A held order keeps its place: its lines are stored and its `order.accepted` is emitted only when it is
released, so fulfillment never sees it before. Release ends every hold but a `block`; approve ends all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.channel import ChannelOrderReceivedV1

from ..domain.intake import Catalog, IntakePlan
from ..domain.review import (
    PRESALE_BALANCE,
    BuyerHistory,
    Review,
    buyer_key,
    goods_of,
    merge_key,
    order_facts,
    review,
    trace_rows,
)
from ..domain.rules.ruleset import TraceEntry, condition_types
from ..domain.status import DomainError, Status, check_transition
from .credit import count_on_release
from .dispatch import send_to_fulfillment
from .journal import OrderNotFound, OrderUow, StatusJournal
from .rules import active_config

log = get_logger(__name__)

DUPLICATE_WINDOW = timedelta(days=3)
BALANCE_DUE_TIMER = "order.presale-balance-due"  # key: the order id
SHIP_FROM_TIMER = "order.presale-ship-from"  # key: the order id


class StillHeld(DomainError):
    """A release that a blocking hold refuses (409)."""


@dataclass(frozen=True)
class ToReview:
    order_id: str
    order: ChannelOrderReceivedV1
    plan: IntakePlan


async def review_batch(uow: OrderUow, batch: Sequence[ToReview], catalog: Catalog) -> dict[str, Review]:
    """The review of each order of an intake batch (a fixed handful of queries for the whole batch)."""
    if not batch:
        return {}
    repo = uow.repo
    strategies, rulesets = await active_config(uow)
    used = condition_types(doc for _, doc in rulesets.values())  # only the facts some rule looks at
    counts: dict[tuple[str, str, str], int] = {}
    open_orders: list[dict[str, Any]] = []
    if used & {"first_orders", "duplicate_suspected"}:
        buyers = {buyer_key(x.order) for x in batch if x.order.buyer_id}
        since = min(x.order.created_at for x in batch) - DUPLICATE_WINDOW
        counts, open_orders = await repo.buyer_orders(buyers, since)
    black: set[str] = set()
    if "blacklisted" in used:
        black = await repo.blacklisted(
            {k for x in batch for k in (x.order.buyer_id, merge_key(x.order)) if k}
        )
    twins: dict[tuple[tuple[str, str, str], tuple[str, ...]], str] = {}
    for o in open_orders:
        twins.setdefault(
            ((o["channel"], o["shop_id"], o["buyer_id"]), tuple(sorted(o["goods"]))), o["order_id"]
        )
    out: dict[str, Review] = {}
    for x in batch:
        d = x.order
        key = buyer_key(d)
        goods = (key, tuple(goods_of(x.plan)))
        history = BuyerHistory(
            order_count=counts.get(key, 0) if d.buyer_id else 0,
            duplicate_of=twins.get(goods) if d.buyer_id else None,
            blacklisted=bool({d.buyer_id, merge_key(d)} & black),
        )
        if d.buyer_id:
            twins.setdefault(goods, x.order_id)  # a twin later in the same batch sees this one
            counts[key] = counts.get(key, 0) + 1
        out[x.order_id] = review(order_facts(d, x.plan, catalog, history), strategies, rulesets)
    return out


async def release(uow: OrderUow, order_id: str, reason: str, *, approve: bool = False) -> None:
    """held -> accepted: the holds end (a `block` only by approve) and order.accepted goes to fulfillment."""
    how = "approve" if approve else "release"
    async with uow:
        repo = uow.repo
        order = await repo.get_order(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        check_transition(Status(order["status"]), Status.ACCEPTED, order_id)
        if Status(order["status"]) != Status.HELD:
            raise StillHeld(f"order {order_id} is {order['status']}, not held: there is nothing to {how}")
        holds = (await repo.open_holds([order_id]))[order_id]
        blocking = [h for h in holds if h["blocking"]]
        if blocking and not approve:
            why = "; ".join(h["reason"] for h in blocking)
            raise StillHeld(f"order {order_id} is blocked ({why}): only approve ends a block")
        journal = StatusJournal(uow, "api")
        await repo.end_holds(order_id, how, reason, journal.at)
        await count_on_release(uow, order, how, journal.at)
        lines = (await repo.material_lines([order_id]))[order_id]
        codes = ", ".join(dict.fromkeys(h["code"] for h in holds)) or order["status_reason_code"] or "held"
        journal.transition(order, Status.ACCEPTED, reason=f"{how}d by an operator ({codes}): {reason}")
        send_to_fulfillment(uow, order, lines)
    log.info("held order continued", order_id=order_id, how=how)


async def end_flow_hold(
    uow: OrderUow,
    journal: StatusJournal,
    order: dict[str, Any],
    code: str,
    how: str,
    why: str,
    cause: Envelope[Any] | None = None,
) -> bool:
    """The flow ends hold `code` of a held (locked) order (a payment, a date): an order with no other hold
    continues to fulfillment, else it stays held on the rest. Traced. False when that hold was not open."""
    order_id = order["order_id"]
    open_ = (await uow.repo.open_holds([order_id])).get(order_id, [])
    if order["status"] != Status.HELD.value or not any(h["code"] == code for h in open_):
        return False
    await uow.repo.end_holds(order_id, how, why, journal.at, [code])
    rest = [h for h in open_ if h["code"] != code]
    effect = "still held: " + ", ".join(h["code"] for h in rest) if rest else "continues to sourcing"
    await uow.repo.add_decisions(
        trace_rows(order_id, [TraceEntry("review", code, True, why, effect)], journal.at)
    )
    if rest:
        journal.set(
            order_id, status_reason_code=rest[0]["code"], status_reason="; ".join(h["reason"] for h in rest)
        )
        return True
    journal.transition(order, Status.ACCEPTED, reason=f"{code} ended: {why}", cause=cause)
    lines = (await uow.repo.material_lines([order_id]))[order_id]
    send_to_fulfillment(uow, order, lines, cause=cause)
    log.info("held order continues", order_id=order_id, hold=code)
    return True


async def balance_paid(uow: OrderUow, journal: StatusJournal, envs: Sequence[Envelope[Any]]) -> None:
    """Repeated deliveries of presale orders now final-paid: their `presale_balance` hold ends (and the
    balance deadline's timer), and an order with no other hold continues (order.accepted). Anything else in
    a repeated delivery changes nothing."""
    paid = [e for e in envs if getattr(e.data, "presale_stage", "none") == "final_paid"]
    if not paid:
        return
    rows = await uow.repo.orders_by_channel_keys({(e.data.channel, e.data.channel_order_id) for e in paid})
    found = {(o["channel"], o["channel_order_id"]): o for o in rows}
    for env in paid:
        order = found.get((env.data.channel, env.data.channel_order_id))
        if order is None:
            continue
        if await end_flow_hold(
            uow, journal, order, PRESALE_BALANCE, "balance_paid", "the balance is paid", env
        ):
            journal.set(order["order_id"], presale_stage="final_paid")
            uow.cancel_timer(BALANCE_DUE_TIMER, order["order_id"])


BULK_ACTIONS = ("approve", "release", "cancel")


async def bulk(uow: OrderUow, action: str, order_ids: Sequence[str], reason: str) -> list[dict[str, Any]]:
    """The action on each order in its own unit of work: one refusal never undoes the others."""
    from .operator import cancel  # the operator's cancel: one path for a single and a bulk cancel

    results = []
    for order_id in dict.fromkeys(order_ids):
        try:
            if action == "cancel":
                await cancel(uow, order_id, reason)
            else:
                await release(uow, order_id, reason, approve=action == "approve")
        except OrderNotFound as exc:
            results.append({"order_id": order_id, "ok": False, "status": None, "error": str(exc)})
            continue
        except DomainError as exc:
            results.append({"order_id": order_id, "ok": False, "status": None, "error": str(exc)})
            continue
        results.append({"order_id": order_id, "ok": True, "status": None, "error": None})
    async with uow:
        found = {
            o["order_id"]: o["status"] for o in await uow.repo.statuses([r["order_id"] for r in results])
        }
    for r in results:
        r["status"] = found.get(r["order_id"])
    return results


async def trace(uow: OrderUow, order_id: str) -> dict[str, Any]:
    """Everything decided about the order, in order: strategy, rules, holds, and the status history."""
    async with uow:
        repo = uow.repo
        order = await repo.get_order(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        return {
            "order_id": order_id,
            "status": order["status"],
            "strategy": order.get("strategy"),
            "decisions": await repo.decisions(order_id),
            "holds": await repo.holds(order_id),
        }
