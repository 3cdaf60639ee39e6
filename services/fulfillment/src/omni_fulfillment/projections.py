"""The read models fulfillment rebuilds with `omni replay fulfillment <name>` (omni_chassis.replay).

- `stock`: what inventory last said is available per (node, material), from omni.inventory.stock-changed;
  the newest `seq` wins (`seq <` the incoming one), so an event handled again changes nothing.

Topics, event types and handler are the live consumer's own (the `fulfillment-stock` spec). Only
`updated_at` (set at apply time) may differ. Not from this stream: a reservation refusal also writes the
`available` it revealed (store.set_available, `seq` unchanged) until the next stock change replaces it; a
rebuild does not know those interim hints, and a compare shows them as differing rows.
"""

from __future__ import annotations

from omni_chassis.replay import Projection

from . import consumers, store

STOCK = Projection.of_consumers(
    "stock",
    [s for s in consumers.specs() if s.group == consumers.STOCK_GROUP],
    tables=("stock",),
    volatile=("updated_at",),
    repository=store.Repository,  # `uow.repo`, as the live unit of work carries it
    description="the stock-per-node projection of omni.inventory.stock-changed",
)

PROJECTIONS: dict[str, Projection] = {p.name: p for p in (STOCK,)}
