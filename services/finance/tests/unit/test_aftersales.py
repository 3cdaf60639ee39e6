"""Refunds and compensations (order.refund-approved, order.compensation-granted) in a FakeUnitOfWork."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from omni_chassis.consumer import PermanentError
from omni_finance import service
from omni_finance.domain.posting import OrderStatus

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from finance_aftersales import compensation_granted, refund_approved
from finance_fakes import (
    FREIGHT,
    GOODS,
    accepted,
    all_lines,
    apply_released,
    cancelled,
    env,
    handle,
    new_uow,
    shipped,
    sides,
    uid,
)
from finance_merged import S1_FREIGHT, S1_GOODS, merged_order

PAID = GOODS + FREIGHT


def of(repo, order_id, kind):
    return [v for v in repo.vouchers if v.order_id == order_id and v.kind.value == kind]


async def balances(uow, order_id):
    tb = await service.trial_balance(uow, order_id=order_id)
    assert tb["balanced"]
    return {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}


def refund(order_id, lines, **kw):
    return env(refund_approved(order_id, uid("AS"), lines, **kw))


# -- before shipment: the sale's own accounts, reversed for the part refunded ------------------------------
async def test_a_partial_refund_before_shipment_reverses_that_part_of_the_sale_and_the_rest_ships():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    r = refund(oid, [(f"{oid}-1", "BEAN-YIRGA", 1, 10_000)], freight=400, kind="refund_before_shipment",
               before_shipment=True)  # fmt: skip
    await handle(uow, r)
    [voucher] = of(repo, oid, "refund")
    assert sides(voucher) == [("2205", 10_000, 0), ("2206", 400, 0), ("1122", 0, 10_400)]
    assert voucher.source_event_id == r.event_id and voucher.source_event_type == "order.refund-approved"
    assert (
        r.data.case_id in voucher.summary and voucher.reverses_voucher_id == repo.orders[oid].sale_voucher_id
    )
    [posted] = [
        e for e in uow.of_type("finance.voucher-posted") if e.data.voucher_id == str(voucher.voucher_id)
    ]
    assert posted.causation_id == str(r.event_id)
    line = repo.orders[oid].lines[0]
    assert (line.refunded_qty, line.cancelled_qty, line.deferred_refund_cents, line.open_qty) == (
        1,
        1,
        10_000,
        0,
    )
    # the rest ships: the goods left and the freight not refunded become revenue; nothing stays deferred
    await handle(uow, shipped(oid, all_lines(oid)[1:]))
    [revenue] = of(repo, oid, "revenue")
    assert sides(revenue) == [("2205", GOODS - 10_000, 0), ("2206", FREIGHT - 400, 0),
                              ("6001", 0, GOODS - 10_000), ("6051", 0, FREIGHT - 400)]  # fmt: skip
    assert await balances(uow, oid) == {"1122": PAID - 10_400, "6001": GOODS - 10_000, "6051": FREIGHT - 400}


async def test_a_unit_refunded_before_it_left_that_leaves_anyway_is_booked_at_0():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    await handle(uow, refund(oid, [(f"{oid}-5", "FILTER-100", 1, 334)], kind="refund_before_shipment"))
    await handle(uow, shipped(oid, all_lines(oid)))  # all 3 filters left after all (the intercept came late)
    [revenue] = of(repo, oid, "revenue")
    assert sides(revenue)[0] == ("2205", GOODS - 334, 0)
    filters = repo.orders[oid].lines[4]
    assert (filters.shipped_qty, filters.cancelled_qty, filters.recognized_cents) == (3, 0, 666)
    assert await balances(uow, oid) == {"1122": PAID - 334, "6001": GOODS - 334, "6051": FREIGHT}


async def test_money_kept_for_units_refunded_that_will_not_leave_is_recognised_at_once():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    await handle(uow, refund(oid, [(f"{oid}-5", "FILTER-100", 3, 600)], kind="refund_before_shipment"))
    [voucher] = of(repo, oid, "refund")
    assert sides(voucher) == [("2205", 1_000, 0), ("6001", 0, 400), ("1122", 0, 600)]  # 400 of 1,000 kept
    assert "kept 400 recognised" in voucher.summary


# -- after shipment: the revenue of the part refunded ------------------------------------------------------
async def test_a_refund_after_shipment_reverses_the_recognised_revenue():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid), shipped(oid, all_lines(oid)))
    await handle(uow, refund(oid, [(f"{oid}-4", "MACHINE-AUTO", 1, 70_000)], freight=1_000,
                             kind="return_and_refund"))  # fmt: skip
    await handle(uow, refund(oid, [(f"{oid}-5", "FILTER-100", 0, 300)]))  # money only
    first, second = of(repo, oid, "refund")
    assert sides(first) == [("6001", 70_000, 0), ("6051", 1_000, 0), ("1122", 0, 71_000)]
    assert sides(second) == [("6001", 300, 0), ("1122", 0, 300)]
    machine, filters = repo.orders[oid].lines[3], repo.orders[oid].lines[4]
    assert (machine.refunded_qty, machine.cancelled_qty, machine.revenue_refund_cents) == (1, 0, 70_000)
    assert (filters.refunded_qty, filters.revenue_refund_cents) == (0, 300)
    assert await balances(uow, oid) == {"1122": PAID - 71_300, "6001": GOODS - 70_300}


async def test_a_refund_after_shipment_seen_before_the_shipment_nets_the_same():
    uow, repo = new_uow()
    early, late = uid("O"), uid("O")
    for oid in (early, late):
        await handle(uow, accepted(oid))
    machine = lambda oid: [(f"{oid}-4", "MACHINE-AUTO", 1, 70_000)]  # noqa: E731
    await handle(
        uow, refund(early, machine(early), kind="refund_after_shipment")
    )  # before finance saw it leave
    await handle(uow, shipped(early, all_lines(early)))
    await handle(uow, shipped(late, all_lines(late)))
    await handle(uow, refund(late, machine(late), kind="refund_after_shipment"))
    assert sides(of(repo, early, "refund")[0])[0] == ("2205", 70_000, 0)  # still deferred when refunded
    assert sides(of(repo, late, "refund")[0])[0] == ("6001", 70_000, 0)
    netted = {"1122": PAID - 70_000, "6001": GOODS - 70_000, "6051": FREIGHT}
    assert await balances(uow, early) == await balances(uow, late) == netted


async def test_a_partly_shipped_line_refunds_the_units_that_left_at_revenue_the_others_deferred():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid), shipped(oid, [("FILTER-100", 1, f"{oid}-5")]))  # 334 recognised
    await handle(uow, refund(oid, [(f"{oid}-5", "FILTER-100", 3, 1_000)], kind="return_and_refund"))
    [voucher] = of(repo, oid, "refund")
    assert sides(voucher) == [("2205", 666, 0), ("6001", 334, 0), ("1122", 0, 1_000)]  # 1 left, 2 had not


async def test_an_intercept_on_a_partly_shipped_line_takes_the_units_still_to_ship():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid), shipped(oid, [("FILTER-100", 1, f"{oid}-5")]))  # 334 of 1,000 recognised
    # the order had started to ship (before_shipment false), but the case intercepts a unit not yet gone
    await handle(uow, refund(oid, [(f"{oid}-5", "FILTER-100", 1, 333)], kind="refund_before_shipment"))
    await handle(uow, refund(oid, [(f"{oid}-5", "FILTER-100", 0, 100)], kind="refund_before_shipment"))
    first, second = of(repo, oid, "refund")
    assert sides(first) == [("2205", 333, 0), ("1122", 0, 333)] and sides(second) == [
        ("2205", 100, 0),
        ("1122", 0, 100),
    ]
    filters = repo.orders[oid].lines[4]
    assert (filters.cancelled_qty, filters.open_qty, filters.deferred_cents) == (1, 1, 233)
    await handle(uow, shipped(oid, [("FILTER-100", 1, f"{oid}-5")]))
    assert sides(of(repo, oid, "revenue")[1]) == [("2205", 233, 0), ("6001", 0, 233)]  # what is left of it


# -- once per case, nothing twice, nothing for a reversed order --------------------------------------------
async def test_the_same_case_books_once_whatever_the_event():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid), shipped(oid, all_lines(oid)))
    data = refund_approved(oid, uid("AS"), [(f"{oid}-4", "MACHINE-AUTO", 1, 70_000)])
    first = env(data)
    await handle(uow, first, env(data))  # a second event of the case in the same batch
    await handle(uow, env(data))  # and in a later one
    comp = compensation_granted(oid, uid("AS"), 500)
    await handle(uow, env(comp), env(comp))
    await handle(uow, env(comp))
    assert len(of(repo, oid, "refund")) == 1 and of(repo, oid, "refund")[0].source_event_id == first.event_id
    assert len(of(repo, oid, "compensation")) == 1
    assert repo.orders[oid].lines[3].revenue_refund_cents == 70_000  # applied once to the projection too
    assert await balances(uow, oid) == {"1122": PAID - 70_500, "6001": GOODS - 70_000, "6051": FREIGHT,
                                        "660101": 500}  # fmt: skip


async def test_a_refund_of_an_order_its_cancellation_reversed_books_nothing():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid), cancelled(oid))
    await handle(uow, refund(oid, [(f"{oid}-1", "BEAN-YIRGA", 1, 10_000)], kind="refund_before_shipment"))
    assert [v.kind.value for v in repo.vouchers] == ["sale", "reversal"]
    assert repo.orders[oid].status is OrderStatus.CANCELLED and not repo.orders[oid].lines[0].refunded_qty
    assert await balances(uow, oid) == {}


async def test_a_cancellation_after_a_partial_refund_reverses_only_what_is_left():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    await handle(uow, refund(oid, [(f"{oid}-1", "BEAN-YIRGA", 1, 10_000)], freight=400, before_shipment=True,
                             kind="refund_before_shipment"))  # fmt: skip
    await handle(uow, cancelled(oid))
    [reversal] = of(repo, oid, "reversal")
    assert sides(reversal) == [
        ("1122", 0, PAID - 10_400),
        ("2205", GOODS - 10_000, 0),
        ("2206", FREIGHT - 400, 0),
    ]
    assert await balances(uow, oid) == {}  # every account of the order back to 0


async def test_a_refund_that_takes_more_than_is_left_is_permanent_and_changes_nothing():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid))
    with pytest.raises(PermanentError, match="more than is left"):
        await handle(uow, refund(oid, [(f"{oid}-1", "BEAN-YIRGA", 2, 10_000)]))
    with pytest.raises(PermanentError, match="freight 2000, only 1000"):
        await handle(uow, refund(oid, [], freight=2_000))
    assert [v.kind.value for v in repo.vouchers] == ["sale"] and not repo.orders[oid].refunded


# -- compensation ------------------------------------------------------------------------------------------
async def test_a_compensation_is_a_sales_expense_against_the_platform_wallet():
    uow, repo = new_uow()
    oid = uid("O")
    await handle(uow, accepted(oid), shipped(oid, all_lines(oid)))
    comp = env(compensation_granted(oid, uid("AS"), 500))
    await handle(uow, comp)
    [voucher] = of(repo, oid, "compensation")
    assert sides(voucher) == [("660101", 500, 0), ("1122", 0, 500)]
    assert voucher.source_event_id == comp.event_id and comp.data.case_id in voucher.summary


# -- merged orders: the source's own sale -----------------------------------------------------------------
async def test_a_merged_sources_refund_reverses_the_sources_sale_matched_by_material():
    uow, repo = new_uow()
    m, s1, s2 = uid("M"), uid("S1"), uid("S2")
    early = env(
        refund_approved(s1, uid("AS"), [("own-2", "FILTER-100", 1, 1_000)], kind="refund_before_shipment")
    )
    await handle(uow, early)  # before finance saw M's acceptance: parked on the source's key
    assert not of(repo, s1, "refund") and [e.event_id for e in uow.parked[f"order:{s1}"]] == [early.event_id]
    await handle(uow, env(merged_order(m, s1, s2)))
    await apply_released(uow)
    [voucher] = of(repo, s1, "refund")  # the OMS names S1's own line ids; finance keeps M's: by material
    assert (
        sides(voucher) == [("2205", 1_000, 0), ("1122", 0, 1_000)]
        and f"via merged order {m}" in voucher.summary
    )
    assert repo.orders[s1].lines[1].cancelled_qty == 1 and not of(repo, m, "refund")
    assert await balances(uow, s1) == {"1122": S1_GOODS + S1_FREIGHT - 1_000, "2205": S1_GOODS - 1_000,
                                       "2206": S1_FREIGHT}  # fmt: skip
    with pytest.raises(PermanentError, match="after-sales are the source orders'"):
        await handle(uow, env(refund_approved(m, uid("AS"), [])))


async def test_a_batch_of_refunds_and_compensations_of_many_orders_is_booked_in_one_go():
    uow, repo = new_uow()
    ids = [uid("O") for _ in range(3)]
    await handle(uow, *[accepted(o) for o in ids])
    await handle(uow, *[shipped(o, all_lines(o)) for o in ids])
    await handle(uow, *[refund(o, [(f"{o}-2", "BEAN-HUILA", 1, 5_000)]) for o in ids],
                 *[env(compensation_granted(o, uid("AS"), 100)) for o in ids])  # fmt: skip
    assert [v.kind.value for v in repo.vouchers].count("refund") == 3 and len(repo.vouchers) == 12
    assert await balances(uow, None) == {"1122": 3 * (PAID - 5_100), "6001": 3 * (GOODS - 5_000),
                                         "6051": 3 * FREIGHT, "660101": 300}  # fmt: skip
