"""TOP / Qimen request signatures and timestamps (Taobao/Tmall).

The string to sign is every query parameter except `sign`, sorted by name (byte order), written as
`name + value` with no separators, followed by the raw request body bytes (Qimen-style push). Then:

- `md5`:          MD5(secret + string + secret)
- `hmac`:         HMAC-MD5(key=secret, string)
- `hmac-sha256`:  HMAC-SHA256(key=secret, string)

as uppercase hex. With an empty body this is exactly TOP's API-call signature (`taobao.md` test vector).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")
CHINA = timezone(timedelta(hours=8), "GMT+8")
TOP_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_CLOCK_SKEW = timedelta(minutes=10)


class SignatureError(ValueError):
    pass


def string_to_sign(params: dict[str, str], body: bytes = b"") -> bytes:
    """`k1v1k2v2…` over the params except `sign`, sorted by name, then the body bytes."""
    parts = [f"{k}{params[k]}" for k in sorted(params) if k != "sign"]
    return "".join(parts).encode("utf-8") + body


def sign_tmall(params: dict[str, str], body: bytes, secret: str, method: str) -> str:
    """The TOP signature (uppercase hex) of `params` (the `sign` entry, if any, is ignored) and `body`."""
    data = string_to_sign(params, body)
    key = secret.encode("utf-8")
    if method == "md5":
        return hashlib.md5(key + data + key).hexdigest().upper()
    if method == "hmac":
        return hmac.new(key, data, hashlib.md5).hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(key, data, hashlib.sha256).hexdigest().upper()
    raise SignatureError(f"unsupported sign_method {method!r}; use one of {', '.join(SIGN_METHODS)}")


def signature_matches(params: dict[str, str], body: bytes, secret: str, method: str, given: str) -> bool:
    """Constant-time comparison of `given` with the expected signature (hex case ignored)."""
    expected = sign_tmall(params, body, secret, method)
    return hmac.compare_digest(expected.encode("ascii"), given.strip().upper().encode("ascii", "replace"))


def parse_china_time(value: str) -> datetime:
    """`yyyy-MM-dd HH:mm:ss` in GMT+8 (TOP's format) -> an aware UTC datetime."""
    if len(value) != 19:
        raise ValueError(f"must be 'yyyy-MM-dd HH:mm:ss' (GMT+8), got {value!r}")
    try:
        local = datetime.strptime(value, TOP_TIME_FORMAT)
    except ValueError:
        raise ValueError(f"must be 'yyyy-MM-dd HH:mm:ss' (GMT+8), got {value!r}") from None
    return local.replace(tzinfo=CHINA).astimezone(UTC)


def format_china_time(moment: datetime) -> str:
    """An aware datetime as TOP writes it (GMT+8): what clients put in `timestamp`."""
    return moment.astimezone(CHINA).strftime(TOP_TIME_FORMAT)


def timestamp_problem(timestamp: str, now: datetime, skew: timedelta = MAX_CLOCK_SKEW) -> str | None:
    """None when `timestamp` is within ±skew of `now`; otherwise why not."""
    try:
        sent = parse_china_time(timestamp)
    except ValueError as exc:
        return f"timestamp {exc}"
    drift = sent - now
    if abs(drift) > skew:
        minutes = int(abs(drift).total_seconds() // 60)
        side = "behind" if drift < timedelta(0) else "ahead of"
        return (
            f"stale timestamp: {timestamp} (GMT+8) is {minutes} min {side} the server clock; "
            f"allowed ±{int(skew.total_seconds() // 60)} min"
        )
    return None
