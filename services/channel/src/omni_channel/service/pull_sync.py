"""The durable order pull (JD, Pinduoduo): one page per unit of work, run by a chassis timer per shop.

A shop's sync is the timer `channel.order-pull` keyed `<channel>:<shop id>`. Each firing runs in the timer
loop's unit of work (claimed with `FOR UPDATE SKIP LOCKED`, so one replica at a time pulls a shop):

1. lock the shop's `pull_cursors` row and fetch ONE page of the window in progress (service/pull.py);
2. record its orders: a payload already in `received_orders` (the same order id and digest: an overlapping
   window, a page fetched again after a crash) publishes nothing; a new one goes through the webhooks'
   dedupe and outbox path (`record_outcome`); an order that does not normalise is recorded `refused` with
   its problem paths, so one bad order never blocks the cursor;
3. save the state (the next page, or the cursor moved to the window's end) and schedule the next firing:
   at once when there is more to fetch, after `interval` when caught up.

All three commit together: a process killed mid-page leaves the timer and the state as they were, and the
page is fetched again after the restart (its orders publish once). A platform failure (PullError) is
recorded on the cursor (`last_error`, `failures`) and retried with a doubling backoff, for as long as it
lasts: the sync never stops on its own. A shop that is removed or made inactive stops its timer; saving it
active again, or `POST /pull-cursors/{channel}/{shop_id}/run`, starts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from omni_chassis.errors import ProblemError
from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..credentials import CredentialsKeyError, reveal
from ..domain import jd, pdd
from ..domain.aftersales_common import order_closed
from ..domain.errors import InvalidTrade, MalformedPayload
from ..domain.pull import FetchPage, PullPolicy, step
from ..domain.tmall import NotForFulfilment
from .aftersales_record import record as record_close
from .orders import Uow, record_outcome
from .platform_orders import ADAPTERS

log = get_logger(__name__)

PULL_TIMER = "channel.order-pull"
NORMALISERS = {"jd": jd.normalise, "pdd": pdd.normalise}
PULL_CHANNELS = tuple(NORMALISERS)
RAW_ID = {"jd": "orderId", "pdd": "order_sn"}


@dataclass(frozen=True)
class PullSchedule:
    policy: PullPolicy = field(default_factory=PullPolicy)
    interval: timedelta = timedelta(seconds=60)
    backoff_first: timedelta = timedelta(seconds=2)
    backoff_max: timedelta = timedelta(minutes=5)

    def backoff(self, failures: int) -> timedelta:
        return min(self.backoff_max, self.backoff_first * (2 ** max(0, min(failures - 1, 20))))


@dataclass(frozen=True)
class Keys:
    """A shop's revealed keys for one page's call (never logged: no repr of the secret or token)."""

    app_key: str
    secret: str
    token: str

    def __repr__(self) -> str:
        return f"Keys(app_key={self.app_key})"


Fetcher = Callable[[str, Keys], FetchPage]  # (channel, keys) -> the platform's page fetch


def timer_key(channel: str, shop_id: str) -> str:
    return f"{channel}:{shop_id}"


def parse_key(key: str) -> tuple[str, str]:
    channel, _, shop_id = key.partition(":")
    return channel, shop_id


def canonical(order: Any) -> bytes:
    """The pulled order's bytes for its payload digest: the same order fetched twice digests the same."""
    return json.dumps(order, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


@dataclass(frozen=True)
class PageResult:
    ran: bool
    fetched: int = 0
    published: int = 0
    refused: int = 0
    more: bool = False
    error: str | None = None


class PullRunner:
    """The timer handler. Its platform clients come with the service's HTTP session (`set_fetcher`, at app
    startup); the timer loop may start first, so a firing waits for them briefly."""

    def __init__(self, schedule: PullSchedule, fetcher: Fetcher | None = None) -> None:
        self.schedule, self.fetcher = schedule, fetcher
        self._ready = asyncio.Event()
        if fetcher is not None:
            self._ready.set()

    def set_fetcher(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self._ready.set()

    async def __call__(self, uow: Uow, key: str, payload: dict | None) -> None:
        if self.fetcher is None:
            await asyncio.wait_for(self._ready.wait(), timeout=30)
        assert self.fetcher is not None
        channel, shop_id = parse_key(key)
        await pull_page(uow, channel, shop_id, self.schedule, self.fetcher)


async def pull_page(
    uow: Uow,
    channel: str,
    shop_id: str,
    schedule: PullSchedule,
    fetcher: Fetcher,
    now: datetime | None = None,
) -> PageResult:
    """One page of a shop's sync, its records, its state and its next firing, in one unit of work."""
    key = timer_key(channel, shop_id)
    async with uow:
        shop = await uow.repo.shop_credentials(channel, shop_id)
        if channel not in NORMALISERS or shop is None or not shop.active:
            log.info("order pull stopped: no such active shop", channel=channel, shop_id=shop_id)
            return PageResult(ran=False, error="no such active shop")
        state = await uow.repo.lock_pull_cursor(channel, shop_id)
        now = now or utcnow()
        batch: list[dict[str, Any]] = []

        async def collect(order: dict[str, Any]) -> None:
            batch.append(order)

        try:
            keys = Keys(shop.app_key, reveal(shop.secret) or "", reveal(shop.session_key) or "")
            new_state, more = await step(state, now, schedule.policy, fetcher(channel, keys), collect)
        except Exception as exc:  # the platform failed (PullError) or the keys cannot be read
            if not _is_pull_failure(exc):
                raise
            error = f"{type(exc).__name__}: {exc}"[:500]
            failures = await uow.repo.pull_failures(channel, shop_id) + 1
            due = now + schedule.backoff(failures)
            await uow.repo.save_pull_cursor(
                channel, shop_id, replace(state, last_error=error), now=now, next_run_at=due, failed=True
            )
            uow.schedule_timer(PULL_TIMER, key, due)
            log.warning("order pull failed", channel=channel, shop_id=shop_id, failures=failures, error=error)
            return PageResult(ran=True, error=error)
        published, refused = await record_page(uow, channel, shop_id, batch, now)
        due = now if more else now + schedule.interval
        await uow.repo.save_pull_cursor(
            channel, shop_id, new_state, now=now, next_run_at=due, published=published, refused=refused
        )
        uow.schedule_timer(PULL_TIMER, key, due)
    log.debug("order pull page", channel=channel, shop_id=shop_id, fetched=len(batch), published=published)
    return PageResult(True, len(batch), published, refused, more)


def _is_pull_failure(exc: Exception) -> bool:
    from ..platforms.order_pull import PullError

    return isinstance(exc, PullError | CredentialsKeyError)


async def record_page(
    uow: Uow, channel: str, shop_id: str, orders: Sequence[dict[str, Any]], now: datetime
) -> tuple[int, int]:
    """Record a page's orders; returns (published or acknowledged new payloads, refused). Payloads already
    received are skipped with one query for the page."""
    normalise = NORMALISERS[channel]
    parsed = []
    for raw in orders:
        body = canonical(raw)
        try:
            outcome: Any = normalise(raw, shop_id=shop_id, received_at=now)
            order_id = outcome.channel_order_id
        except (InvalidTrade, MalformedPayload) as exc:
            outcome, order_id = exc, str((raw or {}).get(RAW_ID[channel]) or "?")[:64]
        parsed.append((order_id, hashlib.sha256(body).hexdigest(), body, outcome, raw))
    seen = await uow.repo.received_digests(channel, [(o, d) for o, d, *_ in parsed])
    published = refused = 0
    for order_id, digest, body, outcome, raw in parsed:
        if (order_id, digest) in seen:
            continue
        seen.add((order_id, digest))
        if isinstance(outcome, InvalidTrade | MalformedPayload):
            refused += 1
            await uow.repo.record_receipt(
                channel=channel,
                channel_order_id=order_id,
                payload_sha256=digest,
                shop_id=shop_id,
                channel_status="?",
                outcome="refused",
                reason=_reason(outcome),
                event_id=None,
                now=now,
            )
            log.warning("pulled order refused", channel=channel, shop_id=shop_id, reason=_reason(outcome))
            continue
        published += 1
        await record_outcome(uow, channel, shop_id, outcome, body, now)
        if isinstance(outcome, NotForFulfilment):  # cancelled or closed: channel.order.closed, once per order
            close = ADAPTERS[channel].close_of(raw, outcome.channel_status)
            if close is not None:
                await record_close(uow, order_closed(channel, shop_id, order_id, close, now), now)
    return published, refused


def _reason(exc: InvalidTrade | MalformedPayload) -> str:
    if isinstance(exc, MalformedPayload):
        return f"malformed: {exc.reason}"[:500]
    return ("invalid: " + "; ".join(p.path for p in exc.problems[:10]))[:500]  # paths only, never values


NEVER_RUN = {"cursor": None, "window_start": None, "window_end": None, "page": 1, "fetched": 0,
             "published": 0, "refused": 0, "failures": 0, "last_error": None, "last_run_at": None,
             "last_success_at": None, "next_run_at": None}  # fmt: skip


# -- the operator's use cases -----------------------------------------------------------------------------
async def request_pull(uow: Uow, channel: str, shop_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Run a shop's sync now (its timer moved to now); answers the cursor as it stands."""
    if channel not in PULL_CHANNELS:
        raise ProblemError(
            404, "Not found", f"{channel!r} has no order pull; one of {', '.join(PULL_CHANNELS)}"
        )
    async with uow:
        shop = await uow.repo.shop_credentials(channel, shop_id)
        if shop is None:
            raise ProblemError(404, "Not found", f"no {channel} shop {shop_id!r} is registered")
        if not shop.active:
            raise ProblemError(
                409, "Shop inactive", f"{channel} shop {shop_id!r} is not active: save it active"
            )
        # no lock on the cursor: a firing holds the timer's row and then takes the cursor's; this moves the
        # timer at the commit (after a firing in progress), so the two never wait for each other in a circle
        uow.schedule_timer(PULL_TIMER, timer_key(channel, shop_id), now or utcnow())
        found = await uow.repo.get_pull_cursor(channel, shop_id)
    return found or {**NEVER_RUN, "channel": channel, "shop_id": shop_id}


def schedule_shop(uow: Uow, channel: str, shop_id: str, active: bool, now: datetime) -> None:
    """In a shop's save: an active pull shop's sync starts now (or is moved to now); an inactive one stops."""
    if channel not in PULL_CHANNELS:
        return
    if active:
        uow.schedule_timer(PULL_TIMER, timer_key(channel, shop_id), now)
    else:
        uow.cancel_timer(PULL_TIMER, timer_key(channel, shop_id))


async def ensure_timers(uow: Uow, now: datetime | None = None) -> int:
    """At startup: every active pull shop without a sync timer gets one (a timer marked failed is left for
    an operator to see). Returns how many were started."""
    started = 0
    async with uow:
        for channel in PULL_CHANNELS:
            shops, _ = await uow.repo.list_shops(channel=channel, active=True, limit=10_000, offset=0)
            for shop in shops:
                if not await uow.lock_timer(PULL_TIMER, timer_key(channel, shop["shop_id"])):
                    uow.schedule_timer(PULL_TIMER, timer_key(channel, shop["shop_id"]), now or utcnow())
                    started += 1
    if started:
        log.info("order pull timers started", shops=started)
    return started


async def get_cursor(uow: Uow, channel: str, shop_id: str) -> dict[str, Any] | None:
    async with uow:
        return await uow.repo.get_pull_cursor(channel, shop_id)


async def list_cursors(
    uow: Uow, *, channel: str | None, failing: bool | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_pull_cursors(channel=channel, failing=failing, limit=limit, offset=offset)
