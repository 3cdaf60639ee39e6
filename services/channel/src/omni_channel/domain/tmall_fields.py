"""Reading the fields of a Taobao/Tmall trade document, pure: the JSON itself, platform ids, yuan amounts,
quantities, GMT+8 times and capped text. Each reader adds what is wrong to a `Problems` list (with the
field's path) rather than raising, so that a trade is refused with every problem at once (see tmall.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from .errors import MalformedPayload, Problem
from .limits import too_long
from .money import MoneyFormatError, yuan_to_cents
from .signing import parse_china_time

MAX_SAFE_INTEGER = 2**53


def parse_json(body: bytes) -> Any:
    """The body as JSON. Floats stay exact (Decimal); NaN/Infinity and duplicate keys are refused."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    if not text.strip():
        raise MalformedPayload("the body is empty; send the trade JSON")
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_no_dupes)
    except json.JSONDecodeError as exc:
        raise MalformedPayload(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _JSONRefused as exc:
        raise MalformedPayload(f"malformed JSON: {exc}") from None


class _JSONRefused(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _JSONRefused(f"{name} is not a JSON number")


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _JSONRefused(f"duplicate key {k!r}")
        out[k] = v
    return out


class Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def platform_id(obj: dict[str, Any], name: str, path: str, p: Problems, *, required: bool) -> str | None:
    """`<name>_str` over `<name>`; refuse ids that are not positive integers or have lost precision."""
    as_str, as_num = obj.get(f"{name}_str"), obj.get(name)
    if as_str not in (None, ""):
        if (
            not isinstance(as_str, str)
            or not as_str.isascii()
            or not as_str.isdigit()
            or as_str.startswith("0")
        ):
            p.add(f"{path}{name}_str", f"must be a string of digits, got {as_str!r}")
            return None
        if isinstance(as_num, str) and as_num and as_num != as_str:
            p.add(f"{path}{name}", f"{name} {as_num!r} and {name}_str {as_str!r} disagree")
        elif is_int(as_num) and as_num <= MAX_SAFE_INTEGER and str(as_num) != as_str:
            p.add(f"{path}{name}", f"{name} {as_num} and {name}_str {as_str!r} disagree")
        return as_str
    if as_num is None or as_num == "":
        if required:
            p.add(f"{path}{name}", f"missing (send {name}_str)" if name in ("tid", "oid") else "missing")
        return None
    if isinstance(as_num, str):
        if as_num.isascii() and as_num.isdigit() and not as_num.startswith("0"):
            return as_num
        p.add(f"{path}{name}", f"must be a positive integer id, got {as_num!r}")
        return None
    if not is_int(as_num) or as_num <= 0:
        p.add(f"{path}{name}", f"must be a positive integer id, got {kind(as_num)}")
        return None
    if as_num > MAX_SAFE_INTEGER:
        p.add(
            f"{path}{name}",
            f"the JSON number {as_num} is above 2^53 and has probably lost precision on the way; "
            f"send {name}_str",
        )
        return None
    return str(as_num)


def money(obj: dict[str, Any], key: str, path: str, p: Problems, *, required: bool = False) -> int | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            p.add(path, "missing")
        return None
    try:
        return yuan_to_cents(value)
    except MoneyFormatError as exc:
        p.add(path, str(exc))
        return None


def qty(value: Any, path: str, p: Problems) -> int | None:
    if value is None or value == "":
        p.add(path, "missing")
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not is_int(value):
        p.add(path, f"must be a positive integer, got {kind(value)}")
        return None
    if value <= 0:
        p.add(path, f"must be greater than 0, got {value}")
        return None
    return value


def china_time(trade: dict[str, Any], key: str, p: Problems, *, required: bool = False) -> datetime | None:
    value = trade.get(key)
    if value is None or value == "":
        if required:
            p.add(key, "missing")
        return None
    if not isinstance(value, str):
        p.add(key, f"must be 'yyyy-MM-dd HH:mm:ss' (GMT+8), got {kind(value)}")
        return None
    try:
        return parse_china_time(value)
    except ValueError as exc:
        p.add(key, str(exc))
        return None


def capped(obj: dict[str, Any], key: str, p: Problems, prefix: str = "") -> str:
    """`obj[key]` as text (trimmed), with a problem when it is longer than its cap (limits.py)."""
    value = text(obj.get(key))
    problem = too_long(key, value)
    if problem:
        p.add(f"{prefix}{key}", problem)
    return value


def text(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value).strip()


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def yuan(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
