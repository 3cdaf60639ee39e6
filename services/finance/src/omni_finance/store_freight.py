"""Freight's SQL (part of the repository, see store.py): the carrier choice in force per task and what was
booked of it (`carrier_costs`, domain/freight.py), and what the shipments of those tasks booked."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.freight import CarrierCost, Parcel
from .tables import carrier_costs, shipments

_FIELDS = ("task_id", "order_id", "node_code", "attempt", "carrier", "cost_cents", "currency",
           "source_event_id", "chosen_at", "booked_carrier", "booked_cents", "booked_at")  # fmt: skip

# A task's choice and its shipment may be applied side by side (the live consumer and the parking loop): each
# would miss the other's uncommitted row and the freight would never be booked. One lock per task, taken in
# task order (after the batch's orders rows), serialises them.
_LOCK_TASKS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('omni-finance-freight:' || t, 0)) "
    "FROM unnest(CAST(:tasks AS text[])) AS t"
)


def _row(c: CarrierCost, now: datetime) -> dict[str, Any]:
    return {**{k: getattr(c, k) for k in _FIELDS}, "updated_at": now}


class FreightQueries:
    session: AsyncSession

    async def load_freight(
        self, task_ids: Collection[str]
    ) -> tuple[dict[str, CarrierCost], dict[str, list[Parcel]]]:
        """The tasks' choices in force and what their shipments booked (per task), the tasks locked."""
        if not task_ids:
            return {}, {}
        ids = sorted(set(task_ids))
        await self.session.execute(_LOCK_TASKS, {"tasks": ids})
        costs = {
            r.task_id: CarrierCost(**{k: r._mapping[k] for k in _FIELDS})
            for r in await self.session.execute(select(carrier_costs).where(carrier_costs.c.task_id.in_(ids)))
        }
        parcels: dict[str, list[Parcel]] = {}
        for r in await self.session.execute(
            select(shipments.c.task_id, shipments.c.order_id, shipments.c.carrier, shipments.c.goods_cents)
            .where(shipments.c.task_id.in_(ids))
            .order_by(shipments.c.task_id, shipments.c.order_id)
        ):
            parcels.setdefault(r.task_id, []).append(Parcel(r.order_id, r.carrier, r.goods_cents))
        return costs, parcels

    async def _save_costs(self, costs: list[CarrierCost], now: datetime) -> None:
        """The choices that changed, as they are now (one statement): the task's lock is held."""
        if not costs:
            return
        stmt = insert(carrier_costs).values([_row(c, now) for c in costs])
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["task_id"],
                set_={k: stmt.excluded[k] for k in (*_FIELDS[1:], "updated_at")},
            )
        )
