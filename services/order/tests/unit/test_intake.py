"""Intake planning: listing lookup, decomposition to the cent, and reasons an operator can act on."""

from __future__ import annotations

import random

import pytest
from order_factories import COFFEE_SET, beans_line, catalog, channel_order, coffee_line

from omni_contracts.bundles import decompose
from omni_contracts.events.channel import InvoiceRequest
from omni_order.domain.intake import (
    AMOUNTS_MISMATCH,
    DUPLICATE_LINE,
    INACTIVE_MATERIAL,
    INACTIVE_PRODUCT,
    PICKUP_NODE_MISSING,
    UNKNOWN_LISTING,
    UNKNOWN_MATERIAL,
    UNKNOWN_PRODUCT,
    Listing,
    Material,
    SalesProduct,
    plan_intake,
    roles_for,
    yuan,
)


def test_reference_order_decomposes_into_material_lines_that_add_up():
    plan = plan_intake(channel_order(), catalog())
    assert plan.accepted and plan.problems == [] and plan.reason_code is None
    got = [(pl.position, pl.channel_line_id, pl.sales_product_code, pl.material_code, pl.qty, pl.amount_cents)
           for pl in plan.lines]  # fmt: skip
    # 300,775 split 1:1:1:12 (largest remainder): 20,051.67 per bag, 240,620 for the machine.
    assert got == [
        (1, "oid-1", "SET-COFFEE-PRO", "BEAN-YUNNAN-250G", 1, 20_052),
        (2, "oid-1", "SET-COFFEE-PRO", "BEAN-ETHIOPIA-250G", 1, 20_052),
        (3, "oid-1", "SET-COFFEE-PRO", "BEAN-COLOMBIA-250G", 1, 20_051),
        (4, "oid-1", "SET-COFFEE-PRO", "MACHINE-AUTO-01", 1, 240_620),
        (5, "oid-2", "BEAN-ETH-500", "BEAN-ETH-500", 3, 28_825),
    ]
    assert plan.goods_paid_cents == 329_600 == sum(pl.amount_cents for pl in plan.lines)
    assert [(m.listing_id, m.sales_product_code) for m in plan.matches] == [
        ("L-COFFEE", "SET-COFFEE-PRO"),
        ("L-BEANS", "BEAN-ETH-500"),
    ]


def test_the_seed_coffee_set_maps_exactly_as_the_contract_reference():
    """Two sets paid 5,999.99: the material lines are what omni_contracts.bundles.decompose says."""
    order = channel_order(
        lines=[coffee_line(1, qty=2, unit_price_cents=309_900, paid_cents=599_999, discount_cents=19_801)],
        goods_cents=619_800, discount_cents=19_801, paid_cents=599_999,
    )  # fmt: skip
    plan = plan_intake(order, catalog())
    assert plan.accepted
    assert [(pl.material_code, pl.qty, pl.amount_cents) for pl in plan.lines] == [
        ("BEAN-YUNNAN-250G", 2, 40_000),
        ("BEAN-ETHIOPIA-250G", 2, 40_000),
        ("BEAN-COLOMBIA-250G", 2, 40_000),
        ("MACHINE-AUTO-01", 2, 479_999),
    ]
    reference = decompose(COFFEE_SET, 2, 599_999)
    assert [(x.material_code, x.qty, x.amount_cents) for x in reference] == [
        (pl.material_code, pl.qty, pl.amount_cents) for pl in plan.lines
    ]


def test_amounts_always_add_up_to_goods_paid():
    rnd = random.Random(11)
    for _ in range(300):
        a, b = rnd.randint(0, 1_000_000), rnd.randint(0, 100_000)
        fee = rnd.randint(0, 2_000)
        order = channel_order(
            lines=[coffee_line(1, qty=rnd.randint(1, 5), paid_cents=a), beans_line(2, paid_cents=b)],
            post_fee_cents=fee, paid_cents=a + b + fee,
        )  # fmt: skip
        plan = plan_intake(order, catalog())
        assert plan.accepted
        assert sum(pl.amount_cents for pl in plan.lines) == a + b == plan.goods_paid_cents


def test_lookup_falls_back_to_the_merchant_code():
    # the sku id is unknown but the outer_sku_id names the listing's outer id
    order = channel_order(lines=[coffee_line(1, channel_sku_id="9999"), beans_line(2)], paid_cents=329_600)
    plan = plan_intake(order, catalog())
    assert plan.accepted and plan.matches[0].listing_id == "L-COFFEE"
    # a line with only outer_iid (no sku) finds the listing by it
    order = channel_order(lines=[coffee_line(1), beans_line(2, channel_item_id="other-item")])
    assert plan_intake(order, catalog()).matches[1].listing_id == "L-BEANS"


def test_lookup_is_per_channel_and_shop():
    plan = plan_intake(channel_order(shop_id="S2"), catalog())
    assert [p.code for p in plan.problems] == [UNKNOWN_LISTING, UNKNOWN_LISTING]
    plan = plan_intake(channel_order(channel="jd"), catalog())
    assert plan.reason_code == UNKNOWN_LISTING


def test_an_on_sale_listing_wins_over_an_off_sale_one():
    listings = [
        Listing("L-OLD", "tmall", "S1", "6012345", "4456", "X", "BEAN-ETH-500", status="off_sale"),
        Listing("L-NEW", "tmall", "S1", "6012345", "4456", "X", "SET-COFFEE-PRO", status="on_sale"),
        Listing("L-BEANS", "tmall", "S1", "6019999", None, "BEAN-ETH-500", "BEAN-ETH-500"),
    ]
    plan = plan_intake(channel_order(), catalog(listings=listings))
    assert plan.matches[0].listing_id == "L-NEW"


