"""Tmall refunds and closes -> channel.refund.received / channel.order.closed, exact fen."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from omni_channel.domain import sign_tmall
from omni_channel.domain.aftersales_tmall import closed_trade, normalise_refund
from omni_channel.domain.errors import InvalidTrade
from omni_channel.domain.signing import signature_matches

NOW = datetime(2025, 6, 12, 2, 20, tzinfo=UTC)
REFUND = {
    "refund_id": "21762818573530001",
    "tid_str": "4021234567890123456",
    "oid_str": "4021234567890123457",
    "refund_fee": "3007.75",
    "status": "WAIT_SELLER_AGREE",
    "has_good_return": True,
    "reason": "不想要了",
    "num": 1,
    "sku": "5005501",
    "outer_id": "SET-COFFEE-PRO",
    "created": "2025-06-12 10:00:00",
    "modified": "2025-06-12 10:05:00",
}


def test_a_refund_becomes_the_event_with_exact_fen():
    ev = normalise_refund({"refund_get_response": {"refund": REFUND}}, shop_id="s1", received_at=NOW)
    assert (ev.channel, ev.shop_id, ev.channel_order_id, ev.channel_refund_id) == (
        "tmall", "s1", "4021234567890123456", "21762818573530001")  # fmt: skip
    assert (ev.kind, ev.status, ev.channel_status, ev.refund_cents) == (
        "return_and_refund", "requested", "WAIT_SELLER_AGREE", 300775)  # fmt: skip
    (line,) = ev.lines
    assert (line.channel_line_id, line.qty, line.refund_cents, line.outer_sku_id) == (
        "4021234567890123457", 1, 300775, "SET-COFFEE-PRO")  # fmt: skip
    assert ev.requested_at == datetime(2025, 6, 12, 2, 0, tzinfo=UTC)
    assert ev.reason == "不想要了"


@pytest.mark.parametrize(
    ("extra", "kind", "status"),
    [
        ({"has_good_return": False, "status": "SUCCESS"}, "refund_only", "refunded"),
        ({"bill_type": "replace_bill", "status": "CLOSED"}, "exchange", "closed"),
        ({"status": "SOMETHING_NEW"}, "return_and_refund", "unknown"),
    ],
)
def test_kinds_and_statuses(extra, kind, status):
    ev = normalise_refund({**REFUND, **extra}, shop_id="s1", received_at=NOW)
    assert (ev.kind, ev.status) == (kind, status)


def test_bad_fields_are_named():
    bad = {**REFUND, "refund_fee": 3007.75, "status": ""}
    del bad["refund_id"]
    with pytest.raises(InvalidTrade) as exc:
        normalise_refund(bad, shop_id="s1", received_at=NOW)
    paths = {p.path for p in exc.value.problems}
    assert paths == {"refund_id", "refund_fee", "status"}


def test_an_id_beyond_2_53_as_a_number_is_refused():
    bad = {k: v for k, v in REFUND.items() if k != "tid_str"} | {"tid": 2**53 + 1}
    with pytest.raises(InvalidTrade) as exc:
        normalise_refund(bad, shop_id="s1", received_at=NOW)
    assert [p.path for p in exc.value.problems] == ["tid"]


def test_the_signature_passes_and_a_tampered_body_fails():
    body = json.dumps(REFUND).encode()
    q = {"shop_id": "s1", "app_key": "k", "timestamp": "2025-06-12 10:20:00", "sign_method": "hmac-sha256"}
    sign = sign_tmall(q, body, "secret-1234", "hmac-sha256")
    assert signature_matches(q, body, "secret-1234", "hmac-sha256", sign)
    assert not signature_matches(q, body.replace(b"3007.75", b"3107.75"), "secret-1234", "hmac-sha256", sign)


@pytest.mark.parametrize(
    ("status", "reason"), [("TRADE_CLOSED", "refunded"), ("TRADE_CLOSED_BY_TAOBAO", "platform_close")]
)
def test_a_closed_trade(status, reason):
    ev = closed_trade({"end_time": "2025-06-12 10:00:00"}, "402", status, shop_id="s1", received_at=NOW)
    assert ev is not None
    assert (ev.channel_order_id, ev.reason, ev.channel_status) == ("402", reason, status)
    assert ev.closed_at == datetime(2025, 6, 12, 2, 0, tzinfo=UTC)
    assert closed_trade({}, "402", "TRADE_FINISHED", shop_id="s1", received_at=NOW) is None
