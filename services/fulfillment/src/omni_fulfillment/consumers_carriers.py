"""Carrier routing's Kafka subscribers: thin (service/carriers.py does the work).

- `fulfillment-carriers` on omni.order and omni.fulfillment: order.accepted (what routing keeps of the
  order) and fulfillment's own order-allocated (choose each ship task's carrier). The two topics are read
  apart: an allocation read before its order's acceptance is parked until it arrives;
- `fulfillment-materials` on omni.product: product.material.upserted (each material's weight).
"""

from __future__ import annotations

from omni_chassis.consumer import ConsumerSpec
from omni_contracts import Topic

from .service import carriers

CARRIERS_GROUP = "fulfillment-carriers"
MATERIALS_GROUP = "fulfillment-materials"


def specs() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            CARRIERS_GROUP,
            [Topic.ORDER, Topic.FULFILLMENT],
            batch_handler=carriers.on_carrier_events,
            event_types=set(carriers.CARRIER_EVENTS),
        ),
        ConsumerSpec(
            MATERIALS_GROUP,
            [Topic.PRODUCT],
            batch_handler=carriers.on_materials,
            event_types=set(carriers.MATERIAL_EVENTS),
        ),
    ]
