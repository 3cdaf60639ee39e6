"""Tables, repository, unit of work. The only place that knows SQL."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from .domain.posting import OrderLineState, OrderState, OrderStatus
from .domain.vouchers import Line, Voucher


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

# -- tables --
accounts = Table(
    "accounts",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("normal_side", Text, nullable=False),
    CheckConstraint("type IN ('asset', 'liability', 'revenue', 'expense')", name="accounts_type"),
    CheckConstraint("normal_side IN ('debit', 'credit')", name="accounts_normal_side"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("goods_paid_cents", BigInteger, nullable=False),
    Column("post_fee_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("status", Text, nullable=False),
    Column("freight_recognized", Boolean, nullable=False),
    Column("sale_voucher_id", PgUUID(as_uuid=True), nullable=True),
    Column("accepted_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('accepted', 'shipping', 'cancelled')", name="orders_status"),
    CheckConstraint(
        "goods_paid_cents >= 0 AND post_fee_cents >= 0 AND paid_cents = goods_paid_cents + post_fee_cents",
        name="orders_amounts",
    ),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("line_id", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("shipped_qty", Integer, nullable=False),
    Column("recognized_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("order_id", "line_no", name="order_lines_pkey"),
    UniqueConstraint("order_id", "line_id", name="order_lines_line_id"),
    CheckConstraint("qty > 0 AND shipped_qty >= 0 AND shipped_qty <= qty", name="order_lines_qty"),
    CheckConstraint(
        "amount_cents >= 0 AND recognized_cents >= 0 AND recognized_cents <= amount_cents",
        name="order_lines_amounts",
    ),
)

shipments = Table(
    "shipments",
    metadata,
    Column("task_id", Text, primary_key=True),
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("source_event_id", PgUUID(as_uuid=True), nullable=False, unique=True),
    Column("source_event_type", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("goods_cents", BigInteger, nullable=False),
    Column("freight_cents", BigInteger, nullable=False),
    Column("voucher_id", PgUUID(as_uuid=True), nullable=True),
    Column("left_at", DateTime(timezone=True), nullable=False),
    Index("shipments_order", "order_id"),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("voucher_id", PgUUID(as_uuid=True), primary_key=True),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),  # posting order
    Column("order_id", Text, nullable=True),
    Column("kind", Text, nullable=False),
    Column("source_event_id", PgUUID(as_uuid=True), nullable=False),
    Column("source_event_type", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("reverses_voucher_id", PgUUID(as_uuid=True), ForeignKey("vouchers.voucher_id"), nullable=True),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source_event_id", "kind", name="vouchers_source_kind"),
    CheckConstraint("kind IN ('sale', 'revenue', 'reversal')", name="vouchers_kind"),
    CheckConstraint("total_cents > 0", name="vouchers_total"),
    Index("vouchers_order", "order_id", "seq"),
)

voucher_lines = Table(
    "voucher_lines",
    metadata,
    Column("voucher_id", PgUUID(as_uuid=True), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("account_code", Text, ForeignKey("accounts.code"), nullable=False),
    Column("debit_cents", BigInteger, nullable=False),
    Column("credit_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("voucher_id", "line_no", name="voucher_lines_pkey"),
    ForeignKeyConstraint(["voucher_id"], ["vouchers.voucher_id"], name="voucher_lines_voucher_id_fkey"),
    CheckConstraint(
        "debit_cents >= 0 AND credit_cents >= 0 AND (debit_cents = 0) <> (credit_cents = 0)",
        name="voucher_lines_one_side",
    ),
    Index("voucher_lines_account", "account_code"),
)


# -- orders (the projection) --
async def load_orders(
    session: AsyncSession, order_ids: Collection[str], *, with_sale_lines: bool = False
) -> dict[str, OrderState]:
    """The projected orders among `order_ids`, locked FOR UPDATE (in order_id order: no deadlocks)."""
    if not order_ids:
        return {}
    ids = sorted(set(order_ids))
    rows = (
        await session.execute(
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
        )
        for r in rows
    }
    if not out:
        return out
    for r in await session.execute(
        select(order_lines)
        .where(order_lines.c.order_id.in_(list(out)))
        .order_by(order_lines.c.order_id, order_lines.c.line_no)
    ):
        out[r.order_id].lines.append(
            OrderLineState(
                r.line_no,
                r.line_id,
                r.material_code,
                r.qty,
                r.amount_cents,
                r.shipped_qty,
                r.recognized_cents,
            )
        )
    if with_sale_lines:
        sale_ids = {o.sale_voucher_id: o for o in out.values() if o.sale_voucher_id is not None}
        if sale_ids:
            lines: dict[UUID, list[Line]] = {}
            for r in await session.execute(
                select(voucher_lines)
                .where(voucher_lines.c.voucher_id.in_(list(sale_ids)))
                .order_by(voucher_lines.c.voucher_id, voucher_lines.c.line_no)
            ):
                lines.setdefault(r.voucher_id, []).append(Line(r.account_code, r.debit_cents, r.credit_cents))
            for vid, order in sale_ids.items():
                order.sale_lines = tuple(lines.get(vid, ()))
    return out


def _order_row(o: OrderState, now: datetime) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "status": o.status.value,
        "freight_recognized": o.freight_recognized,
        "cancelled_at": o.cancelled_at,
        "updated_at": now,
    }


@dataclass
class NewOrder:
    order: OrderState
    accepted_event_id: UUID
    accepted_at: datetime


async def insert_orders(session: AsyncSession, new: Iterable[NewOrder], now: datetime) -> None:
    """New projections with their lines, in their current (final) state. Two statements for the batch."""
    new = list(new)
    if not new:
        return
    await session.execute(
        insert(orders),
        [
            {
                **_order_row(n.order, now),
                "channel": n.order.channel,
                "channel_order_id": n.order.channel_order_id,
                "currency": n.order.currency,
                "goods_paid_cents": n.order.goods_paid_cents,
                "post_fee_cents": n.order.post_fee_cents,
                "paid_cents": n.order.paid_cents,
                "sale_voucher_id": n.order.sale_voucher_id,
                "accepted_event_id": n.accepted_event_id,
                "accepted_at": n.accepted_at,
            }
            for n in new
        ],
    )
    await session.execute(
        insert(order_lines),
        [
            {
                "order_id": n.order.order_id,
                "line_no": x.line_no,
                "line_id": x.line_id,
                "material_code": x.material_code,
                "qty": x.qty,
                "amount_cents": x.amount_cents,
                "shipped_qty": x.shipped_qty,
                "recognized_cents": x.recognized_cents,
            }
            for n in new
            for x in n.order.lines
        ],
    )


async def update_orders(
    session: AsyncSession,
    changed: Iterable[OrderState],
    dirty_lines: Collection[tuple[str, int]],
    now: datetime,
) -> None:
    """Write back the state of changed orders and of their changed lines (one executemany each)."""
    changed = list(changed)
    if changed:
        await session.execute(
            update(orders)
            .where(orders.c.order_id == bindparam("b_order_id"))
            .values(
                status=bindparam("status"),
                freight_recognized=bindparam("freight_recognized"),
                cancelled_at=bindparam("cancelled_at"),
                updated_at=bindparam("updated_at"),
            ),
            [{**_order_row(o, now), "b_order_id": o.order_id} for o in changed],
        )
    if dirty_lines:
        by_key = {(o.order_id, x.line_no): x for o in changed for x in o.lines}
        rows = []
        for order_id, line_no in sorted(dirty_lines):
            line = by_key[(order_id, line_no)]
            rows.append(
                {
                    "b_order_id": order_id,
                    "b_line_no": line_no,
                    "shipped_qty": line.shipped_qty,
                    "recognized_cents": line.recognized_cents,
                }
            )
        await session.execute(
            update(order_lines)
            .where(
                and_(
                    order_lines.c.order_id == bindparam("b_order_id"),
                    order_lines.c.line_no == bindparam("b_line_no"),
                )
            )
            .values(shipped_qty=bindparam("shipped_qty"), recognized_cents=bindparam("recognized_cents")),
            rows,
        )


async def known_tasks(session: AsyncSession, task_ids: Collection[str]) -> set[str]:
    if not task_ids:
        return set()
    rows = await session.execute(
        select(shipments.c.task_id).where(shipments.c.task_id.in_(list(set(task_ids))))
    )
    return {r[0] for r in rows}


async def insert_shipments(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(shipments), rows)


# -- vouchers --
async def insert_vouchers(session: AsyncSession, posted: list[Voucher]) -> None:
    """Vouchers and all their lines: two statements. A second voucher of the same (source event, kind) fails
    the UNIQUE constraint, which rolls the whole batch back: posting twice is impossible."""
    if not posted:
        return
    await session.execute(
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
    await session.execute(
        _INSERT_LINES,
        {
            "vids": [vid for vid, _, _ in lines],
            "nos": [i for _, i, _ in lines],
            "codes": [x.account_code for _, _, x in lines],
            "dr": [x.debit_cents for _, _, x in lines],
            "cr": [x.credit_cents for _, _, x in lines],
        },
    )


# One statement for every line of the batch: the balance trigger (see the migration) checks each voucher
# once all its lines are in, so a voucher's lines must never be split over several statements.
_INSERT_LINES = text(
    "INSERT INTO voucher_lines (voucher_id, line_no, account_code, debit_cents, credit_cents) "
    "SELECT * FROM unnest(CAST(:vids AS uuid[]), CAST(:nos AS int[]), CAST(:codes AS text[]), "
    "CAST(:dr AS bigint[]), CAST(:cr AS bigint[]))"
)


def _voucher_filter(order_id: str | None, kind: str | None) -> list[Any]:
    conds = []
    if order_id is not None:
        conds.append(vouchers.c.order_id == order_id)
    if kind is not None:
        conds.append(vouchers.c.kind == kind)
    return conds


async def list_vouchers(
    session: AsyncSession, *, order_id: str | None, kind: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of vouchers (in posting order), each with its lines, and the total that match."""
    conds = _voucher_filter(order_id, kind)
    total = (await session.execute(select(func.count()).select_from(vouchers).where(*conds))).scalar_one()
    rows = (
        await session.execute(
            select(vouchers).where(*conds).order_by(vouchers.c.seq).limit(limit).offset(offset)
        )
    ).all()
    return await _with_lines(session, rows), total


