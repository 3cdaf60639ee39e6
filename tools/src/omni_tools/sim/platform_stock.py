"""What the simulated JD, Pinduoduo, Douyin, Xiaohongshu and Youzan do with a stock update or a shipment
write-back, whatever their wire format (platform_apis.py): set a SKU's stock (full), read it, record a
shipment. Refusals are `Refused` with a kind the platform's module turns into its own error code:

- `item`: no such item, SKU or seller code in the shop (or the item is deleted);
- `closed`: the order is closed (`POST /_sim/{platform}/trades/{id}/close`): no shipment;
- `shipped`: the order already shipped, whole, under another tracking number;
- `carrier`: a company code the platform does not know (the values of Omni's carrier map for it, and
  `OTHER`);
- `argument`: a missing or malformed parameter.

The same shipment sent again succeeds (a retry after a timeout whose first call got through). A parcel of
some lines (a split shipment) is kept beside the others, keyed by its tracking number.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from omni_channel.domain.signing import format_china_time
from omni_channel.platforms import carriers

from .state import Item, Platform


class Refused(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@cache
def company_codes(platform: str) -> frozenset[str]:
    return frozenset(carriers.load().platforms.get(platform, {}).values()) | {"OTHER"}


def whole_number(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise Refused("argument", f"{name} must be a whole number, got {str(value)[:40]!r}")


def find_sku(
    platform: Platform, shop_id: str, item_id: int | None, sku: str | None
) -> tuple[Item, int | None]:
    """The item and SKU a call names: by item id (and a sku id or seller code), or by sku id alone (JD,
    Xiaohongshu address a SKU without its item)."""
    items = [platform.items[item_id]] if item_id in platform.items else []
    if item_id is None:
        items = list(platform.items.values())
    for item in items:
        if item.shop_id != shop_id or item.approve_status == "deleted":
            continue
        if sku is None:
            if item_id is not None:
                return item, None
            continue
        if sku.isdigit() and int(sku) in item.skus:
            return item, int(sku)
        for k, s in item.skus.items():
            if s["outer_id"] == sku:
                return item, k
    raise Refused("item", f"no item {item_id if item_id is not None else ''} sku {sku} in shop {shop_id}")


def set_stock(platform: Platform, shop_id: str, item_id: int | None, sku: str | None, qty: Any,
              now: datetime) -> Item:  # fmt: skip
    quantity = whole_number(qty, "quantity")
    if quantity < 0:
        raise Refused("argument", f"a full stock update is never negative, got {quantity}")
    item, sku_id = find_sku(platform, shop_id, item_id, sku)
    modified = format_china_time(now)
    if sku_id is None:
        if item.skus:
            raise Refused("argument", f"item {item.num_iid} has SKUs: name one")
        item.quantity = quantity
    else:
        item.skus[sku_id].update(quantity=quantity, modified=modified)
    item.modified = modified
    return item


def stock_of(platform: Platform, shop_id: str, item_id: int | None, sku: str | None) -> int:
    item, sku_id = find_sku(platform, shop_id, item_id, sku)
    return item.total() if sku_id is None else int(item.skus[sku_id]["quantity"])


def ship(platform: Platform, shop_id: str, order_id: str, company_code: str, tracking_no: str,
         lines: list[Any] | None, now: datetime) -> dict[str, Any]:  # fmt: skip
    """Record a shipment (the whole order, or a parcel of `lines`)."""
    if not order_id or not tracking_no or not company_code:
        raise Refused("argument", "the order id, the tracking number and the company code are required")
    if company_code not in company_codes(platform.name):
        raise Refused("carrier", f"unknown logistics company {company_code!r}")
    if order_id in platform.closed_trades:
        raise Refused("closed", f"order {order_id} is closed: it cannot ship")
    whole = platform.shipments.get(order_id)
    if whole is not None and (whole["out_sid"], whole["company_code"]) != (tracking_no, company_code):
        raise Refused("shipped", f"order {order_id} already shipped under another tracking number")
    key = order_id if not lines else f"{order_id}#{tracking_no}"
    held = platform.shipments.get(key)
    if held is not None:
        held["sends"] += 1
        return held
    platform.shipments[key] = held = {
        "tid": order_id, "shop_id": shop_id, "out_sid": tracking_no, "company_code": company_code,
        "is_split": "1" if lines else "0", "lines": lines or None, "status": "shipped",
        "consign_time": format_china_time(now), "sends": 1,
    }  # fmt: skip
    return held
