"""The stock push's use cases, each in one short unit of work (never open across a platform call):

- `on_listing_stock` (the consumer): keep each listing's newest number and make it due; wake the worker
  after the commit;
- `claim_pushes` / `finish_push` (the worker): take due listings with a lease, record what the platform
  answered (domain/push_status.py says what each answer makes of the row);
- `resync`, `list_push_status`, `push_status_of` (REST).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope
from omni_contracts.events.inventory import ListingStockChangedV1

from ..domain.push_status import Claim, State, Transition, after_answer, unsupported
from ..domain.stock_push import Answer, Outcome
from ..store import ShopCredentials
from .claim_loop import Backoff
from .orders import Uow

log = get_logger(__name__)
Wake = Callable[[], None]


async def on_listing_stock(
    uow: Uow, envs: Sequence[Envelope[Any]], *, now: datetime, wake: Wake | None
) -> int:
    """A batch of `inventory.listing-stock-changed`: the newest seq per listing wins (within the batch and
    against what is held); each listing that changed is due now. Returns how many changed."""
    newest: dict[str, ListingStockChangedV1] = {}
    for env in envs:
        d: ListingStockChangedV1 = env.data
        if d.listing_id not in newest or newest[d.listing_id].seq < d.seq:
            newest[d.listing_id] = d
    rows = [
        {
            "listing_id": d.listing_id,
            "channel": d.channel,
            "shop_id": d.shop_id,
            "channel_item_id": d.channel_item_id,
            "channel_sku_id": d.channel_sku_id,
            "desired_qty": d.quantity,
            "desired_seq": d.seq,
            "rules_version": d.rules_version,
            "computed_at": d.computed_at,
        }
        for d in newest.values()
    ]
    async with uow:
        changed = await uow.repo.upsert_desired(rows, now)
        if changed and wake is not None:
            uow.on_commit(wake)
    if len(changed) < len(rows):
        log.debug("listing stock: older or repeated seq ignored", ignored=len(rows) - len(changed))
    return len(changed)


async def claim_pushes(
    uow: Uow, *, now: datetime, limit: int, lease_s: float
) -> list[tuple[Claim, ShopCredentials | None]]:
    """Take up to `limit` due listings (skipping those another worker holds) for `lease_s`, with their shops'
    credentials."""
    async with uow:
        claims = await uow.repo.claim_due(
            now=now, lease_until=now + timedelta(seconds=lease_s), limit=limit, token=uuid.uuid4().hex
        )
        shops = await uow.repo.shops_credentials([(c.listing.channel, c.listing.shop_id) for c in claims])
    return [(c, shops.get((c.listing.channel, c.listing.shop_id))) for c in claims]


def local_answer(claim: Claim, shop: ShopCredentials | None) -> Answer | None:
    """Why a push cannot go out at all (the shop), before any platform is asked; None: it can."""
    where = f"{claim.listing.channel} shop {claim.listing.shop_id!r}"
    if shop is None:
        return Answer(Outcome.CREDENTIALS, f"no {where} is registered (PUT /shops/...)")
    if not shop.active:
        return Answer(Outcome.CREDENTIALS, f"the {where} is not active")
    if shop.credentials_error:
        return Answer(Outcome.CREDENTIALS, shop.credentials_error)
    return None


async def finish_push(
    uow: Uow,
    claim: Claim,
    answer: Answer | None,
    *,
    started_at: datetime,
    now: datetime,
    backoff: Backoff = Backoff(),
    blocks_shop: bool = True,
) -> Transition | None:
    """Record a push's answer (None: no platform serves the channel). Returns the row's transition, or None
    when the claim was lost (its lease ran out and another worker took the listing)."""
    async with uow:
        desired_seq = await uow.repo.lock_claimed(claim.listing.listing_id, claim.token)
        if desired_seq is None:
            log.warning("push claim lost (lease expired)", listing_id=claim.listing.listing_id)
            return None
        if answer is None:
            t = unsupported(claim)
            detail: dict[str, Any] = {"outcome": "unsupported", "detail": t.last_error}
        else:
            t = after_answer(
                answer, claim, desired_seq, now, backoff_first_s=backoff.first_s, backoff_max_s=backoff.max_s
            )
            detail = {
                "outcome": answer.outcome.value,
                "detail": answer.reason,
                "code": answer.code,
                "sub_code": answer.sub_code,
                "platform_qty": answer.platform_quantity,
            }
        if not blocks_shop and t.blocks_shop:
            t = Transition(t.state, t.next_attempt_at, t.attempts, t.last_error, t.acknowledged, False)
        await uow.repo.finish_push(claim, t, {**detail, "started_at": started_at}, now)
    if t.state in (State.REFUSED, State.CREDENTIALS, State.UNSUPPORTED):
        log.info(
            "stock push held",
            listing_id=claim.listing.listing_id,
            channel=claim.listing.channel,
            shop_id=claim.listing.shop_id,
            state=t.state.value,
            reason=t.last_error,
        )
    return t


async def release_unsupported(uow: Uow, channels: Sequence[str], now: datetime) -> int:
    async with uow:
        return await uow.repo.release_unsupported(channels, now)


async def next_due_at(uow: Uow) -> datetime | None:
    async with uow:
        return await uow.repo.next_due_at()


async def resync(uow: Uow, listing_id: str, *, now: datetime, wake: Wake | None) -> bool:
    """Push the listing's desired number again now (also a refused one). False: no such listing."""
    async with uow:
        found = await uow.repo.resync(listing_id, now)
        if found and wake is not None:
            uow.on_commit(wake)
    if found:
        log.info("stock push resync requested", listing_id=listing_id)
    return found


async def list_push_status(
    uow: Uow,
    *,
    state: str | None,
    channel: str | None,
    shop_id: str | None,
    listing_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    filters = {"state": state, "channel": channel, "shop_id": shop_id, "listing_id": listing_id}
    async with uow:
        return await uow.repo.list_push_status(filters=filters, limit=limit, offset=offset)


async def push_status_of(uow: Uow, listing_id: str) -> dict[str, Any] | None:
    """A listing's push status with its last attempts (newest first), or None."""
    async with uow:
        row = await uow.repo.get_push_status(listing_id)
        if row is None:
            return None
        history = await uow.repo.push_history(listing_id)
    return {**row, "history": history}
