"""The events that state a reservation's outcome (shared by the one-by-one and the batched paths)."""

from __future__ import annotations

from collections.abc import Sequence

from omni_contracts import EventPayload
from omni_contracts.events.common import MaterialQty, Shortfall
from omni_contracts.events.inventory import (
    ReservationConsumedV1,
    ReservationRefusedV1,
    ReservationReleasedV1,
    ReservedV1,
)

from ..domain.model import Line, ReservationStatus, ShortLine
from ..records import ReservationRow
from .changes import Cause, Uow


def _qtys(lines: Sequence[Line]) -> list[MaterialQty]:
    return [MaterialQty(material_code=x.material_code, qty=x.qty) for x in lines]


def _shortfall(short: Sequence[ShortLine]) -> list[Shortfall]:
    return [
        Shortfall(material_code=s.material_code, requested=s.requested, available=s.available) for s in short
    ]


def _answer(uow: Uow, res: ReservationRow, cause: Cause) -> None:
    """The event that states a reservation's recorded outcome (its current truth)."""
    common = {"reservation_id": res.reservation_id, "order_id": res.order_id, "node_code": res.node_code}
    data: EventPayload
    if res.status is ReservationStatus.RESERVED:
        data = ReservedV1(**common, lines=_qtys(res.lines))
    elif res.status is ReservationStatus.REFUSED:
        data = ReservationRefusedV1(
            **common, shortfall=_shortfall(res.shortfall or []), reason=res.reason or ""
        )
    elif res.status is ReservationStatus.RELEASED:
        data = ReservationReleasedV1(**common, lines=_qtys(res.lines))
    else:
        data = ReservationConsumedV1(**common, lines=_qtys(res.lines))
    uow.emit(data, key=res.order_id, cause=cause)
