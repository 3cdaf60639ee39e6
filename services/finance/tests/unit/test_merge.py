"""Merged orders (合单) in finance's use cases, on the FakeUnitOfWork: booked per source order, never per
merged order (sale, revenue, reversal), and each source booked afresh on its own after an unmerge."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from omni_chassis.consumer import PermanentError
from omni_contracts import Envelope
from omni_contracts.events.order import OrderAcceptedV1
from omni_finance import service
from omni_finance.domain import merge, posting
from omni_finance.domain.posting import OrderStatus

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from finance_fakes import T0, apply_released, cancelled, env, handle, new_uow, shipped, shipped_v1, sides, uid
from finance_merged import S1_FREIGHT, S1_GOODS, S2_GOODS, merged_order, own_order


def merged_accepted(m: str, s1: str, s2: str) -> Envelope[Any]:
    """M holds S1's lines then S2's (each keeps its line id and names its source)."""
    return env(merged_order(m, s1, s2))


def own_accepted(source: str, *, first: bool) -> Envelope[Any]:
    """A source accepted on its own (after an unmerge): its own lines and money, no sources."""
    return env(own_order(source, first=first))


def ids() -> tuple[str, str, str]:
    return uid("M"), uid("S1"), uid("S2")


def of(repo, order_id: str, kind: str | None = None) -> list[Any]:
    return [v for v in repo.vouchers if v.order_id == order_id and (kind is None or v.kind.value == kind)]


def sale_sides(paid: int, goods: int, freight: int) -> list[tuple[str, int, int]]:
    return [("1122", paid, 0), ("2205", 0, goods)] + ([("2206", 0, freight)] if freight else [])


async def balances(uow, order_id: str) -> dict[str, int]:
    tb = await service.trial_balance(uow, order_id=order_id)
    assert tb["balanced"]
    return {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}


# -- sale ----------------------------------------------------------------------------------------------------
async def test_a_merged_order_books_one_sale_per_source_and_none_of_its_own():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    acc = merged_accepted(m, s1, s2)
    await handle(uow, acc)
    [sale1], [sale2] = of(repo, s1), of(repo, s2)
    assert sides(sale1) == sale_sides(S1_GOODS + S1_FREIGHT, S1_GOODS, S1_FREIGHT)
    assert sides(sale2) == sale_sides(S2_GOODS, S2_GOODS, 0)
    assert (
        sale1.summary
        == f"Sale: tmall order T-{s1} of shop A (via merged order {m}) paid 13500 (goods 13000, freight 500)"
    )
    assert f"T-{s2} of shop B (via merged order {m})" in sale2.summary
    assert (
        sale1.source_event_id == sale2.source_event_id == acc.event_id
        and sale1.voucher_id != sale2.voucher_id
    )
    assert of(repo, m) == [] and m not in repo.orders
    assert [e.key for e in uow.of_type("finance.voucher-posted")] == [s1, s2]
    assert uow.released == [f"order:{m}", f"order:{s1}", f"order:{s2}"]  # M's events, the sources' own
    # each source is projected as an order of its own, with M's lines that came from it
    assert [x.line_id for x in repo.orders[s1].lines] == [f"{s1}-1", f"{s1}-2"]
    assert repo.orders[s1].merged_into == m and repo.orders[s2].paid_cents == S2_GOODS
    assert {x.line_id: x.source_order_id for x in repo.merged[m].lines} == {
        f"{s1}-1": s1, f"{s1}-2": s1, f"{s2}-1": s2, f"{s2}-2": s2,
    }  # fmt: skip
    # the REST views: a source's vouchers under its own id; M is known, with nothing of its own
    items, total = await service.order_vouchers(uow, s1)
    assert total == 1 and items[0]["voucher_id"] == sale1.voucher_id
    assert await service.order_vouchers(uow, m) == ([], 0)
    assert await balances(uow, s2) == {"1122": S2_GOODS, "2205": S2_GOODS}
    assert await balances(uow, m) == {}


async def test_a_merged_order_accepted_again_books_nothing_more():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    acc = merged_accepted(m, s1, s2)
    await handle(uow, acc, acc)  # a redelivery in the batch
    await handle(uow, acc)  # past the inbox
    await handle(uow, merged_accepted(m, s1, s2))  # accepted again, as a new event
    assert [v.kind.value for v in repo.vouchers] == ["sale", "sale"]
    assert len(uow.of_type("finance.voucher-posted")) == 2


async def test_a_source_whose_lines_do_not_add_up_is_refused_and_books_nothing():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    acc = merged_accepted(m, s1, s2)
    # S1's beans named as S2's: the sources still add up to M, but each source's lines no longer to its goods
    lines = [acc.data.lines[0].model_copy(update={"source_order_id": s2}), *acc.data.lines[1:]]
    bad = OrderAcceptedV1.model_validate(acc.data.model_copy(update={"lines": lines}).model_dump())
    with pytest.raises(PermanentError, match="line amounts add up"):
        await handle(uow, env(bad))
    assert repo.vouchers == [] and repo.merged == {} and uow.rollbacks == 1


# -- revenue -------------------------------------------------------------------------------------------------
async def test_a_shipment_of_the_merged_order_books_revenue_per_source():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    await handle(uow, merged_accepted(m, s1, s2))
    task = uid("task")
    await handle(uow, shipped(m, [("BEAN-YIRGA", 1, f"{s1}-1"), ("MACHINE-AUTO", 1, f"{s2}-1")], task))
    [rev1], [rev2] = of(repo, s1, "revenue"), of(repo, s2, "revenue")
    assert sides(rev1) == [("2205", 10_000, 0), ("2206", 500, 0), ("6001", 0, 10_000), ("6051", 0, 500)]
    assert sides(rev2) == [("2205", 70_000, 0), ("6001", 0, 70_000)]
    assert f"(via merged order {m}) shipped" in rev1.summary
    assert {k: (r["goods_cents"], r["merged_order_id"]) for k, r in repo.shipments.items()} == {
        (task, s1): (10_000, m), (task, s2): (70_000, m),
    }  # fmt: skip
    # v1, without line ids: the filters are taken over M's lines in line order (S1's 3, then S2's 1)
    await handle(uow, shipped_v1(m, [("FILTER-100", 4)]))
    assert sides(of(repo, s1, "revenue")[1]) == [("2205", 3_000, 0), ("6001", 0, 3_000)]  # freight was booked
    assert sides(of(repo, s2, "revenue")[1]) == [("2205", 400, 0), ("6001", 0, 400)]
    for s, goods, freight in ((s1, S1_GOODS, S1_FREIGHT), (s2, S2_GOODS, 0)):
        assert repo.orders[s].status is OrderStatus.SHIPPING
        assert all(x.shipped_qty == x.qty for x in repo.orders[s].lines)
        assert await balances(uow, s) == {"1122": goods + freight, "6001": goods} | (
            {"6051": freight} if freight else {}
        )
    # the same task again books nothing; more than M holds is dead-lettered, leaving nothing behind
    await handle(uow, shipped(m, [("BEAN-YIRGA", 1, f"{s1}-1")], task))
    with pytest.raises(PermanentError, match="still open"):
        await handle(uow, shipped_v1(m, [("FILTER-100", 1)]))
    with pytest.raises(PermanentError, match=f"merged order {m} has no line L-NOPE"):
        await handle(uow, shipped(m, [("FILTER-100", 1, "L-NOPE")]))
    assert len(of(repo, s1, "revenue")) == len(of(repo, s2, "revenue")) == 2


async def test_a_shipment_before_its_merged_order_is_parked_and_booked_per_source_when_it_comes():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    early = shipped(m, [("FILTER-100", 3, f"{s1}-2"), ("FILTER-100", 1, f"{s2}-2")])
    await handle(uow, early)
    assert uow.parked == {f"order:{m}": [early]} and repo.vouchers == []
    await handle(uow, merged_accepted(m, s1, s2))
    assert await apply_released(uow) == [early]
    assert [v.kind.value for v in of(repo, s1)] == ["sale", "revenue"]
    assert [v.kind.value for v in of(repo, s2)] == ["sale", "revenue"] and uow.parked == {}


# -- cancel, unmerge, re-accepted on their own --------------------------------------------------------------
async def test_unmerge_reverses_each_source_and_each_source_accepted_on_its_own_nets_one_sale():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    await handle(uow, merged_accepted(m, s1, s2))
    cancel = cancelled(m)
    await handle(uow, cancel)
    for s in (s1, s2):
        sale, reversal = of(repo, s)
        assert reversal.kind.value == "reversal" and reversal.reverses_voucher_id == sale.voucher_id
        assert reversal.source_event_id == cancel.event_id and f"(via merged order {m})" in reversal.summary
        assert repo.orders[s].status is OrderStatus.CANCELLED and await balances(uow, s) == {}
    await handle(uow, cancel)  # again: nothing more
    assert len(repo.vouchers) == 4

    # the OMS accepts each source again under its own id: booked afresh, not "already known"
    await handle(uow, own_accepted(s1, first=True), own_accepted(s2, first=False))
    assert [v.kind.value for v in of(repo, s1)] == ["sale", "reversal", "sale"]
    assert [v.kind.value for v in of(repo, s2)] == ["sale", "reversal", "sale"]
    assert of(repo, s1)[2].summary == f"Sale: tmall order T-{s1} paid 13500 (goods 13000, freight 500)"
    assert await balances(uow, s1) == {"1122": 13_500, "2205": S1_GOODS, "2206": S1_FREIGHT}
    assert await balances(uow, s2) == {"1122": S2_GOODS, "2205": S2_GOODS}
    assert repo.orders[s1].merged_into is None and repo.orders[s1].status is OrderStatus.ACCEPTED
    assert uow.released[-2:] == [f"order:{s1}", f"order:{s2}"]
    await handle(uow, own_accepted(s1, first=True))  # its own acceptance again: nothing, as for any order
    assert len(of(repo, s1)) == 3

    # then a shipment of the source itself books its revenue as usual; M's shipment can no longer book any
    await handle(uow, shipped(s1, [("BEAN-YIRGA", 1, f"{s1}-1"), ("FILTER-100", 3, f"{s1}-2")]))
    assert sides(of(repo, s1)[3]) == [
        ("2205", S1_GOODS, 0), ("2206", S1_FREIGHT, 0), ("6001", 0, S1_GOODS), ("6051", 0, S1_FREIGHT),
    ]  # fmt: skip
    assert "via merged order" not in of(repo, s1)[3].summary
    with pytest.raises(PermanentError, match="no longer booked via it"):
        await handle(uow, shipped(m, [("MACHINE-AUTO", 1, f"{s2}-1"), ("BEAN-YIRGA", 1, f"{s1}-1")]))


async def test_a_source_accepted_on_its_own_before_the_merged_orders_cancellation_still_nets_one_sale():
    """M's cancellation and the source's own acceptance have different keys: either may come first."""
    uow, repo = new_uow()
    m, s1, s2 = ids()
    await handle(uow, merged_accepted(m, s1, s2))
    own = own_accepted(s1, first=True)
    await handle(uow, own)  # before M's cancellation: the sale via M is reversed by it, then booked afresh
    sale_via_m, reversal, sale = of(repo, s1)
    assert reversal.source_event_id == own.event_id and reversal.reverses_voucher_id == sale_via_m.voucher_id
    assert sale.kind.value == "sale" and repo.orders[s1].merged_into is None
    await handle(uow, cancelled(m))  # reverses only what is still booked via M
    assert len(of(repo, s1)) == 3 and [v.kind.value for v in of(repo, s2)] == ["sale", "reversal"]
    await handle(uow, own_accepted(s2, first=False))
    assert await balances(uow, s1) == {"1122": 13_500, "2205": S1_GOODS, "2206": S1_FREIGHT}
    assert await balances(uow, s2) == {"1122": S2_GOODS, "2205": S2_GOODS}


async def test_a_sources_own_shipment_before_its_own_acceptance_waits_for_it():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    await handle(uow, merged_accepted(m, s1, s2), cancelled(m))
    early = shipped(s1, [("BEAN-YIRGA", 1, f"{s1}-1")])
    await handle(uow, early)  # S1 is only known as booked via M (reversed): not yet an order of its own
    assert uow.parked == {f"order:{s1}": [early]}
    await handle(uow, own_accepted(s1, first=True))
    assert await apply_released(uow) == [early]
    assert [v.kind.value for v in of(repo, s1)] == ["sale", "reversal", "sale", "revenue"]


async def test_a_merged_order_cancelled_after_goods_left_reverses_nothing_and_is_not_booked_again():
    uow, repo = new_uow()
    m, s1, s2 = ids()
    await handle(uow, merged_accepted(m, s1, s2))
    await handle(uow, shipped(m, [("BEAN-YIRGA", 1, f"{s1}-1")]))
    await handle(uow, cancelled(m))
    assert [v.kind.value for v in of(repo, s1)] == ["sale", "revenue"]  # goods left: nothing reversed
    assert [v.kind.value for v in of(repo, s2)] == ["sale", "reversal"]  # nothing of S2 had left
    await handle(uow, own_accepted(s1, first=True), own_accepted(s2, first=False))
    assert [v.kind.value for v in of(repo, s1)] == ["sale", "revenue"]  # refused: its goods left via M
    assert [v.kind.value for v in of(repo, s2)] == ["sale", "reversal", "sale"]


def test_which_acceptance_of_an_already_projected_order_books_it():
    a = own_accepted(uid("S1"), first=True)

    def state(merged_into, status):
        o = posting.accept(a.data, posting.Source(a.event_id, a.event_type), T0)[0]
        o.merged_into, o.status = merged_into, OrderStatus(status)
        return o

    R = merge.Rebooking
    assert merge.rebooking(None, None) is R.NEW
    assert merge.rebooking(state(None, "cancelled"), None) is R.ALREADY  # an order's own, as ever
    assert merge.rebooking(state(None, "accepted"), None) is R.ALREADY
    assert merge.rebooking(state("M", "accepted"), "M") is R.ALREADY
    assert merge.rebooking(state("M", "cancelled"), None) is R.RENEW  # unmerged, then accepted on its own
    assert merge.rebooking(state("M", "cancelled"), "M2") is R.RENEW  # unmerged, then merged again
    assert merge.rebooking(state("M", "accepted"), None) is R.SUPERSEDE  # M's cancellation not seen yet
    assert merge.rebooking(state("M", "shipping"), None) is R.REFUSE  # goods left via M
