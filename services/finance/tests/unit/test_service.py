"""Finance's use cases in a FakeUnitOfWork over an in-memory repository: no I/O."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from omni_chassis.consumer import PermanentError
from omni_finance import service
from omni_finance.domain.posting import OrderStatus

sys.path.insert(0, str(Path(__file__).parent))
from finance_fakes import (
    ALL,
    FREIGHT,
    GOODS,
    PARKED_AT,
    accepted,
    all_lines,
    apply_released,
    cancelled,
    handle,
    new_uow,
    picked_up,
    shipped,
    shipped_v1,
    sides,
    uid,
)

PAID = GOODS + FREIGHT
REVENUE_ALL = [("2205", GOODS, 0), ("2206", FREIGHT, 0), ("6001", 0, GOODS), ("6051", 0, FREIGHT)]


def kinds(repo, order_id):
    return [v.kind.value for v in repo.vouchers if v.order_id == order_id]


# -- booking ---------------------------------------------------------------------------------------------
async def test_order_accepted_posts_a_sale_voucher_and_emits_it_caused_by_the_order():
    uow, repo = new_uow()
    oid = uid("O")
    acc = accepted(oid)
    await handle(uow, acc)
    [sale] = repo.vouchers
    assert sides(sale) == [("1122", PAID, 0), ("2205", 0, GOODS), ("2206", 0, FREIGHT)]
    [posted] = uow.of_type("finance.voucher-posted")
    assert posted.key == oid and posted.causation_id == str(acc.event_id)
    assert posted.data.voucher_id == str(sale.voucher_id) and posted.data.source_event_id == str(acc.event_id)
    assert repo.orders[oid].status is OrderStatus.ACCEPTED and uow.released == [f"order:{oid}"]


async def test_shipment_recognises_revenue_per_named_line_and_freight_once():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    machine = (f"{oid}-4", f"{oid}-5")  # MACHINE-AUTO, FILTER-100 x3
    await handle(uow, shipped(oid, [("MACHINE-AUTO", 1, machine[0]), ("FILTER-100", 1, machine[1])]))
    await handle(uow, picked_up(oid, [("FILTER-100", 2, machine[1])]))
    _sale, first, second = repo.vouchers
    assert sides(first) == [
        ("2205", 70_334, 0),
        ("2206", FREIGHT, 0),
        ("6001", 0, 70_334),
        ("6051", 0, FREIGHT),
    ]
    assert sides(second) == [("2205", 666, 0), ("6001", 0, 666)]  # the filters' last cents, no freight
    assert second.source_event_type == "fulfillment.picked-up"
    lines = {x.line_id: (x.shipped_qty, x.recognized_cents) for x in repo.orders[oid].lines}
    assert lines[machine[0]] == (1, 70_000) and lines[machine[1]] == (3, 1_000)
    assert repo.orders[oid].status is OrderStatus.SHIPPING and repo.orders[oid].freight_recognized
    assert len(uow.of_type("finance.voucher-posted")) == 3 and len(repo.shipments) == 2


async def test_a_v1_shipment_without_line_ids_is_matched_to_lines_by_material():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    await handle(uow, shipped_v1(oid, ALL))
    assert kinds(repo, oid) == ["sale", "revenue"]
    assert sides(repo.vouchers[1]) == REVENUE_ALL
    assert all(x.shipped_qty == x.qty for x in repo.orders[oid].lines)


async def test_cancel_before_shipment_reverses_the_sale_and_after_shipment_posts_nothing():
    uow, repo = new_uow()
    early, late, never = uid("O"), uid("O"), uid("O")
    await handle(uow, accepted(early), accepted(late), cancelled(early))  # one batch, in order
    await handle(uow, shipped(late, all_lines(late)))
    await handle(uow, cancelled(late), cancelled(early), cancelled(never))
    sale, reversal = [v for v in repo.vouchers if v.order_id == early]
    assert reversal.kind.value == "reversal" and reversal.reverses_voucher_id == sale.voucher_id
    assert sides(reversal) == [(c, cr, dr) for c, dr, cr in sides(sale)]
    assert kinds(repo, late) == ["sale", "revenue"]
    assert repo.orders[early].status is OrderStatus.CANCELLED
    assert repo.orders[late].status is OrderStatus.SHIPPING
    # never accepted (cancelled at intake): same topic and partition as order.accepted, so nothing to wait for
    assert never not in repo.orders and uow.parked == {}


async def test_each_source_event_is_booked_once():
    uow, repo = new_uow()
    oid = uid("O")
    acc, ship, cancel = accepted(oid), shipped(oid, all_lines(oid)), cancelled(oid)
    await handle(uow, acc, acc)
    await handle(uow, acc)
    await handle(uow, ship, ship)
    await handle(uow, ship)
    await handle(uow, cancel)
    await handle(uow, cancel)
    assert kinds(repo, oid) == ["sale", "revenue"]
    assert len(uow.of_type("finance.voucher-posted")) == 2 and len(repo.shipments) == 1
    assert [(x.shipped_qty, x.recognized_cents) for x in repo.orders[oid].lines] == [
        (1, 10_000), (1, 10_000), (1, 10_000), (1, 70_000), (3, 1_000),
    ]  # fmt: skip


async def test_every_voucher_balances_and_so_does_the_trial_balance():
    uow, repo = new_uow()
    ids = [uid("O") for _ in range(5)]
    await handle(uow, *[accepted(o) for o in ids])
    await handle(uow, *[shipped(o, all_lines(o)) for o in ids[:3]])
    await handle(uow, cancelled(ids[3]))
    assert all(v.total_cents == sum(x.credit_cents for x in v.lines) for v in repo.vouchers)
    tb = await service.trial_balance(uow)
    assert tb["balanced"] and tb["total_debit_cents"] == tb["total_credit_cents"]
    bal = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
    assert bal == {"1122": 4 * PAID, "2205": GOODS, "2206": FREIGHT, "6001": 3 * GOODS, "6051": 3 * FREIGHT}
    one = await service.trial_balance(uow, order_id=ids[3])
    assert one["balanced"] and set(a["balance_cents"] for a in one["accounts"]) == {0}


async def test_an_impossible_shipment_is_permanent_and_leaves_nothing_behind():
    uow, repo = new_uow()
    gone, oid = uid("O"), uid("O")
    await handle(uow, accepted(gone), cancelled(gone), accepted(oid))
    before = [
        (o.status, [(x.shipped_qty, x.recognized_cents) for x in o.lines]) for o in repo.orders.values()
    ]
    with pytest.raises(PermanentError, match="cancelled"):
        await handle(uow, shipped(gone, all_lines(gone)))
    with pytest.raises(PermanentError, match="has no line L-NOPE"):  # the good line of the batch is undone
        await handle(uow, shipped(oid, [("FILTER-100", 1, f"{oid}-5"), ("FILTER-100", 1, "L-NOPE")]))
    after = [(o.status, [(x.shipped_qty, x.recognized_cents) for x in o.lines]) for o in repo.orders.values()]
    assert after == before and repo.shipments == {} and len(repo.vouchers) == 3
    assert uow.rollbacks == 2 and len(uow.committed_events) == 3  # two sales and one reversal


# -- parking: a shipment before its order ------------------------------------------------------------------
async def test_a_shipment_before_its_order_is_parked_then_released_and_booked():
    uow, repo = new_uow()
    oid, other = uid("O"), uid("O")
    await handle(uow, accepted(other))
    early = shipped(oid, all_lines(oid))
    await handle(uow, early, shipped(other, all_lines(other)))  # one batch: one parked, one booked
    assert uow.parked == {f"order:{oid}": [early]} and uow.rollbacks == 0
    assert kinds(repo, oid) == [] and kinds(repo, other) == ["sale", "revenue"]

    await handle(uow, accepted(oid))
    assert f"order:{oid}" in uow.released
    assert await apply_released(uow) == [early]
    assert kinds(repo, oid) == ["sale", "revenue"] and sides(repo.vouchers[-1]) == REVENUE_ALL
    assert uow.parked == {}


async def test_later_events_of_an_order_are_parked_behind_its_parked_ones_and_applied_in_order():
    uow, repo = new_uow()
    oid = uid("O")
    filters = f"{oid}-5"
    first = shipped(oid, [("FILTER-100", 1, filters)])
    second = shipped(oid, [("FILTER-100", 1, filters)])
    await handle(uow, first)  # no order yet
    await handle(uow, accepted(oid), cancelled(oid))  # the order, then its cancellation, in one batch
    await handle(uow, second)  # the order is known, but `first` has not been applied yet
    queue = uow.parked[f"order:{oid}"]
    assert [e.event_type for e in queue] == ["fulfillment.shipped", "order.cancelled", "fulfillment.shipped"]
    assert queue[0] is first and queue[2] is second and kinds(repo, oid) == ["sale"]

    assert await apply_released(uow) == queue
    _sale, rev1, rev2 = repo.vouchers
    assert [v.kind.value for v in repo.vouchers] == ["sale", "revenue", "revenue"]
    assert sides(rev1) == [("2205", 334, 0), ("2206", FREIGHT, 0), ("6001", 0, 334), ("6051", 0, FREIGHT)]
    assert sides(rev2) == [("2205", 333, 0), ("6001", 0, 333)]
    # the cancellation came after goods left: nothing reversed (had it jumped ahead, the sale would have been
    # reversed and both shipments dead-lettered)
    assert repo.orders[oid].status is OrderStatus.SHIPPING and repo.orders[oid].cancelled_at is not None


async def test_an_event_applied_again_waits_only_for_events_parked_before_it():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    uow.take_released()
    repo.parked_orders = _parked_since(oid, PARKED_AT)  # the order has events parked since PARKED_AT

    live = shipped(oid, [("FILTER-100", 1, f"{oid}-5")])
    await handle(uow, live)  # a live event: behind them
    assert uow.parked[f"order:{oid}"] == [live]

    earlier = shipped(oid, [("FILTER-100", 1, f"{oid}-5")])
    uow.first_parked = {earlier.event_id: PARKED_AT - timedelta(seconds=1)}  # parked before the others
    await handle(uow, earlier)
    assert kinds(repo, oid) == ["sale", "revenue"] and uow.released == [f"order:{oid}"]  # those behind follow

    later = shipped(oid, [("FILTER-100", 1, f"{oid}-5")])
    uow.first_parked = {later.event_id: PARKED_AT + timedelta(seconds=1)}  # parked after the oldest one
    await handle(uow, later)
    assert uow.parked[f"order:{oid}"] == [live, later] and kinds(repo, oid) == ["sale", "revenue"]


def _parked_since(order_id, at):
    async def parked_orders(order_ids):
        return {order_id: at} if order_id in order_ids else {}

    return parked_orders


# -- queries -----------------------------------------------------------------------------------------------
async def test_queries_answer_from_the_repository_and_say_what_is_unknown():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    items, total = await service.order_vouchers(uow, oid)
    assert (
        total == 1 and items[0]["kind"] == "sale" and items[0]["lines"][0]["account_name"] == "应收账款-平台"
    )
    assert await service.get_voucher(uow, items[0]["voucher_id"]) == items[0]
    with pytest.raises(service.OrderNotKnown, match="not known to finance"):
        await service.order_vouchers(uow, "nope")
    with pytest.raises(service.VoucherNotFound):
        await service.get_voucher(uow, repo.vouchers[0].source_event_id)
    accounts, n = await service.list_accounts(uow, limit=2, offset=2)
    assert n == 14 and [a["code"] for a in accounts] == ["1012", "1122"]


# -- lines that do not ship (virtual, service): fulfilled by the OMS with the order's acceptance ----------
def _virtual(env, *materials):
    lines = [x.model_copy(update={"ships": x.material_code not in materials}) for x in env.data.lines]
    return env.model_copy(update={"data": env.data.model_copy(update={"lines": lines})})


async def test_a_virtual_line_is_recognised_with_the_sale_and_the_freight_waits_for_the_goods():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, _virtual(accepted(oid), "FILTER-100"))
    _sale, revenue = repo.vouchers
    assert sides(revenue) == [
        ("2205", 1_000, 0),
        ("6001", 0, 1_000),
    ]  # the filters (3 for ¥10) only, no freight
    assert repo.orders[oid].status is OrderStatus.ACCEPTED and not repo.orders[oid].freight_recognized
    assert [task for task, _ in repo.shipments] == [f"{oid}:virtual"]
    await handle(uow, accepted(oid))  # delivered again: booked once
    assert len(repo.vouchers) == 2
    rest = [(m, 1, f"{oid}-{i}") for i, m in enumerate(("BEAN-YIRGA", "BEAN-HUILA", "BEAN-MANDHELING",
                                                          "MACHINE-AUTO"), 1)]  # fmt: skip
    await handle(uow, shipped(oid, rest))
    last = repo.vouchers[-1]
    assert sides(last) == [
        ("2205", 100_000, 0),
        ("2206", FREIGHT, 0),
        ("6001", 0, 100_000),
        ("6051", 0, FREIGHT),
    ]
    assert all(x.deferred_cents == 0 for x in repo.orders[oid].lines)


async def test_cancelling_an_order_whose_virtual_line_was_recognised_reverses_all_of_it():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, _virtual(accepted(oid), "FILTER-100"))
    await handle(uow, cancelled(oid))
    reversal = repo.vouchers[-1]
    assert reversal.kind.value == "reversal"
    assert sides(reversal) == [("1122", 0, PAID), ("2205", GOODS - 1_000, 0), ("2206", FREIGHT, 0),
                               ("6001", 1_000, 0)]  # fmt: skip
