"""The order's rows and events, built from a channel order and its intake plan (and back again).

Shared by intake and the operator's retry: what is stored for an order, and the order.accepted it emits.
The receiver's name, phone and address detail are stored sealed (domain/buyer_data.py, docs/buyer-data.md)
under the process's key ring (`use_buyer_keys`, set by app.build from ORDER_BUYER_DATA_KEYS), with masks for
display; `ship_to` and `trade_from_rows` open them (fulfillment ships to the full address).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omni_contracts.events.channel import ChannelOrderReceivedV1
from omni_contracts.events.order import (
    OrderAcceptedV1,
    OrderLine,
    OrderRoles,
    OrderSource,
    Partner,
    RouteHint,
    ShipTo,
)

from ..domain import buyer_data
from ..domain.buyer_data import BuyerDataError, KeyRing
from ..domain.geo import locate
from ..domain.intake import IntakePlan, roles_for
from ..domain.status import Status

_keys: KeyRing | None = None


def use_buyer_keys(ring: KeyRing | None) -> None:
    """The key ring this process seals and opens receivers with (app.build; tests). None: none."""
    global _keys
    _keys = ring


def buyer_keys() -> KeyRing:
    if _keys is None:
        raise BuyerDataError(
            f"no buyer data key ring in this process: the order service sets it at start from "
            f"{buyer_data.KEYS_ENV} (records.use_buyer_keys)"
        )
    return _keys


def sealed_receiver(order_id: str, name: str, phone: str, detail: str) -> dict[str, str]:
    """The receiver columns to store: sealed name, phone and detail, and their masks."""
    values = {buyer_data.NAME: name, buyer_data.PHONE: phone, buyer_data.DETAIL: detail}
    return buyer_data.protect(buyer_keys(), order_id, values)


def receiver(row: dict[str, Any]) -> dict[str, str]:
    """{column: value} of a stored order row's receiver, opened (a platform mask stays a mask)."""
    ring = buyer_keys()
    return {c: ring.open(row[c], order_id=row["order_id"], column=c) for c in buyer_data.FIELDS}


def masked_receiver(row: dict[str, Any]) -> dict[str, str]:
    """{column: mask} of a stored order row's receiver (order0010 backfilled every row's masks; a row
    without them is opened and masked)."""
    masks = {c: row.get(f"{c}_masked") for c in buyer_data.FIELDS}
    if any(m is None for m in masks.values()):
        opened = receiver(row)
        return {c: m if m is not None else buyer_data.MASKS[c](opened[c]) for c, m in masks.items()}
    return masks  # type: ignore[return-value]  # none is None here


def receiver_moved(row: dict[str, Any], to_order_id: str) -> dict[str, str]:
    """The receiver columns of `row` bound to another order (a reship's new order): sealed for it."""
    ring = buyer_keys()
    return {
        c: ring.reseal(row[c], order_id=row["order_id"], column=c, to_order_id=to_order_id)
        for c in buyer_data.FIELDS
    }


ROLES = ("owner", "seller", "channel", "fulfiller", "platform")


def line_id(order_id: str, position: int) -> str:
    return f"{order_id}-{position:03d}"


def order_row(order_id: str, d: ChannelOrderReceivedV1, plan: IntakePlan, now: datetime) -> dict[str, Any]:
    roles = roles_for(d)
    r = d.receiver
    geo = locate(r.state, r.city, r.district)
    inv = d.invoice
    return {
        "order_id": order_id,
        "channel": d.channel,
        "shop_id": d.shop_id,
        "channel_order_id": d.channel_order_id,
        "channel_status": d.channel_status,
        "business_model": d.business_model,
        "buyer_id": d.buyer_id,
        "role_owner": roles.owner,
        "role_seller": roles.seller,
        "role_channel": roles.channel,
        "role_fulfiller": roles.fulfiller,
        "role_platform": roles.platform,
        "buyer_message": d.buyer_message,
        "created_at": d.created_at,
        "paid_at": d.paid_at,
        "received_at": d.received_at,
        "recorded_at": now,
        "duplicate_deliveries": 0,
        "last_duplicate_at": None,
        "status": Status.RECEIVED.value,
        "status_reason_code": None,
        "status_reason": None,
        "updated_at": now,
        "completed_at": None,
        "cancelled_at": None,
        "delivery": d.delivery,
        "pickup_node": d.pickup_node,
        "payment": "paid",  # service/credit.py sets on_account, its account and due date
        "due_at": None,
        "credit_account": None,
        **sealed_receiver(order_id, r.name, r.phone, r.detail),
        "country": r.country,
        "state": r.state,
        "city": r.city,
        "district": r.district,
        "town": r.town,
        "zip": r.zip,
        "lat": geo.lat if geo else None,
        "lng": geo.lng if geo else None,
        "geo_level": geo.level if geo else None,  # null: not located (docs/geo.md)
        "geo_adcode": geo.adcode if geo else None,
        "currency": d.currency,
        "goods_cents": d.goods_cents,
        "discount_cents": d.discount_cents,
        "post_fee_cents": d.post_fee_cents,
        "paid_cents": d.paid_cents,
        "goods_paid_cents": plan.goods_paid_cents,
        "invoice_kind": inv.kind if inv else None,
        "invoice_title": inv.title if inv else None,
        "invoice_tax_id": inv.tax_id if inv else None,
        "platform_receiver": platform_receiver(d),
    }


