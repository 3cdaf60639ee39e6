"""product.material.upserted v2 in the catalog projection (fake unit of work): the facts order rules decide
on (category, tags, handling, VAT rate) are kept and reach intake's Catalog; a v1 event, upcast as the
consumer decodes it, gives the defaults."""

from __future__ import annotations

from order_factories import SHOP, envelope, product_events
from order_fakes import fake_uow

from omni_contracts import decode
from omni_contracts.events.product import MaterialUpsertedV1, MaterialUpsertedV2
from omni_order import service
from omni_order.domain.intake import Material


def facts_of(version: int = 1) -> MaterialUpsertedV2:
    return MaterialUpsertedV2(
        code="BEAN-ETH-500", name="Ethiopia beans", unit="bag", weight_g=500, high_value=True,
        category="food/coffee/beans", tags=["new", "gift"], handling="cold_chain", tax_rate_bp=900,
        version=version,
    )  # fmt: skip


async def test_a_v2_material_is_projected_with_its_facts_and_loaded_into_the_catalog():
    uow = fake_uow()
    others = [
        e for e in product_events() if not (isinstance(e, MaterialUpsertedV1) and e.code == "BEAN-ETH-500")
    ]
    await service.project_catalog(uow, [envelope(e) for e in [*others, facts_of()]])
    row = uow.repo.materials["BEAN-ETH-500"]
    assert (row["category"], row["tags"], row["handling"], row["tax_rate_bp"]) == (
        "food/coffee/beans", ["gift", "new"], "cold_chain", 900,
    )  # fmt: skip

    catalog = await uow.repo.load_catalog({("tmall", SHOP)}, {"6019999"}, set())
    assert catalog.materials["BEAN-ETH-500"] == Material(
        "BEAN-ETH-500", True, category="food/coffee/beans", tags=frozenset({"gift", "new"}),
        handling="cold_chain", weight_g=500, high_value=True, tax_rate_bp=900,
    )  # fmt: skip


async def test_a_v1_material_decoded_as_the_consumer_does_gets_the_defaults():
    uow = fake_uow()
    sent = envelope(MaterialUpsertedV1(code="M1", name="m", unit="pcs", weight_g=20, version=1))
    got = decode(sent.to_bytes(), sent.headers())
    assert got.event_version == 2
    await service.project_catalog(uow, [got])
    row = uow.repo.materials["M1"]
    assert (row["category"], row["tags"], row["handling"], row["tax_rate_bp"], row["weight_g"]) == (
        "", [], "normal", 1300, 20,
    )  # fmt: skip
