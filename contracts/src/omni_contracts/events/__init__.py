"""Every event payload of Omni. Importing this package registers them all."""

from . import (
    aftersales,
    channel,
    diagnostics,
    finance,
    fulfillment,
    fulfillment_carriers,
    fulfillment_tasks,
    inventory,
    order,
    product,
    store_sales,
)

__all__ = [
    "aftersales",
    "channel",
    "diagnostics",
    "finance",
    "fulfillment",
    "fulfillment_carriers",
    "fulfillment_tasks",
    "inventory",
    "order",
    "product",
    "store_sales",
]
