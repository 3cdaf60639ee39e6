"""What store tasks are configured with, on the fake unit of work and pure: reject reasons are validated and
versioned (a save is a version with who saved it; unchanged, none; a system reason is never deleted), SLA
policies resolve most specific first per value, and a cycle-count request closes when inventory records a
count of that material at that node."""

from __future__ import annotations

import pytest
from fulfillment_fakes import new_uow

from omni_contracts import make_envelope, utcnow
from omni_contracts.events.inventory import StockChangedV3
from omni_fulfillment import service
from omni_fulfillment.domain.errors import Conflict, Invalid, NotFound
from omni_fulfillment.domain.reject_reasons import Next, RejectReason
from omni_fulfillment.domain.sla import Sla, SlaPolicy, resolve
from omni_fulfillment.service import task_admin


async def test_a_reason_is_versioned_with_who_saved_it_and_unchanged_saves_make_no_version():
    uow = new_uow()
    made, created = await task_admin.put_reason(
        uow, RejectReason("closing", "closing early", pause_minutes=90), "ops-1"
    )
    assert (created, made.version) == (True, 1)
    same, created = await task_admin.put_reason(
        uow, RejectReason("closing", "closing early", pause_minutes=90), "x"
    )
    assert (created, same.version) == (False, 1), "nothing changed: no new version"
    await task_admin.put_reason(uow, RejectReason("closing", "closing early", pause_minutes=45), "ops-2")
    found, versions = await task_admin.get_reason(uow, "closing")
    assert (found.version, found.pause_minutes) == (2, 45)
    assert [(v["version"], v["doc"]["pause_minutes"], v["changed_by"]) for v in versions] == [
        (1, 90, "ops-1"),
        (2, 45, "ops-2"),
    ]
    await task_admin.delete_reason(uow, "closing", "ops-3")
    with pytest.raises(NotFound):
        await task_admin.get_reason(uow, "closing")
    back, created = await task_admin.put_reason(uow, RejectReason("closing", "closing"), "ops-4")
    assert (created, back.version) == (True, 4), "a deleted reason's numbers go on (3 was the deletion)"


async def test_reasons_are_validated_and_a_system_reason_is_kept():
    uow = new_uow()
    with pytest.raises(Invalid, match=r"code 'Bad Code' must be .*; label must be 1-200 characters"):
        await task_admin.put_reason(uow, RejectReason("Bad Code", " "), None)
    with pytest.raises(Invalid, match="pause_minutes must be 1-10080"):
        await task_admin.put_reason(uow, RejectReason("slow", "slow", pause_minutes=0), None)
    with pytest.raises(Conflict, match="short_pick is used by fulfillment itself"):
        await task_admin.delete_reason(uow, "short_pick", None)
    edited, _ = await task_admin.put_reason(
        uow, RejectReason("short_pick", "缺货", next=Next.BACKORDER), None
    )
    assert edited.system and edited.next is Next.BACKORDER, "editable, still a system reason"
    assert [r.code for r in await task_admin.list_reasons(uow, active=True)] == [
        "out_of_range", "out_of_stock", "short_pick", "too_busy",
    ]  # fmt: skip


def test_a_reason_says_its_effects():
    r = RejectReason("out_of_stock", "out of stock", zero_stock=True, request_count=True)
    assert r.effects() == (
        "the node's stock of these materials goes to 0; a cycle count is requested; "
        "re-sourced to the next best node"
    )
    assert RejectReason("busy", "busy", pause_minutes=30, next=Next.WAREHOUSES_ONLY).effects() == (
        "the node is paused for 30 min; re-sourced to a warehouse"
    )


def test_sla_policies_resolve_the_most_specific_value_first():
    default = Sla(1800, 3600, 172800)
    policies = [
        SlaPolicy("*", "*", pickup_hold_s=86400),
        SlaPolicy("*", "jd", accept_s=900),
        SlaPolicy("ST1", "*", accept_s=600, pick_pack_s=0),
        SlaPolicy("ST1", "jd", accept_s=300),
        SlaPolicy("ST2", "*", accept_s=60),
    ]
    assert resolve(policies, "ST1", "jd", default) == Sla(300, 0, 86400)
    assert resolve(policies, "ST1", "tmall", default) == Sla(600, 0, 86400)
    assert resolve(policies, "ST3", "jd", default) == Sla(900, 3600, 86400)
    assert resolve(policies, "ST3", None, default) == Sla(1800, 3600, 86400)
    with pytest.raises(Invalid, match="sets at least one"):
        SlaPolicy("ST1", "*").check()
    with pytest.raises(Invalid, match="accept_s must be 0-"):
        SlaPolicy("ST1", "*", accept_s=-1).check()


async def test_a_count_request_closes_when_inventory_records_the_count():
    uow = new_uow()
    await uow.repo.request_counts("ST1", ["A", "B"], "T1", "out_of_stock", utcnow())
    await uow.repo.request_counts("ST1", ["A"], "T2", "short_pick", utcnow())  # one open per material

    def changed(material: str, movement: str):
        data = StockChangedV3(node_code="ST1", material_code=material, on_hand=3, reserved=0, frozen=0,
                              available=3, movement=movement, seq=9, changed_at=utcnow())  # fmt: skip
        return make_envelope(data, producer="inventory", key=f"ST1:{material}")

    await service.on_stock_changed(uow, [changed("A", "receipt"), changed("B", "count")])
    found, total = await task_admin.list_count_requests(
        uow, node_code="ST1", open_only=True, limit=50, offset=0
    )
    assert (total, [r["material_code"] for r in found]) == (1, ["A"]), "B was counted; a receipt is no count"
    await task_admin.close_count_request(uow, found[0]["id"], "ops")
    assert (await task_admin.list_count_requests(uow, node_code=None, open_only=True, limit=5, offset=0))[
        1
    ] == 0
    with pytest.raises(NotFound):
        await task_admin.close_count_request(uow, found[0]["id"], "ops")
