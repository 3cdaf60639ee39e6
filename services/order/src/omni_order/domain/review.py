"""Review (审单): from a channel order understood by intake to its facts, its strategy and the holds that
apply, with the trace of every decision. Pure: the service loads strategies, rule sets and the buyer's
history, and writes what this answers.

Holds come from three places, all in the trace:
- the rule set's `hold`, `block` and `require_review` actions;
- the strategy: `review.auto_approve: false` holds every order not approved by a rule (`manual_review`);
- the flow itself: a presale order with only its deposit paid waits for the balance (`presale_balance`),
  whatever the rules say (the strategy's `presale.hold_until_final_paid: false` lets it through).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from omni_contracts.events.channel import ChannelOrderReceivedV1

from .credit import CREDIT_LIMIT, ON_ACCOUNT
from .geo import locate
from .intake import Catalog, IntakePlan
from .rules.facts import ChannelLineFacts, LineFacts, OrderFacts
from .rules.ruleset import (
    HoldReason,
    Outcome,
    RuleSetDoc,
    StrategyVersion,
    TraceEntry,
    choose_strategy,
    run,
)

PRESALE_BALANCE = "presale_balance"
PRESALE_SHIP_FROM = "presale_ship_from"
MANUAL_REVIEW = "manual_review"
MERGE_WINDOW = "merge_window"


@dataclass(frozen=True)
class BuyerHistory:
    """What the service found about the buyer: earlier orders in the shop, an open twin, the blacklist."""

    order_count: int = 0
    duplicate_of: str | None = None
    blacklisted: bool = False


def buyer_key(d: ChannelOrderReceivedV1) -> tuple[str, str, str]:
    return (d.channel, d.shop_id, d.buyer_id)


def merge_key(d: ChannelOrderReceivedV1) -> str:
    pr = getattr(d, "protected_receiver", None)
    return pr.merge_key if pr is not None else ""


def goods_of(plan: IntakePlan) -> list[str]:
    """The order's goods as sorted `material×qty` strings (how the store aggregates an open order's)."""
    return sorted(f"{x.material_code}×{x.qty}" for x in plan.lines)


def order_facts(
    d: ChannelOrderReceivedV1, plan: IntakePlan, catalog: Catalog, history: BuyerHistory = BuyerHistory()
) -> OrderFacts:
    lines = []
    for pl in plan.lines:
        m = catalog.materials.get(pl.material_code)
        lines.append(
            LineFacts(
                material_code=pl.material_code,
                sales_product_code=pl.sales_product_code,
                qty=pl.qty,
                amount_cents=pl.amount_cents,
                category=getattr(m, "category", ""),
                tags=frozenset(getattr(m, "tags", ())),
                handling=getattr(m, "handling", "normal"),
                weight_g=getattr(m, "weight_g", 0),
                high_value=getattr(m, "high_value", False),
            )
        )
    prices = {}
    for n, line in enumerate(d.lines):
        listing = catalog.find_listing(d.channel, d.shop_id, line)
        prices[n] = listing.price_cents if listing else 0
    r = d.receiver
    complete = all(x.strip() for x in (r.state, r.city, r.detail)) and bool(r.name.strip())
    return OrderFacts(
        channel=d.channel,
        shop_id=d.shop_id,
        business_model=d.business_model,
        delivery=d.delivery,
        paid_cents=d.paid_cents,
        goods_paid_cents=plan.goods_paid_cents,
        lines=tuple(lines),
        created_at=d.created_at,
        channel_lines=tuple(
            ChannelLineFacts(x.channel_line_id, x.qty, x.paid_cents, prices[n]) for n, x in enumerate(d.lines)
        ),
        paid_at=d.paid_at,
        buyer_nick=d.buyer_id,
        merge_key=merge_key(d),
        blacklisted=history.blacklisted,
        buyer_message=d.buyer_message,
        seller_memo=getattr(d, "seller_memo", ""),
        state=r.state,
        city=r.city,
        district=r.district,
        address_complete=complete,
        address_located=locate(r.state, r.city, r.district) is not None,
        presale_stage=getattr(d, "presale_stage", "none"),
        invoice_kind=d.invoice.kind if d.invoice else None,
        duplicate_of=history.duplicate_of,
        buyer_order_count=history.order_count,
        payment=getattr(d, "payment", "paid"),
    )


@dataclass
class Review:
    strategy: StrategyVersion | None
    outcome: Outcome
    holds: list[HoldReason] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)
    ruleset_label: str = ""
    ship_from: datetime | None = None  # held presale_ship_from until then (a timer ends it)
    balance_due: datetime | None = None  # held presale_balance: closed when still unpaid then (a timer)
    cancel: str | None = None  # cancelled at intake, and why (credit terms: over the limit, on_over cancel)

    @property
    def held(self) -> bool:
        return bool(self.holds)

    @property
    def strategy_label(self) -> str | None:
        return f"{self.strategy.strategy_id} v{self.strategy.version}" if self.strategy else None

    @property
    def reason(self) -> str:
        return "; ".join(h.reason for h in self.holds)


def review(
    facts: OrderFacts,
    strategies: Iterable[StrategyVersion],
    rulesets: Mapping[str, tuple[int, RuleSetDoc]],
) -> Review:
    """Choose the strategy, run its rule set, add the flow's own holds; every step in the trace."""
    chosen, trace = choose_strategy(list(strategies), facts)
    outcome = Outcome()
    label = ""
    if chosen is None:
        trace.append(
            TraceEntry("strategy", "no strategy", True, "no strategy matches: approve automatically")
        )
    elif chosen.doc.ruleset_id is None:
        trace.append(TraceEntry("review", "no rule set", True, f"strategy {chosen.strategy_id} names none"))
    elif chosen.doc.ruleset_id not in rulesets:  # deleted after the strategy was saved: say so, do not guess
        trace.append(
            TraceEntry("review", f"rule set {chosen.doc.ruleset_id}", False, "the rule set no longer exists")
        )
    else:
        version, doc = rulesets[chosen.doc.ruleset_id]
        label = f"{chosen.doc.ruleset_id} v{version}"
        outcome = run(doc, facts, ruleset_label=label)
        trace += outcome.trace
    holds = list(outcome.holds)
    if chosen is not None and not chosen.doc.review.auto_approve and outcome.approved_by is None:
        reason = f"strategy {chosen.strategy_id} approves no order automatically"
        holds.append(HoldReason(MANUAL_REVIEW, reason, ""))
        trace.append(TraceEntry("review", f"strategy {chosen.strategy_id}", True, reason, "manual review"))
    hold_presale = chosen.doc.presale.hold_until_final_paid if chosen else True
    if facts.presale_stage == "deposit_paid" and hold_presale:
        reason = "presale: the deposit is paid, the balance is not yet"
        holds.append(HoldReason(PRESALE_BALANCE, reason, ""))
        trace.append(TraceEntry("review", "presale", True, reason, "hold until the final payment"))
    presale = chosen.doc.presale if chosen else None
    balance_due = None
    if facts.presale_stage == "deposit_paid" and hold_presale and presale and presale.balance_due_h:
        balance_due = (facts.paid_at or facts.created_at) + timedelta(hours=presale.balance_due_h)
        trace.append(TraceEntry("review", "presale", True, f"the balance is due by {_utc(balance_due)}",
                                "closed if still unpaid then"))  # fmt: skip
    ship_from = presale.ship_from if presale else None
    if facts.presale_stage != "none" and ship_from is not None and ship_from > facts.created_at:
        reason = f"presale: ships from {_utc(ship_from)}"
        holds.append(HoldReason(PRESALE_SHIP_FROM, reason, ""))
        trace.append(TraceEntry("review", "presale", True, reason, "hold until the ship-from date"))
    else:
        ship_from = None
    if facts.payment == ON_ACCOUNT and (chosen is None or chosen.doc.credit is None):
        who = "no strategy matches" if chosen is None else f"strategy {chosen.strategy_id} gives none"
        reason = f"taken on account, but no credit terms apply ({who}): not accepted as if paid"
        holds.append(HoldReason(CREDIT_LIMIT, reason, ""))
        trace.append(TraceEntry("credit", "credit terms", False, reason, "held for an operator"))
    if chosen is not None and chosen.doc.merge.enabled:
        _merge_window(chosen, facts, holds, trace)
    if holds:
        verdict = f"held: {', '.join(dict.fromkeys(h.code for h in holds))}"
    elif outcome.approved_by:
        verdict = f"approved by rule {outcome.approved_by}"
    else:
        verdict = "no hold applies: approved automatically"
    trace.append(TraceEntry("review", "outcome", not holds, verdict))
    return Review(chosen, outcome, holds, trace, label, ship_from, balance_due)


