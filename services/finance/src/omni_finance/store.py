"""The repository: the only place that knows SQL. Tables are in tables.py (re-exported here).

`Repository(session)` is what the unit of work carries as `uow.repo` (wired by `create_app(...,
repository=store.Repository)`); the use cases in service.py never see the session.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .domain.credit import Receivable
from .domain.freight import CarrierCost, Parcel
from .domain.merge import MergedOrder
from .domain.posting import OrderLineState, OrderState, OrderStatus
from .domain.vouchers import Line, Voucher
from .store_credit import ReceivableQueries
from .store_freight import FreightQueries
from .store_merge import MergedOrderQueries, NewMerged
from .store_pos import StoreSaleQueries
from .tables import (
    Base,
    accounts,
    carrier_costs,
    metadata,
    order_lines,
    orders,
    receivables,
    shipments,
    voucher_lines,
    vouchers,
)

__all__ = [
    "Base",
    "NewMerged",
    "NewOrder",
    "Repository",
    "Writes",
    "accounts",
    "carrier_costs",
    "metadata",
    "order_key",
    "order_lines",
    "orders",
    "receivables",
    "shipments",
    "voucher_lines",
    "vouchers",
]


def order_key(order_id: str) -> str:
    """What an event parks on while finance does not know its order yet (and what order.accepted releases)."""
    return f"order:{order_id}"


@dataclass
class NewOrder:
    order: OrderState
    accepted_event_id: UUID
    accepted_at: datetime


@dataclass
class Writes:
    """What one use case changed, written back at commit in a handful of set-based statements."""

    orders: dict[str, OrderState]  # every order loaded or created (changed ones are written back)
    new: dict[str, NewOrder] = field(default_factory=dict)
    renewed: dict[str, NewOrder] = field(default_factory=dict)  # projected before: written afresh
    merged: dict[str, MergedOrder] = field(default_factory=dict)  # merged orders loaded or created
    new_merged: list[NewMerged] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    dirty_lines: set[tuple[str, int]] = field(default_factory=set)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    vouchers: list[Voucher] = field(default_factory=list)
    receivables: dict[str, Receivable] = field(default_factory=dict)  # loaded or opened (credit terms)
    new_receivables: set[str] = field(default_factory=set)
    changed_receivables: set[str] = field(default_factory=set)
    costs: dict[str, CarrierCost] = field(default_factory=dict)  # task -> choice in force (freight)
    parcels: dict[str, list[Parcel]] = field(default_factory=dict)  # task -> what its shipments booked
    changed_costs: set[str] = field(default_factory=set)


# The oldest parked event per order key (the chassis's `parked` table; both finance consumers park there).
_PARKED = text(
    "SELECT waits_for, min(first_parked_at) FROM parked WHERE waits_for = ANY(CAST(:keys AS text[])) "
    "GROUP BY waits_for"
)

# One statement for every line of the batch: the balance trigger (see the migration) checks each voucher
# once all its lines are in, so a voucher's lines must never be split over several statements.
_INSERT_LINES = text(
    "INSERT INTO voucher_lines (voucher_id, line_no, account_code, debit_cents, credit_cents) "
    "SELECT * FROM unnest(CAST(:vids AS uuid[]), CAST(:nos AS int[]), CAST(:codes AS text[]), "
    "CAST(:dr AS bigint[]), CAST(:cr AS bigint[]))"
)


def _order_row(o: OrderState, now: datetime) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "status": o.status.value,
        "freight_recognized": o.freight_recognized,
        "freight_refund_cents": o.freight_refund_cents,
        "cancelled_at": o.cancelled_at,
        "updated_at": now,
    }


_LINE_STATE = ("shipped_qty", "recognized_cents", "refunded_qty", "cancelled_qty", "deferred_refund_cents",
               "revenue_refund_cents")  # fmt: skip


def _line_state(x: OrderLineState) -> dict[str, int]:
    """What shipments and refunds move on an order line."""
    return {k: getattr(x, k) for k in _LINE_STATE}


def _new_order_row(n: NewOrder, now: datetime) -> dict[str, Any]:
    o = n.order
    return {**_order_row(o, now), "channel": o.channel, "channel_order_id": o.channel_order_id,
            "currency": o.currency, "goods_paid_cents": o.goods_paid_cents,
            "post_fee_cents": o.post_fee_cents, "paid_cents": o.paid_cents,
            "sale_voucher_id": o.sale_voucher_id, "merged_order_id": o.merged_into,
            "payment": o.payment, "accepted_event_id": n.accepted_event_id,
            "accepted_at": n.accepted_at}  # fmt: skip


def _voucher_filter(order_id: str | None, kind: str | None) -> list[Any]:
    conds = []
    if order_id is not None:
        conds.append(vouchers.c.order_id == order_id)
    if kind is not None:
        conds.append(vouchers.c.kind == kind)
    return conds


class Repository(StoreSaleQueries, MergedOrderQueries, ReceivableQueries, FreightQueries):
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- orders (the projection) ---------------------------------------------------------------------------
    async def load_orders(
        self, order_ids: Collection[str], *, with_sale_lines: bool = False
    ) -> dict[str, OrderState]:
        """The projected orders among `order_ids`, locked FOR UPDATE (in order_id order: no deadlocks)."""
        if not order_ids:
            return {}
        ids = sorted(set(order_ids))
        rows = (
            await self.session.execute(
                select(orders).where(orders.c.order_id.in_(ids)).order_by(orders.c.order_id).with_for_update()
            )
        ).all()
        out = {
            r.order_id: OrderState(
                order_id=r.order_id,
                channel=r.channel,
                channel_order_id=r.channel_order_id,
                currency=r.currency,
                goods_paid_cents=r.goods_paid_cents,
                post_fee_cents=r.post_fee_cents,
                paid_cents=r.paid_cents,
                lines=[],
                status=OrderStatus(r.status),
                freight_recognized=r.freight_recognized,
                sale_voucher_id=r.sale_voucher_id,
                cancelled_at=r.cancelled_at,
                merged_into=r.merged_order_id,
                payment=r.payment,
                freight_refund_cents=r.freight_refund_cents,
            )
            for r in rows
        }
        if not out:
            return out
        for r in await self.session.execute(
            select(order_lines)
            .where(order_lines.c.order_id.in_(list(out)))
            .order_by(order_lines.c.order_id, order_lines.c.line_no)
        ):
            state = {k: r._mapping[k] for k in _LINE_STATE}
            out[r.order_id].lines.append(
                OrderLineState(r.line_no, r.line_id, r.material_code, r.qty, r.amount_cents, **state)
            )
        if with_sale_lines:
            await self._sale_lines(out)
        return out

    async def _sale_lines(self, out: dict[str, OrderState]) -> None:
        sale_ids = {o.sale_voucher_id: o for o in out.values() if o.sale_voucher_id is not None}
        if not sale_ids:
            return
        lines: dict[UUID, list[Line]] = {}
        for r in await self.session.execute(
            select(voucher_lines)
            .where(voucher_lines.c.voucher_id.in_(list(sale_ids)))
            .order_by(voucher_lines.c.voucher_id, voucher_lines.c.line_no)
        ):
            lines.setdefault(r.voucher_id, []).append(Line(r.account_code, r.debit_cents, r.credit_cents))
        for vid, order in sale_ids.items():
            order.sale_lines = tuple(lines.get(vid, ()))

    async def parked_orders(self, order_ids: Collection[str]) -> dict[str, datetime]:
        """Orders among `order_ids` with events parked on them: order id -> when the oldest was parked."""
        if not order_ids:
            return {}
        keys = {order_key(o): o for o in order_ids}
        rows = await self.session.execute(_PARKED, {"keys": sorted(keys)})
        return {keys[k]: at for k, at in rows}

    async def order_exists(self, order_id: str) -> bool:
        """Booked by finance: an order's projection, or a merged order (its sources are booked instead)."""
        found = await self.session.execute(select(orders.c.order_id).where(orders.c.order_id == order_id))
        return found.first() is not None or await self.merged_exists(order_id)

    # -- writing back what a use case changed -------------------------------------------------------------
    async def save(self, w: Writes, now: datetime) -> None:
        """New merged orders, new (and renewed) orders, changed orders and lines, vouchers, shipments, carrier
        choices: a few statements for the whole batch. A second voucher of the same (source event, kind,
        order) fails UNIQUE and rolls the batch back."""
        await self._insert_merged(w.new_merged)
        await self._drop_receivables(list(w.renewed))
        await self._drop_projections(list(w.renewed))
        await self._insert_orders([*w.new.values(), *w.renewed.values()], now)
        fresh = set(w.new) | set(w.renewed)
        await self._update_orders([w.orders[i] for i in sorted(w.changed - fresh)], w.dirty_lines, now)
        await self._insert_vouchers(w.vouchers)
        if w.shipments:
            await self.session.execute(insert(shipments), w.shipments)
        await self._save_receivables(w, now)
        await self._save_costs([w.costs[t] for t in sorted(w.changed_costs)], now)

    async def _insert_orders(self, new: list[NewOrder], now: datetime) -> None:
        """New projections with their lines, in their current (final) state."""
        if not new:
            return
        await self.session.execute(insert(orders), [_new_order_row(n, now) for n in new])
        lines = [
            {"order_id": n.order.order_id, "line_no": x.line_no, "line_id": x.line_id,
             "material_code": x.material_code, "qty": x.qty, "amount_cents": x.amount_cents, **_line_state(x)}
            for n in new
            for x in n.order.lines
        ]  # fmt: skip
        if lines:
            await self.session.execute(insert(order_lines), lines)

    async def _update_orders(
        self, changed: list[OrderState], dirty_lines: Collection[tuple[str, int]], now: datetime
    ) -> None:
        """Write back the state of changed orders and of their changed lines (one executemany each)."""
        if changed:
            await self.session.execute(
                update(orders)
                .where(orders.c.order_id == bindparam("b_order_id"))
                .values(
                    status=bindparam("status"),
                    freight_recognized=bindparam("freight_recognized"),
                    freight_refund_cents=bindparam("freight_refund_cents"),
                    cancelled_at=bindparam("cancelled_at"),
                    updated_at=bindparam("updated_at"),
                ),
                [{**_order_row(o, now), "b_order_id": o.order_id} for o in changed],
            )
        by_key = {(o.order_id, x.line_no): x for o in changed for x in o.lines}
        rows = [
            {"b_order_id": oid, "b_line_no": no, **_line_state(by_key[(oid, no)])}
            for oid, no in sorted(dirty_lines)
            if (oid, no) in by_key
        ]  # fmt: skip
        if rows:
            await self.session.execute(
                update(order_lines)
                .where(
                    and_(
                        order_lines.c.order_id == bindparam("b_order_id"),
                        order_lines.c.line_no == bindparam("b_line_no"),
                    )
                )
                .values(**{k: bindparam(k) for k in _LINE_STATE}),
                rows,
            )

    async def _insert_vouchers(self, posted: list[Voucher]) -> None:
        """Vouchers and all their lines: two statements."""
        if not posted:
            return
        await self.session.execute(
            insert(vouchers),
            [
                {
                    "voucher_id": v.voucher_id,
                    "order_id": v.order_id,
                    "kind": v.kind.value,
                    "source_event_id": v.source_event_id,
                    "source_event_type": v.source_event_type,
                    "summary": v.summary,
                    "currency": v.currency,
                    "total_cents": v.total_cents,
                    "reverses_voucher_id": v.reverses_voucher_id,
                    "posted_at": v.posted_at,
                }
                for v in posted
            ],
        )
        lines = [(v.voucher_id, i, x) for v in posted for i, x in enumerate(v.lines, 1)]
        await self.session.execute(
            _INSERT_LINES,
            {
                "vids": [vid for vid, _, _ in lines],
                "nos": [i for _, i, _ in lines],
                "codes": [x.account_code for _, _, x in lines],
                "dr": [x.debit_cents for _, _, x in lines],
                "cr": [x.credit_cents for _, _, x in lines],
            },
        )

    # -- queries (API) ---------------------------------------------------------------------------------------
    async def list_vouchers(
        self, *, order_id: str | None, kind: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of vouchers (in posting order), each with its lines, and the total that match."""
        conds = _voucher_filter(order_id, kind)
        total = (
            await self.session.execute(select(func.count()).select_from(vouchers).where(*conds))
        ).scalar_one()
        rows = (
            await self.session.execute(
                select(vouchers).where(*conds).order_by(vouchers.c.seq).limit(limit).offset(offset)
            )
        ).all()
        return await self._with_lines(rows), total

    async def get_voucher(self, voucher_id: UUID) -> dict[str, Any] | None:
        rows = (await self.session.execute(select(vouchers).where(vouchers.c.voucher_id == voucher_id))).all()
        found = await self._with_lines(rows)
        return found[0] if found else None

    async def _with_lines(self, rows: list[Any]) -> list[dict[str, Any]]:
        if not rows:
            return []
        lines: dict[UUID, list[dict[str, Any]]] = {}
        for r in await self.session.execute(
            select(voucher_lines, accounts.c.name.label("account_name"))
            .join(accounts, accounts.c.code == voucher_lines.c.account_code)
            .where(voucher_lines.c.voucher_id.in_([r.voucher_id for r in rows]))
            .order_by(voucher_lines.c.voucher_id, voucher_lines.c.line_no)
        ):
            lines.setdefault(r.voucher_id, []).append(
                {"line_no": r.line_no, "account_code": r.account_code, "account_name": r.account_name,
                 "debit_cents": r.debit_cents, "credit_cents": r.credit_cents}
            )  # fmt: skip
        return [{**r._asdict(), "lines": lines.get(r.voucher_id, [])} for r in rows]

    async def list_accounts(self, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        total = (await self.session.execute(select(func.count()).select_from(accounts))).scalar_one()
        rows = await self.session.execute(
            select(accounts).order_by(accounts.c.code).limit(limit).offset(offset)
        )
        return [dict(r._mapping) for r in rows], total

    async def account_totals(
        self, *, currency: str, order_id: str | None
    ) -> list[tuple[str, str, str, str, int, int]]:
        """Per account of the chart: (code, name, type, normal side, Σ debit, Σ credit) of the vouchers."""
        conds = [vouchers.c.currency == currency, *_voucher_filter(order_id, None)]
        sums = (
            select(
                voucher_lines.c.account_code,
                func.sum(voucher_lines.c.debit_cents).label("debit"),
                func.sum(voucher_lines.c.credit_cents).label("credit"),
            )
            .join(vouchers, vouchers.c.voucher_id == voucher_lines.c.voucher_id)
            .where(*conds)
            .group_by(voucher_lines.c.account_code)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                accounts.c.code,
                accounts.c.name,
                accounts.c.type,
                accounts.c.normal_side,
                func.coalesce(sums.c.debit, 0),
                func.coalesce(sums.c.credit, 0),
            )
            .outerjoin(sums, sums.c.account_code == accounts.c.code)
            .order_by(accounts.c.code)
        )
        return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in rows]
