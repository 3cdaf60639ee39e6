"""Tables, repository, unit of work. The only place that knows SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    Table,
    Text,
    and_,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from omni_contracts import utcnow

from .domain.nodes import Node, NodeType
from .domain.order_sourcing import OrderSourcing, Reservation, ReservationStatus, SourcingStatus
from .domain.sourcing import Line, Point
from .domain.stock_view import NodeInfo, StockView
from .domain.tasks import Task, TaskKind, TaskStatus


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

TS = DateTime(timezone=True)

nodes = Table(
    "nodes",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lng", Float, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# The stock projection: what inventory last said is available, per (node, material), newest `seq` wins.
stock = Table(
    "stock",
    metadata,
    Column("node_code", Text, primary_key=True),
    Column("material_code", Text, primary_key=True),
    Column("available", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("stock_material", "material_code"),
)

# One row per order being (or having been) sourced.
sourcing = Table(
    "sourcing",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("dest_lat", Float, nullable=True),
    Column("dest_lng", Float, nullable=True),
    Column("pickup_node", Text, nullable=True),
    Column("attempt", Integer, nullable=False),
    Column("excluded", JSONB, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

reservations = Table(
    "reservations",
    metadata,
    Column("reservation_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("reservations_order", "order_id"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("reservation_id", Text, nullable=False, unique=True),
    Column("lines", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("pickup_code", Text, nullable=True),
    Column("accepted_by", Text, nullable=True),
    Column("carrier", Text, nullable=True),
    Column("tracking_no", Text, nullable=True),
    Column("created_at", TS, nullable=False),
    Column("accepted_at", TS, nullable=True),
    Column("done_at", TS, nullable=True),
    Column("cancelled_at", TS, nullable=True),
    Column("updated_at", TS, nullable=False),
    Index("tasks_order", "order_id"),
    Index("tasks_node_status", "node_code", "status", "created_at"),
    Index("tasks_status", "status", "created_at"),
)


def _lines_json(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [{"material_code": x.material_code, "qty": x.qty} for x in lines]


def _lines(data: Iterable[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(Line(d["material_code"], int(d["qty"])) for d in data)


# -- nodes ---------------------------------------------------------------------------------------------------
def _node(row: Any) -> Node:
    return Node(row.code, row.name, NodeType(row.type), row.city, row.lat, row.lng, row.priority, row.active)


def _node_values(node: Node) -> dict[str, Any]:
    return {
        "code": node.code,
        "name": node.name,
        "type": node.type.value,
        "city": node.city,
        "lat": node.lat,
        "lng": node.lng,
        "priority": node.priority,
        "active": node.active,
    }


async def get_node(session: AsyncSession, code: str, *, lock: bool = False) -> Node | None:
    q = select(nodes).where(nodes.c.code == code)
    row = (await session.execute(q.with_for_update() if lock else q)).first()
    return _node(row) if row else None


async def insert_node(session: AsyncSession, node: Node) -> bool:
    """Insert a new node; False when the code is taken."""
    now = utcnow()
    stmt = (
        pg_insert(nodes)
        .values(**_node_values(node), created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=[nodes.c.code])
        .returning(nodes.c.code)
    )
    return (await session.execute(stmt)).first() is not None


async def put_node(session: AsyncSession, node: Node) -> bool:
    """Create or replace a node. True when it was created."""
    now = utcnow()
    values = _node_values(node)
    stmt = pg_insert(nodes).values(**values, created_at=now, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[nodes.c.code],
        set_={**{k: stmt.excluded[k] for k in values if k != "code"}, "updated_at": now},
    ).returning(nodes.c.created_at)
    created_at = (await session.execute(stmt)).scalar_one()
    return created_at == now


async def list_nodes(
    session: AsyncSession, *, type: str | None, active: bool | None, limit: int, offset: int
) -> tuple[list[Node], int]:
    cond = and_(
        nodes.c.type == type if type is not None else True,
        nodes.c.active == active if active is not None else True,
    )
    total = (await session.execute(select(func.count()).select_from(nodes).where(cond))).scalar_one()
    rows = await session.execute(select(nodes).where(cond).order_by(nodes.c.code).limit(limit).offset(offset))
    return [_node(r) for r in rows], total


# -- stock projection ----------------------------------------------------------------------------------------
async def upsert_stock(session: AsyncSession, rows: Sequence[tuple[str, str, int, int]]) -> None:
    """(node, material, available, seq) rows, at most one per pair: kept only where `seq` is newer."""
    if not rows:
        return
    now = utcnow()
    stmt = pg_insert(stock).values(
        node_code=bindparam("n"),
        material_code=bindparam("m"),
        available=bindparam("a"),
        seq=bindparam("s"),
        updated_at=bindparam("u"),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[stock.c.node_code, stock.c.material_code],
        set_={
            "available": stmt.excluded.available,
            "seq": stmt.excluded.seq,
            "updated_at": stmt.excluded.updated_at,
        },
        where=stock.c.seq < stmt.excluded.seq,
    )
    params = [{"n": n, "m": m, "a": a, "s": s, "u": now} for n, m, a, s in sorted(rows)]
    await session.execute(stmt, params)


async def set_available(session: AsyncSession, rows: Sequence[tuple[str, str, int]]) -> None:
    """What a refusal revealed: (node, material, available). The sequence is left as it was (0 when new), so
    the next stock change from inventory replaces it."""
    if not rows:
        return
    now = utcnow()
    latest = {(n, m): a for n, m, a in rows}
    stmt = pg_insert(stock).values(
        node_code=bindparam("n"),
        material_code=bindparam("m"),
        available=bindparam("a"),
        seq=0,
        updated_at=bindparam("u"),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[stock.c.node_code, stock.c.material_code],
        set_={"available": stmt.excluded.available, "updated_at": stmt.excluded.updated_at},
    )
    await session.execute(stmt, [{"n": n, "m": m, "a": a, "u": now} for (n, m), a in sorted(latest.items())])


async def get_stock(session: AsyncSession, node_code: str, material_code: str) -> tuple[int, int] | None:
    """(available, seq) of one pair, or None."""
    row = (
        await session.execute(
            select(stock.c.available, stock.c.seq).where(
                stock.c.node_code == node_code, stock.c.material_code == material_code
            )
        )
    ).first()
    return (row.available, row.seq) if row else None


async def load_view(
    session: AsyncSession, materials: Iterable[str], node_codes: Iterable[str] = ()
) -> StockView:
    """Active nodes holding some of `materials`, with that stock, plus the active nodes named in
    `node_codes` (pickup nodes) even when they hold none."""
    materials, node_codes = sorted(set(materials)), sorted(set(node_codes))
    rows = (
        (
            await session.execute(
                select(
                    stock.c.node_code,
                    stock.c.material_code,
                    stock.c.available,
                    nodes.c.lat,
                    nodes.c.lng,
                    nodes.c.priority,
                )
                .join(nodes, nodes.c.code == stock.c.node_code)
                .where(nodes.c.active, stock.c.material_code.in_(materials), stock.c.available > 0)
            )
        ).all()
        if materials
        else []
    )
    infos = {r.node_code: NodeInfo(r.node_code, r.lat, r.lng, r.priority) for r in rows}
    if node_codes:
        extra = await session.execute(
            select(nodes.c.code, nodes.c.lat, nodes.c.lng, nodes.c.priority).where(
                nodes.c.active, nodes.c.code.in_(node_codes)
            )
        )
        for r in extra:
            infos.setdefault(r.code, NodeInfo(r.code, r.lat, r.lng, r.priority))
    return StockView(infos.values(), [(r.node_code, r.material_code, r.available) for r in rows])


# -- sourcing ------------------------------------------------------------------------------------------------
async def existing_orders(session: AsyncSession, order_ids: Iterable[str]) -> set[str]:
    ids = list(set(order_ids))
    if not ids:
        return set()
    rows = await session.execute(select(sourcing.c.order_id).where(sourcing.c.order_id.in_(ids)))
    return {r.order_id for r in rows}


async def load_sourcings(
    session: AsyncSession, order_ids: Iterable[str], *, lock: bool = True
) -> dict[str, OrderSourcing]:
    """Orders with their reservations, locked (in order id order) for the rest of the transaction."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    q = select(sourcing).where(sourcing.c.order_id.in_(ids)).order_by(sourcing.c.order_id)
    rows = (await session.execute(q.with_for_update() if lock else q)).all()
    found = {
        r.order_id: OrderSourcing(
            order_id=r.order_id,
            lines=_lines(r.lines),
            destination=Point(r.dest_lat, r.dest_lng)
            if r.dest_lat is not None and r.dest_lng is not None
            else None,
            pickup_node=r.pickup_node,
            attempt=r.attempt,
            excluded=list(r.excluded),
            status=SourcingStatus(r.status),
            reason=r.reason,
        )
        for r in rows
    }
    if found:
        res = await session.execute(
            select(reservations)
            .where(reservations.c.order_id.in_(list(found)))
            .order_by(reservations.c.order_id, reservations.c.attempt, reservations.c.node_code)
        )
        for r in res:
            found[r.order_id].reservations.append(
                Reservation(
                    r.reservation_id, r.node_code, r.attempt, _lines(r.lines), ReservationStatus(r.status)
                )
            )
    return found


