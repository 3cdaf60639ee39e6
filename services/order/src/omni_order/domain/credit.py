"""B2B credit terms (账期), pure: may this order on account be taken against its buyer's open credit?

The service locks the buyer's credit account, asks `check` in batch order (each order taken counts for the
next), and writes what it answers. The answer explains itself with the numbers, in yuan for an operator:
"on account: ¥12,000.00 of ¥50,000.00 used, this order ¥3,000.00".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .rules.documents import CreditSettings

CREDIT_LIMIT = "credit_limit"
ON_ACCOUNT = "on_account"


def yuan(cents: int) -> str:
    return f"¥{Decimal(cents) / 100:,.2f}"


def account_of(channel: str, buyer_id: str) -> str:
    """The credit account an order counts against: the buyer's account on its channel."""
    return f"{channel}:{buyer_id}"


@dataclass(frozen=True)
class CreditCheck:
    within: bool
    why: str  # the numbers, for the trace and the hold's reason
    effect: str


def check(open_cents: int, order_cents: int, settings: CreditSettings) -> CreditCheck:
    """Within the limit when what the buyer owes with this order is at most the limit (the limit itself
    is allowed)."""
    after = open_cents + order_cents
    numbers = (
        f"on account: {yuan(open_cents)} of {yuan(settings.limit_cents)} used, this order {yuan(order_cents)}"
    )
    if after <= settings.limit_cents:
        return CreditCheck(True, numbers, f"taken on account: {yuan(after)} used")
    over = f"{numbers}: {yuan(after - settings.limit_cents)} over the limit"
    effect = "cancelled" if settings.on_over == "cancel" else "held for an operator"
    return CreditCheck(False, over, effect)


def due(taken_at: datetime, settings: CreditSettings, platform_due: datetime | None) -> datetime:
    """The platform's due date when it gives one, else `terms_days` after the order was taken."""
    return platform_due or taken_at + timedelta(days=settings.terms_days)
