"""Yuan strings -> integer cents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from omni_channel.domain.money import MoneyFormatError, yuan_to_cents


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("3296.00", 329600),
        ("0.00", 0),
        ("0", 0),
        ("200.07", 20007),
        ("91.25", 9125),
        ("8.75", 875),
        ("0.1", 10),
        ("12", 1200),
        ("99999999.99", 9999999999),
        ("0.29", 29),  # float(0.29) * 100 = 28.999999999999996
        ("1.15", 115),
    ],
)
def test_yuan_strings_convert_exactly(text: str, cents: int) -> None:
    assert yuan_to_cents(text) == cents


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1.00", "negative"),
        ("1.005", "more than 2 decimals"),
        ("3296.000", "more than 2 decimals"),
        ("1e3", "not a yuan amount"),
        (" 12.00", "not a yuan amount"),
        ("12.", "not a yuan amount"),
        (".5", "not a yuan amount"),
        ("+1.00", "not a yuan amount"),
        ("1,000.00", "not a yuan amount"),
        ("NaN", "not a yuan amount"),
        ("０.５０", "not a yuan amount"),  # full-width digits
        ("007.00", "not a yuan amount"),
        (3296, "string"),
        (Decimal("3296.00"), "string"),
        (3296.0, "string"),
        (True, "string"),
        (None, "string"),
    ],
)
def test_anything_else_is_refused_with_a_reason(value: object, message: str) -> None:
    with pytest.raises(MoneyFormatError, match=message):
        yuan_to_cents(value)
