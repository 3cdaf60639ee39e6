"""Shipment write-back on the fake unit of work: the domain (request, answers, transitions), the carrier
code map, the use cases and the worker with a fake platform."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from writeback_fakes import FakeWritebackRepository

from omni_channel.domain import writeback as wb
from omni_channel.domain.signing import signature_matches
from omni_channel.domain.stock_push import Answer, Credentials, Outcome
from omni_channel.platforms import carriers
from omni_channel.platforms.taobao_logistics import TaobaoLogistics
from omni_channel.service import writeback
from omni_channel.service.claim_loop import Backoff, Signal, WorkerSettings
from omni_channel.service.writeback_worker import WritebackWorker
from omni_channel.store import ShopCredentials
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import make_envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import ShippedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, ShipTo

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CREDS = Credentials("app-1", "secret-0123456789", "session-1")


def accepted(order_id: str = "O1", tid: str = "3900000001", channel: str = "tmall"):
    line = OrderLine(
        line_id="l1", channel_line_id="o1", sales_product_code="P", material_code="M", qty=1, amount_cents=100
    )
    data = OrderAcceptedV1(
        order_id=order_id,
        channel=channel,
        shop_id="S",
        channel_order_id=tid,
        ship_to=ShipTo(),
        lines=[line],
        goods_paid_cents=100,
        paid_cents=100,
    )
    return make_envelope(data, producer="order", key=order_id)


def shipped(order_id: str = "O1", task_id: str = "T1", carrier: str = "SF"):
    data = ShippedV1(
        task_id=task_id,
        order_id=order_id,
        node_code="WH",
        reservation_id="r",
        carrier=carrier,
        tracking_no="SF1",
        lines=[MaterialQty(material_code="M", qty=1)],
        shipped_at=NOW,
    )
    return make_envelope(data, producer="fulfillment", key=order_id)


@pytest.fixture
def repo() -> FakeWritebackRepository:
    r = FakeWritebackRepository()
    r.shops[("tmall", "S")] = ShopCredentials("tmall", "S", "app-1", "secret-0123456789", True, "session-1")
    return r


class FakeLogistics:
    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.sent: list[wb.Shipment] = []

    async def send(self, shipment, shop, now):
        self.sent.append(shipment)
        return self.answers.pop(0), "SF"


def worker(repo, platform, clock=lambda: NOW) -> WritebackWorker:
    return WritebackWorker(
        lambda: FakeUnitOfWork(repo),
        Signal(),
        WorkerSettings(backoff=Backoff(1.0, 8.0)),
        clock,
        platforms={"tmall": platform},
    )


# -- domain --
def test_the_request_is_signed_and_the_answers_classified():
    p = wb.request_params("3900000001", "SF1", "SF", CREDS, NOW)
    assert (p["method"], p["tid"], p["out_sid"], p["company_code"]) == (wb.METHOD, "3900000001", "SF1", "SF")
    assert signature_matches(p, b"", CREDS.secret, p["sign_method"], p["sign"])
    with pytest.raises(ValueError):
        wb.request_params("T-1", "SF1", "SF", CREDS, NOW)
    ok = {"logistics_offline_send_response": {"shipping": {"is_success": True}}}

    def err(code: int, sub: str | None = None) -> dict:
        return {"error_response": {"code": code, "msg": "m", **({"sub_code": sub} if sub else {})}}

    cases = [
        ((200, ok), Outcome.ACKNOWLEDGED),
        ((503, None), Outcome.RETRY),
        ((429, None), Outcome.RETRY),
        ((200, err(7)), Outcome.RETRY),
        ((200, err(10)), Outcome.RETRY),
        ((200, err(15, "isp.timeout")), Outcome.RETRY),
        ((200, err(15, "isv.logistics-offline-service-error:B04")), Outcome.REFUSED),
        ((200, err(50, "isv.invalid-parameter")), Outcome.REFUSED),
        ((200, err(41)), Outcome.REFUSED),
        ((200, err(27)), Outcome.CREDENTIALS),
        ((200, {"x": 1}), Outcome.RETRY),
        ((200, {"logistics_offline_send_response": {"shipping": {"is_success": False}}}), Outcome.REFUSED),
    ]
    for (status, body), want in cases:
        assert wb.read_answer(status, body).outcome is want, (status, body)


def test_transitions_back_off_and_refusals_stop():
    t = wb.after_answer(Answer(Outcome.RETRY, "busy"), 2, NOW, backoff_first_s=1, backoff_max_s=8)
    assert (t.state, t.next_attempt_at, t.attempts) == (wb.State.RETRYING, NOW + timedelta(seconds=4), 3)
    t = wb.after_answer(Answer(Outcome.REFUSED, "closed"), 0, NOW)
    assert (t.state, t.next_attempt_at, t.last_error) == (wb.State.REFUSED, None, "closed")
    assert wb.after_answer(Answer(Outcome.ACKNOWLEDGED, "ok"), 3, NOW).acknowledged


def test_carrier_codes_are_data_and_validated(tmp_path):
    codes = carriers.load()
    assert (
        codes.version >= 1
        and codes.code_for("tmall", " sf ") == "SF"
        and codes.code_for("tmall", "DEPPON") == "DBKD"
    )
    assert codes.code_for("tmall", "PIGEON") is None and codes.code_for("jd", "PIGEON") is None
    assert codes.code_for("jd", "SF") == "467" and codes.code_for("douyin", "SF") == "shunfeng"
    bad = tmp_path / "codes.json"
    bad.write_text(json.dumps({"version": 0, "platforms": {"taobao": {"sf": "S F"}}}))
    with pytest.raises(carriers.CarrierCodesError) as e:
        carriers.load(bad)
    assert "version" in str(e.value) and "platforms.taobao" in str(e.value)


async def test_an_unmapped_carrier_is_refused_before_any_call():
    class NoCall:
        async def _post(self, params):
            raise AssertionError("no call")

    client = TaobaoLogistics(NoCall(), carriers.load())  # type: ignore[arg-type]
    s = wb.Shipment("T", "O", "tmall", "S", "3900000001", "PIGEON", "X1", 0, "tok")
    answer, code = await client.send(s, None, NOW)
    assert answer.outcome is Outcome.REFUSED and "PIGEON" in answer.reason and code is None


# -- use cases and the worker --
async def test_a_shipment_waits_for_its_order_then_is_written_back(repo):
    woken: list[int] = []
    assert await writeback.on_shipped(FakeUnitOfWork(repo), shipped(), now=NOW, wake=lambda: woken.append(1))
    assert repo.rows["T1"]["state"] == "waiting" and repo.rows["T1"]["next_attempt_at"] is None and not woken
    assert (
        await writeback.on_order_accepted(
            FakeUnitOfWork(repo), accepted(), now=NOW, wake=lambda: woken.append(1)
        )
        == 1
    )
    assert repo.rows["T1"]["state"] == "pending" and woken == [1]
    assert not await writeback.on_shipped(FakeUnitOfWork(repo), shipped(), now=NOW, wake=None)  # a repeat
    platform = FakeLogistics(Answer(Outcome.ACKNOWLEDGED, "acknowledged"))
    w = worker(repo, platform)
    assert await w.claim(10) == 1
    await w.drain()
    row = repo.rows["T1"]
    assert (row["state"], row["company_code"], row["acknowledged_at"]) == ("acknowledged", "SF", NOW)
    assert platform.sent[0].channel_order_id == "3900000001"


async def test_a_transient_failure_is_retried_with_backoff_and_a_refusal_is_not(repo):
    await writeback.on_order_accepted(FakeUnitOfWork(repo), accepted(), now=NOW, wake=None)
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped(), now=NOW, wake=None)
    platform = FakeLogistics(
        Answer(Outcome.RETRY, "HTTP 503"), Answer(Outcome.REFUSED, "closed", code=15, sub_code="isv.x")
    )
    clock = [NOW]
    w = worker(repo, platform, clock=lambda: clock[0])
    await w.claim(10)
    await w.drain()
    row = repo.rows["T1"]
    assert (row["state"], row["attempts"], row["next_attempt_at"]) == (
        "retrying",
        1,
        NOW + timedelta(seconds=1),
    )
    assert await w.claim(10) == 0  # not due yet
    clock[0] = NOW + timedelta(seconds=1)
    await w.claim(10)
    await w.drain()
    assert (row["state"], row["next_attempt_at"], row["sub_code"]) == ("refused", None, "isv.x")
    clock[0] = NOW + timedelta(hours=1)
    assert await w.claim(10) == 0  # never retried by itself
    assert await writeback.retry_writeback(FakeUnitOfWork(repo), "T1", now=clock[0], wake=None) == "refused"
    assert row["state"] == "pending" and row["attempts"] == 0


async def test_no_shop_is_credentials_and_an_unserved_channel_unsupported(repo):
    for oid, tid, ch, task in (("O2", "3900000002", "tmall", "T2"), ("O3", "1", "ownmall", "T3")):
        await writeback.on_order_accepted(FakeUnitOfWork(repo), accepted(oid, tid, ch), now=NOW, wake=None)
        await writeback.on_shipped(FakeUnitOfWork(repo), shipped(oid, task), now=NOW, wake=None)
    repo.shops.clear()
    w = worker(repo, FakeLogistics())
    await w.claim(10)
    await w.drain()
    assert repo.rows["T2"]["state"] == "credentials" and "no tmall shop" in repo.rows["T2"]["last_error"]
    assert repo.rows["T3"]["state"] == "unsupported"
    assert await writeback.retry_writeback(FakeUnitOfWork(repo), "nope", now=NOW, wake=None) is None


async def test_a_later_parcel_of_an_order_already_written_back_is_not_sent(repo):
    await writeback.on_order_accepted(FakeUnitOfWork(repo), accepted(), now=NOW, wake=None)
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped(task_id="T1"), now=NOW, wake=None)
    platform = FakeLogistics(Answer(Outcome.ACKNOWLEDGED, "acknowledged"))
    w = worker(repo, platform)
    await w.claim(10)
    await w.drain()
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped(task_id="T2"), now=NOW, wake=None)
    await w.claim(10)
    await w.drain()
    assert len(platform.sent) == 1 and repo.rows["T1"]["state"] == "acknowledged"
    row = repo.rows["T2"]
    assert row["state"] == "unsupported" and row["next_attempt_at"] is None
    assert "not sent: tmall takes one tracking number per order (parcel SF1" in row["last_error"]


async def test_a_refusal_publishes_its_event_in_the_same_unit_of_work(repo):
    await writeback.on_order_accepted(FakeUnitOfWork(repo), accepted(), now=NOW, wake=None)
    await writeback.on_shipped(FakeUnitOfWork(repo), shipped(), now=NOW, wake=None)
    [(s, _)] = await writeback.claim_writebacks(FakeUnitOfWork(repo), now=NOW, limit=10, lease_s=30)
    uow = FakeUnitOfWork(repo)
    answer = Answer(Outcome.REFUSED, "the platform refused the shipment: closed", code=15)
    t = await writeback.finish_writeback(uow, s, answer, company_code="SF", now=NOW)
    assert t is not None and t.state is wb.State.REFUSED
    [env] = uow.of_type("channel.shipment-writeback.refused")
    d = env.data
    assert (d.order_id, d.writeback_id, d.channel, d.channel_order_id, d.tracking_no, d.company_code) == (
        "O1", "T1", "tmall", "3900000001", "SF1", "SF"
    )  # fmt: skip
    assert "closed" in d.reason and env.key == "tmall:3900000001"
    ok_uow = FakeUnitOfWork(repo)  # an acknowledgement publishes nothing
    await writeback.retry_writeback(FakeUnitOfWork(repo), "T1", now=NOW, wake=None)
    [(s, _)] = await writeback.claim_writebacks(FakeUnitOfWork(repo), now=NOW, limit=10, lease_s=30)
    await writeback.finish_writeback(
        ok_uow, s, Answer(Outcome.ACKNOWLEDGED, "ok"), company_code="SF", now=NOW
    )
    assert not ok_uow.committed_events
