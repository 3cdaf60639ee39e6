"""Fulfillment events for the unit tests of the order use cases (the reference order: coffee set + 3 bags)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import (
    OrderAllocatedV1,
    OrderFulfilledV1,
    OrderUnfulfillableV1,
    PickedUpV2,
    ShippedLine,
    ShippedV1,
    ShippedV2,
    SourcingStartedV1,
    TaskRef,
)
from omni_order import service

AT = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
SET = ("BEAN-YUNNAN-250G", "BEAN-ETHIOPIA-250G", "BEAN-COLOMBIA-250G", "MACHINE-AUTO-01")


async def accepted_order(**kw: Any) -> tuple[Any, str]:
    """A fake unit of work holding the reference catalog and one accepted order."""
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    (order_id,) = (await service.intake(uow, [envelope(channel_order(**kw))])).accepted
    return uow, order_id


async def follow(uow: Any, *events: Any) -> None:
    await service.follow_fulfillment(uow, [envelope(e) for e in events])


def qty(*pairs: tuple[str, int]) -> list[MaterialQty]:
    return [MaterialQty(material_code=m, qty=q) for m, q in pairs]


def started(order_id: str, attempt: int = 1) -> SourcingStartedV1:
    return SourcingStartedV1(order_id=order_id, attempt=attempt, started_at=AT)


def one_task(order_id: str, kind: str = "ship", node: str = "WH-HZ") -> OrderAllocatedV1:
    lines = qty(*((m, 1) for m in SET), ("BEAN-ETH-500", 3))
    return OrderAllocatedV1(
        order_id=order_id,
        tasks=[TaskRef(task_id="T1", node_code=node, kind=kind, reservation_id="R1", lines=lines)],
    )


WH_LINES = (*((m, 1) for m in SET), ("BEAN-ETH-500", 2))
STORE_LINES = (("BEAN-ETH-500", 1),)


def two_tasks(order_id: str) -> OrderAllocatedV1:
    """The set and 2 bags from the Hangzhou warehouse (T1), 1 bag from a store (T2)."""
    return OrderAllocatedV1(order_id=order_id, tasks=[
        TaskRef(task_id="T1", node_code="WH-HZ", kind="ship", reservation_id="R1", lines=qty(*WH_LINES)),
        TaskRef(task_id="T2", node_code="ST-1", kind="ship", reservation_id="R2", lines=qty(*STORE_LINES)),
    ])  # fmt: skip


def shipped_v2(order_id: str, task: str, lines: list[tuple[str, str, int]], node: str = "WH-HZ") -> ShippedV2:
    """`lines`: (line id, material, qty)."""
    return ShippedV2(
        task_id=task, order_id=order_id, node_code=node, reservation_id="R" + task[1:], carrier="SF",
        tracking_no="SF" + task, shipped_at=AT,
        lines=[ShippedLine(line_id=lid, material_code=m, qty=q) for lid, m, q in lines],
    )  # fmt: skip


def shipped_v1(
    order_id: str, task: str, pairs: tuple[tuple[str, int], ...], node: str = "WH-HZ"
) -> ShippedV1:
    return ShippedV1(
        task_id=task, order_id=order_id, node_code=node, reservation_id="R" + task[1:], carrier="ZTO",
        tracking_no="ZT" + task, lines=qty(*pairs), shipped_at=AT,
    )  # fmt: skip


def picked_up_v2(order_id: str, lines: list[tuple[str, str, int]]) -> PickedUpV2:
    return PickedUpV2(
        task_id="T1", order_id=order_id, node_code="ST-1", reservation_id="R1", picked_up_at=AT,
        lines=[ShippedLine(line_id=lid, material_code=m, qty=q) for lid, m, q in lines],
    )  # fmt: skip


def all_lines(order_id: str) -> list[tuple[str, str, int]]:
    """Every line of the reference order, as (line id, material, qty)."""
    return [(f"{order_id}-00{i}", m, 1) for i, m in enumerate(SET, start=1)] + [
        (f"{order_id}-005", "BEAN-ETH-500", 3)
    ]


def unfulfillable(order_id: str, reason: str = "no stock", attempts: int = 3) -> OrderUnfulfillableV1:
    return OrderUnfulfillableV1(order_id=order_id, reason=reason, attempts=attempts)


def fulfilled(order_id: str) -> OrderFulfilledV1:
    return OrderFulfilledV1(order_id=order_id, fulfilled_at=AT)


def statuses(uow: Any, order_id: str) -> list[tuple[str | None, str]]:
    return [(h["from_status"], h["to_status"]) for h in uow.repo.history if h["order_id"] == order_id]