def test_unknown_listing_gives_a_reason_an_operator_can_act_on():
    order = channel_order(
        lines=[coffee_line(1, channel_item_id="6012345", channel_sku_id="4456"), beans_line(2)]
    )
    plan = plan_intake(order, catalog(listings=[]))
    assert not plan.accepted and plan.lines == []
    assert plan.reason_code == UNKNOWN_LISTING
    assert plan.problems[0].message == (
        "line 1: no tmall listing for item 6012345 sku 4456 (outer_sku_id SET-COFFEE-PRO) in shop S1"
    )
    assert plan.problems[1].message == (
        "line 2: no tmall listing for item 6019999 (no sku) (outer_iid BEAN-ETH-500) in shop S1"
    )
    assert plan.reason == "; ".join(p.message for p in plan.problems)
    assert plan.matches[0].listing_id is None


def test_unknown_and_inactive_product():
    plan = plan_intake(
        channel_order(), catalog(products=[SalesProduct("BEAN-ETH-500", "b", True, COFFEE_SET[:1])])
    )
    assert plan.reason_code == UNKNOWN_PRODUCT
    assert plan.reason == (
        "line 1: listing L-COFFEE maps to sales product SET-COFFEE-PRO, which is not in the catalog"
    )
    products = [
        SalesProduct("SET-COFFEE-PRO", "Coffee set", False, COFFEE_SET),
        SalesProduct("BEAN-ETH-500", "b", True, (COFFEE_SET[0],)),
    ]
    plan = plan_intake(channel_order(), catalog(products=products))
    assert plan.reason_code == INACTIVE_PRODUCT
    assert plan.reason == "line 1: sales product SET-COFFEE-PRO is inactive"


def test_missing_and_inactive_materials_are_all_named():
    materials = [
        Material("BEAN-YUNNAN-250G", True),
        Material("BEAN-ETHIOPIA-250G", False),
        Material("MACHINE-AUTO-01", True),
        Material("BEAN-ETH-500", True),
    ]
    plan = plan_intake(channel_order(), catalog(materials=materials))
    assert [p.code for p in plan.problems] == [INACTIVE_MATERIAL, UNKNOWN_MATERIAL]
    assert (
        plan.problems[0].message
        == "line 1: material BEAN-ETHIOPIA-250G of sales product SET-COFFEE-PRO is inactive"
    )
    assert plan.problems[1].message == (
        "line 1: sales product SET-COFFEE-PRO needs material BEAN-COLOMBIA-250G, which is not in the catalog"
    )


def test_amounts_that_do_not_add_up_are_an_exception():
    plan = plan_intake(channel_order(paid_cents=329_700), catalog())
    assert plan.reason_code == AMOUNTS_MISMATCH and plan.lines == []
    assert plan.reason == (
        "the lines' paid amounts add up to 3296.00 CNY but paid 3297.00 minus freight 0.00 is 3297.00"
    )
    plan = plan_intake(channel_order(post_fee_cents=1_000, paid_cents=329_600), catalog())
    assert plan.reason_code == AMOUNTS_MISMATCH and "minus freight 10.00 is 3286.00" in plan.reason
    plan = plan_intake(channel_order(post_fee_cents=500_000), catalog())
    assert plan.reason == "freight 5000.00 is more than the 3296.00 paid"
    # freight included and the lines add up: fine
    assert plan_intake(channel_order(post_fee_cents=1_000, paid_cents=330_600), catalog()).accepted


def test_duplicate_line_ids_and_missing_pickup_store():
    plan = plan_intake(channel_order(lines=[coffee_line(1), beans_line(1)]), catalog())
    assert [p.code for p in plan.problems] == [DUPLICATE_LINE]
    assert plan.reason == "line 2: channel line id oid-1 repeats line 1"
    plan = plan_intake(channel_order(delivery="store_pickup", business_model="O2O"), catalog())
    assert plan.reason_code == PICKUP_NODE_MISSING


def test_every_problem_is_reported_at_once():
    order = channel_order(lines=[coffee_line(1, channel_item_id="x", outer_sku_id=None), beans_line(2)],
                          paid_cents=1)  # fmt: skip
    plan = plan_intake(order, catalog())
    assert [p.code for p in plan.problems] == [UNKNOWN_LISTING, AMOUNTS_MISMATCH]
    assert plan.reason.startswith(
        "line 1: no tmall listing for item x sku 4456 (no merchant code) in shop S1; "
    )


@pytest.mark.parametrize(
    ("kw", "seller", "fulfiller", "platform"),
    [
        ({}, "brand", None, "tmall"),
        ({"channel": "youzan"}, "brand", None, None),
        ({"business_model": "O2O", "delivery": "store_pickup", "pickup_node": "STORE-HZ-1"},
         "store:STORE-HZ-1", "node:STORE-HZ-1", "tmall"),
        ({"business_model": "BBC"}, "shop:S1", None, "tmall"),
    ],
)  # fmt: skip
def test_roles(kw, seller, fulfiller, platform):
    roles = roles_for(channel_order(**kw))
    assert roles.owner == "brand"
    assert (roles.seller, roles.fulfiller, roles.platform) == (seller, fulfiller, platform)
    assert roles.channel == f"{kw.get('channel', 'tmall')}:S1"


def test_yuan():
    assert [yuan(c) for c in (0, 5, 100, 329_600, -101)] == ["0.00", "0.05", "1.00", "3296.00", "-1.01"]


def test_invoice_is_carried_as_given():
    order = channel_order(
        invoice=InvoiceRequest(kind="electronic_special", title="杭州某公司", tax_id="9133")
    )
    assert plan_intake(order, catalog()).accepted
