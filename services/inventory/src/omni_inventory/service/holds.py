"""Use cases of reservations made over REST with a time-to-live (issue #8 layer 2): an own-mall cart reserves
stock before payment; unpaid, the reservation gives its stock back by itself.

- `hold`: all lines at the node or none, with the same rules and events as fulfillment's requests
  (`inventory.reserved` / `inventory.reservation-refused`, ledger kind `reservation`); idempotent per
  reservation id. With a TTL, `expires_at` is recorded and a durable timer `inventory.reservation-expiry`
  keyed by the reservation id is scheduled in the same unit of work (omni_chassis.timers).
- `confirm`: payment arrived: the TTL is cleared (`expires_at` null, `confirmed_at` set) and the timer
  cancelled. The timer's row is locked first, so a confirmation and an expiry firing at the same moment run
  one after the other (the later one sees what the first did) instead of deadlocking.
- `on_expiry`: the timer's handler. A reservation still `reserved`, unpaid and past its TTL is released
  (status `released`, reason `expired`): its units leave `reserved`, a `release` ledger row and the usual
  `inventory.reservation-released` + `inventory.stock-changed` are written (StockChanges). A reservation that
  was consumed, released by a cancellation or confirmed meanwhile is left alone: nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.inventory import ReservationRefusedV1, ReservedV1

from ..domain.model import (
    IdempotencyConflict,
    InventoryError,
    ReservationStatus,
    normalize_lines,
    refusal_reason,
    shortfall,
)
from ..records import ReservationRow
from ..store_holds import EXPIRED
from .answers import _answer, _qtys, _shortfall
from .changes import StockChanges, Uow
from .reservations import _give_back

log = get_logger(__name__)

EXPIRY = "inventory.reservation-expiry"  # the timer kind (registered in app.py)


class ReservationNotFound(InventoryError):
    """No reservation with that id (a 404 at the edge)."""


class HoldStateError(InventoryError):
    """The reservation is not in a state that allows this (a 409 at the edge)."""


@dataclass(frozen=True)
class HoldCommand:
    reservation_id: str
    order_id: str
    node_code: str
    lines: list[tuple[str, int]]
    ttl_seconds: int | None = None


@dataclass(frozen=True)
class HoldResult:
    reservation: ReservationRow
    created: bool  # False: the reservation id was seen before (its recorded outcome is answered)


async def hold(uow: Uow, cmd: HoldCommand) -> HoldResult:
    """Reserve every line at the node or none; with `ttl_seconds`, it expires unless confirmed in time."""
    lines = normalize_lines(cmd.lines)
    now = utcnow()
    async with uow:
        repo = uow.repo
        if not await repo.claim_reservation(cmd.reservation_id, cmd.order_id, cmd.node_code, lines, now):
            done = await repo.get_reservation(cmd.reservation_id)
            assert done is not None
            if (done.order_id, done.node_code, done.lines) != (cmd.order_id, cmd.node_code, lines):
                raise IdempotencyConflict(
                    f"reservation {cmd.reservation_id} was already recorded with other content (order "
                    f"{done.order_id} at node {done.node_code}); use a new reservation id"
                )
            return HoldResult(done, created=False)
        common = {"reservation_id": cmd.reservation_id, "order_id": cmd.order_id, "node_code": cmd.node_code}
        cancelled = await repo.is_cancelled(cmd.order_id)
        rows = None if cancelled else await repo.reserve_all(cmd.node_code, lines, now)
        if rows is None:
            available = await repo.available_of(cmd.node_code, [x.material_code for x in lines])
            short = shortfall(lines, available)
            reason = (
                f"order {cmd.order_id} was cancelled: nothing reserved"
                if cancelled
                else refusal_reason(cmd.node_code, short)
            )
            await repo.mark_refused(cmd.reservation_id, short, reason, now)
            uow.emit(
                ReservationRefusedV1(**common, shortfall=_shortfall(short), reason=reason), key=cmd.order_id
            )
            log.info("reservation refused", reservation_id=cmd.reservation_id, order_id=cmd.order_id)
        else:
            changes = StockChanges()
            for row, line in zip(rows, lines, strict=True):
                changes.stock(row, "reservation", cmd.reservation_id, 0, line.qty, None)
            uow.emit(ReservedV1(**common, lines=_qtys(lines)), key=cmd.order_id)
            if cmd.ttl_seconds is not None:
                expires_at = now + timedelta(seconds=cmd.ttl_seconds)
                await repo.set_expiry(cmd.reservation_id, expires_at)
                uow.schedule_timer(EXPIRY, cmd.reservation_id, expires_at, {"order_id": cmd.order_id})
            changes.publish(uow)
            log.info("reservation held", reservation_id=cmd.reservation_id, order_id=cmd.order_id,
                     ttl_s=cmd.ttl_seconds)  # fmt: skip
        found = await repo.get_reservation(cmd.reservation_id)
    assert found is not None
    return HoldResult(found, created=True)


async def confirm(uow: Uow, reservation_id: str) -> HoldResult:
    """Payment arrived: no TTL any more. Confirming a confirmed reservation answers it as it is
    (created=False); one that expired, was released, refused or consumed is a HoldStateError."""
    now = utcnow()
    async with uow:
        await uow.lock_timer(EXPIRY, reservation_id)  # waits for an expiry being fired right now
        found = await uow.repo.confirm_hold(reservation_id, now)
        if found is None:
            current = await uow.repo.get_reservation(reservation_id)
            if current is None:
                raise ReservationNotFound(f"no reservation {reservation_id!r}")
            raise HoldStateError(_why_not(current))
        uow.cancel_timer(EXPIRY, reservation_id)
    first = found.confirmed_at == now
    if first:
        log.info("reservation confirmed", reservation_id=reservation_id, order_id=found.order_id)
    return HoldResult(found, created=first)


async def on_expiry(uow: Uow, key: str, payload: dict[str, Any] | None) -> None:
    """The `inventory.reservation-expiry` timer: release the reservation `key` if it is still unpaid."""
    now = utcnow()
    async with uow:
        res = await uow.repo.get_reservation(key)
        if res is None or res.status is not ReservationStatus.RESERVED or res.expires_at is None:
            log.info("reservation expiry: nothing to do", reservation_id=key,
                     status=res.status.value if res else None)  # fmt: skip
            return
        # the timer's due time is the TTL (set together, moved together): no second opinion from this clock
        # the stock rows first, then the reservation: the order every batch takes them in
        await uow.repo.lock_stock({(res.node_code, x.material_code) for x in res.lines})
        expired = await uow.repo.expire_hold(key, now)
        if expired is None:  # moved on (or its TTL moved) between the read and the lock
            log.info("reservation expiry: nothing to do", reservation_id=key)
            return
        changes = StockChanges()
        await _give_back(uow, changes, expired, ship=False, at=now, cause=None)
        _answer(uow, expired, None)  # reservation-released with the recorded lines
        changes.publish(uow)
    log.info("reservation expired", reservation_id=key, order_id=expired.order_id)


def _why_not(res: ReservationRow) -> str:
    if res.status is ReservationStatus.RELEASED and res.reason == EXPIRED:
        at = res.expires_at.isoformat() if res.expires_at else "its due time"
        return f"reservation {res.reservation_id} expired at {at}: its stock went back to available"
    return f"reservation {res.reservation_id} is {res.status.value}: there is nothing to confirm"
