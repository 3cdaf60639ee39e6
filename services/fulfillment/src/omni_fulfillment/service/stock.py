"""The stock-per-node projection (what inventory last said is available), and reading it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omni_contracts import Envelope
from omni_contracts.events.inventory import StockChangedV1

from ..domain.errors import NotFound
from . import task_admin
from .common import Uow


async def on_stock_changed(uow: Uow, envs: Sequence[Envelope[Any]]) -> None:
    """Keep the newest `seq` per (node, material), within the batch and against what is stored."""
    newest: dict[tuple[str, str], StockChangedV1] = {}
    for env in envs:
        d: StockChangedV1 = env.data
        key = (d.node_code, d.material_code)
        if key not in newest or newest[key].seq < d.seq:
            newest[key] = d
    async with uow:
        await uow.repo.upsert_stock([(n, m, d.available, d.seq) for (n, m), d in newest.items()])
        await task_admin.on_counts(uow, envs)  # a count recorded closes its cycle-count request


async def stock_view(uow: Uow, node_code: str, material_code: str) -> tuple[int, int]:
    """(available, seq) as the stock projection has it; NotFound before the first stock-changed event."""
    async with uow:
        found = await uow.repo.get_stock(node_code, material_code)
    if found is None:
        raise NotFound(f"no stock known for {material_code} at {node_code}")
    return found
