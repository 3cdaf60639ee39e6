"""An in-memory `store_carriers.Repository` (the sourcing fake plus carrier routing's queries) for the carrier
use cases' unit tests, and the events carrier routing reads."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from fulfillment_fakes import FakeRepository, env

from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import Envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import OrderAllocatedV1, TaskRef
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, RouteHint, ShipTo
from omni_contracts.events.product import MaterialUpsertedV2
from omni_fulfillment.domain.carriers import Carrier, Pin, Promise
from omni_fulfillment.domain.tasks import Task
from omni_fulfillment.store_carriers import CLOSED, NOT_GOING


class FakeCarrierRepository(FakeRepository):
    def __init__(self) -> None:
        super().__init__()
        self.carriers: dict[str, Carrier] = {}
        self.pins: dict[str, Pin] = {}
        self.promise = Promise()
        self.audits: list[dict[str, Any]] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.weights_: dict[str, tuple[int, int]] = {}
        self.choices: dict[str, list[dict[str, Any]]] = {}
        self._mine: Any = None

    def _carrier_state(self) -> tuple[Any, ...]:
        return (self.carriers, self.pins, self.promise, self.audits, self.orders, self.weights_, self.choices)

    def begin(self) -> None:
        super().begin()
        self._mine = copy.deepcopy(self._carrier_state())

    def rollback(self) -> None:
        super().rollback()
        if self._mine is not None:
            (
                self.carriers,
                self.pins,
                self.promise,
                self.audits,
                self.orders,
                self.weights_,
                self.choices,
            ) = self._mine
            self._mine = None

    # -- data --------------------------------------------------------------------------------------------
    async def get_carrier(self, code: str, *, lock: bool = False) -> Carrier | None:
        return self.carriers.get(code)

    async def list_carriers(
        self, *, active: bool | None, limit: int, offset: int
    ) -> tuple[list[Carrier], int]:
        found = [c for _, c in sorted(self.carriers.items()) if active is None or c.active == active]
        return found[offset : offset + limit], len(found)

    async def routing_carriers(self) -> list[Carrier]:
        return [c for _, c in sorted(self.carriers.items()) if c.active]

    async def save_carrier(self, c: Carrier) -> None:
        self.carriers[c.code] = c

    async def get_pin(self, rule_id: str, *, lock: bool = False) -> Pin | None:
        return self.pins.get(rule_id)

    async def list_pins(self, *, active: bool | None, limit: int, offset: int) -> tuple[list[Pin], int]:
        found = [p for _, p in sorted(self.pins.items()) if active is None or p.active == active]
        return found[offset : offset + limit], len(found)

    async def active_pins(self) -> list[Pin]:
        return [p for _, p in sorted(self.pins.items()) if p.active]

    async def save_pin(self, p: Pin) -> None:
        self.pins[p.rule_id] = p

    async def get_promise(self, *, lock: bool = False) -> Promise:
        return self.promise

    async def save_promise(self, p: Promise) -> None:
        self.promise = p

    async def audit(self, subject: str, version: int, action: str, actor: str, data: dict[str, Any]) -> None:
        self.audits.append({"subject": subject, "version": version, "action": action, "actor": actor,
                            "data": copy.deepcopy(data), "at": datetime.now().astimezone()})  # fmt: skip

    async def history(self, subject: str, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        found = [a for a in reversed(self.audits) if a["subject"] == subject]
        return found[offset : offset + limit], len(found)

    # -- orders, weights, choices -------------------------------------------------------------------------
    async def save_carrier_orders(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            self.orders[r["order_id"]] = copy.deepcopy(r)

    async def carrier_orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {i: copy.deepcopy(self.orders[i]) for i in set(order_ids) if i in self.orders}

    async def save_weights(self, rows: Sequence[tuple[str, int, int]]) -> None:
        for m, w, v in rows:
            if m not in self.weights_ or self.weights_[m][1] < v:
                self.weights_[m] = (w, v)

    async def weights(self, materials: Iterable[str]) -> dict[str, int]:
        return {m: self.weights_[m][0] for m in set(materials) if m in self.weights_}

    async def used(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]:
        keys, out = set(pairs), {}
        for task_id, rows in self.choices.items():
            for r in rows:
                key = (r["carrier"], r["ship_day"])
                going = self.tasks[task_id].status.value not in NOT_GOING
                if r["current"] and key in keys and going:
                    out[key] = out.get(key, 0) + 1
        return out

    async def assignments(self, task_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        return {t: copy.deepcopy(self.choices[t]) for t in set(task_ids) if t in self.choices}

    async def add_assignments(self, rows: Sequence[dict[str, Any]]) -> None:
        for r in rows:
            mine = self.choices.setdefault(r["task_id"], [])
            assert all(x["attempt"] != r["attempt"] for x in mine), "one row per (task, attempt)"
            mine.append(copy.deepcopy(r))

    async def refuse_assignment(self, task_id: str, attempt: int, reason: str, at: datetime) -> None:
        for r in self.choices[task_id]:
            if r["attempt"] == attempt:
                r.update(current=False, refused_reason=reason, refused_at=at)

    async def set_task_carriers(self, chosen: Sequence[tuple[str, str | None]]) -> None:
        for task_id, carrier in chosen:
            t = self.tasks[task_id]
            if t.status.value not in CLOSED:
                t.carrier = carrier


def new_uow() -> FakeUnitOfWork[FakeCarrierRepository]:
    return FakeUnitOfWork(FakeCarrierRepository())


def accepted_to(
    order_id: str,
    province: str = "浙江省",
    city: str = "杭州市",
    district: str = "西湖区",
    *,
    shop_id: str = "shop-1",
    hints: Sequence[tuple[str, str]] = (),
) -> Envelope[Any]:
    data = OrderAcceptedV1(
        order_id=order_id,
        channel="tmall",
        shop_id=shop_id,
        channel_order_id=f"TM{order_id}",
        ship_to=ShipTo(
            name="Li Lei",
            phone="13800138000",
            state=province,
            city=city,
            district=district,
            detail="1 Wensan Rd",
        ),
        lines=[
            OrderLine(
                line_id=f"{order_id}-0",
                channel_line_id="c0",
                sales_product_code="SP",
                material_code="M1",
                qty=1,
                amount_cents=1000,
            )
        ],
        goods_paid_cents=1000,
        paid_cents=1000,
        route_hints=[RouteHint(carrier=c, ruleset=r) for c, r in hints] + [RouteHint(node="WH-1")],
    )
    return env(data, order_id, "order")


def allocated(order_id: str, tasks: Sequence[Task]) -> Envelope[Any]:
    refs = [
        TaskRef(
            task_id=t.task_id,
            node_code=t.node_code,
            kind=t.kind.value,
            reservation_id=t.reservation_id,
            lines=[MaterialQty(material_code=x.material_code, qty=x.qty) for x in t.lines],
        )
        for t in tasks
    ]
    return env(OrderAllocatedV1(order_id=order_id, tasks=refs), order_id, "fulfillment")


def material(code: str, weight_g: int, version: int = 1) -> Envelope[Any]:
    data = MaterialUpsertedV2(code=code, name=code, unit="pcs", weight_g=weight_g, version=version)
    return env(data, code, "product")
