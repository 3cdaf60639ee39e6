"""What every use case that moves orders shares: its errors, and the journal of its status transitions.

`StatusJournal` is a small domain-side helper on the unit of work: each transition is checked against the
state machine, its `order.status-changed` is staged at once (`uow.emit`), and its history row and the
order's new columns are written at commit (`uow.defer`), one statement for all the orders of a batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_chassis.uow import UnitOfWork
from omni_contracts import Envelope, utcnow
from omni_contracts.events.order import OrderStatusChangedV1

from ..domain.status import DomainError, Status, check_transition
from ..store import Repository

OrderUow = UnitOfWork[Repository]  # what every use case takes: a unit of work on the order repository
Cause = Envelope[Any] | None


class OrderNotFound(DomainError):
    """No such order (404 at the API)."""


class StillBlocked(DomainError):
    """A retried order still cannot be accepted (409 at the API, with every reason)."""


def status_columns(
    to: Status, at: datetime, reason_code: str | None = None, reason: str = ""
) -> dict[str, Any]:
    return {
        "status": to.value,
        "status_reason_code": reason_code,
        "status_reason": reason or None,
        "updated_at": at,
    }


class StatusJournal:
    def __init__(self, uow: OrderUow, source: str, *, at: datetime | None = None) -> None:
        self.uow = uow
        self.source = source  # intake | fulfillment | api
        self.at = at or utcnow()
        self.history: list[dict[str, Any]] = []
        self.updates: dict[str, dict[str, Any]] = {}
        uow.defer(self._write)

    def transition(
        self,
        order: dict[str, Any],
        to: Status,
        *,
        reason_code: str | None = None,
        reason: str = "",
        cause: Cause = None,
    ) -> None:
        """Move `order` (a dict with order_id and status) to `to`, or raise IllegalTransition."""
        frm = Status(order["status"])
        check_transition(frm, to, order["order_id"])
        cols = status_columns(to, self.at, reason_code, reason)
        order.update(cols)
        self.set(order["order_id"], **cols)
        self.record(order["order_id"], frm, to, reason_code=reason_code, reason=reason, cause=cause)

    def record(
        self,
        order_id: str,
        frm: Status,
        to: Status,
        *,
        reason_code: str | None = None,
        reason: str = "",
        cause: Cause = None,
    ) -> None:
        """A transition whose columns are already on the order's row (a new order): history and event."""
        self._history(order_id, frm.value, to.value, reason_code, reason, cause)
        self.uow.emit(
            OrderStatusChangedV1(order_id=order_id, from_status=frm.value, to_status=to.value, reason=reason),
            key=order_id,
            cause=cause,
        )

    def created(self, order_id: str, reason: str, cause: Cause) -> None:
        self._history(order_id, None, Status.RECEIVED.value, None, reason, cause)

    def set(self, order_id: str, **cols: Any) -> None:
        self.updates.setdefault(order_id, {}).update(cols)

    def _history(
        self, order_id: str, frm: str | None, to: str, code: str | None, reason: str, cause: Cause
    ) -> None:
        self.history.append(
            {"order_id": order_id, "from_status": frm, "to_status": to, "reason_code": code, "reason": reason,
             "source": self.source, "cause_event_id": cause.event_id if cause else None, "at": self.at}
        )  # fmt: skip

    async def _write(self) -> None:
        if self.updates:
            await self.uow.repo.update_orders(self.updates)
        if self.history:
            await self.uow.repo.add_history(self.history)
        cancelled = [h["order_id"] for h in self.history if h["to_status"] == Status.CANCELLED.value]
        if cancelled:  # an order on account cancelled gives its credit back (B2B credit terms), once
            await self.uow.repo.close_credit(cancelled, "cancelled", self.at)
