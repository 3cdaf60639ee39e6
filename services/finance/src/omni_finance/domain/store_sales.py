"""Posting rules of store sales 门店销售记账: a till's sale is booked at once (the goods left over the
counter, so there is no deferral and no shipment to wait for).

- channel.store-sale.recorded: Dr each tender's account (what was tendered, merged per account), Cr 1001 the
  change given back (netted against the cash tendered), Cr 6001 revenue = total − VAT, Cr 222101 output VAT.
- channel.store-return.recorded: the reversal: Dr 6001 and Dr 222101, Cr the tenders' accounts paid back.
- A sale or return of 0 (everything given away) posts nothing: a voucher needs an amount.

Which account a tender is booked to is data (`TENDER_ACCOUNTS`); the channel maps the POS's own tender ids to
these tenders per store.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from .accounts import ADVANCE_RECEIPTS, BANK, CASH, OTHER_FUNDS, SALES_REVENUE, VAT_OUTPUT
from .posting import Source
from .vouchers import Line, Voucher, VoucherKind

TENDER_ACCOUNTS: dict[str, str] = {
    "cash": CASH,
    "bank_card": BANK,
    "unionpay": BANK,
    "wechat": OTHER_FUNDS,
    "alipay": OTHER_FUNDS,
    "other": OTHER_FUNDS,
    "voucher": ADVANCE_RECEIPTS,
}
_NS = uuid5(NAMESPACE_URL, "omni:finance:store-sales")


class UnbookableStoreSale(ValueError):
    """A store sale whose amounts or tenders cannot be booked (retrying cannot help)."""


def document_of(data: Any) -> str:
    """The sale as finance refers to it (the voucher's order_id): `pos:<shop>:<sale uid>`."""
    return f"pos:{data.shop_id}:{data.sale_uid}"


def voucher_id_of(document: str, kind: VoucherKind) -> UUID:
    """Derived from the sale, not the event: the same sale published twice still posts one voucher."""
    return uuid5(_NS, f"{document}:{kind.value}")


def book(data: Any, source: Source, now: datetime) -> Voucher | None:
    """The voucher of a store sale (or, for a return, its reversal); None for a sale of 0."""
    kind = (
        VoucherKind.STORE_RETURN
        if source.event_type == "channel.store-return.recorded"
        else VoucherKind.STORE_SALE
    )
    total, tax, change = data.total_cents, data.tax_cents, data.change_cents
    if not 0 <= tax <= total:
        raise UnbookableStoreSale(f"{document_of(data)}: VAT {tax} is not within the total {total}")
    tenders: dict[str, int] = defaultdict(int)
    for p in data.payments:
        if p.method not in TENDER_ACCOUNTS:
            raise UnbookableStoreSale(f"{document_of(data)}: tender {p.method!r} has no account")
        tenders[TENDER_ACCOUNTS[p.method]] += p.amount_cents
    tenders[CASH] -= change
    if sum(tenders.values()) != total:
        raise UnbookableStoreSale(
            f"{document_of(data)}: the tenders ({sum(tenders.values()) + change}) less the change ({change}) "
            f"are not the total ({total})"
        )
    if total == 0:
        return None
    income = [Line.cr(SALES_REVENUE, total - tax)] + ([Line.cr(VAT_OUTPUT, tax)] if tax else [])
    money = [Line.dr(a, c) if c > 0 else Line.cr(a, -c) for a, c in sorted(tenders.items()) if c]
    lines = money + income if kind is VoucherKind.STORE_SALE else [x.reversed() for x in income + money]
    what = "till return" if kind is VoucherKind.STORE_RETURN else "store sale"
    document = document_of(data)
    return Voucher(
        voucher_id=voucher_id_of(document, kind),
        kind=kind,
        order_id=document,
        source_event_id=source.event_id,
        source_event_type=source.event_type,
        summary=f"{what} {data.sale_uid} at {data.node_code} (pos shop {data.shop_id})",
        currency=data.currency,
        posted_at=now,
        lines=tuple(lines),
    )
