"""Use cases: the one place that orchestrates domain, store and outbox.

Every use case runs in the caller's transaction and records what it changed in an `Effects`: ledger rows
and events are written once, at the end, in one insert each (a consumer batch of 500 reservations costs two
inserts, not a thousand). `inventory.stock-changed` is COALESCED per stock row and transaction: one event
per (node, material) carrying the row's last state and `seq` (the `movement` of its last change). Seq
still grows with every change, so a reader keeps the highest seq it saw and misses nothing it needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.logging import get_logger
from omni_chassis.outbox import build, stage
from omni_contracts import Envelope, EventPayload, utcnow
from omni_contracts.events.common import MaterialQty, Shortfall
from omni_contracts.events.fulfillment import (
    OrderUnfulfillableV1,
    PickedUpV1,
    ReservationRequestedV1,
    ShippedV1,
)
from omni_contracts.events.inventory import (
    ReservationConsumedV1,
    ReservationRefusedV1,
    ReservationReleasedV1,
    ReservedV1,
    StockChangedV1,
)
from omni_contracts.events.order import OrderCancelledV1

from . import store
from .domain.model import (
    IdempotencyConflict,
    InvalidRequest,
    InventoryError,
    Line,
    ReservationStateError,
    ReservationStatus,
    StockLevel,
    check_adjustment,
    consume_refusal,
    distinct_lines,
    normalize_lines,
    refusal_reason,
    shortfall,
)
from .store import ReservationRow, StockRow

log = get_logger(__name__)

Cause = Envelope[Any] | None


# -- what one transaction changed -------------------------------------------------------------------------
@dataclass
class Effects:
    session: AsyncSession
    movements: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[EventPayload, str, Cause]] = field(default_factory=list)
    changed: dict[tuple[str, str], tuple[StockRow, str, Cause]] = field(default_factory=dict)

    def stock(
        self, row: StockRow, kind: str, reference: str, d_on_hand: int, d_reserved: int, cause: Cause
    ) -> None:
        """Record a change to a stock row: its ledger row now, its stock-changed event at flush."""
        self.movements.append(store.movement_row(row, kind, reference, d_on_hand, d_reserved))
        key = (row.node_code, row.material_code)
        self.changed.pop(key, None)  # re-insert: the dict keeps the order of last changes
        self.changed[key] = (row, kind, cause)

    def event(self, data: EventPayload, key: str, cause: Cause) -> None:
        self.events.append((data, key, cause))

    async def flush(self) -> None:
        await store.add_movements(self.session, self.movements)
        envs = [(build(data, key=key, cause=cause), cause) for data, key, cause in self.events]
        for row, kind, cause in self.changed.values():
            data = StockChangedV1(
                node_code=row.node_code,
                material_code=row.material_code,
                on_hand=row.on_hand,
                reserved=row.reserved,
                frozen=row.frozen,
                available=row.available,
                movement=kind,  # type: ignore[arg-type]
                seq=row.seq,
                changed_at=row.updated_at,
            )
            key = f"{row.node_code}:{row.material_code}"
            envs.append((build(data, key=key, cause=cause), cause))
        await stage(self.session, envs)
        self.movements, self.events, self.changed = [], [], {}


# -- receipts ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceiveCommand:
    receipt_id: str
    node_code: str
    lines: list[tuple[str, int]]
    note: str = ""


@dataclass(frozen=True)
class LineResult:
    """One line of a receipt or adjustment with the stock row's state right after it."""

    material_code: str
    qty: int
    on_hand: int
    reserved: int
    frozen: int
    seq: int

    @property
    def available(self) -> int:
        return StockLevel(self.on_hand, self.reserved, self.frozen).available


@dataclass(frozen=True)
class ReceiptResult:
    receipt: store.ReceiptRow
    lines: list[LineResult]
    created: bool


