"""After-sales use cases on the fake unit of work: the reference order (coffee set of 4 materials, oid-1, and
3 bags of beans, oid-2; paid 3296.00) refunded, returned, exchanged, reshipped and compensated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from order_factories import SHOP, envelope
from order_journeys import accepted_order, all_lines, follow, one_task, shipped_v2, started, statuses

from omni_chassis.consumer import WaitingFor
from omni_contracts.events.channel import ChannelOrderClosedV1, ChannelRefundLine, ChannelRefundReceivedV1
from omni_order import service
from omni_order.domain.aftersales import AfterSalesError, IllegalCaseTransition, Inspected, Kind
from omni_order.service import aftersales_ops as ops

AT = datetime(2024, 5, 3, 9, 0, tzinfo=UTC)


def refund(coid: str, status: str, *, kind: str = "refund_only", rid: str = "R1", cents: int = 0,
           lines: tuple[tuple[str, int | None, int], ...] = ()) -> ChannelRefundReceivedV1:  # fmt: skip
    return ChannelRefundReceivedV1(
        channel="tmall", shop_id=SHOP, channel_order_id=coid, channel_refund_id=rid, kind=kind, status=status,
        channel_status=status.upper(), refund_cents=cents, received_at=AT,
        lines=[ChannelRefundLine(channel_line_id=c, qty=q, refund_cents=m) for c, q, m in lines],
    )  # fmt: skip


async def send(uow: Any, payload: Any) -> None:
    await service.apply_channel_aftersales(uow, envelope(payload, key=f"tmall:{payload.channel_order_id}"))


async def shipped_order() -> tuple[Any, str, str]:
    uow, oid = await accepted_order()
    await follow(uow, started(oid), one_task(oid), shipped_v2(oid, "T1", all_lines(oid)))
    return uow, oid, uow.repo.orders[oid]["channel_order_id"]


def the_case(uow: Any) -> dict[str, Any]:
    (case,) = uow.repo.cases.values()
    return case


async def test_a_whole_refund_before_shipment_intercepts_the_order_once():
    uow, oid = await accepted_order()
    coid = uow.repo.orders[oid]["channel_order_id"]
    await send(uow, refund(coid, "requested", cents=329_600))
    assert uow.repo.orders[oid]["status"] == "accepted" and uow.of_type("order.cancelled") == []
    await send(uow, refund(coid, "agreed", cents=329_600))
    assert statuses(uow, oid)[-1] == ("accepted", "cancelled")
    (cancelled,) = uow.of_type("order.cancelled")
    assert cancelled.key == oid and "refunded in full before shipment" in cancelled.data.reason
    await send(uow, refund(coid, "refunded", cents=329_600))
    await send(uow, refund(coid, "refunded", cents=329_600))  # the same status again: nothing
    case = the_case(uow)
    assert (case["kind"], case["state"], case["money_done"]) == ("refund_before_shipment", "refunded", True)
    assert uow.of_type("order.refund-approved") == []  # the cancellation reverses the sale: not twice
    assert len(uow.of_type("order.cancelled")) == 1
    assert [h["platform_status"] for h in uow.repo.case_history_rows] == ["requested", "agreed", "refunded"]


async def test_a_partial_refund_before_shipment_is_approved_per_line_and_the_order_goes_on():
    uow, oid = await accepted_order()
    coid = uow.repo.orders[oid]["channel_order_id"]
    await send(uow, refund(coid, "refunded", cents=9_608, lines=(("oid-2", 1, 9_608),)))
    (ev,) = uow.of_type("order.refund-approved")
    d = ev.data
    assert (d.kind, d.before_shipment, d.goods_refund_cents, d.freight_refund_cents) == (
        "refund_before_shipment", True, 9_608, 0,
    )  # fmt: skip
    assert [(x.line_id, x.material_code, x.qty, x.refund_cents) for x in d.lines] == [
        (f"{oid}-005", "BEAN-ETH-500", 1, 9_608)
    ]
    assert uow.repo.orders[oid]["status"] == "accepted"


async def test_a_bundle_refunded_after_shipment_is_split_over_its_materials_to_the_fen():
    uow, _, coid = await shipped_order()
    await send(uow, refund(coid, "agreed", cents=150_000, lines=(("oid-1", None, 150_000),)))
    assert uow.of_type("order.refund-approved") == []
    await send(uow, refund(coid, "refunded", cents=150_000, lines=(("oid-1", None, 150_000),)))
    (ev,) = uow.of_type("order.refund-approved")
    assert ev.data.kind == "refund_after_shipment" and not ev.data.before_shipment
    assert len(ev.data.lines) == 4 and sum(x.refund_cents for x in ev.data.lines) == 150_000
    amounts = {x["line_id"]: x["amount_cents"] for x in uow.repo.lines}
    for x in ev.data.lines:  # each material's share of its amount (a remainder of 1 fen at most)
        assert abs(x.refund_cents - amounts[x.line_id] * 150_000 / 300_775) < 1


async def test_return_and_refund_expects_the_goods_where_they_left_and_restocks_what_was_inspected():
    uow, oid, coid = await shipped_order()
    beans = (("oid-2", 2, 19_216),)
    await send(uow, refund(coid, "requested", kind="return_and_refund", cents=19_216, lines=beans))
    await send(uow, refund(coid, "awaiting_return", kind="return_and_refund", cents=19_216, lines=beans))
    (expected,) = uow.of_type("order.return-expected")
    assert (expected.data.node_code, [(x.line_id, x.qty) for x in expected.data.lines]) == (
        "WH-HZ", [(f"{oid}-005", 2)],
    )  # fmt: skip
    case_id = the_case(uow)["case_id"]
    with pytest.raises(AfterSalesError, match="receives 3 units, 2 were expected"):
        await ops.receive(uow, case_id, None, [Inspected(f"{oid}-005", 2, 1)])
    await ops.receive(uow, case_id, None, [Inspected(f"{oid}-005", 1, 1)])
    (received,) = uow.of_type("order.return-received")
    (line,) = received.data.lines
    assert (received.data.node_code, line.good_qty, line.defective_qty, received.data.restock) == (
        "WH-HZ", 1, 1, True,
    )  # fmt: skip
    assert the_case(uow)["state"] == "received"
    await send(uow, refund(coid, "refunded", kind="return_and_refund", cents=19_216, lines=beans))
    assert the_case(uow)["state"] == "completed"
    (approved,) = uow.of_type("order.refund-approved")
    assert approved.data.refund_cents == 19_216 and approved.data.lines[0].qty == 2
    with pytest.raises(IllegalCaseTransition):
        await ops.receive(uow, case_id, None, [Inspected(f"{oid}-005", 1, 0)])


async def test_a_refund_beyond_what_is_left_is_refused_and_nothing_is_kept():
    uow, _, coid = await shipped_order()
    await send(uow, refund(coid, "refunded", cents=20_000, lines=(("oid-2", 2, 20_000),), rid="R1"))
    with pytest.raises(AfterSalesError, match="only 8825 are left on it"):
        await send(uow, refund(coid, "refunded", cents=9_000, lines=(("oid-2", 1, 9_000),), rid="R2"))
    assert len(uow.repo.cases) == 1 and len(uow.of_type("order.refund-approved")) == 1


async def test_a_refund_for_an_order_not_received_yet_waits_for_it():
    uow, _ = await accepted_order()
    with pytest.raises(WaitingFor) as waiting:
        await send(uow, refund("T-NOT-YET", "requested", cents=1))
    assert waiting.value.key == "order:tmall:T-NOT-YET" and uow.repo.cases == {}


async def test_a_platform_close_cancels_an_open_order_and_is_recorded_after_shipment():
    uow, oid = await accepted_order()
    coid = uow.repo.orders[oid]["channel_order_id"]
    closed = ChannelOrderClosedV1(channel="tmall", shop_id=SHOP, channel_order_id=coid, reason="buyer_cancel",
                                  channel_status="TRADE_CLOSED", received_at=AT)  # fmt: skip
    await send(uow, closed)
    assert uow.repo.orders[oid]["status"] == "cancelled" and len(uow.of_type("order.cancelled")) == 1
    await send(uow, closed)
    assert len(uow.of_type("order.cancelled")) == 1 and uow.repo.cases == {}

    uow, oid, coid = await shipped_order()
    await send(uow, closed.model_copy(update={"channel_order_id": coid}))
    case = the_case(uow)
    assert (case["kind"], case["state"], uow.repo.orders[oid]["status"]) == (
        "platform_close",
        "recorded",
        "shipped",
    )
    assert uow.of_type("order.cancelled") == []


async def test_an_exchange_received_sends_a_new_order_of_0_paid():
    uow, oid, coid = await shipped_order()
    await send(uow, refund(coid, "agreed", kind="exchange", lines=(("oid-2", 1, 0),)))
    case_id = the_case(uow)["case_id"]
    await ops.receive(uow, case_id, "WH-HZ", [Inspected(f"{oid}-005", 0, 1)])
    case = the_case(uow)
    assert case["state"] == "exchanged" and case["outbound_order_id"]
    new = uow.repo.orders[case["outbound_order_id"]]
    assert (new["status"], new["paid_cents"], new["channel_order_id"]) == (
        "accepted",
        0,
        f"{coid}#exchange-{case_id}",
    )
    accepted = [e for e in uow.of_type("order.accepted") if e.data.order_id == new["order_id"]]
    (ev,) = accepted
    assert ev.data.channel_order_id == coid  # the platform order it belongs to (the channel's write-back)
    assert [(x.material_code, x.qty, x.amount_cents) for x in ev.data.lines] == [("BEAN-ETH-500", 1, 0)]


async def test_an_operator_reships_a_lost_parcel_and_compensates():
    uow, oid, _ = await shipped_order()
    case_id = await ops.open_case(uow, oid, ops.OpenCase(Kind.RESHIP, "parcel lost by the carrier"))
    case = uow.repo.cases[case_id]
    assert case["state"] == "reshipped"
    ev = uow.of_type("order.accepted")[-1].data
    assert ev.order_id == case["outbound_order_id"] and ev.paid_cents == 0 and len(ev.lines) == 5
    comp = await ops.open_case(uow, oid, ops.OpenCase(Kind.COMPENSATION, "late delivery", amount_cents=1_000))
    (granted,) = uow.of_type("order.compensation-granted")
    assert (granted.data.case_id, granted.data.amount_cents, granted.key) == (comp, 1_000, oid)
    with pytest.raises(AfterSalesError, match="more than the 329600 paid"):
        await ops.open_case(uow, oid, ops.OpenCase(Kind.COMPENSATION, "x", amount_cents=329_601))
    with pytest.raises(AfterSalesError, match="comes from the platform"):
        await ops.open_case(uow, oid, ops.OpenCase(Kind.EXCHANGE, "x"))
    record = await ops.get_case(uow, comp)
    assert record.history[0]["note"] == "compensation of 1000 fen granted"
    items, total = await ops.list_cases(uow, order_id=oid, kind="reship")
    assert total == 1 and items[0]["case_id"] == case_id


async def test_a_repair_comes_back_without_restocking_and_is_completed():
    uow, oid, _ = await shipped_order()
    case_id = await ops.open_case(uow, oid, ops.OpenCase(Kind.REPAIR, "machine leaks",
                                                         [ops.CaseLine(f"{oid}-004")]))  # fmt: skip
    (expected,) = uow.of_type("order.return-expected")
    assert expected.data.node_code == "WH-HZ" and expected.data.lines[0].material_code == "MACHINE-AUTO-01"
    await ops.receive(uow, case_id, None, [Inspected(f"{oid}-004", 0, 1)])
    assert uow.of_type("order.return-received")[0].data.restock is False
    await ops.complete_repair(uow, case_id)
    assert uow.repo.cases[case_id]["state"] == "completed"


async def test_a_reship_of_an_order_not_shipped_is_refused():
    uow, oid = await accepted_order()
    with pytest.raises(IllegalCaseTransition, match="has not shipped"):
        await ops.open_case(uow, oid, ops.OpenCase(Kind.RESHIP, "lost"))
    assert uow.repo.cases == {}
