"""Reading an item back from Taobao/Tmall for the drift check, and addressing a listing there (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omni_channel.domain.push_status import Listing, drifted
from omni_channel.domain.signing import signature_matches
from omni_channel.domain.stock_drift import ItemShown, read_item, request_params, target_of
from omni_channel.domain.stock_push import Answer, Credentials, Outcome, StockTarget

CREDS = Credentials("app-1", "s3cret-key", "token-1")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_the_read_is_a_signed_item_seller_get():
    p = request_params(2002, CREDS, NOW)
    assert (p["method"], p["num_iid"], p["fields"]) == (
        "taobao.item.seller.get",
        "2002",
        "num_iid,num,approve_status,sku",
    )
    assert signature_matches(p, b"", CREDS.secret, p["sign_method"], p["sign"])


@pytest.mark.parametrize(
    ("sku", "target"),
    [
        (None, StockTarget(7)),
        ("", StockTarget(7)),
        ("31", StockTarget(7, sku_id=31)),
        ("RED-L", StockTarget(7, outer_id="RED-L")),
    ],
)
def test_a_listing_is_addressed_by_num_iid_and_sku_id_or_outer_id(sku, target):
    assert target_of(Listing("L", "tmall", "S", "7", sku)) == target


def test_a_listing_without_a_numeric_item_id_cannot_be_addressed():
    assert "not a Taobao num_iid" in target_of(Listing("L", "tmall", "S", "ABC"))


def test_the_item_answer_gives_every_sku_by_id_and_by_code():
    body = {
        "item_seller_get_response": {
            "item": {
                "num_iid": 7,
                "num": 9,
                "approve_status": "onsale",
                "skus": {
                    "sku": [{"sku_id": 31, "outer_id": "RED", "quantity": 4}, {"sku_id": 32, "quantity": 5}]
                },
            }
        }
    }
    shown = read_item(200, body)
    assert isinstance(shown, ItemShown)
    assert shown.quantity_of(StockTarget(7, sku_id=32)) == 5
    assert shown.quantity_of(StockTarget(7, outer_id="RED")) == 4
    assert shown.quantity_of(StockTarget(7)) == 9
    assert shown.quantity_of(StockTarget(7, sku_id=99)) is None


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (503, None, Outcome.RETRY),
        (200, {"x": 1}, Outcome.RETRY),
        (200, {"error_response": {"code": 27, "msg": "Invalid Session"}}, Outcome.CREDENTIALS),
        (200, {"error_response": {"code": 15, "sub_code": "isv.item-not-exist"}}, Outcome.REFUSED),
        (200, {"item_quantity_update_response": {"item": {"num_iid": 1}}}, Outcome.RETRY),
    ],
)
def test_a_failed_read_says_what_it_means(status, body, outcome):
    answer = read_item(status, body)
    assert isinstance(answer, Answer) and answer.outcome is outcome


def test_drift_is_a_known_shown_number_other_than_the_pushed_one():
    assert drifted(5, 4) and not drifted(5, 5) and not drifted(None, 4) and not drifted(5, None)