def _after(row: StockRow, qty: int) -> LineResult:
    return LineResult(row.material_code, qty, row.on_hand, row.reserved, row.frozen, row.seq)


async def _recorded_lines(session: AsyncSession, reference: str, kind: str) -> list[LineResult]:
    rows, _ = await store.list_movements(
        session, node=None, material=None, reference=reference, kind=kind, limit=10_000, offset=0
    )
    return sorted(
        (
            LineResult(
                r["material_code"],
                r["delta_on_hand"],
                r["on_hand_after"],
                r["reserved_after"],
                r["frozen_after"],
                r["seq"],
            )
            for r in rows
        ),
        key=lambda x: x.material_code,
    )


async def receive(session: AsyncSession, cmd: ReceiveCommand) -> ReceiptResult:
    """Goods arrived at a node. Idempotent per receipt id; the same id with other content is a conflict."""
    lines = distinct_lines(cmd.lines)
    now = utcnow()
    if not await store.claim_receipt(session, cmd.receipt_id, cmd.node_code, lines, cmd.note, now):
        done = await store.get_receipt(session, cmd.receipt_id)
        assert done is not None
        if (done.node_code, done.lines, done.note) != (cmd.node_code, lines, cmd.note):
            raise IdempotencyConflict(
                f"receipt {cmd.receipt_id} was already recorded with other content "
                f"(node {done.node_code}, {len(done.lines)} line(s)); use a new receipt id"
            )
        return ReceiptResult(done, await _recorded_lines(session, cmd.receipt_id, "receipt"), created=False)
    rows = await store.receive(session, cmd.node_code, lines, now)
    fx = Effects(session)
    for row, line in zip(rows, lines, strict=True):
        fx.stock(row, "receipt", cmd.receipt_id, line.qty, 0, None)
    await fx.flush()
    log.info("receipt recorded", receipt_id=cmd.receipt_id, node_code=cmd.node_code, lines=len(lines))
    receipt = store.ReceiptRow(cmd.receipt_id, cmd.node_code, lines, cmd.note, now)
    return ReceiptResult(receipt, [_after(r, x.qty) for r, x in zip(rows, lines, strict=True)], created=True)


# -- adjustments ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdjustCommand:
    adjustment_id: str
    node_code: str
    material_code: str
    delta: int
    reason: str


@dataclass(frozen=True)
class AdjustmentResult:
    adjustment: store.AdjustmentRow
    after: LineResult
    created: bool


async def adjust(session: AsyncSession, cmd: AdjustCommand) -> AdjustmentResult:
    """Correct on hand (a count, damage, loss). Refused when on hand would fall below reserved + frozen."""
    if cmd.delta == 0:
        raise InvalidRequest("delta must not be 0")
    if not cmd.reason.strip():
        raise InvalidRequest("an adjustment needs a reason")
    now = utcnow()
    claimed = await store.claim_adjustment(
        session, cmd.adjustment_id, cmd.node_code, cmd.material_code, cmd.delta, cmd.reason, now
    )
    if not claimed:
        done = await store.get_adjustment(session, cmd.adjustment_id)
        assert done is not None
        if (done.node_code, done.material_code, done.delta, done.reason) != (
            cmd.node_code,
            cmd.material_code,
            cmd.delta,
            cmd.reason,
        ):
            raise IdempotencyConflict(
                f"adjustment {cmd.adjustment_id} was already recorded with other content "
                f"({done.material_code} at node {done.node_code} by {done.delta}); use a new adjustment id"
            )
        (after,) = await _recorded_lines(session, cmd.adjustment_id, "adjustment")
        return AdjustmentResult(done, after, created=False)
    row = await store.adjust(session, cmd.node_code, cmd.material_code, cmd.delta, now)
    if row is None:
        current = await store.get_stock(session, cmd.node_code, cmd.material_code)
        level = current.level if current else StockLevel(0)
        check_adjustment(cmd.node_code, cmd.material_code, level, cmd.delta)  # raises AdjustmentRefused
        raise InventoryError(
            f"stock of {cmd.material_code} at node {cmd.node_code} changed while adjusting; try again"
        )
    fx = Effects(session)
    fx.stock(row, "adjustment", cmd.adjustment_id, cmd.delta, 0, None)
    await fx.flush()
    log.info(
        "stock adjusted",
        adjustment_id=cmd.adjustment_id,
        node_code=cmd.node_code,
        material_code=cmd.material_code,
        delta=cmd.delta,
    )
    adj = store.AdjustmentRow(cmd.adjustment_id, cmd.node_code, cmd.material_code, cmd.delta, cmd.reason, now)
    return AdjustmentResult(adj, _after(row, cmd.delta), created=True)


