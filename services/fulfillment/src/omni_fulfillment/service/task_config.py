"""What store tasks' use cases are configured with (the service's settings, set once by `app.build`): the
default SLAs per node type, how many re-sources an order may use and what happens after, and how the pickup
code guards against guessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from ..domain.sla import SlaDefaults

ACCEPT_TIMER = "fulfillment.accept-sla"  # key: task id
PICK_PACK_TIMER = "fulfillment.pick-pack-sla"
PICKUP_HOLD_TIMER = "fulfillment.pickup-hold"
TASK_TIMERS = (ACCEPT_TIMER, PICK_PACK_TIMER, PICKUP_HOLD_TIMER)


class Exhausted(StrEnum):
    """What an order becomes when it used every re-source it may."""

    BACKORDER = "backorder"  # order-unfulfillable with the lines' shortfall: the OMS waits for stock
    HOLD = "hold"  # order-unfulfillable without a shortfall: the OMS holds it for an operator (exception)


@dataclass(frozen=True)
class TaskConfig:
    sla: SlaDefaults = field(default_factory=SlaDefaults)
    max_resources: int = 3
    exhausted: Exhausted = Exhausted.BACKORDER
    code_max_failures: int = 5
    code_lock: timedelta = timedelta(minutes=15)


_config = TaskConfig()


def configure(config: TaskConfig) -> None:
    global _config
    _config = config


def config() -> TaskConfig:
    return _config
