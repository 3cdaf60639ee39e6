"""Partial intercepts (部分截单): fulfillment's `fulfillment.lines-intercepted`. A partial refund before
shipment (order.refund-approved with before_shipment, from aftersales.py) took units off the order's
tasks that had not left. It is read by the `order-fulfillment` group with the rest of fulfillment's events
(follow.py), so it comes in order with the order's allocation and shipments.

- **The case's history.** The refund's case gets one note (source `fulfillment`): what was held back, at
  which node (and the task that was cancelled for it), and what had already left, with fulfillment's
  reason. The note is written once per case: a case that already has a fulfillment note is not noted again,
  and nothing else changes.
- **The order's allocation.** The intercepted units come off it (`order_line_allocations`, per task and
  line), and a task left with nothing is no longer one of the order's. The allocation is then what the
  order still expects to ship, so its shipping status counts only that (follow.py):
  - the shipment of the last task left makes the order `shipped`, not `partially_shipped`;
  - an order partially shipped whose remaining tasks were all intercepted is `shipped` at once.
- **All intercepted.** A refund that takes every unit of the order is not an intercept: aftersales.py
  cancels that order instead.
- **Unknown case.** A case this OMS does not know (or one of another order) is logged. The allocation
  still loses the units, since they will not ship.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.fulfillment import InterceptedLine, LinesInterceptedV1, NotIntercepted

from .journal import OrderUow

log = get_logger(__name__)

INTERCEPTED = "fulfillment.lines-intercepted"
SOURCE = "fulfillment"  # the case history rows this module writes
NOTE_MAX = 500  # the history note's length, as Case.record keeps it


async def record_intercept(
    uow: OrderUow, env: Envelope[LinesInterceptedV1], allocation: Sequence[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """Note the intercept on its case, and return the order's allocation rows less the intercepted units;
    None when the case was noted before (a repeat: nothing changes)."""
    d = env.data
    case = await uow.repo.get_case(d.case_id, for_update=True)
    if case is None or case["order_id"] != d.order_id:
        log.warning("lines intercepted for a case this OMS does not know on that order",
                    case_id=d.case_id, order_id=d.order_id)  # fmt: skip
    elif any(h["source"] == SOURCE for h in await uow.repo.case_history(d.case_id)):
        log.info("intercept already noted on the case; nothing changes", case_id=d.case_id)
        return None
    else:
        now = utcnow()
        await uow.repo.update_case(d.case_id, {"updated_at": now})
        await uow.repo.add_case_history(
            {"case_id": d.case_id, "from_state": case["state"], "to_state": case["state"],
             "platform_status": None, "channel_status": None, "source": SOURCE,
             "note": note(d.intercepted, d.not_intercepted), "cause_event_id": env.event_id, "at": now}
        )  # fmt: skip
    return take_off(allocation, d.intercepted)


def take_off(rows: Sequence[dict[str, Any]], held: Sequence[InterceptedLine]) -> list[dict[str, Any]]:
    """The allocation rows (line, task, qty) less the units held back on each task; rows left at 0 go."""
    less: dict[tuple[str, str], int] = {}
    for x in held:
        less[(x.task_id, x.line_id)] = less.get((x.task_id, x.line_id), 0) + x.qty
    out = []
    for r in rows:
        key = (r["task_id"], r["line_id"])
        n = min(less.get(key, 0), r["qty"])
        less[key] = less.get(key, 0) - n
        if r["qty"] - n > 0:
            out.append(dict(r, qty=r["qty"] - n))
    if any(v > 0 for v in less.values()):
        log.warning("intercepted units the order's allocation did not hold",
                    lines=sorted(f"{t}/{ln}" for (t, ln), v in less.items() if v > 0))  # fmt: skip
    return out


def note(held: Sequence[InterceptedLine], gone: Sequence[NotIntercepted]) -> str:
    """The case's history note: what was held back where, and what had already left."""
    parts = []
    if held:
        parts.append("held back before shipment: " + "; ".join(
            f"{x.qty} × {x.material_code} (line {x.line_id}) at {x.node_code}, "
            + (f"its task {x.task_id} cancelled" if x.task_cancelled else f"off task {x.task_id}")
            for x in held
        ))  # fmt: skip
    else:
        parts.append("nothing could be held back")
    if gone:
        parts.append("not held back: " + "; ".join(
            f"{x.qty} × {x.material_code} (line {x.line_id}): {x.why or 'no reason given'}" for x in gone
        ))  # fmt: skip
    text = "fulfillment " + " | ".join(parts)
    return text if len(text) <= NOTE_MAX else text[: NOTE_MAX - 1] + "…"
