"""Carrier routing's use cases on the fake unit of work: a task gets its carrier from its own lines' weight
and the order's destination, capacity counts across a batch, an allocation waits for its acceptance, a
refusal at ship time chooses the next carrier, and the data is versioned and audited."""

from __future__ import annotations

from datetime import time

import pytest
from carrier_fakes import accepted_to, allocated, material, new_uow

from omni_contracts import utcnow
from omni_fulfillment.domain.carriers import Area, Band, Carrier, Health, Pin, PinKind, Promise
from omni_fulfillment.domain.errors import Conflict, Forbidden, Invalid
from omni_fulfillment.domain.sourcing import Line
from omni_fulfillment.domain.tasks import Task, TaskStatus
from omni_fulfillment.service import carrier_admin as admin
from omni_fulfillment.service import carriers as routing

CHOSEN = "fulfillment.carrier-chosen"


def carrier(code: str, first: int, *, max_g: int | None = None, **over) -> Carrier:
    return Carrier(code, code, (Band(0, max_g, 1000, first, 1000, 100),), default_sla_days=2, **over)


def task(
    task_id: str, order_id: str, lines: dict[str, int], *, pickup: bool = False, node: str = "WH-1"
) -> Task:
    return Task.new(task_id, order_id, node, f"{order_id}:1:{node}:{task_id}",
                    [Line(m, q) for m, q in lines.items()], pickup_code="123456" if pickup else None,
                    now=utcnow())  # fmt: skip


async def setup(uow, *carriers: Carrier, weights: dict[str, int] | None = None) -> None:
    for c in carriers:
        await admin.put_carrier(uow, c, "ops", None)
    await routing.on_materials(uow, [material(m, w) for m, w in (weights or {"M1": 400, "M2": 1500}).items()])


def add_tasks(uow, *tasks: Task) -> None:
    for t in tasks:
        uow.repo.tasks[t.task_id] = t
        uow.repo.created_at[t.task_id] = len(uow.repo.created_at)


async def test_each_ship_task_gets_the_cheapest_carrier_for_its_own_lines():
    uow = new_uow()
    await setup(uow, carrier("LIGHT", 500, max_g=2000), carrier("SF", 1200))
    t1, t2 = task("T1", "O1", {"M1": 2}), task("T2", "O1", {"M1": 1, "M2": 2}, node="WH-2")
    add_tasks(uow, t1, t2, task("T3", "O1", {"M1": 1}, pickup=True))
    await routing.on_carrier_events(uow, [accepted_to("O1"), allocated("O1", [t1, t2])])
    events = [e.data for e in uow.of_type(CHOSEN)]
    assert [(e.task_id, e.carrier, e.weight_g, e.cost_cents) for e in events] == [
        ("T1", "LIGHT", 800, 500),  # 2 x 400 g: the light band
        ("T2", "SF", 3400, 1200 + 300),  # 400 + 2 x 1500 g: over LIGHT's 2 kg; 2.4 kg continued -> 3 units
    ]
    assert events[1].considered[0].reason == "no weight band of it holds 3,400 g to 浙江省 杭州市"
    assert (events[0].attempt, events[0].promised_days, events[0].replaces) == (1, 3, None)
    assert uow.repo.tasks["T1"].carrier == "LIGHT" and uow.repo.tasks["T2"].carrier == "SF"
    assert uow.repo.tasks["T3"].carrier is None  # a store pickup has no carrier
    rows = uow.repo.choices["T2"]
    assert [(r["attempt"], r["carrier"], r["current"], r["cost_cents"]) for r in rows] == [
        (1, "SF", True, 1500)
    ]
    # a redelivery (or a second allocation of the same tasks) chooses nothing again
    await routing.on_carrier_events(uow, [allocated("O1", [t1, t2])])
    assert len(uow.of_type(CHOSEN)) == 2


async def test_what_routing_keeps_of_the_order_is_no_personal_data():
    uow = new_uow()
    await routing.on_carrier_events(uow, [accepted_to("O1", hints=[("SF", "rs-1 v2")])])
    kept = uow.repo.orders["O1"]
    assert kept == {"order_id": "O1", "shop_id": "shop-1", "province": "浙江省", "city": "杭州市",
                    "district": "西湖区", "hints": [{"carrier": "SF", "ruleset": "rs-1 v2"}]}  # fmt: skip


