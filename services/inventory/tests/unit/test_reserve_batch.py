"""The batched (hot-SKU) reservation path: exactly what reserving one by one gives; never oversold."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from omni_chassis.uow import FakeUnitOfWork
from omni_inventory import service
from omni_inventory.domain.model import Line, allocate_in_order

from .inventory_fakes import FakeRepository
from .test_use_cases import NODE, cancelled, level, requested, stock_up

MATERIALS = ["A", "B", "C"]
lines_st = st.dictionaries(st.sampled_from(MATERIALS), st.integers(1, 4), min_size=1, max_size=3)


def sequential(requests, available):
    left, out = dict(available), []
    for req in requests:
        if req is None:
            out.append(False)
            continue
        node, lines = req
        if all(left.get((node, x.material_code), 0) >= x.qty for x in lines):
            for x in lines:
                left[(node, x.material_code)] -= x.qty
            out.append(True)
        else:
            out.append(False)
    return out, left


@given(
    reqs=st.lists(st.one_of(st.none(), lines_st), max_size=40),
    stock=st.dictionaries(st.sampled_from(MATERIALS), st.integers(0, 12)),
)
def test_allocation_in_order_is_one_by_one_and_never_below_zero(reqs, stock):
    requests = [None if r is None else (NODE, [Line(m, q) for m, q in sorted(r.items())]) for r in reqs]
    available = {(NODE, m): q for m, q in stock.items()}
    got = allocate_in_order(requests, available)
    want, left = sequential(requests, available)
    assert got == want
    taken = {k: sum(x.qty for ok, r in zip(got, requests, strict=True) if ok and r for x in r[1]
                    if (r[0], x.material_code) == k) for k in available}  # fmt: skip
    assert all(taken[k] <= available[k] for k in available) and all(v >= 0 for v in left.values())


async def run_batch(batch_stock: dict[str, int], reqs: list[dict[str, int]], *, one_by_one: bool):
    repo = FakeRepository()
    uow = FakeUnitOfWork(repo)
    await stock_up(uow, batch_stock)
    envs = [requested(f"R{i}", f"O{i}", r) for i, r in enumerate(reqs)]
    if one_by_one:
        for env in envs:
            await service.handle_batch(uow, [env])
    else:
        await service.handle_batch(uow, envs)
    answers = [(e.event_type, e.data.reservation_id) for e in uow.committed_events
               if e.event_type.startswith("inventory.reserv")]  # fmt: skip
    return repo, answers


@settings(max_examples=60, deadline=None)
@given(stock=st.dictionaries(st.sampled_from(MATERIALS), st.integers(1, 10), min_size=1),
       reqs=st.lists(lines_st, min_size=2, max_size=25))  # fmt: skip
async def test_a_batch_reserves_what_one_by_one_reserves_with_the_same_ledger(stock, reqs):
    batched, answers_b = await run_batch(stock, reqs, one_by_one=False)
    single, answers_s = await run_batch(stock, reqs, one_by_one=True)
    assert answers_b == answers_s
    state = [{k: (r.on_hand, r.reserved, r.seq) for k, r in repo.stock.items()} for repo in (batched, single)]
    assert state[0] == state[1]
    strip = [{k: v for k, v in m.items() if k != "at"} for m in batched.movements]
    assert strip == [{k: v for k, v in m.items() if k != "at"} for m in single.movements]
    assert all(r.reserved <= r.on_hand for r in batched.stock.values())


async def test_a_thousand_orders_on_one_sku_reserve_in_arrival_order_and_never_oversell(uow, repo):
    await stock_up(uow, {"A": 600})
    envs = [requested(f"R{i}", f"O{i}", {"A": 1 + i % 2}) for i in range(1000)]
    await service.handle_batch(uow, envs)
    reserved = [e.data.reservation_id for e in uow.committed_events if e.event_type == "inventory.reserved"]
    refused = [e.data for e in uow.committed_events if e.event_type == "inventory.reservation-refused"]
    # 1 + 2 + 1 + 2 ... = 600 after 400 orders; the 401st asks 1 and there is none left
    assert reserved == [f"R{i}" for i in range(400)]
    assert len(refused) == 600 and refused[0].shortfall[0].available == 0
    assert level(repo, "A") == (600, 600, 401)  # one receipt + 400 reservations, seq counted one by one
    assert [m["seq"] for m in repo.movements][-3:] == [399, 400, 401]


async def test_a_cancelled_order_in_a_batch_reserves_nothing_and_repeats_answer_the_outcome(uow, repo):
    await stock_up(uow, {"A": 1})
    await service.handle_batch(uow, [cancelled("O9")])
    envs = [requested("R9", "O9", {"A": 1}), requested("R1", "O1", {"A": 1}), requested("R1", "O1", {"A": 1})]
    await service.handle_batch(uow, envs)
    answers = [(e.event_type, e.data.reservation_id) for e in uow.committed_events
               if e.event_type.startswith("inventory.reserv")]  # fmt: skip
    assert answers == [
        ("inventory.reservation-refused", "R9"),
        ("inventory.reserved", "R1"),
        ("inventory.reserved", "R1"),  # the repeat re-answers what was recorded
    ]
    assert level(repo, "A")[:2] == (1, 1)
