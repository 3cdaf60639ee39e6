"""The channel adapters' use cases on FakeUnitOfWork(FakeRepository()): webhook intake, receipts, shops."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from omni_channel import service
from omni_channel.domain import format_china_time, sign_tmall
from omni_channel.domain.errors import InvalidTrade, MalformedPayload, Unauthorized

FIXTURE = Path(__file__).parents[1] / "fixtures" / "tmall_trade.json"
NOW = datetime(2025, 6, 12, 2, 20, 0, tzinfo=UTC)
SECRET = "tmall-secret-0123456789abcdef"
APP_KEY = "12345678"
SHOP = "tm-1"
TID = "3912476580123456789"


@pytest.fixture
async def shop(uow):
    await service.put_shop(
        uow, channel="tmall", shop_id=SHOP, name="S", app_key=APP_KEY, secret=SECRET, active=True
    )
    return SHOP


def signed(body: bytes, *, secret: str = SECRET, shop_id: str = SHOP) -> list[tuple[str, str]]:
    params = {
        "shop_id": shop_id,
        "app_key": APP_KEY,
        "timestamp": format_china_time(NOW),
        "sign_method": "md5",
    }
    return [*params.items(), ("sign", sign_tmall(params, body, secret, "md5"))]


def body_of(**changes) -> bytes:
    doc = json.loads(FIXTURE.read_text())
    doc["trade_fullinfo_get_response"]["trade"].update(changes)
    return json.dumps(doc).encode()


async def receive(uow, body: bytes, params=None) -> service.Receipt:
    return await service.receive_tmall_order(uow, params=params or signed(body), body=body, now=NOW)


async def test_a_paid_trade_is_published_with_its_receipt_in_one_unit_of_work(uow, repo, shop):
    body = body_of()
    receipt = await receive(uow, body)

    assert receipt.accepted and receipt.channel_order_id == TID and receipt.deliveries == 1
    (ev,) = uow.of_type("channel.order.received")
    assert ev.key == f"tmall:{TID}" and str(ev.event_id) == receipt.event_id
    assert ev.data.shop_id == SHOP and ev.data.channel_status == "WAIT_SELLER_SEND_GOODS"
    (row,) = repo.receipts.values()
    assert (row["outcome"], row["event_id"], row["payload_sha256"]) == (
        "published",
        ev.event_id,
        hashlib.sha256(body).hexdigest(),
    )


async def test_a_repeated_delivery_is_counted_on_one_receipt_and_published_again(uow, repo, shop):
    body = body_of()
    first = await receive(uow, body)
    again = await receive(uow, body)

    assert (first.deliveries, again.deliveries) == (1, 2) and first.event_id != again.event_id
    assert len(uow.of_type("channel.order.received")) == 2, "order's intake dedupes per channel order id"
    (row,) = repo.receipts.values()
    assert row["deliveries"] == 2 and str(row["event_id"]) == again.event_id
    other = await receive(uow, body_of(buyer_message="please ring"))  # other bytes: another receipt row
    assert other.deliveries == 1 and len(repo.receipts) == 2
    items, total = await service.list_receipts(
        uow, channel="tmall", shop_id=None, channel_order_id=TID, limit=10, offset=0
    )
    assert total == 2 and {it["deliveries"] for it in items} == {1, 2}
    assert all(isinstance(it["event_id"], str) for it in items)


async def test_a_trade_that_needs_no_fulfilment_is_recorded_not_published(uow, repo, shop):
    receipt = await receive(uow, body_of(status="TRADE_FINISHED"))

    assert not receipt.accepted and receipt.reason == "status TRADE_FINISHED: already finished"
    assert uow.committed_events == []
    (row,) = repo.receipts.values()
    assert (row["outcome"], row["event_id"], row["channel_status"]) == ("ignored", None, "TRADE_FINISHED")


@pytest.mark.parametrize(
    ("params", "body", "error", "match"),
    [
        (lambda b: signed(b, secret="wrong-secret-000"), body_of(), Unauthorized, "bad signature"),
        (lambda b: signed(b, shop_id="nope"), body_of(), Unauthorized, "unknown shop"),
        (lambda b: signed(b)[:-1], body_of(), Unauthorized, "missing query parameter"),
        (signed, b'{"trade": ', MalformedPayload, "malformed JSON"),
        (signed, body_of(payment="1.00"), InvalidTrade, "payment"),
    ],
)
async def test_a_refused_delivery_records_and_publishes_nothing(uow, repo, shop, params, body, error, match):
    with pytest.raises(error, match=match):
        await receive(uow, body, params(body))
    assert repo.receipts == {} and uow.committed_events == []


async def test_an_inactive_shop_is_refused(uow, repo, shop):
    await service.put_shop(
        uow, channel="tmall", shop_id=SHOP, name="S", app_key=APP_KEY, secret=SECRET, active=False
    )
    with pytest.raises(Unauthorized, match="inactive shop"):
        await receive(uow, body_of())
    assert repo.receipts == {}


async def test_shops_are_upserted_and_never_show_their_secret(uow, repo):
    view, created = await service.put_shop(
        uow, channel="tmall", shop_id="a", name="A", app_key="k1", secret="first-secret", active=True
    )
    assert created and "secret" not in view
    view, created = await service.put_shop(
        uow, channel="tmall", shop_id="a", name="A2", app_key="k2", secret="second-secret", active=False
    )
    assert not created and (view["name"], view["active"]) == ("A2", False)
    assert repo.shops[("tmall", "a")]["secret"] == "second-secret"
    assert (await service.get_shop(uow, "tmall", "a"))["app_key"] == "k2"
    assert await service.get_shop(uow, "tmall", "nope") is None
    items, total = await service.list_shops(uow, channel="tmall", active=False, limit=10, offset=0)
    assert total == 1 and "secret" not in items[0]
