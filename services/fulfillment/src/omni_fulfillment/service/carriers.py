"""Carrier routing: the carrier of each ship task (its parcel), chosen from the carriers as data.

Fed by its own consumer group (`fulfillment-carriers`, consumers_carriers.py):
- `order.accepted`: what routing keeps of the order (shop, province / city / district, the OMS rules'
  carrier hints), in `carrier_orders`;
- `fulfillment.order-allocated` (fulfillment's own): each ship task of the order that has no carrier
  choice yet gets one (attempt 1). An allocation whose order.accepted has not been read yet (the two
  topics are read apart) is parked until it is, never dropped.
And by operations: a carrier that refuses the parcel at ship time (`carrier_refused`): the next carrier is
chosen, that one kept out of the parcel's choices from then on.

Every choice is one `carrier_assignments` row (the one in force is `current`), the task's `carrier`, and a
`fulfillment.carrier-chosen` event: the freight cost for finance, the trace for the OMS. The weight is the
task's own lines (material weight_g × qty, from `material_weights`, product.material.upserted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope, utcnow
from omni_contracts.events.fulfillment_carriers import CarrierChosenV1, CarrierConsidered
from omni_contracts.events.order import OrderAcceptedV1

from ..domain.carrier_choice import Choice, Parcel, choose
from ..domain.carriers import Region
from ..domain.errors import Conflict, Forbidden, NotFound
from ..domain.tasks import Task, TaskKind
from ..rows_carriers import hints_json
from ..store_carriers import CLOSED, Repository

log = get_logger(__name__)

CarrierUow = UnitOfWork[Repository]
ORDER_ACCEPTED = "order.accepted"
ALLOCATED = "fulfillment.order-allocated"
MATERIAL_UPSERTED = "product.material.upserted"
CARRIER_EVENTS = frozenset({ORDER_ACCEPTED, ALLOCATED})
MATERIAL_EVENTS = frozenset({MATERIAL_UPSERTED})


def waits_for(order_id: str) -> str:
    return f"carrier-order:{order_id}"


async def on_carrier_events(uow: CarrierUow, envs: Sequence[Envelope[Any]]) -> None:
    """A batch of order.accepted and fulfillment.order-allocated: acceptances first (an allocation of the
    same batch then finds its order)."""
    accepted = [e for e in envs if e.event_type == ORDER_ACCEPTED]
    allocated = [e for e in envs if e.event_type == ALLOCATED]
    async with uow:
        repo = uow.repo
        if accepted:
            rows = {e.data.order_id: _context(e.data) for e in accepted}  # the last acceptance wins
            await repo.save_carrier_orders([rows[k] for k in sorted(rows)])
            uow.release(*(waits_for(k) for k in sorted(rows)))
        if not allocated:
            return
        contexts = await repo.carrier_orders({e.data.order_id for e in allocated})
        ready: dict[str, Envelope[Any]] = {}
        for e in allocated:
            if e.data.order_id in contexts:
                ready.setdefault(e.data.order_id, e)
            else:
                uow.park(e, waits_for(e.data.order_id), "waiting for the order's order.accepted")
        if not ready:
            return
        tasks = await repo.order_tasks(ready, lock=True)
        shipping = [t for t in tasks if t.kind is TaskKind.SHIP and t.status.value not in CLOSED]
        chosen = await repo.assignments(t.task_id for t in shipping)
        todo = [t for t in shipping if t.task_id not in chosen]  # a redelivery or a second allocation
        await _choose(uow, todo, contexts, {t.task_id: {} for t in todo}, {}, ready)


async def on_materials(uow: CarrierUow, envs: Sequence[Envelope[Any]]) -> None:
    """product.material.upserted: each material's weight, the newest version kept."""
    newest: dict[str, tuple[int, int]] = {}
    for e in envs:
        m = e.data
        if m.code not in newest or newest[m.code][1] < m.version:
            newest[m.code] = (m.weight_g, m.version)
    async with uow:
        await uow.repo.save_weights([(code, w, v) for code, (w, v) in newest.items()])


