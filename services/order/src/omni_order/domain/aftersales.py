"""After-sales 售后: the kinds of case, one state machine per kind, and the money split. Pure: no I/O.

Kinds (the platform sends the first three as refund_only / return_and_refund / exchange; an operator creates
reship, repair and compensation; a platform closing an order that already shipped is kept as platform_close):

    refund_before_shipment, refund_after_shipment:
        requested -> agreed -> refunded      requested | agreed -> refused | closed; refused -> requested
    return_and_refund:
        requested -> agreed -> awaiting_return -> returned -> received -> completed  (steps may be skipped)
        refunded (money back before the goods were inspected) -> completed (on receipt)
    exchange:
        requested -> agreed -> awaiting_return -> returned -> received -> exchanged (the new outbound order)
    reship:        reshipped (a new outbound order of the same lines, 0 paid, at once)
    repair:        awaiting_return -> received -> completed
    compensation:  granted
    platform_close: recorded

A platform status maps to a target state (`PLATFORM_STATES`); a target the case has already passed, or the
status it is in, is a replay and changes nothing; each (channel refund id, status) is applied once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from omni_contracts.bundles import allocate

from .status import DomainError


class Kind(StrEnum):
    REFUND_BEFORE_SHIPMENT = "refund_before_shipment"
    REFUND_AFTER_SHIPMENT = "refund_after_shipment"
    RETURN_AND_REFUND = "return_and_refund"
    EXCHANGE = "exchange"
    RESHIP = "reship"
    REPAIR = "repair"
    COMPENSATION = "compensation"
    PLATFORM_CLOSE = "platform_close"


OPERATOR_KINDS = (Kind.RESHIP, Kind.REPAIR, Kind.COMPENSATION)
RETURNING = (Kind.RETURN_AND_REFUND, Kind.EXCHANGE, Kind.REPAIR)  # goods come back to a node


class State(StrEnum):
    REQUESTED = "requested"
    AGREED = "agreed"
    AWAITING_RETURN = "awaiting_return"
    RETURNED = "returned"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REFUSED = "refused"
    CLOSED = "closed"
    COMPLETED = "completed"
    EXCHANGED = "exchanged"
    RESHIPPED = "reshipped"
    GRANTED = "granted"
    RECORDED = "recorded"


S = State
_REFUND = {
    S.REQUESTED: {S.AGREED, S.REFUNDED, S.REFUSED, S.CLOSED},
    S.AGREED: {S.REFUNDED, S.REFUSED, S.CLOSED},
    S.REFUSED: {S.REQUESTED, S.AGREED, S.REFUNDED, S.CLOSED},
}
_GOODS_BACK = [S.REQUESTED, S.AGREED, S.AWAITING_RETURN, S.RETURNED]


def _forward(chain: list[State], then: set[State]) -> dict[State, set[State]]:
    return {s: set(chain[i + 1 :]) | then for i, s in enumerate(chain)}


_RETURN = _forward(_GOODS_BACK, {S.RECEIVED, S.REFUNDED, S.REFUSED, S.CLOSED}) | {
    S.RECEIVED: {S.COMPLETED, S.REFUSED, S.CLOSED},
    S.REFUNDED: {S.COMPLETED},
    S.REFUSED: {S.REQUESTED, S.AGREED, S.AWAITING_RETURN, S.RETURNED, S.REFUNDED, S.CLOSED},
}
_EXCHANGE = _forward(_GOODS_BACK, {S.RECEIVED, S.REFUSED, S.CLOSED}) | {
    S.RECEIVED: {S.EXCHANGED, S.CLOSED},
    S.REFUSED: {S.REQUESTED, S.AGREED, S.AWAITING_RETURN, S.RETURNED, S.CLOSED},
}
MACHINES: dict[Kind, dict[State, set[State]]] = {
    Kind.REFUND_BEFORE_SHIPMENT: _REFUND,
    Kind.REFUND_AFTER_SHIPMENT: _REFUND,
    Kind.RETURN_AND_REFUND: _RETURN,
    Kind.EXCHANGE: _EXCHANGE,
    Kind.RESHIP: {},
    Kind.REPAIR: {S.AWAITING_RETURN: {S.RECEIVED, S.CLOSED}, S.RECEIVED: {S.COMPLETED}},
    Kind.COMPENSATION: {},
    Kind.PLATFORM_CLOSE: {},
}
INITIAL: dict[Kind, State] = {
    Kind.RESHIP: S.RESHIPPED,
    Kind.REPAIR: S.AWAITING_RETURN,
    Kind.COMPENSATION: S.GRANTED,
    Kind.PLATFORM_CLOSE: S.RECORDED,
}
# the platform's normalised refund status -> the state it asks for (unknown: recorded, no move)
PLATFORM_STATES: dict[str, State] = {
    "requested": S.REQUESTED,
    "agreed": S.AGREED,
    "awaiting_return": S.AWAITING_RETURN,
    "returned": S.RETURNED,
    "refunded": S.REFUNDED,
    "refused": S.REFUSED,
    "closed": S.CLOSED,
}


class AfterSalesError(DomainError):
    """An after-sales request that cannot be applied (400/409 at the API; dead-lettered from a consumer)."""


class IllegalCaseTransition(AfterSalesError):
    pass


def kind_of(platform_kind: str, shipped: bool) -> Kind:
    if platform_kind == "refund_only":
        return Kind.REFUND_AFTER_SHIPMENT if shipped else Kind.REFUND_BEFORE_SHIPMENT
    return Kind(platform_kind)


def can_move(kind: Kind, frm: State, to: State) -> bool:
    return to in MACHINES[kind].get(frm, set())


def check_move(kind: Kind, frm: State, to: State, case_id: str) -> None:
    if not can_move(kind, frm, to):
        allowed = sorted(MACHINES[kind].get(frm, set()))
        then = f"from {frm} it can only become {', '.join(allowed)}" if allowed else f"{frm} is final"
        raise IllegalCaseTransition(
            f"after-sales case {case_id} ({kind}) in {frm} cannot become {to} ({then})"
        )


def platform_target(kind: Kind, current: State, status: str) -> State | None:
    """The state a platform status moves the case to, or None (a replay, a status already passed, or one
    that does not apply to this kind: kept in the history only)."""
    target = PLATFORM_STATES.get(status)
    if target is None or target == current:
        return None
    if kind in RETURNING and target is S.REFUNDED and current is S.RECEIVED:
        return S.COMPLETED  # inspected first, refunded after: done
    return target if can_move(kind, current, target) else None


def after_receipt(kind: Kind, current: State) -> State:
    """The state an inspected return puts the case in."""
    if kind is Kind.EXCHANGE:
        return S.RECEIVED
    if kind is Kind.RETURN_AND_REFUND and current is S.REFUNDED:
        return S.COMPLETED
    return S.RECEIVED


def can_receive(kind: Kind, current: State) -> bool:
    """A return may be inspected once, at any point before the case is received, closed or refused."""
    if kind not in RETURNING:
        return False
    return can_move(kind, current, S.RECEIVED) or (kind is Kind.RETURN_AND_REFUND and current is S.REFUNDED)


# -- the money split ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MaterialLine:
    """One material line of the order, and what earlier cases already refunded of it."""

    line_id: str
    channel_line_id: str
    material_code: str
    qty: int
    amount_cents: int
    refunded_cents: int = 0
    refunded_qty: int = 0


@dataclass(frozen=True)
class RefundRequest:
    """A platform refund line: the platform's line id, the units (None: the whole line) and the money."""

    channel_line_id: str
    qty: int | None
    refund_cents: int


