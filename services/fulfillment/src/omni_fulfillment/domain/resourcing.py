"""Re-sourcing what a node gave back after its order was allocated: its staff rejected a task (or some of
its lines), picked fewer than asked, or did not accept it within its SLA. Pure.

The units are sourced again as a new attempt of the order, within their group, with the giving node kept
out (and any other node `keep_out` names: paused nodes, the stores when the reason sends the units to a
warehouse), so the decision trace says why each node was kept out. The new reservations are requested
while the order's other tasks go on; the order is `sourcing` until inventory answers, then `allocated`
again (a refusal is re-planned as any refusal is). Nodes holding the order's other lines are not kept out:
a node may end up with two tasks of one order.

A node that gives back a whole task has its reservation marked refused: later re-plans of the group keep
it out, as they keep out any node that refused. When the units cannot be placed (no stock left, or the
order used every re-source it may), the order is given up on whole (`give_up`): what is still reserved
is abandoned, its open tasks are cancelled by the service, and the OMS backorders or holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .explain import explain, explain_without_plan
from .order_sourcing import GaveUp, Ignored, OrderSourcing, Requested, ReservationStatus, SourcingStatus
from .sourcing import Line, Shortfall, Unfulfillable, source
from .stock_view import StockView

LIVE = (SourcingStatus.ALLOCATED, SourcingStatus.SOURCING)


def resource(
    order: OrderSourcing,
    lines: Sequence[Line],
    group: str | None,
    node_code: str,
    why: str,
    view: StockView,
    *,
    whole_reservation: str | None = None,
    keep_out: Mapping[str, str] | None = None,
) -> Requested | GaveUp | Ignored:
    """Source `lines` (of `group`) again without `node_code`, which gave them back for `why`."""
    if order.status not in LIVE:
        return Ignored(f"order {order.order_id} is {order.status.value}: nothing to re-source")
    if whole_reservation is not None:
        for r in order.reservations:
            if r.reservation_id == whole_reservation and r.status is ReservationStatus.RESERVED:
                r.status = ReservationStatus.REFUSED
    if node_code not in order.excluded:
        order.excluded.append(node_code)
    # the group's refusing nodes stay out (as a refusal's re-plan keeps them), then this one and the others
    shut = {**order._exclusions(group, set()), **(keep_out or {}), node_code: why}
    candidates = view.candidates(
        [x.material_code for x in lines], [order.pickup_node] if order.pickup_node else []
    )
    # ROUTING (for the routing helper): this passes the order's routing as order_sourcing.py's re-plans do
    result = source(
        lines,
        candidates,
        destination=order.destination,
        excluded=list(shut),
        pickup_node=order.pickup_node,
        routing=order.routing,
    )
    explained = explain(
        lines,
        candidates,
        result,
        attempt=order.attempt + 1,
        destination=order.destination,
        excluded=shut,
        pickup_node=order.pickup_node,
        routing=order.routing,
    )
    decision = order._labelled(explained, group)
    if isinstance(result, Unfulfillable):
        reason = order._say(group, f"{why}; re-sourcing its lines failed: {result.reason}")
        return order._give_up(reason, result.shortfall, decision)
    order.attempt += 1
    order.status, order.reason = SourcingStatus.SOURCING, ""
    made = order._reservations(result, group, view)
    order.reservations.extend(made)
    return Requested(made, (decision,))


def give_up(
    order: OrderSourcing,
    lines: Sequence[Line],
    group: str | None,
    node_code: str,
    why: str,
    view: StockView,
    *,
    left: str,
    short: bool,
    whole_reservation: str | None = None,
) -> GaveUp | Ignored:
    """Give the order up without trying (it used every re-source it may, or the reason says backorder):
    `left` says why there is no plan. `short`: say the lines are short (the OMS backorders the order);
    otherwise the shortfall is empty (the OMS holds it for an operator)."""
    if order.status not in LIVE:
        return Ignored(f"order {order.order_id} is {order.status.value}: nothing to give up")
    if whole_reservation is not None:
        for r in order.reservations:
            if r.reservation_id == whole_reservation and r.status is ReservationStatus.RESERVED:
                r.status = ReservationStatus.REFUSED
    shut = {**order._exclusions(group, set()), node_code: why}
    candidates = view.candidates(
        [x.material_code for x in lines], [order.pickup_node] if order.pickup_node else []
    )
    reason = order._say(group, f"{why}; {left}")
    decision = explain_without_plan(
        lines,
        candidates,
        reason,
        left,
        attempt=order.attempt + 1,
        destination=order.destination,
        excluded=shut,
    )
    shortfall = [Shortfall(x.material_code, x.qty, 0) for x in lines] if short else []
    return order._give_up(reason, shortfall, order._labelled(decision, group))
