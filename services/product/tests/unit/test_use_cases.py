"""The product service's use cases on FakeUnitOfWork(FakeRepository()): upserts, bundles, listings."""

from __future__ import annotations

import dataclasses

import pytest

from omni_product import service
from omni_product.domain.model import (
    ChannelListing,
    Component,
    Conflict,
    Invalid,
    Material,
    MaterialFilters,
    NotFound,
    SalesProduct,
)
from omni_product.store import Duplicate


def material(code: str = "M1", **kw) -> Material:
    return Material(code=code, name=kw.pop("name", f"material {code}"), unit="pcs", weight_g=100, **kw)


def single(code: str, material_code: str) -> SalesProduct:
    return SalesProduct(
        code=code, name=f"single {code}", kind="single", components=(Component(material_code, 1, 1),)
    )


def bundle(code: str, *parts: tuple[str, int, int]) -> SalesProduct:
    return SalesProduct(
        code=code, name=f"bundle {code}", kind="bundle", components=tuple(Component(*p) for p in parts)
    )


def listing(listing_id: str = "L1", sp: str = "SP1", **kw) -> ChannelListing:
    base = {"channel": "tmall", "shop_id": "S1", "channel_item_id": "1001", "price_cents": 1990}
    return ChannelListing(listing_id=listing_id, sales_product_code=sp, **{**base, **kw})


# -- materials --------------------------------------------------------------------------------------------
async def test_a_material_is_created_with_version_1_and_its_event(uow, repo):
    created = await service.create_material(uow, material(barcode="690001"))

    assert created.version == 1 and created.updated_at is not None
    (ev,) = uow.of_type("product.material.upserted")
    assert (ev.key, ev.data.code, ev.data.version, ev.data.barcode) == ("M1", "M1", 1, "690001")
    assert repo.locks == [("material", "M1")], "writers of one material are serialized"
    with pytest.raises(Conflict, match="material M1 already exists"):
        await service.create_material(uow, material())
    assert len(uow.committed_events) == 1


async def test_an_identical_put_changes_nothing_and_a_change_bumps_the_version(uow, repo):
    first = await service.put_material(uow, material())
    same = await service.put_material(uow, material())
    changed = await service.put_material(uow, material(name="renamed"))

    assert (first.created, first.changed, first.entity.version) == (True, True, 1)
    assert (same.created, same.changed, same.entity.version) == (False, False, 1)
    assert (changed.created, changed.changed, changed.entity.version) == (False, True, 2)
    assert [e.data.version for e in uow.of_type("product.material.upserted")] == [1, 2]
    assert repo.materials["M1"].name == "renamed"


async def test_material_validation_and_barcode_and_code_clashes(uow, repo):
    with pytest.raises(Invalid, match="name must not be blank; unit must not be blank"):
        await service.put_material(uow, Material(code="M1", name=" ", unit="", weight_g=1))
    with pytest.raises(Invalid, match="weight_g must not be negative"):
        await service.put_material(uow, dataclasses.replace(material(), weight_g=-1))
    await service.put_material(uow, material("M1", barcode="690001"))
    with pytest.raises(Conflict, match="barcode 690001 already belongs to material M1"):
        await service.put_material(uow, material("M2", barcode="690001"))
    await service.put_material(uow, material("M2"))
    await service.put_sales_product(uow, bundle("KIT", ("M1", 1, 1), ("M2", 1, 1)))
    with pytest.raises(Conflict, match="code KIT is already used by a sales product"):
        await service.put_material(uow, material("KIT"))
    assert set(repo.materials) == {"M1", "M2"}
    assert uow.rollbacks == 2, "invalid input is refused before the unit of work opens"


async def test_a_concurrent_writers_unique_clash_is_a_conflict_sentence(uow, repo):
    async def taken(*_a, **_k):
        raise Duplicate("materials_barcode_key")

    repo.save_material = taken
    with pytest.raises(Conflict, match="the barcode of material M1 already belongs to another material"):
        await service.put_material(uow, material(barcode="1"))
    assert uow.committed_events == []


async def test_reads_say_what_is_missing(uow):
    with pytest.raises(NotFound, match="material NOPE does not exist"):
        await service.get_material(uow, "NOPE")
    with pytest.raises(NotFound, match="sales product NOPE does not exist"):
        await service.get_sales_product(uow, "NOPE")
    with pytest.raises(NotFound, match="channel listing NOPE does not exist"):
        await service.get_listing(uow, "NOPE")
    for code in ("B2", "A1", "C3"):
        await service.put_material(uow, material(code, active=code != "C3"))
    page = await service.list_materials(uow, MaterialFilters(active=True), limit=10, offset=0)
    assert [m.code for m in page.items] == ["A1", "B2"] and page.total == 2
    assert (await service.get_material(uow, "A1")).version == 1


