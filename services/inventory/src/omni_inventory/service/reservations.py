"""Use cases of reservations: reserve (all lines or none), consume on shipment or pickup, release on
cancellation or when the order cannot be fulfilled; and the consumers' batch that runs them (and the
after-sales returns of service/returns.py, the partial intercepts of service/intercepts.py) in one unit of
work. Reservation itself is one atomic conditional
UPDATE per (node, material) in the repository, never read-then-write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.aftersales import OrderReturnReceivedV1
from omni_contracts.events.fulfillment import (
    LinesInterceptedV1,
    OrderUnfulfillableV1,
    PickedUpV1,
    ReservationRequestedV1,
    ShippedV1,
)
from omni_contracts.events.inventory import (
    ReservationRefusedV1,
    ReservedV1,
)
from omni_contracts.events.order import OrderCancelledV1

from ..domain.model import (
    InvalidRequest,
    ReservationStateError,
    ReservationStatus,
    consume_refusal,
    normalize_lines,
    refusal_reason,
    shortfall,
)
from ..records import ReservationRow
from .answers import _answer, _qtys, _shortfall
from .changes import Cause, StockChanges, Uow
from .intercepts import INTERCEPTED, on_lines_intercepted
from .intercepts import stock_pairs as intercepted_pairs
from .reserve_batch import reserve_run
from .returns import RETURN_RECEIVED, on_return_received, stock_pairs
from .task_releases import GIVEN_BACK, on_given_back
from .task_releases import stock_pairs as given_back_pairs

log = get_logger(__name__)


# -- the use cases, each on its own unit of work ----------------------------------------------------------
async def reserve(uow: Uow, env: Envelope[ReservationRequestedV1]) -> ReservationStatus:
    """All lines at the node, or none (see `_reserve`)."""
    async with uow:
        changes = StockChanges()
        status = await _reserve(uow, changes, env)
        changes.publish(uow)
    return status


async def consume(uow: Uow, env: Envelope[ShippedV1] | Envelope[PickedUpV1]) -> None:
    async with uow:
        changes = StockChanges()
        await _consume(uow, changes, env)
        changes.publish(uow)


async def release_order(uow: Uow, order_id: str, cause: Cause = None) -> int:
    async with uow:
        changes = StockChanges()
        n = await _release_order(uow, changes, order_id, cause)
        changes.publish(uow)
    return n


async def handle_batch(uow: Uow, envs: list[Envelope[Any]]) -> None:
    """A batch of fulfillment/order events in one unit of work, in their order. Every stock row the batch
    touches is locked first, in one global order (no deadlock between concurrent batches)."""
    async with uow:
        pairs: set[tuple[str, str]] = set()
        releasing: list[str] = []
        for env in envs:
            d = env.data
            if isinstance(d, ReservationRequestedV1 | ShippedV1 | PickedUpV1):
                pairs.update((d.node_code, x.material_code) for x in d.lines)
            elif isinstance(d, OrderCancelledV1 | OrderUnfulfillableV1):
                releasing.append(d.order_id)
            elif isinstance(d, OrderReturnReceivedV1):
                pairs |= stock_pairs(d)
            elif isinstance(d, LinesInterceptedV1):
                pairs |= intercepted_pairs(d)
            elif env.event_type in GIVEN_BACK:  # a store gave a task's units back (task_releases.py)
                pairs |= given_back_pairs(d)
        pairs |= await uow.repo.held_lines_of_orders(releasing)
        await uow.repo.lock_stock(pairs)
        changes = StockChanges()
        run: list[Envelope[Any]] = []  # consecutive reservation requests: reserved together
        for env in [*envs, None]:
            if env is not None and env.event_type == REQUESTED:
                run.append(env)
                continue
            if len(run) > 1:
                await reserve_run(uow, changes, run)
            elif run:
                await _reserve(uow, changes, run[0])
            run = []
            if env is None:
                break
            handler = HANDLERS.get(env.event_type)
            if handler is None:
                raise InvalidRequest(f"inventory does not handle {env.event_type} events")
            await handler(uow, changes, env)
        changes.publish(uow)


# -- the steps, sharing one StockChanges ------------------------------------------------------------------
async def _reserve(
    uow: Uow, changes: StockChanges, env: Envelope[ReservationRequestedV1]
) -> ReservationStatus:
    """All lines at the node, or none. A request for an order already cancelled reserves nothing.

    Idempotent per reservation id: a repeated request (a new event id) changes nothing and re-answers what
    is recorded: `reserved` or `reservation-refused` (same shortfall and reason), or, when the reservation
    has moved on since, its current truth (`reservation-released` / `reservation-consumed`) rather than a
    stale "reserved".
    """
    req, repo = env.data, uow.repo
    lines = normalize_lines((x.material_code, x.qty) for x in req.lines)
    now = utcnow()
    if not await repo.claim_reservation(req.reservation_id, req.order_id, req.node_code, lines, now):
        done = await repo.get_reservation(req.reservation_id)
        assert done is not None
        if (done.order_id, done.node_code, done.lines) != (req.order_id, req.node_code, lines):
            log.warning(
                "reservation id repeated with other content; answering what was recorded",
                reservation_id=req.reservation_id,
                order_id=req.order_id,
            )
        log.info("reservation requested again", reservation_id=req.reservation_id, status=done.status.value)
        _answer(uow, done, env)
        return done.status

    cancelled = await repo.is_cancelled(req.order_id)
    rows = None if cancelled else await repo.reserve_all(req.node_code, lines, now)
    common = {"reservation_id": req.reservation_id, "order_id": req.order_id, "node_code": req.node_code}
    if rows is not None:
        for row, line in zip(rows, lines, strict=True):
            changes.stock(row, "reservation", req.reservation_id, 0, line.qty, env)
        uow.emit(ReservedV1(**common, lines=_qtys(lines)), key=req.order_id, cause=env)
        return ReservationStatus.RESERVED

    # Nothing was reserved: say what every line asked for and what the node has now.
    available = await repo.available_of(req.node_code, [x.material_code for x in lines])
    short = shortfall(lines, available)
    reason = (
        f"order {req.order_id} was cancelled before this request arrived: nothing reserved"
        if cancelled
        else refusal_reason(req.node_code, short)
    )
    await repo.mark_refused(req.reservation_id, short, reason, now)
    refused = ReservationRefusedV1(**common, shortfall=_shortfall(short), reason=reason)
    uow.emit(refused, key=req.order_id, cause=env)
    log.info("reservation refused", reservation_id=req.reservation_id, order_id=req.order_id, reason=reason)
    return ReservationStatus.REFUSED


async def _give_back(
    uow: Uow, changes: StockChanges, res: ReservationRow, *, ship: bool, at: Any, cause: Cause
) -> None:
    """Take a held reservation's lines out of `reserved` (and out of on hand when shipped)."""
    kind = "shipment" if ship else "release"
    for line in res.lines:
        row = await uow.repo.take_reserved(res.node_code, line.material_code, line.qty, ship=ship, at=at)
        if row is None:
            # The reservation says these units are held but the stock row does not hold them: the data is
            # inconsistent and retrying cannot fix it.
            raise ReservationStateError(
                f"reservation {res.reservation_id} holds {line.qty} of {line.material_code} at node "
                f"{res.node_code}, but the stock row has fewer reserved: cannot {kind}"
            )
        changes.stock(row, kind, res.reservation_id, -line.qty if ship else 0, -line.qty, cause)


