"""Failure classes, error scrubbing, and the unit of work's rules (with the fake: no I/O)."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import errors as kafka_errors
from pydantic import BaseModel, ValidationError
from sqlalchemy import exc as sa_exc

from omni_chassis.failures import FailureClass, PermanentError, WaitingFor, classify, scrub
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts.events.diagnostics import ProbeV1


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        kafka_errors.KafkaTimeoutError(),
        kafka_errors.NotLeaderForPartitionError(),
        kafka_errors.KafkaConnectionError(),
        sa_exc.OperationalError("SELECT 1", {}, _PgError("57P01")),  # admin shutdown: a restarting server
        sa_exc.DBAPIError("UPDATE", {}, _PgError("40P01")),  # deadlock
        sa_exc.DBAPIError("UPDATE", {}, _PgError("40001")),  # serialization failure
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_failures(exc):
    assert classify(exc) is FailureClass.TRANSIENT


def test_a_wrapped_transient_cause_is_still_transient():
    try:
        try:
            raise ConnectionResetError(104, "reset by peer")
        except ConnectionResetError as inner:
            raise RuntimeError("handler could not finish") from inner
    except RuntimeError as outer:
        assert classify(outer) is FailureClass.TRANSIENT


class _M(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _M.model_validate({"n": "x"})
    except ValidationError as exc:
        return exc
    raise AssertionError("expected a validation error")


@pytest.mark.parametrize(
    "exc",
    [
        PermanentError("contradiction"),
        KeyError("x"),
        sa_exc.IntegrityError("INSERT", {}, _PgError("23505")),
        _validation_error(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_permanent_failures(exc):
    assert classify(exc) is FailureClass.PERMANENT


def test_waiting_is_its_own_class():
    assert classify(WaitingFor("order:O1")) is FailureClass.WAITING


def test_scrub_removes_parameters_key_values_phones_and_echoed_input():
    text = (
        'duplicate key value violates unique constraint "x"\n'
        "DETAIL:  Key (phone)=(13912345678) already exists.\n"
        "[SQL: INSERT INTO buyers VALUES ($1)]\n[parameters: ('13912345678', '北京市朝阳区')]\n"
        "1 validation error\n  Input should be a valid integer "
        "[type=int_parsing, input_value='浙江省杭州市西湖区', "
        "input_type=str]; call +86 139-1234-5678"
    )
    out = scrub(text)
    for secret in ("13912345678", "北京市朝阳区", "浙江省杭州市", "139-1234-5678", "INSERT INTO"):
        assert secret not in out
    assert "Key (phone)=(…)" in out and "int_parsing" in out


class _Repo:
    def __init__(self):
        self.rows: list[int] = []
        self._snap: list[int] = []

    def begin(self):
        self._snap = list(self.rows)

    def commit(self):
        pass

    def rollback(self):
        self.rows = self._snap


async def test_fake_uow_commits_events_and_writes_only_at_the_outermost_exit():
    repo = _Repo()
    uow = FakeUnitOfWork(repo)
    async with uow:
        async with uow:  # a use case inside a consumer's unit of work
            repo.rows.append(1)
            uow.emit(ProbeV1(seq=1, sent_at_ns=0), key="k")
        assert uow.committed_events == []  # not yet: the outer unit of work commits
    assert [e.data.seq for e in uow.committed_events] == [1] and uow.commits == 1


async def test_fake_uow_rolls_back_writes_and_drops_events_on_error():
    repo = _Repo()
    uow = FakeUnitOfWork(repo)
    with pytest.raises(RuntimeError):
        async with uow:
            repo.rows.append(1)
            uow.emit(ProbeV1(seq=1, sent_at_ns=0), key="k")
            raise RuntimeError("boom")
    assert repo.rows == [] and uow.committed_events == [] and uow.rollbacks == 1


async def test_fake_uow_parks_and_releases():
    uow = FakeUnitOfWork(_Repo())
    async with uow:
        env = uow.emit(ProbeV1(seq=1, sent_at_ns=0), key="k")
        uow.park(env, "fact:1", consumer="c")
    async with uow:
        uow.release("fact:1")
    assert [e.event_id for e in uow.take_released()] == [env.event_id]


async def test_emit_outside_a_unit_of_work_is_refused():
    with pytest.raises(RuntimeError, match="inside"):
        FakeUnitOfWork(_Repo()).emit(ProbeV1(seq=1, sent_at_ns=0), key="k")
