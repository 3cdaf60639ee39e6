"""fulfillment.sourcing-decided: staged with each plan (first, re-plan after a refusal) and each give-up, in
the same unit of work as the plan's own events; the sourcing result itself is unchanged."""

from __future__ import annotations

from typing import Any

from fulfillment_fakes import accepted, new_uow, node, refused, stock_changed

from omni_fulfillment import service


async def seed(uow: Any, nodes: list[Any], stock: list[tuple[str, str, int]]) -> None:
    for n in nodes:
        await service.put_node(uow, n)
    await service.on_stock_changed(uow, [stock_changed(n, m, q) for n, m, q in stock])


def decided(uow: Any) -> list[Any]:
    return [e.data for e in uow.of_type("fulfillment.sourcing-decided")]


async def test_the_first_plan_and_the_re_plan_each_say_why():
    uow = new_uow()
    await seed(uow, [node("NEAR", 10, 1), node("FAR", 800, 1)], [("NEAR", "A", 5), ("FAR", "A", 5)])
    await service.on_order_events(uow, [accepted("O1", {"A": 2})])
    (first,) = decided(uow)
    assert (first.order_id, first.attempt, first.result) == ("O1", 1, "planned")
    assert [(n.node_code, n.outcome) for n in first.nodes] == [("NEAR", "chosen"), ("FAR", "lost")]
    win, lose = first.nodes
    assert [(x.material_code, x.qty) for x in win.lines] == [("A", 2)] and win.distance_km is not None
    assert lose.lines == [] and lose.why.startswith("lost: ") and "farther than NEAR" in lose.why
    (request,) = [e.data for e in uow.of_type("fulfillment.reservation-requested")]
    assert request.node_code == "NEAR", "the plan is the one explained"

    await service.on_reservation_replies(uow, [refused(request)], max_attempts=3)
    _, again = decided(uow)
    assert (again.attempt, again.result) == (2, "planned")
    assert [(n.node_code, n.outcome) for n in again.nodes] == [("FAR", "chosen"), ("NEAR", "excluded")]
    assert again.nodes[0].why.startswith("holds every line; ")
    assert again.nodes[1].why == "excluded: refused a reservation in attempt 1"
    replan = [e.data for e in uow.of_type("fulfillment.reservation-requested")][-1]
    assert (replan.node_code, replan.attempt) == ("FAR", again.attempt)


async def test_a_give_up_says_why_each_node_could_not_serve():
    uow = new_uow()
    await seed(uow, [node("N1", 10), node("N2", 20)], [("N1", "A", 1), ("N2", "B", 1)])
    await service.on_order_events(uow, [accepted("O1", {"A": 3})])
    (d,) = decided(uow)
    (gave_up,) = [e.data for e in uow.of_type("fulfillment.order-unfulfillable")]
    assert d.result == "unfulfillable" and d.reason == gave_up.reason
    assert [(n.node_code, n.outcome, n.why) for n in d.nodes] == [
        ("N1", "unusable", "holds A 1 of 3; all the active nodes together are short of A"),
    ], "N2 holds none of A: it is no candidate"