async def _consume(uow: Uow, changes: StockChanges, env: Envelope[ShippedV1] | Envelope[PickedUpV1]) -> None:
    """A task left its node (shipped or picked up): its reservation's units leave on hand and reserved.

    The reservation's recorded lines are consumed (a task ships what was reserved for it). An unknown,
    refused or released reservation, or one at another node, is a ReservationStateError (dead-lettered by
    the consumer); one already consumed is a repeat and changes nothing.
    """
    ev, now = env.data, utcnow()
    res = await uow.repo.move_reservation(ev.reservation_id, ReservationStatus.CONSUMED, now)
    if res is None:
        current = await uow.repo.get_reservation(ev.reservation_id)
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
    await _give_back(uow, changes, res, ship=True, at=now, cause=env)
    _answer(uow, res, env)  # status consumed: reservation-consumed with the recorded lines


async def _release_order(uow: Uow, changes: StockChanges, order_id: str, cause: Cause) -> int:
    """Release every still-reserved reservation of the order. Returns how many were released."""
    now = utcnow()
    released = await uow.repo.release_order(order_id, now)
    for res in released:
        await _give_back(uow, changes, res, ship=False, at=now, cause=cause)
        _answer(uow, res, cause)
    if released:
        log.info("reservations released", order_id=order_id, count=len(released))
    return len(released)


async def _on_request(uow: Uow, changes: StockChanges, env: Envelope[Any]) -> None:
    await _reserve(uow, changes, env)


async def _on_release(uow: Uow, changes: StockChanges, env: Envelope[Any]) -> None:
    await _release_order(uow, changes, env.data.order_id, env)


async def _on_cancelled(uow: Uow, changes: StockChanges, env: Envelope[Any]) -> None:
    await uow.repo.mark_cancelled(env.data.order_id, utcnow())
    await _release_order(uow, changes, env.data.order_id, env)


REQUESTED = "fulfillment.reservation-requested"
HANDLERS: dict[str, Callable[[Uow, StockChanges, Envelope[Any]], Awaitable[Any]]] = {
    "fulfillment.reservation-requested": _on_request,
    "fulfillment.shipped": _consume,
    "fulfillment.picked-up": _consume,
    "fulfillment.order-unfulfillable": _on_release,
    "order.cancelled": _on_cancelled,
    RETURN_RECEIVED: on_return_received,
    INTERCEPTED: on_lines_intercepted,
    **dict.fromkeys(GIVEN_BACK, on_given_back),
}


# -- queries ----------------------------------------------------------------------------------------------
async def get_reservation(uow: Uow, reservation_id: str) -> ReservationRow | None:
    async with uow:
        return await uow.repo.get_reservation(reservation_id)


async def list_reservations(
    uow: Uow,
    *,
    order_id: str | None,
    node: str | None,
    status: ReservationStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[ReservationRow], int]:
    async with uow:
        return await uow.repo.list_reservations(
            order_id=order_id, node=node, status=status, limit=limit, offset=offset
        )
