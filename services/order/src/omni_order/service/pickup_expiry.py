"""A store pickup nobody collected: fulfillment's `fulfillment.pickup-expired` (the pickup hold ran out; the
task is cancelled and inventory releases its stock). The order cannot be fulfilled any more:

- an order still `allocated` is cancelled (reason code `pickup_expired`), and `order.cancelled` says that a
  refund of what the buyer paid is due, as an escalated backorder's cancellation does;
- an order that cannot be cancelled any more (another of its tasks was picked up, say) is left as it is:
  the expiry is kept in its decision trace (stage `fulfillment`), for after-sales to refund those units.

Either way the decision trace says what happened. Idempotent: the chassis inbox claims each event once, and
an order already cancelled changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.order import OrderCancelledV1

from ..domain.status import Status, can_transition
from .journal import OrderUow, StatusJournal

log = get_logger(__name__)

PICKUP_EXPIRED = "fulfillment.pickup-expired"
EVENTS = frozenset({PICKUP_EXPIRED})
REASON_CODE = "pickup_expired"


async def on_pickups_expired(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> None:
    envs = [e for e in envs if e.event_type == PICKUP_EXPIRED]
    if not envs:
        return
    async with uow:
        repo = uow.repo
        orders = await repo.lock_orders({e.data.order_id for e in envs})
        full = await repo.orders_by_id(list(orders))  # what was paid
        journal = StatusJournal(uow, "fulfillment")
        trace: list[dict[str, Any]] = []
        for env in envs:
            d = env.data
            order = orders.get(d.order_id)
            if order is None:
                log.warning(
                    "pickup expired for an order this OMS does not know: ignored", order_id=d.order_id
                )
                continue
            what = f"store pickup at {d.node_code} {d.reason} (task {d.task_id})"
            current = Status(order["status"])
            if current == Status.CANCELLED:
                effect, why = "nothing: already cancelled", what
            elif can_transition(current, Status.CANCELLED):
                paid = full[d.order_id]
                refund = f"a refund of {paid['paid_cents']} fen ({paid['currency']}) is due to the buyer"
                reason = f"{what}: cancelled; {refund}"
                journal.transition(order, Status.CANCELLED, reason_code=REASON_CODE, reason=reason, cause=env)
                journal.set(d.order_id, cancelled_at=journal.at)
                uow.emit(OrderCancelledV1(order_id=d.order_id, reason=reason), key=d.order_id, cause=env)
                effect, why = "cancelled", reason
                log.info("order cancelled: its pickup was not collected", order_id=d.order_id)
            else:
                effect = f"kept {current}: refund the units of task {d.task_id} through after-sales"
                why = what
                log.warning("pickup expired for an order that cannot be cancelled any more",
                            order_id=d.order_id, status=str(current), task_id=d.task_id)  # fmt: skip
            trace.append(
                {"order_id": d.order_id, "stage": "fulfillment", "subject": f"pickup task {d.task_id}",
                 "matched": False, "why": why, "effect": effect, "at": d.expired_at}
            )  # fmt: skip
        await repo.add_decisions(trace)
