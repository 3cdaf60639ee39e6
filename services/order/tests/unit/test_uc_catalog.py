"""The catalog projection use case on the fake unit of work: newer versions only, in and across batches."""

from __future__ import annotations

from order_factories import envelope, product_events
from order_fakes import fake_uow

from omni_contracts.events.product import BundleComponent, MaterialUpsertedV1, SalesProductUpsertedV1
from omni_order import service


def _material(version: int, name: str) -> MaterialUpsertedV1:
    return MaterialUpsertedV1(code="M1", name=name, unit="pcs", weight_g=1, version=version)


def _bundle(version: int, *materials: tuple[str, int, int]) -> SalesProductUpsertedV1:
    return SalesProductUpsertedV1(
        code="SET1", name=f"v{version}", kind="bundle", version=version,
        components=[BundleComponent(material_code=m, qty=q, price_weight=w) for m, q, w in materials],
    )  # fmt: skip


async def test_the_reference_catalog_is_projected_and_counted():
    uow = fake_uow()
    events = product_events()
    result = await service.project_catalog(uow, [envelope(e) for e in events])
    assert result == {"received": len(events), "written": len(events)}
    assert set(uow.repo.materials) == {
        "BEAN-YUNNAN-250G", "BEAN-ETHIOPIA-250G", "BEAN-COLOMBIA-250G", "MACHINE-AUTO-01", "BEAN-ETH-500",
    }  # fmt: skip
    assert [c["material_code"] for c in uow.repo.sales_products["SET-COFFEE-PRO"]["components"]] == [
        "BEAN-YUNNAN-250G", "BEAN-ETHIOPIA-250G", "BEAN-COLOMBIA-250G", "MACHINE-AUTO-01",
    ]  # fmt: skip
    assert uow.repo.listings["L-COFFEE"]["channel_item_id"] == "6012345"
    assert uow.commits == 1 and uow.published == []  # a projection emits nothing


async def test_only_newer_versions_are_applied_across_batches():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(_material(2, "v2"))])
    stale = await service.project_catalog(
        uow, [envelope(_material(1, "v1 late")), envelope(_material(2, "again"))]
    )
    assert stale == {"received": 2, "written": 0}
    assert uow.repo.materials["M1"]["name"] == "v2"
    newer = await service.project_catalog(uow, [envelope(_material(3, "v3"))])
    assert newer["written"] == 1 and uow.repo.materials["M1"]["name"] == "v3"


async def test_the_newest_version_wins_within_one_batch_and_replaces_components():
    uow = fake_uow()
    await service.project_catalog(
        uow, [envelope(_bundle(2, ("A", 1, 1), ("B", 2, 3))), envelope(_bundle(1, ("C", 1, 1)))]
    )
    assert uow.repo.sales_products["SET1"]["name"] == "v2"
    assert [c["material_code"] for c in uow.repo.sales_products["SET1"]["components"]] == ["A", "B"]
    await service.project_catalog(uow, [envelope(_bundle(3, ("C", 4, 1)))])
    assert [(c["material_code"], c["qty"]) for c in uow.repo.sales_products["SET1"]["components"]] == [
        ("C", 4)
    ]


async def test_a_listing_is_read_back_or_not_found():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    assert (await service.get_catalog_listing(uow, "L-BEANS"))["sales_product_code"] == "BEAN-ETH-500"
    try:
        await service.get_catalog_listing(uow, "L-NOPE")
    except service.OrderNotFound as exc:
        assert "no channel listing L-NOPE" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown listing must be OrderNotFound")
