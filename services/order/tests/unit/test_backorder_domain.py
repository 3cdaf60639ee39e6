"""The pure rules of backorders: what counts as a stock shortage, who a receipt re-sources, the policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni_contracts.events.common import Shortfall
from omni_order.domain.backorder import (
    BackorderPolicy,
    OnOverdue,
    Short,
    Waiting,
    overdue_reason,
    pick_for_receipt,
    stock_shortfall,
)

AT = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)


def sf(material: str, requested: int, available: int) -> Shortfall:
    return Shortfall(material_code=material, requested=requested, available=available)


@pytest.mark.parametrize(
    "reason",
    [
        "not enough stock in any combination of active nodes: BEAN needs 5, 2 available in total",
        "not enough stock at store pickup node ST-1: BEAN needs 5, 2 available",
        "node WH-HZ refused the reservation (short); no attempt left (3 of 3 used)",
        "node ST-1 refused the reservation (short); re-planning its lines failed: store pickup node ST-1 is "
        "excluded (it refused a reservation)",
    ],
)
def test_a_lack_of_stock_is_a_stock_shortfall(reason):
    assert stock_shortfall(reason, [sf("BEAN", 5, 2), sf("CUP", 1, 1)]) == (
        Short("BEAN", 5, 2),
        Short("CUP", 1, 1),
    )
    assert Short("BEAN", 5, 2).missing == 3


@pytest.mark.parametrize(
    ("reason", "shortfall"),
    [
        (
            "store pickup node ST-9 is not an active node",
            [sf("BEAN", 5, 0)],
        ),  # configuration: no receipt helps
        ("a store pickup order needs a pickup node and has none", []),
        ("no stock", []),  # nothing named short: nothing to wait for
        ("not enough stock in any combination of active nodes", [sf("BEAN", 2, 2)]),  # nothing missing
    ],
)
def test_anything_else_is_not(reason, shortfall):
    assert stock_shortfall(reason, shortfall) == ()


def test_a_receipt_serves_the_oldest_first_as_far_as_it_goes_and_no_younger_one_jumps_ahead():
    waiting = [Waiting("O1", 2), Waiting("O2", 3), Waiting("O3", 1)]
    assert pick_for_receipt(waiting, "WH-HZ", 5) == ["O1", "O2"]
    assert pick_for_receipt(waiting, "WH-HZ", 4) == ["O1"]  # O2 does not fit: O3 waits behind it
    assert pick_for_receipt(waiting, "WH-HZ", 1) == []
    assert pick_for_receipt(waiting, "WH-HZ", 0) == []


def test_a_pickup_backorder_is_served_only_by_its_own_store():
    waiting = [Waiting("O1", 1, pickup_node="ST-1"), Waiting("O2", 1), Waiting("O3", 1, pickup_node="ST-2")]
    assert pick_for_receipt(waiting, "ST-2", 5) == ["O2", "O3"]
    assert pick_for_receipt(waiting, "ST-1", 1) == ["O1"]


def test_the_policy_is_validated_and_says_when_a_backorder_escalates():
    policy = BackorderPolicy(max_age_s=3600, on_overdue="cancel")  # type: ignore[arg-type]
    assert policy.on_overdue is OnOverdue.CANCEL
    assert policy.due_at(AT) == AT + timedelta(hours=1)
    assert BackorderPolicy() == BackorderPolicy(3 * 24 * 3600, OnOverdue.HOLD)
    with pytest.raises(ValueError, match="max age must be positive"):
        BackorderPolicy(max_age_s=0)
    with pytest.raises(ValueError, match="'refund'"):
        BackorderPolicy(on_overdue="refund")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        policy.max_age_s = 1  # type: ignore[misc]


def test_the_overdue_reason_says_how_long_it_waited_and_what_happens():
    hold = overdue_reason(BackorderPolicy(60), AT, AT + timedelta(seconds=75))
    assert hold == "backorder waited 75 s, longer than the 60 s allowed: held for an operator"
    cancel = overdue_reason(BackorderPolicy(60, OnOverdue.CANCEL), AT, AT + timedelta(seconds=61))
    assert cancel.endswith("cancelled; a refund is due")
