"""Carrier routing's SQL (tables in tables_carriers.py, documents in rows_carriers.py).

`Repository` is the service's repository with these queries added: app.py gives it to the chassis, so
`uow.repo` answers both the sourcing queries (store.py) and these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from omni_contracts import utcnow

from . import store
from .domain.carriers import Carrier, Pin, Promise
from .rows_carriers import carrier_doc, carrier_of, pin_doc, pin_of, promise_doc, promise_of
from .tables import tasks
from .tables_carriers import (
    carrier_assignments,
    carrier_audit,
    carrier_orders,
    carrier_pins,
    carrier_settings,
    carriers,
    material_weights,
)

PROMISE = "promise"
# a task in one of these does not (or no longer) go out with its carrier: it does not count against capacity
NOT_GOING = ("cancelled", "rejected", "reassigned")
# a task in one of these has left, or will not: its carrier is not changed any more
CLOSED = ("shipped", "picked_up", *NOT_GOING)


class CarrierQueries:
    session: Any

    # -- carriers ----------------------------------------------------------------------------------------
    async def get_carrier(self, code: str, *, lock: bool = False) -> Carrier | None:
        q = select(carriers).where(carriers.c.code == code)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return carrier_of(row) if row else None

    async def list_carriers(
        self, *, active: bool | None, limit: int, offset: int
    ) -> tuple[list[Carrier], int]:
        cond = carriers.c.active == active if active is not None else True
        total = (
            await self.session.execute(select(func.count()).select_from(carriers).where(cond))
        ).scalar_one()
        q = select(carriers).where(cond).order_by(carriers.c.code).limit(limit).offset(offset)
        return [carrier_of(r) for r in await self.session.execute(q)], total

    async def routing_carriers(self) -> list[Carrier]:
        """The active carriers, those with a daily capacity locked (in code order) until the transaction
        ends, so that two choices at once cannot both take a carrier's last place of the day."""
        await self.session.execute(
            select(carriers.c.code)
            .where(carriers.c.active, carriers.c.daily_capacity.is_not(None))
            .order_by(carriers.c.code)
            .with_for_update()
        )
        q = select(carriers).where(carriers.c.active).order_by(carriers.c.code)
        return [carrier_of(r) for r in await self.session.execute(q)]

    async def save_carrier(self, c: Carrier) -> None:
        """Insert or replace (the caller has set the new version)."""
        now = utcnow()
        values = {**carrier_doc(c), "version": c.version, "updated_at": now}
        stmt = pg_insert(carriers).values(**values, created_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[carriers.c.code], set_={k: stmt.excluded[k] for k in values if k != "code"}
        )
        await self.session.execute(stmt)

    # -- pins --------------------------------------------------------------------------------------------
    async def get_pin(self, rule_id: str, *, lock: bool = False) -> Pin | None:
        q = select(carrier_pins).where(carrier_pins.c.rule_id == rule_id)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return pin_of(row) if row else None

    async def list_pins(self, *, active: bool | None, limit: int, offset: int) -> tuple[list[Pin], int]:
        cond = carrier_pins.c.active == active if active is not None else True
        count = select(func.count()).select_from(carrier_pins).where(cond)
        total = (await self.session.execute(count)).scalar_one()
        q = select(carrier_pins).where(cond).order_by(carrier_pins.c.rule_id).limit(limit).offset(offset)
        return [pin_of(r) for r in await self.session.execute(q)], total

    async def active_pins(self) -> list[Pin]:
        q = select(carrier_pins).where(carrier_pins.c.active).order_by(carrier_pins.c.rule_id)
        return [pin_of(r) for r in await self.session.execute(q)]

    async def save_pin(self, p: Pin) -> None:
        now = utcnow()
        values = {**pin_doc(p), "version": p.version, "updated_at": now}
        stmt = pg_insert(carrier_pins).values(**values, created_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[carrier_pins.c.rule_id],
            set_={k: stmt.excluded[k] for k in values if k != "rule_id"},
        )
        await self.session.execute(stmt)

    # -- the promise -------------------------------------------------------------------------------------
    async def get_promise(self, *, lock: bool = False) -> Promise:
        q = select(carrier_settings).where(carrier_settings.c.key == PROMISE)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return promise_of(row.value, row.version) if row else Promise()

    async def save_promise(self, p: Promise) -> None:
        now = utcnow()
        stmt = pg_insert(carrier_settings).values(
            key=PROMISE, value=promise_doc(p), version=p.version, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[carrier_settings.c.key],
            set_={"value": stmt.excluded.value, "version": stmt.excluded.version, "updated_at": now},
        )
        await self.session.execute(stmt)

    # -- the audit ---------------------------------------------------------------------------------------
    async def audit(self, subject: str, version: int, action: str, actor: str, data: dict[str, Any]) -> None:
        await self.session.execute(
            pg_insert(carrier_audit).values(
                subject=subject, version=version, action=action, actor=actor, data=data, at=utcnow()
            )
        )

    async def history(self, subject: str, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        cond = carrier_audit.c.subject == subject
        count = select(func.count()).select_from(carrier_audit).where(cond)
        total = (await self.session.execute(count)).scalar_one()
        q = select(carrier_audit).where(cond).order_by(carrier_audit.c.id.desc()).limit(limit).offset(offset)
        return [dict(r) for r in (await self.session.execute(q)).mappings()], total

    # -- what routing knows of orders and materials ------------------------------------------------------
    async def save_carrier_orders(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        now = utcnow()
        stmt = pg_insert(carrier_orders).values([{**r, "updated_at": now} for r in rows])
        cols = ("shop_id", "province", "city", "district", "hints", "updated_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=[carrier_orders.c.order_id], set_={k: stmt.excluded[k] for k in cols}
        )
        await self.session.execute(stmt)

    async def carrier_orders(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        q = select(carrier_orders).where(carrier_orders.c.order_id.in_(ids))
        return {r["order_id"]: dict(r) for r in (await self.session.execute(q)).mappings()}

    async def save_weights(self, rows: Sequence[tuple[str, int, int]]) -> None:
        """(material, weight_g, version), at most one per material: kept only where the version is newer."""
        if not rows:
            return
        now = utcnow()
        stmt = pg_insert(material_weights).values(
            [{"material_code": m, "weight_g": w, "version": v, "updated_at": now} for m, w, v in sorted(rows)]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[material_weights.c.material_code],
            set_={"weight_g": stmt.excluded.weight_g, "version": stmt.excluded.version, "updated_at": now},
            where=material_weights.c.version < stmt.excluded.version,
        )
        await self.session.execute(stmt)

    async def weights(self, materials: Iterable[str]) -> dict[str, int]:
        codes = sorted(set(materials))
        if not codes:
            return {}
        q = select(material_weights.c.material_code, material_weights.c.weight_g).where(
            material_weights.c.material_code.in_(codes)
        )
        return {r.material_code: r.weight_g for r in await self.session.execute(q)}

    # -- assignments -------------------------------------------------------------------------------------
    async def used(self, pairs: Iterable[tuple[str, date]]) -> dict[tuple[str, date], int]:
        """Tasks given to (carrier, day) and still going out with it."""
        keys = sorted(set(pairs))
        if not keys:
            return {}
        a = carrier_assignments.c
        q = (
            select(a.carrier, a.ship_day, func.count())
            .join(tasks, tasks.c.task_id == a.task_id)
            .where(a.current, tuple_(a.carrier, a.ship_day).in_(keys), tasks.c.status.not_in(NOT_GOING))
            .group_by(a.carrier, a.ship_day)
        )
        return {(r[0], r[1]): r[2] for r in await self.session.execute(q)}

    async def assignments(self, task_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Every choice of these tasks, oldest first."""
        ids = sorted(set(task_ids))
        if not ids:
            return {}
        a = carrier_assignments.c
        q = select(carrier_assignments).where(a.task_id.in_(ids)).order_by(a.task_id, a.attempt)
        found: dict[str, list[dict[str, Any]]] = {}
        for r in (await self.session.execute(q)).mappings():
            found.setdefault(r["task_id"], []).append(dict(r))
        return found

    async def add_assignments(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(pg_insert(carrier_assignments), list(rows))

    async def refuse_assignment(self, task_id: str, attempt: int, reason: str, at: datetime) -> None:
        a = carrier_assignments.c
        await self.session.execute(
            update(carrier_assignments)
            .where(and_(a.task_id == task_id, a.attempt == attempt))
            .values(current=False, refused_reason=reason, refused_at=at)
        )

    async def set_task_carriers(self, chosen: Sequence[tuple[str, str | None]]) -> None:
        """(task, carrier): the carrier the task goes out with, unless it has left or will not."""
        for task_id, carrier in sorted(chosen):
            await self.session.execute(
                update(tasks)
                .where(tasks.c.task_id == task_id, tasks.c.status.not_in(CLOSED))
                .values(carrier=carrier, updated_at=utcnow())
            )


class Repository(store.Repository, CarrierQueries):
    """The service's repository (store.py) with carrier routing's queries."""