# -- sales products and bundles ---------------------------------------------------------------------------
async def test_a_bundle_of_existing_materials_is_stored_and_decomposes_to_the_cent(uow, repo):
    await service.put_material(uow, material("BEANS"))
    await service.put_material(uow, material("MACHINE"))

    kit = bundle("KIT", ("BEANS", 3, 1), ("MACHINE", 1, 2))
    written = await service.put_sales_product(uow, kit)

    assert written.created and written.entity.version == 1
    (ev,) = uow.of_type("product.sales-product.upserted")
    assert ev.key == "KIT" and [(c.material_code, c.qty) for c in ev.data.components] == [
        ("BEANS", 3),
        ("MACHINE", 1),
    ]
    sp, lines = await service.decompose_sales_product(uow, "KIT", 2, 10001)
    assert sp.code == "KIT" and [(x.material_code, x.qty) for x in lines] == [("BEANS", 6), ("MACHINE", 2)]
    assert sum(x.amount_cents for x in lines) == 10001
    assert not (await service.put_sales_product(uow, kit)).changed
    with pytest.raises(Conflict, match="sales product KIT already exists"):
        await service.create_sales_product(uow, kit)


async def test_sales_products_are_validated_with_every_problem(uow, repo):
    await service.put_material(uow, material("M1"))
    with pytest.raises(Invalid) as bad:
        await service.put_sales_product(uow, bundle("KIT", ("M1", 1, 1), ("M1", 2, 1), ("GHOST", 1, 1)))
    assert "duplicate component materials: M1" in str(bad.value) and "unknown material: GHOST" in str(
        bad.value
    )
    with pytest.raises(Invalid, match="a bundle needs at least one component"):
        await service.put_sales_product(
            uow, SalesProduct(code="E", name="empty", kind="bundle", components=())
        )
    with pytest.raises(Invalid, match="a single's component has qty 1, got 2"):
        await service.put_sales_product(
            uow, SalesProduct(code="S", name="s", kind="single", components=(Component("M1", 2, 1),))
        )
    with pytest.raises(Invalid, match="bundle M1 contains itself"):
        await service.put_sales_product(uow, bundle("M1", ("M1", 2, 1)))
    await service.put_material(uow, material("M2"))
    with pytest.raises(Conflict, match="code M1 is a material's code"):
        await service.put_sales_product(uow, bundle("M1", ("M2", 2, 1)))
    single_of_itself = await service.put_sales_product(uow, single("M1", "M1"))
    assert single_of_itself.created, "a material's own single may share its code"
    assert set(repo.sales_products) == {"M1"}
    page = await service.list_sales_products(uow, q="m1", kind="single", active=None, limit=5, offset=0)
    assert [s.code for s in page.items] == ["M1"]


# -- channel listings -------------------------------------------------------------------------------------
async def test_listings_map_a_channel_item_to_one_sales_product(uow, repo):
    await service.put_material(uow, material("M1"))
    await service.put_sales_product(uow, single("SP1", "M1"))

    created = await service.create_listing(uow, listing("L1", channel_sku_id="5001"))
    assert created.version == 1
    (ev,) = uow.of_type("product.channel-listing.upserted")
    assert ev.key == "L1" and ev.data.sales_product_code == "SP1"

    repriced = await service.put_listing(uow, listing("L1", channel_sku_id="5001", price_cents=1590))
    assert (repriced.changed, repriced.entity.version) == (True, 2)
    with pytest.raises(Conflict, match="sku 5001 is already listed as L1"):
        await service.put_listing(uow, listing("L2", channel_sku_id="5001"))
    other_sku = await service.put_listing(uow, listing("L2", channel_sku_id="5002"))
    assert other_sku.created
    with pytest.raises(Invalid, match="unknown sales product NOPE"):
        await service.put_listing(uow, listing("L3", sp="NOPE"))
    with pytest.raises(Conflict, match="channel listing L1 already exists"):
        await service.create_listing(uow, listing("L1", channel_sku_id="5009"))
    page = await service.list_listings(
        uow,
        channel="tmall",
        shop_id=None,
        sales_product_code="SP1",
        status=None,
        channel_item_id=None,
        outer_id=None,
        limit=10,
        offset=0,
    )
    assert [x.listing_id for x in page.items] == ["L1", "L2"] and page.total == 2
    assert [e.data.version for e in uow.of_type("product.channel-listing.upserted")] == [1, 2, 1]
    assert service.new_listing_id().startswith("L-")
