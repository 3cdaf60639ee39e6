"""The in-memory twin of `store_rules.RuleQueries` (a mixin of `order_fakes.FakeRepository`).

`FAKE_STATE` names the attributes the fake unit of work snapshots and restores."""

from __future__ import annotations


class FakeRuleQueries:
    FAKE_STATE: tuple[str, ...] = ()
