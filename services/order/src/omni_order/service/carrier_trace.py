"""Fulfillment's carrier choices kept in the order's decision trace (GET /orders/{id}/trace).

`fulfillment.carrier-chosen` (one per parcel, i.e. per task: at allocation, and again each time a carrier
refuses the parcel at ship time) names every carrier routing considered, with why. Each becomes one
`order_decisions` row, stage "carrier", subject "carrier <code> (task <id>, attempt n)", matched when
chosen. The effect is the chosen carrier's freight cost ("ships with SF for ¥12.00, 2 days"), or what
became of the others (lost: it could take the parcel; unusable: it could not). A choice with no carrier at
all adds a row saying why. After a refusal at ship time, the first row names the carrier that refused
(effect refused: "carrier failure at ship time: ... the next carrier").
It changes no status.

Idempotent: the chassis inbox claims each event id once per consumer group, so a redelivery writes nothing.
An event naming an order this OMS does not know is ignored with a warning: the trace is information only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_contracts import Envelope
from omni_contracts.events.fulfillment_carriers import CarrierChosenV1

from ..domain.credit import yuan
from .journal import OrderUow
from .sourcing_trace import record_decisions

CARRIER_CHOSEN = "fulfillment.carrier-chosen"
EVENTS = frozenset({CARRIER_CHOSEN})
STAGE = "carrier"


def _row(d: CarrierChosenV1, subject: str, matched: bool, why: str, effect: str) -> dict[str, Any]:
    return {
        "order_id": d.order_id,
        "stage": STAGE,
        "subject": f"{subject} (task {d.task_id}, attempt {d.attempt})",
        "matched": matched,
        "why": why,
        "effect": effect,
        "at": d.chosen_at,
    }


def carrier_rows(d: CarrierChosenV1) -> list[dict[str, Any]]:
    """The trace rows of one choice: one per carrier considered (and one more when none could take it)."""
    rows: list[dict[str, Any]] = []
    if d.replaces:
        why = f"carrier failure at ship time: {d.replaces} refused the parcel; the next carrier"
        rows.append(_row(d, f"carrier {d.replaces}", False, why, "refused"))
    for c in d.considered:
        if c.chosen and c.cost_cents is not None:
            days = "" if c.sla_days is None else f", {c.sla_days} day" + ("" if c.sla_days == 1 else "s")
            rows.append(_row(d, f"carrier {c.carrier}", True, d.reason,
                             f"ships with {c.carrier} for {yuan(c.cost_cents)}{days}"))  # fmt: skip
        else:
            effect = "lost" if c.cost_cents is not None else "unusable"
            rows.append(_row(d, f"carrier {c.carrier}", False, c.reason, effect))
    if d.carrier is None:
        rows.append(_row(d, "carrier", False, d.reason, "no carrier: an operator chooses at ship time"))
    return rows


async def record_carrier_choices(uow: OrderUow, envs: Sequence[Envelope[Any]]) -> None:
    """Keep the batch's carrier choices in their orders' traces; the other events are not for this."""
    await record_decisions(uow, envs, CARRIER_CHOSEN, carrier_rows, "carrier choice", "task_id")
