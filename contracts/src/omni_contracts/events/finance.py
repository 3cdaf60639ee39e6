"""Finance (FIN): vouchers. Key: order id."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from ..envelope import EventPayload
from ..registry import event
from ..topics import Topic
from .common import Code, Currency, NonNegCents, Value


class JournalLine(Value):
    account_code: Code
    account_name: str
    debit_cents: NonNegCents = 0
    credit_cents: NonNegCents = 0


@event("finance.voucher-posted", 1, Topic.FINANCE)
class VoucherPostedV1(EventPayload):
    """A balanced double-entry voucher (Σ debit = Σ credit) was posted for a business event."""

    voucher_id: str
    order_id: str | None = None
    source_event_id: str
    source_event_type: str
    summary: str
    lines: list[JournalLine] = Field(min_length=2)
    currency: Currency = "CNY"
    posted_at: AwareDatetime