# -- reservations -----------------------------------------------------------------------------------------
def _qtys(lines: Sequence[Line]) -> list[MaterialQty]:
    return [MaterialQty(material_code=x.material_code, qty=x.qty) for x in lines]


def _answer(fx: Effects, res: ReservationRow, cause: Cause) -> None:
    """The event that states a reservation's recorded outcome (its current truth)."""
    common = {"reservation_id": res.reservation_id, "order_id": res.order_id, "node_code": res.node_code}
    data: EventPayload
    if res.status is ReservationStatus.RESERVED:
        data = ReservedV1(**common, lines=_qtys(res.lines))
    elif res.status is ReservationStatus.REFUSED:
        data = ReservationRefusedV1(
            **common,
            shortfall=[
                Shortfall(material_code=s.material_code, requested=s.requested, available=s.available)
                for s in res.shortfall or []
            ],
            reason=res.reason or "",
        )
    elif res.status is ReservationStatus.RELEASED:
        data = ReservationReleasedV1(**common, lines=_qtys(res.lines))
    else:
        data = ReservationConsumedV1(**common, lines=_qtys(res.lines))
    fx.event(data, res.order_id, cause)


async def reserve(fx: Effects, env: Envelope[ReservationRequestedV1]) -> ReservationStatus:
    """All lines at the node, or none.

    Idempotent per reservation id: a repeated request (a new event id) changes nothing and re-answers what
    is recorded: `reserved` or `reservation-refused` (same shortfall and reason), or, when the reservation
    has moved on since, its current truth (`reservation-released` / `reservation-consumed`) rather than a
    stale "reserved".
    """
    req, session = env.data, fx.session
    lines = normalize_lines((x.material_code, x.qty) for x in req.lines)
    now = utcnow()
    if not await store.claim_reservation(
        session, req.reservation_id, req.order_id, req.node_code, lines, now
    ):
        done = await store.get_reservation(session, req.reservation_id)
        assert done is not None
        if (done.order_id, done.node_code, done.lines) != (req.order_id, req.node_code, lines):
            log.warning(
                "reservation id repeated with other content; answering what was recorded",
                reservation_id=req.reservation_id,
                order_id=req.order_id,
            )
        log.info("reservation requested again", reservation_id=req.reservation_id, status=done.status.value)
        _answer(fx, done, env)
        return done.status

    cancelled = await store.is_cancelled(session, req.order_id)
    rows = None if cancelled else await _reserve_all(session, req.node_code, lines, now)
    if rows is not None:
        for row, line in zip(rows, lines, strict=True):
            fx.stock(row, "reservation", req.reservation_id, 0, line.qty, env)
        fx.event(
            ReservedV1(
                reservation_id=req.reservation_id,
                order_id=req.order_id,
                node_code=req.node_code,
                lines=_qtys(lines),
            ),
            req.order_id,
            env,
        )
        return ReservationStatus.RESERVED

    # Nothing was reserved: say what every line asked for and what the node has now.
    available = await store.available_of(session, req.node_code, [x.material_code for x in lines])
    short = shortfall(lines, available)
    reason = (
        f"order {req.order_id} was cancelled before this request arrived: nothing reserved"
        if cancelled
        else refusal_reason(req.node_code, short)
    )
    await store.mark_refused(session, req.reservation_id, short, reason, now)
    fx.event(
        ReservationRefusedV1(
            reservation_id=req.reservation_id,
            order_id=req.order_id,
            node_code=req.node_code,
            shortfall=[
                Shortfall(material_code=s.material_code, requested=s.requested, available=s.available)
                for s in short
            ],
            reason=reason,
        ),
        req.order_id,
        env,
    )
    log.info("reservation refused", reservation_id=req.reservation_id, order_id=req.order_id, reason=reason)
    return ReservationStatus.REFUSED


