"""The state machine, pair by pair: every allowed transition and every forbidden one."""

from __future__ import annotations

import itertools

import pytest

from omni_order.domain.status import (
    IllegalTransition,
    Reaction,
    Status,
    can_transition,
    check_transition,
    react,
)

S = Status
ALLOWED = {
    (S.RECEIVED, S.ACCEPTED),
    (S.ACCEPTED, S.SOURCING),
    (S.SOURCING, S.ALLOCATED),
    (S.ALLOCATED, S.SHIPPED),
    (S.ALLOCATED, S.PARTIALLY_SHIPPED),  # a split order: one of its tasks has shipped
    (S.ALLOCATED, S.BACKORDER),  # a store gave units back and no other node could take them
    (S.PARTIALLY_SHIPPED, S.SHIPPED),
    (S.SHIPPED, S.COMPLETED),
    (S.ACCEPTED, S.COMPLETED),  # nothing to ship: every line virtual, fulfilled by the OMS
    *((s, S.CANCELLED) for s in (S.RECEIVED, S.ACCEPTED, S.SOURCING, S.ALLOCATED)),
    *((s, S.EXCEPTION) for s in (S.RECEIVED, S.ACCEPTED, S.SOURCING, S.ALLOCATED)),
    (S.EXCEPTION, S.ACCEPTED),
    (S.EXCEPTION, S.CANCELLED),
    # review (held), merge, backorder
    (S.RECEIVED, S.HELD),
    (S.HELD, S.ACCEPTED),
    (S.HELD, S.MERGED),
    (S.HELD, S.CANCELLED),
    (S.MERGED, S.ACCEPTED),  # unmerge: the source goes on alone
    (S.MERGED, S.HELD),  # unmerge: the source is held again on the holds its merged order inherited
    (S.MERGED, S.CANCELLED),  # cancelled with its merged order
    (S.SOURCING, S.BACKORDER),
    (S.BACKORDER, S.ACCEPTED),  # re-sourced when stock arrives
    (S.BACKORDER, S.HELD),  # escalated
    (S.BACKORDER, S.CANCELLED),
}
ALL_PAIRS = list(itertools.product(Status, Status))


def test_the_table_has_every_status():
    assert len(ALL_PAIRS) == 144
    assert len(ALLOWED) == 30


