"""Re-sealing buyer data after a key rotation (docs/buyer-data.md): every order's receiver name, phone and
address detail under the ring's first key, and legacy plain values (rows written before order0010 by a
migration without the key) sealed at last. A page at a time, in order id order, each page one unit of work
(its rows locked), so it can run beside live traffic and be stopped and resumed from its cursor."""

from __future__ import annotations

from typing import Any

from omni_chassis.logging import get_logger

from ..domain import buyer_data
from .journal import OrderUow
from .records import buyer_keys

log = get_logger(__name__)


def _stale(ring: buyer_data.KeyRing, stored: str | None) -> bool:
    if not stored:
        return False
    k = buyer_data.kind(stored)
    if k == "plain":
        return True
    return k == "enc" and not stored.startswith(f"{buyer_data.ENC_PREFIX}{ring.kids[0]}:")


async def reseal_page(uow: OrderUow, *, after: str | None, limit: int) -> dict[str, Any]:
    """Re-seal the next `limit` orders after order id `after` (None: from the start). `next_after` is None
    once the last order was scanned."""
    ring = buyer_keys()
    async with uow:
        rows = await uow.repo.receivers_after(after, limit)
        changes: dict[str, dict[str, Any]] = {}
        for r in rows:
            cols = {}
            for c in buyer_data.FIELDS:
                if _stale(ring, r[c]):
                    was_plain = buyer_data.kind(r[c]) == "plain"
                    cols[c] = (ring.seal(r[c], order_id=r["order_id"], column=c) if was_plain
                               else ring.reseal(r[c], order_id=r["order_id"], column=c))  # fmt: skip
            if cols:
                changes[r["order_id"]] = cols
        await uow.repo.update_orders(changes)
    done = len(rows) < limit
    out = {"scanned": len(rows), "resealed": len(changes), "key_id": ring.kids[0],
           "next_after": None if done or not rows else rows[-1]["order_id"]}  # fmt: skip
    log.info("buyer data resealed", scanned=out["scanned"], resealed=out["resealed"], key_id=out["key_id"])
    return out
