"""The rules' condition vocabulary, its shared pieces: the value types (codes, money in fen, counts), the
verdict and the environment an evaluation runs in, and the base classes. The conditions themselves are in
`conditions.py` (the goods: channel, shop, model, money, quantity, weight, SKU, category, tag, handling; the
composition; the `Condition` union) and `conditions_order.py` (the buyer, messages, address, time, risk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from omni_chassis.paging import json_int

from .facts import OrderFacts

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\s\x85\x00]+$")]
Cents = json_int(0, 10**13)
Count = json_int(0, 10**9)
Codes = Annotated[list[Code], Field(min_length=1, max_length=1000)]
Words = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=200)]], Field(max_length=100)
]
Match = Literal["any", "all", "only", "none"]
MODELS = ("B2C", "O2O", "S2B2C", "B2B", "BBC")
MAX_DEPTH = 16


@dataclass(frozen=True)
class Verdict:
    matched: bool
    why: str


class Env:
    """What evaluation needs beyond the order: the rule set's named conditions (for `use`)."""

    def __init__(self, definitions: dict[str, Any] | None = None) -> None:  # name -> Condition
        self.definitions = definitions or {}
        self.depth = 0


class _Cond(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def check(self, f: OrderFacts, env: Env) -> Verdict:  # pragma: no cover - every subclass has its own
        raise NotImplementedError


def _range(value: int, lo: int | None, hi: int | None, what: str, show: Any = str) -> Verdict:
    parts = []
    ok = True
    if lo is not None:
        ok = ok and value >= lo
        parts.append(f"{'≥' if value >= lo else '<'} {show(lo)}")
    if hi is not None:
        ok = ok and value < hi
        parts.append(f"{'<' if value < hi else '≥'} {show(hi)}")
    return Verdict(ok, f"{what} {show(value)} {' and '.join(parts)}")


class _Range(_Cond):
    @model_validator(mode="after")
    def _bounds(self) -> _Range:
        lo, hi = getattr(self, "min"), getattr(self, "max")  # noqa: B009
        if lo is None and hi is None:
            raise ValueError("give min, max or both")
        if lo is not None and hi is not None and lo >= hi:
            raise ValueError(f"min {lo} must be less than max {hi} (min is inclusive, max exclusive)")
        return self


def _in(ok: bool) -> str:
    return "is listed" if ok else "is not listed"
