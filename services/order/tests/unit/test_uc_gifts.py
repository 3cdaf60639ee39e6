"""Gifts at intake, on the fake unit of work: a rule's add_gift puts a 0-paid gift line on the order (carried
by order.accepted with its gift id, the paid amount untouched), the caps count across orders and buyers,
the stock the order-stock group has seen decides a substitute or a skip, and the trace says why."""

from __future__ import annotations

from typing import Any

from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts import utcnow
from omni_contracts.events.inventory import StockChangedV4
from omni_order import service
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.service import rules

GIFT, SUB = "BEAN-YUNNAN-250G", "BEAN-COLOMBIA-250G"


def gift_rules(min_cents: int = 100_000, **gift: Any) -> RuleSetDoc:
    action = {"type": "add_gift", "gift_id": "mug-2026", "material_code": GIFT} | gift
    return RuleSetDoc.model_validate({
        "name": "gifts",
        "rules": [{"id": "big-spender", "name": "paid enough",
                   "when": {"type": "paid_amount", "min": min_cents}, "then": [action]}],
    })  # fmt: skip


async def shop_with(rs: RuleSetDoc) -> Any:
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    await rules.save(uow, "ruleset", "gifts", rs)
    await rules.save(uow, "strategy", "tmall", StrategyDoc(name="tmall", ruleset_id="gifts"))
    return uow


async def take(uow: Any, **kw: Any) -> str:
    (oid,) = (await service.intake(uow, [envelope(channel_order(**kw))])).accepted
    return oid


def accepted_lines(uow: Any, oid: str) -> list[Any]:
    (env,) = [e for e in uow.of_type("order.accepted") if e.data.order_id == oid]
    return env.data


def stock(node: str, material: str, available: int, seq: int) -> Any:
    d = StockChangedV4(
        node_code=node, material_code=material, on_hand=available, reserved=0, frozen=0, available=available,
        movement="receipt", seq=seq, changed_at=utcnow(),
    )  # fmt: skip
    return envelope(d, key=f"{node}:{material}")


async def test_a_gift_line_with_zero_paid_goes_to_fulfillment_and_is_recorded():
    uow = await shop_with(gift_rules(qty=2))
    oid = await take(uow)
    d = accepted_lines(uow, oid)
    gifts = [x for x in d.lines if x.gift_id]
    assert [(x.material_code, x.qty, x.amount_cents, x.gift_id) for x in gifts] == [(GIFT, 2, 0, "mug-2026")]
    assert sum(x.amount_cents for x in d.lines) == d.goods_paid_cents == 329_600, "paid amounts untouched"
    assert gifts[0].line_id.endswith(f"-{len(d.lines):03d}") and gifts[0].channel_line_id == "gift:mug-2026"
    (grant,) = await service.gifts_of(uow, oid)
    assert (grant["buyer_key"], grant["sets"], grant["rule"]) == (
        "tmall:buyer-1",
        1,
        "rule big-spender (gifts v1)",
    )
    steps = [(t["stage"], t["matched"], t["effect"]) for t in uow.repo.decision_rows if t["order_id"] == oid]
    assert ("gifts", True, "gift 2 × BEAN-YUNNAN-250G") in steps


async def test_the_per_buyer_cap_holds_across_orders_and_batches_and_other_buyers_still_get_it():
    uow = await shop_with(gift_rules(caps={"per_buyer": 1, "total": 2}))
    first = await take(uow)
    again = await take(uow)
    # two orders of two new buyers in one batch: the total cap (2) leaves one set for the first of them
    batch = [envelope(channel_order(buyer_id=b)) for b in ("buyer-2", "buyer-3")]
    second, third = (await service.intake(uow, batch)).accepted
    given = {
        oid: [x.gift_id for x in accepted_lines(uow, oid).lines if x.gift_id]
        for oid in (first, again, second, third)
    }
    assert given == {first: ["mug-2026"], again: [], second: ["mug-2026"], third: []}
    why = {t["order_id"]: t["why"] for t in uow.repo.decision_rows if t["stage"] == "gifts"}
    assert "per buyer: 1 of 1 given, 0 left" in why[again]
    assert "in total: 2 of 2 given, 0 left" in why[third]
    assert uow.repo.gift_counter_rows[("mug-2026", "*")] == 2


