"""Inbox: `(consumer, event_id)` inserted in the handler's own transaction. Nothing inserted -> skip."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_CLAIM_ONE = text(
    "INSERT INTO inbox (consumer, event_id, event_type) VALUES (:c, :e, :t) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)
_CLAIM_MANY = text(
    "INSERT INTO inbox (consumer, event_id, event_type) "
    "SELECT :c, e, t FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS text[])) AS x(e, t) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


async def claim(session: AsyncSession, consumer: str, event_id: UUID, event_type: str | None = None) -> bool:
    """True when this consumer has not handled `event_id` before (and now owns it in this transaction)."""
    result = await session.execute(_CLAIM_ONE, {"c": consumer, "e": event_id, "t": event_type})
    return result.first() is not None


async def claim_many(
    session: AsyncSession, consumer: str, events: Sequence[tuple[UUID, str | None]]
) -> set[UUID]:
    """The event ids among `events` that this consumer has not handled before."""
    if not events:
        return set()
    seen: dict[UUID, str | None] = {}
    for eid, etype in events:
        seen.setdefault(eid, etype)
    result = await session.execute(
        _CLAIM_MANY, {"c": consumer, "ids": list(seen), "types": list(seen.values())}
    )
    return {row[0] for row in result}
