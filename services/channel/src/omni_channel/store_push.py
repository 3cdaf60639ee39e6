"""The push status's SQL (part of the repository, see store.py). Claims are short transactions with
`FOR UPDATE SKIP LOCKED` and a lease (`claim_token` until `claimed_until`): several replicas' workers never
take the same listing, and a push whose worker died is taken again once its lease ran out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.push_status import Claim, Listing, Transition
from .tables import push_attempts, push_status, schedules, shops

PUSH_HISTORY = 20  # attempts kept per listing

_CLAIM = text(
    "WITH due AS (SELECT listing_id FROM push_status WHERE next_attempt_at <= :now "
    "AND (claimed_until IS NULL OR claimed_until < :now) ORDER BY next_attempt_at LIMIT :limit "
    "FOR UPDATE SKIP LOCKED) "
    "UPDATE push_status p SET claim_token = :token, claimed_until = :lease FROM due "
    "WHERE p.listing_id = due.listing_id RETURNING p.listing_id, p.channel, p.shop_id, p.channel_item_id, "
    "p.channel_sku_id, p.desired_qty, p.desired_seq, p.computed_at, p.attempts"
)
_TRIM = text(
    "DELETE FROM push_attempts WHERE listing_id = :l AND id <= (SELECT id FROM push_attempts "
    "WHERE listing_id = :l ORDER BY id DESC OFFSET :keep LIMIT 1)"
)
_NEXT_DUE = text(
    "SELECT min(GREATEST(next_attempt_at, COALESCE(claimed_until, next_attempt_at))) FROM push_status "
    "WHERE next_attempt_at IS NOT NULL"
)

VIEW = tuple(c for c in push_status.c if c.name not in ("claim_token",))


def _listing(r: Any) -> Listing:
    return Listing(r.listing_id, r.channel, r.shop_id, r.channel_item_id, r.channel_sku_id)


class PushQueries:
    session: AsyncSession

    # -- the consumer ---------------------------------------------------------------------------------------
    async def upsert_desired(self, rows: Sequence[dict[str, Any]], now: datetime) -> list[str]:
        """Keep each listing's newest number (a seq not above the one held changes nothing) and make it due.
        Returns the listings that changed."""
        if not rows:
            return []
        values = [
            {
                **r,
                "state": "pending",
                "next_attempt_at": now,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ]
        stmt = insert(push_status).values(values)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            constraint="push_status_pk",
            set_={
                "channel": ex.channel,
                "shop_id": ex.shop_id,
                "channel_item_id": ex.channel_item_id,
                "channel_sku_id": ex.channel_sku_id,
                "desired_qty": ex.desired_qty,
                "desired_seq": ex.desired_seq,
                "rules_version": ex.rules_version,
                "computed_at": ex.computed_at,
                "state": "pending",
                "next_attempt_at": ex.next_attempt_at,
                "attempts": 0,
                "updated_at": ex.updated_at,
            },
            where=push_status.c.desired_seq < ex.desired_seq,
        ).returning(push_status.c.listing_id)
        return list((await self.session.execute(stmt)).scalars())

    # -- the worker -----------------------------------------------------------------------------------------
    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int, token: str) -> list[Claim]:
        rows = await self.session.execute(
            _CLAIM, {"now": now, "lease": lease_until, "limit": limit, "token": token}
        )
        return [
            Claim(_listing(r), r.desired_qty, r.desired_seq, r.computed_at, r.attempts, token) for r in rows
        ]

    async def lock_claimed(self, listing_id: str, token: str) -> int | None:
        """The desired seq of a listing still claimed with `token` (locked), or None: the claim was lost."""
        return (
            await self.session.execute(
                select(push_status.c.desired_seq)
                .where(push_status.c.listing_id == listing_id, push_status.c.claim_token == token)
                .with_for_update()
            )
        ).scalar_one_or_none()

    async def finish_push(self, claim: Claim, t: Transition, answer: dict[str, Any], now: datetime) -> None:
        """Record a push's result and let the claim go."""
        values: dict[str, Any] = {
            "state": t.state.value,
            "next_attempt_at": t.next_attempt_at,
            "attempts": t.attempts,
            "last_attempt_at": now,
            "claim_token": None,
            "claimed_until": None,
            "updated_at": now,
        }
        if t.last_error is not None or t.acknowledged:
            values["last_error"] = t.last_error
        if t.acknowledged:
            values.update(
                pushed_qty=claim.quantity,
                pushed_seq=claim.seq,
                acknowledged_at=now,
                platform_qty=answer.get("platform_qty"),
                platform_answer=answer.get("detail"),
            )
        await self.session.execute(
            update(push_status).where(push_status.c.listing_id == claim.listing.listing_id).values(**values)
        )
        await self.add_attempt(claim.listing.listing_id, "push", claim.seq, claim.quantity, answer, now)
        if t.blocks_shop:
            await self.block_shop(claim.listing.channel, claim.listing.shop_id, t.last_error or "", now)

    async def add_attempt(
        self, listing_id: str, kind: str, seq: int, quantity: int, answer: dict[str, Any], now: datetime
    ) -> None:
        await self.session.execute(
            insert(push_attempts).values(
                listing_id=listing_id,
                kind=kind,
                seq=seq,
                quantity=quantity,
                outcome=answer["outcome"],
                detail=answer.get("detail"),
                code=answer.get("code"),
                sub_code=answer.get("sub_code"),
                platform_qty=answer.get("platform_qty"),
                started_at=answer.get("started_at", now),
                finished_at=now,
            )
        )
        await self.session.execute(_TRIM, {"l": listing_id, "keep": PUSH_HISTORY})

    async def block_shop(self, channel: str, shop_id: str, reason: str, now: datetime) -> None:
        await self.session.execute(
            update(shops)
            .where(shops.c.channel == channel, shops.c.shop_id == shop_id)
            .values(credentials_error=reason[:500], credentials_error_at=now)
        )

    async def next_due_at(self) -> datetime | None:
        """When the earliest due (or leased) push comes due, for the worker's sleep."""
        return (await self.session.execute(_NEXT_DUE)).scalar()

    async def release_shop(self, channel: str, shop_id: str, now: datetime) -> int:
        """The shop's credentials changed: its listings that waited for them are due now."""
        result = await self.session.execute(
            update(push_status)
            .where(
                push_status.c.channel == channel,
                push_status.c.shop_id == shop_id,
                push_status.c.state == "credentials",
            )
            .values(state="pending", next_attempt_at=now, attempts=0, updated_at=now)
        )
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

    async def release_unsupported(self, channels: Sequence[str], now: datetime) -> int:
        """Listings of channels a platform now serves, which waited for one, are due now."""
        result = await self.session.execute(
            update(push_status)
            .where(push_status.c.state == "unsupported", push_status.c.channel.in_(list(channels)))
            .values(state="pending", next_attempt_at=now, attempts=0, updated_at=now)
        )
        return result.rowcount  # type: ignore[attr-defined,no-any-return]

    async def resync(self, listing_id: str, now: datetime) -> bool:
        result = await self.session.execute(
            update(push_status)
            .where(push_status.c.listing_id == listing_id)
            .values(state="pending", next_attempt_at=now, attempts=0, updated_at=now)
            .returning(push_status.c.listing_id)
        )
        return result.scalar_one_or_none() is not None

    # -- views ----------------------------------------------------------------------------------------------
    async def list_push_status(
        self, *, filters: dict[str, str | None], limit: int, offset: int
    ) -> tuple[list[dict], int]:
        conds = [push_status.c[k] == v for k, v in filters.items() if v is not None]
        total = (
            await self.session.execute(select(func.count()).select_from(push_status).where(*conds))
        ).scalar_one()
        rows = await self.session.execute(
            select(*VIEW).where(*conds).order_by(push_status.c.listing_id).limit(limit).offset(offset)
        )
        return [dict(r) for r in rows.mappings()], total

    async def get_push_status(self, listing_id: str) -> dict | None:
        row = (
            (await self.session.execute(select(*VIEW).where(push_status.c.listing_id == listing_id)))
            .mappings()
            .one_or_none()
        )
        return dict(row) if row else None

    async def push_history(self, listing_id: str, limit: int = PUSH_HISTORY) -> list[dict]:
        rows = await self.session.execute(
            select(push_attempts)
            .where(push_attempts.c.listing_id == listing_id)
            .order_by(push_attempts.c.id.desc())
            .limit(limit)
        )
        return [dict(r) for r in rows.mappings()]

    # -- drift ----------------------------------------------------------------------------------------------
    async def acknowledged_page(self, *, after: str, limit: int, now: datetime) -> list[dict]:
        """Acknowledged listings with nothing due or in flight, by listing id after `after`."""
        c = push_status.c
        rows = await self.session.execute(
            select(
                c.listing_id,
                c.channel,
                c.shop_id,
                c.channel_item_id,
                c.channel_sku_id,
                c.pushed_qty,
                c.pushed_seq,
                c.acknowledged_at,
            )
            .where(
                c.state == "acknowledged",
                c.next_attempt_at.is_(None),
                c.listing_id > after,
                (c.claimed_until.is_(None)) | (c.claimed_until < now),
            )
            .order_by(c.listing_id)
            .limit(limit)
        )
        return [{**dict(r), "listing": _listing(r)} for r in rows.mappings()]

    async def record_drift(
        self, listing_id: str, *, pushed_seq: int, acknowledged_at: datetime, shown: int, now: datetime
    ) -> bool:
        """The platform shows `shown` instead of what was acknowledged: note it and make the listing due,
        unless it changed since it was read (pushed again, or a newer number arrived)."""
        c = push_status.c
        result = await self.session.execute(
            update(push_status)
            .where(
                c.listing_id == listing_id,
                c.state == "acknowledged",
                c.pushed_seq == pushed_seq,
                c.acknowledged_at == acknowledged_at,
                c.next_attempt_at.is_(None),
            )
            .values(
                drift_qty=shown,
                drift_seen_at=now,
                drifts=c.drifts + 1,
                state="pending",
                next_attempt_at=now,
                attempts=0,
                updated_at=now,
            )
            .returning(c.pushed_qty)
        )
        pushed = result.scalar_one_or_none()
        if pushed is None:
            return False
        await self.add_attempt(
            listing_id,
            "drift",
            pushed_seq,
            pushed,
            {
                "outcome": "drift",
                "platform_qty": shown,
                "detail": f"the platform showed {shown}, Omni had pushed {pushed}",
            },
            now,
        )
        return True

    async def claim_schedule(self, name: str, *, now: datetime, next_run_at: datetime) -> bool:
        """Take the job `name`'s run if it is due (once across replicas); the next one is set at once."""
        await self.session.execute(
            insert(schedules).values(name=name, next_run_at=now).on_conflict_do_nothing()
        )
        result = await self.session.execute(
            update(schedules)
            .where(schedules.c.name == name, schedules.c.next_run_at <= now)
            .values(next_run_at=next_run_at, last_started_at=now)
            .returning(schedules.c.name)
        )
        return result.scalar_one_or_none() is not None

    async def finish_schedule(self, name: str, *, now: datetime, result: str) -> None:
        await self.session.execute(
            update(schedules)
            .where(schedules.c.name == name)
            .values(last_finished_at=now, last_result=result[:2000])
        )
