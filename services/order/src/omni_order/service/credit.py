"""B2B credit terms (账期) in the flow. The channel says an order came on account (payment `on_account`);
the OMS decides here whether the buyer may owe more; finance books the receivable from `order.accepted`.

- `decide_credit` (intake, after review): each order on account under a strategy with `credit` is checked
  against its buyer's account, locked FOR UPDATE (two partitions cannot both take the last of a buyer's
  credit), in batch order. Within the limit it is counted (`credit_orders`, the account's open credit goes
  up) and due `terms_days` later; over it, it is held `credit_limit` or cancelled, per `on_over`. The trace
  has the numbers. (No credit terms at all: review holds it, domain/review.py.)
- `count_on_release`: an operator releasing an order on account held over its limit counts it anyway.
- `record_payment`: the order on account was paid (an operator through REST, or the platform delivering
  it again as paid): its credit closes, and `order.payment-received` tells finance to clear the
  receivable. An order held over its limit that the platform now says is paid is simply paid: its
  `credit_limit` hold ends and it continues as a paid order.
- A cancel gives the credit back: the status journal closes the credit of every order it cancels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.order import OrderPaymentReceivedV1

from ..domain.credit import CREDIT_LIMIT, ON_ACCOUNT, account_of, check, due, yuan
from ..domain.review import Review, trace_rows
from ..domain.rules.ruleset import HoldReason, TraceEntry
from ..domain.status import DomainError, Status
from .journal import OrderNotFound, OrderUow, StatusJournal

log = get_logger(__name__)


PAID_NOW = {"payment": "paid", "due_at": None, "credit_account": None}  # an order on account now paid


class NotOnAccount(DomainError):
    """A payment recorded for an order that owes nothing on account (409)."""


@dataclass
class ToCredit:
    order_id: str
    order: Any  # ChannelOrderReceivedV1 (v2 with payment)
    review: Review
    row: dict[str, Any]  # the order's row to be inserted: payment columns are set on it


@dataclass(frozen=True)
class Taken:
    """An order counted against its account (written once the order row exists)."""

    order_id: str
    account: str
    amount_cents: int
    limit_cents: int | None
    due_at: datetime | None


async def decide_credit(uow: OrderUow, batch: Sequence[ToCredit], at: datetime) -> dict[str, Taken]:
    """The credit decision of each order on account of an intake batch; the orders counted."""
    asking = [x for x in batch if getattr(x.order, "payment", "paid") == ON_ACCOUNT]
    for x in asking:
        x.row.update(payment=ON_ACCOUNT, credit_account=account_of(x.order.channel, x.order.buyer_id))
    checked = [x for x in asking if x.review.strategy is not None and x.review.strategy.doc.credit]
    if not checked:
        return {}
    owed = dict(await uow.repo.lock_credit_accounts({x.row["credit_account"] for x in checked}, at))
    taken: dict[str, Taken] = {}
    for x in checked:
        strategy = x.review.strategy
        assert strategy is not None and strategy.doc.credit is not None
        settings, account, amount = strategy.doc.credit, x.row["credit_account"], x.order.paid_cents
        answer = check(owed.get(account, 0), amount, settings)
        due_at = due(at, settings, getattr(x.order, "due_at", None))
        x.row["due_at"] = due_at
        subject = f"strategy {strategy.strategy_id} credit terms"
        if answer.within:
            owed[account] = owed.get(account, 0) + amount
            taken[x.order_id] = Taken(x.order_id, account, amount, settings.limit_cents, due_at)
            x.review.trace.append(
                TraceEntry("credit", subject, True, f"{answer.why}; due {due_at:%Y-%m-%d}", answer.effect)
            )
            continue
        x.review.trace.append(TraceEntry("credit", subject, False, answer.why, answer.effect))
        x.review.holds.append(HoldReason(CREDIT_LIMIT, f"over the credit limit ({answer.why})", ""))
        if settings.on_over == "cancel":
            by = f"strategy {strategy.strategy_id}"
            x.review.cancel = f"over the credit limit, cancelled by {by}: {answer.why}"
    return taken


async def write_taken(uow: OrderUow, taken: Sequence[Taken], at: datetime) -> None:
    await uow.repo.take_credit(
        [{"order_id": t.order_id, "account": t.account, "amount_cents": t.amount_cents,
          "limit_cents": t.limit_cents, "taken_at": at, "due_at": t.due_at} for t in taken],
        at,
    )  # fmt: skip


async def count_on_release(uow: OrderUow, order: dict[str, Any], how: str, at: datetime) -> None:
    """An operator continued a held order on account: it is counted now, whatever its limit said."""
    if order.get("payment") != ON_ACCOUNT or await uow.repo.credit_order(order["order_id"]) is not None:
        return
    account = order["credit_account"]
    t = Taken(order["order_id"], account, order["paid_cents"], None, order.get("due_at"))
    await write_taken(uow, [t], at)
    why = f"{how}d by an operator: {yuan(t.amount_cents)} counted on account {account}, whatever its limit"
    await uow.repo.add_decisions(
        trace_rows(order["order_id"], [TraceEntry("credit", "operator", True, why, "taken on account")], at)
    )


async def record_payment(
    uow: OrderUow, order_id: str, *, reference: str, amount_cents: int | None = None
) -> dict[str, Any]:
    """An operator records that an order on account was paid (the whole amount it owes)."""
    async with uow:
        order = await uow.repo.get_order(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        credit = await uow.repo.credit_order(order_id)
        if order.get("payment") != ON_ACCOUNT or credit is None:
            held = order["status"] == Status.HELD.value and order.get("payment") == ON_ACCOUNT
            raise NotOnAccount(
                f"order {order_id} is held and not counted on account yet: release it first"
                if held else f"order {order_id} owes nothing on account (payment {order.get('payment')})"
            )  # fmt: skip
        if credit["status"] != "open":
            raise NotOnAccount(f"order {order_id} owes nothing on account: its credit is {credit['status']}")
        if amount_cents is not None and amount_cents != credit["amount_cents"]:
            raise NotOnAccount(
                f"order {order_id} owes {yuan(credit['amount_cents'])} on account, not {yuan(amount_cents)}: "
                "a payment is recorded for the whole order"
            )
        return await _paid(uow, order, credit, reference, "operator", None)


async def _paid(
    uow: OrderUow,
    order: dict[str, Any],
    credit: dict[str, Any],
    reference: str,
    source: str,
    cause: Envelope[Any] | None,
) -> dict[str, Any]:
    at = utcnow()
    await uow.repo.close_credit([order["order_id"]], "paid", at, reference or None)
    why = f"paid {yuan(credit['amount_cents'])} ({source}{': ' + reference if reference else ''})"
    await uow.repo.add_decisions(
        trace_rows(order["order_id"], [TraceEntry("credit", "payment", True, why, "credit closed")], at)
    )
    uow.emit(
        OrderPaymentReceivedV1(
            order_id=order["order_id"], channel=order["channel"], channel_order_id=order["channel_order_id"],
            credit_account=credit["account"], amount_cents=credit["amount_cents"], currency=order["currency"],
            reference=reference, source=source, received_at=at,
        ),
        key=order["order_id"], cause=cause,
    )  # fmt: skip
    log.info("order on account paid", order_id=order["order_id"], source=source)
    return {"order_id": order["order_id"], "account": credit["account"],
            "amount_cents": credit["amount_cents"], "status": "paid", "paid_at": at}  # fmt: skip


async def paid_on_platform(uow: OrderUow, journal: StatusJournal, envs: Sequence[Envelope[Any]]) -> None:
    """Repeated deliveries that now say paid, of orders taken in on account: counted ones are paid (their
    credit closes); one held over its limit is now a paid order (its credit_limit hold ends)."""
    from .review import end_flow_hold  # review imports this module's neighbours; late to avoid a cycle

    paid = [e for e in envs if getattr(e.data, "payment", "paid") == "paid"]
    if not paid:
        return
    rows = await uow.repo.orders_by_channel_keys({(e.data.channel, e.data.channel_order_id) for e in paid})
    found = {(o["channel"], o["channel_order_id"]): o for o in rows if o.get("payment") == ON_ACCOUNT}
    for env in paid:
        order = found.get((env.data.channel, env.data.channel_order_id))
        if order is None:
            continue
        credit = await uow.repo.credit_order(order["order_id"])
        if credit is not None and credit["status"] == "open":
            await _paid(uow, order, credit, env.data.channel_status, "channel", env)
        elif credit is None and await end_flow_hold(
            uow, journal, order | PAID_NOW, CREDIT_LIMIT, "paid", "the platform says it is paid", env
        ):
            journal.set(order["order_id"], **PAID_NOW)


async def list_credit_accounts(
    uow: OrderUow, *, account: str | None, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Credit accounts in key order after `after` (limit + 1 fetched, for a keyset page), and how many."""
    async with uow:
        items = await uow.repo.credit_accounts_page(account, after, limit + 1)
        return items, await uow.repo.count_credit_accounts(account)


async def credit_account(uow: OrderUow, account: str) -> dict[str, Any]:
    """One credit account: its open credit and its orders on account, newest first (at most 200)."""
    async with uow:
        found = await uow.repo.credit_accounts_page(account, None, 1)
        if not found:
            raise OrderNotFound(f"no credit account {account}")
        return found[0] | {"orders": await uow.repo.credit_orders_of(account)}
