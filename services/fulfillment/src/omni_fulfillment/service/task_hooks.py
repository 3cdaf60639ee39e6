"""Where store tasks' work meets sourcing (small hooks the sourcing use cases call):

- `remember_orders`: each accepted order's channel, shop and platform order id (for SLAs per channel and
  the buyer's pickup-code message);
- `skip_paused`: paused nodes (a store too busy) are taken out of a stock view before sourcing plans on it;
- `prepare_new_tasks`: a new task gets its node's type and its order's channel, and its accept SLA timer;
- `load_live` / `split_allocation` / `cancel_live`: an order re-sourced after allocation already has
  tasks: its new allocation makes tasks only for the new reservations (and names every task the order
  still has); given up on, its open tasks are cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow

from ..domain.lines import OrderLine
from ..domain.order_sourcing import Reservation
from ..domain.sla import resolve
from ..domain.stock_view import StockView
from ..domain.tasks import ENDED, OPEN, Task, TaskStatus
from .common import Uow
from .task_config import ACCEPT_TIMER, TASK_TIMERS, config

if TYPE_CHECKING:
    from .outcomes import Batch

log = get_logger(__name__)


async def remember_orders(uow: Uow, envs: Sequence[Envelope[Any]]) -> None:
    rows = [(e.data.order_id, e.data.channel, e.data.shop_id, e.data.channel_order_id) for e in envs]
    if rows:
        await uow.repo.save_order_refs(rows, utcnow())


async def skip_paused(uow: Uow, view: StockView, now: datetime | None = None) -> dict[str, str]:
    """Take the paused nodes out of `view`; returns them, each with why (for a re-source's trace)."""
    paused = await uow.repo.paused_nodes(now or utcnow())
    out = {}
    for code, (until, reason) in paused.items():
        out[code] = f"paused until {until.isoformat(timespec='minutes')} ({reason})"
        view.nodes.pop(code, None)
        view.stock.pop(code, None)
        for holders in view.holders.values():
            holders.discard(code)
    return out


async def prepare_new_tasks(uow: Uow, tasks: Sequence[Task], now: datetime | None = None) -> None:
    """Before the tasks are written: their node's type, their order's channel, the accept SLA's due time
    (and its timer: a node that does not accept in time loses the task)."""
    if not tasks:
        return
    repo = uow.repo
    codes = {t.node_code for t in tasks}
    types = await repo.node_types(codes)
    refs = await repo.order_refs({t.order_id for t in tasks})
    policies = await repo.sla_policies_for(codes)
    now = now or utcnow()
    for t in tasks:
        t.node_type = types.get(t.node_code)
        t.channel = refs[t.order_id][0] if t.order_id in refs else None
        sla = resolve(policies, t.node_code, t.channel, config().sla.of(t.node_type))
        if sla.accept_s and t.status is TaskStatus.ASSIGNED:
            t.due_kind, t.due_at = "accept", (t.created_at or now) + timedelta(seconds=sla.accept_s)
            uow.schedule_timer(
                ACCEPT_TIMER, t.task_id, t.due_at, {"order_id": t.order_id, "sla_s": sla.accept_s}
            )


async def load_live(uow: Uow, batch: Batch, order_ids: Iterable[str]) -> None:
    """The tasks these orders already have (an order re-sourced after its allocation), for the batch."""
    for t in await uow.repo.order_tasks(order_ids):
        batch.live.setdefault(t.order_id, []).append(t)


def split_allocation(
    batch: Batch, order_id: str, reservations: Sequence[Reservation]
) -> tuple[list[Reservation], list[Task]]:
    """The reservations of an allocation that need a task, and the order's tasks that stay its own."""
    had = batch.live.get(order_id, [])
    tasked = {t.reservation_id for t in had}
    return [r for r in reservations if r.reservation_id not in tasked], [
        t for t in had if t.status not in ENDED
    ]


def unheld_lines(order_lines: Sequence[OrderLine], kept: Sequence[Task]) -> tuple[OrderLine, ...]:
    """The order lines' units no kept task holds (what a re-sourced task's units are for)."""
    held: dict[str, int] = {}
    for t in kept:
        for p in t.order_lines:
            held[p.line_id] = held.get(p.line_id, 0) + p.qty
    out = []
    for x in order_lines:
        left = x.qty - held.get(x.line_id, 0)
        if left > 0:
            out.append(OrderLine(x.line_id, x.material_code, left, x.group))
    return tuple(out)


def cancel_live(batch: Batch, order_id: str, why: str, now: datetime) -> list[Task]:
    """The order was given up on: its open tasks are cancelled (inventory releases what they hold)."""
    stopped = [t for t in batch.live.get(order_id, []) if t.status in OPEN and t.cancel(now, why)]
    for t in stopped:
        for kind in TASK_TIMERS:
            batch.uow.cancel_timer(kind, t.task_id)
    batch.changed_tasks.extend(stopped)
    if stopped:
        log.info(
            "order given up on: its open tasks cancelled",
            order_id=order_id,
            tasks=[t.task_id for t in stopped],
        )
    return stopped
