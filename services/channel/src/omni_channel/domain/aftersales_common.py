"""What the platforms' refund adapters share (pure): strict readers (ids, enum codes) and `refund_event`,
which checks that the lines add up and builds `channel.refund.received` v1.

Ids: an id sent as a JSON number beyond 2^53 is refused (a JavaScript or Java client in between has
probably rounded it; the platforms all offer it as a string too), unlike the order adapters, which keep
the digits they got. Messages name the field and the platform, never a buyer's value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from omni_contracts.events.channel import ChannelOrderClosedV1, ChannelRefundLine, ChannelRefundReceivedV1

from .errors import InvalidTrade, Problem
from .limits import too_many_lines
from .tmall_fields import MAX_SAFE_INTEGER, Problems, is_int, kind, text, yuan

REASON_MAX = 500
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def strict_id(obj: dict[str, Any], name: str, path: str, p: Problems, *, required: bool = True) -> str | None:
    """`<name>_str` over `<name>`: a string token (digits or letters), or a JSON integer up to 2^53."""
    for key in (f"{name}_str", name):
        value = obj.get(key)
        if value is None or value == "":
            continue
        if is_int(value) and 0 < value <= MAX_SAFE_INTEGER:
            return str(value)
        if is_int(value) and value > MAX_SAFE_INTEGER:
            p.add(
                f"{path}{key}",
                f"the JSON number {value} is above 2^53 and may have lost precision on the way; "
                "send it as a string",
            )
            return None
        if isinstance(value, str) and value.isascii() and 0 < len(value) <= 64 and _TOKEN.match(value):
            return value
        p.add(f"{path}{key}", f"must be an id (digits or a short string), got {kind(value)}")
        return None
    if required:
        p.add(f"{path}{name}", "missing")
    return None


def code(obj: dict[str, Any], key: str, path: str, p: Problems, known: dict[Any, Any], what: str) -> Any:
    """obj[key], one of `known` (an int code may come as a string of digits); None, with a problem, if not."""
    value = obj.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) in known:
        value = int(value)
    if value is None or value == "":
        p.add(f"{path}{key}", "missing")
        return None
    if isinstance(value, bool) or value not in known:
        p.add(f"{path}{key}", f"unknown {what} {str(value)[:40]!r}; one of {', '.join(map(str, known))}")
        return None
    return value


def reason_text(obj: dict[str, Any], keys: tuple[str, ...], path: str, p: Problems) -> str:
    """The first non-empty of `keys` as text (a reason may come as a code and a text: the text wins)."""
    for key in keys:
        value = obj.get(key)
        if value in (None, ""):
            continue
        reason = text(value)
        if len(reason) > REASON_MAX:
            p.add(f"{path}{key}", f"too long: {len(reason)} characters, at most {REASON_MAX}")
            return ""
        return reason
    return ""


def lines_of(obj: dict[str, Any], key: str, path: str, p: Problems) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(f"{path}{key}", f"must be a list, got {kind(value)}")
        return []
    many = too_many_lines(len(value))
    if many:
        p.add(f"{path}{key}", many)
        return []
    out = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            out.append(item)
        else:
            p.add(f"{path}{key}[{i}]", f"must be an object, got {kind(item)}")
    return out


@dataclass
class Refund:
    """What an adapter read; `refund_event` checks it and builds the event."""

    channel: str
    shop_id: str
    order_id: str | None
    refund_id: str | None
    kind: str | None
    status: str  # the neutral one
    channel_status: str
    refund: int | None  # fen, what the buyer gets back
    refund_path: str
    received_at: datetime
    lines: list[ChannelRefundLine] = field(default_factory=list)
    line_sum_path: str = ""  # where the lines' amounts are, when they must add up to `refund`
    freight: int = 0  # refunded freight, not on any line
    reason: str = ""
    requested_at: datetime | None = None
    modified_at: datetime | None = None


def refund_event(r: Refund, p: Problems) -> ChannelRefundReceivedV1:
    """The event, or InvalidTrade with every problem found (the adapter's and the sums')."""
    if r.refund is not None and r.line_sum_path and r.lines:
        lines = sum(ln.refund_cents for ln in r.lines)
        if lines + r.freight != r.refund:
            freight = f" + freight {yuan(r.freight)}" if r.freight else ""
            p.add(
                r.refund_path,
                f"{r.channel}: {yuan(r.refund)} is not Σ the lines' refunds ({yuan(lines)}{freight}, "
                f"at {r.line_sum_path})",
            )
    if p:
        raise InvalidTrade(p.items)
    try:
        return ChannelRefundReceivedV1(
            channel=r.channel,
            shop_id=r.shop_id,
            channel_order_id=r.order_id,  # type: ignore[arg-type]
            channel_refund_id=r.refund_id,  # type: ignore[arg-type]
            kind=r.kind,  # type: ignore[arg-type]
            status=r.status,  # type: ignore[arg-type]
            channel_status=r.channel_status,
            lines=r.lines,
            refund_cents=r.refund,  # type: ignore[arg-type]
            reason=r.reason,
            requested_at=r.requested_at,
            modified_at=r.modified_at,
            received_at=r.received_at,
        )
    except ValidationError as exc:
        raise InvalidTrade(
            [
                Problem(".".join(str(x) for x in e["loc"]) or "$", f"{r.channel}: {e['msg']}")
                for e in exc.errors()
            ]
        ) from None


def unwrap_one(doc: Any, platform: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """Descend through the wrapper `keys` (any nesting) to the one refund; a list must hold exactly one."""
    if not isinstance(doc, dict):
        raise InvalidTrade(
            [Problem("$", f"{platform}: the body must be a JSON object ({what}), got {kind(doc)}")]
        )
    if "error_response" in doc:
        raise InvalidTrade([Problem("error_response", f"{platform}: an error response, not {what}")])
    for key in keys:
        if key not in doc:
            continue
        inner = doc[key]
        if isinstance(inner, list):
            if len(inner) != 1:
                raise InvalidTrade([Problem(key, f"{platform}: one refund per push, got {len(inner)}")])
            inner = inner[0]
        if not isinstance(inner, dict):
            raise InvalidTrade([Problem(key, f"{platform}: must be an object, got {kind(inner)}")])
        return unwrap_one(inner, platform, keys, what)
    return doc


def order_closed(
    channel: str, shop_id: str, order_id: str, close: tuple[str, str], received_at: datetime
) -> ChannelOrderClosedV1:
    """`channel.order.closed` of an order push that is a close: `close` is (the raw status, the reason)."""
    status, reason = close
    return ChannelOrderClosedV1(
        channel=channel,
        shop_id=shop_id,
        channel_order_id=order_id,
        reason=reason,  # type: ignore[arg-type]
        channel_status=status,
        received_at=received_at,
    )
