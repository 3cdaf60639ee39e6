"""Order pull (JD, Pinduoduo), pure: an incremental sync by modified time, one cursor per (channel, shop).

The durable state of a shop's sync is a `PullState`: `cursor`, the modified time up to which every order has
been fetched, and, while a window is being fetched, that `window` and the next `page` to fetch. One step
(`step`) fetches one page and, in the caller's unit of work, records its orders through the webhooks'
dedupe + outbox path (`record`) and saves the state: so a crash mid-window resumes at the page after the
last one recorded, and an order fetched twice (a resumed page, an overlapping window) is published once.

Windows overlap the previous one by `overlap` (platforms index late) and span at most `max_span`; a window
ends `lag` before now. The cursor moves to the window's end only once its last page has been fetched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class PullPolicy:
    overlap: timedelta = timedelta(minutes=5)
    max_span: timedelta = timedelta(minutes=30)  # PDD's increment API allows 30 min per call
    lag: timedelta = timedelta(seconds=0)
    first_lookback: timedelta = timedelta(hours=1)  # a shop with no cursor yet starts this far back
    page_size: int = 100


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PullState:
    cursor: datetime | None = None
    window: Window | None = None
    page: int = 1
    fetched: int = 0  # orders fetched, all time
    last_error: str | None = None


@dataclass(frozen=True)
class Page:
    orders: Sequence[dict[str, Any]]
    has_next: bool


def next_window(state: PullState, now: datetime, policy: PullPolicy) -> Window | None:
    """The window to fetch next: the one in progress, else one from cursor - overlap; None: caught up."""
    if state.window is not None:
        return state.window
    start = state.cursor - policy.overlap if state.cursor else now - policy.first_lookback
    end = min(now - policy.lag, start + policy.max_span)
    if state.cursor is not None and end <= state.cursor:
        return None  # nothing new past the cursor yet
    if end <= start:
        return None
    return Window(start, end)


FetchPage = Callable[[Window, int, int], Awaitable[Page]]  # (window, page, page_size)
Record = Callable[[dict[str, Any]], Awaitable[None]]


async def step(
    state: PullState, now: datetime, policy: PullPolicy, fetch: FetchPage, record: Record
) -> tuple[PullState, bool]:
    """Fetch one page and record its orders; returns the new state and whether there is more to fetch now.

    The caller saves the returned state in the same unit of work as `record`'s writes. `fetch` raising
    leaves the state as it was (the caller records the error and retries at its next run).
    """
    window = next_window(state, now, policy)
    if window is None:
        return replace(state, last_error=None), False
    page = await fetch(window, state.page, policy.page_size)
    for order in page.orders:
        await record(order)
    fetched = state.fetched + len(page.orders)
    if page.has_next and page.orders:
        return replace(state, window=window, page=state.page + 1, fetched=fetched, last_error=None), True
    done = PullState(cursor=window.end, window=None, page=1, fetched=fetched, last_error=None)
    return done, next_window(done, now, policy) is not None


async def run(
    state: PullState,
    now: datetime,
    policy: PullPolicy,
    fetch: FetchPage,
    record: Record,
    save: Callable[[PullState], Awaitable[None]],
    max_pages: int = 10_000,
) -> PullState:
    """Steps until caught up (or `max_pages`), saving after each; an error is saved on the state, raised."""
    for _ in range(max_pages):
        try:
            state, more = await step(state, now, policy, fetch, record)
        except Exception as exc:
            state = replace(state, last_error=f"{type(exc).__name__}: {exc}"[:500])
            await save(state)
            raise
        await save(state)
        if not more:
            break
    return state
