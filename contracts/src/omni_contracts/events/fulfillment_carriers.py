"""Fulfillment's carrier routing: the carrier of each parcel (task), its freight cost and why the other
carriers lost. Key: order id."""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field, model_validator

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Value


class CarrierConsidered(Value):
    """One carrier routing looked at for the parcel, and what became of it."""

    carrier: Code
    chosen: bool
    reason: str = Field(description="a sentence an operator reads: why it was chosen, lost or could not")
    cost_cents: NonNegCents | None = Field(
        None, description="its price for this parcel, when it could take it"
    )
    sla_days: int | None = Field(None, ge=0, description="its days to the destination, when it could take it")


@event("fulfillment.carrier-chosen", 1, Topic.FULFILLMENT)
class CarrierChosenV1(EventPayload):
    """The carrier of one task's parcel, chosen by cost within the promised days (pins and the OMS rules'
    preferences first): at allocation (attempt 1), and again each time a carrier refuses the parcel at ship
    time. The latest attempt of a task is the one in force: its `cost_cents` is the task's freight cost
    (finance), and the OMS keeps every attempt in the order's decision trace (stage "carrier")."""

    order_id: str
    task_id: str
    node_code: Code
    attempt: int = Field(ge=1, description="1 at allocation; one more after each refusal at ship time")
    carrier: Code | None = Field(description="null: no carrier could take the parcel (an operator chooses)")
    cost_cents: NonNegCents | None = Field(
        description="the freight cost of the parcel with this carrier (first + continued weight, rounded up)"
    )
    currency: Currency = "CNY"
    weight_g: int = Field(ge=0, description="the task's own lines: material weight × qty")
    sla_days: int | None = Field(None, ge=0, description="days to the destination (+1 past the cut-off)")
    promised_days: int = Field(ge=0, description="the days promised for the destination region")
    ship_day: date | None = Field(None, description="the carrier's local day it takes the parcel")
    reason: str
    replaces: Code | None = Field(
        None, description="the carrier this choice replaces: it refused the parcel at ship time"
    )
    considered: list[CarrierConsidered] = []
    chosen_at: AwareDatetime

    @model_validator(mode="after")
    def _a_carrier_has_a_cost(self) -> CarrierChosenV1:
        if (self.carrier is None) != (self.cost_cents is None):
            raise ValueError("a chosen carrier has a cost, and no carrier has none")
        return self