async def test_stock_seen_decides_a_substitute_and_the_newest_seq_wins():
    uow = await shop_with(gift_rules(substitutes=[SUB]))
    await service.project_stock(uow, [stock("WH-HZ", GIFT, 5, 1), stock("WH-HZ", GIFT, 0, 2),
                                      stock("WH-BJ", SUB, 3, 1)])  # fmt: skip
    await service.project_stock(uow, [stock("WH-HZ", GIFT, 9, 1)])  # older than seq 2: ignored
    oid = await take(uow)
    (g,) = [x for x in accepted_lines(uow, oid).lines if x.gift_id]
    assert g.material_code == SUB
    (why,) = [t["why"] for t in uow.repo.decision_rows if t["order_id"] == oid and t["stage"] == "gifts"]
    assert f"{GIFT}: 0 available, 1 needed" in why and f"substitute {SUB}: 3 of {SUB} available" in why


async def test_no_gift_when_the_rule_does_not_match_and_a_duplicate_delivery_grants_nothing():
    uow = await shop_with(gift_rules(min_cents=329_601))  # 1 fen more than the order paid
    small = await take(uow)
    assert not [x for x in accepted_lines(uow, small).lines if x.gift_id] and not await service.gifts_of(
        uow, small
    )
    await rules.save(uow, "ruleset", "gifts", gift_rules(min_cents=329_600))
    doc = channel_order()
    (oid,) = (await service.intake(uow, [envelope(doc)])).accepted
    again = await service.intake(uow, [envelope(doc)])
    assert (again.accepted, again.duplicates) == ([], 1)
    assert len(await service.gifts_of(uow, oid)) == 1 and uow.repo.gift_counter_rows[("mug-2026", "*")] == 1


async def test_a_dry_run_compares_the_gifts_asked_with_those_given():
    from omni_order.service import dryrun

    uow = await shop_with(gift_rules(min_cents=329_601))  # v1 gives nothing to the reference order
    before = await take(uow)
    await rules.save(uow, "ruleset", "gifts", gift_rules())  # v2 gives the mug
    after = await take(uow)
    report = await dryrun.dry_run(uow, "gifts", version=None, draft=None, last=10, since=None, until=None)
    changes = {x["order_id"]: x["changes"] for x in report["items"]}
    assert changes[before] == ["would add gift 1 × BEAN-YUNNAN-250G (mug-2026)"]
    assert changes[after] == []
    old = await dryrun.dry_run(uow, "gifts", version=1, draft=None, last=10, since=None, until=None)
    assert {x["order_id"]: x["changes"] for x in old["items"]}[after] == ["would not add gift mug-2026"]


async def test_the_dry_run_gives_gifts_under_the_caps_as_if_each_order_were_new():
    """The dry-run counts the caps as they stand (each order's own grant taken out): the buyer's first order
    would still get its gift, the second (over the per-buyer cap) would not, and says why."""
    from omni_order.service.dryrun import dry_run

    uow = await shop_with(gift_rules(caps={"per_buyer": 1}))
    first = await take(uow)
    second = await take(uow)
    assert [x.gift_id for x in accepted_lines(uow, second).lines if x.gift_id] == []  # the cap held
    items = {x["order_id"]: x for x in (await dry_run(uow, "gifts"))["items"]}
    assert items[first]["would"]["gifts"] == [f"1 × {GIFT} (mug-2026)"] and items[first]["changes"] == []
    assert items[second]["would"]["gifts"] == [] and items[second]["changes"] == []
    (why,) = items[second]["would"]["gifts_not_given"]
    assert "mug-2026" in why and "per buyer" in why
