"""Pushing a listing's sellable quantity to Taobao/Tmall (`taobao.item.quantity.update`): the signed request
and what the platform's answer means. Pure: no I/O, no clock (the caller gives `now`).

The push is always a FULL update (`type=1`): it sets the number, so repeating it is harmless, and it is the
only kind that may be retried. What an answer means (docs/platforms/taobao.md):

- acknowledged: `item_quantity_update_response` (the platform's own count is kept);
- retry: HTTP 5xx or a timeout or a broken connection, TOP code 7 (App Call Limited), 10 (Service Currently
  Unavailable), or code 15 with an `isp.` sub-code (the platform failed);
- refused: code 15 with an `isv.` sub-code (item missing or deleted, SKU missing, invalid parameter), or a
  request the platform calls malformed (21, 22, 40, 41): shown on the listing, not retried as it is;
- credentials: 25/26/27/28/29 (signature, session, app key): shown on the shop, not retried blindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .signing import format_china_time, sign_tmall

METHOD = "taobao.item.quantity.update"
RETRYABLE_CODES = frozenset({7, 10})
CREDENTIAL_CODES = frozenset({25, 26, 27, 28, 29})
MALFORMED_CODES = frozenset({21, 22, 40, 41})


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    RETRY = "retry"
    REFUSED = "refused"
    CREDENTIALS = "credentials"


@dataclass(frozen=True)
class StockTarget:
    """Where a listing's quantity lives on the platform: an item, or one SKU of it."""

    num_iid: int
    sku_id: int | None = None
    outer_id: str | None = None  # the seller's SKU code, when the SKU id is not known


@dataclass(frozen=True)
class Credentials:
    app_key: str
    secret: str
    session: str

    def __repr__(self) -> str:  # never the secret or the token in a traceback or a log
        return f"Credentials(app_key={self.app_key})"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    reason: str
    platform_quantity: int | None = None  # what the platform now shows (acknowledged only)
    code: int | None = None
    sub_code: str | None = None


def request_params(
    target: StockTarget, quantity: int, creds: Credentials, now: datetime, sign_method: str = "hmac-sha256"
) -> dict[str, str]:
    """The signed form parameters of one full stock update."""
    if quantity < 0:
        raise ValueError(f"a sellable quantity is never negative, got {quantity}")
    params = {
        "method": METHOD,
        "app_key": creds.app_key,
        "session": creds.session,
        "timestamp": format_china_time(now),
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        "num_iid": str(target.num_iid),
        "quantity": str(quantity),
        "type": "1",
    }
    if target.sku_id is not None:
        params["sku_id"] = str(target.sku_id)
    elif target.outer_id:
        params["outer_id"] = target.outer_id
    params["sign"] = sign_tmall(params, b"", creds.secret, sign_method)
    return params


def read_answer(status: int, body: Any) -> Answer:
    """What the platform's HTTP answer (status and decoded JSON body, or None) means for the push."""
    if status >= 500 or status == 429:
        return Answer(Outcome.RETRY, f"the platform answered HTTP {status}")
    if status != 200 or not isinstance(body, dict):
        return Answer(Outcome.RETRY, f"the platform answered HTTP {status} without a TOP answer")
    if "error_response" in body:
        return _error(body["error_response"] if isinstance(body["error_response"], dict) else {})
    item = (body.get("item_quantity_update_response") or {}).get("item")
    if not isinstance(item, dict):
        return Answer(Outcome.RETRY, "the platform's answer has neither a result nor an error")
    skus = (item.get("skus") or {}).get("sku") or []
    shown = skus[0].get("quantity") if skus and isinstance(skus[0], dict) else item.get("num")
    return Answer(Outcome.ACKNOWLEDGED, "acknowledged", shown if isinstance(shown, int) else None)


def _error(err: dict[str, Any]) -> Answer:
    code = err.get("code")
    sub = err.get("sub_code") or None
    text = " ".join(str(x) for x in (code, err.get("msg"), sub, err.get("sub_msg")) if x)
    if code in RETRYABLE_CODES or (code == 15 and isinstance(sub, str) and sub.startswith("isp.")):
        return Answer(Outcome.RETRY, f"the platform is busy or failing: {text}", code=code, sub_code=sub)
    if code in CREDENTIAL_CODES:
        return Answer(Outcome.CREDENTIALS, f"the shop's credentials were refused: {text}", code=code,
                      sub_code=sub)  # fmt: skip
    if code == 15 or code in MALFORMED_CODES:
        return Answer(Outcome.REFUSED, f"the platform refused the update: {text}", code=code, sub_code=sub)
    return Answer(Outcome.RETRY, f"unknown platform error: {text}", code=code, sub_code=sub)


def backoff_s(attempt: int, *, first_s: float = 0.5, max_s: float = 60.0) -> float:
    """How long to wait before try `attempt` + 1 (attempt counts from 1): doubling, capped."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return min(first_s * 2 ** (attempt - 1), max_s)