async def _reserve_all(session: AsyncSession, node: str, lines: list[Line], at: Any) -> list[StockRow] | None:
    """One conditional UPDATE per line, in material order, inside a savepoint; None (and nothing
    reserved) at the first line that is short. A single line needs no savepoint: its one statement
    either reserved or did nothing."""
    if len(lines) == 1:
        row = await store.try_reserve(session, node, lines[0].material_code, lines[0].qty, at)
        return None if row is None else [row]
    savepoint = await session.begin_nested()
    try:
        rows = []
        for line in lines:
            row = await store.try_reserve(session, node, line.material_code, line.qty, at)
            if row is None:
                await savepoint.rollback()
                return None
            rows.append(row)
    except BaseException:
        await savepoint.rollback()
        raise
    await savepoint.commit()
    return rows


async def _give_back(fx: Effects, res: ReservationRow, *, ship: bool, at: Any, cause: Cause) -> None:
    """Take a held reservation's lines out of `reserved` (and out of on hand when shipped)."""
    kind = "shipment" if ship else "release"
    for line in res.lines:
        row = await store.take_reserved(
            fx.session, res.node_code, line.material_code, line.qty, ship=ship, at=at
        )
        if row is None:
            # The reservation says these units are held but the stock row does not hold them: the data is
            # inconsistent and retrying cannot fix it.
            raise ReservationStateError(
                f"reservation {res.reservation_id} holds {line.qty} of {line.material_code} at node "
                f"{res.node_code}, but the stock row has fewer reserved: cannot {kind}"
            )
        d_on_hand = -line.qty if ship else 0
        fx.stock(row, kind, res.reservation_id, d_on_hand, -line.qty, cause)


async def consume(fx: Effects, env: Envelope[ShippedV1] | Envelope[PickedUpV1]) -> None:
    """A task left its node (shipped or picked up): its reservation's units leave on hand and reserved.

    The reservation's recorded lines are consumed (a task ships what was reserved for it). An unknown,
    refused or released reservation, or one at another node, is a ReservationStateError (dead-lettered by
    the consumer); one already consumed is a repeat and changes nothing.
    """
    ev, now = env.data, utcnow()
    res = await store.move_reservation(fx.session, ev.reservation_id, ReservationStatus.CONSUMED, now)
    if res is None:
        current = await store.get_reservation(fx.session, ev.reservation_id)
        if current is not None and current.status is ReservationStatus.CONSUMED:
            log.info("reservation already consumed; nothing to do", reservation_id=ev.reservation_id)
            return
        raise ReservationStateError(
            consume_refusal(ev.reservation_id, current.status if current else None, ev.task_id)
        )
    if res.node_code != ev.node_code:
        raise ReservationStateError(
            f"task {ev.task_id} left node {ev.node_code} but reservation {res.reservation_id} "
            f"holds stock at node {res.node_code}"
        )
    shipped = normalize_lines((x.material_code, x.qty) for x in ev.lines) if ev.lines else res.lines
    if shipped != res.lines:
        log.warning(
            "task lines differ from its reservation; consuming the reservation as recorded",
            reservation_id=res.reservation_id,
            task_id=ev.task_id,
        )
    await _give_back(fx, res, ship=True, at=now, cause=env)
    fx.event(
        ReservationConsumedV1(
            reservation_id=res.reservation_id,
            order_id=res.order_id,
            node_code=res.node_code,
            lines=_qtys(res.lines),
        ),
        res.order_id,
        env,
    )