async def test_an_allocation_before_its_acceptance_waits_for_it():
    uow = new_uow()
    await setup(uow, carrier("SF", 1200))
    t1 = task("T1", "O1", {"M1": 1})
    add_tasks(uow, t1)
    await routing.on_carrier_events(uow, [allocated("O1", [t1])])
    assert uow.of_type(CHOSEN) == [] and [e.data.order_id for e in uow.parked["carrier-order:O1"]] == ["O1"]
    await routing.on_carrier_events(uow, [accepted_to("O1")])
    again = uow.take_released()
    assert [e.event_type for e in again] == ["fulfillment.order-allocated"]
    await routing.on_carrier_events(uow, again)
    assert [e.data.carrier for e in uow.of_type(CHOSEN)] == ["SF"]


async def test_daily_capacity_counts_the_tasks_of_the_batch_and_the_day():
    uow = new_uow()
    await setup(uow, carrier("CHEAP", 100, daily_capacity=2), carrier("SF", 1200))
    ts = [task(f"T{i}", f"O{i}", {"M1": 1}) for i in range(4)]
    add_tasks(uow, *ts)
    await routing.on_carrier_events(uow, [accepted_to(f"O{i}") for i in range(4)] + [allocated("O0", ts[:1])])
    await routing.on_carrier_events(uow, [allocated(f"O{i}", [ts[i]]) for i in (1, 2, 3)])
    assert [e.data.carrier for e in uow.of_type(CHOSEN)] == ["CHEAP", "CHEAP", "SF", "SF"]
    assert uow.of_type(CHOSEN)[2].data.considered[0].reason.startswith("full: 2/2 parcels on ")
    # a cancelled task's parcel does not go: its place is free again
    uow.repo.tasks["T0"].status = TaskStatus.CANCELLED
    t5 = task("T5", "O5", {"M1": 1})
    add_tasks(uow, t5)
    await routing.on_carrier_events(uow, [accepted_to("O5"), allocated("O5", [t5])])
    assert uow.of_type(CHOSEN)[-1].data.carrier == "CHEAP"


async def test_data_changes_apply_to_the_next_choice_without_a_restart():
    uow = new_uow()
    await setup(uow, carrier("CHEAP", 100), carrier("SF", 1200))
    await routing.on_carrier_events(uow, [accepted_to(f"O{i}") for i in range(3)])
    for i, change in enumerate(["none", "down", "pin"]):
        if change == "down":
            await admin.set_health(uow, "CHEAP", Health.DOWN, "sorting centre closed", "ops")
        if change == "pin":
            await admin.set_health(uow, "CHEAP", Health.HEALTHY, "", "ops")
            await admin.put_pin(uow, Pin("P1", "SF", PinKind.REGION, area=Area("浙江")), "ops", None)
        t = task(f"T{i}", f"O{i}", {"M1": 1})
        add_tasks(uow, t)
        await routing.on_carrier_events(uow, [allocated(f"O{i}", [t])])
    got = [e.data for e in uow.of_type(CHOSEN)]
    assert [e.carrier for e in got] == ["CHEAP", "SF", "SF"]
    assert got[1].considered[0].reason == "down (sorting centre closed)"
    assert got[2].reason.startswith("SF: pinned by rule P1 (region 浙江)")


async def test_the_oms_rules_carrier_hint_is_a_preference():
    uow = new_uow()
    await setup(uow, carrier("CHEAP", 100), carrier("SF", 1200))
    t = task("T1", "O1", {"M1": 1})
    add_tasks(uow, t)
    await routing.on_carrier_events(
        uow, [accepted_to("O1", hints=[("SF", "rs-vip v3")]), allocated("O1", [t])]
    )
    assert uow.of_type(CHOSEN)[0].data.reason.startswith("SF: preferred by the OMS rules (rs-vip v3)")


