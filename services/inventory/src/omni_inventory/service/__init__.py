"""Use cases: the one place that orchestrates domain, repository and outbox, each inside a unit of work.

Consumers and routes both call these with a `UnitOfWork[store.Repository]`; a use case opens it
(`async with uow:`, re-entrant under a consumer's inbox claim), so its writes and its events commit
together or not at all.

- `stock`: receipts, adjustments, stock and ledger queries;
- `reservations`: reserve (all lines or none), consume, release, the consumers' batch, reservation queries;
- `freezes`: hold stock back with a reason, release it (REST: api_freezes.py);
- `quality`, `counts`, `transfers`: quality states, cycle counts, transfers and in-transit (REST:
  api_physical.py, api_transfers.py);
- `changes`: the accumulator of stock changes (one ledger insert, coalesced stock-changed events).
"""

from .changes import StockChanges, Uow
from .reservations import (
    HANDLERS,
    consume,
    get_reservation,
    handle_batch,
    list_reservations,
    release_order,
    reserve,
)
from .stock import (
    AdjustCommand,
    AdjustmentResult,
    LineResult,
    ReceiptResult,
    ReceiveCommand,
    adjust,
    get_stock,
    list_movements,
    list_stock,
    receive,
)

__all__ = [
    "HANDLERS",
    "AdjustCommand",
    "AdjustmentResult",
    "LineResult",
    "ReceiptResult",
    "ReceiveCommand",
    "StockChanges",
    "Uow",
    "adjust",
    "consume",
    "get_reservation",
    "get_stock",
    "handle_batch",
    "list_movements",
    "list_reservations",
    "list_stock",
    "receive",
    "release_order",
    "reserve",
]
