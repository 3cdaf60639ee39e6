"""Split by type (拆单) on the fake unit of work: a rule's `split_by_type` puts cold-chain lines in a group of
their own on order.accepted (sourced and shipped apart), virtual goods never ship (the OMS fulfils them, and
an order of nothing else completes when fulfillment says so), every line keeps its amount, and the trace
says why each line went where."""

from __future__ import annotations

from typing import Any

from order_factories import MATERIALS, channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts import utcnow
from omni_contracts.events.fulfillment import OrderFulfilledV1
from omni_contracts.events.product import MaterialUpsertedV2
from omni_order import service
from omni_order.domain.rules.ruleset import RuleSetDoc, StrategyDoc
from omni_order.service import rules
from omni_order.service.split import VIRTUAL_TASK

MACHINE = "MACHINE-AUTO-01"  # one of the coffee set's four materials; the beans are the others


def facts(handling: dict[str, str]) -> list[Any]:
    return [
        MaterialUpsertedV2(
            code=m, name=m, unit="pcs", weight_g=500, version=2, handling=handling.get(m, "normal")
        )
        for m in MATERIALS
    ]


async def shop(handling: dict[str, str], kinds: list[str] | None = None) -> Any:
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events() + facts(handling)])
    if kinds is not None:
        rule = {"id": "split", "name": "split", "when": {"type": "channel", "any_of": ["tmall"]},
                "then": [{"type": "split_by_type", "kinds": kinds}]}  # fmt: skip
        doc = {"name": "split", "rules": [rule]}
        await rules.save(uow, "ruleset", "split", RuleSetDoc.model_validate(doc))
        await rules.save(uow, "strategy", "split", StrategyDoc(name="split", ruleset_id="split"))
    return uow


def accepted(uow: Any) -> Any:
    (ev,) = uow.of_type("order.accepted")
    return ev.data


def split_trace(uow: Any, oid: str) -> list[str]:
    return [f"{d['subject']}: {d['why']}" for d in uow.repo.decision_rows
            if d["order_id"] == oid and d["stage"] == "split"]  # fmt: skip


