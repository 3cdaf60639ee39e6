"""Conditions on the order's facts beyond its goods: the buyer and the blacklist, the messages (literal
words or an explicit pattern), the address, presale, invoice, the order time, and the risk checks (high
value, the buyer's first orders, a suspected duplicate, a price below its floor)."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from omni_chassis.paging import json_int

from ..intake import yuan
from .conditions_base import Env, Verdict, Words, _Cond, _in
from .facts import OrderFacts


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
