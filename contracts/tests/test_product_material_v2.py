"""product.material.upserted v2: the facts order rules decide on (category, tags, handling, VAT rate), each
validated; a v1 event is upcast with the defaults, and a v1 reader reads a v2 through its own schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omni_contracts import REGISTRY, make_envelope
from omni_contracts.events.product import MaterialUpsertedV1, MaterialUpsertedV2

BASE = {"code": "BEAN-1KG", "name": "Beans 1 kg", "unit": "bag", "weight_g": 1000, "version": 3}


def v2(**kw) -> MaterialUpsertedV2:
    return MaterialUpsertedV2(**(BASE | kw))


def test_defaults_are_the_v1_meaning():
    m = v2()
    assert (m.category, m.tags, m.handling, m.tax_rate_bp) == ("", [], "normal", 1300)


@pytest.mark.parametrize("category", ["food", "food/coffee/beans", "gift_cards/e-voucher", "a1/b2", ""])
def test_category_accepts_code_paths(category):
    assert v2(category=category).category == category


@pytest.mark.parametrize(
    "category", ["Food", "food/", "/food", "food//beans", "food coffee", "咖啡", "food/Beans", "x" * 201]
)
def test_category_refuses_what_is_not_a_lowercase_code_path(category):
    with pytest.raises(ValidationError, match="category"):
        v2(category=category)


def test_tags_are_distinct_and_sorted():
    assert v2(tags=["new", "gift", "new", "fragile"]).tags == ["fragile", "gift", "new"]


@pytest.mark.parametrize("tags", [["Gift"], [""], ["a b"], ["x" * 33], [f"t{i}" for i in range(33)]])
def test_tags_refuse_bad_codes(tags):
    with pytest.raises(ValidationError, match="tags"):
        v2(tags=tags)


@pytest.mark.parametrize("handling", ["normal", "cold_chain", "frozen", "oversize", "virtual", "service"])
def test_every_handling_class(handling):
    assert v2(handling=handling).handling == handling


def test_unknown_handling_is_refused():
    with pytest.raises(ValidationError, match="handling"):
        v2(handling="fragile")


@pytest.mark.parametrize("bp, ok", [(0, True), (600, True), (10_000, True), (-1, False), (10_001, False)])
def test_tax_rate_is_basis_points(bp, ok):
    if ok:
        assert v2(tax_rate_bp=bp).tax_rate_bp == bp
    else:
        with pytest.raises(ValidationError, match="tax_rate_bp"):
            v2(tax_rate_bp=bp)


def test_a_v1_event_is_upcast_to_v2_with_the_defaults():
    env = make_envelope(MaterialUpsertedV1(**BASE, high_value=True), producer="product", key="BEAN-1KG")
    got = REGISTRY.decode(env.to_bytes(), env.headers())
    assert type(got.data) is MaterialUpsertedV2 and got.event_version == 2
    assert got.data.high_value is True and got.data.version == 3
    assert (got.data.category, got.data.tags, got.data.handling, got.data.tax_rate_bp) == (
        "",
        [],
        "normal",
        1300,
    )


def test_a_v2_event_decodes_with_its_facts_and_a_v1_reader_reads_it():
    sent = v2(category="food/coffee/beans", tags=["gift"], handling="cold_chain", tax_rate_bp=900)
    env = make_envelope(sent, producer="product", key="BEAN-1KG")
    assert dict(env.headers())["event_readable_as"] == b"1"
    assert REGISTRY.decode(env.to_bytes(), env.headers()).data == sent
    old = REGISTRY.pinned({"product.material.upserted": 1}).decode(env.to_bytes(), env.headers())
    assert type(old.data) is MaterialUpsertedV1 and old.read_forward_from == 2
    assert old.data.weight_g == 1000
