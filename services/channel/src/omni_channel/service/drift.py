"""Drift: what a platform shows for a listing differs from what Omni last had acknowledged (someone changed
it in the seller console, another tool pushed, the platform lost it). A scheduled job reads every
acknowledged listing back from its platform, in pages, one read per item and shop (the platform adapter
batches), and for each difference records the drift (platform quantity, seen at) and makes the listing due:
the push worker sets the number again. Only listings with nothing due or in flight are read, and a drift
is recorded only if the row is still as it was read (same pushed seq and acknowledgement), so a push that
lands meanwhile is never undone. The job runs once per interval across replicas (the `schedules` row), and
`POST /drift-checks` runs it at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from .. import push_metrics as metrics
from ..domain.push_status import Listing, drifted
from ..domain.stock_push import Answer, Outcome
from ..platforms import StockPlatform
from .orders import Uow
from .worker import PushSignal

log = get_logger(__name__)
SCHEDULE = "drift-check"
MAX_PROBLEMS = 20


@dataclass
class DriftSummary:
    started_at: datetime
    finished_at: datetime | None = None
    checked: int = 0
    drifted: int = 0
    errors: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "checked": self.checked,
            "drifted": self.drifted,
            "errors": self.errors,
            "problems": self.problems,
        }

    def problem(self, listing_id: str, reason: str) -> None:
        self.errors += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"listing_id": listing_id, "reason": reason})


# -- use cases (each one short unit of work) ----------------------------------------------------------------
async def candidates(uow: Uow, *, after: str, limit: int, now: datetime) -> tuple[list[dict], dict]:
    async with uow:
        rows = await uow.repo.acknowledged_page(after=after, limit=limit, now=now)
        shops = await uow.repo.shops_credentials([(r["channel"], r["shop_id"]) for r in rows])
    return rows, shops


async def record_drift(uow: Uow, row: dict[str, Any], shown: int, now: datetime) -> bool:
    async with uow:
        return await uow.repo.record_drift(
            row["listing_id"],
            pushed_seq=row["pushed_seq"],
            acknowledged_at=row["acknowledged_at"],
            shown=shown,
            now=now,
        )


async def block_shop(uow: Uow, channel: str, shop_id: str, reason: str, now: datetime) -> None:
    async with uow:
        await uow.repo.block_shop(channel, shop_id, reason, now)


async def claim_run(uow: Uow, *, now: datetime, interval_s: float) -> bool:
    async with uow:
        return await uow.repo.claim_schedule(
            SCHEDULE, now=now, next_run_at=now + timedelta(seconds=interval_s)
        )


async def finish_run(uow: Uow, summary: DriftSummary) -> None:
    result = json.dumps({k: v for k, v in summary.as_dict().items() if k != "problems"}, default=str)
    async with uow:
        await uow.repo.finish_schedule(SCHEDULE, now=summary.finished_at or utcnow(), result=result)


# -- the job -----------------------------------------------------------------------------------------------
class DriftCheck:
    def __init__(
        self,
        new_uow: Callable[[], Any],
        platforms: Mapping[str, StockPlatform],
        signal: PushSignal,
        *,
        interval_s: float = 60.0,
        page: int = 500,
        shops_at_once: int = 4,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.new_uow, self.platforms, self.signal = new_uow, platforms, signal
        self.interval_s, self.page, self.clock = interval_s, page, clock
        self.shops_at_once = asyncio.Semaphore(shops_at_once)
        self.lock = asyncio.Lock()  # one check at a time in this process

    async def loop(self) -> None:
        """The schedule: every `interval_s`, once across replicas."""
        while True:
            if await claim_run(self.new_uow(), now=self.clock(), interval_s=self.interval_s):
                summary = await self.run_now()
                await finish_run(self.new_uow(), summary)
            await asyncio.sleep(min(self.interval_s / 4, 15.0))

    async def run_now(self) -> DriftSummary:
        async with self.lock:
            summary = DriftSummary(self.clock())
            after = ""
            while True:
                rows, shops = await candidates(self.new_uow(), after=after, limit=self.page, now=self.clock())
                if not rows:
                    break
                by_shop: dict[tuple[str, str], list[dict]] = {}
                for r in rows:
                    by_shop.setdefault((r["channel"], r["shop_id"]), []).append(r)
                await asyncio.gather(
                    *(self._shop(k, group, shops.get(k), summary) for k, group in by_shop.items())
                )
                after = rows[-1]["listing_id"]
            summary.finished_at = self.clock()
        metrics.DRIFT_CHECKS.inc()
        if summary.drifted:
            self.signal.wake()
        log.info("drift check", checked=summary.checked, drifted=summary.drifted, errors=summary.errors)
        return summary

    async def _shop(self, key: tuple[str, str], rows: list[dict], shop: Any, summary: DriftSummary) -> None:
        channel, shop_id = key
        platform = self.platforms.get(channel)
        if platform is None or shop is None or not shop.active or shop.credentials_error:
            for r in rows:  # the pushes say why (unsupported, credentials); nothing to read here
                summary.problem(
                    r["listing_id"], f"not read: the {channel} shop {shop_id!r} cannot be used now"
                )
            return
        listings: list[Listing] = [r["listing"] for r in rows]
        async with self.shops_at_once:
            try:
                shown = await platform.read(listings, shop, self.clock())
            except Exception as exc:
                for r in rows:
                    summary.problem(r["listing_id"], f"read failed: {type(exc).__name__}")
                return
        blocked = False
        for r in rows:
            seen = shown.get(r["listing_id"])
            summary.checked += 1
            if isinstance(seen, Answer):
                summary.problem(r["listing_id"], seen.reason)
                if seen.outcome is Outcome.CREDENTIALS and not blocked:
                    blocked = True
                    await block_shop(self.new_uow(), channel, shop_id, seen.reason, self.clock())
                continue
            if seen is not None and drifted(r["pushed_qty"], seen):
                if await record_drift(self.new_uow(), r, seen, self.clock()):
                    summary.drifted += 1
                    metrics.DRIFT_DETECTED.labels(channel).inc()
                    log.info(
                        "drift seen",
                        listing_id=r["listing_id"],
                        channel=channel,
                        pushed=r["pushed_qty"],
                        shown=seen,
                    )
