"""Failure classes: what a consumer or the relay does with an error.

- **transient**: the world is briefly unavailable (a database or broker restarting, a connection reset, a
  deadlock or serialization failure, a Kafka timeout, a leader moving). Retried with capped backoff for as
  long as it lasts; never dead-lettered. The consumer reports itself degraded meanwhile.
- **waiting**: the event needs a fact that has not arrived yet (a shipment before its order). Raise
  `WaitingFor(key)` (or call `uow.park(env, key)`): the event is parked in the chassis until the fact arrives.
- **permanent**: everything else (undecodable, invalid, a domain contradiction, a bug): a bounded retry,
  then the dead-letter topic.

Error text that leaves the process (logs, DLQ headers, problem details) goes through `scrub`, which drops
SQL parameters and anything that looks like a phone number.
"""

from __future__ import annotations

import re
from enum import StrEnum

import asyncpg
from aiokafka import errors as kafka_errors
from sqlalchemy import exc as sa_exc


class FailureClass(StrEnum):
    TRANSIENT = "transient"
    WAITING = "waiting"
    PERMANENT = "permanent"


class PermanentError(Exception):
    """Raised by a handler when retrying cannot help (the message is dead-lettered at once)."""


class TransientError(Exception):
    """Raised by a handler for a condition that will pass by itself (retried without limit)."""


class WaitingFor(Exception):
    """Raised by a handler: this event needs `key` (e.g. `order:O123`) to exist first. The event is parked
    and applied again when a use case calls `uow.release(key)` (or at a periodic recheck)."""

    def __init__(self, key: str, reason: str = "") -> None:
        super().__init__(reason or f"waiting for {key}")
        self.key = key
        self.reason = reason or f"waiting for {key}"


# SQLSTATE classes/codes that pass by themselves
_TRANSIENT_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "57P01",  # admin_shutdown (a restarting server)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "53300",  # too_many_connections
    "58000",  # system_error
    "08000",  # connection_exception
    "08003",  # connection_does_not_exist
    "08006",  # connection_failure
    "08001",  # sqlclient_unable_to_establish_sqlconnection
    "08004",  # sqlserver_rejected_establishment_of_sqlconnection
}

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,  # ConnectionRefusedError, ConnectionResetError, socket errors
    TimeoutError,
    asyncpg.InterfaceError,  # connection closed mid-operation
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # pool timeout
    kafka_errors.KafkaTimeoutError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.NotEnoughReplicasError,
    kafka_errors.NotEnoughReplicasAfterAppendError,
    kafka_errors.CoordinatorNotAvailableError,
    kafka_errors.NotCoordinatorError,
)


def _sqlstate(exc: BaseException) -> str | None:
    for e in (exc, getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        code = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def classify(exc: BaseException) -> FailureClass:
    """The class of `exc`, looking through SQLAlchemy's wrappers and exception chains."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, WaitingFor):
            return FailureClass.WAITING
        if isinstance(e, PermanentError):
            return FailureClass.PERMANENT
        if isinstance(e, _TRANSIENT_TYPES):
            return FailureClass.TRANSIENT
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return FailureClass.TRANSIENT
        code = _sqlstate(e)
        if code is not None and (code in _TRANSIENT_SQLSTATES or code.startswith("08")):
            return FailureClass.TRANSIENT
        if isinstance(e, kafka_errors.KafkaError) and getattr(e, "retriable", False):
            return FailureClass.TRANSIENT
        todo.extend([getattr(e, "orig", None), e.__cause__, e.__context__])
    return FailureClass.PERMANENT


def is_transient(exc: BaseException) -> bool:
    return classify(exc) is FailureClass.TRANSIENT


_SQL_PARAMS = re.compile(r"\[parameters: .*?\](?=\s|$|\n)|\[SQL parameters hidden.*?\]", re.S)
_SQL_TEXT = re.compile(r"\[SQL: .*?\]", re.S)
_DETAIL = re.compile(r"DETAIL:\s+Key \((.*?)\)=\(.*?\)", re.S)
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_INPUT_VALUE = re.compile(r"input_value=.*?, input_type=", re.S)  # pydantic echoes the rejected input


def scrub(text: str, limit: int = 2000) -> str:
    """Error text without SQL statements or parameters, key values, or phone-like numbers."""
    text = _SQL_PARAMS.sub("[parameters hidden]", text)
    text = _SQL_TEXT.sub("[SQL hidden]", text)
    text = _DETAIL.sub(r"DETAIL: Key (\1)=(…)", text)
    text = _PHONE.sub("[phone hidden]", text)
    text = _INPUT_VALUE.sub("input_value=…, input_type=", text)
    return text[:limit]


def describe(exc: BaseException, limit: int = 2000) -> str:
    """`Class: message`, scrubbed: what logs and DLQ headers carry."""
    return scrub(f"{type(exc).__name__}: {exc}", limit)
