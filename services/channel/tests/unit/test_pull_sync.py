"""The durable order pull's use cases (service/pull_sync.py) on FakeUnitOfWork: one page per firing of the
shop's timer, a payload already received publishes nothing, a platform failure backs off and keeps the
state, a bad order is refused without blocking the cursor, and a shop's save starts or stops its sync."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channel_fakes import FakeRepository

from omni_channel import service
from omni_channel.domain.pull import Page, PullPolicy, PullState, Window
from omni_channel.platforms.order_pull import PullError
from omni_channel.service import pull_sync
from omni_channel.service.pull_sync import PULL_TIMER, PullSchedule, pull_page
from omni_chassis.uow import FakeUnitOfWork

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ORDER = json.loads((Path(__file__).parents[1] / "fixtures" / "jd_order.json").read_text())
INFO = ORDER["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]
SCHEDULE = PullSchedule(
    policy=PullPolicy(overlap=timedelta(minutes=5), first_lookback=timedelta(minutes=50), page_size=2),
    interval=timedelta(seconds=60),
    backoff_first=timedelta(seconds=2),
)


class PullFakeRepository(FakeRepository):
    """The pull's SQL in memory: the cursor rows, and received digests from the receipts."""

    def __init__(self) -> None:
        super().__init__()
        self.cursors: dict[tuple[str, str], dict[str, Any]] = {}

    def begin(self) -> None:
        super().begin()
        self._cursors = copy.deepcopy(self.cursors)

    def rollback(self) -> None:
        super().rollback()
        self.cursors = self._cursors

    async def lock_pull_cursor(self, channel: str, shop_id: str) -> PullState:
        row = self.cursors.setdefault((channel, shop_id), {"state": PullState(), "failures": 0,
                                                            "published": 0, "refused": 0})  # fmt: skip
        return row["state"]

    async def save_pull_cursor(self, channel, shop_id, state, *, now, next_run_at, published=0, refused=0,
                               failed=False) -> None:  # fmt: skip
        row = self.cursors[(channel, shop_id)]
        row.update(state=state, next_run_at=next_run_at, failures=row["failures"] + 1 if failed else 0)
        row["published"] += published
        row["refused"] += refused

    async def pull_failures(self, channel: str, shop_id: str) -> int:
        return self.cursors.get((channel, shop_id), {}).get("failures", 0)

    async def received_digests(self, channel, pairs) -> set[tuple[str, str]]:
        return {(o, d) for o, d in pairs if (channel, o, d) in self.receipts}

    async def get_pull_cursor(self, channel: str, shop_id: str) -> dict | None:
        row = self.cursors.get((channel, shop_id))
        return None if row is None else {"channel": channel, "shop_id": shop_id, **row}


