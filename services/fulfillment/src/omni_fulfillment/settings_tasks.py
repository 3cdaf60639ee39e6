"""The settings of store tasks (app.py's Settings takes them): default SLAs per node type, the re-sources an
order may use and what happens after, and the pickup code's guard. Per node and channel, the SLA policies
(REST /sla-policies) override the defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import AliasChoices, Field

from omni_chassis.settings import ServiceSettings

from .domain.sla import Sla, SlaDefaults
from .service.task_config import Exhausted, TaskConfig

DAY = 24 * 3600
ENV = {
    "store_accept_sla_s": "FULFILLMENT_STORE_ACCEPT_SLA_S",
    "store_pick_pack_sla_s": "FULFILLMENT_STORE_PICK_PACK_SLA_S",
    "warehouse_accept_sla_s": "FULFILLMENT_WAREHOUSE_ACCEPT_SLA_S",
    "warehouse_pick_pack_sla_s": "FULFILLMENT_WAREHOUSE_PICK_PACK_SLA_S",
    "pickup_hold_s": "FULFILLMENT_PICKUP_HOLD_S",
    "resource_max": "FULFILLMENT_RESOURCE_MAX",
    "resource_exhausted": "FULFILLMENT_RESOURCE_EXHAUSTED",
    "pickup_code_max_failures": "FULFILLMENT_PICKUP_CODE_MAX_FAILURES",
    "pickup_code_lock_s": "FULFILLMENT_PICKUP_CODE_LOCK_S",
}


def _f(default: Any, name: str, description: str, **kw: Any) -> Any:
    return Field(default, validation_alias=AliasChoices(name, ENV[name]), description=description, **kw)


class TaskSettings(ServiceSettings):
    store_accept_sla_s: int = _f(
        30 * 60, "store_accept_sla_s", "a store accepts a task within (0: no SLA)", ge=0, le=30 * DAY
    )
    store_pick_pack_sla_s: int = _f(
        60 * 60, "store_pick_pack_sla_s", "accepted to packed / ready at a store", ge=0, le=30 * DAY
    )
    warehouse_accept_sla_s: int = _f(
        0, "warehouse_accept_sla_s", "a warehouse accepts within (0: none)", ge=0, le=30 * DAY
    )
    warehouse_pick_pack_sla_s: int = _f(
        0, "warehouse_pick_pack_sla_s", "accepted to packed at a warehouse", ge=0, le=30 * DAY
    )
    pickup_hold_s: int = _f(2 * DAY, "pickup_hold_s", "a ready pickup waits for its buyer", ge=0, le=30 * DAY)
    resource_max: int = _f(
        3, "resource_max", "re-sources per order (rejections, shortages, timeouts)", ge=0, le=100
    )
    resource_exhausted: Exhausted = _f(
        Exhausted.BACKORDER,
        "resource_exhausted",
        "after the last re-source: backorder (wait for stock) or hold",
    )
    pickup_code_max_failures: int = _f(
        5, "pickup_code_max_failures", "wrong codes in a row before a lock", ge=1, le=100
    )
    pickup_code_lock_s: int = _f(15 * 60, "pickup_code_lock_s", "how long a task stays locked", ge=1, le=DAY)

    @classmethod
    def env_names(cls) -> set[str]:
        return super().env_names() | set(ENV.values())

    def task_config(self) -> TaskConfig:
        return TaskConfig(
            sla=SlaDefaults(
                store=Sla(self.store_accept_sla_s, self.store_pick_pack_sla_s, self.pickup_hold_s),
                warehouse=Sla(
                    self.warehouse_accept_sla_s, self.warehouse_pick_pack_sla_s, self.pickup_hold_s
                ),
            ),
            max_resources=self.resource_max,
            exhausted=self.resource_exhausted,
            code_max_failures=self.pickup_code_max_failures,
            code_lock=timedelta(seconds=self.pickup_code_lock_s),
        )
