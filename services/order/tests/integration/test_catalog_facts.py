"""product.material.upserted v2 on real Kafka and PostgreSQL: the catalog consumer stores the material's
facts in catalog_materials (tags as text[]) and intake's catalog loads them; v1 rows keep the defaults."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from order_db_helpers import order_database, publish, rows, scalar, uow_for
from order_factories import envelope

from omni_chassis.testing import eventually, running_consumers
from omni_contracts.events.product import (
    BundleComponent,
    ChannelListingUpsertedV1,
    MaterialUpsertedV1,
    MaterialUpsertedV2,
    SalesProductUpsertedV1,
)
from omni_order import consumers, store
from omni_order.domain.intake import Material

pytestmark = pytest.mark.integration


async def test_a_v2_material_lands_in_catalog_materials_with_its_facts(
    kafka_bootstrap, make_database, fresh_topic
):
    db = await order_database(make_database)
    topic = await fresh_topic(partitions=1)
    s = uuid.uuid4().hex[:8]
    cold, plain = "COLD" + s, "PLAIN" + s
    events = [
        MaterialUpsertedV2(
            code=cold, name="Cold brew", unit="bottle", weight_g=350, category="food/coffee/cold-brew",
            tags=["new", "fragile"], handling="cold_chain", tax_rate_bp=900, version=1,
        ),
        MaterialUpsertedV1(code=plain, name="Filter papers", unit="pack", weight_g=80, version=1),
        SalesProductUpsertedV1(
            code="SET" + s, name="Cold brew kit", kind="bundle", version=1,
            components=[BundleComponent(material_code=m, qty=1, price_weight=1) for m in (cold, plain)],
        ),
        ChannelListingUpsertedV1(
            listing_id="L" + s, channel="tmall", shop_id="S1", channel_item_id="I" + s,
            sales_product_code="SET" + s, price_cents=8_800, version=1,
        ),
    ]  # fmt: skip
    await publish(kafka_bootstrap, topic, [envelope(e) for e in events])
    spec = dataclasses.replace(consumers.catalog_spec(), topics=[topic], group=f"order-catalog-{s}")
    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        await eventually(
            lambda: scalar(
                db, "SELECT count(*) FROM catalog_channel_listings WHERE listing_id = :l", l="L" + s
            )
        )

    found = await rows(
        db,
        "SELECT code, category, tags, handling, tax_rate_bp, weight_g FROM catalog_materials"
        " WHERE code IN (:a, :b) ORDER BY code",
        a=cold,
        b=plain,
    )
    assert [tuple(r) for r in found] == [
        (cold, "food/coffee/cold-brew", ["fragile", "new"], "cold_chain", 900, 350),
        (plain, "", [], "normal", 1300, 80),
    ]

    uow = uow_for(db)
    async with uow:
        catalog = await uow.repo.load_catalog({("tmall", "S1")}, {"I" + s}, set())
    assert catalog.materials[cold] == Material(
        cold, True, category="food/coffee/cold-brew", tags=frozenset({"fragile", "new"}),
        handling="cold_chain", weight_g=350, high_value=False, tax_rate_bp=900,
    )  # fmt: skip
    assert catalog.materials[plain] == Material(plain, True, weight_g=80)


async def test_the_api_shows_what_the_order_service_knows_of_a_material(make_database):
    from order_db_helpers import client_for, project

    db = await order_database(make_database)
    code = "COLD" + uuid.uuid4().hex[:8]
    await project(db, [MaterialUpsertedV2(code=code, name="Cold brew", unit="bottle", weight_g=350,
                                          handling="cold_chain", tags=["new"], version=3)])  # fmt: skip
    async with client_for(db) as c:
        r = await c.get(f"/catalog/materials/{code}")
        assert r.status_code == 200, r.text
        assert (r.json()["handling"], r.json()["tags"], r.json()["version"]) == ("cold_chain", ["new"], 3)
        missing = await c.get("/catalog/materials/NOPE")
        assert missing.status_code == 404 and "no material NOPE" in missing.json()["detail"]
