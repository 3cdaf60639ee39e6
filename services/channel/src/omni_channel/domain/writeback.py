"""Shipment write-back: telling the platform an order left with a carrier and a tracking number (Taobao/Tmall
`taobao.logistics.offline.send`), the signed request, what the answer means, and what a write-back's row
becomes after each answer. Pure: no I/O, no clock (the caller gives `now`).

States (one row per shipped fulfillment task and platform order, `shipment_writebacks`: an order of its own
has one, a merged order (合单) one per source, `writeback_id_for`):
- `waiting`: shipped, but the order's channel, shop and platform order id are not known yet (its
  `order.accepted` has not arrived): due when it arrives;
- `pending`: due now; `retrying`: a timeout, a rate limit, a 5xx or the platform failing (`isp.*`): due
  again after a backoff, for as long as it lasts;
- `acknowledged`: the platform took it (`shipping.is_success`);
- `refused`: the platform refused it (a closed trade, already shipped under another number, an unknown
  carrier code: `isv.*`), or our carrier has no code on the platform: shown with the reason, never retried
  by itself (`POST /shipment-writebacks/{id}/retry` after fixing the cause);
- `credentials`: the shop's credentials are missing or refused: waits for `PUT /shops/...` (then retried);
- `unsupported`: no write-back for the order's channel (own mall, POS): nothing to do; or a later parcel
  of an order already written back with another tracking number (`not_sent`): JD and Pinduoduo take one
  tracking number per order, and a split parcel's lines are not carried yet for the others.

What an answer means (docs/platforms/taobao.md): like the stock push (domain/stock_push.py), TOP codes 7
and 10 and `isp.` sub-codes are retried, 25-29 are credentials, code 15 (or 50) with an `isv.` sub-code and
the malformed-request codes are refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .signing import format_china_time, sign_tmall
from .stock_push import (
    CREDENTIAL_CODES,
    MALFORMED_CODES,
    RETRYABLE_CODES,
    Answer,
    Credentials,
    Outcome,
    backoff_s,
)

METHOD = "taobao.logistics.offline.send"
REFUSAL_CODES = frozenset({15, 50})


class State(StrEnum):
    WAITING = "waiting"
    PENDING = "pending"
    RETRYING = "retrying"
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"
    CREDENTIALS = "credentials"
    UNSUPPORTED = "unsupported"


STATES = tuple(s.value for s in State)


@dataclass(frozen=True)
class Shipment:
    """One write-back a worker took: where it goes and what it says, with its lease token."""

    writeback_id: str  # the fulfillment task id (a merged order's: writeback_id_for)
    order_id: str
    channel: str
    shop_id: str
    channel_order_id: str  # Taobao's tid
    carrier: str  # Omni's carrier code (fulfillment.shipped)
    tracking_no: str
    attempts: int
    token: str
    lines: tuple[tuple[str, int], ...] = ()  # a split parcel: (the platform's line id, qty)
    split: bool = False  # the parcel is some of the order's lines (the order ships in several)


def writeback_id_for(task_id: str, source_order_id: str | None) -> str:
    """A shipped task's write-back to one platform order: the task id for an order of its own (as always),
    `<task id>:<source order id>` for each source of a merged order. Stable: a repeat of the same shipment
    names the same rows."""
    return task_id if source_order_id is None else f"{task_id}:{source_order_id}"


@dataclass(frozen=True)
class Transition:
    state: State
    next_attempt_at: datetime | None
    attempts: int
    last_error: str | None
    acknowledged: bool


def request_params(
    tid: str,
    out_sid: str,
    company_code: str,
    creds: Credentials,
    now: datetime,
    sign_method: str = "hmac-sha256",
) -> dict[str, str]:
    """The signed form parameters of one `taobao.logistics.offline.send` (the whole trade)."""
    if not tid.isdigit():
        raise ValueError(f"a Taobao tid is a number, got {tid!r}")
    params = {
        "method": METHOD,
        "app_key": creds.app_key,
        "session": creds.session,
        "timestamp": format_china_time(now),
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        "tid": tid,
        "out_sid": out_sid,
        "company_code": company_code,
    }
    params["sign"] = sign_tmall(params, b"", creds.secret, sign_method)
    return params


def read_answer(status: int, body: Any) -> Answer:
    """What the platform's HTTP answer (status and decoded JSON body, or None) means for the write-back."""
    if status >= 500 or status == 429:
        return Answer(Outcome.RETRY, f"the platform answered HTTP {status}")
    if status != 200 or not isinstance(body, dict):
        return Answer(Outcome.RETRY, f"the platform answered HTTP {status} without a TOP answer")
    if "error_response" in body:
        err = body["error_response"] if isinstance(body["error_response"], dict) else {}
        return _error(err)
    shipping = (body.get("logistics_offline_send_response") or {}).get("shipping")
    if not isinstance(shipping, dict):
        return Answer(Outcome.RETRY, "the platform's answer has neither a result nor an error")
    if shipping.get("is_success") in (True, "true"):
        return Answer(Outcome.ACKNOWLEDGED, "acknowledged")
    return Answer(Outcome.REFUSED, "the platform answered is_success=false")


def _error(err: dict[str, Any]) -> Answer:
    code = err.get("code")
    sub = err.get("sub_code") or None
    text = " ".join(str(x) for x in (code, err.get("msg"), sub, err.get("sub_msg")) if x)
    isp = isinstance(sub, str) and sub.startswith("isp.")
    if code in RETRYABLE_CODES or (code in REFUSAL_CODES and isp):
        return Answer(Outcome.RETRY, f"the platform is busy or failing: {text}", code=code, sub_code=sub)
    if code in CREDENTIAL_CODES:
        return Answer(
            Outcome.CREDENTIALS, f"the shop's credentials were refused: {text}", code=code, sub_code=sub
        )
    if code in REFUSAL_CODES or code in MALFORMED_CODES:
        return Answer(Outcome.REFUSED, f"the platform refused the shipment: {text}", code=code, sub_code=sub)
    return Answer(Outcome.RETRY, f"unknown platform error: {text}", code=code, sub_code=sub)


def after_answer(
    answer: Answer, attempts: int, now: datetime, *, backoff_first_s: float = 0.5, backoff_max_s: float = 60.0
) -> Transition:
    """The row's next state after the platform answered (`attempts`: failed ones before this)."""
    if answer.outcome is Outcome.ACKNOWLEDGED:
        return Transition(State.ACKNOWLEDGED, None, attempts, None, True)
    if answer.outcome is Outcome.CREDENTIALS:
        return Transition(State.CREDENTIALS, None, attempts, answer.reason, False)
    if answer.outcome is Outcome.REFUSED:
        return Transition(State.REFUSED, None, attempts + 1, answer.reason, False)
    wait = backoff_s(attempts + 1, first_s=backoff_first_s, max_s=backoff_max_s)
    return Transition(State.RETRYING, now + timedelta(seconds=wait), attempts + 1, answer.reason, False)


def not_sent(channel: str, sent_tracking_no: str, splits: bool) -> Transition:
    """A later parcel of an order whose first parcel the platform took: held (state `unsupported`)."""
    why = f"not sent: {channel} takes one tracking number per order"
    if splits:
        why = f"not sent: a split parcel needs its lines' {channel} ids, which Omni does not carry yet"
    return Transition(
        State.UNSUPPORTED, None, 0, f"{why} (parcel {sent_tracking_no} was written back)", False
    )


def unsupported(channel: str) -> Transition:
    return Transition(State.UNSUPPORTED, None, 0, f"no shipment write-back for channel {channel!r}", False)
