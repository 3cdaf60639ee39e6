"""What the rules set for sourcing travels with order.accepted: the priority, the tags and the route hints
(node, pool or carrier, with the rule set version that set them), kept on the order so that a release later
sends the same."""

from __future__ import annotations

from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_order import service
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.service import rules


async def test_priority_tags_and_route_hints_go_to_fulfillment_and_survive_a_hold():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    doc = RuleSetDoc.model_validate({"name": "route", "rules": [
        {"id": "vip", "name": "vip", "then": [
            {"type": "priority", "value": 50}, {"type": "tag", "tags": ["vip"]},
            {"type": "route_hint", "node": "WH-HZ", "carrier": "SF"},
        ]},
        {"id": "check", "name": "a word", "when": {"type": "message", "contains": ["call me"]},
         "then": [{"type": "hold", "code": "buyer_message", "reason": "the buyer asks for a call"}]},
    ]})  # fmt: skip
    await rules.save(uow, "ruleset", "route", doc)
    await rules.save(uow, "strategy", "tmall", StrategyDoc(name="tmall", ruleset_id="route"))
    oid, held = (await service.intake(uow, [
        envelope(channel_order()), envelope(channel_order(buyer_message="please call me"))
    ])).accepted  # fmt: skip
    (sent,) = uow.of_type("order.accepted")
    d = sent.data
    assert (d.order_id, d.priority, d.tags) == (oid, 50, ["vip"])
    assert [h.model_dump() for h in d.route_hints] == [
        {"node": "WH-HZ", "pool": None, "carrier": "SF", "ruleset": "route v1"}
    ]
    assert uow.repo.orders[held]["status"] == "held"
    await service.release(uow, held, "called the buyer")
    later = [e.data for e in uow.of_type("order.accepted") if e.data.order_id == held]
    assert [(x.priority, x.tags, [h.node for h in x.route_hints]) for x in later] == [
        (50, ["vip"], ["WH-HZ"])
    ]
