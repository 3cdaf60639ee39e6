"""Every event payload of Omni. Importing this package registers them all."""

from . import channel, diagnostics, finance, fulfillment, inventory, order, product, store_sales

__all__ = ["channel", "diagnostics", "finance", "fulfillment", "inventory", "order", "product", "store_sales"]
