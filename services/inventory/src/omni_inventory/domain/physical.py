"""Rules of physical stock beyond the good stock row, pure: quality states, counts, transfers.

Every check returns EVERY problem it finds (a 422 lists them all); a refusal carries the numbers behind it
(a 409 shows them). No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .model import MAX_QTY, InvalidRequest, InventoryError, StockLevel


class QualityState(StrEnum):
    GOOD = "good"  # the stock row's on_hand: what can be sold
    DEFECTIVE = "defective"  # 次品
    QUARANTINED = "quarantined"  # 待检 / 隔离


NON_GOOD = (QualityState.DEFECTIVE, QualityState.QUARANTINED)


class TransferStatus(StrEnum):
    CREATED = "created"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CANCELLED = "cancelled"


Problem = tuple[str, str]  # (where, what): ("lines[1].qty", "must be positive")


class Problems(InvalidRequest):
    """A request with one or more things wrong, every one of them listed (a 422 with `problems`)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p}: {m}" for p, m in self.problems))


def raise_problems(problems: Sequence[Problem]) -> None:
    if problems:
        raise Problems(problems)


class NotFound(InventoryError):
    """No record with that id (a 404 at the edge)."""


class Refused(InventoryError):
    """The rules refuse a well-formed request (a 409 at the edge); `numbers` say why."""

    numbers: dict[str, Any]

    def __init__(self, sentence: str, **numbers: Any) -> None:
        self.numbers = numbers
        super().__init__(sentence)


def state_of(value: str, where: str, problems: list[Problem]) -> QualityState | None:
    try:
        return QualityState(value)
    except ValueError:
        problems.append((where, f"unknown state {value!r} (good, defective or quarantined)"))
        return None


def _qty(value: int, where: str, problems: list[Problem], *, zero: bool = False) -> None:
    if value < 0 or (value == 0 and not zero):
        problems.append((where, f"must be {'0 or more' if zero else 'positive'}, got {value}"))
    elif value > MAX_QTY:
        problems.append((where, f"must be at most {MAX_QTY}, got {value}"))


def _text(value: str) -> str:
    return value.strip(" \t\r\n")


# -- quality moves ----------------------------------------------------------------------------------------
def check_quality_move(qty: int, from_state: str, to_state: str, reason: str) -> list[Problem]:
    problems: list[Problem] = []
    _qty(qty, "qty", problems)
    a = state_of(from_state, "from_state", problems)
    b = state_of(to_state, "to_state", problems)
    if a is not None and a == b:
        problems.append(("to_state", f"must differ from from_state ({from_state})"))
    if not _text(reason):
        problems.append(("reason", "a quality move needs a reason"))
    return problems


def quality_refusal(
    node: str, material: str, state: QualityState, qty: int, level: StockLevel | int
) -> Refused:
    if isinstance(level, StockLevel):
        return Refused(
            f"cannot move {qty} of {material} at node {node} out of good stock: only "
            f"{max(level.available, 0)} available (on hand {level.on_hand}, reserved {level.reserved}, "
            f"frozen {level.frozen})",
            node_code=node,
            material_code=material,
            from_state=state.value,
            qty=qty,
            on_hand=level.on_hand,
            reserved=level.reserved,
            frozen=level.frozen,
            available=max(level.available, 0),
        )
    return Refused(
        f"cannot move {qty} of {material} at node {node} out of {state.value}: only {level} {state.value}",
        node_code=node,
        material_code=material,
        from_state=state.value,
        qty=qty,
        **{state.value: level},
    )


# -- counts -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class CountLine:
    material_code: str
    state: str
    counted: int


def check_count(lines: Sequence[CountLine]) -> list[Problem]:
    problems: list[Problem] = []
    if not lines:
        problems.append(("lines", "at least one line is required"))
    seen: set[tuple[str, str]] = set()
    for i, x in enumerate(lines):
        if not x.material_code:
            problems.append((f"lines[{i}].material_code", "must not be empty"))
        state_of(x.state, f"lines[{i}].state", problems)
        _qty(x.counted, f"lines[{i}].counted", problems, zero=True)
        if (x.material_code, x.state) in seen:
            problems.append(
                (f"lines[{i}]", f"{x.material_code} ({x.state}) is counted on more than one line")
            )
        seen.add((x.material_code, x.state))
    return problems


@dataclass(frozen=True)
class CountShort:
    """A good-stock line counted below what is held (reserved + frozen): the count is refused."""

    material_code: str
    counted: int
    level: StockLevel
    reservations: list[str]


def count_refusal(node: str, short: Sequence[CountShort]) -> Refused:
    parts = [
        f"{s.material_code} counted {s.counted}, but reserved {s.level.reserved} + frozen {s.level.frozen} "
        f"are held (on hand {s.level.on_hand})"
        for s in short
    ]
    return Refused(
        f"count at node {node} refused, nothing applied: "
        + "; ".join(parts)
        + ". Release or re-source the reservations at risk (or unfreeze), then count again",
        node_code=node,
        short=[
            {
                "material_code": s.material_code,
                "counted": s.counted,
                "on_hand": s.level.on_hand,
                "reserved": s.level.reserved,
                "frozen": s.level.frozen,
                "missing": s.level.reserved + s.level.frozen - s.counted,
                "reservations_at_risk": s.reservations,
            }
            for s in short
        ],
    )


# -- transfers --------------------------------------------------------------------------------------------
def check_transfer(source: str, target: str, lines: Iterable[tuple[str, int]]) -> list[Problem]:
    problems: list[Problem] = []
    if source == target:
        problems.append(("target_node", f"must differ from source_node ({source})"))
    seen: set[str] = set()
    items = list(lines)
    if not items:
        problems.append(("lines", "at least one line is required"))
    for i, (material, qty) in enumerate(items):
        if not material:
            problems.append((f"lines[{i}].material_code", "must not be empty"))
        _qty(qty, f"lines[{i}].qty", problems)
        if material in seen:
            problems.append((f"lines[{i}].material_code", f"{material} appears on more than one line"))
        seen.add(material)
    return problems


def check_received(shipped: dict[str, int], received: Sequence[tuple[str, int]]) -> list[Problem]:
    """Every shipped line once, 0 <= received <= shipped."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, (material, qty) in enumerate(received):
        if material not in shipped:
            problems.append((f"lines[{i}].material_code", f"{material} is not on this transfer"))
        elif material in seen:
            problems.append((f"lines[{i}].material_code", f"{material} appears on more than one line"))
        else:
            _qty(qty, f"lines[{i}].received", problems, zero=True)
            if qty > shipped[material]:
                problems.append(
                    (f"lines[{i}].received", f"{qty} received is more than the {shipped[material]} shipped")
                )
        seen.add(material)
    missing = sorted(set(shipped) - seen)
    if missing:
        problems.append(
            (
                "lines",
                "every shipped line needs a received quantity (0 if none); missing: " + ", ".join(missing),
            )
        )
    return problems
