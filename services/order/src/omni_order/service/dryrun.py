"""Dry-run (`POST /rulesets/{id}/dry-run`): a rule set version, or an unsaved draft, over the newest N orders
or a time range, against what happened to them. Read-only: it opens a unit of work, reads, and writes
nothing (no row, no event, no trace).

Each order is understood again from what was stored (its channel lines against today's catalog, as a retry
does); an order that cannot be understood today is reported as such, not guessed. The buyer's history is
today's: the blacklist as it is now, and the buyer's order count without this order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.gifts import GiftCounts, GiftPlan, plan_gifts
from ..domain.intake import IntakePlan, plan_intake
from ..domain.review import BuyerHistory, buyer_key, merge_key, order_facts
from ..domain.rules.ruleset import RuleSetDoc, run
from .gifts import EVERYONE
from .gifts import buyer_key as buyer_key_of
from .journal import OrderUow
from .records import trade_from_rows
from .rules import DocNotFound


async def dry_run(
    uow: OrderUow,
    ruleset_id: str,
    *,
    version: int | None = None,
    draft: RuleSetDoc | None = None,
    last: int = 100,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    async with uow:
        repo = uow.repo
        if draft is not None:
            doc, label = draft, f"{ruleset_id} (draft)"
        else:
            if version is None:
                rows = await repo.current_docs("ruleset", [ruleset_id])
                row = rows[0] if rows else None
            else:
                row = await repo.doc_version("ruleset", ruleset_id, version)
            if row is None:
                raise DocNotFound(f"no rule set {ruleset_id}" + (f" version {version}" if version else ""))
            doc, label = RuleSetDoc.model_validate(row["doc"]), f"{ruleset_id} v{row['version']}"
        orders = await repo.recent_orders(last, since, until)
        results = [await _one(uow, o, doc, label) for o in orders]
    changed = [r for r in results if r["changes"]]
    return {
        "ruleset": label,
        "orders": len(results),
        "changed": len(changed),
        "would_hold": sum(1 for r in results if r["would"] and r["would"]["holds"]),
        "would_gift": sum(1 for r in results if r["would"] and r["would"]["gifts"]),
        "items": results,
    }


async def _one(uow: OrderUow, o: dict[str, Any], doc: RuleSetDoc, label: str) -> dict[str, Any]:
    repo = uow.repo
    order_id = o["order_id"]
    holds = await repo.holds(order_id)
    actual = {
        "status": o["status"],
        "strategy": o.get("strategy"),
        "holds": sorted({h["code"] for h in holds if h["rule"]}),  # what rules held (not the flow)
        "tags": list(o.get("tags") or []),
        "gifts": sorted({g["gift_id"] for g in await repo.gift_grants_of(order_id)}),
        "split": list(o.get("split_kinds") or []),  # the kinds its rules asked to ship apart (order0013)
    }
    base = {"order_id": order_id, "channel": o["channel"], "channel_order_id": o["channel_order_id"],
            "created_at": o["created_at"], "actual": actual}  # fmt: skip
    received = await repo.channel_lines(order_id)
    if not received:  # never reviewed as it is: made by Omni from other orders
        what = "a merged order (its sources were reviewed)" if o.get("kind") == "merged" else (
            "an order Omni made (a reship or an exchange's new order)")  # fmt: skip
        return base | {"would": None, "changes": [], "note": f"not a platform order as received: {what}"}
    trade = trade_from_rows(o, received)
    catalog = await repo.load_catalog(
        {(trade.channel, trade.shop_id)},
        {x.channel_item_id for x in trade.lines},
        {c for x in trade.lines for c in (x.outer_sku_id, x.outer_iid) if c},
    )
    plan = plan_intake(trade, catalog)
    if not plan.accepted:
        return base | {"would": None, "changes": [], "note": f"not understood today: {plan.reason}"}
    counts, _ = await repo.buyer_orders({buyer_key(trade)}, o["created_at"])
    black = await repo.blacklisted({k for k in (trade.buyer_id, merge_key(trade), o.get("merge_key")) if k})
    history = BuyerHistory(order_count=max(counts.get(buyer_key(trade), 0) - 1, 0), blacklisted=bool(black))
    outcome = run(doc, order_facts(trade, plan, catalog, history), ruleset_label=label)
    gifts = await _gifts(uow, order_id, buyer_key_of(trade.channel, trade.buyer_id), outcome, plan)
    would = {
        "holds": sorted({h.code for h in outcome.holds}),
        "approved_by": outcome.approved_by,
        "gifts": [f"{g.qty} × {g.material_code} ({g.gift_id})" for g in gifts.lines],
        "gifts_not_given": [f"{t.subject}: {t.why}" for t in gifts.trace if not t.matched],
        "split": outcome.split_kinds,
        "tags": outcome.tags,
        "route_hints": [h.model_dump(exclude_none=True, exclude={"type"}) for h in outcome.route_hints],
        "matched_rules": [e.subject for e in outcome.trace if e.matched],
    }
    changes = [f"would hold {c}" for c in would["holds"] if c not in actual["holds"]]
    changes += [f"would not hold {c}" for c in actual["holds"] if c not in would["holds"]]
    given = {g.gift_id: w for g, w in zip(gifts.lines, would["gifts"], strict=True)}
    changes += [f"would add gift {g}" for gid, g in given.items() if gid not in actual["gifts"]]
    changes += [f"would not add gift {gid}" for gid in actual["gifts"] if gid not in given]
    changes += [f"would split {k}" for k in would["split"] if k not in actual["split"]]
    changes += [f"would not split {k}" for k in actual["split"] if k not in would["split"]]
    changes += [f"would tag {t}" for t in would["tags"] if t not in actual["tags"]]
    changes += [f"would route {h}" for h in would["route_hints"]]
    return base | {"would": would, "changes": changes, "note": None}


async def _gifts(uow: OrderUow, order_id: str, buyer: str, outcome: Any, plan: IntakePlan) -> GiftPlan:
    """The gifts the rule set would give this order under its caps and today's stock, as if the order were
    new: its own grants are taken out of the counts (a gift it got does not count against itself)."""
    if not outcome.gifts:
        return GiftPlan()
    repo = uow.repo
    ids = {g.gift_id for _, g in outcome.gifts}
    counts = await repo.gift_counts({(g, s) for g in ids for s in (buyer, EVERYONE)})
    own = {r["gift_id"]: r["sets"] for r in await repo.gift_grants_of(order_id)}
    materials = {c for _, g in outcome.gifts for c in (g.material_code, *g.substitutes)}
    seen = await repo.stock_available(materials)
    return plan_gifts(
        outcome.gifts, plan.lines,
        GiftCounts(buyer={g: counts.get((g, buyer), 0) - own.get(g, 0) for g in ids},
                   total={g: counts.get((g, EVERYONE), 0) - own.get(g, 0) for g in ids}),
        {m: seen.get(m) for m in materials},
    )  # fmt: skip
