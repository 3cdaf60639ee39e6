"""The merged orders' SQL (part of the repository, see store.py): which platform orders a merged order holds
and which of its lines came from which (domain/merge.py). Written once, with the merged order's
order.accepted."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.merge import MergedLine, MergedOrder, MergedSource
from .tables import merged_lines, merged_orders, merged_sources, order_lines, orders


@dataclass
class NewMerged:
    merged: MergedOrder
    accepted_event_id: UUID
    accepted_at: datetime


class MergedOrderQueries:
    session: AsyncSession

    async def load_merged(self, order_ids: Collection[str]) -> dict[str, MergedOrder]:
        """The merged orders among `order_ids`, their sources (oldest first) and lines (in line order)."""
        if not order_ids:
            return {}
        ids = sorted(set(order_ids))
        heads = (
            await self.session.execute(select(merged_orders).where(merged_orders.c.order_id.in_(ids)))
        ).all()
        if not heads:
            return {}
        found = [r.order_id for r in heads]
        sources: dict[str, list[MergedSource]] = {}
        for r in await self.session.execute(
            select(merged_sources)
            .where(merged_sources.c.merged_order_id.in_(found))
            .order_by(merged_sources.c.merged_order_id, merged_sources.c.position)
        ):
            sources.setdefault(r.merged_order_id, []).append(
                MergedSource(r.source_order_id, r.position, r.shop_id, r.channel_order_id,
                             r.goods_paid_cents, r.post_fee_cents, r.paid_cents, r.paid_at)
            )  # fmt: skip
        lines: dict[str, list[MergedLine]] = {}
        for r in await self.session.execute(
            select(merged_lines)
            .where(merged_lines.c.merged_order_id.in_(found))
            .order_by(merged_lines.c.merged_order_id, merged_lines.c.line_no)
        ):
            lines.setdefault(r.merged_order_id, []).append(
                MergedLine(r.line_no, r.line_id, r.source_order_id, r.material_code, r.qty)
            )
        return {
            r.order_id: MergedOrder(
                r.order_id,
                r.channel,
                r.currency,
                tuple(sources.get(r.order_id, ())),
                tuple(lines.get(r.order_id, ())),
            )
            for r in heads
        }

    async def _insert_merged(self, new: list[NewMerged]) -> None:
        """New merged orders with their sources and lines (three statements)."""
        if not new:
            return
        await self.session.execute(
            insert(merged_orders),
            [{"order_id": n.merged.order_id, "channel": n.merged.channel, "currency": n.merged.currency,
              "accepted_event_id": n.accepted_event_id, "accepted_at": n.accepted_at} for n in new],
        )  # fmt: skip
        await self.session.execute(
            insert(merged_sources),
            [{"merged_order_id": n.merged.order_id, "source_order_id": s.order_id, "position": s.position,
              "shop_id": s.shop_id, "channel_order_id": s.channel_order_id,
              "goods_paid_cents": s.goods_paid_cents, "post_fee_cents": s.post_fee_cents,
              "paid_cents": s.paid_cents, "paid_at": s.paid_at}
             for n in new for s in n.merged.sources],
        )  # fmt: skip
        await self.session.execute(
            insert(merged_lines),
            [{"merged_order_id": n.merged.order_id, "line_no": x.line_no, "line_id": x.line_id,
              "source_order_id": x.source_order_id, "material_code": x.material_code, "qty": x.qty}
             for n in new for x in n.merged.lines],
        )  # fmt: skip

    async def _drop_projections(self, order_ids: Collection[str]) -> None:
        """Projections about to be written afresh (an order booked again after its booking via a merged order
        was reversed or superseded). Nothing has shipped of them: a shipment row would refuse the delete."""
        if not order_ids:
            return
        ids = sorted(order_ids)
        await self.session.execute(delete(order_lines).where(order_lines.c.order_id.in_(ids)))
        await self.session.execute(delete(orders).where(orders.c.order_id.in_(ids)))

    async def merged_exists(self, order_id: str) -> bool:
        found = await self.session.execute(
            select(merged_orders.c.order_id).where(merged_orders.c.order_id == order_id)
        )
        return found.first() is not None
