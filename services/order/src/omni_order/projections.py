"""The read models order rebuilds with `omni replay order <name>` (omni_chassis.replay).

- `catalog`: order's copy of PIM (catalog_materials, catalog_sales_products and their components,
  catalog_channel_listings) from omni.product. Upserts are version-guarded (`version <` the incoming one),
  so an event the live consumer handles again after a swap changes nothing.

Topics, event types and handler are the live consumer's own (`consumers.catalog_spec()`): the replay runs
the code the live model was built with. Only `updated_at` (set at apply time) may differ.
"""

from __future__ import annotations

from omni_chassis.replay import Projection

from . import consumers, store

CATALOG = Projection.of_consumers(
    "catalog",
    [consumers.catalog_spec()],
    tables=(  # parents before children: components reference their sales product
        "catalog_materials",
        "catalog_sales_products",
        "catalog_sales_product_components",
        "catalog_channel_listings",
    ),
    volatile=("updated_at",),
    repository=store.Repository,  # `uow.repo`, as the live unit of work carries it
    description="the catalog projection of omni.product",
)

PROJECTIONS: dict[str, Projection] = {p.name: p for p in (CATALOG,)}
