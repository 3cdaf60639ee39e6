"""Each platform's own request signature (pure), as the reference describes it (docs/platforms/*.md):

- JD (JOS):      UPPER(MD5(secret + k1v1k2v2… + secret)), params sorted by name, `sign` and empty values
                 skipped; the order JSON travels as the `360buy_param_json` parameter.
- Pinduoduo:     UPPER(MD5(client_secret + k1v1k2v2… + client_secret)), every param except `sign`
                 sorted by name; the order JSON travels as the `data` parameter. `timestamp` in unix seconds.
- Douyin (SPI):  app_secret + "app_key"+app_key + "param_json"+param_json + "timestamp"+ts + app_secret, then
                 MD5 of it (`sign_method=md5`) or HMAC-SHA256 keyed with app_secret (`hmac-sha256`),
                 lowercase.
- Xiaohongshu:   MD5(method + "?appId=" + appId + "&timestamp=" + ts + "&version=" + version + appSecret),
                 lowercase hex. The body is NOT covered by the platform's signature.
- Youzan push:   MD5(client_id + msg + client_secret), lowercase, msg exactly as received (URL-encoded).
- 1688 (alibaba): UPPER(HEX(HMAC-SHA1(app_secret, urlPath + the sorted key+value strings))): every parameter
                 but `_aop_signature` written key+value, those strings sorted, then joined; urlPath is from
                 `param2` to the `?`, e.g. `param2/1/com.alibaba.trade/alibaba.trade.get.sellerView/<appKey>`.
                 Omni's webhook signs the order JSON as the parameter `message`. `_aop_timestamp` in unix ms.

Comparisons are constant-time and ignore hex case.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

MAX_CLOCK_SKEW = timedelta(minutes=10)
DOUYIN_SIGN_METHODS = ("md5", "hmac-sha256")


def _md5(data: str) -> str:
    return hashlib.md5(data.encode("utf-8")).hexdigest()


def _sorted_kv(params: dict[str, str], *, skip_empty: bool) -> str:
    return "".join(
        f"{k}{params[k]}" for k in sorted(params) if k != "sign" and not (skip_empty and params[k] == "")
    )


def sign_jd(params: dict[str, str], secret: str) -> str:
    return _md5(secret + _sorted_kv(params, skip_empty=True) + secret).upper()


def sign_pdd(params: dict[str, str], secret: str) -> str:
    return _md5(secret + _sorted_kv(params, skip_empty=False) + secret).upper()


def sign_douyin(app_key: str, param_json: str, timestamp: str, secret: str, method: str = "md5") -> str:
    pattern = f"{secret}app_key{app_key}param_json{param_json}timestamp{timestamp}{secret}"
    if method == "hmac-sha256":
        return hmac.new(secret.encode("utf-8"), pattern.encode("utf-8"), hashlib.sha256).hexdigest()
    if method == "md5":
        return _md5(pattern)
    raise ValueError(f"unsupported sign_method {method!r}; use one of {', '.join(DOUYIN_SIGN_METHODS)}")


def sign_xiaohongshu(method: str, app_id: str, timestamp: str, version: str, secret: str) -> str:
    return _md5(f"{method}?appId={app_id}&timestamp={timestamp}&version={version}{secret}")


def sign_youzan(client_id: str, msg: str, secret: str) -> str:
    return _md5(client_id + msg + secret)


ALIBABA_ORDER_API = "param2/1/com.alibaba.trade/alibaba.trade.get.sellerView"


def alibaba_url_path(app_key: str, api: str = ALIBABA_ORDER_API) -> str:
    """The urlPath an 1688 call to `api` is signed over: the API's path and the app key."""
    return f"{api}/{app_key}"


def sign_alibaba(url_path: str, params: dict[str, str], secret: str) -> str:
    factors = sorted(f"{k}{v}" for k, v in params.items() if k != "_aop_signature")
    message = (url_path + "".join(factors)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha1).hexdigest().upper()


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(
        expected.lower().encode("ascii"), given.strip().lower().encode("ascii", "replace")
    )


def unix_timestamp_problem(
    timestamp: str, now: datetime, skew: timedelta = MAX_CLOCK_SKEW, *, millis: bool = False
) -> str | None:
    """None when the unix-seconds (or, `millis`, milliseconds) `timestamp` is within ±skew of `now`; otherwise
    why not."""
    unit = "milliseconds" if millis else "seconds"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > (15 if millis else 12):
        return f"timestamp must be unix {unit}, got {timestamp[:20]!r}"
    drift = datetime.fromtimestamp(int(timestamp) / (1000 if millis else 1), tz=UTC) - now
    if abs(drift) > skew:
        minutes = int(abs(drift).total_seconds() // 60)
        side = "behind" if drift < timedelta(0) else "ahead of"
        return (
            f"stale timestamp: {timestamp} is {minutes} min {side} the server clock; "
            f"allowed ±{int(skew.total_seconds() // 60)} min"
        )
    return None
