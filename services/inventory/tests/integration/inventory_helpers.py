"""Helpers for the inventory's integration tests: incoming envelopes, direct service calls, DB reads."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text

import omni_inventory
from omni_chassis.uow import SqlUnitOfWork
from omni_contracts import make_envelope, utcnow
from omni_contracts.events.fulfillment import (
    OrderUnfulfillableV1,
    PickedUpV1,
    ReservationRequestedV1,
    ShippedV1,
)
from omni_contracts.events.order import OrderCancelledV1
from omni_inventory import service, store

MIGRATIONS = Path(omni_inventory.__file__).parent / "migrations"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- incoming events --------------------------------------------------------------------------------------
def requested(reservation_id: str, order_id: str, node: str, lines: dict[str, int], attempt: int = 1):
    data = ReservationRequestedV1(
        reservation_id=reservation_id,
        order_id=order_id,
        node_code=node,
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
        attempt=attempt,
    )
    return make_envelope(data, producer="fulfillment", key=order_id)


def shipped(reservation_id: str, order_id: str, node: str, lines: dict[str, int], task_id: str = "T1"):
    data = ShippedV1(
        task_id=task_id,
        order_id=order_id,
        node_code=node,
        reservation_id=reservation_id,
        carrier="SF",
        tracking_no="SF123",
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
        shipped_at=utcnow(),
    )
    return make_envelope(data, producer="fulfillment", key=order_id)


def picked_up(reservation_id: str, order_id: str, node: str, lines: dict[str, int], task_id: str = "T1"):
    data = PickedUpV1(
        task_id=task_id,
        order_id=order_id,
        node_code=node,
        reservation_id=reservation_id,
        lines=[{"material_code": m, "qty": q} for m, q in lines.items()],
        picked_up_at=utcnow(),
    )
    return make_envelope(data, producer="fulfillment", key=order_id)


def cancelled(order_id: str):
    data = OrderCancelledV1(order_id=order_id, reason="buyer asked")
    return make_envelope(data, producer="order", key=order_id)


def unfulfillable(order_id: str):
    data = OrderUnfulfillableV1(order_id=order_id, reason="no node can ship it", attempts=3)
    return make_envelope(data, producer="fulfillment", key=order_id)


# -- direct use of the service ----------------------------------------------------------------------------
def uow(db) -> SqlUnitOfWork[store.Repository]:
    return SqlUnitOfWork(db, store.Repository)


async def receive(db, node: str, lines: dict[str, int], receipt_id: str | None = None):
    cmd = service.ReceiveCommand(receipt_id or uid("rcpt"), node, list(lines.items()), "")
    return await service.receive(uow(db), cmd)


async def handle(db, *envs):
    await service.handle_batch(uow(db), list(envs))


# -- reading the database ---------------------------------------------------------------------------------
async def rows(db, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as s:
        return list(await s.execute(text(sql), params))


async def stock_of(db, node: str, material: str):
    (row,) = await rows(
        db, "SELECT * FROM stock WHERE node_code = :n AND material_code = :m", n=node, m=material
    )
    return row


async def outbox(db, event_type: str, key: str | None = None) -> list[dict[str, Any]]:
    """The envelopes of `event_type` this DB staged, in outbox order (optionally for one key)."""
    sql = "SELECT topic, key, value FROM outbox WHERE event_type = :t"
    if key is not None:
        sql += " AND key = :k"
    found = await rows(db, sql + " ORDER BY id", t=event_type, k=key)
    return [{"topic": r.topic, "key": r.key, **json.loads(r.value)} for r in found]
