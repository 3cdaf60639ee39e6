"""Domain rules of product master data: bundles, the version rule, and the events. Pure and fast."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from omni_contracts import decode, make_envelope
from omni_contracts.bundles import MaterialLine
from omni_product.domain import events
from omni_product.domain.model import (
    ChannelListing,
    Component,
    Conflict,
    Invalid,
    Material,
    SalesProduct,
    check_channel_key_free,
    check_listing,
    check_material,
    check_material_code_free,
    check_sales_product,
    decompose,
    revise,
)

BEANS = Material(code="M-BEANS", name="Coffee beans 250g", unit="bag", weight_g=250, barcode="6900000000011")
MACHINE = Material(code="M-MACHINE", name="Coffee machine", unit="pcs", weight_g=4200, high_value=True)


def bundle(*components: Component, code: str = "B-SET") -> SalesProduct:
    return SalesProduct(code=code, name="Coffee set", kind="bundle", components=tuple(components))


def single(code: str, material: str, qty: int = 1) -> SalesProduct:
    return SalesProduct(code=code, name="x", kind="single", components=(Component(material, qty, 1),))


SET = bundle(Component("M-BEANS", 3, 1), Component("M-MACHINE", 1, 9))
KNOWN = {"M-BEANS", "M-MACHINE"}


# --- sales product rules -------------------------------------------------------------------------


def test_a_valid_bundle_and_a_valid_single_pass():
    check_sales_product(SET, KNOWN)
    check_sales_product(single("S-BEANS", "M-BEANS"), KNOWN)


def test_an_unknown_material_is_named():
    with pytest.raises(Invalid, match="unknown material: M-GHOST"):
        check_sales_product(bundle(Component("M-BEANS", 1, 1), Component("M-GHOST", 1, 1)), KNOWN)


def test_several_unknown_materials_are_all_named_in_order():
    with pytest.raises(Invalid, match="unknown materials: M-X, M-Y"):
        check_sales_product(bundle(Component("M-X", 1, 1), Component("M-Y", 1, 1)), KNOWN)


def test_a_bundle_that_contains_itself_is_refused_and_named():
    sp = bundle(Component("M-BEANS", 1, 1), Component("B-SET", 1, 1))
    with pytest.raises(Invalid) as err:
        check_sales_product(sp, KNOWN)
    assert "bundle B-SET contains itself" in str(err.value)
    assert "unknown" not in str(err.value), (
        "the self-reference is reported as such, not as an unknown material"
    )


def test_a_bundle_that_contains_itself_even_when_its_code_is_a_material():
    sp = bundle(Component("M-BEANS", 2, 1), code="M-BEANS")
    with pytest.raises(Invalid, match="bundle M-BEANS contains itself"):
        check_sales_product(sp, KNOWN)


def test_a_single_may_share_the_code_of_its_material():
    check_sales_product(single("M-BEANS", "M-BEANS"), KNOWN)


def test_a_sales_product_may_not_take_another_materials_code():
    with pytest.raises(Conflict, match="M-MACHINE is a material's code"):
        check_sales_product(single("M-MACHINE", "M-BEANS"), KNOWN)


def test_an_empty_bundle_is_refused():
    with pytest.raises(Invalid, match="a bundle needs at least one component"):
        check_sales_product(bundle(), KNOWN)


def test_duplicate_component_materials_are_named():
    sp = bundle(Component("M-BEANS", 1, 1), Component("M-MACHINE", 1, 1), Component("M-BEANS", 2, 1))
    with pytest.raises(Invalid, match="duplicate component materials: M-BEANS"):
        check_sales_product(sp, KNOWN)


@pytest.mark.parametrize(
    ("sp", "message"),
    [
        (single("S-1", "M-BEANS", qty=2), "a single's component has qty 1, got 2"),
        (
            SalesProduct("S-2", "x", "single", (Component("M-BEANS", 1, 1), Component("M-MACHINE", 1, 1))),
            "a single has exactly one component, got 2",
        ),
        (bundle(Component("M-BEANS", 0, 1)), "component M-BEANS: qty must be positive, got 0"),
        (bundle(Component("M-BEANS", 1, 0)), "component M-BEANS: price_weight must be positive, got 0"),
    ],
)
def test_component_rules(sp, message):
    with pytest.raises(Invalid, match=message):
        check_sales_product(sp, KNOWN)


def test_every_problem_is_reported_at_once():
    sp = bundle(Component("M-GHOST", 0, 1), Component("B-SET", 1, 1))
    with pytest.raises(Invalid) as err:
        check_sales_product(sp, KNOWN)
    text = str(err.value)
    assert "qty must be positive" in text
    assert "contains itself" in text
    assert "unknown material: M-GHOST" in text


# --- materials and listings ----------------------------------------------------------------------


def test_material_rules():
    check_material(BEANS)
    with pytest.raises(Invalid, match="weight_g must not be negative"):
        check_material(dataclasses.replace(BEANS, weight_g=-1))
    with pytest.raises(Invalid, match="name must not be blank"):
        check_material(dataclasses.replace(BEANS, name="  "))


def test_a_new_material_may_not_take_a_sales_products_code():
    check_material_code_free("M-NEW", None)
    with pytest.raises(Conflict, match="already used by a sales product \\(bundle\\)"):
        check_material_code_free("B-SET", "bundle")


LISTING = ChannelListing(
    listing_id="L-1",
    channel="tmall",
    shop_id="shop-1",
    channel_item_id="600001",
    channel_sku_id="5001",
    outer_id="B-SET",
    sales_product_code="B-SET",
    price_cents=129900,
)


def test_a_listing_needs_an_existing_sales_product():
    check_listing(LISTING, sales_product_exists=True)
    with pytest.raises(Invalid, match="unknown sales product B-SET"):
        check_listing(LISTING, sales_product_exists=False)


def test_the_channel_key_treats_a_missing_sku_as_empty_and_may_be_held_only_by_the_listing_itself():
    no_sku = dataclasses.replace(LISTING, channel_sku_id=None)
    assert no_sku.channel_key == ("tmall", "shop-1", "600001", "")
    check_channel_key_free(LISTING, None)
    check_channel_key_free(LISTING, "L-1")
    with pytest.raises(Conflict, match="sku 5001 is already listed as L-OTHER"):
        check_channel_key_free(LISTING, "L-OTHER")


# --- the version rule ----------------------------------------------------------------------------


def test_a_new_aggregate_gets_version_1():
    assert revise(None, BEANS).version == 1


def test_a_change_bumps_the_version_by_one():
    stored = dataclasses.replace(BEANS, version=4)
    revised = revise(stored, dataclasses.replace(BEANS, name="Coffee beans 500g", weight_g=500))
    assert revised is not None
    assert (revised.version, revised.name, revised.weight_g) == (5, "Coffee beans 500g", 500)


def test_an_identical_write_changes_nothing_whatever_its_version_and_timestamp():
    stored = dataclasses.replace(SET, version=3, updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert revise(stored, SET) is None
    assert revise(stored, dataclasses.replace(SET, version=99)) is None


def test_reordering_components_is_a_change():
    stored = dataclasses.replace(SET, version=1)
    reordered = dataclasses.replace(SET, components=tuple(reversed(SET.components)))
    revised = revise(stored, reordered)
    assert revised is not None and revised.version == 2


def test_a_listing_price_change_is_a_change():
    stored = dataclasses.replace(LISTING, version=2)
    assert revise(stored, LISTING) is None
    revised = revise(stored, dataclasses.replace(LISTING, price_cents=119900))
    assert revised is not None and revised.version == 3


# --- decomposition -------------------------------------------------------------------------------


def test_decompose_uses_the_reference_split_and_adds_up_to_the_cent():
    lines = decompose(SET, qty=2, paid_cents=100001)
    assert lines == [MaterialLine("M-BEANS", 6, 10000), MaterialLine("M-MACHINE", 2, 90001)]
    assert sum(x.amount_cents for x in lines) == 100001


def test_decompose_refuses_bad_quantities():
    with pytest.raises(Invalid, match="qty must be positive, got 0"):
        decompose(SET, qty=0, paid_cents=1)
    with pytest.raises(Invalid, match="paid_cents must not be negative"):
        decompose(SET, qty=1, paid_cents=-1)


# --- events --------------------------------------------------------------------------------------


def test_material_event_carries_every_field_and_is_keyed_by_code():
    event, key = events.material_upserted(dataclasses.replace(MACHINE, version=2))
    assert key == "M-MACHINE"
    assert type(event).__event_type__ == "product.material.upserted"
    assert event.model_dump() == {
        "code": "M-MACHINE",
        "name": "Coffee machine",
        "barcode": None,
        "unit": "pcs",
        "weight_g": 4200,
        "high_value": True,
        "active": True,
        "category": "",
        "tags": [],
        "handling": "normal",
        "tax_rate_bp": 1300,
        "version": 2,
    }


def test_sales_product_event_keeps_component_order_and_is_keyed_by_code():
    event, key = events.sales_product_upserted(dataclasses.replace(SET, version=1))
    assert key == "B-SET"
    assert type(event).__event_type__ == "product.sales-product.upserted"
    assert [(c.material_code, c.qty, c.price_weight) for c in event.components] == [
        ("M-BEANS", 3, 1),
        ("M-MACHINE", 1, 9),
    ]
    assert (event.kind, event.version, event.active) == ("bundle", 1, True)


def test_listing_event_is_keyed_by_listing_id_and_round_trips_through_the_registry():
    event, key = events.channel_listing_upserted(dataclasses.replace(LISTING, version=7))
    assert key == "L-1"
    assert type(event).__event_type__ == "product.channel-listing.upserted"
    assert event.model_dump() == {
        "listing_id": "L-1",
        "channel": "tmall",
        "shop_id": "shop-1",
        "channel_item_id": "600001",
        "channel_sku_id": "5001",
        "outer_id": "B-SET",
        "sales_product_code": "B-SET",
        "price_cents": 129900,
        "currency": "CNY",
        "status": "on_sale",
        "version": 7,
    }
    env = make_envelope(event, producer="product", key=key)
    decoded = decode(env.to_bytes(), env.headers())
    assert decoded.data == event
