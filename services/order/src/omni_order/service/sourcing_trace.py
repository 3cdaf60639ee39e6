"""Fulfillment's sourcing decisions kept in the order's decision trace (GET /orders/{id}/trace).

`fulfillment.sourcing-decided` (one per plan: the first, each re-plan after a refusal, and a give-up) names
every node sourcing considered: chosen, lost, excluded or unusable, with why. Each becomes one
`order_decisions` row, stage "sourcing", subject "node <code> (attempt n)", matched when chosen, the effect
what the node ships. It changes no status (follow.py does that, from fulfillment's other events).

Idempotent: the chassis inbox claims each event id once per consumer group, so a redelivery writes nothing.
An event naming an order this OMS does not know is ignored with a warning: the trace is information only,
and a row cannot exist without its order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.fulfillment import SourcingDecidedV1

from .journal import OrderUow

log = get_logger(__name__)

SOURCING_DECIDED = "fulfillment.sourcing-decided"
STAGE = "sourcing"


def sourcing_rows(d: SourcingDecidedV1) -> list[dict[str, Any]]:
    """The trace rows of one decision: one per node considered; an unfulfillable one also says why."""
    rows = [
        {
            "order_id": d.order_id,
            "stage": STAGE,
            "subject": f"node {n.node_code} (attempt {d.attempt})",
            "matched": n.outcome == "chosen",
            "why": n.why,
            "effect": _effect(n.outcome, n.lines),
            "at": d.decided_at,
        }
        for n in d.nodes
    ]
    if d.result == "unfulfillable":
        rows.append(
            {
                "order_id": d.order_id,
                "stage": STAGE,
                "subject": f"plan (attempt {d.attempt})",
                "matched": False,
                "why": d.reason or "no plan",
                "effect": "unfulfillable",
                "at": d.decided_at,
            }
        )
    return rows


def _effect(outcome: str, lines: Sequence[Any]) -> str:
    if outcome == "chosen":
        return "ships " + ", ".join(f"{x.material_code}×{x.qty}" for x in lines)
    return outcome  # lost | excluded | unusable


async def record_sourcing_decisions(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> None:
    """Keep the batch's sourcing decisions in their orders' traces; the other events are not for this."""
    await record_decisions(uow, envs, SOURCING_DECIDED, sourcing_rows, "sourcing decision", "attempt")


async def record_decisions(
    uow: OrderUow,
    envs: Sequence[Envelope[Any]],
    event_type: str,
    rows_of: Callable[[Any], list[dict[str, Any]]],
    what: str,
    detail: str,
) -> None:
    """Fulfillment's decisions of `event_type` kept as trace rows (`rows_of(event data)`) of their orders;
    a decision for an order this OMS does not know is logged (with the event's `detail` field) and dropped.
    Shared by the sourcing and the carrier traces."""
    envs = [e for e in envs if e.event_type == event_type]
    if not envs:
        return
    async with uow:
        repo = uow.repo
        known = {r["order_id"] for r in await repo.statuses(sorted({e.data.order_id for e in envs}))}
        rows: list[dict[str, Any]] = []
        for env in envs:
            d = env.data
            if d.order_id not in known:
                log.warning(f"{what} for an order this OMS does not know: ignored", order_id=d.order_id,
                            event_id=str(env.event_id), **{detail: getattr(d, detail)})  # fmt: skip
                continue
            rows.extend(rows_of(d))
        await repo.add_decisions(rows)
