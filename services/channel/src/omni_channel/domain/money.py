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


def yuan_number_to_cents(value: object) -> int:
    """A yuan amount sent as a JSON number (Pinduoduo: `3296.0`), read from the JSON text as a Decimal (or an
    int), -> exact cents. Refuses floats (already rounded), strings, negatives and more than two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise MoneyFormatError(f"must be a yuan amount as a JSON number like 3296.0, got {_kind(value)}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise MoneyFormatError(f"must be a finite number, got {value}")
    if value < 0:
        raise MoneyFormatError(f"must not be negative, got {value}")
    cents = Decimal(value) * 100
    if cents != cents.to_integral_value():
        raise MoneyFormatError(f"has more than 2 decimals: {value}")
    if cents >= 10**16:
        raise MoneyFormatError(f"is too large: {value}")
    return int(cents)


def fen_to_cents(value: object) -> int:
    """A fen amount sent as a JSON integer (Douyin, Xiaohongshu: `329600`). Refuses anything else."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyFormatError(f"must be an integer amount in fen like 329600, got {_kind(value)}")
    if value < 0:
        raise MoneyFormatError(f"must not be negative, got {value}")
    if value >= 10**16:
        raise MoneyFormatError(f"is too large: {value}")
    return value


def signed_fen_to_cents(value: object) -> int:
    """A signed fen amount (1688's `discount` / `entryDiscount`: a Long in fen, negative for a reduction,
    unlike its yuan fields), sent as a JSON integer or a string of digits. Refuses decimals (a yuan amount
    sent by mistake), booleans and anything else."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,17}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyFormatError(f"must be an integer amount in fen like -226, got {_kind(value)}")
    if abs(value) >= 10**16:
        raise MoneyFormatError(f"is too large: {value}")
    return value


def yuan_text_or_number_to_cents(value: object) -> int:
    """A yuan amount as a string (`"3296.00"`) or a JSON number read as a Decimal (`3296.0`): 1688 sends its
    BigDecimal fields as numbers, and relays often as strings. Exact either way."""
    return yuan_to_cents(value) if isinstance(value, str) else yuan_number_to_cents(value)


def largest_remainder(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` cents over `weights` in proportion, exactly (largest remainder, ties to the first);
    all-zero weights split evenly. Σ result == amount."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    base = sum(weights)
    shares = [(amount * w // base, amount * w % base, i) for i, w in enumerate(weights)]
    left = amount - sum(s for s, _, _ in shares)
    bonus = {i for _, _, i in sorted(shares, key=lambda s: (-s[1], s[2]))[:left]}
    return [share + (1 if i in bonus else 0) for share, _, i in shares]
