"""fulfillment.sourcing-decided on the fake unit of work: one trace row per node considered, stage sourcing,
in GET /orders/{id}/trace; no status change; an unknown order is ignored; the consumer group takes it."""

from __future__ import annotations

from order_factories import envelope
from order_journeys import AT, accepted_order, follow, one_task, qty, started

from omni_contracts.events.fulfillment import NodeConsidered, SourcingDecidedV1
from omni_order import consumers, service
from omni_order.service.sourcing_trace import record_sourcing_decisions


def decided(order_id: str, attempt: int = 1, **kw) -> SourcingDecidedV1:
    nodes = kw.pop("nodes", None) or [
        NodeConsidered(
            node_code="WH-HZ", outcome="chosen", lines=qty(("BEAN-YUNNAN-250G", 2), ("MACHINE-AUTO-01", 1)),
            distance_km=12.0, why="holds every line; 12 km; priority 10",
        ),
        NodeConsidered(
            node_code="WH-BJ", outcome="lost", distance_km=830.0,
            why="lost: 830 km, farther than WH-HZ (12 km) with the same coverage",
        ),
        NodeConsidered(
            node_code="WH-SH", outcome="excluded", why="excluded: refused a reservation in attempt 1"
        ),
    ]  # fmt: skip
    return SourcingDecidedV1(
        order_id=order_id,
        attempt=attempt,
        decided_at=AT,
        result=kw.pop("result", "planned"),
        nodes=nodes,
        **kw,
    )


def sourcing(rows):
    return [(r["subject"], r["matched"], r["why"], r["effect"]) for r in rows if r["stage"] == "sourcing"]


async def test_each_node_considered_is_one_trace_row_and_the_status_is_untouched():
    uow, oid = await accepted_order()
    before = uow.repo.orders[oid]["status"]
    history = len(uow.repo.history)
    await follow(uow, decided(oid, attempt=2))
    assert uow.repo.orders[oid]["status"] == before and len(uow.repo.history) == history
    trace = await service.trace(uow, oid)
    assert sourcing(trace["decisions"]) == [
        ("node WH-HZ (attempt 2)", True, "holds every line; 12 km; priority 10",
         "ships BEAN-YUNNAN-250G×2, MACHINE-AUTO-01×1"),
        ("node WH-BJ (attempt 2)", False, "lost: 830 km, farther than WH-HZ (12 km) with the same coverage",
         "lost"),
        ("node WH-SH (attempt 2)", False, "excluded: refused a reservation in attempt 1", "excluded"),
    ]  # fmt: skip
    assert all(r["at"] == AT for r in uow.repo.decision_rows if r["stage"] == "sourcing")


async def test_it_rides_a_batch_with_the_events_that_move_the_order():
    uow, oid = await accepted_order()
    await follow(uow, started(oid), decided(oid), one_task(oid))
    assert uow.repo.orders[oid]["status"] == "allocated"
    assert [s for s, *_ in sourcing(uow.repo.decision_rows)] == [
        "node WH-HZ (attempt 1)", "node WH-BJ (attempt 1)", "node WH-SH (attempt 1)",
    ]  # fmt: skip


async def test_an_unfulfillable_decision_also_says_why_there_is_no_plan():
    uow, oid = await accepted_order()
    nodes = [NodeConsidered(node_code="WH-HZ", outcome="unusable", why="no stock of MACHINE-AUTO-01")]
    await follow(uow, decided(oid, result="unfulfillable", reason="not enough stock", nodes=nodes))
    assert sourcing(uow.repo.decision_rows) == [
        ("node WH-HZ (attempt 1)", False, "no stock of MACHINE-AUTO-01", "unusable"),
        ("plan (attempt 1)", False, "not enough stock", "unfulfillable"),
    ]


async def test_an_unknown_order_is_ignored_and_the_rest_of_the_batch_kept():
    uow, oid = await accepted_order()
    await record_sourcing_decisions(uow, [envelope(decided("O-nobody")), envelope(decided(oid))])
    assert {r["order_id"] for r in uow.repo.decision_rows if r["stage"] == "sourcing"} == {oid}


async def test_the_order_fulfillment_group_takes_it():
    assert "fulfillment.sourcing-decided" in consumers.fulfillment_spec().event_types
    assert service.FULFILLMENT_EVENTS == consumers.FULFILLMENT_EVENTS
