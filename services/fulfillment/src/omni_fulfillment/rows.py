"""Rows <-> domain objects, for store.py (which alone runs the SQL). Tables are in tables.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .domain.lines import LinePart, OrderLine
from .domain.nodes import Node, NodeType
from .domain.order_sourcing import OrderSourcing, Reservation, ReservationStatus, SourcingStatus
from .domain.routing import OrderRouting
from .domain.sourcing import Line, Point
from .domain.tasks import Task, TaskKind, TaskStatus
from .rows_routing import routing_of

# a store task's work (fulfillment0005): written as the domain has it ("picked" is converted)
TASK_WORK = (
    "node_type", "channel", "picked", "picking_at", "packed_at", "ready_at", "released_at", "due_kind",
    "due_at", "escalated_at", "escalation", "code_failures", "locked_until", "code_sent", "status_reason",
)  # fmt: skip
# what a task's save writes back: its state, and its lines (a partial refund before shipment takes units off)
TASK_STATE = (
    "status", "accepted_by", "carrier", "tracking_no", "accepted_at", "done_at", "cancelled_at", "lines",
    "order_lines", *TASK_WORK,
)  # fmt: skip


def lines_json(lines: Iterable[Line]) -> list[dict[str, Any]]:
    return [{"material_code": x.material_code, "qty": x.qty} for x in lines]


def _lines(data: Iterable[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(Line(d["material_code"], int(d["qty"])) for d in data)


def node_of(row: Any) -> Node:
    return Node(
        row.code, row.name, NodeType(row.type), row.city, row.lat, row.lng, row.priority, row.active,
        routing_of(row),
    )  # fmt: skip


def node_values(node: Node) -> dict[str, Any]:
    return {
        "code": node.code,
        "name": node.name,
        "type": node.type.value,
        "city": node.city,
        "lat": node.lat,
        "lng": node.lng,
        "priority": node.priority,
        "active": node.active,
    }


def sourcing_of(r: Any) -> OrderSourcing:
    with_ids = bool(r.lines) and all(d.get("line_id") for d in r.lines)
    return OrderSourcing(
        order_id=r.order_id,
        lines=_lines(r.lines),
        destination=Point(r.dest_lat, r.dest_lng)
        if r.dest_lat is not None and r.dest_lng is not None
        else None,
        pickup_node=r.pickup_node,
        attempt=r.attempt,
        excluded=list(r.excluded),
        status=SourcingStatus(r.status),
        reason=r.reason,
        order_lines=tuple(
            OrderLine(d["line_id"], d["material_code"], int(d["qty"]), d.get("group")) for d in r.lines
        )
        if with_ids
        else (),
        first_attempt=r.first_attempt,
        accepted_event=r.accepted_event,
        routing=OrderRouting.of_json(r.routing),
    )


def reservation_of(r: Any) -> Reservation:
    return Reservation(
        r.reservation_id,
        r.node_code,
        r.attempt,
        _lines(r.lines),
        ReservationStatus(r.status),
        group=r.line_group,
    )


def _order_line(x: OrderLine) -> dict[str, Any]:
    """An order line as the sourcing row keeps it; `group` only when it has one (main lines as before)."""
    d: dict[str, Any] = {"line_id": x.line_id, "material_code": x.material_code, "qty": x.qty}
    if x.group:
        d["group"] = x.group
    return d


def sourcing_values(o: OrderSourcing, now: datetime) -> dict[str, Any]:
    """The order's lines are kept with their ids when it has them (one entry per order line)."""
    lines = [_order_line(x) for x in o.order_lines] if o.order_lines else lines_json(o.lines)
    return {
        "order_id": o.order_id,
        "status": o.status.value,
        "lines": lines,
        "dest_lat": o.destination.lat if o.destination else None,
        "dest_lng": o.destination.lng if o.destination else None,
        "pickup_node": o.pickup_node,
        "attempt": o.attempt,
        "excluded": list(o.excluded),
        "reason": o.reason,
        "first_attempt": o.first_attempt,
        "accepted_event": o.accepted_event,
        "routing": o.routing.json(),
        "created_at": now,
        "updated_at": now,
    }


def task_of(r: Any) -> Task:
    return Task(
        task_id=r.task_id,
        order_id=r.order_id,
        node_code=r.node_code,
        kind=TaskKind(r.kind),
        reservation_id=r.reservation_id,
        lines=_lines(r.lines),
        status=TaskStatus(r.status),
        pickup_code=r.pickup_code,
        accepted_by=r.accepted_by,
        carrier=r.carrier,
        tracking_no=r.tracking_no,
        created_at=r.created_at,
        accepted_at=r.accepted_at,
        done_at=r.done_at,
        cancelled_at=r.cancelled_at,
        order_lines=tuple(LinePart(d["line_id"], d["material_code"], int(d["qty"])) for d in r.order_lines),
        group=r.line_group,
        **{c: getattr(r, c) for c in TASK_WORK if c != "picked"},
        picked=_lines(r.picked),
    )


def task_values(t: Task, now: datetime) -> dict[str, Any]:
    return {
        "task_id": t.task_id,
        "order_id": t.order_id,
        "node_code": t.node_code,
        "kind": t.kind.value,
        "reservation_id": t.reservation_id,
        "lines": lines_json(t.lines),
        "status": t.status.value,
        "pickup_code": t.pickup_code,
        "accepted_by": t.accepted_by,
        "carrier": t.carrier,
        "tracking_no": t.tracking_no,
        "created_at": t.created_at or now,
        "accepted_at": t.accepted_at,
        "done_at": t.done_at,
        "cancelled_at": t.cancelled_at,
        "updated_at": now,
        "order_lines": [
            {"line_id": p.line_id, "material_code": p.material_code, "qty": p.qty} for p in t.order_lines
        ],
        "line_group": t.group,
        **{c: getattr(t, c) for c in TASK_WORK if c != "picked"},
        "picked": lines_json(t.picked),
    }
