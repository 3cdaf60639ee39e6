"""JD, Pinduoduo, Douyin, Xiaohongshu and Youzan outbound calls (pure): each request is signed the platform's
way (a tampered one fails), and each answer means what it should: ok, retry, refused or credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from omni_channel.domain import (
    outbound_douyin,
    outbound_jd,
    outbound_pdd,
    outbound_xiaohongshu,
    outbound_youzan,
)
from omni_channel.domain.outbound import Parcel
from omni_channel.domain.platform_signing import sign_jd, sign_pdd, sign_xiaohongshu
from omni_channel.domain.push_status import Listing
from omni_channel.domain.stock_push import Credentials, Outcome

CREDS = Credentials("app-1", "secret-0123456789", "token-1")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
L = Listing("L1", "x", "S", "7001", "8001")
A, R, F, C = Outcome.ACKNOWLEDGED, Outcome.RETRY, Outcome.REFUSED, Outcome.CREDENTIALS


def test_jd_is_a_signed_form_with_the_business_params_as_json():
    call = outbound_jd.stock_call(L, 12, CREDS, NOW)
    p = call.form
    assert (p["method"], json.loads(p["360buy_param_json"])) == (
        outbound_jd.STOCK,
        {"skuId": 8001, "stockNum": 12},
    )
    assert p["sign"] == sign_jd(p, CREDS.secret) != sign_jd({**p, "360buy_param_json": "{}"}, CREDS.secret)
    ship = outbound_jd.ship_call(Parcel("400000000123", "467", "SF1"), CREDS, NOW).form
    assert json.loads(ship["360buy_param_json"]) == {
        "orderId": "400000000123",
        "logiCoprId": "467",
        "logiNo": "SF1",
    }
    assert "skuId" in outbound_jd.stock_call(Listing("L", "jd", "S", "1", None), 1, CREDS, NOW)
    with pytest.raises(ValueError):
        outbound_jd.stock_call(L, -1, CREDS, NOW)


def test_pdd_signs_every_param_and_addresses_a_sku_by_id_or_code():
    p = outbound_pdd.stock_call(L, 5, CREDS, NOW).form
    assert (p["type"], p["goods_id"], p["sku_id"], p["quantity"], p["update_type"]) == (
        outbound_pdd.STOCK, "7001", "8001", "5", "1"
    )  # fmt: skip
    assert p["timestamp"] == str(int(NOW.timestamp())) and p["sign"] == sign_pdd(p, CREDS.secret)
    by_code = outbound_pdd.stock_call(Listing("L", "pdd", "S", "7001", "RED"), 5, CREDS, NOW).form
    assert by_code["outer_id"] == "RED" and "sku_id" not in by_code
    assert "logistics_id" in outbound_pdd.ship_call(Parcel("261203-1", "shunfeng", "SF1"), CREDS, NOW)


def test_douyin_signs_method_params_and_time_with_hmac_and_splits_by_pack():
    call = outbound_douyin.stock_call(L, 3, CREDS, NOW)
    q = call.query
    assert call.path == "/sku/syncStock" and json.loads(call.body) == {
        "incremental": False, "product_id": 7001, "sku_id": 8001, "stock_num": 3
    }  # fmt: skip
    assert q["sign"] == outbound_douyin.sign_api(CREDS.app_key, "sku.syncStock", call.body, q["timestamp"],
                                                 CREDS.secret)  # fmt: skip
    assert q["sign"] != outbound_douyin.sign_api(CREDS.app_key, "sku.syncStock", call.body.replace("3", "4"),
                                                 q["timestamp"], CREDS.secret)  # fmt: skip
    split = outbound_douyin.ship_call(Parcel("69", "shunfeng", "SF1", (("so-1", 2),), True), CREDS, NOW)
    assert split.path == "/order/logisticsAddMultiPack"
    assert json.loads(split.body)["pack_list"][0]["shipped_order_info"] == [
        {"shipped_order_id": "so-1", "shipped_num": 2}
    ]


def test_xiaohongshu_and_youzan_bodies():
    body = json.loads(outbound_xiaohongshu.stock_call(L, 9, CREDS, NOW).body)
    assert (body["method"], body["skuId"], body["qty"]) == ("inventory.syncSkuStock", "8001", 9)
    assert body["sign"] == sign_xiaohongshu("inventory.syncSkuStock", "app-1", body["timestamp"], "2.0",
                                            CREDS.secret)  # fmt: skip
    split = json.loads(outbound_xiaohongshu.ship_call(Parcel("P1", "shunfeng", "SF1", (("sku-a", 1),), True),
                                                      CREDS, NOW).body)  # fmt: skip
    assert split["unpack"] is True and split["skuIdList"] == ["sku-a"]
    yz = outbound_youzan.stock_call(L, 4, CREDS, NOW)
    assert yz.path == "/youzan.item.quantity.update/3.0.0" and yz.query == {"access_token": "token-1"}
    assert json.loads(yz.body) == {"item_id": 7001, "sku_id": 8001, "quantity": 4, "type": 0}
    ship = json.loads(outbound_youzan.ship_call(Parcel("E1", "7", "SF1", (("o1", 1), ("o2", 1)), True),
                                                CREDS, NOW).body)  # fmt: skip
    assert (ship["tid"], ship["out_stype"], ship["out_sid"], ship["oids"]) == ("E1", "7", "SF1", "o1,o2")


def jd_err(code: str) -> dict:
    return {"error_response": {"code": code, "zh_desc": "x", "en_desc": "x"}}


def pdd_err(code: int) -> dict:
    return {"error_response": {"error_code": code, "error_msg": "x"}}


@pytest.mark.parametrize(
    ("spec", "status", "body", "outcome"),
    [
        (outbound_jd, 200, {"jingdong_stock_write_updateSkuStock_responce": {"success": True}}, A),
        (outbound_jd, 200, jd_err("8"), R),
        (outbound_jd, 200, jd_err("20"), C),
        (outbound_jd, 200, jd_err("60"), F),
        (outbound_jd, 503, None, R),
        (outbound_pdd, 200, {"goods_quantity_update_response": {"is_success": True}}, A),
        (outbound_pdd, 200, pdd_err(70031), R),
        (outbound_pdd, 200, pdd_err(10019), C),
        (outbound_pdd, 200, pdd_err(20011), F),
        (outbound_pdd, 200, {"what": 1}, R),
        (outbound_douyin, 200, {"code": 10000, "data": {}}, A),
        (outbound_douyin, 200, {"code": 20000, "sub_code": "isp.service-error:9999"}, R),
        (outbound_douyin, 200, {"code": 30002, "sub_code": "isv.access-token-expired"}, C),
        (outbound_douyin, 200, {"code": 40004, "sub_code": "isv.business-failed"}, F),
        (outbound_xiaohongshu, 200, {"success": True, "error_code": 0}, A),
        (outbound_xiaohongshu, 200, {"success": False, "error_code": -9013}, R),
        (outbound_xiaohongshu, 200, {"success": False, "error_code": -1002}, C),
        (outbound_xiaohongshu, 200, {"success": False, "error_code": 50301}, F),
        (outbound_youzan, 200, {"success": True, "code": 200, "data": {"is_success": True}}, A),
        (outbound_youzan, 200, {"gw_err_resp": {"err_code": 4004}}, R),
        (outbound_youzan, 200, {"gw_err_resp": {"err_code": 4203}}, C),
        (outbound_youzan, 200, {"success": False, "code": 141500101}, F),
        (outbound_youzan, 429, None, R),
    ],
)
def test_stock_answers(spec, status, body, outcome):
    answer = spec.stock_answer(status, body)
    assert answer.outcome is outcome, answer.reason


def test_shipment_and_read_answers():
    refused = {"jingdong_pop_order_shipment_responce": {"sopjosshipment_result": {"success": False}}}
    assert outbound_jd.ship_answer(200, refused).outcome is F
    assert (
        outbound_pdd.ship_answer(200, {"logistics_online_send_response": {"is_success": False}}).outcome is F
    )
    assert outbound_youzan.ship_answer(200, {"success": True, "data": {"is_success": False}}).outcome is F
    assert outbound_douyin.read_answer(200, {"code": 10000, "data": {"stock_num": 6}}, L) == 6
    skus = {"goods_info_get_response": {"goods_info": {"sku_list": [{"sku_id": 8001, "quantity": 2}]}}}
    assert outbound_pdd.read_answer(200, skus, L) == 2
    assert outbound_pdd.read_answer(200, skus, Listing("L", "pdd", "S", "7001", "9")).outcome is F
