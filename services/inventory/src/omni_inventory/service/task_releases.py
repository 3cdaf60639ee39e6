"""A store gives units of a task back: fulfillment's `task-rejected` (its staff rejected the task or some of
its lines, or picked fewer than asked), `task-reassigned` (it did not accept the task in time) and
`pickup-expired` (a pickup nobody collected). Consumed in the `inventory-fulfillment` batch
(service/reservations.py), so it shares the batch's unit of work, locks and StockChanges.

- **Release the units.** The reservation named is locked; each line's units leave `reserved` at the node
  (ledger kind `release`, reference the reservation id, `inventory.stock-changed` movement `release`), and
  the reservation's lines go down, so its shipment consumes only what is left. A reservation whose lines
  reach 0 is released whole (`inventory.reservation-released`). A reservation no longer reserved (released
  by a cancellation, consumed) gives nothing back; that is logged.
- **Out of stock.** For each material of `stock_out`, the node said it has none: on hand goes down to what
  is still held there (reserved + frozen), so its available is 0 (ledger kind `adjustment`, reference
  `stockout:<task>`). A cycle count (POST /counts) later sets the truth.
- **Errors.** An unknown reservation, or one at another node, is a ReservationStateError (dead-lettered).
- **Once.** The inbox applies each event once; fulfillment publishes one event per give-back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow

from ..domain.model import Line, ReservationStateError, ReservationStatus
from .answers import _answer
from .changes import StockChanges, Uow

log = get_logger(__name__)

REJECTED = "fulfillment.task-rejected"
REASSIGNED = "fulfillment.task-reassigned"
EXPIRED = "fulfillment.pickup-expired"
GIVEN_BACK = frozenset({REJECTED, REASSIGNED, EXPIRED})


def stock_pairs(data: Any) -> set[tuple[str, str]]:
    """The stock rows a give-back may change (for the batch's lock, in its global order)."""
    return {(data.node_code, x.material_code) for x in data.lines} | {
        (data.node_code, m) for m in getattr(data, "stock_out", [])
    }


async def on_given_back(uow: Uow, changes: StockChanges, env: Envelope[Any]) -> None:
    d, repo, now = env.data, uow.repo, utcnow()
    res = await repo.lock_reservation(d.reservation_id)
    if res is None:
        raise ReservationStateError(
            f"task {d.task_id} gave back units of reservation {d.reservation_id}, which does not exist"
        )
    if res.node_code != d.node_code:
        raise ReservationStateError(
            f"task {d.task_id} at node {d.node_code} gave back units of reservation {d.reservation_id}, "
            f"which holds stock at node {res.node_code}"
        )
    if res.status is ReservationStatus.RESERVED:
        held = {x.material_code: x.qty for x in res.lines}
        give: dict[str, int] = {}
        for x in d.lines:
            n = min(x.qty, held.get(x.material_code, 0) - give.get(x.material_code, 0))
            if n > 0:
                give[x.material_code] = give.get(x.material_code, 0) + n
        for material, qty in sorted(give.items()):
            row = await repo.take_reserved(res.node_code, material, qty, ship=False, at=now)
            if row is None:
                raise ReservationStateError(
                    f"reservation {res.reservation_id} holds {qty} of {material} at node {res.node_code}, "
                    "but the stock row has fewer reserved: cannot release what the task gave back"
                )
            changes.stock(row, "release", res.reservation_id, 0, -qty, env)
        left = [Line(m, held[m] - give.get(m, 0)) for m in held if held[m] - give.get(m, 0) > 0]
        if left:
            await repo.set_reservation_lines(res.reservation_id, left, ReservationStatus.RESERVED, now)
        else:
            gave = [Line(m, q) for m, q in give.items()]
            await repo.set_reservation_lines(res.reservation_id, gave, ReservationStatus.RELEASED, now)
            _answer(uow, replace(res, status=ReservationStatus.RELEASED, lines=gave, updated_at=now), env)
        log.info("units given back released", event_type=env.event_type, task_id=d.task_id,
                 reservation_id=res.reservation_id, released=sum(give.values()), whole=not left)  # fmt: skip
    else:
        log.info("units given back of a reservation no longer held; nothing to release",
                 task_id=d.task_id, reservation_id=res.reservation_id, status=res.status.value)  # fmt: skip
    for material in sorted(set(getattr(d, "stock_out", []))):
        await _stock_out(uow, changes, env, res.node_code, material, now)


async def _stock_out(
    uow: Uow, changes: StockChanges, env: Envelope[Any], node: str, material: str, at: Any
) -> None:
    """The node has none of `material`: on hand down to what is held, available 0."""
    row = await uow.repo.get_stock(node, material)
    if row is None or row.available <= 0:
        return
    delta = -row.available
    after = await uow.repo.adjust(node, material, delta, at)
    if after is None:
        raise ReservationStateError(f"stock of {material} at node {node} changed while zeroing it; try again")
    changes.stock(after, "adjustment", f"stockout:{env.data.task_id}", delta, 0, env)
    log.info("store reported out of stock: available set to 0", node_code=node, material_code=material,
             removed=-delta, task_id=env.data.task_id)  # fmt: skip