@pytest.mark.parametrize(("frm", "to"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_transition(frm, to):
    assert can_transition(frm, to) is ((frm, to) in ALLOWED)
    if (frm, to) in ALLOWED:
        check_transition(frm, to)
    else:
        with pytest.raises(IllegalTransition) as err:
            check_transition(frm, to, "O1")
        assert err.value.from_status == frm and err.value.to_status == to
        assert "O1" in str(err.value)


def test_the_refusal_is_a_sentence_an_operator_understands():
    with pytest.raises(IllegalTransition, match=r"order O1 in status shipped cannot become cancelled") as err:
        check_transition(S.SHIPPED, S.CANCELLED, "O1")
    assert "from shipped it can only become completed" in str(err.value)
    assert (
        "cancelled only while received, held, accepted, sourcing, allocated, backorder or exception"
        in str(err.value)
    )
    with pytest.raises(IllegalTransition, match="order O2 is already cancelled"):
        check_transition(S.CANCELLED, S.CANCELLED, "O2")
    with pytest.raises(IllegalTransition, match=r"\(completed is final\)"):
        check_transition(S.COMPLETED, S.EXCEPTION, "O3")


# How an event from fulfillment that wants the order at `target` is treated, for every current status.
REACTIONS = {
    S.SOURCING: {
        S.HELD: Reaction.IGNORE, S.BACKORDER: Reaction.IGNORE, S.MERGED: Reaction.IGNORE,
        S.ACCEPTED: Reaction.APPLY, S.SOURCING: Reaction.IGNORE, S.ALLOCATED: Reaction.IGNORE,
        S.SHIPPED: Reaction.IGNORE, S.COMPLETED: Reaction.IGNORE, S.CANCELLED: Reaction.IGNORE,
        S.EXCEPTION: Reaction.IGNORE, S.RECEIVED: Reaction.CONFLICT, S.PARTIALLY_SHIPPED: Reaction.IGNORE,
    },
    S.ALLOCATED: {
        S.HELD: Reaction.IGNORE, S.BACKORDER: Reaction.CONFLICT, S.MERGED: Reaction.IGNORE,
        S.SOURCING: Reaction.APPLY, S.ALLOCATED: Reaction.IGNORE, S.SHIPPED: Reaction.IGNORE,
        S.COMPLETED: Reaction.IGNORE, S.CANCELLED: Reaction.IGNORE, S.ACCEPTED: Reaction.CONFLICT,
        S.EXCEPTION: Reaction.CONFLICT, S.RECEIVED: Reaction.CONFLICT, S.PARTIALLY_SHIPPED: Reaction.IGNORE,
    },
    S.PARTIALLY_SHIPPED: {
        S.HELD: Reaction.CONFLICT, S.BACKORDER: Reaction.CONFLICT, S.MERGED: Reaction.CONFLICT,
        S.ALLOCATED: Reaction.APPLY, S.PARTIALLY_SHIPPED: Reaction.IGNORE, S.SHIPPED: Reaction.IGNORE,
        S.COMPLETED: Reaction.IGNORE, S.CANCELLED: Reaction.CONFLICT, S.ACCEPTED: Reaction.CONFLICT,
        S.SOURCING: Reaction.CONFLICT, S.EXCEPTION: Reaction.CONFLICT, S.RECEIVED: Reaction.CONFLICT,
    },
    S.SHIPPED: {
        S.HELD: Reaction.CONFLICT, S.BACKORDER: Reaction.CONFLICT, S.MERGED: Reaction.CONFLICT,
        S.ALLOCATED: Reaction.APPLY, S.SHIPPED: Reaction.IGNORE, S.COMPLETED: Reaction.IGNORE,
        S.CANCELLED: Reaction.CONFLICT, S.ACCEPTED: Reaction.CONFLICT, S.SOURCING: Reaction.CONFLICT,
        S.EXCEPTION: Reaction.CONFLICT, S.RECEIVED: Reaction.CONFLICT, S.PARTIALLY_SHIPPED: Reaction.APPLY,
    },
    S.COMPLETED: {
        S.HELD: Reaction.CONFLICT, S.BACKORDER: Reaction.CONFLICT, S.MERGED: Reaction.CONFLICT,
        S.SHIPPED: Reaction.APPLY, S.COMPLETED: Reaction.IGNORE, S.CANCELLED: Reaction.CONFLICT,
        S.ALLOCATED: Reaction.CONFLICT, S.SOURCING: Reaction.CONFLICT,
        S.ACCEPTED: Reaction.APPLY,  # nothing to ship: fulfillment fulfils it at once
        S.EXCEPTION: Reaction.CONFLICT, S.RECEIVED: Reaction.CONFLICT,
        S.PARTIALLY_SHIPPED: Reaction.CONFLICT,  # fulfillment's order-fulfilled makes it shipped first
    },
    S.EXCEPTION: {
        S.HELD: Reaction.IGNORE, S.BACKORDER: Reaction.IGNORE, S.MERGED: Reaction.IGNORE,
        S.ACCEPTED: Reaction.APPLY, S.SOURCING: Reaction.APPLY, S.ALLOCATED: Reaction.APPLY,
        S.EXCEPTION: Reaction.IGNORE, S.CANCELLED: Reaction.IGNORE, S.SHIPPED: Reaction.IGNORE,
        S.COMPLETED: Reaction.IGNORE, S.RECEIVED: Reaction.APPLY, S.PARTIALLY_SHIPPED: Reaction.IGNORE,
    },
    S.BACKORDER: {
        S.SOURCING: Reaction.APPLY, S.BACKORDER: Reaction.IGNORE, S.EXCEPTION: Reaction.IGNORE,
        S.CANCELLED: Reaction.IGNORE, S.HELD: Reaction.IGNORE, S.MERGED: Reaction.IGNORE,
        S.RECEIVED: Reaction.CONFLICT, S.ACCEPTED: Reaction.CONFLICT,
        S.ALLOCATED: Reaction.APPLY,  # a store gave units back and no other node could take them
        S.PARTIALLY_SHIPPED: Reaction.CONFLICT, S.SHIPPED: Reaction.CONFLICT, S.COMPLETED: Reaction.CONFLICT,
    },
}  # fmt: skip
REACTION_CASES = [(cur, target, want) for target, row in REACTIONS.items() for cur, want in row.items()]


@pytest.mark.parametrize(
    ("current", "target", "expected"), REACTION_CASES, ids=[f"{c}->{t}" for c, t, _ in REACTION_CASES]
)
def test_reaction_to_fulfillment_events(current, target, expected):
    assert react(current, target) == expected


def test_every_reaction_pair_is_covered():
    assert {(c, t) for c, t, _ in REACTION_CASES} == {(c, t) for c in Status for t in REACTIONS}
