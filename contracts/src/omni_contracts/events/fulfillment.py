"""Fulfillment: nodes, sourcing, reservations requested, tasks, shipments.

Key: order id (node code for nodes).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, MaterialQty, Shortfall, Value

HHMM = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"


class OpeningWindow(Value):
    """Open from `opens` to `closes` (local wall-clock time in the node's zone, `closes` exclusive)."""

    opens: str = Field(pattern=HHMM)
    closes: str = Field(pattern=HHMM)


class WeeklyOpening(OpeningWindow):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class HolidayHours(Value):
    """A date whose weekly hours do not apply: closed (no windows) or open at special hours."""

    date: date
    name: str = ""
    windows: list[OpeningWindow] = Field(default=[], description="empty: closed all day")


@event("fulfillment.node.upserted", 1, Topic.FULFILLMENT)
class NodeUpsertedV1(EventPayload):
    node_code: Code
    name: str
    type: Literal["warehouse", "store"]
    city: str = ""
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    priority: int = Field(description="higher wins a tie")
    active: bool = True
    # routing settings (absent from events published before they existed: the defaults)
    timezone: str = Field("Asia/Shanghai", description="the IANA zone its hours are in")
    hours: list[WeeklyOpening] = Field(default=[], description="weekly opening windows; none: always open")
    holidays: list[HolidayHours] = []
    orders_per_day: int | None = Field(None, ge=0, description="capacity: orders a day (None: no limit)")
    max_open_tasks: int | None = Field(None, ge=0, description="capacity: open tasks (None: no limit)")
    same_city_radius_km: float | None = Field(
        None, gt=0, description="a store: how far it delivers same-city orders (None: it does not)"
    )
    load_band_km: float = Field(
        2.0, ge=0, description="when it is the nearest node, nodes this much farther compete with it on load"
    )
    pools: list[Code] = Field(default=[], description="the pools it is in, for the OMS rules' route hints")
    high_value: bool = Field(False, description="dedicated to high-value goods")


@event("fulfillment.reservation-requested", 1, Topic.FULFILLMENT)
class ReservationRequestedV1(EventPayload):
    """Fulfillment asks inventory to reserve all these lines at one node, or none."""

    reservation_id: str
    order_id: str
    node_code: Code
    lines: list[MaterialQty] = Field(min_length=1)
    attempt: int = Field(ge=1)


class TaskRef(Value):
    task_id: str
    node_code: Code
    kind: Literal["ship", "pickup"]
    reservation_id: str
    lines: list[MaterialQty]


@event("fulfillment.order-allocated", 1, Topic.FULFILLMENT)
class OrderAllocatedV1(EventPayload):
    """Every line is reserved; one task per node was created."""

    order_id: str
    tasks: list[TaskRef] = Field(min_length=1)


@event("fulfillment.order-unfulfillable", 1, Topic.FULFILLMENT)
class OrderUnfulfillableV1(EventPayload):
    """No plan could be reserved within the attempts allowed; any partial reservation is to be released."""

    order_id: str
    reason: str
    shortfall: list[Shortfall] = []
    attempts: int


@event("fulfillment.task-accepted", 1, Topic.FULFILLMENT)
class TaskAcceptedV1(EventPayload):
    task_id: str
    order_id: str
    node_code: Code
    accepted_by: str


@event("fulfillment.shipped", 1, Topic.FULFILLMENT)
class ShippedV1(EventPayload):
    """A task left its node with a carrier: its reservation is consumed."""

    task_id: str
    order_id: str
    node_code: Code
    reservation_id: str
    carrier: str
    tracking_no: str
    lines: list[MaterialQty]
    shipped_at: AwareDatetime


@event("fulfillment.picked-up", 1, Topic.FULFILLMENT)
class PickedUpV1(EventPayload):
    """The buyer collected a store-pickup task: its reservation is consumed."""

    task_id: str
    order_id: str
    node_code: Code
    reservation_id: str
    lines: list[MaterialQty]
    picked_up_at: AwareDatetime


class ShippedLine(MaterialQty):
    """A shipped (or picked-up) material line, naming the order line it fulfils."""

    line_id: str | None = Field(
        default=None,
        min_length=1,
        description="the order line (order.accepted's lines[].line_id) these units fulfil; absent when "
        "the event was published as v1, which carried no line ids",
    )


# v2 only adds `line_id` to each line: v1 readers read v2 through v1 (readable_as=1), and v1 data is valid
# v2 data (no upcaster). V2 subclasses V1 so that code written for a V1 (isinstance, type hints) takes a V2.
@event("fulfillment.shipped", 2, Topic.FULFILLMENT, readable_as=1)
class ShippedV2(ShippedV1):
    """A task left its node with a carrier: its reservation is consumed. Lines name their order lines."""

    lines: list[ShippedLine]  # type: ignore[assignment]


@event("fulfillment.picked-up", 2, Topic.FULFILLMENT, readable_as=1)
class PickedUpV2(PickedUpV1):
    """The buyer collected a store-pickup task: its reservation is consumed. Lines name their order lines."""

    lines: list[ShippedLine]  # type: ignore[assignment]


@event("fulfillment.order-fulfilled", 1, Topic.FULFILLMENT)
class OrderFulfilledV1(EventPayload):
    """Every task of the order is shipped or picked up."""

    order_id: str
    fulfilled_at: AwareDatetime


@event("fulfillment.sourcing-started", 1, Topic.FULFILLMENT)
class SourcingStartedV1(EventPayload):
    """Fulfillment started sourcing an order: on its acceptance, or again when an operator's retry re-sends
    the acceptance of an order it had given up on (its attempts and excluded nodes start afresh)."""

    order_id: str
    attempt: int = Field(
        ge=1,
        description="the attempt number of this sourcing's first plan (its reservation requests carry it): 1 "
        "for a new order, the next number after the last attempt when a retry starts it again",
    )
    started_at: AwareDatetime


class NodeConsidered(Value):
    """One node sourcing looked at for a plan, and what became of it."""

    node_code: Code
    outcome: Literal["chosen", "lost", "excluded", "unusable"] = Field(
        description="chosen: in the plan; lost: could have served (some or all of the lines) but another "
        "won; excluded: not considered (it refused this order earlier, or already holds its other lines); "
        "unusable: cannot serve these lines (no stock, not the pickup node, the order is short everywhere)"
    )
    lines: list[MaterialQty] = Field(default=[], description="what it was chosen for (chosen only)")
    distance_km: float | None = Field(
        default=None, description="to the destination, when the order has coordinates"
    )
    why: str = Field(description="a sentence an operator reads")
    open_tasks: int | None = Field(
        default=None, ge=0, description="its load when sourcing decided (None: published before it was kept)"
    )


@event("fulfillment.sourcing-decided", 1, Topic.FULFILLMENT)
class SourcingDecidedV1(EventPayload):
    """Why sourcing planned what it did (or could not plan at all): every node considered, winners and
    losers with the reason, for the order's decision trace. Staged with each plan (the first, and each
    re-plan after a refusal) and with each give-up."""

    order_id: str
    attempt: int = Field(
        ge=1,
        description="the attempt this decision planned (its reservation requests carry it); on a give-up "
        "the attempt that could not be planned",
    )
    decided_at: AwareDatetime
    result: Literal["planned", "unfulfillable"]
    reason: str = Field(default="", description="why there is no plan (unfulfillable only)")
    lines: list[MaterialQty] = Field(
        default=[], description="what this decision sourced: every line first, a refused node's on a re-plan"
    )
    nodes: list[NodeConsidered] = []


class InterceptedLine(Value):
    """Units taken off a task not yet shipped: they will not leave, and their reservation gives them back."""

    line_id: str = Field(min_length=1, description="the order's material line (order.accepted lines[])")
    material_code: Code
    qty: int = Field(gt=0)
    task_id: str
    node_code: Code
    reservation_id: str
    task_cancelled: bool = Field(description="the task had nothing left to ship, so it was cancelled")


class NotIntercepted(Value):
    """Units of a refund before shipment that could not be held back: they had already left their node."""

    line_id: str = Field(min_length=1)
    material_code: Code
    qty: int = Field(gt=0)
    why: str = ""


@event("fulfillment.lines-intercepted", 1, Topic.FULFILLMENT)
class LinesInterceptedV1(EventPayload):
    """A refund before shipment that does not take the whole order (order.refund-approved with
    before_shipment) intercepts only its units: fulfillment takes them off the tasks not yet shipped (a task
    left empty is cancelled), inventory releases them from the reservations, and the OMS notes on the case
    what was held back and what had already gone. Once per case."""

    order_id: str
    case_id: str = Field(min_length=1)
    intercepted: list[InterceptedLine] = Field(default_factory=list)
    not_intercepted: list[NotIntercepted] = Field(default_factory=list)
    intercepted_at: AwareDatetime
