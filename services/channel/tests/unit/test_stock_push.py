"""The Taobao stock push's request and the meaning of each platform answer (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni_channel.domain.signing import signature_matches
from omni_channel.domain.stock_push import (
    Credentials,
    Outcome,
    StockTarget,
    backoff_s,
    read_answer,
    request_params,
)

CREDS = Credentials("app-1", "s3cret-key", "token-1")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_the_request_is_a_signed_full_update_of_the_item_or_its_sku():
    p = request_params(StockTarget(1001, sku_id=31), 12, CREDS, NOW)
    assert (p["method"], p["num_iid"], p["sku_id"], p["quantity"], p["type"]) == (
        "taobao.item.quantity.update", "1001", "31", "12", "1"
    )  # fmt: skip
    assert p["timestamp"] == "2026-12-03 10:00:00"  # GMT+8
    assert signature_matches(p, b"", CREDS.secret, p["sign_method"], p["sign"])
    assert not signature_matches({**p, "quantity": "13"}, b"", CREDS.secret, p["sign_method"], p["sign"])
    by_code = request_params(StockTarget(1001, outer_id="SKU-RED"), 0, CREDS, NOW)
    assert by_code["outer_id"] == "SKU-RED" and "sku_id" not in by_code
    with pytest.raises(ValueError, match="never negative"):
        request_params(StockTarget(1001), -1, CREDS, NOW)
    assert "s3cret" not in repr(CREDS) and "token" not in repr(CREDS)


def err(code: int, sub: str | None = None) -> dict:
    return {"error_response": {"code": code, "msg": "m", **({"sub_code": sub} if sub else {})}}


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, {"item_quantity_update_response": {"item": {"num_iid": 1, "num": 7}}}, Outcome.ACKNOWLEDGED),
        (503, None, Outcome.RETRY),
        (429, None, Outcome.RETRY),
        (200, None, Outcome.RETRY),  # no JSON at all
        (200, {"something": "else"}, Outcome.RETRY),
        (200, err(7, "accesscontrol.limited-by-app-access-count"), Outcome.RETRY),
        (200, err(10, "isp.service-unavailable"), Outcome.RETRY),
        (200, err(15, "isp.remote-connection-error"), Outcome.RETRY),
        (200, err(15, "isv.item-not-exist"), Outcome.REFUSED),
        (200, err(15, "isv.item-is-delete"), Outcome.REFUSED),
        (200, err(15, "isv.sku-not-exist"), Outcome.REFUSED),
        (200, err(41, "invalid-parameter:quantity"), Outcome.REFUSED),
        (200, err(25), Outcome.CREDENTIALS),
        (200, err(27), Outcome.CREDENTIALS),
        (200, err(999), Outcome.RETRY),  # unknown: retried, with the code in the reason
    ],
)
def test_each_platform_answer_means_one_thing(status, body, outcome):
    answer = read_answer(status, body)
    assert answer.outcome is outcome
    if body and "error_response" in body:
        assert str(body["error_response"]["code"]) in answer.reason


def test_the_platforms_own_count_is_kept_item_or_sku():
    item = read_answer(200, {"item_quantity_update_response": {"item": {"num_iid": 1, "num": 7}}})
    sku = read_answer(200, {"item_quantity_update_response": {"item": {
        "num_iid": 1, "num": 20, "skus": {"sku": [{"sku_id": 31, "quantity": 4}]}}}})  # fmt: skip
    assert (item.platform_quantity, sku.platform_quantity) == (7, 4)


def test_backoff_doubles_and_is_capped():
    assert [backoff_s(a) for a in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff_s(30) == 60.0
    with pytest.raises(ValueError):
        backoff_s(0)