def _sourcing_values(o: OrderSourcing, now: datetime) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "status": o.status.value,
        "lines": _lines_json(o.lines),
        "dest_lat": o.destination.lat if o.destination else None,
        "dest_lng": o.destination.lng if o.destination else None,
        "pickup_node": o.pickup_node,
        "attempt": o.attempt,
        "excluded": list(o.excluded),
        "reason": o.reason,
        "created_at": now,
        "updated_at": now,
    }


async def save_sourcings(session: AsyncSession, orders: Sequence[OrderSourcing]) -> None:
    """Insert or update the orders and every reservation of theirs (a handful per order)."""
    if not orders:
        return
    now = utcnow()
    stmt = pg_insert(sourcing)
    stmt = stmt.on_conflict_do_update(
        index_elements=[sourcing.c.order_id],
        set_={k: stmt.excluded[k] for k in ("status", "attempt", "excluded", "reason", "updated_at")},
    )
    await session.execute(stmt, [_sourcing_values(o, now) for o in sorted(orders, key=lambda o: o.order_id)])
    res_rows = [
        {
            "reservation_id": r.reservation_id,
            "order_id": o.order_id,
            "node_code": r.node_code,
            "attempt": r.attempt,
            "lines": _lines_json(r.lines),
            "status": r.status.value,
            "created_at": now,
            "updated_at": now,
        }
        for o in orders
        for r in o.reservations
    ]
    if res_rows:
        rstmt = pg_insert(reservations)
        rstmt = rstmt.on_conflict_do_update(
            index_elements=[reservations.c.reservation_id],
            set_={"status": rstmt.excluded.status, "updated_at": rstmt.excluded.updated_at},
            where=reservations.c.status != rstmt.excluded.status,
        )
        await session.execute(rstmt, sorted(res_rows, key=lambda r: r["reservation_id"]))


