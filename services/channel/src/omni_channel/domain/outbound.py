"""Calls Omni makes to the platforms other than Taobao (JD, Pinduoduo, Douyin, Xiaohongshu, Youzan): the stock
push, its read-back for the drift check, and the shipment write-back. Pure: each platform's module
(`outbound_<platform>.py`) builds a signed `Call` and says what an answer means; platforms/outbound.py sends
it. What the answers mean is the stock push's vocabulary (`stock_push.Answer`): acknowledged, retry (a
timeout, a 5xx, a rate limit, the platform failing), refused (shown, not retried as it is), credentials.

A platform's module provides (see `Spec`): `stock_call`, `stock_answer`, `read_call`, `read_answer`,
`ship_call`, `ship_answer`, and `SPLITS` (whether it takes a parcel of some order lines: otherwise only
the order's first parcel is written back and the others are recorded `not_sent`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from .push_status import Listing
from .stock_push import Answer, Credentials, Outcome


@dataclass(frozen=True)
class Call:
    """One HTTP request to a platform: a path under its base URL, and a form, a query or a JSON body."""

    path: str = ""
    form: dict[str, str] | None = None
    query: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # JSON text, sent as application/json


@dataclass(frozen=True)
class Parcel:
    """What a shipment write-back tells the platform: the order, the carrier's code there, the tracking
    number, and (a split shipment) the platform's ids of the lines in this parcel with their quantities."""

    order_id: str  # the platform's order id
    company_code: str
    tracking_no: str
    lines: tuple[tuple[str, int], ...] = ()  # (platform line id, qty); empty: the whole order
    split: bool = False


class Spec(Protocol):
    NAME: str
    CHANNELS: tuple[str, ...]
    URL_SETTING: str
    SPLITS: bool

    def stock_call(self, listing: Listing, quantity: int, creds: Credentials, now: Any) -> Call | str: ...
    def stock_answer(self, status: int, body: Any) -> Answer: ...
    def read_call(self, listing: Listing, creds: Credentials, now: Any) -> Call | str: ...
    def read_answer(self, status: int, body: Any, listing: Listing) -> int | Answer: ...
    def ship_call(self, parcel: Parcel, creds: Credentials, now: Any) -> Call | str: ...
    def ship_answer(self, status: int, body: Any) -> Answer: ...


def compact_json(value: Any) -> str:
    """JSON with sorted keys and no spaces (what Douyin signs; harmless for the others)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def transport(status: int, body: Any, platform: str) -> Answer | None:
    """What an HTTP answer means before its body is read: a 5xx or a 429 is retried, an answer without a
    JSON object too (a proxy's page). None: read the body."""
    if status >= 500 or status == 429:
        return Answer(Outcome.RETRY, f"{platform} answered HTTP {status}")
    if status != 200 or not isinstance(body, dict):
        return Answer(Outcome.RETRY, f"{platform} answered HTTP {status} without a JSON answer")
    return None


def error(outcome: Outcome, platform: str, what: str, code: Any, text: str, sub: str | None = None) -> Answer:
    lead = {
        Outcome.RETRY: f"{platform} is busy or failing",
        Outcome.CREDENTIALS: f"{platform} refused the shop's credentials",
        Outcome.REFUSED: f"{platform} refused the {what}",
    }.get(outcome, platform)
    detail = " ".join(str(x) for x in (code, text, sub) if x not in (None, ""))
    return Answer(outcome, f"{lead}: {detail}", code=code if isinstance(code, int) else None, sub_code=sub)


def quantity_or_refusal(value: Any, platform: str) -> int | Answer:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return Answer(Outcome.RETRY, f"{platform}'s stock answer has no quantity")


def digits(value: str | None) -> bool:
    return bool(value) and value.isascii() and value.isdigit()  # type: ignore[union-attr]


def check_quantity(quantity: int) -> None:
    if quantity < 0:
        raise ValueError(f"a sellable quantity is never negative, got {quantity}")
