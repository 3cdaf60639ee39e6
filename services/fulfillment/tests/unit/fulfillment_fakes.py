"""An in-memory `store.Repository` for the use cases' unit tests (with `FakeUnitOfWork`), and events as the
other services send them.

It behaves as the database does for the use cases: what is read is a copy (a change counts only once it is
saved), and the fake unit of work's `begin`/`commit`/`rollback` snapshot and restore the whole state, so a
use case that fails leaves nothing half-written.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from task_fakes import FakeTaskStore

from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import Envelope, EventPayload, make_envelope, utcnow
from omni_contracts.events.aftersales import OrderRefundApprovedV1, RefundedLine
from omni_contracts.events.common import MaterialQty, Shortfall
from omni_contracts.events.inventory import ReservationRefusedV1, ReservedV1, StockChangedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderCancelledV1, OrderLine, ShipTo
from omni_fulfillment.domain.intercept import CaseRefund
from omni_fulfillment.domain.nodes import Node, NodeType
from omni_fulfillment.domain.order_sourcing import OrderSourcing, SourcingStatus
from omni_fulfillment.domain.stock_view import NodeInfo, StockView
from omni_fulfillment.domain.tasks import Task

DEST = (31.2304, 121.4737)  # Shanghai; nodes are placed north of it


class FakeRepository(FakeTaskStore):  # store tasks' work: task_fakes.py
    def __init__(self) -> None:
        super().__init__()
        self.nodes: dict[str, Node] = {}
        self.stock: dict[tuple[str, str], tuple[int, int]] = {}
        self.sourcings: dict[str, OrderSourcing] = {}
        self.tasks: dict[str, Task] = {}
        self._saved: Any = None
        self._clock = itertools.count()
        self.created_at: dict[str, int] = {}
        self.intercepts: dict[str, dict[str, Any]] = {}  # case id -> {case, status, held, gone}

    # -- the fake unit of work's hooks ---------------------------------------------------------------------
    def _state(self) -> tuple[Any, ...]:
        return (
            self.nodes, self.stock, self.sourcings, self.tasks, self.created_at, self.intercepts, self.work,
        )  # fmt: skip

    def begin(self) -> None:
        self._saved = copy.deepcopy(self._state())

    def commit(self) -> None:
        self._saved = None

    def rollback(self) -> None:
        if self._saved is not None:
            (self.nodes, self.stock, self.sourcings, self.tasks, self.created_at, self.intercepts,
             self.work) = self._saved  # fmt: skip
            self._saved = None

    # -- nodes -----------------------------------------------------------------------------------------------
    async def get_node(self, code: str, *, lock: bool = False) -> Node | None:
        return self.nodes.get(code)

    async def insert_node(self, node: Node) -> bool:
        if node.code in self.nodes:
            return False
        self.nodes[node.code] = node
        return True

    async def put_node(self, node: Node) -> bool:
        created = node.code not in self.nodes
        self.nodes[node.code] = node
        return created

    async def list_nodes(
        self, *, type: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[Node], int]:
        found = [
            n
            for _, n in sorted(self.nodes.items())
            if (type is None or n.type.value == type) and (active is None or n.active == active)
        ]
        return found[offset : offset + limit], len(found)

    # -- stock -----------------------------------------------------------------------------------------------
    async def upsert_stock(self, rows: Sequence[tuple[str, str, int, int]]) -> None:
        for n, m, a, s in rows:
            if (n, m) not in self.stock or self.stock[(n, m)][1] < s:
                self.stock[(n, m)] = (a, s)

    async def set_available(self, rows: Sequence[tuple[str, str, int]]) -> None:
        for n, m, a in rows:
            self.stock[(n, m)] = (a, self.stock.get((n, m), (0, 0))[1])

    async def get_stock(self, node_code: str, material_code: str) -> tuple[int, int] | None:
        return self.stock.get((node_code, material_code))

    async def load_view(self, materials: Iterable[str], node_codes: Iterable[str] = ()) -> StockView:
        wanted, named = set(materials), set(node_codes)
        active = {c: n for c, n in self.nodes.items() if n.active}
        rows = [
            (n, m, a)
            for (n, m), (a, _) in sorted(self.stock.items())
            if n in active and m in wanted and a > 0
        ]
        codes = {n for n, _, _ in rows} | (named & active.keys())
        infos = [NodeInfo(c, active[c].lat, active[c].lng, active[c].priority) for c in sorted(codes)]
        return StockView(infos, rows)

    # -- sourcing --------------------------------------------------------------------------------------------
    async def load_sourcings(
        self, order_ids: Iterable[str], *, lock: bool = True
    ) -> dict[str, OrderSourcing]:
        return {
            oid: copy.deepcopy(self.sourcings[oid]) for oid in sorted(set(order_ids)) if oid in self.sourcings
        }

    async def save_sourcings(self, orders: Sequence[OrderSourcing]) -> None:
        for o in orders:
            self.sourcings[o.order_id] = copy.deepcopy(o)

    async def mark_fulfilled(self, order_id: str) -> None:
        o = self.sourcings.get(order_id)
        if o is not None and o.status is SourcingStatus.ALLOCATED:
            o.status = SourcingStatus.FULFILLED

    async def lock_sourcing(self, order_id: str) -> None:
        return None

    # -- tasks -----------------------------------------------------------------------------------------------
    async def insert_tasks(self, new: Sequence[Task]) -> None:
        for t in new:
            assert t.task_id not in self.tasks, f"task {t.task_id} inserted twice"
            assert all(x.reservation_id != t.reservation_id for x in self.tasks.values()), (
                "one task a reservation"
            )
            self.tasks[t.task_id] = copy.deepcopy(t)
            self.created_at[t.task_id] = next(self._clock)

    async def save_tasks(self, changed: Sequence[Task]) -> None:
        for t in changed:
            assert t.task_id in self.tasks, f"task {t.task_id} saved before it was inserted"
            self.tasks[t.task_id] = copy.deepcopy(t)

    async def get_task(self, task_id: str, *, lock: bool = False) -> Task | None:
        t = self.tasks.get(task_id)
        return copy.deepcopy(t) if t else None

    async def order_tasks(self, order_ids: Iterable[str], *, lock: bool = False) -> list[Task]:
        ids = set(order_ids)
        return [copy.deepcopy(t) for _, t in sorted(self.tasks.items()) if t.order_id in ids]

    async def list_tasks(
        self, *, node_code: str | None, status: str | None, order_id: str | None, limit: int, offset: int
    ) -> tuple[list[Task], int]:
        found = [
            copy.deepcopy(t)
            for t in sorted(self.tasks.values(), key=lambda t: (self.created_at[t.task_id], t.task_id))
            if (node_code is None or t.node_code == node_code)
            and (status is None or t.status.value == status)
            and (order_id is None or t.order_id == order_id)
        ]
        return found[offset : offset + limit], len(found)

    # -- partial refunds before shipment ---------------------------------------------------------------------
    async def claim_intercepts(self, cases: Sequence[CaseRefund]) -> set[str]:
        new = set()
        for c in cases:
            if c.case_id not in self.intercepts:
                self.intercepts[c.case_id] = {"case": c, "status": "pending", "held": [], "gone": []}
                new.add(c.case_id)
        return new

    async def pending_intercepts(self, order_ids: Iterable[str]) -> list[CaseRefund]:
        ids = set(order_ids)
        return [
            r["case"]
            for r in self.intercepts.values()  # in claim order (oldest first)
            if r["status"] == "pending" and r["case"].order_id in ids
        ]

    async def finish_intercept(
        self, case_id: str, status: str, held: list[dict[str, Any]], gone: list[dict[str, Any]]
    ) -> None:
        self.intercepts[case_id].update(status=status, held=copy.deepcopy(held), gone=copy.deepcopy(gone))

    async def drop_pending_intercepts(self, order_ids: Iterable[str]) -> list[str]:
        ids, out = set(order_ids), []
        for case_id, r in sorted(self.intercepts.items()):
            if r["status"] == "pending" and r["case"].order_id in ids:
                r["status"] = "moot"
                out.append(case_id)
        return out


def new_uow() -> FakeUnitOfWork[FakeRepository]:
    return FakeUnitOfWork(FakeRepository())


# -- events as the other services send them ------------------------------------------------------------------
def env(data: EventPayload, key: str, producer: str = "test") -> Envelope[Any]:
    return make_envelope(data, producer=producer, key=key)


def node(code: str, km: float, priority: int = 0, type: str = "warehouse", active: bool = True) -> Node:
    return Node(
        code, f"node {code}", NodeType(type), "Shanghai", DEST[0] + km / 111.2, DEST[1], priority, active
    )


def stock_changed(node_code: str, material: str, available: int, seq: int = 1) -> Envelope[Any]:
    data = StockChangedV1(
        node_code=node_code,
        material_code=material,
        on_hand=available,
        reserved=0,
        frozen=0,
        available=available,
        movement="adjustment",
        seq=seq,
        changed_at=utcnow(),
    )
    return env(data, f"{node_code}:{material}", "inventory")


def accepted(
    order_id: str,
    lines: Sequence[tuple[str, int] | tuple[str, int, str | None]] | dict[str, int],
    *,
    to: tuple[float, float] | None = DEST,
    delivery: str = "express",
    pickup_node: str | None = None,
    groups: dict[str, str] | None = None,
    virtual: Iterable[str] = (),
) -> Envelope[Any]:
    """order.accepted with line ids `<order>-<i>`; `lines` may name a material twice (a list of pairs).
    Split by type: `groups` gives a material's lines a group, or a line its own as a third item (material,
    qty, group); the lines of a `virtual` material do not ship."""
    pairs = list(lines.items()) if isinstance(lines, dict) else list(lines)
    by_material, no_ship = groups or {}, set(virtual)
    triples = [(p[0], p[1], p[2] if len(p) > 2 else by_material.get(p[0])) for p in pairs]
    order_lines = [
        OrderLine(
            line_id=f"{order_id}-{i}",
            channel_line_id=f"c{i}",
            sales_product_code="SP",
            material_code=m,
            qty=q,
            amount_cents=1000 * q,
            group=g,
            ships=m not in no_ship,
        )
        for i, (m, q, g) in enumerate(triples)
    ]
    paid = sum(x.amount_cents for x in order_lines)
    data = OrderAcceptedV1(
        order_id=order_id,
        channel="tmall",
        shop_id="shop-1",
        channel_order_id=f"TM{order_id}",
        delivery=delivery,
        pickup_node=pickup_node,
        ship_to=ShipTo(
            name="Li Lei",
            phone="13800138000",
            city="Shanghai",
            detail="1 Nanjing Rd",
            lat=to[0] if to else None,
            lng=to[1] if to else None,
        ),
        lines=order_lines,
        goods_paid_cents=paid,
        paid_cents=paid,
    )
    return env(data, order_id, "order")


def refund_approved(
    order_id: str,
    case_id: str,
    lines: Sequence[tuple[str, str, int]],
    *,
    before_shipment: bool = True,
) -> Envelope[Any]:
    """order.refund-approved of `lines` (line id, material, qty) of the order, 10.00 a unit."""
    refunded = [
        RefundedLine(line_id=lid, material_code=m, qty=q, refund_cents=1000 * q) for lid, m, q in lines
    ]
    goods = sum(x.refund_cents for x in refunded)
    data = OrderRefundApprovedV1(
        case_id=case_id,
        order_id=order_id,
        channel="tmall",
        channel_order_id=f"TM{order_id}",
        kind="refund_before_shipment" if before_shipment else "refund_after_shipment",
        before_shipment=before_shipment,
        lines=refunded,
        goods_refund_cents=goods,
        refund_cents=goods,
        approved_at=utcnow(),
    )
    return env(data, order_id, "order")


def cancelled(order_id: str) -> Envelope[Any]:
    return env(OrderCancelledV1(order_id=order_id, reason="buyer asked"), order_id, "order")


def reserved(request: Any) -> Envelope[Any]:
    """inventory.reserved for a fulfillment.reservation-requested payload."""
    data = ReservedV1(
        reservation_id=request.reservation_id,
        order_id=request.order_id,
        node_code=request.node_code,
        lines=[MaterialQty(material_code=x.material_code, qty=x.qty) for x in request.lines],
    )
    return env(data, request.order_id, "inventory")


def refused(request: Any, available: int = 0) -> Envelope[Any]:
    data = ReservationRefusedV1(
        reservation_id=request.reservation_id,
        order_id=request.order_id,
        node_code=request.node_code,
        shortfall=[
            Shortfall(material_code=x.material_code, requested=x.qty, available=available)
            for x in request.lines
        ],
        reason="not enough stock",
    )
    return env(data, request.order_id, "inventory")
