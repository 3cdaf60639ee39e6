"""Business models and roles from the strategy (no adapter hard-codes them): the strategy's model, owner,
seller and partners go on the order and with order.accepted; an S2B2C order's distributor chain (from the
channel, up to 3 levels) gets the strategy's share per level; shares above the whole are refused."""

from __future__ import annotations

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow
from pydantic import ValidationError

from omni_contracts.events.channel import ChannelOrderReceivedV2
from omni_order import service
from omni_order.domain.rules.ruleset import StrategyDoc
from omni_order.service import rules

S2B2C = {
    "name": "distribution shop", "business_model": "S2B2C", "match": {"channels": ["tmall"]},
    "roles": {"owner": "brand-hq", "distributor_shares_bp": [1000, 300, 100],
              "partners": [{"party": "agency-7", "role": "agent", "share_bp": 50}]},
}  # fmt: skip


async def shop(doc: dict) -> object:
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    await rules.save(uow, "strategy", "tmall", StrategyDoc.model_validate(doc))
    return uow


async def test_an_s2b2c_order_carries_its_model_roles_and_distributor_shares():
    uow = await shop(S2B2C)
    d = ChannelOrderReceivedV2(**(channel_order().model_dump() | {"distributors": ["d-near", "d-mid"]}))
    (oid,) = (await service.intake(uow, [envelope(d)])).accepted
    (sent,) = uow.of_type("order.accepted")
    a = sent.data
    assert (a.business_model, a.roles.owner, a.roles.seller, a.roles.channel) == (
        "S2B2C", "brand-hq", "brand", "tmall:S1",
    )  # fmt: skip
    assert [(p.party, p.role, p.level, p.share_bp) for p in a.partners] == [
        ("d-near", "distributor", 1, 1000),
        ("d-mid", "distributor", 2, 300),  # no third level sent: its share goes to no one
        ("agency-7", "agent", 1, 50),
    ]
    o = uow.repo.orders[oid]
    assert (o["business_model"], o["role_owner"], len(o["partners"])) == ("S2B2C", "brand-hq", 3)


async def test_without_roles_in_the_strategy_the_flow_decides_and_no_partner_is_paid():
    uow = await shop({"name": "plain", "match": {"channels": ["tmall"]}})
    await service.intake(uow, [envelope(channel_order())])
    (sent,) = uow.of_type("order.accepted")
    assert (sent.data.roles.owner, sent.data.roles.seller, sent.data.partners) == ("brand", "brand", [])


def test_shares_above_the_whole_are_refused():
    too_much = {**S2B2C, "roles": {"distributor_shares_bp": [6000, 3000], "partners": [
        {"party": "x", "role": "agent", "share_bp": 1001}]}}  # fmt: skip
    with pytest.raises(ValidationError, match="10001 basis points"):
        StrategyDoc.model_validate(too_much)
    with pytest.raises(ValidationError):
        StrategyDoc.model_validate({**S2B2C, "roles": {"distributor_shares_bp": [1, 1, 1, 1]}})  # 4 levels
