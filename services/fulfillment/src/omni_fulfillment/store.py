"""The repository: the only place that knows SQL. Tables are in tables.py, rows <-> domain in rows.py.

`Repository(session)` is what the unit of work carries as `uow.repo` (`create_app(..., repository=
store.Repository)`); it reads and writes domain objects on the unit of work's session and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts import utcnow

from . import store_routing
from .domain.intercept import CaseRefund, Refunded
from .domain.nodes import Node, NodeRouting
from .domain.order_sourcing import OrderSourcing, SourcingStatus
from .domain.stock_view import StockView
from .domain.tasks import Task
from .rows import (
    TASK_STATE,
    lines_json,
    node_of,
    node_values,
    reservation_of,
    sourcing_of,
    sourcing_values,
    task_of,
    task_values,
)
from .rows_routing import routing_values
from .store_tasks import TaskStore
from .tables import intercepts, metadata, nodes, reservations, sourcing, stock, tasks

__all__ = ["Repository", "intercepts", "metadata", "nodes", "reservations", "sourcing", "stock", "tasks"]


class Repository(TaskStore):
    """Nodes, stock, sourcing, tasks and intercepts here; store tasks' work in store_tasks.py."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- nodes -----------------------------------------------------------------------------------------------
    async def get_node(self, code: str, *, lock: bool = False) -> Node | None:
        q = select(nodes).where(nodes.c.code == code)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return node_of(row) if row else None

    async def insert_node(self, node: Node) -> bool:
        """Insert a new node; False when the code is taken."""
        now = utcnow()
        stmt = (
            pg_insert(nodes)
            .values(**node_values(node), **routing_values(node.routing), created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=[nodes.c.code])
            .returning(nodes.c.code)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def put_node(self, node: Node) -> bool:
        """Create or replace a node. True when it was created. A replaced node keeps its routing settings
        (put_node_routing replaces them)."""
        now = utcnow()
        values = node_values(node)
        routing = routing_values(node.routing)
        stmt = pg_insert(nodes).values(**values, **routing, created_at=now, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[nodes.c.code],
            set_={**{k: stmt.excluded[k] for k in values if k != "code"}, "updated_at": now},
        ).returning(nodes.c.created_at)
        created_at = (await self.session.execute(stmt)).scalar_one()
        return created_at == now

    async def list_nodes(
        self, *, type: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[Node], int]:
        cond = and_(
            nodes.c.type == type if type is not None else True,
            nodes.c.active == active if active is not None else True,
        )
        total = (await self.session.execute(select(func.count()).select_from(nodes).where(cond))).scalar_one()
        q = select(nodes).where(cond).order_by(nodes.c.code).limit(limit).offset(offset)
        return [node_of(r) for r in await self.session.execute(q)], total

    # -- stock projection ------------------------------------------------------------------------------------
    async def upsert_stock(self, rows: Sequence[tuple[str, str, int, int]]) -> None:
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
        await self.session.execute(stmt, params)

    async def set_available(self, rows: Sequence[tuple[str, str, int]]) -> None:
        """What a refusal revealed: (node, material, available). The sequence is left as it was (0 when
        new), so the next stock change from inventory replaces it."""
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
        params = [{"n": n, "m": m, "a": a, "u": now} for (n, m), a in sorted(latest.items())]
        await self.session.execute(stmt, params)

    async def get_stock(self, node_code: str, material_code: str) -> tuple[int, int] | None:
        """(available, seq) of one pair, or None."""
        q = select(stock.c.available, stock.c.seq).where(
            stock.c.node_code == node_code, stock.c.material_code == material_code
        )
        row = (await self.session.execute(q)).first()
        return (row.available, row.seq) if row else None

    async def load_view(self, materials: Iterable[str], node_codes: Iterable[str] = ()) -> StockView:
        """Active nodes holding some of `materials`, with that stock, plus the active nodes named in
        `node_codes` (pickup nodes) even when they hold none; with their routing settings and their load
        now (store_routing.py: one query for the whole view)."""
        materials, node_codes = sorted(set(materials)), sorted(set(node_codes))
        rows: list[Any] = []
        if materials:
            q = (
                select(stock.c.node_code, stock.c.material_code, stock.c.available)
                .join(nodes, nodes.c.code == stock.c.node_code)
                .where(nodes.c.active, stock.c.material_code.in_(materials), stock.c.available > 0)
            )
            rows = list((await self.session.execute(q)).all())
        now = utcnow()
        infos = await store_routing.node_infos(self.session, {r.node_code for r in rows} | set(node_codes))
        load = await store_routing.node_loads(self.session, infos, now)
        held = [(r.node_code, r.material_code, r.available) for r in rows if r.node_code in infos]
        return StockView(infos.values(), held, load=load, now=now)

    async def put_node_routing(self, code: str, routing: NodeRouting) -> bool:
        """Replace a node's routing settings; False when there is no such node."""
        return await store_routing.put_routing(self.session, code, routing)

    # -- sourcing --------------------------------------------------------------------------------------------
    async def load_sourcings(
        self, order_ids: Iterable[str], *, lock: bool = True
    ) -> dict[str, OrderSourcing]:
        """Orders with their reservations, locked (in order id order) for the rest of the transaction."""
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        q = select(sourcing).where(sourcing.c.order_id.in_(ids)).order_by(sourcing.c.order_id)
        found = {
            r.order_id: sourcing_of(r) for r in await self.session.execute(q.with_for_update() if lock else q)
        }
        if found:
            res = await self.session.execute(
                select(reservations)
                .where(reservations.c.order_id.in_(list(found)))
                .order_by(
                    reservations.c.order_id,
                    reservations.c.attempt,
                    reservations.c.line_group.asc().nulls_first(),  # the main group first
                    reservations.c.node_code,
                )
            )
            for r in res:
                found[r.order_id].reservations.append(reservation_of(r))
        return found

    async def save_sourcings(self, orders: Sequence[OrderSourcing]) -> None:
        """Insert or update the orders and every reservation of theirs (a handful per order)."""
        if not orders:
            return
        now = utcnow()
        stmt = pg_insert(sourcing)
        changing = (
            "status", "lines", "dest_lat", "dest_lng", "pickup_node", "attempt", "excluded", "reason",
            "routing",
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=[sourcing.c.order_id],
            set_={k: stmt.excluded[k] for k in (*changing, "first_attempt", "accepted_event", "updated_at")},
        )
        ordered = sorted(orders, key=lambda o: o.order_id)
        await self.session.execute(stmt, [sourcing_values(o, now) for o in ordered])
        res_rows = [
            {
                "reservation_id": r.reservation_id,
                "order_id": o.order_id,
                "node_code": r.node_code,
                "attempt": r.attempt,
                "lines": lines_json(r.lines),
                "status": r.status.value,
                "line_group": r.group,
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
            await self.session.execute(rstmt, sorted(res_rows, key=lambda r: r["reservation_id"]))

    async def mark_fulfilled(self, order_id: str) -> None:
        await self.session.execute(
            update(sourcing)
            .where(sourcing.c.order_id == order_id, sourcing.c.status == SourcingStatus.ALLOCATED.value)
            .values(status=SourcingStatus.FULFILLED.value, updated_at=utcnow())
        )

    async def lock_sourcing(self, order_id: str) -> None:
        await self.session.execute(
            select(sourcing.c.order_id).where(sourcing.c.order_id == order_id).with_for_update()
        )

    # -- tasks -----------------------------------------------------------------------------------------------
    async def insert_tasks(self, new: Sequence[Task]) -> None:
        if new:
            now = utcnow()
            await self.session.execute(pg_insert(tasks), [task_values(t, now) for t in new])

    async def save_tasks(self, changed: Sequence[Task]) -> None:
        """Write back the state of tasks that changed (status and what came with it)."""
        if not changed:
            return
        now = utcnow()
        stmt = (
            update(tasks)
            .where(tasks.c.task_id == bindparam("b_task_id"))
            .values({c: bindparam(f"b_{c}") for c in (*TASK_STATE, "updated_at")})
        )
        params = []
        for t in sorted(changed, key=lambda t: t.task_id):
            v = task_values(t, now)
            params.append({"b_task_id": t.task_id, **{f"b_{c}": v[c] for c in (*TASK_STATE, "updated_at")}})
        await self.session.execute(stmt, params)

    async def get_task(self, task_id: str, *, lock: bool = False) -> Task | None:
        q = select(tasks).where(tasks.c.task_id == task_id)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return task_of(row) if row else None

    async def order_tasks(self, order_ids: Iterable[str], *, lock: bool = False) -> list[Task]:
        ids = sorted(set(order_ids))
        if not ids:
            return []
        q = select(tasks).where(tasks.c.order_id.in_(ids)).order_by(tasks.c.task_id)
        return [task_of(r) for r in await self.session.execute(q.with_for_update() if lock else q)]

    async def list_tasks(
        self,
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
        total = (await self.session.execute(select(func.count()).select_from(tasks).where(cond))).scalar_one()
        q = (
            select(tasks)
            .where(cond)
            .order_by(tasks.c.created_at, tasks.c.task_id)
            .limit(limit)
            .offset(offset)
        )
        return [task_of(r) for r in await self.session.execute(q)], total

    # -- partial refunds before shipment ---------------------------------------------------------------------
    async def claim_intercepts(self, cases: Sequence[CaseRefund]) -> set[str]:
        """Record these cases as pending; returns the case ids that were new (a case is handled once)."""
        if not cases:
            return set()
        now = utcnow()
        rows = [
            {"case_id": c.case_id, "order_id": c.order_id, "lines": _refunded_json(c.lines),
             "status": "pending", "created_at": now, "updated_at": now}
            for c in cases
        ]  # fmt: skip
        stmt = (
            pg_insert(intercepts)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[intercepts.c.case_id])
            .returning(intercepts.c.case_id)
        )
        return {r.case_id for r in await self.session.execute(stmt)}

    async def pending_intercepts(self, order_ids: Iterable[str]) -> list[CaseRefund]:
        """The cases of these orders waiting for their allocation, oldest first."""
        ids = sorted(set(order_ids))
        if not ids:
            return []
        c = intercepts.c
        q = (
            select(c.case_id, c.order_id, c.lines)
            .where(c.order_id.in_(ids), c.status == "pending")
            .order_by(c.created_at, c.case_id)
        )
        return [
            CaseRefund(r.case_id, r.order_id, tuple(Refunded(d["line_id"], d["material_code"], int(d["qty"]))
                                                    for d in r.lines))
            for r in await self.session.execute(q)
        ]  # fmt: skip

    async def finish_intercept(
        self, case_id: str, status: str, held: list[dict[str, Any]], gone: list[dict[str, Any]]
    ) -> None:
        """A case applied (`done`, with what was and was not held back) or given up (`moot`)."""
        await self.session.execute(
            update(intercepts)
            .where(intercepts.c.case_id == case_id)
            .values(status=status, intercepted=held, not_intercepted=gone, updated_at=utcnow())
        )

    async def drop_pending_intercepts(self, order_ids: Iterable[str]) -> list[str]:
        """The pending cases of these orders (cancelled) -> moot; returns their case ids."""
        ids = sorted(set(order_ids))
        if not ids:
            return []
        c = intercepts.c
        stmt = (
            update(intercepts)
            .where(c.order_id.in_(ids), c.status == "pending")
            .values(status="moot", updated_at=utcnow())
            .returning(c.case_id)
        )
        return sorted(r.case_id for r in await self.session.execute(stmt))


def _refunded_json(lines: Iterable[Refunded]) -> list[dict[str, Any]]:
    return [{"line_id": x.line_id, "material_code": x.material_code, "qty": x.qty} for x in lines]
