"""What a rule can see of an order: plain values, built once per order by the service (pure here).

Money in integer fen, weights in grams, times in UTC. The buyer's phone and address detail are not facts:
rules see the region (province, city, district), whether the address is complete and located, and the
platform's merge key, never the receiver's personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class LineFacts:
    """One material line of the order (a bundle is already decomposed into its materials)."""

    material_code: str
    sales_product_code: str
    qty: int
    amount_cents: int  # what this line was paid, to the fen
    category: str = ""
    tags: frozenset[str] = frozenset()
    handling: str = "normal"
    weight_g: int = 0  # per unit
    high_value: bool = False


@dataclass(frozen=True)
class ChannelLineFacts:
    """One line as the channel sent it, with the price its listing asks (0: unknown)."""

    channel_line_id: str
    qty: int
    paid_cents: int
    list_price_cents: int = 0


@dataclass(frozen=True)
class OrderFacts:
    channel: str
    shop_id: str
    business_model: str
    delivery: str
    paid_cents: int
    goods_paid_cents: int
    lines: tuple[LineFacts, ...]
    created_at: datetime
    channel_lines: tuple[ChannelLineFacts, ...] = ()
    paid_at: datetime | None = None
    buyer_nick: str = ""
    merge_key: str = ""
    blacklisted: bool = False  # the buyer (nick or merge key) is on the brand's blacklist
    buyer_message: str = ""
    seller_memo: str = ""
    state: str = ""
    city: str = ""
    district: str = ""
    address_complete: bool = True
    address_located: bool = True
    presale_stage: str = "none"  # none | deposit_paid | final_paid
    invoice_kind: str | None = None
    duplicate_of: str | None = None  # an open order of the same buyer with the same goods, if any
    buyer_order_count: int = 0  # the buyer's earlier orders in this shop (gifts: first N orders)
    payment: str = "paid"  # paid | on_account (B2B credit terms)
    extra_tags: frozenset[str] = field(default_factory=frozenset)  # tags rules set earlier in the run

    @property
    def quantity(self) -> int:
        return sum(x.qty for x in self.lines)

    @property
    def weight_g(self) -> int:
        return sum(x.weight_g * x.qty for x in self.lines)

    @property
    def high_value(self) -> bool:
        return any(x.high_value for x in self.lines)

    @property
    def shop(self) -> str:
        return f"{self.channel}:{self.shop_id}"
