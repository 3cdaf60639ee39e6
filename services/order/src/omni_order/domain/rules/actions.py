"""What a matched rule does. Pure data, tagged by `type`; the engine (`ruleset.run`) collects them.

- `hold`: the order waits for an operator, with a reason code and words; `release` continues it;
- `block`: a hold only an explicit `approve` (or a cancel) ends: release refuses it;
- `require_review`: a hold with the reason code `manual_review`;
- `approve`: approve now and stop: no rule after this one can hold the order (holds found before stay);
- `add_gift`: a gift line at 0 paid (caps and stock are the gift stage's, see `gifts.py`);
- `split_by_type`: split these kinds of goods into their own orders before sourcing;
- `tag`, `priority`: set on the order (later rules see the tags with `{"type": "tag", "on": "order"}`);
- `route_hint`: a node, pool or carrier preference for sourcing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from omni_chassis.paging import json_int

from .conditions import Code, Codes

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
Units = json_int(1, 100_000)


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hold(_Action):
    type: Literal["hold"]
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    reason: Reason


class Block(_Action):
    type: Literal["block"]
    reason: Reason


class RequireReview(_Action):
    type: Literal["require_review"]
    reason: Reason


class Approve(_Action):
    type: Literal["approve"]


class GiftCaps(BaseModel):
    """At most this many gift sets per order, per buyer (over all orders) and in total (None: no cap)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    per_order: Units | None = None
    per_buyer: Units | None = None
    total: Units | None = None


class AddGift(_Action):
    """`qty` units of `material_code` per set. One set, or with `per_units` one set for every `per_units`
    units of `for_skus` (buy 2 get 1: per_units 2). Out of stock: the first substitute with stock, or skip."""

    type: Literal["add_gift"]
    gift_id: Code = Field(description="names this gift's counters (caps) across versions of the rule set")
    material_code: Code
    qty: Units = 1
    per_units: Units | None = None
    for_skus: list[Code] = Field([], max_length=200)
    substitutes: list[Code] = Field([], max_length=10)
    caps: GiftCaps = GiftCaps()

    @model_validator(mode="after")
    def _per(self) -> AddGift:
        if self.for_skus and self.per_units is None:
            raise ValueError("for_skus counts units for per_units: give per_units too")
        return self


SplitKind = Literal["presale", "virtual", "cold_chain", "oversize", "high_value"]


class SplitByType(_Action):
    type: Literal["split_by_type"]
    kinds: Annotated[list[SplitKind], Field(min_length=1)]


class TagOrder(_Action):
    type: Literal["tag"]
    tags: Codes


class Priority(_Action):
    type: Literal["priority"]
    value: json_int(-1000, 1000)


class RouteHint(_Action):
    type: Literal["route_hint"]
    node: Code | None = None
    pool: Code | None = None
    carrier: Code | None = None

    @model_validator(mode="after")
    def _some(self) -> RouteHint:
        if not (self.node or self.pool or self.carrier):
            raise ValueError("give node, pool or carrier")
        return self


Action = Annotated[
    Hold | Block | RequireReview | Approve | AddGift | SplitByType | TagOrder | Priority | RouteHint,
    Field(discriminator="type"),
]