async def carrier_refused(
    uow: CarrierUow, task_id: str, carrier: str | None, reason: str, scope: str | None
) -> tuple[Task, str, Choice]:
    """At ship time the carrier (the task's, or the one named) refused the parcel: it is kept out of this
    parcel's choices from now on, and the next carrier is chosen (and traced). Returns the task (with its
    new carrier), the carrier that refused and the new choice."""
    async with uow:
        repo = uow.repo
        peek = await repo.get_task(task_id)
        if peek is None:
            raise NotFound(f"task {task_id} does not exist")
        if scope is not None and peek.node_code != scope:
            raise Forbidden(f"task {task_id} belongs to node {peek.node_code}")
        await repo.lock_sourcing(peek.order_id)  # the lock order of the task use cases: order, then tasks
        task = next(t for t in await repo.order_tasks([peek.order_id], lock=True) if t.task_id == task_id)
        if task.kind is not TaskKind.SHIP:
            raise Conflict(f"task {task_id} is a store pickup: it has no carrier")
        if task.status.value in CLOSED:
            raise Conflict(f"task {task_id} is {task.status.value}: its carrier can no longer change")
        history = (await repo.assignments([task_id])).get(task_id, [])
        current = next((a for a in reversed(history) if a["current"]), None)
        named = carrier or (current["carrier"] if current else None) or task.carrier
        if named is None:
            raise Conflict(f"task {task_id} has no carrier to refuse: choose one at ship time")
        now, attempt = utcnow(), len(history) + 1
        why = reason or "refused the parcel at ship time"
        if current is not None:
            await repo.refuse_assignment(task_id, current["attempt"], why, now)
        if current is None or current["carrier"] != named:  # a carrier the parcel was handed to by hand
            await repo.add_assignments([_refusal_row(task, attempt, named, why, now)])
            attempt += 1
        refused = {a["carrier"]: a["refused_reason"] for a in history if a["carrier"] and a["refused_reason"]}
        refused[named] = why
        contexts = await repo.carrier_orders([task.order_id])
        choice = (await _choose(uow, [task], contexts, {task_id: refused}, {task_id: attempt}, {}, named))[0]
        task.carrier = choice.carrier
    log.info("carrier refused the parcel at ship time", task_id=task_id, refused=named, next=choice.carrier)
    return task, named, choice


