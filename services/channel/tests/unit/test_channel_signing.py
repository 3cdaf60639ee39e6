"""TOP/Qimen signing and timestamps."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from omni_channel.domain import format_china_time, sign_tmall
from omni_channel.domain.signing import (
    SignatureError,
    parse_china_time,
    signature_matches,
    string_to_sign,
    timestamp_problem,
)

# The worked example of taobao.md, verbatim.
VECTOR_PARAMS = {
    "app_key": "12345678",
    "format": "json",
    "method": "taobao.trade.fullinfo.get",
    "session": "abc",
    "sign_method": "md5",
    "timestamp": "2025-06-12 10:20:00",
    "v": "2.0",
    "fields": "tid,status",
    "tid": "3912476580123456789",
}
VECTOR_SECRET = "s3cr3t"
VECTOR_STRING = (
    "app_key12345678fieldstid,statusformatjsonmethodtaobao.trade.fullinfo.getsessionabcsign_methodmd5"
    "tid3912476580123456789timestamp2025-06-12 10:20:00v2.0"
)
VECTOR_MD5 = "D59CC7647B40D0AD4058423439E0FEC7"


def test_md5_test_vector_from_taobao_md() -> None:
    assert string_to_sign(VECTOR_PARAMS) == VECTOR_STRING.encode()
    assert sign_tmall(VECTOR_PARAMS, b"", VECTOR_SECRET, "md5") == VECTOR_MD5


def test_sign_param_itself_is_excluded() -> None:
    with_sign = {**VECTOR_PARAMS, "sign": "ANYTHING"}
    assert sign_tmall(with_sign, b"", VECTOR_SECRET, "md5") == VECTOR_MD5


def test_hmac_and_hmac_sha256_follow_the_described_rule() -> None:
    body = b'{"tid_str": "1"}'
    data = VECTOR_STRING.encode() + body
    assert sign_tmall(VECTOR_PARAMS, body, VECTOR_SECRET, "hmac") == (
        hmac.new(b"s3cr3t", data, hashlib.md5).hexdigest().upper()
    )
    sha = sign_tmall(VECTOR_PARAMS, body, VECTOR_SECRET, "hmac-sha256")
    assert sha == hmac.new(b"s3cr3t", data, hashlib.sha256).hexdigest().upper()
    assert len(sha) == 64 and sha == sha.upper()


def test_body_bytes_are_appended_after_the_params() -> None:
    body = '{"title": "咖啡"}'.encode()
    expected = hashlib.md5(b"s3cr3t" + VECTOR_STRING.encode() + body + b"s3cr3t").hexdigest().upper()
    assert sign_tmall(VECTOR_PARAMS, body, VECTOR_SECRET, "md5") == expected
    assert sign_tmall(VECTOR_PARAMS, body + b" ", VECTOR_SECRET, "md5") != expected


def test_params_are_sorted_by_name_not_by_insertion() -> None:
    reordered = dict(reversed(list(VECTOR_PARAMS.items())))
    assert sign_tmall(reordered, b"", VECTOR_SECRET, "md5") == VECTOR_MD5


def test_unknown_method_is_refused() -> None:
    with pytest.raises(SignatureError, match="unsupported sign_method"):
        sign_tmall(VECTOR_PARAMS, b"", VECTOR_SECRET, "sha1")


def test_signature_matches_ignores_hex_case_but_not_content() -> None:
    assert signature_matches(VECTOR_PARAMS, b"", VECTOR_SECRET, "md5", VECTOR_MD5)
    assert signature_matches(VECTOR_PARAMS, b"", VECTOR_SECRET, "md5", VECTOR_MD5.lower())
    assert not signature_matches(VECTOR_PARAMS, b"", VECTOR_SECRET, "md5", VECTOR_MD5[:-1] + "8")
    assert not signature_matches(VECTOR_PARAMS, b"", "other-secret", "md5", VECTOR_MD5)
    assert not signature_matches(VECTOR_PARAMS, b"", VECTOR_SECRET, "md5", "签名")


def test_china_time_is_gmt_plus_8_to_aware_utc() -> None:
    t = parse_china_time("2025-06-12 10:20:00")
    assert t == datetime(2025, 6, 12, 2, 20, tzinfo=UTC)
    assert t.utcoffset() == timedelta(0)
    assert parse_china_time("2025-01-01 03:00:00") == datetime(2024, 12, 31, 19, 0, tzinfo=UTC)
    assert format_china_time(datetime(2025, 6, 12, 2, 20, tzinfo=UTC)) == "2025-06-12 10:20:00"


@pytest.mark.parametrize(
    "bad", ["2025-06-12T10:20:00", "2025-06-12 10:20", "2025-13-01 10:20:00", "12/06/2025 10:20:00", ""]
)
def test_china_time_refuses_other_formats(bad: str) -> None:
    with pytest.raises(ValueError, match="yyyy-MM-dd HH:mm:ss"):
        parse_china_time(bad)


def test_timestamp_window_is_ten_minutes_either_side() -> None:
    now = datetime(2025, 6, 12, 2, 20, tzinfo=UTC)
    assert timestamp_problem("2025-06-12 10:20:00", now) is None
    assert timestamp_problem("2025-06-12 10:10:00", now) is None  # exactly 10 min behind
    assert timestamp_problem("2025-06-12 10:30:00", now) is None  # exactly 10 min ahead
    behind = timestamp_problem("2025-06-12 10:09:59", now)
    assert behind is not None and behind.startswith("stale timestamp") and "behind" in behind
    ahead = timestamp_problem("2025-06-12 10:30:01", now)
    assert ahead is not None and "ahead of" in ahead
    # a UTC wall-clock time sent by mistake is 8 hours off
    assert "stale timestamp" in (timestamp_problem("2025-06-12 02:20:00", now) or "")
    assert "yyyy-MM-dd HH:mm:ss" in (timestamp_problem("1749694800", now) or "")