@dataclass(frozen=True)
class SplitLine:
    line_id: str
    material_code: str
    qty: int
    refund_cents: int


def split(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split by `weights` (largest remainder); zero weights get nothing; all zero: evenly."""
    if total == 0:
        return [0] * len(weights)
    idx = [i for i, w in enumerate(weights) if w > 0] or list(range(len(weights)))
    shares = allocate(total, [weights[i] if weights[i] > 0 else 1 for i in idx])
    out = [0] * len(weights)
    for i, s in zip(idx, shares, strict=True):
        out[i] = s
    return out


def split_refund(
    lines: Sequence[MaterialLine], channel_qty: dict[str, int], requests: Sequence[RefundRequest], where: str
) -> list[SplitLine]:
    """Each platform refund line split onto the material lines of its channel line, per quantity and to
    the fen: a line of Q units refunding q of them refunds q/Q of each material line's units, and its money
    is split over those material lines by their amounts. Refused (AfterSalesError, every problem named)
    when a line is unknown, more units than ordered, or more money than is left on the line."""
    problems: list[str] = []
    out: list[SplitLine] = []
    for r in requests:
        mine = [x for x in lines if x.channel_line_id == r.channel_line_id]
        if not mine:
            problems.append(f"{where}: no order line {r.channel_line_id!r}")
            continue
        ordered = channel_qty.get(r.channel_line_id, 0)
        units = ordered if r.qty is None else r.qty
        if units > ordered:
            problems.append(f"{where}: line {r.channel_line_id} refunds {units} units of {ordered} ordered")
            continue
        left = sum(x.amount_cents - x.refunded_cents for x in mine)
        if r.refund_cents > left:
            problems.append(
                f"{where}: line {r.channel_line_id} refunds {r.refund_cents} fen, only {left} are left on it"
            )
            continue
        cents = split(r.refund_cents, [x.amount_cents - x.refunded_cents for x in mine])
        for x, c in zip(mine, cents, strict=True):
            qty = x.qty * units // ordered if ordered else 0
            out.append(SplitLine(x.line_id, x.material_code, qty, c))
    if problems:
        raise AfterSalesError("; ".join(problems))
    return out


def whole_order(lines: Sequence[MaterialLine], goods_cents: int) -> list[SplitLine]:
    """A refund that names no line: its goods money spread over every line by what is left on it; all the
    units when it takes everything that is left, else none (money only)."""
    left = [x.amount_cents - x.refunded_cents for x in lines]
    everything = goods_cents == sum(left)
    cents = split(goods_cents, left)
    return [
        SplitLine(x.line_id, x.material_code, x.qty - x.refunded_qty if everything else 0, c)
        for x, c in zip(lines, cents, strict=True)
    ]


@dataclass(frozen=True)
class Money:
    goods_cents: int
    freight_cents: int

    @property
    def total(self) -> int:
        return self.goods_cents + self.freight_cents


def money_of(total: int, split_lines: Sequence[SplitLine], freight_left: int, where: str) -> Money:
    """The platform's total over the lines: what is beyond the lines is freight, never more than is left."""
    goods = sum(x.refund_cents for x in split_lines)
    freight = total - goods
    if freight < 0:
        raise AfterSalesError(f"{where}: the lines refund {goods} fen but the refund is only {total}")
    if freight > freight_left:
        raise AfterSalesError(
            f"{where}: refunds {total} fen, {freight} more than its lines, and only {freight_left} of "
            "freight is left to refund"
        )
    return Money(goods, freight)


def whole_order_refunded(lines: Sequence[MaterialLine], split_lines: Sequence[SplitLine]) -> bool:
    """True when, with this refund, every unit of every line has been refunded (an intercept)."""
    got: dict[str, int] = {}
    for x in split_lines:
        got[x.line_id] = got.get(x.line_id, 0) + x.qty
    return bool(lines) and all(x.refunded_qty + got.get(x.line_id, 0) >= x.qty for x in lines)


@dataclass(frozen=True)
class Inspected:
    line_id: str
    good_qty: int
    defective_qty: int


def check_inspection(expected: dict[str, int], inspected: Sequence[Inspected], where: str) -> None:
    """Every inspected line is one the case expects back, and no more units than expected come back."""
    problems = []
    seen: set[str] = set()
    for x in inspected:
        if x.line_id not in expected:
            problems.append(f"{where}: line {x.line_id} is not part of this case")
            continue
        if x.line_id in seen:
            problems.append(f"{where}: line {x.line_id} is named twice")
        seen.add(x.line_id)
        if x.good_qty < 0 or x.defective_qty < 0 or x.good_qty + x.defective_qty == 0:
            problems.append(f"{where}: line {x.line_id} needs a positive good or defective quantity")
        elif x.good_qty + x.defective_qty > expected[x.line_id]:
            problems.append(
                f"{where}: line {x.line_id} receives {x.good_qty + x.defective_qty} units, "
                f"{expected[x.line_id]} were expected back"
            )
    if not inspected:
        problems.append(f"{where}: no lines received")
    if problems:
        raise AfterSalesError("; ".join(problems))
