"""The in-memory twin of `store_backorders.BackorderQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations


class FakeBackorderQueries:
    FAKE_STATE: tuple[str, ...] = ()
