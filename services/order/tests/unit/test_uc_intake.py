"""Intake on the fake unit of work: dedupe, decomposition, exceptions, and the events it commits."""

from __future__ import annotations

import pytest
from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_order import service
from omni_order.domain.ids import OrderIdFactory


async def _uow_with_catalog():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    return uow


async def test_an_order_is_decomposed_accepted_and_announced():
    uow = await _uow_with_catalog()
    trade = envelope(channel_order())
    result = await service.intake(uow, [trade])
    (order_id,) = result.accepted
    o = uow.repo.orders[order_id]
    assert (o["status"], o["status_reason"], o["goods_paid_cents"]) == ("accepted", None, 329_600)
    assert (o["role_owner"], o["role_channel"]) == ("brand", "tmall:S1")
    lines = [x for x in uow.repo.lines if x["order_id"] == order_id]
    assert [(x["line_id"], x["material_code"], x["qty"]) for x in lines] == [
        (f"{order_id}-001", "BEAN-YUNNAN-250G", 1), (f"{order_id}-002", "BEAN-ETHIOPIA-250G", 1),
        (f"{order_id}-003", "BEAN-COLOMBIA-250G", 1), (f"{order_id}-004", "MACHINE-AUTO-01", 1),
        (f"{order_id}-005", "BEAN-ETH-500", 3),
    ]  # fmt: skip
    assert sum(x["amount_cents"] for x in lines) == 329_600
    assert [x["listing_id"] for x in uow.repo.channel_line_rows] == ["L-COFFEE", "L-BEANS"]
    assert [(h["from_status"], h["to_status"], h["source"]) for h in uow.repo.history] == [
        (None, "received", "intake"), ("received", "accepted", "intake"),
    ]  # fmt: skip
    assert uow.repo.history[0]["cause_event_id"] == trade.event_id
    assert [e.event_type for e in uow.committed_events] == ["order.status-changed", "order.accepted"]
    accepted = uow.of_type("order.accepted")[0]
    assert accepted.key == order_id and accepted.causation_id == str(trade.event_id)
    assert [x.line_id for x in accepted.data.lines] == [x["line_id"] for x in lines]
    assert accepted.data.ship_to.city == "杭州市" and accepted.data.ship_to.lat == o["lat"]


async def test_duplicates_in_a_batch_and_across_batches_create_nothing_and_are_counted():
    uow = await _uow_with_catalog()
    trade = channel_order()
    first = envelope(trade)
    result = await service.intake(uow, [first, envelope(trade)])  # the adapter delivered it twice
    assert len(result.accepted) == 1 and result.duplicates == 1
    again = await service.intake(uow, [envelope(trade)])
    assert again.accepted == [] and again.exceptions == [] and again.duplicates == 1
    (o,) = uow.repo.orders.values()
    assert o["duplicate_deliveries"] == 2 and o["last_duplicate_at"] is not None
    assert len(uow.of_type("order.accepted")) == 1 and len(uow.repo.lines) == 5
    assert uow.commits == 3  # the catalog, then one per batch


async def test_an_unknown_listing_holds_the_order_in_exception_with_a_reason():
    uow = await _uow_with_catalog()
    result = await service.intake(uow, [envelope(channel_order(shop_id="S9"))])
    (order_id,) = result.exceptions
    o = uow.repo.orders[order_id]
    assert (o["status"], o["status_reason_code"]) == ("exception", "unknown_listing")
    assert o["status_reason"].startswith("line 1: no tmall listing for item 6012345 sku 4456")
    assert [x for x in uow.repo.lines if x["order_id"] == order_id] == []
    assert [e.event_type for e in uow.committed_events] == ["order.status-changed", "order.exception-raised"]
    raised = uow.of_type("order.exception-raised")[0].data
    assert (raised.reason_code, raised.reason) == ("unknown_listing", o["status_reason"])
    assert uow.of_type("order.status-changed")[0].data.to_status == "exception"


async def test_a_mixed_batch_keeps_each_outcome_apart():
    uow = await _uow_with_catalog()
    envs = [envelope(channel_order()), envelope(channel_order(shop_id="S9")), envelope(channel_order())]
    result = await service.intake(uow, envs, new_id=OrderIdFactory(clock_ns=lambda: 1, rand=lambda: 7))
    assert (len(result.accepted), len(result.exceptions), result.duplicates) == (2, 1, 0)
    assert result.accepted == ["O00000000000000010007", "O00000000000000030007"]
    assert {e.key for e in uow.of_type("order.accepted")} == set(result.accepted)
    assert {e.key for e in uow.of_type("order.exception-raised")} == set(result.exceptions)


async def test_a_failing_batch_commits_nothing():
    uow = await _uow_with_catalog()

    async def broken(rows):
        raise RuntimeError("the database went away")

    uow.repo.add_lines = broken
    with pytest.raises(RuntimeError):
        await service.intake(uow, [envelope(channel_order())])
    assert uow.repo.orders == {} and uow.repo.history == [] and uow.committed_events == []
    assert uow.rollbacks == 1