async def carrier_history(uow: CarrierUow, task_id: str, scope: str | None) -> list[dict[str, Any]]:
    async with uow:
        task = await uow.repo.get_task(task_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        if scope is not None and task.node_code != scope:
            raise Forbidden(f"task {task_id} belongs to node {task.node_code}")
        return (await uow.repo.assignments([task_id])).get(task_id, [])


async def _choose(
    uow: CarrierUow,
    tasks: Sequence[Task],
    contexts: dict[str, dict[str, Any]],
    refused: dict[str, dict[str, str]],
    attempts: dict[str, int],
    causes: dict[str, Envelope[Any]],
    replaces: str | None = None,
) -> list[Choice]:
    """Choose, record and announce the carrier of each task (the carriers locked for the day counts)."""
    if not tasks:
        return []
    repo = uow.repo
    carriers = await repo.routing_carriers()
    pins = await repo.active_pins()
    promise = await repo.get_promise()
    weights = await repo.weights(x.material_code for t in tasks for x in t.lines)
    now = utcnow()
    used = dict(await repo.used({(c.code, c.ship_day(now)[0]) for c in carriers}))
    rows: list[dict[str, Any]] = []
    choices: list[Choice] = []
    for t in tasks:
        parcel = _parcel(t, contexts.get(t.order_id), weights, refused.get(t.task_id, {}))
        choice = choose(parcel, carriers, pins, promise, used, now)
        if choice.carrier is not None and choice.ship_day is not None:
            used[(choice.carrier, choice.ship_day)] = used.get((choice.carrier, choice.ship_day), 0) + 1
        attempt = attempts.get(t.task_id, 1)
        considered = [
            CarrierConsidered(
                carrier=c.carrier,
                chosen=c.chosen,
                reason=c.reason,
                cost_cents=c.cost_cents,
                sla_days=c.sla_days,
            )
            for c in choice.considered
        ]
        event = CarrierChosenV1(
            order_id=t.order_id,
            task_id=t.task_id,
            node_code=t.node_code,
            attempt=attempt,
            carrier=choice.carrier,
            cost_cents=choice.cost_cents,
            weight_g=parcel.weight_g,
            sla_days=choice.sla_days,
            promised_days=choice.promised_days,
            ship_day=choice.ship_day,
            reason=choice.reason,
            replaces=replaces,
            considered=considered,
            chosen_at=now,
        )
        uow.emit(event, key=t.order_id, cause=causes.get(t.order_id))
        rows.append(
            {
                "task_id": t.task_id,
                "attempt": attempt,
                "order_id": t.order_id,
                "node_code": t.node_code,
                "carrier": choice.carrier,
                "cost_cents": choice.cost_cents,
                "weight_g": parcel.weight_g,
                "sla_days": choice.sla_days,
                "promised_days": choice.promised_days,
                "ship_day": choice.ship_day,
                "current": True,
                "reason": choice.reason,
                "considered": [c.model_dump() for c in considered],
                "refused_reason": None,
                "chosen_at": now,
                "refused_at": None,
            }
        )
        choices.append(choice)
        log.debug("carrier chosen", task_id=t.task_id, order_id=t.order_id, carrier=choice.carrier)
    await repo.add_assignments(rows)
    await repo.set_task_carriers([(t.task_id, c.carrier) for t, c in zip(tasks, choices, strict=True)])
    return choices


def _parcel(t: Task, ctx: dict[str, Any] | None, weights: dict[str, int], refused: dict[str, str]) -> Parcel:
    ctx = ctx or {"shop_id": "", "province": "", "city": "", "district": "", "hints": []}
    return Parcel(
        task_id=t.task_id,
        order_id=t.order_id,
        shop_id=ctx["shop_id"],
        region=Region(ctx["province"], ctx["city"], ctx["district"]),
        weight_g=sum(weights.get(x.material_code, 0) * x.qty for x in t.lines),
        materials=frozenset(x.material_code for x in t.lines),
        hints=tuple((h["carrier"], h.get("ruleset", "")) for h in ctx["hints"]),
        refused=refused,
        unknown_weight=tuple(sorted({x.material_code for x in t.lines} - set(weights))),
    )


def _context(o: OrderAcceptedV1) -> dict[str, Any]:
    """What routing keeps of the order: never the street, the name or the phone."""
    hints = [(h.carrier, h.ruleset) for h in o.route_hints if h.carrier]
    return {
        "order_id": o.order_id,
        "shop_id": o.shop_id,
        "province": o.ship_to.state,
        "city": o.ship_to.city,
        "district": o.ship_to.district,
        "hints": hints_json(hints),
    }


def _refusal_row(task: Task, attempt: int, carrier: str, why: str, now: Any) -> dict[str, Any]:
    """A carrier the parcel was handed to without being chosen (by hand), which refused it."""
    return {
        "task_id": task.task_id,
        "attempt": attempt,
        "order_id": task.order_id,
        "node_code": task.node_code,
        "carrier": carrier,
        "cost_cents": None,
        "weight_g": 0,
        "sla_days": None,
        "promised_days": 0,
        "ship_day": None,
        "current": False,
        "reason": "the carrier the parcel was handed to at ship time",
        "considered": [],
        "refused_reason": why,
        "chosen_at": now,
        "refused_at": now,
    }