async def mark_fulfilled(session: AsyncSession, order_id: str) -> None:
    await session.execute(
        update(sourcing)
        .where(sourcing.c.order_id == order_id, sourcing.c.status == SourcingStatus.ALLOCATED.value)
        .values(status=SourcingStatus.FULFILLED.value, updated_at=utcnow())
    )


async def lock_sourcing(session: AsyncSession, order_id: str) -> None:
    await session.execute(
        select(sourcing.c.order_id).where(sourcing.c.order_id == order_id).with_for_update()
    )


# -- tasks ---------------------------------------------------------------------------------------------------
def _task(r: Any) -> Task:
    return Task(
        task_id=r.task_id,
        order_id=r.order_id,
        node_code=r.node_code,
        kind=TaskKind(r.kind),
        reservation_id=r.reservation_id,
        lines=_lines(r.lines),
        status=TaskStatus(r.status),
        pickup_code=r.pickup_code,
        accepted_by=r.accepted_by,
        carrier=r.carrier,
        tracking_no=r.tracking_no,
        created_at=r.created_at,
        accepted_at=r.accepted_at,
        done_at=r.done_at,
        cancelled_at=r.cancelled_at,
    )


def _task_values(t: Task, now: datetime) -> dict[str, Any]:
    return {
        "task_id": t.task_id,
        "order_id": t.order_id,
        "node_code": t.node_code,
        "kind": t.kind.value,
        "reservation_id": t.reservation_id,
        "lines": _lines_json(t.lines),
        "status": t.status.value,
        "pickup_code": t.pickup_code,
        "accepted_by": t.accepted_by,
        "carrier": t.carrier,
        "tracking_no": t.tracking_no,
        "created_at": t.created_at or now,
        "accepted_at": t.accepted_at,
        "done_at": t.done_at,
        "cancelled_at": t.cancelled_at,
        "updated_at": now,
    }


async def insert_tasks(session: AsyncSession, new: Sequence[Task]) -> None:
    if new:
        now = utcnow()
        await session.execute(pg_insert(tasks), [_task_values(t, now) for t in new])


async def save_tasks(session: AsyncSession, changed: Sequence[Task]) -> None:
    """Write back the state of tasks that changed (status and what came with it)."""
    if not changed:
        return
    now = utcnow()
    cols = ("status", "accepted_by", "carrier", "tracking_no", "accepted_at", "done_at", "cancelled_at")
    stmt = (
        update(tasks)
        .where(tasks.c.task_id == bindparam("b_task_id"))
        .values({c: bindparam(f"b_{c}") for c in (*cols, "updated_at")})
    )
    params = []
    for t in sorted(changed, key=lambda t: t.task_id):
        v = _task_values(t, now)
        params.append({"b_task_id": t.task_id, **{f"b_{c}": v[c] for c in (*cols, "updated_at")}})
    await session.execute(stmt, params)


async def get_task(session: AsyncSession, task_id: str, *, lock: bool = False) -> Task | None:
    q = select(tasks).where(tasks.c.task_id == task_id)
    row = (await session.execute(q.with_for_update() if lock else q)).first()
    return _task(row) if row else None


async def order_tasks(session: AsyncSession, order_ids: Iterable[str], *, lock: bool = False) -> list[Task]:
    ids = sorted(set(order_ids))
    if not ids:
        return []
    q = select(tasks).where(tasks.c.order_id.in_(ids)).order_by(tasks.c.task_id)
    return [_task(r) for r in await session.execute(q.with_for_update() if lock else q)]


async def list_tasks(
    session: AsyncSession,
    *,
    node_code: str | None,
    status: str | None,
    order_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Task], int]:
    cond = and_(
        tasks.c.node_code == node_code if node_code is not None else True,
        tasks.c.status == status if status is not None else True,
        tasks.c.order_id == order_id if order_id is not None else True,
    )
    total = (await session.execute(select(func.count()).select_from(tasks).where(cond))).scalar_one()
    rows = await session.execute(
        select(tasks).where(cond).order_by(tasks.c.created_at, tasks.c.task_id).limit(limit).offset(offset)
    )
    return [_task(r) for r in rows], total
