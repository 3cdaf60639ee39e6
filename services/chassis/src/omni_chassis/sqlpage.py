"""One page of a list query and its total, the way every repository's list method needs them.

    conds = matching((stock.c.node_code, node), (stock.c.material_code, material))   # None: no filter
    rows, total = await page_of(session, stock, conds, [stock.c.node_code], limit=limit, offset=offset)

The total counts every row that matches (`next_offset` in paging.py turns it into the next page's offset);
the page is in `order_by` order, which should end in a unique key so pages neither repeat nor skip a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import FromClause


def matching(*pairs: tuple[Any, Any]) -> list[ColumnElement[bool]]:
    """`column == value` for every pair whose value is not None."""
    return [column == value for column, value in pairs if value is not None]


async def page_of(
    session: AsyncSession,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    *,
    limit: int,
    offset: int,
    columns: Sequence[Any] | None = None,
) -> tuple[list[Any], int]:
    """(the rows of one page, how many rows match in all)."""
    total = (await session.execute(select(func.count()).select_from(source).where(*where))).scalar_one()
    stmt = select(*(columns or [source])).select_from(source).where(*where)
    rows = await session.execute(stmt.order_by(*order_by).limit(limit).offset(offset))
    return list(rows), total
