"""The read models finance rebuilds with `omni replay finance <name>` (omni_chassis.replay).

- `order-facts`: finance's projection of orders (orders, order_lines: amounts, shipped quantities,
  recognised revenue, what refunds took, status), the merged orders' mapping to their sources
  (merged_orders, merged_sources, merged_lines), the shipments booked against them and the receivables of
  orders sold on account, from omni.order (order.accepted, order.cancelled, order.refund-approved,
  order.compensation-granted, order.payment-received) and omni.fulfillment (shipped, picked up).
  Idempotent by business key: an order (or a merged order) is booked once, a cancellation of a cancelled
  order does nothing, a task is booked once, a case once (its voucher id), an order is paid once.

The handlers are the live consumers' own (`finance-orders`, `finance-shipments`); across the two topics the
replay applies events in `occurred_at` order (a shipment after its order). The vouchers they post land in
the replay's shadow schema and are thrown away: the ledger is never rewritten (voucher ids are derived
from the source event, so the rebuilt `sale_voucher_id`/`voucher_id` point at the live vouchers).
Set at apply time, compared by presence only: `updated_at`, `cancelled_at`.
"""

from __future__ import annotations

from omni_chassis.replay import Projection

from . import consumers, store

ORDER_FACTS = Projection.of_consumers(
    "order-facts",
    [s for s in consumers.specs() if s.group != consumers.STORE_SALES_GROUP],  # store sales touch no order
    # parents first: orders and shipments reference merged orders, lines, shipments, receivables orders
    tables=(
        "merged_orders",
        "merged_sources",
        "merged_lines",
        "orders",
        "order_lines",
        "shipments",
        "receivables",
    ),
    volatile=("updated_at", "cancelled_at"),
    copy=("accounts",),  # the chart of accounts the postings read
    repository=store.Repository,  # `uow.repo`, as the live unit of work carries it
    description="finance's order projection and shipments, from omni.order and omni.fulfillment",
)

PROJECTIONS: dict[str, Projection] = {p.name: p for p in (ORDER_FACTS,)}
