"""The documents of rules as data, pure: a rule set (ordered rules and named definitions) and a strategy
(which rule set applies to which orders, and the settings of the flow around it: review, merge, backorders,
presale, roles). Validated by pydantic here for their shape; `ruleset.py` checks their references and runs
them."""

from __future__ import annotations

from typing import Annotated, Literal

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

from . import actions as A
from . import conditions as C

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Doc):
    id: C.Code
    name: Name
    when: C.Condition | None = Field(None, description="absent: the rule always matches")
    then: Annotated[list[A.Action], Field(min_length=1, max_length=50)]
    final: StrictBool = Field(False, description="stop after this rule when it matches")
    enabled: StrictBool = True


class RuleSetDoc(_Doc):
    name: Name
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    definitions: dict[C.Code, C.Condition] = Field(default_factory=dict, max_length=200)
    rules: Annotated[list[Rule], Field(max_length=500)]


class StrategyMatch(_Doc):
    """Empty lists match everything."""

    channels: list[C.Code] = Field([], max_length=100)
    shops: list[Annotated[str, StringConstraints(pattern=r"^[^\s:]+:[^\s]+$")]] = Field([], max_length=500)
    business_models: list[Literal["B2C", "O2O", "S2B2C", "B2B", "BBC"]] = []


class ReviewSettings(_Doc):
    auto_approve: StrictBool = Field(True, description="false: every order waits for an operator")


class MergeSettings(_Doc):
    """Merge (合单): an order with no other hold waits `window_s` for the same buyer's other orders to the
    same address (0: no window, nothing merges); when the window closes they merge, oldest first, up to the
    caps (an order that does not fit goes in the next merged order, or alone)."""

    enabled: StrictBool = False
    window_s: json_int(0, 86_400) = 0
    shops: list[Annotated[str, StringConstraints(pattern=r"^[^\s:]+:[^\s]+$")]] = Field(
        [], max_length=100,
        description="a shop group: these shops' orders merge with each other (a shop not listed merges with "
        "itself only)",
    )  # fmt: skip
    max_lines: json_int(1, 1000) = 50
    max_amount_cents: json_int(1, 10**12) | None = None
    max_weight_g: json_int(1, 10**9) | None = None


class BackorderSettings(_Doc):
    max_age_s: json_int(60, 90 * 86_400) = 7 * 86_400
    on_overdue: Literal["hold", "cancel"] = "hold"


class PresaleSettings(_Doc):
    hold_until_final_paid: StrictBool = True
    merge: StrictBool = Field(False, description="presale orders merge with others (by default they do not)")
    ship_from: AwareDatetime | None = Field(
        None, description="presale orders wait until then before sourcing (the campaign's ship-from date)"
    )
    balance_due_h: json_int(1, 90 * 24) | None = Field(
        None, description="a deposit-only order not paid in full this many hours after its payment is closed"
    )


class CreditSettings(_Doc):
    """B2B credit terms (账期): an order the channel took in on account (payment `on_account`) is accepted
    while the buyer's open credit (their orders on account not yet paid nor cancelled), this order
    included, stays within `limit_cents`; over it, it is held `credit_limit` (an operator releases it) or
    cancelled, per `on_over`. It is due `terms_days` after it was taken (unless the platform says when)."""

    limit_cents: json_int(0, 10**13) = Field(description="the most a buyer may owe on account, in fen")
    terms_days: json_int(1, 365) = 30
    on_over: Literal["hold", "cancel"] = "hold"


class PartnerShare(_Doc):
    party: C.Code
    role: Literal["agent", "store", "service", "distributor"]
    share_bp: json_int(0, 10_000) = Field(description="commission: basis points of the goods paid")


class RoleSettings(_Doc):
    """The roles its orders carry (None: as the flow decides: the brand owns and sells, a pickup store sells
    an O2O order, the shop a BBC one) and the partners with a commission share. S2B2C: `distributor_shares_bp`
    gives the distribution chain the channel sent (nearest first, up to 3 levels) its shares."""

    owner: C.Code | None = None
    seller: C.Code | None = None
    distributor_shares_bp: list[json_int(0, 10_000)] = Field([], max_length=3)
    partners: list[PartnerShare] = Field([], max_length=10)

    @model_validator(mode="after")
    def _shares(self) -> RoleSettings:
        total = sum(self.distributor_shares_bp) + sum(p.share_bp for p in self.partners)
        if total > 10_000:
            raise ValueError(
                f"the commission shares add up to {total} basis points, more than the whole (10000)"
            )
        return self


class StrategyDoc(_Doc):
    name: Name
    priority: json_int(-1000, 1000) = 0
    enabled: StrictBool = True
    match: StrategyMatch = StrategyMatch()
    ruleset_id: C.Code | None = Field(
        None, description="the rule set this strategy applies (its current version)"
    )
    business_model: Literal["B2C", "O2O", "S2B2C", "B2B", "BBC"] | None = Field(
        None, description="the business model its orders carry (None: as the channel sent it)"
    )
    review: ReviewSettings = ReviewSettings()
    merge: MergeSettings = MergeSettings()
    backorder: BackorderSettings | None = Field(
        None, description="how long its backorders wait, then hold or cancel (None: the service's default)"
    )
    presale: PresaleSettings = PresaleSettings()
    roles: RoleSettings = RoleSettings()
    credit: CreditSettings | None = Field(
        None, description="B2B credit terms for its orders on account (None: no order is taken on account)"
    )

    @model_validator(mode="after")
    def _credit_is_b2b(self) -> StrategyDoc:
        b2b = self.business_model == "B2B" or (
            self.business_model is None and self.match.business_models == ["B2B"]
        )
        if self.credit is not None and not b2b:
            raise ValueError(
                "credit terms apply to B2B orders only: set business_model to B2B (or match only "
                "business_models [B2B]) to give this strategy credit terms"
            )
        return self
