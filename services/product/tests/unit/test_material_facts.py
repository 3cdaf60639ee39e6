"""The facts order rules decide on, per material: category, tags, handling class, VAT rate. Each is checked
by the domain, stored and emitted in product.material.upserted v2, and the materials list filters by them."""

from __future__ import annotations

import dataclasses

import pytest

from omni_product import service
from omni_product.domain import events
from omni_product.domain.model import Invalid, Material, MaterialFilters, check_material, in_category

BEANS = Material(
    code="M-BEANS",
    name="Coffee beans 1 kg",
    unit="bag",
    weight_g=1000,
    category="food/coffee/beans",
    tags=frozenset({"new", "gift"}),
    tax_rate_bp=900,
)


def with_(**kw) -> Material:
    return dataclasses.replace(BEANS, **kw)


def test_a_material_with_facts_passes_and_the_defaults_are_v1s_meaning():
    check_material(BEANS)
    plain = Material(code="M", name="m", unit="pcs", weight_g=1)
    assert (plain.category, plain.tags, plain.handling, plain.tax_rate_bp) == (
        "",
        frozenset(),
        "normal",
        1300,
    )
    check_material(plain)


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"category": "Food/Coffee"}, "category must be lowercase segments"),
        ({"category": "food//beans"}, "category must be lowercase segments"),
        ({"category": "/food"}, "category must be lowercase segments"),
        ({"category": "food/"}, "category must be lowercase segments"),
        ({"category": "a/" * 100 + "b"}, "at most 200 characters"),
        ({"tags": frozenset({"ok", "Not Ok"})}, "got 'Not Ok'"),
        ({"tags": frozenset({""})}, "tags must be 1 to 32 characters"),
        ({"tags": frozenset({"x" * 33})}, "tags must be 1 to 32 characters"),
        ({"tags": frozenset(f"t{i}" for i in range(33))}, "at most 32 tags, got 33"),
        (
            {"handling": "fragile"},
            "handling must be one of normal, cold_chain, frozen, oversize, virtual, service",
        ),
        ({"tax_rate_bp": 1700}, "tax_rate_bp must be one of 1300, 900, 600, 0"),
        ({"tax_rate_bp": -1}, "tax_rate_bp must be one of"),
    ],
)
def test_each_fact_is_checked_and_the_message_names_it(facts, message):
    with pytest.raises(Invalid, match=message) as err:
        check_material(with_(**facts))
    assert str(err.value).startswith("material M-BEANS: ")


def test_every_problem_is_named_at_once():
    with pytest.raises(Invalid) as err:
        check_material(with_(category="X", handling="y", tax_rate_bp=5))
    assert all(f in str(err.value) for f in ("category", "handling", "tax_rate_bp"))


@pytest.mark.parametrize("handling", ["normal", "cold_chain", "frozen", "oversize", "virtual", "service"])
@pytest.mark.parametrize("bp", [1300, 900, 600, 0])
def test_every_handling_class_and_vat_rate_is_accepted(handling, bp):
    check_material(with_(handling=handling, tax_rate_bp=bp))


@pytest.mark.parametrize(
    ("category", "prefix", "inside"),
    [
        ("food/coffee/beans", "food/coffee", True),
        ("food/coffee/beans", "food", True),
        ("food/coffee", "food/coffee", True),
        ("food/coffeemaker", "food/coffee", False),
        ("food", "food/coffee", False),
        ("", "food", False),
    ],
)
def test_a_category_is_inside_a_prefix_by_whole_segments(category, prefix, inside):
    assert in_category(category, prefix) is inside


def test_the_event_carries_the_facts_with_tags_sorted():
    event, key = events.material_upserted(with_(version=4, handling="cold_chain"))
    assert key == "M-BEANS" and type(event).__event_version__ == 2
    assert (event.category, event.tags, event.handling, event.tax_rate_bp) == (
        "food/coffee/beans",
        ["gift", "new"],
        "cold_chain",
        900,
    )


async def test_a_changed_fact_bumps_the_version_and_emits_it(uow, repo):
    await service.put_material(uow, BEANS)
    same = await service.put_material(uow, with_(tags=frozenset({"gift", "new"})))
    assert not same.changed
    moved = await service.put_material(uow, with_(handling="frozen"))
    assert moved.changed and moved.entity.version == 2
    first, second = uow.of_type("product.material.upserted")
    assert (first.data.handling, second.data.handling, second.data.version) == ("normal", "frozen", 2)


async def test_an_invalid_fact_writes_nothing(uow, repo):
    with pytest.raises(Invalid, match="handling"):
        await service.put_material(uow, with_(handling="boxed"))
    assert repo.materials == {} and uow.committed_events == []


async def test_the_list_filters_by_category_tag_and_handling(uow, repo):
    for m in (
        BEANS,
        with_(code="M-GROUND", category="food/coffee/ground", tags=frozenset({"new"}), handling="cold_chain"),
        with_(code="M-MAKER", category="food/coffeemaker", tags=frozenset(), handling="oversize"),
        with_(code="M-CLASS", category="service/coffee-class", handling="virtual", tax_rate_bp=600),
    ):
        await service.put_material(uow, m)

    async def codes(**f) -> list[str]:
        page = await service.list_materials(uow, MaterialFilters(**f), limit=10, offset=0)
        return [m.code for m in page.items]

    assert await codes(category="food/coffee") == ["M-BEANS", "M-GROUND"]
    assert await codes(category="food") == ["M-BEANS", "M-GROUND", "M-MAKER"]
    assert await codes(tag="gift") == ["M-BEANS", "M-CLASS"]
    assert await codes(tag="gift", category="food") == ["M-BEANS"]
    assert await codes(handling="virtual") == ["M-CLASS"]
    assert await codes(handling="normal", q="beans") == ["M-BEANS"]
