"""The condition vocabulary every stage shares (review, gifts, split, routing hints). Pure.

Each condition is a pydantic model tagged by `type`; `check(facts, env)` answers a `Verdict`: matched or
not, and a sentence saying why, quoting the order's value and the rule's threshold (the decision trace
shows it). Composable with `all`, `any`, `not`, and `use` (a named condition of the rule set).

Semantics worth knowing (where ONEX went wrong, catalogue §13):
- money thresholds are integer fen, never whole yuan; a range is `min` inclusive, `max` exclusive;
- `message` matches literal text by default (`contains`, escaped); a `pattern` is a regular expression the
  author asked for explicitly, compiled at validation (a broken one is a 422), case-insensitive;
- `sku`, `category` and `tag` say `any`, `all`, `only` or `none` of the lines, never "the last line".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from omni_chassis.paging import json_int

from ..intake import yuan
from .facts import LineFacts, OrderFacts

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

    def __init__(self, definitions: dict[str, Condition] | None = None) -> None:
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


class ChannelIs(_Cond):
    type: Literal["channel"]
    any_of: Codes

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return Verdict(f.channel in self.any_of, f"channel {f.channel} {_in(f.channel in self.any_of)}")


class ShopIs(_Cond):
    """Shops as `<channel>:<shop_id>` (a shop id is unique only within its channel)."""

    type: Literal["shop"]
    any_of: Annotated[
        list[Annotated[str, StringConstraints(pattern=r"^[^\s:]+:[^\s]+$")]], Field(min_length=1)
    ]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return Verdict(f.shop in self.any_of, f"shop {f.shop} {_in(f.shop in self.any_of)}")


class BusinessModelIs(_Cond):
    type: Literal["business_model"]
    any_of: Annotated[list[Literal["B2C", "O2O", "S2B2C", "B2B", "BBC"]], Field(min_length=1)]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        ok = f.business_model in self.any_of
        return Verdict(ok, f"business model {f.business_model} {_in(ok)}")


class PaidAmount(_Range):
    """What the buyer paid, freight included (`of: paid`), or for the goods only (`of: goods`), in fen."""

    type: Literal["paid_amount"]
    of: Literal["paid", "goods"] = "paid"
    min: Cents | None = None
    max: Cents | None = None

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        value = f.paid_cents if self.of == "paid" else f.goods_paid_cents
        return _range(value, self.min, self.max, f"{self.of} amount", yuan)


class Quantity(_Range):
    """Units over all material lines (`of: units`), or the number of lines (`of: lines`)."""

    type: Literal["quantity"]
    of: Literal["units", "lines"] = "units"
    min: Count | None = None
    max: Count | None = None

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        value = f.quantity if self.of == "units" else len(f.lines)
        return _range(value, self.min, self.max, self.of)


class Weight(_Range):
    type: Literal["weight"]
    min: Count | None = None
    max: Count | None = None

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return _range(f.weight_g, self.min, self.max, "weight (g)")


def _lines_match(lines: tuple[LineFacts, ...], hit: Any, match: Match, what: str) -> Verdict:
    hits = [x for x in lines if hit(x)]
    if match == "any":
        ok = bool(hits)
    elif match == "all":
        ok = bool(lines) and len(hits) == len(lines)
    elif match == "only":
        ok = bool(hits) and len(hits) == len(lines)
    else:  # none
        ok = not hits
    names = sorted({x.material_code for x in hits})
    return Verdict(ok, f"{len(hits)} of {len(lines)} lines {what} ({', '.join(names) or 'none'}): {match}")


class Sku(_Cond):
    """Material or sales product codes. `all`: every listed code is on the order; `only`: the order has
    nothing else; `any`: at least one; `none`: not one."""

    type: Literal["sku"]
    codes: Codes
    match: Match = "any"

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        want = set(self.codes)
        if self.match == "all":
            have = {c for x in f.lines for c in (x.material_code, x.sales_product_code)}
            missing = sorted(want - have)
            return Verdict(
                not missing, f"missing {', '.join(missing)}" if missing else "has every listed sku"
            )
        return _lines_match(
            f.lines, lambda x: x.material_code in want or x.sales_product_code in want, self.match, "listed"
        )


class Category(_Cond):
    """A category path prefix (`food/coffee` covers `food/coffee/beans`), over the lines."""

    type: Literal["category"]
    prefixes: Codes
    match: Match = "any"

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        def hit(x: LineFacts) -> bool:
            return any(x.category == p or x.category.startswith(p.rstrip("/") + "/") for p in self.prefixes)

        return _lines_match(f.lines, hit, self.match, f"in {', '.join(self.prefixes)}")


class Tag(_Cond):
    """Product tags of the lines (or, with `on: order`, tags earlier rules of this run set on the order)."""

    type: Literal["tag"]
    tags: Codes
    match: Match = "any"
    on: Literal["lines", "order"] = "lines"

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        want = set(self.tags)
        if self.on == "order":
            has = sorted(want & f.extra_tags)
            only = bool(f.extra_tags) and f.extra_tags <= want  # every tag on the order is one of these
            ok = {"any": bool(has), "all": len(has) == len(want), "none": not has, "only": only}[self.match]
            return Verdict(ok, f"order tags {', '.join(sorted(f.extra_tags)) or 'none'}: {self.match}")
        return _lines_match(
            f.lines, lambda x: bool(x.tags & want), self.match, f"tagged {', '.join(self.tags)}"
        )


class Handling(_Cond):
    """The lines' handling class (normal, cold_chain, frozen, oversize, virtual, service)."""

    type: Literal["handling"]
    any_of: Annotated[
        list[Literal["normal", "cold_chain", "frozen", "oversize", "virtual", "service"]], Field(min_length=1)
    ]
    match: Match = "any"

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return _lines_match(f.lines, lambda x: x.handling in self.any_of, self.match, "of that handling")