async def test_a_cold_chain_line_is_its_own_group_and_keeps_its_amount():
    uow = await shop({"BEAN-ETH-500": "cold_chain"}, kinds=["cold_chain"])
    (oid,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    d = accepted(uow)
    groups = {x.material_code: x.group for x in d.lines}
    assert groups["BEAN-ETH-500"] == "cold_chain" and groups[MACHINE] is None
    assert all(x.ships for x in d.lines)
    assert sum(x.amount_cents for x in d.lines) == d.goods_paid_cents  # not re-priced
    assert any("BEAN-ETH-500" in t and "cold chain: ships apart" in t for t in split_trace(uow, oid))
    assert uow.repo.orders[oid]["split_kinds"] == ["cold_chain"]


async def test_without_the_rule_a_cold_chain_line_stays_in_the_main_group():
    uow = await shop({"BEAN-ETH-500": "cold_chain"})
    await service.intake(uow, [envelope(channel_order())])
    assert {x.group for x in accepted(uow).lines} == {None}


async def test_a_kind_asked_that_no_line_has_is_said_in_the_trace():
    uow = await shop({}, kinds=["oversize"])
    (oid,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    assert split_trace(uow, oid) == ["split oversize: the rules asked to split oversize: no line is"]


async def test_virtual_goods_never_ship_and_are_fulfilled_by_the_oms():
    uow = await shop({"BEAN-ETH-500": "virtual"})  # no rule needed: virtual goods cannot ship
    (oid,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    d = accepted(uow)
    ships = {x.material_code: x.ships for x in d.lines}
    assert ships["BEAN-ETH-500"] is False and ships[MACHINE] is True
    shipment = uow.repo.shipments[(oid, VIRTUAL_TASK)]
    assert shipment["kind"] == "virtual"
    (bean_line,) = [x for x in d.lines if x.material_code == "BEAN-ETH-500"]
    assert uow.repo.shipment_lines[(oid, VIRTUAL_TASK, bean_line.line_id)]["qty"] == bean_line.qty
    assert any("virtual goods: fulfilled without shipping" in t for t in split_trace(uow, oid))


async def test_an_order_of_virtual_goods_only_completes_when_fulfillment_says_so():
    uow = await shop({m: "service" for m in MATERIALS})
    (oid,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    assert not any(x.ships for x in accepted(uow).lines)
    done = OrderFulfilledV1(order_id=oid, fulfilled_at=utcnow())
    await service.follow_fulfillment(uow, [envelope(done)])
    assert uow.repo.orders[oid]["status"] == "completed"
    assert [e.data.order_id for e in uow.of_type("order.completed")] == [oid]


def test_the_first_kind_that_applies_places_a_line():
    from omni_order.domain.split import LineKind, place, unmatched

    every = ["cold_chain", "oversize", "high_value", "presale"]
    assert place(LineKind("frozen", high_value=True), every).group == "frozen"
    assert place(LineKind("oversize", high_value=True), every).group == "oversize"
    assert place(LineKind("normal", high_value=True), every).group == "high_value"
    assert place(LineKind("normal", tags=frozenset({"presale"})), every).group == "presale"
    assert place(LineKind("normal", high_value=True), ["oversize"]).group is None  # not asked
    assert place(LineKind("virtual"), []) == place(LineKind("virtual"), every)  # virtual never ships
    placed = [place(LineKind("frozen"), every), place(LineKind("normal"), every)]
    assert unmatched(every, placed) == ["oversize", "high_value", "presale"]


async def test_the_dry_run_compares_the_kinds_asked_with_those_the_order_was_split_by():
    from omni_order.service.dryrun import dry_run

    uow = await shop({"BEAN-ETH-500": "cold_chain"}, kinds=["cold_chain"])
    await service.intake(uow, [envelope(channel_order())])
    (same,) = (await dry_run(uow, "split"))["items"]
    assert same["actual"]["split"] == ["cold_chain"] and not [c for c in same["changes"] if "split" in c]
    draft = RuleSetDoc.model_validate({"name": "none", "rules": []})
    (other,) = (await dry_run(uow, "split", draft=draft))["items"]
    assert "would not split cold_chain" in other["changes"]


async def test_an_allocation_of_the_shipping_lines_alone_matches_the_order_and_ships_it():
    from order_journeys import SET, qty, started

    from omni_contracts.events.fulfillment import OrderAllocatedV1, ShippedV1, TaskRef

    uow = await shop({"BEAN-ETH-500": "virtual"})
    (oid,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    task = TaskRef(task_id="T1", node_code="WH-HZ", kind="ship", reservation_id="R1",
                   lines=qty(*((m, 1) for m in SET)))  # fmt: skip
    allocated_ev = OrderAllocatedV1(order_id=oid, tasks=[task])
    await service.follow_fulfillment(uow, [envelope(started(oid)), envelope(allocated_ev)])
    allocated = {a["line_id"] for a in uow.repo.allocation_rows if a["order_id"] == oid}
    shipping = {x["line_id"] for x in uow.repo.lines if x["order_id"] == oid and x["ships"]}
    assert allocated == shipping and uow.repo.orders[oid]["status"] == "allocated"
    shipped = ShippedV1(
        task_id="T1", order_id=oid, node_code="WH-HZ", reservation_id="R1", carrier="SF", tracking_no="SF1",
        lines=qty(*((m, 1) for m in SET)), shipped_at=utcnow(),
    )  # fmt: skip
    await service.follow_fulfillment(uow, [envelope(shipped)])
    assert uow.repo.orders[oid]["status"] == "shipped"  # its one task shipped; the beans were the OMS's


async def test_a_high_value_material_is_said_on_its_line_even_when_no_rule_splits_it():
    uow = fake_uow()
    hv = [f.model_copy(update={"high_value": f.code == MACHINE, "version": 3}) for f in facts({})]
    await service.project_catalog(uow, [envelope(e) for e in product_events() + hv])
    await service.intake(uow, [envelope(channel_order())])
    flags = {x.material_code: x.high_value for x in accepted(uow).lines}
    assert flags[MACHINE] is True and not any(v for m, v in flags.items() if m != MACHINE)
    assert all(x.group is None for x in accepted(uow).lines)  # carried, not split: fulfillment decides
