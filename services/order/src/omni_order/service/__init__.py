"""Use cases: the one place that orchestrates domain, repository and events, each in a unit of work.

Every use case takes `uow` (a `UnitOfWork` whose `repo` is a `store.Repository`) and runs `async with uow:`:
the consumers and the REST routes call only these.

- `catalog`: `project_catalog` (omni.product -> the catalog projection, newer versions only),
  `get_catalog_listing`;
- `intake`: channel orders -> deduplicated, decomposed orders (accepted or exception), a batch at a time;
- `follow`: `follow_fulfillment`, fulfillment's events drive the order through sourcing, allocation,
  (partial) shipment and completion;
- `operator`: `cancel`, `retry` (what an operator does through the API);
- `queries`: `get_order`, `get_order_by_channel`, `list_orders`;
- `problems`: `record_writeback_refusals` (a platform's refusal of a shipment write-back, kept on the order);
- `backorder`: `resource_backorders` (receipts re-source waiting backorders), `on_overdue` (the escalation
  timer), `list_backorders`, `backorder_policy`; `follow` makes the backorders;
- `aftersales` (platform refunds and closures), `aftersales_ops` (reship, repair, compensation, a return's
  inspection, the case reads), `aftersales_cases` (what they share): see docs/aftersales.md;
- `gifts`: `decide_gifts` (intake's gift lines within caps and stock), `project_stock` (the order-stock
  group's view of available stock, for gifts), `gifts_of`;
- `presale`: the ship-from date and balance deadline timers (`PRESALE_TIMERS`);
- `merge`: merge windows (intake), the window's timer (`MERGE_TIMERS`), `unmerge`;
- `journal`: the errors, and the journal of status transitions the use cases share.
"""

from .aftersales import EVENTS as AFTERSALES_EVENTS
from .aftersales import apply_channel_aftersales
from .backorder import (
    OVERDUE_TIMER,
    STOCK_EVENTS,
    backorder_policy,
    configure_defaults,
    list_backorders,
    on_overdue,
    resource_backorders,
)
from .buyer_data import reseal_page
from .catalog import PRODUCT_EVENTS, get_catalog_listing, get_catalog_material, project_catalog
from .credit import NotOnAccount, credit_account, list_credit_accounts, record_payment
from .follow import FULFILLMENT_EVENTS, FULFILLMENT_TARGETS, follow_fulfillment
from .gifts import gifts_of, project_stock
from .intake import IntakeResult, intake
from .journal import OrderNotFound, StatusJournal, StillBlocked
from .merge import MERGE_TIMER, NotMergeable, on_merge_window, unmerge
from .operator import MergedSource, cancel, retry
from .presale import TIMERS as PRESALE_TIMERS
from .problems import record_writeback_refusals
from .queries import OrderRecord, get_order, get_order_by_channel, list_orders
from .review import StillHeld, bulk, release, trace

MERGE_TIMERS = {MERGE_TIMER: on_merge_window}

__all__ = [
    "AFTERSALES_EVENTS",
    "FULFILLMENT_EVENTS",
    "FULFILLMENT_TARGETS",
    "MERGE_TIMERS",
    "OVERDUE_TIMER",
    "PRESALE_TIMERS",
    "PRODUCT_EVENTS",
    "STOCK_EVENTS",
    "IntakeResult",
    "MergedSource",
    "NotMergeable",
    "NotOnAccount",
    "OrderNotFound",
    "OrderRecord",
    "StatusJournal",
    "StillBlocked",
    "StillHeld",
    "apply_channel_aftersales",
    "backorder_policy",
    "bulk",
    "cancel",
    "configure_defaults",
    "credit_account",
    "follow_fulfillment",
    "get_catalog_listing",
    "get_catalog_material",
    "get_order",
    "get_order_by_channel",
    "gifts_of",
    "intake",
    "list_backorders",
    "list_credit_accounts",
    "list_orders",
    "on_overdue",
    "project_catalog",
    "project_stock",
    "record_payment",
    "record_writeback_refusals",
    "release",
    "reseal_page",
    "resource_backorders",
    "retry",
    "trace",
    "unmerge",
]
