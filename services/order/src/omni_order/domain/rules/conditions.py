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

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StringConstraints,
)

from ..intake import yuan
from .conditions_base import (  # noqa: F401  (re-exported: the vocabulary's one import path)
    MAX_DEPTH,
    MODELS,
    Cents,
    Code,
    Codes,
    Count,
    Env,
    Match,
    Verdict,
    Words,
    _Cond,
    _in,
    _Range,
    _range,
)
from .conditions_order import (
    Address,
    Blacklisted,
    Buyer,
    DuplicateSuspected,
    FirstOrders,
    HighValue,
    Invoice,
    Message,
    OrderTime,
    Presale,
    PriceBelowFloor,
    Region,
)
from .facts import LineFacts, OrderFacts


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
