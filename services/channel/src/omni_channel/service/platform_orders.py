"""Order webhooks of JD, Pinduoduo, Douyin, Xiaohongshu, Youzan and 1688 (`alibaba`): each authenticated with
the platform's own signature (domain/platform_signing.py) against the shop's registered app key and secret,
normalised by the platform's adapter and recorded / published through the same dedupe and outbox path as
Tmall (`record_outcome`), in one unit of work: on any error nothing is recorded or published.

Every request names its shop with the query parameter `shop_id` (Youzan: or the push's `kdt_id`). A 1688 order
on credit terms is taken in only for a shop saved with `accepts_on_account` (the authenticator reads it with
the credentials; domain/alibaba1688.py decides).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omni_chassis.errors import ProblemError
from omni_chassis.logging import get_logger

from ..credentials import CredentialsKeyError, reveal
from ..domain import alibaba1688, douyin, jd, pdd, xiaohongshu, youzan
from ..domain import platform_signing as sig
from ..domain.aftersales_common import order_closed
from ..domain.errors import Unauthorized
from ..domain.signing import timestamp_problem
from ..domain.tmall import Accepted, NotForFulfilment, parse_json
from ..store import ShopCredentials
from .aftersales_record import record
from .orders import Receipt, Uow, record_outcome

log = get_logger(__name__)
Outcome = Accepted | NotForFulfilment


@dataclass(frozen=True)
class Request:
    query: dict[str, str]
    body: bytes
    now: datetime
    dedupe: list[bytes] = field(default_factory=list)  # what identifies the delivery, when not the body
    accepts_on_account: list[bool] = field(default_factory=list)  # the shop's setting, once authenticated


def _query(params: list[tuple[str, str]]) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in params:
        if name in query:
            raise Unauthorized(f"bad request signature: query parameter {name!r} is given twice")
        query[name] = value
    return query


def _need(query: dict[str, str], platform: str, *names: str) -> None:
    missing = [n for n in names if not query.get(n)]
    if missing:
        raise Unauthorized(f"{platform}: missing query parameter(s): {', '.join(missing)}")


async def _shop(uow: Uow, platform: str, shop_id: str, app_key: str) -> ShopCredentials:
    shop = await uow.repo.shop_credentials(platform, shop_id)
    if shop is None:
        raise Unauthorized(f"unknown shop: no {platform} shop {shop_id!r} is registered")
    if not shop.active:
        raise Unauthorized(f"inactive shop: {platform} shop {shop_id!r} is not active")
    if app_key != shop.app_key:
        raise Unauthorized(f"{platform}: bad app key: it is not the one registered for this shop")
    return shop


async def _secret(uow: Uow, platform: str, shop_id: str, app_key: str) -> str:
    return _reveal(await _shop(uow, platform, shop_id, app_key), platform)


def _reveal(shop: ShopCredentials, platform: str) -> str:
    shop_id = shop.shop_id
    try:
        return reveal(shop.secret) or ""
    except CredentialsKeyError as exc:
        log.error("shop credentials cannot be decrypted", channel=platform, shop_id=shop_id)
        raise ProblemError(503, "Shop credentials unreadable", str(exc)) from None


def _fresh(platform: str, timestamp: str, now: datetime) -> None:
    stale = sig.unix_timestamp_problem(timestamp, now)
    if stale:
        raise Unauthorized(f"{platform}: {stale}")


# -- one authenticator per platform: (the shop id, the parsed document) of a request signed the platform's way
async def _jd(uow: Uow, r: Request) -> tuple[str, Any]:
    q = r.query
    _need(q, "jd", "shop_id", "app_key", "timestamp", "sign")
    secret = await _secret(uow, "jd", q["shop_id"], q["app_key"])
    signed = {k: v for k, v in q.items() if k not in ("shop_id", "sign")}
    signed["360buy_param_json"] = r.body.decode("utf-8", "replace")
    if not sig.same(sig.sign_jd(signed, secret), q["sign"]):
        raise Unauthorized("jd: bad signature (MD5 over the sorted parameters and 360buy_param_json)")
    stale = timestamp_problem(q["timestamp"], r.now)
    if stale:
        raise Unauthorized(f"jd: {stale}")
    return q["shop_id"], parse_json(r.body)


async def _pdd(uow: Uow, r: Request) -> tuple[str, Any]:
    q = r.query
    _need(q, "pdd", "shop_id", "client_id", "timestamp", "sign")
    secret = await _secret(uow, "pdd", q["shop_id"], q["client_id"])
    signed = {k: v for k, v in q.items() if k not in ("shop_id", "sign")}
    signed["data"] = r.body.decode("utf-8", "replace")
    if not sig.same(sig.sign_pdd(signed, secret), q["sign"]):
        raise Unauthorized("pdd: bad signature (MD5 over the sorted parameters and data)")
    _fresh("pdd", q["timestamp"], r.now)
    return q["shop_id"], parse_json(r.body)


async def _douyin(uow: Uow, r: Request) -> tuple[str, Any]:
    q = r.query
    _need(q, "douyin", "shop_id", "app_key", "timestamp", "sign")
    method = q.get("sign_method") or "md5"
    if method not in sig.DOUYIN_SIGN_METHODS:
        raise Unauthorized(f"douyin: unsupported sign_method {method!r}; use md5 or hmac-sha256")
    secret = await _secret(uow, "douyin", q["shop_id"], q["app_key"])
    param_json = r.body.decode("utf-8", "replace")
    if not sig.same(sig.sign_douyin(q["app_key"], param_json, q["timestamp"], secret, method), q["sign"]):
        raise Unauthorized(f"douyin: bad signature (sign_method {method})")
    _fresh("douyin", q["timestamp"], r.now)
    return q["shop_id"], parse_json(r.body)


async def _xiaohongshu(uow: Uow, r: Request) -> tuple[str, Any]:
    doc = parse_json(r.body)
    system = {**(doc if isinstance(doc, dict) else {}), **r.query}  # query wins over the body
    params = {k: str(system.get(k) or "") for k in ("appId", "timestamp", "version", "method", "sign")}
    params["shop_id"] = r.query.get("shop_id", "")
    _need(params, "xiaohongshu", "shop_id", "appId", "timestamp", "version", "method", "sign")
    secret = await _secret(uow, "xiaohongshu", params["shop_id"], params["appId"])
    expected = sig.sign_xiaohongshu(
        params["method"], params["appId"], params["timestamp"], params["version"], secret
    )
    if not sig.same(expected, params["sign"]):
        raise Unauthorized("xiaohongshu: bad signature (MD5 of method?appId&timestamp&version + secret)")
    _fresh("xiaohongshu", params["timestamp"], r.now)
    return params["shop_id"], doc


async def _youzan(uow: Uow, r: Request) -> tuple[str, Any]:
    doc = parse_json(r.body)
    client_id, msg = youzan.push_msg(doc)
    kdt = str(doc.get("kdt_id") or "")
    shop_id = r.query.get("shop_id") or kdt
    if not shop_id:
        raise Unauthorized("youzan: name the shop (query shop_id or the push's kdt_id)")
    if kdt and kdt != shop_id:
        raise Unauthorized(f"youzan: the push is for kdt_id {kdt}, not for shop {shop_id!r}")
    secret = await _secret(uow, "youzan", shop_id, client_id)
    if not sig.same(sig.sign_youzan(client_id, msg, secret), str(doc.get("sign") or "")):
        raise Unauthorized("youzan: bad signature (MD5 of client_id + msg + client_secret)")
    r.dedupe.append(msg.encode("utf-8"))  # a redelivery (sendCount, msg_id) carries the same msg
    return shop_id, doc


async def _alibaba(uow: Uow, r: Request) -> tuple[str, Any]:
    q = r.query
    _need(q, "alibaba", "shop_id", "app_key", "_aop_timestamp", "_aop_signature")
    shop = await _shop(uow, "alibaba", q["shop_id"], q["app_key"])
    signed = {k: v for k, v in q.items() if k != "_aop_signature"}  # shop_id too: one app serves many shops
    signed["message"] = r.body.decode("utf-8", "replace")
    expected = sig.sign_alibaba(sig.alibaba_url_path(q["app_key"]), signed, _reveal(shop, "alibaba"))
    if not sig.same(expected, q["_aop_signature"]):
        raise Unauthorized(
            "alibaba: bad signature (HMAC-SHA1 over the urlPath and the sorted key+value pairs)"
        )
    stale = sig.unix_timestamp_problem(q["_aop_timestamp"], r.now, millis=True)
    if stale:
        raise Unauthorized(f"alibaba: {stale}")
    r.accepts_on_account.append(shop.accepts_on_account)
    return q["shop_id"], parse_json(r.body)


AUTHENTICATORS: dict[str, Callable[[Uow, Request], Awaitable[tuple[str, Any]]]] = {
    "jd": _jd,
    "pdd": _pdd,
    "douyin": _douyin,
    "xiaohongshu": _xiaohongshu,
    "youzan": _youzan,
    "alibaba": _alibaba,
}
PLATFORMS = tuple(AUTHENTICATORS)
ADAPTERS = {"jd": jd, "pdd": pdd, "douyin": douyin, "xiaohongshu": xiaohongshu, "youzan": youzan,
            "alibaba": alibaba1688}  # fmt: skip


async def authenticate(uow: Uow, platform: str, request: Request) -> tuple[str, Any]:
    """(shop id, the parsed document) of a request signed `platform`'s way; raises Unauthorized (401) or
    MalformedPayload (400). The order and the refund webhooks share it."""
    return await AUTHENTICATORS[platform](uow, request)


def _normalise(platform: str, doc: Any, shop_id: str, now: datetime, request: Request) -> Outcome:
    if platform == "youzan":
        return youzan.normalise_push(doc, shop_id=shop_id, received_at=now)
    if platform == "alibaba":
        accepts = bool(request.accepts_on_account) and request.accepts_on_account[0]
        return alibaba1688.normalise(doc, shop_id=shop_id, received_at=now, accepts_on_account=accepts)
    return ADAPTERS[platform].normalise(doc, shop_id=shop_id, received_at=now)


async def receive_platform_order(
    uow: Uow, *, platform: str, params: list[tuple[str, str]], body: bytes, now: datetime
) -> Receipt:
    """Authenticate a signed order push of `platform`, normalise it and, when it needs fulfilment, publish it.

    A push whose status is the platform's close (each adapter's `close_of`) also publishes
    `channel.order.closed`, once per order (service/aftersales_record.py); it is still acknowledged
    `accepted: false`.

    Raises Unauthorized (401), MalformedPayload (400), InvalidTrade (422) or EventTooLarge (413); the unit of
    work is then rolled back, so nothing is recorded or published.
    """
    request = Request(_query(params), body, now)
    async with uow:
        shop_id, doc = await authenticate(uow, platform, request)
        outcome = _normalise(platform, doc, shop_id, now, request)
        digest_of = request.dedupe[0] if request.dedupe else body
        receipt = await record_outcome(uow, platform, shop_id, outcome, digest_of, now)
        if isinstance(outcome, NotForFulfilment):
            close = ADAPTERS[platform].close_of(doc, outcome.channel_status)
            if close is not None:
                event = order_closed(platform, shop_id, outcome.channel_order_id, close, now)
                await record(uow, event, now)
        return receipt