def _merge_window(
    chosen: StrategyVersion, facts: OrderFacts, holds: list[HoldReason], trace: list[TraceEntry]
) -> None:
    """Hold the order `merge_window` (the service groups it and sets the window's timer), or say why not.
    Other holds coexist with the window (ONEX §13 #1: its real-time review could not merge): a merged order
    inherits its sources' holds. A presale order waiting for its balance or its date does not merge."""
    merge, subject = chosen.doc.merge, f"strategy {chosen.strategy_id}"
    presale_ok = facts.presale_stage == "none" or chosen.doc.presale.merge
    presale_hold = next((h.code for h in holds if h.code in (PRESALE_BALANCE, PRESALE_SHIP_FROM)), None)
    why_not = (
        "the merge window is 0 s" if merge.window_s == 0
        else "an order on account (credit terms count it alone)" if facts.payment == ON_ACCOUNT
        else "a presale order (presale.merge is false)" if not presale_ok
        else f"a presale order still waiting ({presale_hold})" if presale_hold
        else "the buyer has no nick and no platform merge key" if not (facts.merge_key or facts.buyer_nick)
        else ""
    )  # fmt: skip
    if why_not:
        trace.append(TraceEntry("merge", subject, False, f"not merged: {why_not}"))
        return
    reason = f"waiting {merge.window_s} s for the buyer's other orders to merge"
    holds.append(HoldReason(MERGE_WINDOW, reason, ""))
    trace.append(TraceEntry("merge", subject, True, reason, "merge window"))


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def trace_rows(order_id: str, entries: Iterable[TraceEntry], at: Any) -> list[dict[str, Any]]:
    return [
        {"order_id": order_id, "stage": e.stage, "subject": e.subject, "matched": e.matched, "why": e.why,
         "effect": e.effect, "at": at}
        for e in entries
    ]  # fmt: skip


def hold_rows(order_id: str, holds: Iterable[HoldReason], label: str, at: Any) -> list[dict[str, Any]]:
    return [
        {"order_id": order_id, "code": h.code, "reason": h.reason,
         "rule": f"rule {h.rule_id} ({label})" if h.rule_id else None, "blocking": h.blocking, "held_at": at}
        for h in holds
    ]  # fmt: skip
