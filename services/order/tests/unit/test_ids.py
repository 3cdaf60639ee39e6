from __future__ import annotations

from omni_order.domain.ids import OrderIdFactory, is_order_id, new_order_id


def test_shape():
    oid = new_order_id()
    assert len(oid) == 21 and oid[0] == "O"
    assert is_order_id(oid)


def test_sortable_by_time_even_when_the_clock_stalls_or_goes_back():
    ticks = iter([1_000, 1_000, 999, 2_000])
    rnd = iter([0xFFFF, 0x0000, 0x1234, 0x0001])
    make = OrderIdFactory(clock_ns=lambda: next(ticks), rand=lambda: next(rnd))
    ids = [make() for _ in range(4)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert ids[0] == f"O{1000:016x}ffff"


def test_many_ids_are_unique_and_ordered():
    ids = [new_order_id() for _ in range(5000)]
    assert len(set(ids)) == 5000
    assert ids == sorted(ids)
