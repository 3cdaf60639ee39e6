"""Reading back what Taobao/Tmall shows for an item (`taobao.item.seller.get`), for the drift check. Pure.

One call per item (`num_iid`) answers the item's own number and every SKU's, so the check reads each item
once for all of its listings (docs/platforms/taobao.md, "Drift").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .push_status import Listing
from .signing import format_china_time, sign_tmall
from .stock_push import Answer, Credentials, Outcome, StockTarget, read_answer

METHOD = "taobao.item.seller.get"
FIELDS = "num_iid,num,approve_status,sku"


@dataclass(frozen=True)
class ItemShown:
    """An item as the platform shows it: its total, and each SKU's quantity by id and by seller code."""

    num_iid: int
    num: int | None
    by_sku_id: dict[int, int] = field(default_factory=dict)
    by_outer_id: dict[str, int] = field(default_factory=dict)
    approve_status: str | None = None

    def quantity_of(self, target: StockTarget) -> int | None:
        if target.sku_id is not None:
            return self.by_sku_id.get(target.sku_id)
        if target.outer_id:
            return self.by_outer_id.get(target.outer_id)
        return self.num


def target_of(listing: Listing) -> StockTarget | str:
    """Where a listing's quantity lives on Taobao/Tmall, or why it cannot be addressed there."""
    if not listing.channel_item_id.isdigit():
        return f"channel_item_id {listing.channel_item_id!r} is not a Taobao num_iid (digits)"
    sku = listing.channel_sku_id
    if sku is None or sku == "":
        return StockTarget(int(listing.channel_item_id))
    if sku.isdigit():
        return StockTarget(int(listing.channel_item_id), sku_id=int(sku))
    return StockTarget(int(listing.channel_item_id), outer_id=sku)


def request_params(
    num_iid: int, creds: Credentials, now: datetime, sign_method: str = "hmac-sha256"
) -> dict[str, str]:
    params = {
        "method": METHOD,
        "app_key": creds.app_key,
        "session": creds.session,
        "timestamp": format_china_time(now),
        "format": "json",
        "v": "2.0",
        "sign_method": sign_method,
        "num_iid": str(num_iid),
        "fields": FIELDS,
    }
    params["sign"] = sign_tmall(params, b"", creds.secret, sign_method)
    return params


def read_item(status: int, body: Any) -> ItemShown | Answer:
    """The item the platform shows, or (an error) what the answer means, as for a push."""
    if status == 200 and isinstance(body, dict) and "item_seller_get_response" in body:
        item = (body.get("item_seller_get_response") or {}).get("item")
        if isinstance(item, dict) and isinstance(item.get("num_iid"), int):
            skus = (item.get("skus") or {}).get("sku") or []
            by_id: dict[int, int] = {}
            by_outer: dict[str, int] = {}
            for s in skus:
                if isinstance(s, dict) and isinstance(s.get("quantity"), int):
                    if isinstance(s.get("sku_id"), int):
                        by_id[s["sku_id"]] = s["quantity"]
                    if isinstance(s.get("outer_id"), str) and s["outer_id"]:
                        by_outer[s["outer_id"]] = s["quantity"]
            num = item.get("num")
            return ItemShown(
                item["num_iid"],
                num if isinstance(num, int) else None,
                by_id,
                by_outer,
                item.get("approve_status"),
            )
        return Answer(Outcome.RETRY, "the platform's item answer has no item")
    answer = read_answer(status, body)
    if answer.outcome is Outcome.ACKNOWLEDGED:  # not an item answer at all
        return Answer(Outcome.RETRY, "the platform answered something other than the item")
    return answer
