"""Carrier choices (fulfillment.carrier-chosen v1) for the freight tests, unit and integration alike."""

from __future__ import annotations

from datetime import UTC, datetime

from omni_contracts.events.fulfillment_carriers import CarrierChosenV1, CarrierConsidered

CHOSEN_AT = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)


def carrier_chosen(
    order_id: str,
    task_id: str,
    carrier: str | None,
    cost_cents: int | None,
    *,
    attempt: int = 1,
    replaces: str | None = None,
) -> CarrierChosenV1:
    """The choice of `task_id`'s parcel (WH-1, 1,200 g, promised 3 days); `carrier` None: none could."""
    considered = [CarrierConsidered(carrier=carrier, chosen=True, reason="the cheapest within the promise",
                                    cost_cents=cost_cents, sla_days=2)] if carrier else []  # fmt: skip
    return CarrierChosenV1(
        order_id=order_id, task_id=task_id, node_code="WH-1", attempt=attempt, carrier=carrier,
        cost_cents=cost_cents, weight_g=1_200, sla_days=2 if carrier else None, promised_days=3,
        reason="the cheapest within the promise" if carrier else "no carrier can take the parcel",
        replaces=replaces, considered=considered, chosen_at=CHOSEN_AT,
    )  # fmt: skip
