"""Routing's SQL (store.py calls it): a node's routing settings, the nodes a stock view needs with theirs,
and their load, counted from fulfillment's own tables in one query per batch."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from omni_contracts import utcnow

from .domain.nodes import NodeLoad, NodeRouting
from .domain.stock_view import NodeInfo
from .rows_routing import ROUTING_COLUMNS, routing_of, routing_values
from .tables import nodes

# a task in one of these is no longer on the node's hands
DONE_STATUSES = ("shipped", "picked_up", "cancelled", "rejected", "reassigned")
# a task in one of these was not the node's order after all (it went elsewhere)
GONE_STATUSES = ("rejected", "reassigned")

# Per node: its open tasks plus its pending reservations (tasks on their way), and the orders it was given
# since its local midnight (tasks not moved elsewhere, pending reservations). The indexes tasks_node_status,
# tasks_node_created and reservations_node_pending serve it.
LOAD_SQL = text(
    """
    WITH n AS (
        SELECT code,
            date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE timezone) AT TIME ZONE timezone
                AS midnight
        FROM nodes WHERE code = ANY(:codes)
    )
    SELECT n.code,
        (SELECT count(*) FROM tasks t WHERE t.node_code = n.code AND t.status <> ALL(:done))
        + (SELECT count(*) FROM reservations r WHERE r.node_code = n.code AND r.status = 'pending')
            AS open_tasks,
        (SELECT count(*) FROM (
            SELECT t.order_id FROM tasks t
            WHERE t.node_code = n.code AND t.created_at >= n.midnight AND t.status <> ALL(:gone)
            UNION
            SELECT r.order_id FROM reservations r
            WHERE r.node_code = n.code AND r.status = 'pending' AND r.created_at >= n.midnight
        ) o) AS orders_today
    FROM n
    """
)


async def node_loads(session: AsyncSession, codes: Iterable[str], now: datetime) -> dict[str, NodeLoad]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    found = await session.execute(
        LOAD_SQL, {"codes": wanted, "now": now, "done": list(DONE_STATUSES), "gone": list(GONE_STATUSES)}
    )
    return {r.code: NodeLoad(int(r.open_tasks), int(r.orders_today)) for r in found}


async def node_infos(session: AsyncSession, codes: Iterable[str]) -> dict[str, NodeInfo]:
    """The active nodes among `codes`, with their place, type and routing settings."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    cols = [nodes.c.code, nodes.c.lat, nodes.c.lng, nodes.c.priority, nodes.c.type]
    q = nodes.select().with_only_columns(*cols, *(nodes.c[k] for k in ROUTING_COLUMNS))
    rows = await session.execute(q.where(nodes.c.active, nodes.c.code.in_(wanted)))
    return {r.code: NodeInfo(r.code, r.lat, r.lng, r.priority, r.type, routing_of(r)) for r in rows}


async def put_routing(session: AsyncSession, code: str, routing: NodeRouting) -> bool:
    """Replace a node's routing settings; False when there is no such node."""
    stmt = (
        update(nodes)
        .where(nodes.c.code == code)
        .values(**routing_values(routing), updated_at=utcnow())
        .returning(nodes.c.code)
    )
    return (await session.execute(stmt)).first() is not None
