"""Shipment write-back of a merged order (合单) on the fake unit of work: one write-back per source's
platform order with the same waybill, idempotent, a shipment before its order expanded per source, an
ordinary order unchanged, and the sources re-accepted on their own after an unmerge."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_writeback import NOW, FakeLogistics, accepted, repo, shipped, worker  # noqa: F401

from omni_channel.domain import writeback as wb
from omni_channel.domain.stock_push import Answer, Outcome
from omni_channel.service import writeback
from omni_channel.store import ShopCredentials
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import make_envelope
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, OrderSource, ShipTo

SOURCES = (("S1", "S", "3900000011", 100), ("S2", "S-2", "3900000012", 250))  # order id, shop, tid, paid
OK = Answer(Outcome.ACKNOWLEDGED, "acknowledged")


def merged(order_id: str = "M1"):
    lines = [
        OrderLine(line_id=f"l{i}", channel_line_id=f"o{i}", sales_product_code="P", material_code="M", qty=1,
                  amount_cents=paid, source_order_id=src)
        for i, (src, _, _, paid) in enumerate(SOURCES)
    ]  # fmt: skip
    sources = [
        OrderSource(order_id=src, shop_id=shop, channel_order_id=tid, goods_paid_cents=paid, paid_cents=paid)
        for src, shop, tid, paid in SOURCES
    ]
    data = OrderAcceptedV1(
        order_id=order_id, channel="tmall", shop_id="S", channel_order_id="3900000011", ship_to=ShipTo(),
        lines=lines, goods_paid_cents=350, paid_cents=350, sources=sources,
    )  # fmt: skip
    return make_envelope(data, producer="order", key=order_id)


def with_second_shop(repo) -> None:  # noqa: F811
    repo.shops[("tmall", "S-2")] = ShopCredentials("tmall", "S-2", "app-2", "secret-2-0123456789", True, "s2")


def per_source(repo, task_id: str = "T1") -> list[tuple]:  # noqa: F811
    rows = sorted((r for r in repo.rows.values() if r["task_id"] == task_id), key=lambda r: r["writeback_id"])
    return [(r["writeback_id"], r["source_order_id"], r["shop_id"], r["channel_order_id"], r["tracking_no"],
             r["state"]) for r in rows]  # fmt: skip


def test_a_merged_task_has_one_writeback_id_per_source_and_an_own_order_its_task_id():
    assert wb.writeback_id_for("T1", None) == "T1"
    assert wb.writeback_id_for("T1", "S1") == "T1:S1" != wb.writeback_id_for("T1", "S2")


async def test_a_merged_order_is_written_back_to_every_source_once(repo):  # noqa: F811
    with_second_shop(repo)
    assert await writeback.on_order_accepted(FakeUnitOfWork(repo), merged(), now=NOW, wake=None) == 0
    assert sorted(repo.refs) == [("M1", "3900000011"), ("M1", "3900000012")]
    woken: list[int] = []
    assert await writeback.on_shipped(
        FakeUnitOfWork(repo), shipped("M1"), now=NOW, wake=lambda: woken.append(1)
    )
    assert per_source(repo) == [
        ("T1:S1", "S1", "S", "3900000011", "SF1", "pending"),
        ("T1:S2", "S2", "S-2", "3900000012", "SF1", "pending"),
    ]
    assert woken == [1]
    before = copy.deepcopy((repo.refs, repo.rows))
    assert not await writeback.on_shipped(FakeUnitOfWork(repo), shipped("M1"), now=NOW, wake=None)
    assert await writeback.on_order_accepted(FakeUnitOfWork(repo), merged(), now=NOW, wake=None) == 0
    assert (repo.refs, repo.rows) == before  # a redelivery changes nothing
    platform = FakeLogistics(OK, OK)
    w = worker(repo, platform)
    assert await w.claim(10) == 2
    await w.drain()
    sent = sorted((s.shop_id, s.channel_order_id, s.tracking_no, s.carrier) for s in platform.sent)
    assert sent == [("S", "3900000011", "SF1", "SF"), ("S-2", "3900000012", "SF1", "SF")]
    assert [r[-1] for r in per_source(repo)] == ["acknowledged", "acknowledged"]  # neither held by the other
    page, total = await writeback.list_writebacks(
        FakeUnitOfWork(repo), filters={"order_id": "M1"}, limit=10, offset=0
    )
    assert total == 2 and {r["channel_order_id"] for r in page} == {"3900000011", "3900000012"}


async def test_a_shipment_before_its_merged_order_becomes_one_writeback_per_source(repo):  # noqa: F811
    assert await writeback.on_shipped(FakeUnitOfWork(repo), shipped("M1"), now=NOW, wake=None)
    assert per_source(repo) == [("T1", None, None, None, "SF1", "waiting")]
    woken: list[int] = []
    n = await writeback.on_order_accepted(
        FakeUnitOfWork(repo), merged(), now=NOW, wake=lambda: woken.append(1)
    )
    assert n == 2 and woken == [1]
    assert per_source(repo) == [
        ("T1:S1", "S1", "S", "3900000011", "SF1", "pending"),
        ("T1:S2", "S2", "S-2", "3900000012", "SF1", "pending"),
    ]
    assert all(r["next_attempt_at"] == NOW and r["last_error"] is None for r in repo.rows.values())
    before = copy.deepcopy(repo.rows)
    assert not await writeback.on_shipped(FakeUnitOfWork(repo), shipped("M1"), now=NOW, wake=None)
    assert await writeback.on_order_accepted(FakeUnitOfWork(repo), merged(), now=NOW, wake=None) == 0
    assert repo.rows == before


async def test_an_ordinary_order_keeps_one_writeback_named_by_its_task(repo):  # noqa: F811
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped("O1", "T7"), now=NOW, wake=None)
    assert await writeback.on_order_accepted(FakeUnitOfWork(repo), accepted("O1"), now=NOW, wake=None) == 1
    assert per_source(repo, "T7") == [("T7", None, "S", "3900000001", "SF1", "pending")]
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped("O1", "T8"), now=NOW, wake=None)
    assert per_source(repo, "T8") == [("T8", None, "S", "3900000001", "SF1", "pending")]
    assert list(repo.refs) == [("O1", "3900000001")]


async def test_after_an_unmerge_each_source_is_its_own_order_again(repo):  # noqa: F811
    await writeback.on_order_accepted(FakeUnitOfWork(repo), merged(), now=NOW, wake=None)
    for src, _, tid, _ in SOURCES:  # the OMS cancels M and re-accepts each source under its own id
        await writeback.on_order_accepted(FakeUnitOfWork(repo), accepted(src, tid), now=NOW, wake=None)
    assert {k: r["source_order_id"] for k, r in repo.refs.items()} == {
        ("M1", "3900000011"): "S1", ("M1", "3900000012"): "S2",
        ("S1", "3900000011"): None, ("S2", "3900000012"): None,
    }  # fmt: skip
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped("S2", "T9"), now=NOW, wake=None)
    assert per_source(repo, "T9") == [("T9", None, "S", "3900000012", "SF1", "pending")]


async def test_a_refusal_is_per_platform_order_and_a_later_parcel_held_per_source(repo):  # noqa: F811
    with_second_shop(repo)
    await writeback.on_order_accepted(FakeUnitOfWork(repo), merged(), now=NOW, wake=None)
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped("M1"), now=NOW, wake=None)
    claims = await writeback.claim_writebacks(FakeUnitOfWork(repo), now=NOW, limit=10, lease_s=30)
    by_id = {s.writeback_id: s for s, _ in claims}
    uow = FakeUnitOfWork(repo)
    refusal = Answer(Outcome.REFUSED, "the platform refused the shipment: closed", code=15)
    await writeback.finish_writeback(uow, by_id["T1:S2"], refusal, company_code="SF", now=NOW)
    await writeback.finish_writeback(FakeUnitOfWork(repo), by_id["T1:S1"], OK, company_code="SF", now=NOW)
    [env] = uow.of_type("channel.shipment-writeback.refused")
    d = env.data
    assert (d.order_id, d.writeback_id, d.shop_id, d.channel_order_id) == ("M1", "T1:S2", "S-2", "3900000012")
    assert env.key == "tmall:3900000012"
    # a second parcel of M: S1's platform order took T1's waybill, so it is held there
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped("M1", "T2"), now=NOW, wake=None)
    platform = FakeLogistics(OK)
    w = worker(repo, platform)
    await w.claim(10)
    await w.drain()
    assert [s.writeback_id for s in platform.sent] == ["T2:S2"]  # S2's platform order took no parcel yet
    held = repo.rows["T2:S1"]
    assert held["state"] == "unsupported" and "(parcel SF1 was written back)" in held["last_error"]
