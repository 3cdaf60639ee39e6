"""Helpers for fulfillment's integration tests: events as other services send them, and the outbox."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

import omni_fulfillment
from omni_chassis.db import Database
from omni_chassis.kafka import make_producer
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import Envelope, EventPayload, make_envelope, utcnow
from omni_contracts.events.aftersales import OrderRefundApprovedV1, RefundedLine
from omni_contracts.events.common import MaterialQty, Shortfall
from omni_contracts.events.inventory import ReservationRefusedV1, ReservedV1, StockChangedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderCancelledV1, OrderLine, ShipTo
from omni_fulfillment import service, store
from omni_fulfillment.domain.nodes import Node, NodeType

MIGRATIONS = Path(omni_fulfillment.__file__).parent / "migrations"

# Shanghai; nodes are placed north of it, `km` kilometres away (1 degree of latitude is ~111 km).
DEST = (31.2304, 121.4737)


def uid() -> str:
    return uuid.uuid4().hex[:8]


def env(data: EventPayload, key: str, producer: str = "test") -> Envelope[Any]:
    return make_envelope(data, producer=producer, key=key)


def node(code: str, km: float, priority: int = 0, type: str = "warehouse", active: bool = True) -> Node:
    return Node(
        code, f"node {code}", NodeType(type), "Shanghai", DEST[0] + km / 111.2, DEST[1], priority, active
    )


def stock_changed(node_code: str, material: str, available: int, seq: int) -> Envelope[Any]:
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
    lines: dict[str, int],
    *,
    to: tuple[float, float] | None = DEST,
    delivery: str = "express",
    pickup_node: str | None = None,
    groups: dict[str, str] | None = None,
    virtual: set[str] | frozenset[str] = frozenset(),
) -> Envelope[Any]:
    """order.accepted with line ids `<order>-<i>`. Split by type: `groups` gives a material's line a group;
    the line of a `virtual` material does not ship."""
    order_lines = [
        OrderLine(
            line_id=f"{order_id}-{i}",
            channel_line_id=f"c{i}",
            sales_product_code="SP",
            material_code=m,
            qty=q,
            amount_cents=1000 * q,
            group=(groups or {}).get(m),
            ships=m not in virtual,
        )
        for i, (m, q) in enumerate(lines.items())
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


def cancelled(order_id: str) -> Envelope[Any]:
    return env(OrderCancelledV1(order_id=order_id, reason="buyer asked"), order_id, "order")


def refund_approved(order_id: str, case_id: str, lines: list[tuple[str, str, int]]) -> Envelope[Any]:
    """order.refund-approved before shipment of `lines` (line id, material, qty), 10.00 a unit."""
    refunded = [RefundedLine(line_id=i, material_code=m, qty=q, refund_cents=1000 * q) for i, m, q in lines]
    goods = sum(x.refund_cents for x in refunded)
    data = OrderRefundApprovedV1(
        case_id=case_id,
        order_id=order_id,
        channel="tmall",
        channel_order_id=f"TM{order_id}",
        kind="refund_before_shipment",
        before_shipment=True,
        lines=refunded,
        goods_refund_cents=goods,
        refund_cents=goods,
        approved_at=utcnow(),
    )
    return env(data, order_id, "order")


def reserved(request: dict[str, Any]) -> Envelope[Any]:
    data = ReservedV1(
        reservation_id=request["reservation_id"],
        order_id=request["order_id"],
        node_code=request["node_code"],
        lines=[MaterialQty(**x) for x in request["lines"]],
    )
    return env(data, request["order_id"], "inventory")


def refused(request: dict[str, Any], available: int = 0) -> Envelope[Any]:
    data = ReservationRefusedV1(
        reservation_id=request["reservation_id"],
        order_id=request["order_id"],
        node_code=request["node_code"],
        shortfall=[
            Shortfall(material_code=x["material_code"], requested=x["qty"], available=available)
            for x in request["lines"]
        ],
        reason="not enough stock",
    )
    return env(data, request["order_id"], "inventory")


def uow(db: Database) -> SqlUnitOfWork[store.Repository]:
    """A unit of work on the test database, as the service makes one."""
    return SqlUnitOfWork(db, store.Repository)


async def seed_nodes(db: Database, *nodes: Node) -> None:
    for n in nodes:
        await service.put_node(uow(db), n)


async def seed_stock(db: Database, rows: list[tuple[str, str, int]], seq: int = 1) -> None:
    await service.on_stock_changed(uow(db), [stock_changed(n, m, q, seq) for n, m, q in rows])


async def outbox(db: Database, event_type: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """The `data` of every event staged, in order, optionally of one type / key."""
    async with db.transaction() as s:
        rows = (await s.execute(text("SELECT event_type, key, topic, value FROM outbox ORDER BY id"))).all()
    return [
        json.loads(r.value)["data"]
        for r in rows
        if (event_type is None or r.event_type == event_type) and (key is None or r.key == key)
    ]


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as s:
        return list(await s.execute(text(sql), params))


async def publish(bootstrap: str, topic: str, *envs: Envelope[Any]) -> None:
    producer = make_producer(bootstrap, "omni-test-fulfillment")
    await producer.start()
    try:
        for e in envs:
            await producer.send_and_wait(topic, e.to_bytes(), key=e.key.encode(), headers=e.headers())
    finally:
        await producer.stop()
