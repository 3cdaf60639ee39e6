"""The order pull's SQL (part of the repository, see store.py): the cursor row per (channel, shop), locked
for the page being fetched, and the received_orders lookup that makes a re-fetched payload publish nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.sqlpage import matching, page_of

from .domain.pull import PullState, Window
from .tables import received_orders
from .tables_pull import pull_cursors

P = pull_cursors.c


def _state(row: Any) -> PullState:
    window = Window(row.window_start, row.window_end) if row.window_start is not None else None
    return PullState(row.cursor, window, row.page, row.fetched, row.last_error)


class PullQueries:
    session: AsyncSession

    async def lock_pull_cursor(self, channel: str, shop_id: str) -> PullState:
        """The shop's sync state, its row locked until the commit (created empty the first time)."""
        await self.session.execute(
            insert(pull_cursors).values(channel=channel, shop_id=shop_id).on_conflict_do_nothing()
        )
        row = (
            await self.session.execute(
                select(pull_cursors).where((P.channel == channel) & (P.shop_id == shop_id)).with_for_update()
            )
        ).one()
        return _state(row)

    async def save_pull_cursor(
        self,
        channel: str,
        shop_id: str,
        state: PullState,
        *,
        now: datetime,
        next_run_at: datetime | None,
        published: int = 0,
        refused: int = 0,
        failed: bool = False,
    ) -> None:
        window = state.window
        values: dict[str, Any] = {
            "cursor": state.cursor,
            "window_start": window.start if window else None,
            "window_end": window.end if window else None,
            "page": state.page,
            "fetched": state.fetched,
            "published": P.published + published,
            "refused": P.refused + refused,
            "last_error": state.last_error,
            "failures": P.failures + 1 if failed else 0,
            "last_run_at": now,
            "next_run_at": next_run_at,
        }
        if not failed:
            values["last_success_at"] = now
        where = (P.channel == channel) & (P.shop_id == shop_id)
        await self.session.execute(update(pull_cursors).where(where).values(**values))

    async def pull_failures(self, channel: str, shop_id: str) -> int:
        row = await self.session.execute(
            select(P.failures).where((P.channel == channel) & (P.shop_id == shop_id))
        )
        return row.scalar_one_or_none() or 0

    async def received_digests(self, channel: str, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which (order id, payload digest) of `pairs` are already recorded for `channel`."""
        keys = list(set(pairs))
        if not keys:
            return set()
        R = received_orders.c
        rows = await self.session.execute(
            select(R.channel_order_id, R.payload_sha256).where(
                (R.channel == channel) & tuple_(R.channel_order_id, R.payload_sha256).in_(keys)
            )
        )
        return {(r.channel_order_id, r.payload_sha256) for r in rows}

    async def get_pull_cursor(self, channel: str, shop_id: str) -> dict[str, Any] | None:
        row = await self.session.execute(
            select(pull_cursors).where((P.channel == channel) & (P.shop_id == shop_id))
        )
        found = row.first()
        return dict(found._mapping) if found else None

    async def list_pull_cursors(
        self, *, channel: str | None, failing: bool | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = matching((P.channel, channel))
        if failing is not None:
            where.append(P.failures > 0 if failing else P.failures == 0)
        rows, total = await page_of(
            self.session, pull_cursors, where, [P.channel, P.shop_id], limit=limit, offset=offset
        )
        return [dict(r._mapping) for r in rows], total
