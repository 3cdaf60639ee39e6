"""Intake on the fake unit of work locates the ship-to: its coordinates, level and adcode on the order, the
trace's first word, and the rule fact `address_located` (docs/geo.md)."""

from __future__ import annotations

from order_factories import catalog, channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts.events.channel import Address
from omni_order import service
from omni_order.domain.intake import plan_intake
from omni_order.domain.review import order_facts
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.service import rules


def _to(state: str, city: str, district: str) -> Address:
    return Address(name="王五", phone="13900000000", state=state, city=city, district=district, detail="1 号")


KASHGAR = _to("新疆维吾尔自治区", "喀什地区", "喀什市")
NOWHERE = _to("火星", "奥林帕斯市", "")
UNLOCATED = {
    "id": "unlocated",
    "name": "unlocated",
    "when": {"type": "address", "problem": "unlocated"},
    "then": [{"type": "hold", "code": "address_unlocated", "reason": "place the address by hand"}],
}


async def _uow(*rule_list: dict):
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    if rule_list:
        doc = RuleSetDoc.model_validate({"name": "main", "rules": list(rule_list)})
        await rules.save(uow, "ruleset", "rs", doc)
        strategy = {"name": "tmall", "ruleset_id": "rs", "match": {"channels": ["tmall"]}}
        await rules.save(uow, "strategy", "st", StrategyDoc.model_validate(strategy))
    return uow


def _geo_trace(uow, order_id: str) -> list[tuple]:
    rows = [d for d in uow.repo.decision_rows if d["order_id"] == order_id]
    return [(d["stage"], d["subject"], d["matched"], d["why"]) for d in rows if d["stage"] == "geo"]


async def test_an_order_to_a_city_the_old_table_did_not_know_is_located_at_its_district():
    uow = await _uow()
    (oid,) = (await service.intake(uow, [envelope(channel_order(receiver=KASHGAR))])).accepted
    o = uow.repo.orders[oid]
    assert (o["geo_level"], o["geo_adcode"]) == ("district", "653101")
    assert abs(o["lat"] - 39.47) < 0.1 and abs(o["lng"] - 75.99) < 0.1
    (accepted,) = uow.of_type("order.accepted")
    assert (accepted.data.ship_to.lat, accepted.data.ship_to.lng) == (o["lat"], o["lng"])
    why = "address located at district 喀什市 (653101)"
    assert _geo_trace(uow, oid) == [("geo", "ship-to address", True, why)]
    assert uow.repo.decision_rows[0]["stage"] == "geo"  # the first word of the trace


async def test_an_address_not_located_is_marked_said_in_the_trace_and_seen_by_the_rules():
    uow = await _uow(UNLOCATED)
    (oid,) = (await service.intake(uow, [envelope(channel_order(receiver=NOWHERE))])).accepted
    o = uow.repo.orders[oid]
    assert (o["lat"], o["lng"], o["geo_level"], o["geo_adcode"]) == (None, None, None, None)
    assert _geo_trace(uow, oid) == [
        ("geo", "ship-to address", False, "address not located: routing cannot rank by distance")
    ]
    assert (o["status"], o["status_reason_code"]) == ("held", "address_unlocated")
    # the same rule lets a located address through
    (ok,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    assert uow.repo.orders[ok]["status"] == "accepted" and uow.repo.orders[ok]["geo_level"] == "district"


def test_the_rule_fact_comes_from_the_geocoder():
    for receiver, located in ((KASHGAR, True), (NOWHERE, False)):
        d = channel_order(receiver=receiver)
        assert order_facts(d, plan_intake(d, catalog()), catalog()).address_located is located
