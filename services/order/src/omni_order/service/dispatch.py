"""The one door to fulfillment: an order the OMS has decided to fulfil is sent with `order.accepted`.

Every path that lets an order continue (intake's auto-approve, an operator's release or approve, a presale
balance paid) calls `send_to_fulfillment`, so what happens between the decision and sourcing (split by type,
a merged order's sources) is decided here once.
"""

from __future__ import annotations

from typing import Any

from omni_contracts import utcnow

from .journal import Cause, OrderUow
from .records import accepted_event
from .split import fulfil_virtual


def send_to_fulfillment(
    uow: OrderUow, order: dict[str, Any], lines: list[dict[str, Any]], *, cause: Cause = None
) -> None:
    """order.accepted, its lines in their groups (split by type, placed at intake); the lines that do not
    ship are fulfilled by the OMS at once."""
    uow.emit(accepted_event(order, lines), key=order["order_id"], cause=cause)
    fulfil_virtual(uow, order, lines, utcnow())
