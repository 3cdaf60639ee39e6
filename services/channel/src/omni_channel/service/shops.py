"""Shops and their credentials. Saving a shop clears a refusal of its credentials and lets the listings that
waited for them go out (the push worker is woken after the commit). A shop of a channel that delivers orders
on credit terms (ON_ACCOUNT_CHANNELS: 1688) may be marked `accepts_on_account`; any other is refused it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from omni_chassis.errors import ProblemError
from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain import alibaba1688
from .orders import Uow
from .pull_sync import schedule_shop

log = get_logger(__name__)

# The channels whose adapter takes orders on account (credit terms) for a shop that accepts them.
ON_ACCOUNT_CHANNELS = (alibaba1688.CHANNEL,)


async def put_shop(
    uow: Uow,
    *,
    channel: str,
    shop_id: str,
    name: str,
    app_key: str,
    secret: str,
    active: bool,
    session_key: str | None = None,
    refresh_token: str | None = None,
    accepts_on_account: bool = False,
    on_due: Callable[[], None] | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create or replace a shop and its credentials (a session key not given keeps the one held). Returns
    its public view (never the secret or the tokens: they are stored encrypted) and whether it was created.
    Raises ProblemError 422 when `accepts_on_account` is asked of a channel that has no orders on account."""
    if accepts_on_account and channel not in ON_ACCOUNT_CHANNELS:
        raise ProblemError(
            422,
            "Invalid shop",
            f"a {channel} shop cannot accept orders on account: only {', '.join(ON_ACCOUNT_CHANNELS)} "
            "delivers orders on credit terms",
            problems=[{"path": "body.accepts_on_account", "message": f"not supported for channel {channel}"}],
        )
    async with uow:
        view, created = await uow.repo.upsert_shop(
            channel=channel,
            shop_id=shop_id,
            name=name,
            app_key=app_key,
            secret=secret,
            active=active,
            session_key=session_key,
            accepts_on_account=accepts_on_account,
            **({"refresh_token": refresh_token} if refresh_token is not None else {}),
        )
        released = await uow.repo.release_shop(channel, shop_id, now or utcnow()) if active else 0
        if active:  # shipment write-backs that waited for the credentials (the worker's poll takes them)
            await uow.repo.release_shop_writebacks(channel, shop_id, now or utcnow())
        schedule_shop(uow, channel, shop_id, active, now or utcnow())  # JD / PDD: the order pull
        if released and on_due is not None:
            uow.on_commit(on_due)
    log.info(
        "shop saved",
        channel=channel,
        shop_id=shop_id,
        active=active,
        accepts_on_account=accepts_on_account,
        created=created,
        listings_released=released,
    )
    return view, created


async def get_shop(uow: Uow, channel: str, shop_id: str) -> dict[str, Any] | None:
    async with uow:
        return await uow.repo.get_shop(channel, shop_id)


async def list_shops(
    uow: Uow, *, channel: str | None, active: bool | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_shops(channel=channel, active=active, limit=limit, offset=offset)
