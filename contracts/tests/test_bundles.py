from __future__ import annotations

import random

import pytest

from omni_contracts.bundles import Component, MaterialLine, allocate, decompose

# The seed's "3 origins coffee beans x automatic coffee machine" set: three bags of beans and a machine.
COFFEE_SET = [
    Component("BEAN-YUNNAN-250G", 1, 1),
    Component("BEAN-ETHIOPIA-250G", 1, 1),
    Component("BEAN-COLOMBIA-250G", 1, 1),
    Component("MACHINE-AUTO-01", 1, 12),
]


def test_coffee_set_decomposes_to_materials_that_add_up_to_the_cent():
    # 2 sets, paid 5,999.99 yuan after discounts
    lines = decompose(COFFEE_SET, 2, 599_999)
    assert [line.qty for line in lines] == [2, 2, 2, 2]
    assert sum(line.amount_cents for line in lines) == 599_999
    # exact shares: 39,999.93 per bag of beans, 479,999.2 for the machine. Floors leave 3 cents; the bags
    # have the larger remainders (14/15 against 3/15), so each bag gets one.
    assert lines == [
        MaterialLine("BEAN-YUNNAN-250G", 2, 40_000),
        MaterialLine("BEAN-ETHIOPIA-250G", 2, 40_000),
        MaterialLine("BEAN-COLOMBIA-250G", 2, 40_000),
        MaterialLine("MACHINE-AUTO-01", 2, 479_999),
    ]


def test_remainders_go_to_the_largest_remainder_then_the_earlier_line():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1, [1, 1]) == [1, 0]
    assert allocate(0, [3, 7]) == [0, 0]
    assert allocate(10, [1, 2]) == [3, 7]  # 3.33 / 6.67: the larger remainder gets the cent


def test_quantities_multiply_through_the_bundle():
    lines = decompose([Component("CUP", 2, 1), Component("SAUCER", 2, 1)], 3, 600)
    assert [(line.material_code, line.qty, line.amount_cents) for line in lines] == [
        ("CUP", 6, 300),
        ("SAUCER", 6, 300),
    ]


def test_allocation_always_adds_up_and_is_deterministic():
    rnd = random.Random(7)
    for _ in range(2000):
        weights = [rnd.randint(1, 50) for _ in range(rnd.randint(1, 6))]
        total = rnd.randint(0, 10_000_000)
        shares = allocate(total, weights)
        assert sum(shares) == total
        assert all(s >= 0 for s in shares)
        assert shares == allocate(total, weights)
        # no line is more than one cent away from its exact share
        whole = sum(weights)
        assert all(abs(s - total * w / whole) < 1 for s, w in zip(shares, weights, strict=True))


@pytest.mark.parametrize(
    ("components", "qty", "paid", "message"),
    [
        (COFFEE_SET, 0, 100, "quantity must be positive"),
        ([], 1, 100, "at least one component"),
        ([Component("X", 0, 1)], 1, 100, "X: quantity must be positive"),
        ([Component("X", 1, 0)], 1, 100, "weights must be positive"),
        (COFFEE_SET, 1, -1, "negative"),
    ],
)
def test_bad_input_is_refused_with_a_reason(components, qty, paid, message):
    with pytest.raises(ValueError, match=message):
        decompose(components, qty, paid)
