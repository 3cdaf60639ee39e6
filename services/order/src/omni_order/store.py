"""Tables and repository functions. The only place that knows SQL.

Two groups of tables:
- the catalog projection (catalog_*), fed by omni.product, each row carrying the PIM aggregate's version;
- the order in its six dimensions: trade, logistics, money and invoice on `orders`; goods on
  `order_channel_lines` (as the channel sent them) and `order_lines` (decomposed material lines with their
  allocated amounts); stock on `order_line_allocations`; shipments on `order_shipments`; and the
  `order_status_history` of every transition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from omni_contracts.bundles import Component

from .domain.intake import Catalog, Listing, Material, SalesProduct


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata

TS = DateTime(timezone=True)

# -- catalog projection ---------------------------------------------------------------------------
materials = Table(
    "catalog_materials",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("barcode", Text),
    Column("unit", Text, nullable=False),
    Column("weight_g", Integer, nullable=False),
    Column("high_value", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

sales_products = Table(
    "catalog_sales_products",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
)

sales_product_components = Table(
    "catalog_sales_product_components",
    metadata,
    Column(
        "sales_product_code",
        Text,
        ForeignKey("catalog_sales_products.code", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("price_weight", Integer, nullable=False),
    PrimaryKeyConstraint("sales_product_code", "position"),
)

channel_listings = Table(
    "catalog_channel_listings",
    metadata,
    Column("listing_id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text),
    Column("outer_id", Text),
    Column("sales_product_code", Text, nullable=False),
    Column("price_cents", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", TS, nullable=False),
    Index("catalog_listings_by_item", "channel", "shop_id", "channel_item_id"),
    Index("catalog_listings_by_outer", "channel", "shop_id", "outer_id"),
)

# -- orders ---------------------------------------------------------------------------------------
orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    # trade
    Column("channel", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("channel_order_id", Text, nullable=False),
    Column("channel_status", Text, nullable=False),
    Column("business_model", Text, nullable=False),
    Column("buyer_id", Text, nullable=False),
    Column("role_owner", Text, nullable=False),
    Column("role_seller", Text, nullable=False),
    Column("role_channel", Text, nullable=False),
    Column("role_fulfiller", Text),
    Column("role_platform", Text),
    Column("buyer_message", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("paid_at", TS),
    Column("received_at", TS, nullable=False),
    Column("recorded_at", TS, nullable=False),
    Column("duplicate_deliveries", Integer, nullable=False, server_default=text("0")),
    Column("last_duplicate_at", TS),
    # state
    Column("status", Text, nullable=False),
    Column("status_reason_code", Text),
    Column("status_reason", Text),
    Column("updated_at", TS, nullable=False),
    Column("completed_at", TS),
    Column("cancelled_at", TS),
    # logistics
    Column("delivery", Text, nullable=False),
    Column("pickup_node", Text),
    Column("receiver_name", Text, nullable=False),
    Column("receiver_phone", Text, nullable=False),
    Column("country", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("city", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("town", Text, nullable=False),
    Column("address_detail", Text, nullable=False),
    Column("zip", Text, nullable=False),
    Column("lat", Double),
    Column("lng", Double),
    # money
    Column("currency", Text, nullable=False),
    Column("goods_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False),
    Column("post_fee_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("goods_paid_cents", BigInteger, nullable=False),
    # invoice
    Column("invoice_kind", Text),
    Column("invoice_title", Text),
    Column("invoice_tax_id", Text),
    UniqueConstraint("channel", "channel_order_id", name="orders_channel_order_uq"),
    Index("orders_by_created", "created_at", "order_id"),
    Index("orders_by_status_created", "status", "created_at"),
    Index("orders_by_shop_created", "channel", "shop_id", "created_at"),
)

order_channel_lines = Table(
    "order_channel_lines",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("channel_line_id", Text, nullable=False),
    Column("channel_item_id", Text, nullable=False),
    Column("channel_sku_id", Text),
    Column("outer_sku_id", Text),
    Column("outer_iid", Text),
    Column("title", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("unit_price_cents", BigInteger, nullable=False),
    Column("discount_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("listing_id", Text),
    Column("sales_product_code", Text),
    PrimaryKeyConstraint("order_id", "position"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("line_id", Text, primary_key=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("channel_line_id", Text, nullable=False),
    Column("sales_product_code", Text, nullable=False),
    Column("material_code", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    UniqueConstraint("order_id", "position", name="order_lines_position_uq"),
)

order_line_allocations = Table(
    "order_line_allocations",
    metadata,
    Column("line_id", Text, ForeignKey("order_lines.line_id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("reservation_id", Text, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("allocated_at", TS, nullable=False),
    PrimaryKeyConstraint("line_id", "task_id"),
    Index("order_line_allocations_by_order", "order_id"),
)

order_shipments = Table(
    "order_shipments",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("task_id", Text, nullable=False),
    Column("node_code", Text, nullable=False),
    Column("kind", Text, nullable=False),  # ship | pickup
    Column("carrier", Text),
    Column("tracking_no", Text),
    Column("at", TS, nullable=False),
    PrimaryKeyConstraint("order_id", "task_id"),
)

order_status_history = Table(
    "order_status_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("reason_code", Text),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),  # intake | fulfillment | api
    Column("cause_event_id", UUID(as_uuid=True)),
    Column("at", TS, nullable=False),
    Index("order_status_history_by_order", "order_id", "id"),
)


# -- catalog projection: versioned upserts -------------------------------------------------------
def newest(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per key: the highest version (one statement cannot upsert the same row twice)."""
    best: dict[Any, dict[str, Any]] = {}
    for r in rows:
        cur = best.get(r[key])
        if cur is None or r["version"] > cur["version"]:
            best[r[key]] = r
    return list(best.values())


