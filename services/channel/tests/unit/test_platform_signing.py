"""Each platform's signature: a vector computed from its documented rule (checked by hand with md5sum) passes,
a tampered one fails; stale timestamps are refused."""

from __future__ import annotations

from datetime import UTC, datetime

from omni_channel.domain import platform_signing as s

JD_PARAMS = {
    "method": "jingdong.pop.order.get",
    "app_key": "jd-app",
    "timestamp": "2025-06-12 10:20:00",
    "v": "2.0",
    "360buy_param_json": '{"order_id":"312345678901"}',
    "access_token": "",  # empty values are skipped
}
PDD_PARAMS = {
    "type": "pdd.order.information.get",
    "client_id": "pdd-client",
    "timestamp": "1749694800",
    "data_type": "JSON",
    "order_sn": "250612-123456789012345",
}
DY_PARAM_JSON = '{"shop_order_id":"6920123456789012345"}'


def test_jd_vector():
    assert s.sign_jd(JD_PARAMS, "jd-secret") == "ACD4E19AE325BBAF122CB4E4F27CD68D"
    assert s.sign_jd({**JD_PARAMS, "sign": "ignored"}, "jd-secret") == "ACD4E19AE325BBAF122CB4E4F27CD68D"
    assert s.sign_jd({**JD_PARAMS, "v": "2.1"}, "jd-secret") != "ACD4E19AE325BBAF122CB4E4F27CD68D"
    assert not s.same(s.sign_jd(JD_PARAMS, "jd-secret"), "ACD4E19AE325BBAF122CB4E4F27CD68E")


def test_pdd_vector():
    assert s.sign_pdd(PDD_PARAMS, "pdd-secret") == "6ED2A07C627BB4DE246FFC5296B99D64"
    tampered = {**PDD_PARAMS, "order_sn": "250612-123456789012346"}
    assert not s.same(s.sign_pdd(tampered, "pdd-secret"), "6ED2A07C627BB4DE246FFC5296B99D64")


def test_douyin_vectors_md5_and_hmac_sha256():
    assert (
        s.sign_douyin("dy-app", DY_PARAM_JSON, "1749694800", "dy-secret")
        == "24992e00f9b3fc6045bc483d15e51ad4"
    )
    assert (
        s.sign_douyin("dy-app", DY_PARAM_JSON, "1749694800", "dy-secret", "hmac-sha256")
        == "bd019e97ce89807227e3ff55fd539a2a14f1a92ab48f1e0bca81cb847405a7cc"
    )
    assert (
        s.sign_douyin("dy-app", DY_PARAM_JSON + " ", "1749694800", "dy-secret")
        != "24992e00f9b3fc6045bc483d15e51ad4"
    )


def test_xiaohongshu_documented_example():
    # xiaohongshu.md: order.getOrderDetail?appId=abc123&timestamp=1749694600&version=2.0s3cr3t
    sign = s.sign_xiaohongshu("order.getOrderDetail", "abc123", "1749694600", "2.0", "s3cr3t")
    assert sign == "f6e6828de632e58a56f4657268aa511e"
    assert s.same(sign, sign.upper())  # hex case is not checked
    assert s.sign_xiaohongshu("order.getOrderDetail", "abc123", "1749694601", "2.0", "s3cr3t") != sign


def test_youzan_push_vector():
    msg = "%7B%22tid%22%3A%22E1%22%7D"
    assert (
        s.sign_youzan("1a2b3c4d5e6f7a8b9c", msg, "example_client_secret")
        == "63ae708c0ef8f2aae8d1dca8af138fe7"
    )
    assert s.sign_youzan("1a2b3c4d5e6f7a8b9c", msg + "%20", "example_client_secret") != (
        "63ae708c0ef8f2aae8d1dca8af138fe7"
    )


def test_unix_timestamps_out_of_window_are_stale():
    now = datetime.fromtimestamp(1749694800, tz=UTC)
    assert s.unix_timestamp_problem("1749694800", now) is None
    assert s.unix_timestamp_problem("1749695300", now) is None  # +500 s
    assert "stale timestamp" in (s.unix_timestamp_problem("1749693000", now) or "")  # 30 min behind
    assert "unix seconds" in (s.unix_timestamp_problem("2025-06-12 10:20:00", now) or "")


def test_alibaba_documented_vector_and_the_webhook_rule():
    # open.1688.com API 签名规则: param2/1/system/currentTime/1000000?b=2&a=1, secretKey test123
    assert s.sign_alibaba("param2/1/system/currentTime/1000000", {"b": "2", "a": "1"}, "test123") == (
        "33E54F4F7B989E3E0E912D3FBD2F1A03CA7CCE88"
    )
    path = s.alibaba_url_path("1000000")
    assert path == "param2/1/com.alibaba.trade/alibaba.trade.get.sellerView/1000000"
    params = {"shop_id": "A-1", "app_key": "1000000", "_aop_timestamp": "1749694800000", "message": '{"a":1}'}
    sign = s.sign_alibaba(path, params, "test123")
    assert sign == s.sign_alibaba(path, {**params, "_aop_signature": "ignored"}, "test123") and sign.isupper()
    assert s.sign_alibaba(path, {**params, "message": '{"a":2}'}, "test123") != sign  # the body is covered
    assert s.sign_alibaba(s.alibaba_url_path("1000001"), params, "test123") != sign  # so is the app key


def test_millisecond_timestamps():
    now = datetime.fromtimestamp(1749694800, tz=UTC)
    assert s.unix_timestamp_problem("1749694800000", now, millis=True) is None
    assert "stale timestamp" in (s.unix_timestamp_problem("1749693000000", now, millis=True) or "")
    assert "unix milliseconds" in (s.unix_timestamp_problem("20250612101600000+0800", now, millis=True) or "")