class Buyer(_Cond):
    """The buyer by platform nick, or by the platform's merge key (oaid / open_address_id)."""

    type: Literal["buyer"]
    nicks: Words = []
    merge_keys: Words = []

    @model_validator(mode="after")
    def _some(self) -> Buyer:
        if not self.nicks and not self.merge_keys:
            raise ValueError("give nicks, merge_keys or both")
        return self

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        ok = (bool(f.buyer_nick) and f.buyer_nick in self.nicks) or (
            bool(f.merge_key) and f.merge_key in self.merge_keys
        )
        return Verdict(ok, "the buyer is listed" if ok else "the buyer is not listed")


class Blacklisted(_Cond):
    type: Literal["blacklisted"]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return Verdict(f.blacklisted, "the buyer is on the blacklist" if f.blacklisted else "not blacklisted")


class Message(_Cond):
    """The buyer's message or the seller's memo (or either) contains any of the words (literal text), or
    matches `pattern` (a regular expression, asked for explicitly)."""

    type: Literal["message"]
    field: Literal["buyer", "seller", "either"] = "buyer"
    contains: Words = []
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    non_empty: StrictBool = False

    @model_validator(mode="after")
    def _some(self) -> Message:
        if not self.contains and self.pattern is None and not self.non_empty:
            raise ValueError("give contains (literal words), pattern (a regular expression) or non_empty")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from None
        return self

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        texts = {"buyer": [f.buyer_message], "seller": [f.seller_memo]}.get(
            self.field, [f.buyer_message, f.seller_memo]
        )
        text = "\n".join(t for t in texts if t)
        if self.non_empty and text.strip():
            return Verdict(True, f"the {self.field} message is not empty")
        low = text.casefold()
        for w in self.contains:
            if w.casefold() in low:
                return Verdict(True, f"the {self.field} message contains “{w}”")
        if self.pattern is not None and re.search(self.pattern, text, re.IGNORECASE):
            return Verdict(True, f"the {self.field} message matches /{self.pattern}/")
        return Verdict(False, f"the {self.field} message has none of the words")


class Region(_Cond):
    """The receiver's province, city or district, by name (any listed level matches)."""

    type: Literal["region"]
    states: Words = []
    cities: Words = []
    districts: Words = []

    @model_validator(mode="after")
    def _some(self) -> Region:
        if not (self.states or self.cities or self.districts):
            raise ValueError("give states, cities or districts")
        return self

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        ok = f.state in self.states or f.city in self.cities or f.district in self.districts
        return Verdict(ok, f"region {f.state}/{f.city}/{f.district} {_in(ok)}")


class Address(_Cond):
    """`incomplete`: a level or the detail is missing; `unlocated`: it could not be placed on the map."""

    type: Literal["address"]
    problem: Literal["incomplete", "unlocated", "either"] = "either"

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        bad = {
            "incomplete": not f.address_complete,
            "unlocated": not f.address_located,
            "either": not (f.address_complete and f.address_located),
        }[self.problem]
        state = (
            "incomplete" if not f.address_complete else "unlocated" if not f.address_located else "complete"
        )
        return Verdict(bad, f"the address is {state}")


class Presale(_Cond):
    type: Literal["presale"]
    stages: Annotated[list[Literal["none", "deposit_paid", "final_paid"]], Field(min_length=1)] = [
        "deposit_paid",
        "final_paid",
    ]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        ok = f.presale_stage in self.stages
        return Verdict(ok, f"presale stage {f.presale_stage} {_in(ok)}")


class Invoice(_Cond):
    type: Literal["invoice"]
    kinds: Annotated[list[Literal["personal", "company", "vat_special"]], Field(max_length=3)] = []

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        ok = f.invoice_kind is not None and (not self.kinds or f.invoice_kind in self.kinds)
        return Verdict(ok, f"invoice {'requested: ' + f.invoice_kind if f.invoice_kind else 'not requested'}")


