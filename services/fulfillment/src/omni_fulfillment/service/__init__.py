"""Use cases: the one place that orchestrates domain, repository and outbox, each inside a unit of work.

Consumers and routes both call these with a `UnitOfWork[store.Repository]` (`Uow`); a use case opens it
(`async with uow:`, re-entrant under a consumer's inbox claim), so its writes and its events commit
together or not at all. Split by use case:

- `nodes`: warehouses and stores (create, replace, deactivate, read);
- `stock`: the stock-per-node projection of inventory's stock changes;
- `orders`: order.accepted (source, or source again after an operator's retry) and order.cancelled;
- `replies`: inventory's reserved / refused (allocate, re-plan, give up);
- `outcomes`: a batch's decisions turned into rows (written at commit) and events;
- `tasks`: reading tasks, and what the staff's actions share; `task_flow`: the staff's actions (accept,
  pick, pack, ship, ready, hand over, resend the code, reject), once per client action id;
  `rejections`: units given back and re-sourced; `task_timers`: the SLA timers' handlers; `task_admin`:
  reject reasons, SLA policies, pauses, cycle-count requests; `task_hooks`: where tasks meet sourcing.
"""

from .common import DEFAULT_MAX_ATTEMPTS, Uow
from .nodes import create_node, deactivate_node, get_node, list_nodes, put_node
from .orders import get_sourcing, on_order_events
from .replies import on_reservation_replies
from .stock import on_stock_changed, stock_view
from .task_flow import accept_task, pickup_task, ship_task
from .tasks import get_task, list_tasks, shipped_lines

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "Uow",
    "accept_task",
    "create_node",
    "deactivate_node",
    "get_node",
    "get_sourcing",
    "get_task",
    "list_nodes",
    "list_tasks",
    "on_order_events",
    "on_reservation_replies",
    "on_stock_changed",
    "pickup_task",
    "put_node",
    "ship_task",
    "shipped_lines",
    "stock_view",
]
