"""Use cases: the one place that orchestrates domain, repository and outbox, each in a unit of work.

- orders.py: the Tmall webhook intake and the receipts;
- shops.py: shops and their credentials;
- push.py: the stock push's status (consumer, claims, answers, resync, views); worker.py runs the pushes;
- drift.py: the drift check and its schedule.
"""

from .orders import Receipt, Uow, list_receipts, receive_tmall_order
from .push import (
    Backoff,
    claim_pushes,
    finish_push,
    list_push_status,
    on_listing_stock,
    push_status_of,
    resync,
)
from .shops import get_shop, list_shops, put_shop

__all__ = [
    "Backoff",
    "Receipt",
    "Uow",
    "claim_pushes",
    "finish_push",
    "get_shop",
    "list_push_status",
    "list_receipts",
    "list_shops",
    "on_listing_stock",
    "push_status_of",
    "put_shop",
    "receive_tmall_order",
    "resync",
]
