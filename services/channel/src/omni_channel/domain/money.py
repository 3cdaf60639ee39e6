"""Yuan strings to integer cents (fen), exactly."""

from __future__ import annotations

import re
from decimal import Decimal

# Plain decimal: digits, optionally a point and one or two digits. No sign, exponent, spaces or separators.
_YUAN = re.compile(r"^(0|[1-9][0-9]{0,13})(\.[0-9]{1,2})?$")


class MoneyFormatError(ValueError):
    pass


def yuan_to_cents(value: object) -> int:
    """`"3296.00"` -> 329600. Refuses numbers (the platform sends strings), negatives, more than two
    decimals, exponents, blanks and anything else that is not a plain non-negative yuan amount."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise MoneyFormatError(f'must be a yuan amount as a string like "3296.00", got {_kind(value)}')
    if value.startswith("-"):
        raise MoneyFormatError(f"must not be negative, got {value!r}")
    if not _YUAN.match(value):
        if re.match(r"^[0-9]+\.[0-9]{3,}$", value):
            raise MoneyFormatError(f"has more than 2 decimals: {value!r}")
        raise MoneyFormatError(f'is not a yuan amount like "3296.00": {value!r}')
    cents = Decimal(value) * 100
    return int(cents)  # exact: at most two decimals


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float) or type(value).__name__ == "Decimal":
        return f"the number {value}"
    return type(value).__name__