def platform_receiver(d: ChannelOrderReceivedV1) -> dict[str, str] | None:
    """The platform's ciphertexts of the receiver, as it sent them (opaque: only the platform decrypts them,
    e.g. for a waybill), or None when it sent none."""
    pr = getattr(d, "protected_receiver", None)
    if pr is None:
        return None
    kept = {k: getattr(pr, k) for k in ("name_cipher", "phone_cipher", "address_cipher", "merge_key_kind")}
    return {k: v for k, v in kept.items() if v} or None


def channel_line_rows(order_id: str, d: ChannelOrderReceivedV1, plan: IntakePlan) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "position": m.position,
            "channel_line_id": line.channel_line_id,
            "channel_item_id": line.channel_item_id,
            "channel_sku_id": line.channel_sku_id,
            "outer_sku_id": line.outer_sku_id,
            "outer_iid": line.outer_iid,
            "title": line.title,
            "qty": line.qty,
            "unit_price_cents": line.unit_price_cents,
            "discount_cents": line.discount_cents,
            "paid_cents": line.paid_cents,
            "listing_id": m.listing_id,
            "sales_product_code": m.sales_product_code,
        }
        for line, m in zip(d.lines, plan.matches, strict=True)
    ]


def ship_to(row: dict[str, Any]) -> ShipTo:
    """Where to ship: the receiver opened (fulfillment needs the full name, phone and address)."""
    r = receiver(row)
    return ShipTo(
        name=r[buyer_data.NAME],
        phone=r[buyer_data.PHONE],
        state=row["state"],
        city=row["city"],
        district=row["district"],
        detail=f"{row['town']}{r[buyer_data.DETAIL]}",
        lat=row["lat"],
        lng=row["lng"],
    )


def material_line_rows(order_id: str, plan: IntakePlan) -> list[dict[str, Any]]:
    return [
        {"line_id": line_id(order_id, pl.position), "order_id": order_id, "position": pl.position,
         "channel_line_id": pl.channel_line_id, "sales_product_code": pl.sales_product_code,
         "material_code": pl.material_code, "qty": pl.qty, "amount_cents": pl.amount_cents, "gift_id": None}
        for pl in plan.lines
    ]  # fmt: skip


def accepted_event(row: dict[str, Any], lines: list[dict[str, Any]]) -> OrderAcceptedV1:
    """order.accepted from the stored order row and its material line rows."""
    return OrderAcceptedV1(
        order_id=row["order_id"],
        channel=row["channel"],
        shop_id=row["shop_id"],
        channel_order_id=row["channel_order_id"],
        business_model=row["business_model"],
        delivery=row["delivery"],
        pickup_node=row["pickup_node"],
        ship_to=ship_to(row),
        lines=[OrderLine.model_validate(x) for x in lines],
        goods_paid_cents=row["goods_paid_cents"],
        post_fee_cents=row["post_fee_cents"],
        paid_cents=row["paid_cents"],
        currency=row["currency"],
        paid_at=row["paid_at"],
        priority=row.get("priority") or 0,
        tags=list(row.get("tags") or []),
        route_hints=[RouteHint.model_validate(h) for h in row.get("route_hints") or []],
        roles=OrderRoles(
            **{r: row[f"role_{r}"] for r in ("owner", "seller", "channel", "fulfiller", "platform")}
        ),
        partners=[Partner.model_validate(x) for x in row.get("partners") or []],
        sources=[OrderSource.model_validate(x) for x in row.get("merge_sources") or []],
        payment=row.get("payment") or "paid",
        due_at=row.get("due_at"),
        credit_account=row.get("credit_account"),
    )


def trade_from_rows(o: dict[str, Any], channel_lines: list[dict[str, Any]]) -> ChannelOrderReceivedV1:
    """The channel order as it was received, rebuilt from what was stored (the receiver opened)."""
    r = receiver(o)
    return ChannelOrderReceivedV1.model_validate(
        {k: o[k] for k in (
            "channel", "shop_id", "channel_order_id", "channel_status", "business_model", "delivery",
            "pickup_node", "buyer_id", "goods_cents", "discount_cents", "post_fee_cents", "paid_cents",
            "currency", "created_at", "paid_at", "received_at", "buyer_message",
        )}
        | {
            "receiver": {
                "name": r[buyer_data.NAME], "phone": r[buyer_data.PHONE], "country": o["country"],
                "state": o["state"], "city": o["city"], "district": o["district"], "town": o["town"],
                "detail": r[buyer_data.DETAIL], "zip": o["zip"],
            },
            "lines": channel_lines,
        }
    )  # fmt: skip
