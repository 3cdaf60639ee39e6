"""Routing through the use cases, on the fake unit of work: node settings replaced (and published) without a
restart, a node's load counted from its open tasks, the OMS rules' route hints and the order's high-value
lines and same-city delivery read from order.accepted and kept for the re-plans."""

from __future__ import annotations

from typing import Any

import pytest
from fulfillment_fakes import node, refused, reserved, stock_changed
from routing_fakes import accepted_with, new_uow

from omni_fulfillment import service
from omni_fulfillment.domain.errors import NotFound
from omni_fulfillment.domain.hours import OpeningHours, WeeklyWindow, Window
from omni_fulfillment.domain.nodes import NodeRouting
from omni_fulfillment.domain.routing import Hint, OrderRouting
from omni_fulfillment.domain.tasks import TaskStatus
from omni_fulfillment.service import nodes as node_service


async def seed(uow: Any, nodes: list[Any], stock: list[tuple[str, str, int]]) -> None:
    for n in nodes:
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


def requests(uow: Any, order_id: str) -> list[Any]:
    return [e.data for e in uow.of_type("fulfillment.reservation-requested") if e.key == order_id]


def decided(uow: Any, order_id: str) -> list[dict[str, Any]]:
    return [
        {n.node_code: (n.outcome, n.why, n.open_tasks) for n in e.data.nodes}
        for e in uow.of_type("fulfillment.sourcing-decided")
        if e.key == order_id
    ]


async def test_node_settings_are_replaced_published_and_kept_by_a_plain_put():
    uow = new_uow()
    await service.put_node(uow, node("ST-01", 1, type="store"))
    hours = OpeningHours(weekly=(WeeklyWindow(0, Window.of("09:00", "21:00")),))
    settings = NodeRouting(hours=hours, max_open_tasks=40, same_city_radius_km=5, pools=("EAST",))
    saved = await node_service.put_node_routing(uow, "ST-01", settings)
    assert saved.routing == settings and uow.repo.nodes["ST-01"].routing == settings
    (event,) = [e.data for e in uow.of_type("fulfillment.node.upserted")][-1:]
    assert (event.hours[0].day, event.hours[0].opens, event.max_open_tasks, event.pools) == (
        "mon", "09:00", 40, ["EAST"],
    )  # fmt: skip
    await service.put_node(uow, node("ST-01", 2, type="store", priority=3))  # name, place, priority only
    assert uow.repo.nodes["ST-01"].routing == settings
    assert [e.data for e in uow.of_type("fulfillment.node.upserted")][-1].same_city_radius_km == 5
    assert (await service.deactivate_node(uow, "ST-01")).routing == settings
    with pytest.raises(NotFound, match="node NOPE does not exist"):
        await node_service.put_node_routing(uow, "NOPE", settings)


async def test_a_node_full_of_open_tasks_is_skipped_and_frees_up_when_they_ship():
    uow = new_uow()
    await seed(
        uow, [node("ST-03", 1, type="store"), node("WH-HZ", 30)], [("ST-03", "A", 9), ("WH-HZ", "A", 9)]
    )
    await node_service.put_node_routing(uow, "ST-03", NodeRouting(max_open_tasks=1))
    await service.on_order_events(uow, [accepted_with("O1", {"A": 1})])
    (r1,) = requests(uow, "O1")
    assert r1.node_code == "ST-03"
    # O1's reservation is pending: it counts as ST-03's open task, so O2 goes elsewhere
    await service.on_order_events(uow, [accepted_with("O2", {"A": 1})])
    (r2,) = requests(uow, "O2")
    assert r2.node_code == "WH-HZ"
    assert decided(uow, "O2")[0]["ST-03"] == ("unusable", "full: 1 of 1 open tasks; holds every line", 1)
    await service.on_reservation_replies(uow, [reserved(r1), reserved(r2)])
    (task,) = [t for t in uow.repo.tasks.values() if t.node_code == "ST-03"]
    task.status = TaskStatus.SHIPPED  # it left (how it got there is the task use cases')
    await service.on_order_events(uow, [accepted_with("O3", {"A": 1})])
    assert [r.node_code for r in requests(uow, "O3")] == ["ST-03"]


async def test_a_route_hint_from_the_rules_picks_its_node_and_a_re_plan_keeps_to_its_pool():
    uow = new_uow()
    nodes = [node("N1", 1), node("P1", 30), node("P2", 40)]
    await seed(uow, nodes, [(n.code, "A", 9) for n in nodes])
    for code in ("P1", "P2"):
        await node_service.put_node_routing(uow, code, NodeRouting(pools=("EAST",)))
    hints = [{"pool": "EAST", "ruleset": "rs-1 v3"}, {"carrier": "SF", "ruleset": "rs-1 v3"}]
    await service.on_order_events(uow, [accepted_with("O1", {"A": 1}, hints=hints)])
    kept = uow.repo.sourcings["O1"].routing
    assert kept == OrderRouting(
        hints=(Hint(pool="EAST", ruleset="rs-1 v3"), Hint(carrier="SF", ruleset="rs-1 v3"))
    )
    (first,) = requests(uow, "O1")
    assert first.node_code == "P1"
    await service.on_reservation_replies(uow, [refused(first)])
    assert [r.node_code for r in requests(uow, "O1")] == ["P1", "P2"], "the re-plan follows the hint too"
    last = decided(uow, "O1")[-1]
    assert last["N1"][:2] == ("lost", "lost: route hint pool EAST (rs-1 v3) is followed; holds every line")


async def test_high_value_lines_and_same_city_delivery_come_from_order_accepted():
    uow = new_uow()
    nodes = [node("N1", 1), node("HV-1", 60), node("S1", 3, type="store"), node("S2", 9, type="store")]
    await seed(uow, nodes, [(n.code, m, 9) for n in nodes for m in ("W", "B")])
    await node_service.put_node_routing(uow, "HV-1", NodeRouting(high_value=True))
    for code in ("S1", "S2"):
        await node_service.put_node_routing(uow, code, NodeRouting(same_city_radius_km=5))
    await service.on_order_events(
        uow,
        [
            accepted_with("O1", [("W", 1, "high_value"), ("B", 1)]),  # split by type: its own group
            accepted_with("O2", {"W": 1}, high_value={"W"}),  # the line's flag
            accepted_with("O3", {"B": 1}, delivery="same_city"),
        ],
    )
    assert [(r.node_code, r.reservation_id) for r in requests(uow, "O1")] == [
        ("N1", "O1:1:N1"),
        ("HV-1", "O1:1:HV-1:high_value"),
    ]
    assert [r.node_code for r in requests(uow, "O2")] == ["HV-1"]
    assert [r.node_code for r in requests(uow, "O3")] == ["S1"]
    (o3,) = decided(uow, "O3")
    assert o3["N1"][1] == "same-city delivery comes from stores; this is a warehouse; holds every line"
    assert o3["S2"][1].startswith("9.0 km away, beyond its same-city radius of 5 km")
