"""Merge (合单), the pure part: which orders may wait for each other (their merge group), and how the orders
of a group still waiting when its window closes are packed into merged orders under the strategy's caps.

A merge group is a hash (never the buyer's data itself: it is a timer key and a column) of everything two
orders must share to be shipped as one parcel:
- the strategy that held them, the channel, and the shop, or the strategy's shop group (`merge.shops`:
  shops whose orders merge with each other);
- the same buyer and address: the platform's merge key (Taobao `oaid`, PDD / Douyin `open_address_id`,
  which already stands for buyer and address) where there is one, else the buyer nick plus a hash of the
  normalised address;
- the same delivery (a pickup at one store never merges with a parcel) and the same roles and partners (an
  S2B2C order of another distributor is another seller's sale).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

_SPACE = re.compile(r"\s+")


def normalised_address(*parts: str) -> str:
    """Full-width forms folded (NFKC), whitespace dropped, case folded: the same address typed twice."""
    return "|".join(_SPACE.sub("", unicodedata.normalize("NFKC", p or "")).casefold() for p in parts)


def merge_group(
    *,
    strategy_id: str,
    channel: str,
    shop_id: str,
    group_shops: Sequence[str],
    merge_key: str,
    buyer_nick: str,
    address: Sequence[str],
    delivery: str,
    pickup_node: str | None,
    roles: Any,
) -> str | None:
    """The order's merge group (a 32-hex hash), or None when the buyer cannot be told apart (no platform
    merge key and no nick: two strangers at one address must not share a parcel)."""
    if not merge_key and not buyer_nick:
        return None
    shops = sorted(set(group_shops)) if shop_id in group_shops else [shop_id]
    buyer = ["key", merge_key] if merge_key else ["nick", buyer_nick, normalised_address(*address)]
    raw = orjson.dumps(
        [strategy_id, channel, shops, buyer, delivery, pickup_node or "", roles], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Caps:
    max_lines: int = 50
    max_amount_cents: int | None = None
    max_weight_g: int | None = None

    @classmethod
    def of(cls, d: dict[str, Any] | None) -> Caps:
        d = d or {}
        return cls(int(d.get("max_lines", 50)), d.get("max_amount_cents"), d.get("max_weight_g"))

    def as_payload(self) -> dict[str, Any]:
        return {"max_lines": self.max_lines, "max_amount_cents": self.max_amount_cents,
                "max_weight_g": self.max_weight_g}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """An order waiting in its group's window: its size against the caps."""

    order_id: str
    created_at: datetime
    lines: int
    paid_cents: int
    weight_g: int


@dataclass
class Parcel:
    """Orders to ship as one (one order: it goes on alone), with why the next one did not fit."""

    orders: list[Candidate] = field(default_factory=list)
    lines: int = 0
    paid_cents: int = 0
    weight_g: int = 0
    closed_by: str = ""  # the cap that started the next parcel

    def over(self, c: Candidate, caps: Caps) -> str:
        """The cap `c` would break in this parcel ('' when it fits)."""
        if not self.orders:
            return ""
        if self.lines + c.lines > caps.max_lines:
            return f"lines {self.lines + c.lines} > {caps.max_lines}"
        if caps.max_amount_cents is not None and self.paid_cents + c.paid_cents > caps.max_amount_cents:
            return f"amount {yuan(self.paid_cents + c.paid_cents)} > {yuan(caps.max_amount_cents)}"
        if caps.max_weight_g is not None and self.weight_g + c.weight_g > caps.max_weight_g:
            return f"weight {self.weight_g + c.weight_g} g > {caps.max_weight_g} g"
        return ""

    def add(self, c: Candidate) -> None:
        self.orders.append(c)
        self.lines += c.lines
        self.paid_cents += c.paid_cents
        self.weight_g += c.weight_g


def pack(candidates: Sequence[Candidate], caps: Caps) -> list[Parcel]:
    """Oldest first (then by id: deterministic), each order into the current parcel while the caps allow;
    one that does not fit starts the next parcel. An order alone over a cap still goes (alone)."""
    parcels: list[Parcel] = []
    for c in sorted(candidates, key=lambda c: (c.created_at, c.order_id)):
        if not parcels or (why := parcels[-1].over(c, caps)):
            if parcels:
                parcels[-1].closed_by = why
            parcels.append(Parcel())
        parcels[-1].add(c)
    return parcels


def yuan(cents: int) -> str:
    return f"¥{cents // 100}.{cents % 100:02d}"


def describe(p: Parcel, caps: Caps) -> str:
    """What an operator reads in the trace: the parcel's size against the caps."""
    bits = [f"{len(p.orders)} orders", f"{p.lines} lines of at most {caps.max_lines}"]
    most = f" of at most {yuan(caps.max_amount_cents)}" if caps.max_amount_cents else ""
    bits.append(f"{yuan(p.paid_cents)}{most}")
    if caps.max_weight_g:
        bits.append(f"{p.weight_g} g of at most {caps.max_weight_g} g")
    return ", ".join(bits)
