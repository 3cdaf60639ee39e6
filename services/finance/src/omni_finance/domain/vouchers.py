"""Vouchers 凭证: balanced double-entry journal entries. A voucher that does not balance cannot be built."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from .accounts import CHART


class VoucherKind(StrEnum):
    SALE = "sale"  # order.accepted: the platform owes us what the buyer paid; goods and freight deferred
    REVENUE = "revenue"  # goods left (shipped or picked up): deferred goods (and freight) become revenue
    REVERSAL = "reversal"  # 红字冲销: an order cancelled before any shipment; mirrors its sale voucher
    STORE_SALE = "store-sale"  # a till's takings: tenders debited, revenue and output VAT credited at once
    STORE_RETURN = "store-return"  # a till return: the takings' reversal (revenue and VAT debited)
    REFUND = "refund"  # order.refund-approved: part of an order refunded (deferred or revenue reversed)
    COMPENSATION = "compensation"  # order.compensation-granted: money paid to the buyer, a sales expense
    PAYMENT = "payment"  # order.payment-received: an order on account paid, its receivable cleared
    FREIGHT = "freight"  # a parcel shipped: the chosen carrier's cost, an expense owed to the carrier


class InvalidVoucher(ValueError):
    """The voucher would break double entry (unbalanced, empty, a line with two sides, an unknown account)."""


# Fixed namespace: a voucher's id is derived from (source event id, kind), so it is the same on every replay.
_VOUCHER_NS = UUID("6f0c1f8e-6a57-4c1e-9a55-0f1a3c2b7d10")


def voucher_id_for(source_event_id: UUID, kind: VoucherKind, part: str | None = None) -> UUID:
    """`part` tells apart the vouchers of one kind that one event posts: a merged order's event books one per
    source order (part = the source's order id). None for an order's own events (their ids never change)."""
    name = f"{source_event_id}:{kind.value}" + (f":{part}" if part is not None else "")
    return uuid5(_VOUCHER_NS, name)


@dataclass(frozen=True)
class Line:
    account_code: str
    debit_cents: int = 0
    credit_cents: int = 0

    def __post_init__(self) -> None:
        if self.account_code not in CHART:
            raise InvalidVoucher(f"account {self.account_code!r} is not in the chart of accounts")
        if not isinstance(self.debit_cents, int) or not isinstance(self.credit_cents, int):
            raise InvalidVoucher("amounts are integer cents")
        if self.debit_cents < 0 or self.credit_cents < 0:
            raise InvalidVoucher(f"account {self.account_code}: amounts cannot be negative")
        if (self.debit_cents == 0) == (self.credit_cents == 0):
            raise InvalidVoucher(
                f"account {self.account_code}: a line is either a debit or a credit, not zero"
            )

    @staticmethod
    def dr(code: str, cents: int) -> Line:
        return Line(code, debit_cents=cents)

    @staticmethod
    def cr(code: str, cents: int) -> Line:
        return Line(code, credit_cents=cents)

    def reversed(self) -> Line:
        return Line(self.account_code, debit_cents=self.credit_cents, credit_cents=self.debit_cents)


def nonzero(lines: Iterable[tuple[str, str, int]]) -> list[Line]:
    """Lines from (side, account, cents), omitting the zero ones: ("dr", "1122", 100)."""
    out = []
    for side, code, cents in lines:
        if cents:
            out.append(Line.dr(code, cents) if side == "dr" else Line.cr(code, cents))
    return out


@dataclass(frozen=True)
class Voucher:
    voucher_id: UUID
    kind: VoucherKind
    order_id: str | None
    source_event_id: UUID
    source_event_type: str
    summary: str
    currency: str
    posted_at: datetime
    lines: tuple[Line, ...]
    reverses_voucher_id: UUID | None = None
    total_cents: int = field(init=False)

    def __post_init__(self) -> None:
        if len(self.lines) < 2:
            raise InvalidVoucher(f"{self.kind} voucher: needs at least two lines, got {len(self.lines)}")
        debit = sum(x.debit_cents for x in self.lines)
        credit = sum(x.credit_cents for x in self.lines)
        if debit != credit:
            raise InvalidVoucher(
                f"{self.kind} voucher for order {self.order_id}: debits {debit} != credits {credit}"
            )
        if self.posted_at.tzinfo is None:
            raise InvalidVoucher("posted_at must be an aware (UTC) time")
        object.__setattr__(self, "total_cents", debit)

    @classmethod
    def post(
        cls,
        kind: VoucherKind,
        *,
        order_id: str | None,
        source_event_id: UUID,
        source_event_type: str,
        summary: str,
        currency: str,
        posted_at: datetime,
        lines: Sequence[Line],
        reverses_voucher_id: UUID | None = None,
        part: str | None = None,
    ) -> Voucher:
        """A voucher whose id is derived from its source event and kind, and `part` (voucher_id_for): the same
        on every replay."""
        return cls(
            voucher_id=voucher_id_for(source_event_id, kind, part),
            kind=kind,
            order_id=order_id,
            source_event_id=source_event_id,
            source_event_type=source_event_type,
            summary=summary,
            currency=currency,
            posted_at=posted_at,
            lines=tuple(lines),
            reverses_voucher_id=reverses_voucher_id,
        )
