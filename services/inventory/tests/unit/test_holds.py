"""Reservations with a time-to-live (service/holds.py) on the fake unit of work: the expiry timer is
scheduled with the reservation, firing it releases the stock (ledger and events as any release), payment
confirms it and cancels the timer, and an expiry that finds the reservation gone on does nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from inventory_fakes import FakeRepository

from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import utcnow
from omni_inventory.domain.model import IdempotencyConflict, ReservationStatus
from omni_inventory.records import ReservationRow
from omni_inventory.service import holds, receive, release_order
from omni_inventory.service.stock import ReceiveCommand

NODE = "WH-1"
HANDLERS = {holds.EXPIRY: holds.on_expiry}


class HoldsFakeRepository(FakeRepository):
    """The fake repository plus store_holds.HoldQueries, with the same conditions."""

    async def set_expiry(self, reservation_id: str, expires_at: datetime) -> None:
        self.reservations[reservation_id] = replace(self.reservations[reservation_id], expires_at=expires_at)

    async def confirm_hold(self, reservation_id: str, at: datetime) -> ReservationRow | None:
        res = self.reservations.get(reservation_id)
        if res is None or res.status is not ReservationStatus.RESERVED:
            return None
        new = replace(res, expires_at=None, confirmed_at=res.confirmed_at or at, updated_at=at)
        self.reservations[reservation_id] = new
        return new

    async def expire_hold(self, reservation_id: str, at: datetime) -> ReservationRow | None:
        res = self.reservations.get(reservation_id)
        if (
            res is None
            or res.status is not ReservationStatus.RESERVED
            or res.confirmed_at
            or not res.expires_at
        ):
            return None
        new = replace(res, status=ReservationStatus.RELEASED, reason="expired", updated_at=at)
        self.reservations[reservation_id] = new
        return new


@pytest.fixture
def repo() -> HoldsFakeRepository:
    return HoldsFakeRepository()


@pytest.fixture
async def uow(repo):
    u = FakeUnitOfWork(repo)
    await receive(u, ReceiveCommand("R1", NODE, [("M1", 10), ("M2", 4)], ""))
    u.committed_events.clear()
    return u


def _cmd(rid="H1", ttl=900, **lines):
    return holds.HoldCommand(rid, "O1", NODE, list((lines or {"M1": 3, "M2": 1}).items()), ttl)


def _available(repo, m):
    return repo.stock[(NODE, m)].available


async def test_a_hold_with_a_ttl_reserves_and_schedules_its_expiry_in_the_same_unit_of_work(uow, repo):
    before = utcnow()
    result = await holds.hold(uow, _cmd())
    res = result.reservation
    assert result.created and res.status is ReservationStatus.RESERVED
    assert before + timedelta(seconds=900) <= res.expires_at <= utcnow() + timedelta(seconds=900)
    timer = uow.timers[(holds.EXPIRY, "H1")]
    assert timer.due_at == res.expires_at and timer.payload == {"order_id": "O1"}
    assert (_available(repo, "M1"), _available(repo, "M2")) == (7, 3)
    assert [e.event_type for e in uow.committed_events] == [
        "inventory.reserved", "inventory.stock-changed", "inventory.stock-changed"
    ]  # fmt: skip
    assert uow.commits == 2  # the receipt and the hold: one unit of work each


async def test_without_a_ttl_no_timer_and_a_refusal_reserves_nothing(uow, repo):
    assert (await holds.hold(uow, _cmd("H0", ttl=None))).reservation.expires_at is None
    refused = await holds.hold(uow, _cmd("H2", M1=100))
    assert refused.reservation.status is ReservationStatus.REFUSED
    assert [(s.material_code, s.requested, s.available) for s in refused.reservation.shortfall] == [
        ("M1", 100, 7)
    ]
    assert uow.timers == {} and _available(repo, "M1") == 7
    assert uow.of_type("inventory.reservation-refused")


async def test_a_repeated_hold_answers_what_was_recorded_and_other_content_is_a_conflict(uow, repo):
    await holds.hold(uow, _cmd())
    again = await holds.hold(uow, _cmd())
    assert not again.created and _available(repo, "M1") == 7
    with pytest.raises(IdempotencyConflict):
        await holds.hold(uow, _cmd(M1=4))


async def test_firing_the_expiry_releases_the_stock_with_ledger_rows_and_events(uow, repo):
    await holds.hold(uow, _cmd())
    assert await uow.fire_due(HANDLERS) == [], "not due yet"
    fired = await uow.fire_due(HANDLERS, now=utcnow() + timedelta(seconds=901))
    assert fired == [(holds.EXPIRY, "H1")] and uow.timers == {}
    res = repo.reservations["H1"]
    assert (res.status, res.reason) == (ReservationStatus.RELEASED, "expired")
    assert (_available(repo, "M1"), _available(repo, "M2")) == (10, 4)
    releases = [m for m in repo.movements if m["kind"] == "release"]
    assert [(m["material_code"], m["delta_reserved"], m["reference"]) for m in releases] == [
        ("M1", -3, "H1"), ("M2", -1, "H1")
    ]  # fmt: skip
    (released,) = uow.of_type("inventory.reservation-released")
    assert released.data.reservation_id == "H1"
    assert [(x.material_code, x.qty) for x in released.data.lines] == [
        ("M1", 3), ("M2", 1)
    ]  # fmt: skip
    changed = [e.data for e in uow.of_type("inventory.stock-changed")][-2:]
    assert [(c.material_code, c.available, c.movement) for c in changed] == [
        ("M1", 10, "release"),
        ("M2", 4, "release"),
    ]


async def test_confirming_clears_the_ttl_and_cancels_the_timer(uow, repo):
    await holds.hold(uow, _cmd())
    result = await holds.confirm(uow, "H1")
    assert result.created and result.reservation.expires_at is None and result.reservation.confirmed_at
    assert uow.timers == {}
    again = await holds.confirm(uow, "H1")
    assert not again.created and again.reservation.confirmed_at == result.reservation.confirmed_at
    with pytest.raises(holds.ReservationNotFound):
        await holds.confirm(uow, "nope")


async def test_an_expired_reservation_cannot_be_confirmed(uow, repo):
    await holds.hold(uow, _cmd())
    await uow.fire_due(HANDLERS, now=utcnow() + timedelta(hours=1))
    with pytest.raises(holds.HoldStateError, match="expired"):
        await holds.confirm(uow, "H1")


async def test_an_expiry_after_the_order_was_released_or_confirmed_does_nothing(uow, repo):
    await holds.hold(uow, _cmd("H1"))
    await holds.hold(uow, _cmd("H2", M1=1))
    await release_order(uow, "O1")  # the order was cancelled: both released by the existing flow
    assert _available(repo, "M1") == 10
    events = len(uow.committed_events)
    # their timers are still scheduled: when they fire they find nothing to do
    fired = await uow.fire_due(HANDLERS, now=utcnow() + timedelta(hours=1))
    assert sorted(k for _, k in fired) == ["H1", "H2"] and uow.timers == {}
    assert len(uow.committed_events) == events and _available(repo, "M1") == 10
    assert repo.reservations["H1"].reason is None, "released by the cancellation, not expired"
