"""fulfillment.carrier-chosen on the fake unit of work: one trace row per carrier considered, stage carrier,
the chosen one with its freight cost; a refusal at ship time names the carrier that failed; no carrier at
all says why; no status change; an unknown order is ignored; the order-fulfillment group takes it."""

from __future__ import annotations

from datetime import date

from order_factories import envelope
from order_journeys import AT, accepted_order

from omni_contracts.events.fulfillment_carriers import CarrierChosenV1, CarrierConsidered
from omni_order import consumers, service
from omni_order.service.carrier_trace import record_carrier_choices


def chosen(order_id: str, **kw) -> CarrierChosenV1:
    considered = kw.pop("considered", None) or [
        CarrierConsidered(carrier="SF", chosen=False, reason="lost: ¥6.00 dearer than ZTO (¥14.00, 1 days)",
                          cost_cents=1400, sla_days=1),
        CarrierConsidered(carrier="YTO", chosen=False, reason="does not serve 浙江省 杭州市"),
        CarrierConsidered(carrier="ZTO", chosen=True, reason="chosen: ¥8.00, 2 days", cost_cents=800,
                          sla_days=2),
    ]  # fmt: skip
    base = {"order_id": order_id, "task_id": "T1", "node_code": "WH-HZ", "attempt": 1, "carrier": "ZTO",
            "cost_cents": 800, "weight_g": 1200, "sla_days": 2, "promised_days": 3,
            "ship_day": date(2024, 5, 2), "considered": considered, "chosen_at": AT,
            "reason": "ZTO: the cheapest within the promised 3 days: ¥8.00, 2 days for 1,200 g"}  # fmt: skip
    return CarrierChosenV1(**{**base, **kw})


def carrier_rows(rows):
    return [(r["subject"], r["matched"], r["why"], r["effect"]) for r in rows if r["stage"] == "carrier"]


async def record(uow, *events):
    await record_carrier_choices(uow, [envelope(e) for e in events])


async def test_each_carrier_considered_is_one_trace_row_the_chosen_one_with_its_cost():
    uow, oid = await accepted_order()
    before, history = uow.repo.orders[oid]["status"], len(uow.repo.history)
    await record(uow, chosen(oid))
    assert uow.repo.orders[oid]["status"] == before and len(uow.repo.history) == history
    trace = await service.trace(uow, oid)
    assert carrier_rows(trace["decisions"]) == [
        ("carrier SF (task T1, attempt 1)", False, "lost: ¥6.00 dearer than ZTO (¥14.00, 1 days)", "lost"),
        ("carrier YTO (task T1, attempt 1)", False, "does not serve 浙江省 杭州市", "unusable"),
        ("carrier ZTO (task T1, attempt 1)", True,
         "ZTO: the cheapest within the promised 3 days: ¥8.00, 2 days for 1,200 g",
         "ships with ZTO for ¥8.00, 2 days"),
    ]  # fmt: skip
    assert all(r["at"] == AT for r in uow.repo.decision_rows if r["stage"] == "carrier")


async def test_a_refusal_at_ship_time_names_the_carrier_that_failed_and_the_next_one():
    uow, oid = await accepted_order()
    considered = [
        CarrierConsidered(carrier="ZTO", chosen=False, reason="refused this parcel: no room"),
        CarrierConsidered(
            carrier="SF", chosen=True, reason="chosen: ¥14.00, 1 days", cost_cents=1400, sla_days=1
        ),
    ]
    why = "SF: the cheapest within the promised 3 days: ¥14.00, 1 day for 1,200 g"
    again = chosen(
        oid, attempt=2, carrier="SF", cost_cents=1400, replaces="ZTO", considered=considered, reason=why
    )
    await record(uow, again)
    got = carrier_rows(uow.repo.decision_rows)
    assert got[0] == (
        "carrier ZTO (task T1, attempt 2)", False,
        "carrier failure at ship time: ZTO refused the parcel; the next carrier", "refused",
    )  # fmt: skip
    assert got[1] == ("carrier ZTO (task T1, attempt 2)", False, "refused this parcel: no room", "unusable")
    assert got[2][1] is True and got[2][3] == "ships with SF for ¥14.00, 1 day"


async def test_no_carrier_at_all_says_why():
    uow, oid = await accepted_order()
    considered = [CarrierConsidered(carrier="YTO", chosen=False, reason="down")]
    why = "no carrier can take 1,200 g to 浙江省 杭州市"
    none = chosen(
        oid, carrier=None, cost_cents=None, sla_days=None, ship_day=None, considered=considered, reason=why
    )
    await record(uow, none)
    assert carrier_rows(uow.repo.decision_rows) == [
        ("carrier YTO (task T1, attempt 1)", False, "down", "unusable"),
        ("carrier (task T1, attempt 1)", False, "no carrier can take 1,200 g to 浙江省 杭州市",
         "no carrier: an operator chooses at ship time"),
    ]  # fmt: skip


async def test_an_unknown_order_is_ignored_and_the_rest_of_the_batch_kept():
    uow, oid = await accepted_order()
    await record(uow, chosen("O-nobody"), chosen(oid))
    assert {r["order_id"] for r in uow.repo.decision_rows if r["stage"] == "carrier"} == {oid}


async def test_the_order_fulfillment_group_takes_it_and_hands_it_over():
    assert "fulfillment.carrier-chosen" in consumers.fulfillment_spec().event_types
    uow, oid = await accepted_order()
    await consumers.on_fulfillment(uow, [envelope(chosen(oid))])
    assert len(carrier_rows(uow.repo.decision_rows)) == 3
