"""Partial intercepts (部分截单): `fulfillment.lines-intercepted` names the units that fulfillment took off
unshipped tasks for a partial refund before shipment, and inventory releases exactly those units from
each named reservation. It is consumed in the `inventory-fulfillment` batch (service/reservations.py), so
it shares the batch's unit of work, locks and StockChanges. It comes after the reservation's
`reservation-requested` and before its task's shipment, since fulfillment publishes all three keyed by the
order.

- **Release the units.** Each reservation named is locked, in reservation id order. Its lines not applied
  before give back their units: `reserved` goes down at the node. This writes a ledger row of kind
  `release` (reference: the reservation id) and `inventory.stock-changed` with movement `release`, as any
  release does. The reservation's recorded lines go down too, so its shipment later consumes only what is
  left (`_consume`).
- **Released whole.** A reservation whose lines all reach 0 is released whole: its status becomes
  `released`, its lines are what this last release gave back, and `inventory.reservation-released` says so,
  as a cancellation's release does.
- **Nothing left to release.** A reservation no longer reserved gives nothing back (a cancellation released
  it first, or it was consumed). Its lines are recorded with released 0, and it is logged. When a line
  asks for more units than the reservation holds of its material, what it holds is released.
- **Errors.** An unknown reservation, or one at another node, is a ReservationStateError: the message is
  dead-lettered, as a shipment against one would be.
- **Idempotent.** Each (case_id, reservation_id, line_id) is applied once (table `intercept_lines`, on top
  of the inbox's per-event dedupe): a repeat changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.fulfillment import InterceptedLine, LinesInterceptedV1

from ..domain.model import Line, ReservationStateError, ReservationStatus
from .answers import _answer
from .changes import StockChanges, Uow

log = get_logger(__name__)

INTERCEPTED = "fulfillment.lines-intercepted"


def stock_pairs(data: LinesInterceptedV1) -> set[tuple[str, str]]:
    """The stock rows the intercept may change (for the batch's lock, in its global order)."""
    return {(x.node_code, x.material_code) for x in data.intercepted}


async def on_lines_intercepted(uow: Uow, changes: StockChanges, env: Envelope[LinesInterceptedV1]) -> None:
    d = env.data
    by_reservation: dict[str, list[InterceptedLine]] = {}
    for x in d.intercepted:
        by_reservation.setdefault(x.reservation_id, []).append(x)
    now = utcnow()
    for reservation_id in sorted(by_reservation):
        await _release_part(uow, changes, env, reservation_id, by_reservation[reservation_id], now)


async def _release_part(
    uow: Uow,
    changes: StockChanges,
    env: Envelope[LinesInterceptedV1],
    reservation_id: str,
    lines: list[InterceptedLine],
    now: datetime,
) -> None:
    d, repo = env.data, uow.repo
    res = await repo.lock_reservation(reservation_id)
    if res is None:
        raise ReservationStateError(
            f"case {d.case_id} intercepted units of reservation {reservation_id}, which does not exist"
        )
    if any(x.node_code != res.node_code for x in lines):
        raise ReservationStateError(
            f"case {d.case_id} intercepted units of reservation {reservation_id} at another node than "
            f"{res.node_code}, where it holds its stock"
        )
    done = await repo.intercepted_lines(reservation_id)
    fresh: dict[tuple[str, str], InterceptedLine] = {}
    for x in lines:
        fresh.setdefault((d.case_id, x.line_id), x)
    repeats = [k for k in fresh if k in done]
    for k in repeats:
        del fresh[k]
    if not fresh:
        log.info("intercept already applied; nothing to release", case_id=d.case_id,
                 reservation_id=reservation_id)  # fmt: skip
        return
    reserved = res.status is ReservationStatus.RESERVED
    held = {x.material_code: x.qty for x in res.lines} if reserved else {}
    give: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    for x in fresh.values():
        n = min(x.qty, held.get(x.material_code, 0))
        if reserved and n < x.qty:
            log.warning("intercept asks for more than the reservation holds; releasing what it holds",
                        case_id=d.case_id, reservation_id=reservation_id, line_id=x.line_id,
                        asked=x.qty, held=n)  # fmt: skip
        held[x.material_code] = held.get(x.material_code, 0) - n
        give[x.material_code] = give.get(x.material_code, 0) + n
        records.append({"case_id": d.case_id, "reservation_id": reservation_id, "line_id": x.line_id,
                        "order_id": d.order_id, "node_code": res.node_code, "material_code": x.material_code,
                        "qty": x.qty, "released": n, "at": now})  # fmt: skip
    await repo.add_intercept_lines(records)
    if not reserved:
        log.info("intercept for a reservation no longer held; nothing to release", case_id=d.case_id,
                 reservation_id=reservation_id, status=res.status.value)  # fmt: skip
        return
    for material, qty in sorted(give.items()):
        if qty == 0:
            continue
        row = await repo.take_reserved(res.node_code, material, qty, ship=False, at=now)
        if row is None:
            raise ReservationStateError(
                f"reservation {reservation_id} holds {qty} of {material} at node {res.node_code}, but the "
                "stock row has fewer reserved: cannot release the intercepted units"
            )
        changes.stock(row, "release", reservation_id, 0, -qty, env)
    left = [Line(x.material_code, held[x.material_code]) for x in res.lines if held[x.material_code] > 0]
    if left:
        await repo.set_reservation_lines(reservation_id, left, ReservationStatus.RESERVED, now)
    else:  # nothing left: released whole, its lines what this last release gave back
        gave = [Line(x.material_code, give[x.material_code]) for x in res.lines if give.get(x.material_code)]
        await repo.set_reservation_lines(reservation_id, gave, ReservationStatus.RELEASED, now)
        _answer(uow, replace(res, status=ReservationStatus.RELEASED, lines=gave, updated_at=now), env)
    log.info("intercepted units released", case_id=d.case_id, order_id=d.order_id,
             reservation_id=reservation_id, released=sum(give.values()), whole=not left,
             already_applied=len(repeats))  # fmt: skip
