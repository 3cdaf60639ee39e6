"""Fulfillment: a store's tasks between accept and handover - rejections, reassignments, SLA escalations,
pickup codes and pickups not collected.

Key: order id. Every event that gives units back (`task-rejected`, `task-reassigned`, `pickup-expired`)
names the reservation they come from: inventory releases exactly those units from it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Qty, Value

Next = Literal["next_best_node", "warehouses_only", "backorder"]


class ReleasedLine(Value):
    """Units a task gives back to its node's stock (they do not leave from there)."""

    material_code: Code
    qty: Qty
    line_id: str | None = Field(
        default=None,
        min_length=1,
        description="the order line (order.accepted lines[].line_id) they were for",
    )


@event("fulfillment.task-rejected", 1, Topic.FULFILLMENT)
class TaskRejectedV1(EventPayload):
    """A node gave back some or all of a task's units: its staff rejected them with a reason code from the
    configured list, or picked fewer than asked (a shortage, reason code `short_pick`). Inventory releases
    exactly `lines` from the reservation and, for each material of `stock_out`, sets the node's available to
    0 (on hand down to what is still held). Fulfillment re-sources the units at another node: its
    `sourcing-decided` says where, and why this node was kept out."""

    task_id: str
    order_id: str
    node_code: Code
    reservation_id: str
    reason_code: Code
    reason: str = Field(description="the reason's label, as the staff saw it")
    lines: list[ReleasedLine] = Field(min_length=1)
    whole: bool = Field(description="the whole task was rejected: nothing of it is left at the node")
    stock_out: list[Code] = Field(
        default_factory=list, description="materials the node says it has none of: its available goes to 0"
    )
    count_requested: list[Code] = Field(
        default_factory=list, description="materials a cycle count is requested for at the node"
    )
    paused_until: AwareDatetime | None = Field(
        default=None, description="the node takes no new orders until then (too busy)"
    )
    next: Next = Field(description="where the units go next, as the reason says")
    rejected_by: str | None = None
    rejected_at: AwareDatetime


@event("fulfillment.task-reassigned", 1, Topic.FULFILLMENT)
class TaskReassignedV1(EventPayload):
    """A task was not accepted within its accept SLA: it is taken from its node (inventory releases its
    reservation) and its units are re-sourced at the next best node, this one excluded."""

    task_id: str
    order_id: str
    node_code: Code
    reservation_id: str
    lines: list[ReleasedLine] = Field(min_length=1)
    sla_s: int = Field(gt=0, description="the accept SLA that ran out, in seconds")
    reason: str
    reassigned_at: AwareDatetime


@event("fulfillment.pickup-expired", 1, Topic.FULFILLMENT)
class PickupExpiredV1(EventPayload):
    """A store pickup was ready but not collected within the pickup hold: the task is cancelled, inventory
    releases its reservation, and the OMS cancels the order (a refund is due to the buyer)."""

    task_id: str
    order_id: str
    node_code: Code
    reservation_id: str
    lines: list[ReleasedLine] = Field(min_length=1)
    ready_at: AwareDatetime
    hold_s: int = Field(gt=0)
    reason: str
    expired_at: AwareDatetime


@event("fulfillment.task-escalated", 1, Topic.FULFILLMENT)
class TaskEscalatedV1(EventPayload):
    """A task breached its pick-and-pack SLA (accepted, not packed or ready for pickup in time). Nothing
    moves: the task is marked escalated, for the store's manager and operations."""

    task_id: str
    order_id: str
    node_code: Code
    status: str = Field(description="the task's status when the SLA ran out")
    sla: Literal["pick_pack"] = "pick_pack"
    sla_s: int = Field(gt=0)
    due_at: AwareDatetime
    reason: str
    escalated_at: AwareDatetime


@event("fulfillment.pickup-code-issued", 1, Topic.FULFILLMENT)
class PickupCodeIssuedV1(EventPayload):
    """A store pickup is ready: the buyer is to be told its pickup code (the channel turns this into a
    platform message). Issued when the task becomes ready for pickup, and again on each resend."""

    task_id: str
    order_id: str
    node_code: Code
    node_name: str = ""
    channel: str | None = None
    shop_id: str | None = None
    channel_order_id: str | None = None
    pickup_code: str = Field(pattern=r"^[0-9]{6}$", description="a secret for the buyer: never logged")
    sent: int = Field(ge=1, description="1 for the first message, 2 for the first resend, ...")
    collect_by: AwareDatetime | None = Field(default=None, description="the end of the pickup hold")
    issued_at: AwareDatetime