def jd_order(n: int, modified: datetime, **changes: Any) -> dict[str, Any]:
    info = copy.deepcopy(INFO)
    info["orderId"] = str(10**11 + n)
    info["modified"] = (modified + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")
    return {**info, **changes}


class Platform:
    """Pages of orders by modified time, as JD's search answers them; can fail the next calls."""

    def __init__(self, orders: list[tuple[datetime, dict[str, Any]]]) -> None:
        self.orders, self.failing, self.calls = orders, 0, 0

    def __call__(self, channel: str, keys: Any) -> Any:
        assert keys.secret == "jd-secret" and keys.token == "jd-token"  # the shop's keys, revealed

        async def fetch(window: Window, page: int, size: int) -> Page:
            self.calls += 1
            if self.failing:
                self.failing -= 1
                raise PullError("HTTP 503")
            found = [o for m, o in sorted(self.orders, key=lambda x: x[0]) if window.start <= m <= window.end]
            return Page(found[(page - 1) * size : page * size], page * size < len(found))

        return fetch


@pytest.fixture
async def uow() -> FakeUnitOfWork:
    u = FakeUnitOfWork(PullFakeRepository())
    await service.put_shop(u, channel="jd", shop_id="JD-1", name="J", app_key="jd-app", secret="jd-secret",
                           active=True, session_key="jd-token", now=NOW)  # fmt: skip
    return u


async def drain(uow: FakeUnitOfWork, platform: Platform, now: datetime) -> tuple[int, int, int]:
    """Fire the shop's sync until it is caught up; (fetched, published, refused) in all."""
    fetched = new = refused = 0
    while True:
        r = await pull_page(uow, "jd", "JD-1", SCHEDULE, platform, now=now)
        fetched, new, refused = fetched + r.fetched, new + r.published, refused + r.refused
        if not r.more:
            return fetched, new, refused


def published(uow: FakeUnitOfWork) -> list[str]:
    return [e.data.channel_order_id for e in uow.committed_events if e.event_type == "channel.order.received"]


async def test_saving_a_pull_shop_starts_its_sync_and_other_channels_have_none(uow) -> None:
    assert uow.timers[(PULL_TIMER, "jd:JD-1")].due_at == NOW
    await service.put_shop(
        uow, channel="tmall", shop_id="TM-1", name="T", app_key="a", secret="s", active=True
    )
    assert not [k for k in uow.timers if k[1].startswith("tmall:")]
    await service.put_shop(uow, channel="jd", shop_id="JD-1", name="J", app_key="jd-app", secret="jd-secret",
                           active=False)  # fmt: skip
    assert (PULL_TIMER, "jd:JD-1") not in uow.timers  # inactive: its sync stops


async def test_each_firing_fetches_one_page_then_the_sync_waits_for_the_interval(uow) -> None:
    orders = [
        (NOW - timedelta(minutes=40 - i), jd_order(i, NOW - timedelta(minutes=40 - i))) for i in range(5)
    ]
    platform = Platform(orders)
    results = []
    for _ in range(4):
        results.append(await pull_page(uow, "jd", "JD-1", SCHEDULE, platform, now=NOW))
        assert uow.timers[(PULL_TIMER, "jd:JD-1")].due_at == (
            NOW if results[-1].more else NOW + SCHEDULE.interval
        )
    assert [(r.fetched, r.published, r.more) for r in results] == [
        (2, 2, True),
        (2, 2, True),
        (1, 1, True),
        (0, 0, False),
    ]  # window 2 ends at now: no more
    assert sorted(published(uow)) == sorted(o["orderId"] for _, o in orders)
    state = uow.repo.cursors[("jd", "JD-1")]["state"]
    assert state.cursor == NOW and state.window is None and state.fetched == 5


async def test_an_overlap_or_a_page_fetched_again_publishes_nothing_and_a_changed_order_again(uow) -> None:
    orders = [(NOW - timedelta(minutes=3), jd_order(1, NOW - timedelta(minutes=3)))]
    platform = Platform(orders)
    assert await drain(uow, platform, NOW) == (1, 1, 0)
    later = NOW + timedelta(minutes=1)  # the next window overlaps the cursor by 5 minutes: fetched again
    assert await drain(uow, platform, later) == (1, 0, 0) and published(uow) == [orders[0][1]["orderId"]]
    orders[0] = (later, jd_order(1, later, venderRemark="changed"))
    assert (await drain(uow, platform, later + timedelta(seconds=30)))[1] == 1
    assert published(uow).count(orders[0][1]["orderId"]) == 2


async def test_a_platform_failure_keeps_the_state_and_backs_off_until_it_recovers(uow) -> None:
    orders = [
        (NOW - timedelta(minutes=40 - i), jd_order(i, NOW - timedelta(minutes=40 - i))) for i in range(3)
    ]
    platform = Platform(orders)
    await pull_page(uow, "jd", "JD-1", SCHEDULE, platform, now=NOW)  # page 1 of the first window
    before = uow.repo.cursors[("jd", "JD-1")]["state"]
    platform.failing = 2
    for failures, delay in ((1, 2), (2, 4)):
        result = await pull_page(uow, "jd", "JD-1", SCHEDULE, platform, now=NOW)
        row = uow.repo.cursors[("jd", "JD-1")]
        assert result.error and "503" in result.error and row["failures"] == failures
        assert row["state"].window == before.window and row["state"].page == before.page == 2
        assert uow.timers[(PULL_TIMER, "jd:JD-1")].due_at == NOW + timedelta(seconds=delay)
    assert (await pull_page(uow, "jd", "JD-1", SCHEDULE, platform, now=NOW)).published == 1
    row = uow.repo.cursors[("jd", "JD-1")]
    assert row["failures"] == 0 and row["state"].last_error is None and len(published(uow)) == 3


async def test_an_order_that_does_not_normalise_is_refused_and_the_cursor_moves_on(uow) -> None:
    bad = jd_order(7, NOW - timedelta(minutes=4))
    del bad["itemInfoList"]
    good = jd_order(8, NOW - timedelta(minutes=3))
    platform = Platform([(NOW - timedelta(minutes=4), bad), (NOW - timedelta(minutes=3), good)])
    assert await drain(uow, platform, NOW) == (2, 1, 1) and published(uow) == [good["orderId"]]
    refused = [r for r in uow.repo.receipts.values() if r["outcome"] == "refused"]
    assert [r["channel_order_id"] for r in refused] == [bad["orderId"]] and "itemInfoList" in refused[0][
        "reason"
    ]
    assert uow.repo.cursors[("jd", "JD-1")]["state"].cursor == NOW
    assert await drain(uow, platform, NOW + timedelta(minutes=1)) == (2, 0, 0)  # refused once, not again


async def test_a_page_that_fails_midway_records_nothing(uow) -> None:
    orders = [
        (NOW - timedelta(minutes=40 - i), jd_order(i, NOW - timedelta(minutes=40 - i))) for i in range(2)
    ]

    class Crash(Exception):
        pass

    async def boom(*a: Any, **k: Any) -> Any:
        raise Crash

    real = uow.repo.save_pull_cursor
    uow.repo.save_pull_cursor = boom  # the process dies after recording the page, before the commit
    with pytest.raises(Crash):
        await pull_page(uow, "jd", "JD-1", SCHEDULE, Platform(orders), now=NOW)
    assert published(uow) == [] and not uow.repo.receipts
    uow.repo.save_pull_cursor = real
    assert (await pull_page(uow, "jd", "JD-1", SCHEDULE, Platform(orders), now=NOW)).published == 2


async def test_an_inactive_or_unknown_shop_stops_and_run_now_names_why(uow) -> None:
    assert not (await pull_page(uow, "jd", "NOPE", SCHEDULE, Platform([]), now=NOW)).ran
    with pytest.raises(Exception, match="no jd shop 'NOPE'"):
        await pull_sync.request_pull(uow, "jd", "NOPE", now=NOW)
    with pytest.raises(Exception, match="has no order pull"):
        await pull_sync.request_pull(uow, "tmall", "TM-1", now=NOW)
    view = await pull_sync.request_pull(uow, "jd", "JD-1", now=NOW + timedelta(hours=1))
    assert view["shop_id"] == "JD-1" and uow.timers[(PULL_TIMER, "jd:JD-1")].due_at == NOW + timedelta(
        hours=1
    )


async def test_startup_gives_every_active_pull_shop_without_a_timer_one(uow) -> None:
    uow.timers.clear()
    assert await pull_sync.ensure_timers(uow, now=NOW) == 1
    assert await pull_sync.ensure_timers(uow, now=NOW) == 0


async def test_a_pulled_cancelled_order_is_a_close_recorded_once(uow, monkeypatch) -> None:
    closes: list[Any] = []

    async def record_close(uow: Any, event: Any, now: datetime) -> None:  # the after-sales dedupe's SQL
        closes.append(event)

    monkeypatch.setattr(pull_sync, "record_close", record_close)
    cancelled = jd_order(9, NOW - timedelta(minutes=3), orderState="TRADE_CANCELED")
    platform = Platform([(NOW - timedelta(minutes=3), cancelled)])
    assert await drain(uow, platform, NOW) == (1, 1, 0) and published(uow) == []
    assert [(c.channel, c.channel_order_id, c.channel_status) for c in closes] == [
        ("jd", cancelled["orderId"], "TRADE_CANCELED")
    ]
    await drain(uow, platform, NOW + timedelta(minutes=1))  # fetched again by the overlap: nothing new
    assert len(closes) == 1