async def release_order(fx: Effects, order_id: str, cause: Cause) -> int:
    """Release every still-reserved reservation of the order. Returns how many were released."""
    now = utcnow()
    released = await store.release_order(fx.session, order_id, now)
    for res in released:
        await _give_back(fx, res, ship=False, at=now, cause=cause)
        _answer(fx, res, cause)
    if released:
        log.info("reservations released", order_id=order_id, count=len(released))
    return len(released)


# -- consumer batches -------------------------------------------------------------------------------------
async def _lock_batch(session: AsyncSession, envs: Sequence[Envelope[Any]]) -> None:
    """Lock, in one global order, every stock row the batch will touch (no deadlock between batches)."""
    pairs: set[tuple[str, str]] = set()
    releasing: list[str] = []
    for env in envs:
        d = env.data
        if isinstance(d, ReservationRequestedV1 | ShippedV1 | PickedUpV1):
            pairs.update((d.node_code, x.material_code) for x in d.lines)
        elif isinstance(d, OrderCancelledV1 | OrderUnfulfillableV1):
            releasing.append(d.order_id)
    pairs |= await store.held_lines_of_orders(session, releasing)
    await store.lock_stock(session, pairs)


async def _on_request(fx: Effects, env: Envelope[Any]) -> None:
    await reserve(fx, env)


async def _on_consumed(fx: Effects, env: Envelope[Any]) -> None:
    await consume(fx, env)


async def _on_release(fx: Effects, env: Envelope[Any]) -> None:
    await release_order(fx, env.data.order_id, env)


async def _on_cancelled(fx: Effects, env: Envelope[Any]) -> None:
    await store.mark_cancelled(fx.session, env.data.order_id, utcnow())
    await release_order(fx, env.data.order_id, env)


HANDLERS: dict[str, Callable[[Effects, Envelope[Any]], Awaitable[None]]] = {
    "fulfillment.reservation-requested": _on_request,
    "fulfillment.shipped": _on_consumed,
    "fulfillment.picked-up": _on_consumed,
    "fulfillment.order-unfulfillable": _on_release,
    "order.cancelled": _on_cancelled,
}


async def handle_batch(session: AsyncSession, envs: list[Envelope[Any]]) -> None:
    """Handle a batch of fulfillment/order events in the caller's transaction, in their order."""
    fx = Effects(session)
    await _lock_batch(session, envs)
    for env in envs:
        handler = HANDLERS.get(env.event_type)
        if handler is None:
            raise InvalidRequest(f"inventory does not handle {env.event_type} events")
        await handler(fx, env)
    await fx.flush()


# -- queries ----------------------------------------------------------------------------------------------
async def get_stock(session: AsyncSession, node: str, material: str) -> StockRow | None:
    return await store.get_stock(session, node, material)


async def list_stock(
    session: AsyncSession, *, node: str | None, material: str | None, limit: int, offset: int
) -> tuple[list[StockRow], int]:
    return await store.list_stock(session, node=node, material=material, limit=limit, offset=offset)


async def list_movements(
    session: AsyncSession,
    *,
    node: str | None,
    material: str | None,
    reference: str | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    return await store.list_movements(
        session, node=node, material=material, reference=reference, kind=kind, limit=limit, offset=offset
    )


async def get_reservation(session: AsyncSession, reservation_id: str) -> ReservationRow | None:
    return await store.get_reservation(session, reservation_id)


async def list_reservations(
    session: AsyncSession,
    *,
    order_id: str | None,
    node: str | None,
    status: ReservationStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[ReservationRow], int]:
    return await store.list_reservations(
        session, order_id=order_id, node=node, status=status, limit=limit, offset=offset
    )
