"""Freight in finance's use cases (domain rules in domain/freight.py): the parts service.handle_shipments
calls, in its unit of work, for the `finance-shipments` group on omni.fulfillment.

- `fulfillment.carrier-chosen`: the task's choice in force (`carrier_costs`), the latest attempt; never parked
  (it needs no order: it only waits for the task's shipment).
- After each choice in force and each shipment booked, `settle` books the task's freight once it has both.
Both events of a task are keyed by its order, so they come in order on one partition; the parking loop may
apply a parked shipment beside the live consumer, which the task's lock (store_freight) serialises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope

from .domain import freight
from .domain.freight import CarrierCost, Outcome, Parcel, Taken
from .service_merge import source_of
from .store import Writes

log = get_logger(__name__)

CARRIER_EVENTS = {"fulfillment.carrier-chosen"}


def apply_choice(w: Writes, env: Envelope[Any], now: datetime) -> None:
    """One carrier choice: in force when it is the task's latest attempt, then the freight settled."""
    d = env.data
    new = CarrierCost(
        task_id=d.task_id, order_id=d.order_id, node_code=d.node_code, attempt=d.attempt, carrier=d.carrier,
        cost_cents=d.cost_cents, currency=d.currency, source_event_id=env.event_id, chosen_at=d.chosen_at,
    )  # fmt: skip
    prior = w.costs.get(d.task_id)
    taken = freight.take(prior, new)
    if taken is Taken.STALE:
        log.info(
            "carrier choice not later than the one in force; nothing changed",
            order_id=d.order_id, task_id=d.task_id, attempt=d.attempt,
            in_force=prior.attempt if prior else None,
        )  # fmt: skip
        return
    w.costs[d.task_id] = freight.replaced(prior, new)
    w.changed_costs.add(d.task_id)
    if taken is Taken.AFTER_BOOKING and prior is not None:
        log.warning(
            "carrier chosen again after the task's freight was booked; the books keep what was booked",
            order_id=d.order_id, task_id=d.task_id, attempt=d.attempt, carrier=d.carrier,
            booked_carrier=prior.booked_carrier, booked_cents=prior.booked_cents,
        )  # fmt: skip
        return
    settle(w, env, d.task_id, now)


def shipped(w: Writes, env: Envelope[Any], now: datetime) -> None:
    """A shipment (or pickup) of the task was booked just now (its rows in `w.shipments`): settle it."""
    task_id = env.data.task_id
    rows = [r for r in w.shipments if r["task_id"] == task_id]
    w.parcels[task_id] = [Parcel(r["order_id"], r["carrier"], r["goods_cents"]) for r in rows]
    settle(w, env, task_id, now)


def settle(w: Writes, env: Envelope[Any], task_id: str, now: datetime) -> None:
    cost, parcels = w.costs.get(task_id), w.parcels.get(task_id, [])
    outcome, vouchers = freight.book(cost, parcels, source_of(env), now)
    order_id = env.data.order_id
    if outcome is Outcome.BOOKED and cost is not None:
        w.vouchers.extend(vouchers)
        w.changed_costs.add(task_id)
        log.info(
            "freight booked", order_id=order_id, task_id=task_id, carrier=cost.carrier,
            cost_cents=cost.cost_cents, vouchers=len(vouchers),
        )  # fmt: skip
    elif outcome is Outcome.OTHER_CARRIER and cost is not None:
        log.warning(
            "task shipped with another carrier than the one chosen; no freight booked (its cost is only "
            "known for the carrier routing chose)",
            order_id=order_id, task_id=task_id, chosen_carrier=cost.carrier,
            shipped_carrier=", ".join(sorted({p.carrier or "-" for p in parcels})), attempt=cost.attempt,
        )  # fmt: skip
    elif outcome in (Outcome.NO_CARRIER, Outcome.NO_COST, Outcome.PICKED_UP):
        log.info("no freight to book", order_id=order_id, task_id=task_id, why=outcome.value)
