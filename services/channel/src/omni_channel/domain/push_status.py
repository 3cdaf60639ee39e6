"""A listing's push status: what Omni wants the platform to show, what the platform acknowledged, and what
happens after each answer. Pure: no I/O, no clock (the caller gives `now`).

States (one row per listing):
- `pending`: due (`next_attempt_at`), a push goes out as soon as a worker claims it;
- `retrying`: the last push failed in a way worth repeating (5xx, timeout, rate limit); due again after
  `backoff_s(attempts)`;
- `acknowledged`: the platform confirmed the desired quantity of the newest seq;
- `refused`: the platform refused the update (item or SKU missing, invalid parameter): shown with the
  platform's message, not retried until a newer quantity arrives or an operator asks for a resync;
- `credentials`: the shop's credentials were refused (or are missing): shown on the shop too; the listing
  waits until the shop is saved again (PUT /shops), then goes out;
- `unsupported`: no stock push for the listing's channel yet; tried again when a platform joins (restart).

Whatever the answer, a seq newer than the one pushed that arrived meanwhile keeps the row due at once
(`pending`), so the newer number goes out next; an acknowledgement of the older one is still recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .stock_push import Answer, Outcome, backoff_s


class State(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    ACKNOWLEDGED = "acknowledged"
    REFUSED = "refused"
    CREDENTIALS = "credentials"
    UNSUPPORTED = "unsupported"


DUE_STATES = frozenset({State.PENDING, State.RETRYING})
UNSUPPORTED_REASON = "no stock push for channel {channel!r} yet"


@dataclass(frozen=True)
class Listing:
    """A channel listing and where its quantity lives on the platform."""

    listing_id: str
    channel: str
    shop_id: str
    channel_item_id: str
    channel_sku_id: str | None = None


@dataclass(frozen=True)
class Claim:
    """One push a worker took: the listing, the number and seq it pushes, and its lease token."""

    listing: Listing
    quantity: int
    seq: int
    computed_at: datetime
    attempts: int  # failed attempts before this one, for this number
    token: str


@dataclass(frozen=True)
class Transition:
    """What the row becomes after an answer."""

    state: State
    next_attempt_at: datetime | None
    attempts: int
    last_error: str | None
    acknowledged: bool  # record the pushed quantity and seq as acknowledged
    blocks_shop: bool  # record the reason on the shop (credentials)


def after_answer(
    answer: Answer,
    claim: Claim,
    desired_seq: int,
    now: datetime,
    *,
    backoff_first_s: float = 0.5,
    backoff_max_s: float = 60.0,
) -> Transition:
    """The row's next state after the platform answered `claim` (its desired seq is `desired_seq` now)."""
    newer = desired_seq > claim.seq
    if answer.outcome is Outcome.ACKNOWLEDGED:
        if newer:
            return Transition(State.PENDING, now, 0, None, True, False)
        return Transition(State.ACKNOWLEDGED, None, 0, None, True, False)
    if answer.outcome is Outcome.CREDENTIALS:  # the shop is blocked: a newer number waits too
        return Transition(State.CREDENTIALS, None, claim.attempts, answer.reason, False, True)
    if newer:  # the platform refused or failed the old number: the new one goes out now
        return Transition(State.PENDING, now, 0, answer.reason, False, False)
    if answer.outcome is Outcome.REFUSED:
        return Transition(State.REFUSED, None, claim.attempts + 1, answer.reason, False, False)
    attempts = claim.attempts + 1
    wait = backoff_s(attempts, first_s=backoff_first_s, max_s=backoff_max_s)
    return Transition(State.RETRYING, now + timedelta(seconds=wait), attempts, answer.reason, False, False)


def unsupported(claim: Claim) -> Transition:
    reason = UNSUPPORTED_REASON.format(channel=claim.listing.channel)
    return Transition(State.UNSUPPORTED, None, claim.attempts, reason, False, False)


def drifted(pushed: int | None, shown: int | None) -> bool:
    """The platform shows another number than the one Omni last had acknowledged."""
    return pushed is not None and shown is not None and shown != pushed
