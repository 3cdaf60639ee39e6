"""Webhook intake use cases: the one place that orchestrates domain, repository and outbox, in a unit of work.

A webhook delivery is one unit of work: the receipt row and the `channel.order.received` event commit
together or not at all. An event larger than the broker accepts is refused when it is staged
(`omni_chassis.outbox.EventTooLarge`, raised as the unit of work commits): nothing is recorded then.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omni_chassis.errors import ProblemError
from omni_chassis.logging import get_logger
from omni_chassis.uow import UnitOfWork
from omni_contracts.events.channel import channel_order_key

from ..credentials import CredentialsKeyError, reveal
from ..domain.errors import Unauthorized
from ..domain.signing import SIGN_METHODS, signature_matches, timestamp_problem
from ..domain.tmall import CHANNEL as TMALL
from ..domain.tmall import Accepted, NotForFulfilment, normalise_trade, parse_json
from ..store import Repository
from .aftersales_record import record_tmall_close

log = get_logger(__name__)
Uow = UnitOfWork[Repository]

REQUIRED_PARAMS = ("shop_id", "app_key", "timestamp", "sign_method", "sign")


@dataclass(frozen=True)
class Receipt:
    accepted: bool
    channel_order_id: str
    event_id: str | None = None
    reason: str | None = None
    deliveries: int = 1


async def receive_tmall_order(
    uow: Uow, *, params: list[tuple[str, str]], body: bytes, now: datetime
) -> Receipt:
    """Authenticate a signed Tmall trade push, normalise it and, when it needs fulfilment, publish it.

    Raises Unauthorized (401), MalformedPayload (400), InvalidTrade (422) or EventTooLarge (413); the unit of
    work is then rolled back, so nothing is recorded or published on any error.
    """
    query = _query(params)
    async with uow:
        return await _receive_tmall(uow, query, body, now)


async def authenticate_tmall(uow: Uow, query: dict[str, str], body: bytes, now: datetime) -> str:
    """The shop id of a TOP-signed Tmall push (trade or refund); raises Unauthorized."""
    shop = await uow.repo.shop_credentials(TMALL, query["shop_id"])
    if shop is None:
        raise Unauthorized(f"unknown shop: no {TMALL} shop {query['shop_id']!r} is registered")
    if not shop.active:
        raise Unauthorized(f"inactive shop: {TMALL} shop {shop.shop_id!r} is not active")
    if query["app_key"] != shop.app_key:
        raise Unauthorized("bad app_key: it is not the app_key registered for this shop")
    try:
        secret = reveal(shop.secret) or ""
    except CredentialsKeyError as exc:
        log.error("shop credentials cannot be decrypted", channel=TMALL, shop_id=shop.shop_id)
        raise ProblemError(503, "Shop credentials unreadable", str(exc)) from None
    if not signature_matches(query, body, secret, query["sign_method"], query["sign"]):
        raise Unauthorized(f"bad signature (sign_method {query['sign_method']})")
    stale = timestamp_problem(query["timestamp"], now)
    if stale:
        raise Unauthorized(stale)
    return shop.shop_id


async def _receive_tmall(uow: Uow, query: dict[str, str], body: bytes, now: datetime) -> Receipt:
    shop_id = await authenticate_tmall(uow, query, body, now)
    doc = parse_json(body)
    outcome = normalise_trade(doc, shop_id=shop_id, received_at=now)
    if isinstance(outcome, NotForFulfilment):  # a closed trade also becomes channel.order.closed, once
        await record_tmall_close(uow, doc, outcome, shop_id, now)
    return await record_outcome(uow, TMALL, shop_id, outcome, body, now)


async def record_outcome(
    uow: Uow, channel: str, shop_id: str, outcome: Accepted | NotForFulfilment, body: bytes, now: datetime
) -> Receipt:
    """Stage the event of an accepted order (or not) and record the delivery: the dedupe and outbox path
    every platform's intake shares."""
    digest = hashlib.sha256(body).hexdigest()
    if isinstance(outcome, Accepted):
        env = uow.emit(outcome.event, key=channel_order_key(channel, outcome.channel_order_id))
        deliveries = await uow.repo.record_receipt(
            channel=channel,
            channel_order_id=outcome.channel_order_id,
            payload_sha256=digest,
            shop_id=shop_id,
            channel_status=outcome.event.channel_status,
            outcome="published",
            reason=None,
            event_id=env.event_id,
            now=now,
        )
        log.debug(
            "channel order published",
            channel=channel,
            shop_id=shop_id,
            channel_order_id=outcome.channel_order_id,
            channel_status=outcome.event.channel_status,
            lines=len(outcome.event.lines),
            paid_cents=outcome.event.paid_cents,
            event_id=str(env.event_id),
            deliveries=deliveries,
        )
        return Receipt(True, outcome.channel_order_id, event_id=str(env.event_id), deliveries=deliveries)

    deliveries = await uow.repo.record_receipt(
        channel=channel,
        channel_order_id=outcome.channel_order_id,
        payload_sha256=digest,
        shop_id=shop_id,
        channel_status=outcome.channel_status,
        outcome="ignored",
        reason=outcome.reason,
        event_id=None,
        now=now,
    )
    log.debug(
        "channel order not for fulfilment",
        channel=channel,
        shop_id=shop_id,
        channel_order_id=outcome.channel_order_id,
        channel_status=outcome.channel_status,
        reason=outcome.reason,
    )
    return Receipt(False, outcome.channel_order_id, reason=outcome.reason, deliveries=deliveries)


def _query(params: list[tuple[str, str]]) -> dict[str, str]:
    """The signed query parameters as a dict; refuses duplicates and missing public parameters."""
    query: dict[str, str] = {}
    for name, value in params:
        if name in query:
            raise Unauthorized(f"bad request signature: query parameter {name!r} is given twice")
        query[name] = value
    missing = [n for n in REQUIRED_PARAMS if not query.get(n)]
    if missing:
        raise Unauthorized(f"missing query parameter(s): {', '.join(missing)}")
    if query["sign_method"] not in SIGN_METHODS:
        raise Unauthorized(
            f"unsupported sign_method {query['sign_method']!r}; use one of {', '.join(SIGN_METHODS)}"
        )
    return query


# -- receipts ---------------------------------------------------------------------------------------------
async def list_receipts(
    uow: Uow,
    *,
    channel: str | None,
    shop_id: str | None,
    channel_order_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """What each channel delivered and what became of it, newest first."""
    async with uow:
        items, total = await uow.repo.list_receipts(
            channel=channel, shop_id=shop_id, channel_order_id=channel_order_id, limit=limit, offset=offset
        )
    return [{**it, "event_id": str(it["event_id"]) if it["event_id"] else None} for it in items], total
