"""Intake caps: how much of a channel payload the adapters accept. Pure.

A trade is one `channel.order.received` event, and an event must stay well below what the broker accepts
(`OMNI_MAX_EVENT_BYTES`, about 1 MB; an event over it is refused when staged, with a 413). These caps keep
every accepted trade far below that and refuse the rest at intake with a 422 that lists every problem:

- at most `MAX_LINES` (200) lines (orders) per trade: a Tmall trade rarely has more than a few dozen;
- free-text fields at most `TEXT_LIMITS[field]` characters (after trimming), generous against what the
  platforms themselves allow (a Taobao title is at most 60 characters, a buyer message 500).

Messages name the field and the lengths, never the value (it may be a buyer's address or phone).
"""

from __future__ import annotations

MAX_LINES = 200

TEXT_LIMITS: dict[str, int] = {
    # the trade
    "buyer_message": 1000,
    "buyer_open_uid": 128,
    "receiver_name": 100,
    "receiver_mobile": 40,
    "receiver_phone": 40,
    "receiver_country": 60,
    "receiver_state": 60,
    "receiver_city": 60,
    "receiver_district": 60,
    "receiver_town": 60,
    "receiver_address": 500,
    "receiver_zip": 20,
    "invoice_name": 200,
    "invoice_type": 60,
    "buyer_tax_no": 40,
    "rt_omni_outer_store_id": 64,
    "rt_omni_store_id": 64,
    "o2o_shop_id": 64,
    # each line (order)
    "title": 200,
    "sku_id": 64,
    "outer_sku_id": 128,
    "outer_iid": 128,
}


def too_long(field: str, value: str) -> str | None:
    """The problem with `value` as `field` (None when it fits)."""
    limit = TEXT_LIMITS[field]
    if len(value) > limit:
        return f"too long: {len(value)} characters, at most {limit}"
    return None


def too_many_lines(count: int) -> str | None:
    if count > MAX_LINES:
        return f"too many lines: {count}, at most {MAX_LINES} per trade"
    return None