async def _upsert_versioned(
    session: AsyncSession, table: Table, key: str, rows: list[dict[str, Any]]
) -> list[str]:
    """Insert, or update only when the incoming version is newer. Returns the keys actually written."""
    if not rows:
        return []
    stmt = insert(table)
    cols = [c.name for c in table.columns if c.name != key]
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c: stmt.excluded[c] for c in cols},
        where=table.c.version < stmt.excluded.version,
    ).returning(table.c[key])
    result = await session.execute(stmt, rows)
    return [r[0] for r in result]


async def upsert_materials(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    return await _upsert_versioned(session, materials, "code", newest(rows, "code"))


async def upsert_listings(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    return await _upsert_versioned(session, channel_listings, "listing_id", newest(rows, "listing_id"))


async def upsert_sales_products(session: AsyncSession, rows: list[dict[str, Any]]) -> list[str]:
    """Rows carry `components` (a list of dicts, in order); they are replaced when the product is written."""
    rows = newest(rows, "code")
    heads = [{k: v for k, v in r.items() if k != "components"} for r in rows]
    written = set(await _upsert_versioned(session, sales_products, "code", heads))
    if not written:
        return []
    await session.execute(
        sales_product_components.delete().where(sales_product_components.c.sales_product_code.in_(written))
    )
    comps = [
        {"sales_product_code": r["code"], "position": i, **c}
        for r in rows
        if r["code"] in written
        for i, c in enumerate(r["components"], start=1)
    ]
    await session.execute(insert(sales_product_components), comps)
    return sorted(written)


async def load_catalog(
    session: AsyncSession, shops: set[tuple[str, str]], item_ids: set[str], outer_ids: set[str]
) -> Catalog:
    """The listings an intake batch may need, their sales products and materials: three queries."""
    if not shops:
        return Catalog()
    lt = channel_listings
    cond = lt.c.channel_item_id.in_(item_ids)
    if outer_ids:
        cond = or_(cond, lt.c.outer_id.in_(outer_ids))
    rows = (
        await session.execute(select(lt).where(tuple_(lt.c.channel, lt.c.shop_id).in_(shops), cond))
    ).all()
    listings = [
        Listing(
            r.listing_id,
            r.channel,
            r.shop_id,
            r.channel_item_id,
            r.channel_sku_id,
            r.outer_id,
            r.sales_product_code,
            r.status,
        )
        for r in rows
    ]
    codes = {x.sales_product_code for x in listings}
    products: list[SalesProduct] = []
    material_codes: set[str] = set()
    if codes:
        sp, spc = sales_products, sales_product_components
        prow = (
            await session.execute(
                select(sp.c.code, sp.c.name, sp.c.active, spc.c.material_code, spc.c.qty, spc.c.price_weight)
                .join(spc, spc.c.sales_product_code == sp.c.code, isouter=True)
                .where(sp.c.code.in_(codes))
                .order_by(sp.c.code, spc.c.position)
            )
        ).all()
        grouped: dict[str, tuple[str, bool, list[Component]]] = {}
        for r in prow:
            head = grouped.setdefault(r.code, (r.name, r.active, []))
            if r.material_code is not None:
                head[2].append(Component(r.material_code, r.qty, r.price_weight))
                material_codes.add(r.material_code)
        products = [SalesProduct(c, n, a, tuple(comps)) for c, (n, a, comps) in grouped.items()]
    mats: list[Material] = []
    if material_codes:
        mrow = (
            await session.execute(
                select(materials.c.code, materials.c.active).where(materials.c.code.in_(material_codes))
            )
        ).all()
        mats = [Material(r.code, r.active) for r in mrow]
    return Catalog(listings, products, mats)


async def get_catalog_row(session: AsyncSession, table: Table, key: str, value: str) -> dict[str, Any] | None:
    row = (await session.execute(select(table).where(table.c[key] == value))).mappings().first()
    return dict(row) if row else None


# -- orders: writes ------------------------------------------------------------------------------
async def insert_new_orders(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert orders; a (channel, channel_order_id) already stored is skipped. Returns the inserted ids."""
    if not rows:
        return set()
    stmt = (
        insert(orders)
        .on_conflict_do_nothing(index_elements=["channel", "channel_order_id"])
        .returning(orders.c.order_id)
    )
    return {r[0] for r in await session.execute(stmt, rows)}


async def count_duplicates(session: AsyncSession, counts: dict[tuple[str, str], int], at: datetime) -> None:
    """Add to the duplicate delivery count of already stored orders, one statement for all."""
    if not counts:
        return
    keys = list(counts)
    await session.execute(
        text(
            "UPDATE orders o SET duplicate_deliveries = o.duplicate_deliveries + d.n, "
            "last_duplicate_at = :at FROM unnest(CAST(:channels AS text[]), CAST(:ids AS text[]), "
            "CAST(:ns AS int[])) AS d(channel, coid, n) "
            "WHERE o.channel = d.channel AND o.channel_order_id = d.coid"
        ),
        {
            "channels": [k[0] for k in keys],
            "ids": [k[1] for k in keys],
            "ns": [counts[k] for k in keys],
            "at": at,
        },
    )


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(table), list(rows))


async def lock_orders(session: AsyncSession, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The state of these orders, locked for this transaction (FOR UPDATE), in one query."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    o = orders
    rows = await session.execute(
        select(o.c.order_id, o.c.status, o.c.channel, o.c.channel_order_id, o.c.delivery)
        .where(o.c.order_id.in_(ids))
        .order_by(o.c.order_id)
        .with_for_update()
    )
    return {r.order_id: dict(r._mapping) for r in rows}


async def material_lines(session: AsyncSession, order_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    ids = list(set(order_ids))
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(order_lines)
        .where(order_lines.c.order_id.in_(ids))
        .order_by(order_lines.c.order_id, order_lines.c.position)
    )
    for r in rows.mappings():
        out[r["order_id"]].append(dict(r))
    return out


async def channel_lines(session: AsyncSession, order_id: str) -> list[dict[str, Any]]:
    t = order_channel_lines
    rows = await session.execute(select(t).where(t.c.order_id == order_id).order_by(t.c.position))
    return [dict(r) for r in rows.mappings()]


async def set_channel_line_matches(
    session: AsyncSession, order_id: str, matches: list[tuple[int, str | None, str | None]]
) -> None:
    """Record the listing (and sales product) each channel line matched: (position, listing, code)."""
    t = order_channel_lines
    stmt = (
        update(t)
        .where(t.c.order_id == bindparam("_order_id"), t.c.position == bindparam("_position"))
        .values(listing_id=bindparam("_listing_id"), sales_product_code=bindparam("_code"))
    )
    params = [
        {"_order_id": order_id, "_position": p, "_listing_id": listing, "_code": code}
        for p, listing, code in matches
    ]
    await session.execute(stmt.execution_options(synchronize_session=False), params)


async def update_orders(session: AsyncSession, changes: dict[str, dict[str, Any]]) -> None:
    """Apply per-order column changes, grouped by the set of columns so that each group is one executemany."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for order_id, cols in changes.items():
        groups.setdefault(tuple(sorted(cols)), []).append(
            {"_id": order_id, **{f"_{k}": v for k, v in cols.items()}}
        )
    for cols, rows in groups.items():
        stmt = (
            update(orders)
            .where(orders.c.order_id == bindparam("_id"))
            .values({c: bindparam(f"_{c}") for c in cols})
        )
        await session.execute(stmt.execution_options(synchronize_session=False), rows)


async def replace_allocations(
    session: AsyncSession, order_ids: Iterable[str], rows: list[dict[str, Any]]
) -> None:
    ids = list(set(order_ids))
    if ids:
        await session.execute(
            order_line_allocations.delete().where(order_line_allocations.c.order_id.in_(ids))
        )
    await insert_rows(session, order_line_allocations, rows)


async def upsert_shipments(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    best = {(r["order_id"], r["task_id"]): r for r in rows}
    stmt = insert(order_shipments)
    stmt = stmt.on_conflict_do_update(
        index_elements=["order_id", "task_id"],
        set_={c: stmt.excluded[c] for c in ("node_code", "kind", "carrier", "tracking_no", "at")},
    )
    await session.execute(stmt, list(best.values()))


# -- orders: reads -------------------------------------------------------------------------------
async def get_order(
    session: AsyncSession, order_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    stmt = select(orders).where(orders.c.order_id == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).mappings().first()
    return dict(row) if row else None


async def find_order_id(session: AsyncSession, channel: str, channel_order_id: str) -> str | None:
    return (
        await session.execute(
            select(orders.c.order_id).where(
                and_(orders.c.channel == channel, orders.c.channel_order_id == channel_order_id)
            )
        )
    ).scalar()


async def order_children(session: AsyncSession, order_id: str) -> dict[str, list[dict[str, Any]]]:
    async def rows(table: Table, *order_by: Any) -> list[dict[str, Any]]:
        res = await session.execute(select(table).where(table.c.order_id == order_id).order_by(*order_by))
        return [dict(r) for r in res.mappings()]

    return {
        "channel_lines": await rows(order_channel_lines, order_channel_lines.c.position),
        "lines": await rows(order_lines, order_lines.c.position),
        "allocations": await rows(
            order_line_allocations, order_line_allocations.c.line_id, order_line_allocations.c.task_id
        ),
        "shipments": await rows(order_shipments, order_shipments.c.at, order_shipments.c.task_id),
        "history": await rows(order_status_history, order_status_history.c.id),
    }


SUMMARY_COLUMNS = (
    "order_id", "channel", "shop_id", "channel_order_id", "channel_status", "business_model", "status",
    "status_reason_code", "status_reason", "delivery", "currency", "paid_cents", "goods_paid_cents",
    "created_at", "paid_at", "received_at", "updated_at", "duplicate_deliveries",
)  # fmt: skip


async def list_orders(
    session: AsyncSession,
    *,
    status: str | None,
    channel: str | None,
    shop_id: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first (channel creation time, then order id). `created_to` is exclusive."""
    conds = []
    if status:
        conds.append(orders.c.status == status)
    if channel:
        conds.append(orders.c.channel == channel)
    if shop_id:
        conds.append(orders.c.shop_id == shop_id)
    if created_from:
        conds.append(orders.c.created_at >= created_from)
    if created_to:
        conds.append(orders.c.created_at < created_to)
    cols = [orders.c[c] for c in SUMMARY_COLUMNS]
    q = select(*cols)
    count = select(func.count()).select_from(orders)
    if conds:
        q = q.where(*conds)
        count = count.where(*conds)
    q = q.order_by(orders.c.created_at.desc(), orders.c.order_id.desc()).limit(limit).offset(offset)
    items = [dict(r) for r in (await session.execute(q)).mappings()]
    total = (await session.execute(count)).scalar_one()
    return items, total
