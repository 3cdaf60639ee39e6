"""The SQL of store tasks' work (tables_tasks.py): a mixin of `store.Repository`, on its session.

Reject reasons and their versions, the staff's actions (claimed once per client action id), rejections (the
re-sources an order used), node pauses, SLA policies, cycle-count requests, and each order's channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.reject_reasons import RejectReason
from .domain.sla import ANY, SlaPolicy
from .tables import nodes, reservations, tasks
from .tables_tasks import (
    count_requests,
    node_pauses,
    order_refs,
    reject_reason_versions,
    reject_reasons,
    sla_policies,
    task_actions,
    task_rejections,
)

REASON_FIELDS = ("label", "zero_stock", "request_count", "pause_minutes", "next", "active")


def _reason(r: Any) -> RejectReason:
    return RejectReason(
        r.code, r.label, r.zero_stock, r.request_count, r.pause_minutes, r.next, r.active, r.system, r.version
    )


def _policy(r: Any) -> SlaPolicy:
    return SlaPolicy(r.node_code, r.channel, r.accept_s, r.pick_pack_s, r.pickup_hold_s)


class TaskStore:
    session: AsyncSession

    # -- orders' channels ------------------------------------------------------------------------------------
    async def save_order_refs(self, rows: Sequence[tuple[str, str, str, str]], now: datetime) -> None:
        """(order, channel, shop, channel order id), kept from the order's first acceptance."""
        if rows:
            values = [
                {"order_id": o, "channel": c, "shop_id": s, "channel_order_id": x, "created_at": now}
                for o, c, s, x in sorted(set(rows))
            ]
            await self.session.execute(pg_insert(order_refs).values(values).on_conflict_do_nothing())

    async def order_refs(self, order_ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
        ids = sorted(set(order_ids))
        if not ids:
            return {}
        q = select(order_refs).where(order_refs.c.order_id.in_(ids))
        return {r.order_id: (r.channel, r.shop_id, r.channel_order_id) for r in await self.session.execute(q)}

    async def node_types(self, codes: Iterable[str]) -> dict[str, str]:
        found = await self.session.execute(
            select(nodes.c.code, nodes.c.type).where(nodes.c.code.in_(sorted(set(codes))))
        )
        return {r.code: r.type for r in found}

    # -- reject reasons --------------------------------------------------------------------------------------
    async def list_reasons(self, *, active: bool | None = None) -> list[RejectReason]:
        q = select(reject_reasons).order_by(reject_reasons.c.code)
        if active is not None:
            q = q.where(reject_reasons.c.active == active)
        return [_reason(r) for r in await self.session.execute(q)]

    async def get_reason(self, code: str, *, lock: bool = False) -> RejectReason | None:
        q = select(reject_reasons).where(reject_reasons.c.code == code)
        row = (await self.session.execute(q.with_for_update() if lock else q)).first()
        return _reason(row) if row else None

    async def save_reason(self, reason: RejectReason, by: str | None, now: datetime) -> None:
        """Insert or replace the reason (its version is the caller's) and keep that version."""
        values = {"code": reason.code, **{f: getattr(reason, f) for f in REASON_FIELDS}}
        values |= {
            "next": reason.next.value,
            "system": reason.system,
            "version": reason.version,
            "updated_at": now,
            "updated_by": by,
        }
        stmt = pg_insert(reject_reasons).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[reject_reasons.c.code], set_={k: stmt.excluded[k] for k in values if k != "code"}
        )
        await self.session.execute(stmt)
        await self._version(reason.code, reason.version, reason.doc(), by, now)

    async def delete_reason(self, reason: RejectReason, by: str | None, now: datetime) -> None:
        await self.session.execute(reject_reasons.delete().where(reject_reasons.c.code == reason.code))
        await self._version(reason.code, reason.version + 1, {**reason.doc(), "deleted": True}, by, now)

    async def last_reason_version(self, code: str) -> int:
        q = select(func.max(reject_reason_versions.c.version)).where(reject_reason_versions.c.code == code)
        return (await self.session.execute(q)).scalar() or 0

    async def reason_versions(self, code: str) -> list[dict[str, Any]]:
        v = reject_reason_versions.c
        q = select(v.version, v.doc, v.changed_at, v.changed_by).where(v.code == code).order_by(v.version)
        return [dict(r._mapping) for r in await self.session.execute(q)]

    async def _version(
        self, code: str, version: int, doc: dict[str, Any], by: str | None, now: datetime
    ) -> None:
        await self.session.execute(
            pg_insert(reject_reason_versions).values(
                code=code, version=version, doc=doc, changed_at=now, changed_by=by
            )
        )

    # -- the staff's actions ---------------------------------------------------------------------------------
    async def claim_action(
        self, action_id: str, task_id: str, action: str, digest: str, actor: str | None, now: datetime
    ) -> dict[str, Any] | None:
        """Record a client action id; None when it is new, else what it recorded (a retry: done already).
        A concurrent retry waits here for the first to commit."""
        stmt = (
            pg_insert(task_actions)
            .values(
                action_id=action_id,
                task_id=task_id,
                action=action,
                digest=digest,
                outcome="done",
                actor=actor,
                at=now,
            )
            .on_conflict_do_nothing(index_elements=[task_actions.c.action_id])
            .returning(task_actions.c.action_id)
        )
        if (await self.session.execute(stmt)).first() is not None:
            return None
        row = (
            await self.session.execute(select(task_actions).where(task_actions.c.action_id == action_id))
        ).first()
        return dict(row._mapping) if row else None

    async def finish_action(self, action_id: str, outcome: str, detail: str = "") -> None:
        await self.session.execute(
            update(task_actions)
            .where(task_actions.c.action_id == action_id)
            .values(outcome=outcome, detail=detail)
        )

    async def task_actions(self, task_id: str) -> list[dict[str, Any]]:
        a = task_actions.c
        q = (
            select(a.action_id, a.action, a.outcome, a.actor, a.detail, a.at)
            .where(a.task_id == task_id)
            .order_by(a.at, a.action_id)
        )
        return [dict(r._mapping) for r in await self.session.execute(q)]

    # -- rejections (and reassignments) ----------------------------------------------------------------------
    async def add_rejection(self, row: dict[str, Any]) -> None:
        await self.session.execute(pg_insert(task_rejections).values(row))

    async def resources_used(self, order_id: str, first_attempt: int = 1) -> int:
        """The give-backs of the order's current sourcing: of tasks whose reservation is of an attempt from
        `first_attempt` on (an operator's retry, or a backorder sourced again, starts a new budget)."""
        r, t, v = task_rejections.c, tasks.c, reservations.c
        q = (
            select(func.count())
            .select_from(task_rejections.join(tasks, t.task_id == r.task_id))
            .join(reservations, v.reservation_id == t.reservation_id)
            .where(r.order_id == order_id, v.attempt >= first_attempt)
        )
        return (await self.session.execute(q)).scalar_one()

    async def order_rejections(self, order_id: str) -> list[dict[str, Any]]:
        r = task_rejections.c
        q = select(task_rejections).where(r.order_id == order_id).order_by(r.at, r.id)
        return [dict(x._mapping) for x in await self.session.execute(q)]

    # -- node pauses -----------------------------------------------------------------------------------------
    async def pause_node(
        self, code: str, until: datetime, reason: str, task_id: str | None, now: datetime
    ) -> None:
        """Pause a node until `until` (a pause running longer is kept)."""
        stmt = pg_insert(node_pauses).values(
            node_code=code, until=until, reason=reason, task_id=task_id, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[node_pauses.c.node_code],
            set_={k: stmt.excluded[k] for k in ("until", "reason", "task_id", "updated_at")},
            where=node_pauses.c.until < stmt.excluded.until,
        )
        await self.session.execute(stmt)

    async def paused_nodes(self, now: datetime) -> dict[str, tuple[datetime, str]]:
        q = select(node_pauses).where(node_pauses.c.until > now).order_by(node_pauses.c.node_code)
        return {r.node_code: (r.until, r.reason) for r in await self.session.execute(q)}

    async def resume_node(self, code: str) -> bool:
        done = await self.session.execute(node_pauses.delete().where(node_pauses.c.node_code == code))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    # -- SLA policies ----------------------------------------------------------------------------------------
    async def sla_policies_for(self, node_codes: Iterable[str]) -> list[SlaPolicy]:
        codes = sorted(set(node_codes) | {ANY})
        q = select(sla_policies).where(sla_policies.c.node_code.in_(codes))
        return [_policy(r) for r in await self.session.execute(q)]

    async def list_sla_policies(self, node_code: str | None = None) -> list[SlaPolicy]:
        q = select(sla_policies).order_by(sla_policies.c.node_code, sla_policies.c.channel)
        if node_code is not None:
            q = q.where(sla_policies.c.node_code == node_code)
        return [_policy(r) for r in await self.session.execute(q)]

    async def put_sla_policy(self, p: SlaPolicy, by: str | None, now: datetime) -> bool:
        """Create or replace; True when created."""
        values = {
            "node_code": p.node_code,
            "channel": p.channel,
            "accept_s": p.accept_s,
            "pick_pack_s": p.pick_pack_s,
            "pickup_hold_s": p.pickup_hold_s,
            "updated_at": now,
            "updated_by": by,
        }
        existed = (
            await self.session.execute(
                select(sla_policies.c.node_code)
                .where(sla_policies.c.node_code == p.node_code, sla_policies.c.channel == p.channel)
                .with_for_update()
            )
        ).first()
        stmt = pg_insert(sla_policies).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[sla_policies.c.node_code, sla_policies.c.channel],
            set_={k: stmt.excluded[k] for k in values if k not in ("node_code", "channel")},
        )
        await self.session.execute(stmt)
        return existed is None

    async def delete_sla_policy(self, node_code: str, channel: str) -> bool:
        done = await self.session.execute(
            sla_policies.delete().where(
                sla_policies.c.node_code == node_code, sla_policies.c.channel == channel
            )
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    # -- cycle-count requests --------------------------------------------------------------------------------
    async def request_counts(
        self, node_code: str, materials: Iterable[str], task_id: str, reason_code: str, now: datetime
    ) -> None:
        """An open request per (node, material): one already open is kept as it is."""
        rows = [
            {
                "node_code": node_code,
                "material_code": m,
                "task_id": task_id,
                "reason_code": reason_code,
                "requested_at": now,
            }
            for m in sorted(set(materials))
        ]
        if rows:
            stmt = (
                pg_insert(count_requests)
                .values(rows)
                .on_conflict_do_nothing(
                    index_elements=[count_requests.c.node_code, count_requests.c.material_code],
                    index_where=count_requests.c.done_at.is_(None),
                )
            )
            await self.session.execute(stmt)

    async def list_count_requests(
        self, *, node_code: str | None, open_only: bool, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        c = count_requests.c
        cond = and_(
            c.node_code == node_code if node_code is not None else True,
            c.done_at.is_(None) if open_only else True,
        )
        total = (
            await self.session.execute(select(func.count()).select_from(count_requests).where(cond))
        ).scalar_one()
        q = select(count_requests).where(cond).order_by(c.requested_at, c.id).limit(limit).offset(offset)
        return [dict(r._mapping) for r in await self.session.execute(q)], total

    async def close_count_requests(
        self, pairs: Iterable[tuple[str, str]], by: str, now: datetime, *, request_id: int | None = None
    ) -> int:
        """Close the open requests of these (node, material) pairs (a count was recorded), or one by id."""
        c = count_requests.c
        pairs = sorted(set(pairs))
        if request_id is not None:
            cond = c.id == request_id
        elif pairs:
            cond = or_(*(and_(c.node_code == n, c.material_code == m) for n, m in pairs))
        else:
            return 0
        done = await self.session.execute(
            update(count_requests).where(cond, c.done_at.is_(None)).values(done_at=now, done_by=by)
        )
        return done.rowcount  # type: ignore[attr-defined,no-any-return]
