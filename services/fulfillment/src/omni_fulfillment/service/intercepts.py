"""Partial refunds before shipment (order.refund-approved, before_shipment): the case's units are taken off
the order's tasks not yet gone (domain/intercept.py), and `fulfillment.lines-intercepted` says what was
held back and what had already left. It is said once per case: the case is claimed in table `intercepts`,
so a refund approved again (a new event for the same case) changes nothing.

What happens depends on where the order is:

- **Allocated.** The tasks change at once. A task left with nothing is cancelled. If the tasks still live
  have all left, the order is fulfilled now (`fulfillment.order-fulfilled`).
- **Fulfilled.** Every unit is reported as gone, with the task that took it.
- **Still being sourced.** This includes an order given up on and waiting for an operator's retry. The
  order keeps being sourced whole: the reservations already requested cannot shrink, and the contract
  names a task and a reservation for every unit held back. So the case waits, `pending`. When the order is
  allocated, in the same unit of work as its tasks, the units are taken off the new tasks before anyone
  can see them. lines-intercepted follows order-allocated, and inventory gives the units back at once.
- **Cancelled.** Before or after the refund, nothing of it ships: the case is `moot` and nothing is
  emitted (the OMS knows: it cancelled the order).
- **Unknown here.** The order has not been accepted yet (the OMS holds it for review): the case waits,
  `pending`, as for an order still being sourced. Its `order.accepted` comes later on the same partition
  (both are keyed by the order id), so it is sourced whole and intercepted when it is allocated; a cancel
  makes the case moot. A merged source's case waits for ever (fulfillment sources the merged order, under
  another id): its units ship with the merged order, and the buyer's return follows (a known gap).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.aftersales import OrderRefundApprovedV1
from omni_contracts.events.fulfillment import (
    InterceptedLine,
    LinesInterceptedV1,
    NotIntercepted,
    OrderFulfilledV1,
)

from ..domain.intercept import CaseRefund, Interception, Refunded, intercept
from ..domain.order_sourcing import OrderSourcing, SourcingStatus
from ..domain.tasks import Task, order_fulfilled
from .outcomes import Batch

log = get_logger(__name__)

REFUND_APPROVED = "order.refund-approved"
WAITING = (SourcingStatus.SOURCING, SourcingStatus.UNFULFILLABLE)


def refunded(d: OrderRefundApprovedV1) -> tuple[Refunded, ...]:
    """The units a refund takes (its money-only lines, qty 0, move nothing)."""
    return tuple(Refunded(x.line_id, x.material_code, x.qty) for x in d.lines if x.qty > 0)


async def on_refunds(
    batch: Batch, envs: Sequence[Envelope[Any]], known: dict[str, OrderSourcing], tasks: list[Task]
) -> None:
    """order.refund-approved, in the batch's order. `known`: the batch's orders as its acceptances left
    them (locked); `tasks`: their tasks (locked), changed here and written with the batch."""
    firsts: dict[str, Envelope[Any]] = {}
    for env in envs:
        d: OrderRefundApprovedV1 = env.data
        if not d.before_shipment or not refunded(d):
            log.debug("refund intercepts nothing", case_id=d.case_id, before_shipment=d.before_shipment)
            continue
        firsts.setdefault(d.case_id, env)
    if not firsts:
        return
    cases = [CaseRefund(cid, e.data.order_id, refunded(e.data)) for cid, e in firsts.items()]
    new = await batch.uow.repo.claim_intercepts(cases)
    now = utcnow()
    for case in cases:
        env = firsts[case.case_id]
        order = known.get(case.order_id)
        if case.case_id not in new:
            log.info("refund already intercepted; nothing changes", case_id=case.case_id)
        elif order is None:  # not accepted yet (held by the OMS): its order.accepted follows, same partition
            log.info("refund waits for the order's acceptance", case_id=case.case_id, order_id=case.order_id)
        elif order.status is SourcingStatus.CANCELLED:
            await batch.uow.repo.finish_intercept(case.case_id, "moot", [], [])
            log.info("refund for a cancelled order: nothing ships", case_id=case.case_id)
        elif order.status in WAITING:
            log.info("refund waits for the order's allocation", case_id=case.case_id,
                     order_id=case.order_id, status=order.status.value)  # fmt: skip
        else:
            mine = [t for t in tasks if t.order_id == case.order_id]
            result = _take(case, order, mine, now)
            for t in mine:
                if t.changed and all(t is not x for x in batch.changed_tasks):
                    batch.changed_tasks.append(t)
            if result.cancelled and order.status is SourcingStatus.ALLOCATED and order_fulfilled(mine):
                order.fulfilled()  # what was left had all left already
                batch.orders[order.order_id] = order
                batch.uow.emit(OrderFulfilledV1(order_id=order.order_id, fulfilled_at=now),
                               key=order.order_id, cause=env)  # fmt: skip
            await _done(batch, case, result, env, now)


async def on_allocated(batch: Batch) -> None:
    """The cases waiting for the orders this batch allocated: taken off their new tasks (not written yet:
    they are inserted as they end up), each case's lines-intercepted after the order's order-allocated."""
    if not batch.allocated:
        return
    now = utcnow()
    for case in await batch.uow.repo.pending_intercepts(batch.allocated):
        order = batch.orders[case.order_id]
        mine = [t for t in batch.new_tasks if t.order_id == case.order_id]
        await _done(batch, case, _take(case, order, mine, now), batch.allocated[case.order_id], now)


async def on_cancelled(batch: Batch, order_ids: Sequence[str]) -> None:
    """Cancelled orders: the cases waiting for them will never apply (nothing of the order ships)."""
    for case_id in await batch.uow.repo.drop_pending_intercepts(order_ids):
        log.info("order cancelled: its waiting refund is moot", case_id=case_id)


def _take(case: CaseRefund, order: OrderSourcing, tasks: list[Task], now: datetime) -> Interception:
    return intercept(tasks, case.lines, now, shipping_lines={x.line_id for x in order.order_lines})


async def _done(
    batch: Batch, case: CaseRefund, result: Interception, cause: Envelope[Any], now: datetime
) -> None:
    held = [
        InterceptedLine(
            line_id=h.line_id, material_code=h.material_code, qty=h.qty, task_id=h.task_id,
            node_code=h.node_code, reservation_id=h.reservation_id, task_cancelled=h.task_cancelled,
        )
        for h in result.held
    ]  # fmt: skip
    gone = [
        NotIntercepted(line_id=g.line_id, material_code=g.material_code, qty=g.qty, why=g.why)
        for g in result.gone
    ]
    await batch.uow.repo.finish_intercept(
        case.case_id,
        "done",
        [x.model_dump(mode="json") for x in held],
        [x.model_dump(mode="json") for x in gone],
    )
    event = LinesInterceptedV1(order_id=case.order_id, case_id=case.case_id, intercepted=held,
                               not_intercepted=gone, intercepted_at=now)  # fmt: skip
    batch.uow.emit(event, key=case.order_id, cause=cause)
    log.info("refund intercepted", case_id=case.case_id, order_id=case.order_id,
             held=sum(h.qty for h in held), gone=sum(g.qty for g in gone),
             tasks_cancelled=len(result.cancelled))  # fmt: skip
