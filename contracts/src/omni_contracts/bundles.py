"""How a bundle's price weights are read: the reference decomposition every consumer of the contract uses.

A channel line (qty N of a sales product, paid P cents) becomes one material line per component, with
qty = component qty × N and an amount that is P split by the components' `price_weight`s. The split is
the largest-remainder method: each line gets floor(P × w / W), then the cents left over go one each to the
lines with the largest remainders, ties to the earlier component. The amounts add up to P exactly and the
result depends only on the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    material_code: str
    qty: int
    price_weight: int


@dataclass(frozen=True)
class MaterialLine:
    material_code: str
    qty: int
    amount_cents: int


def allocate(total_cents: int, weights: Sequence[int]) -> list[int]:
    """Split `total_cents` by `weights` (largest remainder, ties to the earlier one); sums to the total."""
    if total_cents < 0:
        raise ValueError("cannot allocate a negative amount")
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("weights must be positive and not empty")
    whole = sum(weights)
    shares = [total_cents * w // whole for w in weights]
    remainders = [total_cents * w % whole for w in weights]
    left = total_cents - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return shares


def decompose(components: Sequence[Component], qty: int, paid_cents: int) -> list[MaterialLine]:
    """Material lines of `qty` units of a sales product made of `components`, paid `paid_cents` in all."""
    if qty <= 0:
        raise ValueError(f"quantity must be positive, got {qty}")
    if not components:
        raise ValueError("a sales product needs at least one component")
    for c in components:
        if c.qty <= 0:
            raise ValueError(f"component {c.material_code}: quantity must be positive")
    amounts = allocate(paid_cents, [c.price_weight for c in components])
    return [MaterialLine(c.material_code, c.qty * qty, a) for c, a in zip(components, amounts, strict=True)]
