"""The 1688 webhook's use case and the shop setting on FakeUnitOfWork(FakeRepository()): a signed order is
published, an order on account only for a shop saved with `accepts_on_account` (else recorded, not
published, with the reason), and only alibaba shops may accept orders on account."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from omni_channel import service
from omni_channel.domain.errors import Unauthorized
from omni_channel.service.platform_orders import receive_platform_order
from omni_chassis.errors import ProblemError
from omni_tools.platform_orders import sample_order, signed_order

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2025, 6, 12, 2, 20, tzinfo=UTC)
SECRET, APP_KEY = "ali-secret-0123456789", "ali-app-1"


async def save(uow, shop_id: str = "A-1", accepts: bool = False, channel: str = "alibaba") -> dict[str, Any]:
    view, _ = await service.put_shop(uow, channel=channel, shop_id=shop_id, name="S", app_key=APP_KEY,
                                     secret=SECRET, active=True, accepts_on_account=accepts)  # fmt: skip
    return view


def on_account(d: dict[str, Any]) -> dict[str, Any]:
    base = d["result"]["baseInfo"]
    base.update(status="waitbuyerpay", tradeTypeCode="period")
    del base["payTime"]
    d["result"]["tradeTerms"] = []
    return d


async def push(uow, d: dict[str, Any], shop_id: str = "A-1", *, secret: str = SECRET, now: datetime = NOW,
               query: dict[str, str] | None = None) -> service.Receipt:  # fmt: skip
    q, body = signed_order("alibaba", shop_id, d, APP_KEY, secret, now)
    params = list({**q, **(query or {})}.items())
    return await receive_platform_order(uow, platform="alibaba", params=params, body=body, now=NOW)


async def test_the_shop_setting_is_saved_shown_and_replaced(uow, repo):
    assert (await save(uow, accepts=True))["accepts_on_account"] is True
    assert (await service.get_shop(uow, "alibaba", "A-1"))["accepts_on_account"] is True
    assert (await save(uow))["accepts_on_account"] is False  # a PUT replaces it, like `active`
    assert (await repo.shop_credentials("alibaba", "A-1")).accepts_on_account is False


async def test_only_a_channel_with_orders_on_account_may_accept_them(uow, repo):
    with pytest.raises(ProblemError) as exc:
        await save(uow, "JD-1", accepts=True, channel="jd")
    assert exc.value.status == 422 and "only alibaba" in exc.value.detail
    assert exc.value.problems[0].path == "body.accepts_on_account"
    assert repo.shops == {}
    assert (await save(uow, "JD-1", channel="jd"))["accepts_on_account"] is False


async def test_a_paid_order_is_published(uow):
    await save(uow)
    d, oid = sample_order(FIXTURES, "alibaba")
    receipt = await push(uow, d)
    assert receipt.accepted and receipt.channel_order_id == oid
    (ev,) = uow.of_type("channel.order.received")
    assert ev.key == f"alibaba:{oid}" and ev.data.payment == "paid" and ev.data.paid_cents == 329600


async def test_an_order_on_account_is_published_only_for_a_shop_that_accepts_it(uow, repo):
    await save(uow, "A-1", accepts=True)
    await save(uow, "A-2", accepts=False)
    d, _ = sample_order(FIXTURES, "alibaba")
    receipt = await push(uow, on_account(d), "A-1")
    assert receipt.accepted
    (ev,) = uow.of_type("channel.order.received")
    assert (ev.data.payment, ev.data.payment_terms, ev.data.shop_id) == ("on_account", "period", "A-1")

    receipt = await push(uow, on_account(sample_order(FIXTURES, "alibaba")[0]), "A-2")
    assert not receipt.accepted
    assert (
        receipt.reason
        == "status waitbuyerpay: on account (period), and shop A-2 does not accept orders on account"
    )
    assert len(uow.of_type("channel.order.received")) == 1  # nothing more published
    row = next(r for r in repo.receipts.values() if r["shop_id"] == "A-2")
    assert (row["outcome"], row["reason"]) == ("ignored", receipt.reason)


async def test_a_bad_signature_a_stale_timestamp_or_another_shop_is_401(uow, repo):
    await save(uow, "A-1")
    await save(uow, "A-2")
    d, _ = sample_order(FIXTURES, "alibaba")
    with pytest.raises(Unauthorized, match="bad signature"):
        await push(uow, d, secret="not-the-secret-0000")
    with pytest.raises(Unauthorized, match="stale timestamp"):
        await push(uow, d, now=NOW - timedelta(minutes=11))
    with pytest.raises(
        Unauthorized, match="bad signature"
    ):  # the shop id is signed: not replayable elsewhere
        await push(uow, d, "A-1", query={"shop_id": "A-2"})
    with pytest.raises(Unauthorized, match="missing query parameter"):
        await push(uow, d, query={"_aop_timestamp": ""})
    assert uow.of_type("channel.order.received") == [] and repo.receipts == {}


def test_the_signed_body_is_the_order_json():
    d, _ = sample_order(FIXTURES, "alibaba")
    q, body = signed_order("alibaba", "A-1", d, APP_KEY, SECRET, NOW)
    assert json.loads(body) == d and q["_aop_timestamp"] == str(int(NOW.timestamp() * 1000))
    assert set(q) == {"shop_id", "app_key", "_aop_timestamp", "_aop_signature"}