async def get_voucher(session: AsyncSession, voucher_id: UUID) -> dict[str, Any] | None:
    rows = (await session.execute(select(vouchers).where(vouchers.c.voucher_id == voucher_id))).all()
    found = await _with_lines(session, rows)
    return found[0] if found else None


async def _with_lines(session: AsyncSession, rows: list[Any]) -> list[dict[str, Any]]:
    if not rows:
        return []
    lines: dict[UUID, list[dict[str, Any]]] = {}
    for r in await session.execute(
        select(voucher_lines, accounts.c.name.label("account_name"))
        .join(accounts, accounts.c.code == voucher_lines.c.account_code)
        .where(voucher_lines.c.voucher_id.in_([r.voucher_id for r in rows]))
        .order_by(voucher_lines.c.voucher_id, voucher_lines.c.line_no)
    ):
        lines.setdefault(r.voucher_id, []).append(
            {
                "line_no": r.line_no,
                "account_code": r.account_code,
                "account_name": r.account_name,
                "debit_cents": r.debit_cents,
                "credit_cents": r.credit_cents,
            }
        )
    return [{**r._asdict(), "lines": lines.get(r.voucher_id, [])} for r in rows]


async def order_exists(session: AsyncSession, order_id: str) -> bool:
    return (
        await session.execute(select(orders.c.order_id).where(orders.c.order_id == order_id))
    ).first() is not None


# -- accounts and trial balance --
async def list_accounts(
    session: AsyncSession, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    total = (await session.execute(select(func.count()).select_from(accounts))).scalar_one()
    rows = await session.execute(select(accounts).order_by(accounts.c.code).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], total


async def account_totals(
    session: AsyncSession, *, currency: str, order_id: str | None
) -> list[tuple[str, str, str, str, int, int]]:
    """Per account of the chart: (code, name, type, normal side, Σ debit, Σ credit) of matching vouchers."""
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
    rows = await session.execute(
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