async def test_a_carrier_refusing_at_ship_time_gives_the_next_one_and_stays_out():
    uow = new_uow()
    await setup(uow, carrier("CHEAP", 100), carrier("MID", 600), carrier("SF", 1200))
    t = task("T1", "O1", {"M1": 1})
    add_tasks(uow, t)
    await routing.on_carrier_events(uow, [accepted_to("O1"), allocated("O1", [t])])
    done, refused, choice = await routing.carrier_refused(uow, "T1", None, "no room on the truck", None)
    assert (done.carrier, refused, choice.carrier) == ("MID", "CHEAP", "MID")
    second = uow.of_type(CHOSEN)[-1].data
    assert (second.attempt, second.carrier, second.replaces, second.cost_cents) == (2, "MID", "CHEAP", 600)
    assert second.considered[0].reason == "refused this parcel: no room on the truck"
    _, _, third = await routing.carrier_refused(uow, "T1", None, "", None)
    assert third.carrier == "SF" and uow.repo.tasks["T1"].carrier == "SF"
    rows = uow.repo.choices["T1"]
    assert [(r["attempt"], r["carrier"], r["current"]) for r in rows] == [
        (1, "CHEAP", False), (2, "MID", False), (3, "SF", True)]  # fmt: skip
    assert rows[1]["refused_reason"] == "refused the parcel at ship time"
    # the parcel handed by hand to a carrier routing did not choose, which refused it: recorded, kept out
    _, refused, fourth = await routing.carrier_refused(uow, "T1", "CHEAP", "again", None)
    assert (refused, fourth.carrier) == ("CHEAP", "SF")
    assert [(r["attempt"], r["carrier"], r["current"]) for r in uow.repo.choices["T1"]][3:] == [
        (4, "CHEAP", False), (5, "SF", True)]  # fmt: skip
    _, _, none = await routing.carrier_refused(uow, "T1", None, "", None)
    assert none.carrier is None and uow.repo.tasks["T1"].carrier is None
    assert uow.of_type(CHOSEN)[-1].data.cost_cents is None


async def test_a_refusal_needs_an_open_ship_task_of_ones_own_node():
    uow = new_uow()
    await setup(uow, carrier("SF", 1200))
    t, p = task("T1", "O1", {"M1": 1}), task("T2", "O2", {"M1": 1}, pickup=True)
    add_tasks(uow, t, p)
    with pytest.raises(Conflict, match="no carrier to refuse"):
        await routing.carrier_refused(uow, "T1", None, "", None)
    with pytest.raises(Conflict, match="store pickup"):
        await routing.carrier_refused(uow, "T2", "SF", "", None)
    with pytest.raises(Forbidden):
        await routing.carrier_refused(uow, "T1", "SF", "", "STORE-9")
    uow.repo.tasks["T1"].status = TaskStatus.SHIPPED
    with pytest.raises(Conflict, match="is shipped"):
        await routing.carrier_refused(uow, "T1", "SF", "", None)
    assert uow.of_type(CHOSEN) == []


async def test_saves_are_versioned_audited_and_refused_when_stale():
    uow = new_uow()
    saved, created = await admin.put_carrier(uow, carrier("SF", 1200), "alice", None)
    assert (saved.version, created) == (1, True)
    saved, created = await admin.put_carrier(uow, carrier("SF", 1300, cutoff=time(17, 0)), "bob", 1)
    assert (saved.version, created, saved.cutoff) == (2, False, time(17, 0))
    with pytest.raises(Conflict, match="at version 2, not 1"):
        await admin.put_carrier(uow, carrier("SF", 9), "carol", 1)
    await admin.set_health(uow, "SF", Health.DEGRADED, "slow", "dave")
    await admin.deactivate_carrier(uow, "SF", "erin")
    found, total = await admin.history(uow, "carrier SF", limit=10, offset=0)
    assert total == 4
    assert [(a["version"], a["action"], a["actor"]) for a in found] == [
        (4, "deactivated", "erin"),
        (3, "health degraded", "dave"),
        (2, "replaced", "bob"),
        (1, "created", "alice"),
    ]
    assert found[2]["data"]["bands"][0]["first_cents"] == 1300 and found[2]["data"]["cutoff"] == "17:00"
    with pytest.raises(Invalid, match="does not exist"):
        await admin.put_pin(uow, Pin("P1", "NOPE", PinKind.SHOP, shop_id="s"), "ops", None)
    promise = await admin.put_promise(uow, Promise(2), "ops", 0)
    assert promise.version == 1 and (await admin.get_promise(uow)).default_days == 2
    with pytest.raises(Conflict):
        await admin.put_promise(uow, Promise(4), "ops", 0)


async def test_the_newest_weight_of_a_material_is_kept():
    uow = new_uow()
    await routing.on_materials(uow, [material("M1", 500, 2), material("M1", 900, 1)])
    await routing.on_materials(uow, [material("M1", 100, 1)])
    assert uow.repo.weights_["M1"] == (500, 2)
    await routing.on_materials(uow, [material("M1", 700, 3)])
    assert uow.repo.weights_["M1"] == (700, 3)