class OrderTime(_Cond):
    """When the order was placed: an absolute window [from, to) and/or a daily window in a time zone
    (a daily window may cross midnight: 22:00 to 06:00)."""

    type: Literal["order_time"]
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None
    daily_from: time | None = None
    daily_to: time | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] = "Asia/Shanghai"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _window(self) -> OrderTime:
        if self.from_ is None and self.to is None and self.daily_from is None:
            raise ValueError("give from, to, or daily_from and daily_to")
        if self.from_ and self.to and self.from_ >= self.to:
            raise ValueError("from must be before to")
        if (self.daily_from is None) != (self.daily_to is None):
            raise ValueError("daily_from and daily_to go together")
        try:
            ZoneInfo(self.timezone)
        except Exception:
            raise ValueError(f"unknown time zone {self.timezone}") from None
        return self

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        at: datetime = f.created_at
        if (self.from_ and at < self.from_) or (self.to and at >= self.to):
            return Verdict(False, f"placed {at.isoformat()} outside the window")
        if self.daily_from is not None and self.daily_to is not None:
            local = at.astimezone(ZoneInfo(self.timezone)).time()
            lo, hi = self.daily_from, self.daily_to
            inside = lo <= local < hi if lo <= hi else (local >= lo or local < hi)
            return Verdict(
                inside, f"placed at {local.isoformat('minutes')} {self.timezone}, window {lo}-{hi}"
            )
        return Verdict(True, f"placed {at.isoformat()} inside the window")


class HighValue(_Cond):
    type: Literal["high_value"]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return Verdict(f.high_value, "a line is high-value" if f.high_value else "no high-value line")


class FirstOrders(_Cond):
    """The buyer's first `n` orders in this shop (this one included)."""

    type: Literal["first_orders"]
    n: json_int(1, 1000)

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        ok = f.buyer_order_count < self.n
        return Verdict(ok, f"the buyer's order number {f.buyer_order_count + 1} (first {self.n}: {ok})")


class DuplicateSuspected(_Cond):
    type: Literal["duplicate_suspected"]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        if f.duplicate_of:
            return Verdict(True, f"same buyer and goods as open order {f.duplicate_of}")
        return Verdict(False, "no open order of the buyer with the same goods")


class PriceBelowFloor(_Cond):
    """A line paid less per unit than `floor_pct` % of its listing's price (a mispriced or abused coupon)."""

    type: Literal["price_below_floor"]
    floor_pct: json_int(1, 100)

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        for x in f.channel_lines:
            if x.list_price_cents and x.paid_cents * 100 < x.list_price_cents * x.qty * self.floor_pct:
                return Verdict(
                    True,
                    f"line {x.channel_line_id} paid {yuan(x.paid_cents)} for {x.qty} at list "
                    f"{yuan(x.list_price_cents)}: under {self.floor_pct} %",
                )
        return Verdict(False, f"no line under {self.floor_pct} % of its list price")


class All(_Cond):
    type: Literal["all"]
    of: Annotated[list[Condition], Field(min_length=1, max_length=100)]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        whys = []
        for c in self.of:
            v = evaluate(c, f, env)
            if not v.matched:
                return Verdict(False, v.why)
            whys.append(v.why)
        return Verdict(True, "; ".join(whys))


class AnyOf(_Cond):
    type: Literal["any"]
    of: Annotated[list[Condition], Field(min_length=1, max_length=100)]

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        whys = []
        for c in self.of:
            v = evaluate(c, f, env)
            if v.matched:
                return v
            whys.append(v.why)
        return Verdict(False, "; ".join(whys))


class Not(_Cond):
    type: Literal["not"]
    of: Condition

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        v = evaluate(self.of, f, env)
        return Verdict(not v.matched, f"not ({v.why})")


class Use(_Cond):
    """A named condition of the rule set's `definitions` (checked: it exists, and no cycle)."""

    type: Literal["use"]
    name: Code

    def check(self, f: OrderFacts, env: Env) -> Verdict:
        return evaluate(env.definitions[self.name], f, env)


Condition = Annotated[
    ChannelIs
    | ShopIs
    | BusinessModelIs
    | PaidAmount
    | Quantity
    | Weight
    | Sku
    | Category
    | Tag
    | Handling
    | Buyer
    | Blacklisted
    | Message
    | Region
    | Address
    | Presale
    | Invoice
    | OrderTime
    | HighValue
    | FirstOrders
    | DuplicateSuspected
    | PriceBelowFloor
    | All
    | AnyOf
    | Not
    | Use,
    Field(discriminator="type"),
]
for _m in (All, AnyOf, Not):
    _m.model_rebuild()


def evaluate(c: Any, f: OrderFacts, env: Env) -> Verdict:
    env.depth += 1
    try:
        if env.depth > MAX_DEPTH:
            return Verdict(False, f"conditions nested deeper than {MAX_DEPTH}")
        return c.check(f, env)
    finally:
        env.depth -= 1


def _in(ok: bool) -> str:
    return "is listed" if ok else "is not listed"
