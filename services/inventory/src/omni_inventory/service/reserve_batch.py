"""Reservation requests of one batch, reserved together: the hot-SKU path.

A run of consecutive `fulfillment.reservation-requested` events is decided in memory against the locked
stock rows, in arrival order, each request all-or-none (`domain.allocate_in_order`: the same outcome as one
by one). Then each (node, material) is updated ONCE for the summed quantity, so 1,000 orders on one SKU cost
one row update per batch instead of 1,000 conditional updates queued on one row. Every reservation still
gets its own ledger row, with the row's state after it (seq counted up one by one), and its own answer
event. The conditional UPDATE (available >= the sum) and the table's CHECK stay as the last guard.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from omni_contracts import Envelope, utcnow
from omni_contracts.events.fulfillment import ReservationRequestedV1
from omni_contracts.events.inventory import ReservationRefusedV1, ReservedV1

from ..domain.model import ReservationStateError, allocate_in_order, normalize_lines, refusal_reason
from ..domain.model import shortfall as shortfall_of
from .answers import _answer, _qtys, _shortfall
from .changes import StockChanges, Uow


async def reserve_run(uow: Uow, changes: StockChanges, envs: list[Envelope[ReservationRequestedV1]]) -> None:
    repo, now = uow.repo, utcnow()
    wanted = [(e, normalize_lines((x.material_code, x.qty) for x in e.data.lines)) for e in envs]
    claimed = await repo.claim_reservations(
        [(e.data.reservation_id, e.data.order_id, e.data.node_code, lines) for e, lines in wanted], now
    )
    fresh, repeats, seen = [], [], set()
    for e, lines in wanted:
        rid = e.data.reservation_id
        (fresh if rid in claimed and rid not in seen else repeats).append((e, lines))
        seen.add(rid)
    cancelled = await repo.cancelled_among({e.data.order_id for e, _ in fresh})
    pairs = {(e.data.node_code, x.material_code) for e, lines in fresh for x in lines}
    rows = await repo.stock_for_update(pairs)
    decisions = allocate_in_order(
        [None if e.data.order_id in cancelled else (e.data.node_code, lines) for e, lines in fresh],
        {p: r.available for p, r in rows.items()},
    )
    state = dict(rows)  # each row's state as the requests are taken in order
    totals: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    for (env, lines), ok in zip(fresh, decisions, strict=True):
        req = env.data
        common: dict[str, Any] = {
            "reservation_id": req.reservation_id,
            "order_id": req.order_id,
            "node_code": req.node_code,
        }
        if ok:
            for x in lines:
                key = (req.node_code, x.material_code)
                row = state[key]
                row = state[key] = dataclasses.replace(
                    row, reserved=row.reserved + x.qty, seq=row.seq + 1, updated_at=now
                )
                totals[key] += x.qty
                counts[key] += 1
                changes.stock(row, "reservation", req.reservation_id, 0, x.qty, env)
            uow.emit(ReservedV1(**common, lines=_qtys(lines)), key=req.order_id, cause=env)
            continue
        left = {x.material_code: state[(req.node_code, x.material_code)].available for x in lines
                if (req.node_code, x.material_code) in state}  # fmt: skip
        short = shortfall_of(lines, left)
        reason = (
            f"order {req.order_id} was cancelled before this request arrived: nothing reserved"
            if req.order_id in cancelled
            else refusal_reason(req.node_code, short)
        )
        await repo.mark_refused(req.reservation_id, short, reason, now)
        uow.emit(ReservationRefusedV1(**common, shortfall=_shortfall(short), reason=reason), key=req.order_id,
                 cause=env)  # fmt: skip
    if totals:
        updated = await repo.reserve_summed(
            {k: (totals[k], counts[k]) for k in totals}, now, expected={k: state[k].seq for k in totals}
        )
        if updated != len(totals):
            raise ReservationStateError(
                f"stock rows changed under their lock: {len(totals) - updated} of {len(totals)} rows could "
                "not take the batch's summed reservation"
            )
    for env, _ in repeats:  # a repeated id answers what is recorded (after this run's own decisions)
        done = await repo.get_reservation(env.data.reservation_id)
        assert done is not None
        _answer(uow, done, env)
