"""Test data and small helpers for finance's integration tests (unique ids on every call)."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from omni_chassis.kafka import make_producer
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import Envelope, EventPayload, make_envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import PickedUpV1, ShippedLine, ShippedV1, ShippedV2
from omni_contracts.events.order import OrderAcceptedV1, OrderCancelledV1, OrderLine, ShipTo
from omni_finance.store import Repository

MIGRATIONS = Path(__file__).resolve().parents[2] / "src" / "omni_finance" / "migrations"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # finance_merged, shared with the unit tests
from finance_merged import (  # noqa: E402, F401  (the constants: re-exported for the integration tests)
    S1_FREIGHT,
    S1_GOODS,
    S1_LINES,
    S2_GOODS,
    S2_LINES,
    merged_order,
    own_order,
)

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def env(data: EventPayload) -> Envelope[Any]:
    return make_envelope(data, producer="test", key=data.order_id)


def accepted(order_id: str, *, post_fee: int = 1000) -> Envelope[Any]:
    """A coffee set (beans 3 x 1 + machine) for 1,000.00 (weights 1:1:1:7) plus 3 filters for 10.00."""
    lines = [
        ("BEAN-YIRGA", 1, 10_000),
        ("BEAN-HUILA", 1, 10_000),
        ("BEAN-MANDHELING", 1, 10_000),
        ("MACHINE-AUTO", 1, 70_000),
        ("FILTER-100", 3, 1_000),
    ]
    goods = sum(a for _, _, a in lines)
    return env(
        OrderAcceptedV1(
            order_id=order_id,
            channel="tmall",
            shop_id="S1",
            channel_order_id=uid("T"),
            ship_to=ShipTo(name="someone", phone="13800000000", detail="somewhere"),
            lines=[
                OrderLine(
                    line_id=f"{order_id}-{i}",
                    channel_line_id="C1",
                    sales_product_code="SET-COFFEE" if m != "FILTER-100" else "FILTER",
                    material_code=m,
                    qty=q,
                    amount_cents=a,
                )
                for i, (m, q, a) in enumerate(lines, 1)
            ],
            goods_paid_cents=goods,
            post_fee_cents=post_fee,
            paid_cents=goods + post_fee,
        )
    )


GOODS = 101_000


def shipped(order_id: str, lines: list[tuple[str, int]], *, task_id: str | None = None) -> Envelope[Any]:
    """v1: no line ids (finance matches the units to lines by material)."""
    return env(
        ShippedV1(
            task_id=task_id or uid("task"),
            order_id=order_id,
            node_code="WH-1",
            reservation_id=uid("r"),
            carrier="SF",
            tracking_no=uid("SF"),
            lines=[MaterialQty(material_code=m, qty=q) for m, q in lines],
            shipped_at=T0,
        )
    )


def shipped_v2(order_id: str, lines: list[tuple[str, int]]) -> Envelope[Any]:
    """v2: each line names its order line (the factory's line ids: f"{order_id}-{position}")."""
    ids = {m: f"{order_id}-{i}" for i, (m, _) in enumerate(ALL_LINES, 1)}
    return env(
        ShippedV2(
            task_id=uid("task"),
            order_id=order_id,
            node_code="WH-1",
            reservation_id=uid("r"),
            carrier="SF",
            tracking_no=uid("SF"),
            lines=[ShippedLine(material_code=m, qty=q, line_id=ids[m]) for m, q in lines],
            shipped_at=T0,
        )
    )


def picked_up(order_id: str, lines: list[tuple[str, int]]) -> Envelope[Any]:
    return env(
        PickedUpV1(
            task_id=uid("task"),
            order_id=order_id,
            node_code="STORE-1",
            reservation_id=uid("r"),
            lines=[MaterialQty(material_code=m, qty=q) for m, q in lines],
            picked_up_at=T0,
        )
    )


def cancelled(order_id: str) -> Envelope[Any]:
    return env(OrderCancelledV1(order_id=order_id, reason="buyer asked"))


def merged_accepted(m: str, s1: str, s2: str) -> Envelope[Any]:
    """M's order.accepted (finance_merged.merged_order), S1 paid at T0."""
    return env(merged_order(m, s1, s2, paid_at=T0))


def own_accepted(source: str, *, first: bool) -> Envelope[Any]:
    """A source of `merged_accepted` accepted on its own (after an unmerge)."""
    return env(own_order(source, first=first))


def shipped_lines(
    order_id: str, lines: list[tuple[str, int, str]], *, task_id: str | None = None
) -> Envelope[Any]:
    """v2 with the line ids given: (material, qty, line id)."""
    return env(
        ShippedV2(
            task_id=task_id or uid("task"),
            order_id=order_id,
            node_code="WH-1",
            reservation_id=uid("r"),
            carrier="SF",
            tracking_no=uid("SF"),
            lines=[ShippedLine(material_code=m, qty=q, line_id=li) for m, q, li in lines],
            shipped_at=T0,
        )
    )


ALL_LINES = [
    ("BEAN-YIRGA", 1),
    ("BEAN-HUILA", 1),
    ("BEAN-MANDHELING", 1),
    ("MACHINE-AUTO", 1),
    ("FILTER-100", 3),
]


def uow(db: Any) -> SqlUnitOfWork[Repository]:
    """A unit of work on the test database with finance's repository (named as a consumer, so it may park)."""
    u = SqlUnitOfWork(db, Repository)
    u.consumer = "finance-test"
    return u


async def publish(bootstrap: str, topic: str, *envs: Envelope[Any]) -> None:
    producer = make_producer(bootstrap, "omni-test-finance")
    await producer.start()
    try:
        for e in envs:
            await producer.send_and_wait(topic, e.to_bytes(), key=e.key.encode(), headers=e.headers())
    finally:
        await producer.stop()


async def rows(db: Any, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as s:
        return list(await s.execute(text(sql), params))


async def scalar(db: Any, sql: str, **params: Any) -> Any:
    async with db.transaction() as s:
        return (await s.execute(text(sql), params)).scalar()


async def vouchers_of(db: Any, order_id: str) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """(kind, [(account, debit, credit)]) per voucher of the order, in posting order."""
    out = []
    for v in await rows(
        db, "SELECT voucher_id, kind FROM vouchers WHERE order_id = :o ORDER BY seq", o=order_id
    ):
        lines = await rows(
            db,
            "SELECT account_code, debit_cents, credit_cents FROM voucher_lines WHERE voucher_id = :v "
            "ORDER BY line_no",
            v=v.voucher_id,
        )
        out.append((v.kind, [tuple(x) for x in lines]))
    return out
