"""Refunds of JD, Pinduoduo, Douyin, Xiaohongshu and Youzan: each sample (and variants) decodes to the exact
fen, kind, lines and status; bad input is an InvalidTrade naming the field; each platform's close."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from omni_channel.domain import (
    aftersales_douyin,
    aftersales_jd,
    aftersales_pdd,
    aftersales_xiaohongshu,
    aftersales_youzan,
    douyin,
    jd,
    pdd,
    xiaohongshu,
    youzan,
)
from omni_channel.domain.errors import InvalidTrade
from omni_channel.domain.tmall_fields import parse_json

FIXTURES = Path(__file__).parents[1] / "fixtures"
NOW = datetime(2025, 6, 12, 3, 10, tzinfo=UTC)
ADAPTERS = {
    "jd": aftersales_jd,
    "pdd": aftersales_pdd,
    "douyin": aftersales_douyin,
    "xiaohongshu": aftersales_xiaohongshu,
    "youzan": aftersales_youzan,
}


def sample(platform: str) -> Any:
    return parse_json((FIXTURES / f"{platform}_refund.json").read_bytes())


def decode(platform: str, doc: Any):
    return ADAPTERS[platform].normalise_refund(doc, shop_id="S1", received_at=NOW)


def problems(platform: str, doc: Any) -> dict[str, str]:
    with pytest.raises(InvalidTrade) as exc:
        decode(platform, doc)
    return {p.path: p.message for p in exc.value.problems}


@pytest.mark.parametrize(
    ("platform", "order_id", "refund_id", "kind", "status", "cents", "lines"),
    [
        ("jd", "235612340001", "1600000001", "refund_only", "requested", 32960, [("100012043978", 32960, 1)]),
        ("pdd", "250612-123456789012", "8800000001", "refund_only", "requested", 164800,
         [("1234567890", 164800, 1)]),
        ("douyin", "6900000000000000001", "7380000000000000001", "refund_only", "requested", 164800,
         [("6900000000000000002", 164800, 1)]),
        ("xiaohongshu", "P750000000001", "R750000000001", "return_and_refund", "requested", 329600,
         [("5f3c0000000000000001", 164800, 1), ("5f3c0000000000000002", 164800, 1)]),
        ("youzan", "E20250612110500000001", "201906121105000001", "return_and_refund", "requested", 164800,
         [("1400000000000001", 164800, 1)]),
    ],
)  # fmt: skip
def test_each_sample_refund_decodes_exactly(platform, order_id, refund_id, kind, status, cents, lines):
    e = decode(platform, sample(platform))
    assert (e.channel, e.shop_id, e.channel_order_id, e.channel_refund_id) == (
        platform,
        "S1",
        order_id,
        refund_id,
    )
    assert (e.kind, e.status, e.refund_cents) == (kind, status, cents)
    assert [(ln.channel_line_id, ln.refund_cents, ln.qty) for ln in e.lines] == lines
    assert e.reason and e.received_at == NOW


def test_jd_status_and_kind_map_and_fen_as_a_string():
    d = sample("jd")
    vo = d["jingdong_pop_afs_soa_refundapply_queryPageList_responce"]["queryResult"]["result"][0]
    vo.update(status="3", applyRefundSum="12345", customerExpect=10)
    e = decode("jd", vo)
    assert (e.status, e.channel_status, e.refund_cents, e.kind) == (
        "refunded",
        "3",
        12345,
        "return_and_refund",
    )
    vo["customerExpect"] = 30
    assert "customerExpect" in problems("jd", vo)
    vo.update(customerExpect=20, applyRefundSum="12.34")
    assert "applyRefundSum" in problems("jd", vo)


def test_pdd_yuan_number_and_string_exact_and_types():
    d = sample("pdd")
    r = d["refund_information_get_response"]
    r.update(refund_amount=Decimal("0.07"), after_sales_type=3, after_sales_status=10)
    e = decode("pdd", d)
    assert (e.refund_cents, e.kind, e.status) == (7, "return_and_refund", "refunded")
    r.update(refund_amount="1648.01", after_sales_type=4)
    assert (decode("pdd", d).refund_cents, decode("pdd", d).kind) == (164801, "exchange")
    r.update(after_sales_type=5)
    assert "after_sales_type" in problems("pdd", d)
    r.update(after_sales_type=2, refund_amount=Decimal("3296.01"))
    assert "more than the order" in problems("pdd", d)["refund_amount"]
    r.update(refund_amount=Decimal("1.005"))
    assert "2 decimals" in problems("pdd", d)["refund_amount"]


def test_douyin_lines_must_add_up_with_the_freight():
    d = sample("douyin")
    info = d["data"]["process_info"]["after_sale_info"]
    info.update(refund_amount=165800, refund_post_amount=1000, aftersale_type=0, aftersale_status=12)
    e = decode("douyin", d)
    assert (e.refund_cents, e.kind, e.status, e.lines[0].refund_cents) == (165800, "return_and_refund",
                                                                          "refunded", 164800)  # fmt: skip
    info["refund_amount"] = 170000
    assert "not Σ the lines" in problems("douyin", d)["process_info.after_sale_info.refund_amount"]
    info.update(refund_amount=164800, aftersale_type=7)
    assert "process_info.after_sale_info.aftersale_type" in problems("douyin", d)


def test_douyin_a_float_or_a_huge_number_is_refused():
    d = sample("douyin")
    d["data"]["process_info"]["after_sale_info"]["refund_amount"] = Decimal("1648.00")
    d["data"]["process_info"]["after_sale_info"]["aftersale_id"] = 7380000000000000001
    found = problems("douyin", d)
    assert "fen" in found["process_info.after_sale_info.refund_amount"]
    assert "2^53" in found["process_info.after_sale_info.aftersale_id"]


def test_xiaohongshu_yuan_twin_must_agree_and_skus_add_up():
    d = sample("xiaohongshu")
    d["data"]["refundAmountYuan"] = "3296.00"
    d["data"]["refundStatus"] = 2
    e = decode("xiaohongshu", d)
    assert (e.refund_cents, e.status) == (329600, "refunded")
    d["data"]["refundAmountYuan"] = "3296.01"
    assert "disagrees" in problems("xiaohongshu", d)["refundAmountYuan"]
    d["data"].pop("refundAmountYuan")
    d["data"]["skus"][1]["refundAmount"] = 100
    assert "not Σ the lines" in problems("xiaohongshu", d)["refundAmount"]


def test_youzan_push_envelope_and_refund_state_codes():
    r = sample("youzan")
    r.pop("status")
    r["refund_state"] = 60
    env = {"msg": quote(json.dumps(r, ensure_ascii=False)), "client_id": "c", "kdt_id": 1}
    e = decode("youzan", env)
    assert (e.status, e.channel_status, e.refund_cents) == ("refunded", "60", 164800)
    r["refund_fee"] = "1648"
    assert decode("youzan", r).refund_cents == 164800
    r["refund_fee"] = 1648
    assert "refund_fee" in problems("youzan", r)


@pytest.mark.parametrize("platform", list(ADAPTERS))
def test_missing_fields_are_each_named(platform):
    doc: Any = {"success": True, "data": {}} if platform == "xiaohongshu" else {}
    if platform == "douyin":
        doc = {"data": {"process_info": {"after_sale_info": {"x": 1}}, "order_info": {}}}
    found = problems(platform, doc)
    assert len(found) >= 3, found
    assert all(m for m in found.values())


@pytest.mark.parametrize("platform", list(ADAPTERS))
def test_not_an_object_is_refused(platform):
    assert platform in problems(platform, [1, 2])["$"]


def _jd_order(state: str) -> dict[str, Any]:
    d = json.loads((FIXTURES / "jd_order.json").read_text())
    d["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]["orderState"] = state
    return d


def test_each_platforms_close():
    assert jd.close_of(_jd_order("TRADE_CANCELED"), "TRADE_CANCELED") == ("TRADE_CANCELED", "unknown")
    assert jd.close_of(_jd_order("LOCKED"), "LOCKED") is None
    o = parse_json((FIXTURES / "pdd_order.json").read_bytes())
    o["order_info_get_response"]["order_info"]["refund_status"] = 4
    assert pdd.close_of(o, "1") == ("refund_status 4", "refunded")
    assert pdd.close_of(o, "2") is None
    dy = {"data": {"shop_order_detail": {"order_status": 4, "main_status": 21}}}
    assert douyin.close_of(dy, "4") == ("4", "refunded")
    assert douyin.close_of(dy, "2") is None
    assert xiaohongshu.close_of({}, "9") == ("9", "buyer_cancel")
    assert xiaohongshu.close_of({}, "8") == ("8", "refunded")
    full = {"full_order_info": {"order_info": {"status": "TRADE_CLOSED", "close_type": 4}}}
    env = {"msg": quote(json.dumps(full)), "client_id": "c"}
    assert youzan.close_of(env, "TRADE_CLOSED") == ("TRADE_CLOSED", "buyer_cancel")
    assert youzan.close_of({"msg": "{}", "client_id": "c"}, "TRADE_CLOSED") == ("TRADE_CLOSED", "unknown")
    assert youzan.close_of(env, "TRADE_SUCCESS") is None


def test_a_copy_is_not_changed_by_decoding():
    d = sample("xiaohongshu")
    before = copy.deepcopy(d)
    decode("xiaohongshu", d)
    assert d == before
