"""The partial intercepts' queries on the in-memory repository (the SQL ones in store_intercepts.py), and
`fulfillment.lines-intercepted` events to feed them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from inventory_fakes import FakeRepository

from omni_contracts import make_envelope, utcnow
from omni_contracts.events.fulfillment import (
    InterceptedLine,
    LinesInterceptedV1,
    NotIntercepted,
    ReservationRequestedV1,
    ShippedV1,
)
from omni_contracts.events.order import OrderCancelledV1
from omni_inventory.domain.model import Line, ReservationStatus
from omni_inventory.records import ReservationRow


class FakeIntercepts(FakeRepository):
    _STATE = (*FakeRepository._STATE, "intercept_lines")

    def __init__(self) -> None:
        super().__init__()
        self.intercept_lines: dict[tuple[str, str, str], dict[str, Any]] = {}

    async def lock_reservation(self, reservation_id: str) -> ReservationRow | None:
        return self.reservations.get(reservation_id)

    async def intercepted_lines(self, reservation_id: str) -> set[tuple[str, str]]:
        return {(c, ln) for (c, r, ln) in self.intercept_lines if r == reservation_id}

    async def add_intercept_lines(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:  # ON CONFLICT DO NOTHING
            assert 0 <= r["released"] <= r["qty"], "the intercept_lines_qty CHECK"
            self.intercept_lines.setdefault((r["case_id"], r["reservation_id"], r["line_id"]), dict(r))

    async def set_reservation_lines(
        self, reservation_id: str, lines: Sequence[Line], status: ReservationStatus, at: datetime
    ) -> None:
        res = self.reservations[reservation_id]
        self.reservations[reservation_id] = replace(res, lines=list(lines), status=status, updated_at=at)


Held = tuple[str, str, int]  # (line id, material, qty)


def intercepted(case_id: str, reservation_id: str, node: str, held: list[Held], *, order_id: str = "O-1",
                gone: list[Held] = ()):  # fmt: skip
    """`fulfillment.lines-intercepted` of `held` units taken off the task of `reservation_id` at `node`."""
    data = LinesInterceptedV1(
        order_id=order_id, case_id=case_id, intercepted_at=utcnow(),
        intercepted=[InterceptedLine(line_id=i, material_code=m, qty=q, task_id="T1", node_code=node,
                                     reservation_id=reservation_id, task_cancelled=False)
                     for i, m, q in held],
        not_intercepted=[NotIntercepted(line_id=i, material_code=m, qty=q, why="already left")
                         for i, m, q in gone],
    )  # fmt: skip
    return make_envelope(data, producer="fulfillment", key=order_id)


def requested(rid: str, node: str, lines: dict[str, int], *, order_id: str = "O-1"):
    data = ReservationRequestedV1(
        reservation_id=rid, order_id=order_id, node_code=node, attempt=1,
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
    )  # fmt: skip
    return make_envelope(data, producer="fulfillment", key=order_id)


def shipped(rid: str, node: str, lines: dict[str, int], *, order_id: str = "O-1"):
    data = ShippedV1(
        task_id="T1", order_id=order_id, node_code=node, reservation_id=rid, carrier="SF", tracking_no="SF1",
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()], shipped_at=utcnow(),
    )  # fmt: skip
    return make_envelope(data, producer="fulfillment", key=order_id)


def cancelled(order_id: str = "O-1"):
    return make_envelope(
        OrderCancelledV1(order_id=order_id, reason="buyer asked"), producer="order", key=order_id
    )
