"""The order view: an order as the API presents it, in its six dimensions (trade, goods, stock,
logistics, money, invoice), plus its history. Pure: rows in, a dict shaped like `api.OrderDetail` out.

Who sees the receiver's name, phone and address detail in full (docs/buyer-data.md): `admin`, and a store's
staff for a pickup order at their own store (`X-Omni-Node-Scope` = its pickup node). Everyone else
(operations, finance, a caller without a role) sees the masks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from .domain import buyer_data
from .service import OrderRecord
from .service.records import masked_receiver, receiver


class MergeSourceOut(BaseModel):
    order_id: str
    shop_id: str
    channel_order_id: str
    goods_paid_cents: int
    post_fee_cents: int
    paid_cents: int
    paid_at: datetime | None


class MergeOut(BaseModel):
    """Merge (合单): a merged order's sources (its platform orders), or the order a source is merged into."""

    kind: Literal["order", "merged"]
    merged_into: str | None
    sources: list[MergeSourceOut]


FULL_VIEW_ROLE = "admin"
STORE_STAFF = "store_staff"


@dataclass(frozen=True)
class Viewer:
    """The caller, as the gateway names it (X-Omni-Role, X-Omni-Node-Scope); nothing: masked."""

    role: str | None = None
    node_scope: str | None = None


def sees_receiver_in_full(viewer: Viewer, o: dict[str, Any]) -> bool:
    if viewer.role == FULL_VIEW_ROLE:
        return True
    return (
        viewer.role == STORE_STAFF
        and bool(viewer.node_scope)
        and o["delivery"] == "store_pickup"
        and o["pickup_node"] == viewer.node_scope
    )


def visible_to(viewer: Viewer, o: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> bool:
    """A store's staff see only their store's orders: a pickup there, or goods allocated to it. Everyone
    else the gateway lets read orders sees every order."""
    if viewer.role != STORE_STAFF:
        return True
    scope = viewer.node_scope
    at_store = any(a["node_code"] == scope for a in children.get("allocations", []))
    return bool(scope) and (o["pickup_node"] == scope or at_store)


def receiver_view(o: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """name, phone, detail as this viewer may see them, and `masked`: whether they are masks (the viewer's
    view, or all the platform sent)."""
    full = sees_receiver_in_full(viewer, o)
    r = receiver(o) if full else masked_receiver(o)
    masked = not full or any(buyer_data.kind(o[c]) == "masked" for c in buyer_data.FIELDS)
    return {
        "name": r[buyer_data.NAME],
        "phone": r[buyer_data.PHONE],
        "detail": r[buyer_data.DETAIL],
        "masked": masked,
    }


def present(record: OrderRecord, viewer: Viewer = Viewer()) -> dict[str, Any]:
    return order_view(record.order, record.children, viewer)


def order_view(
    o: dict[str, Any], children: dict[str, list[dict[str, Any]]], viewer: Viewer = Viewer()
) -> dict[str, Any]:
    """The order in its six dimensions (trade, goods, stock, logistics, money, invoice), plus its history;
    the receiver masked unless `viewer` may see it in full."""
    allocations: dict[str, list[dict[str, Any]]] = {}
    for a in children["allocations"]:
        allocations.setdefault(a["line_id"], []).append(
            {
                "node_code": a["node_code"],
                "qty": a["qty"],
                "task_id": a["task_id"],
                "reservation_id": a["reservation_id"],
            }
        )
    shipped: dict[str, int] = {}
    for x in children.get("shipment_lines", []):
        shipped[x["line_id"]] = shipped.get(x["line_id"], 0) + x["qty"]
    keys = ("line_id", "channel_line_id", "sales_product_code", "material_code", "qty", "amount_cents")
    lines = [
        {k: x[k] for k in keys}
        | {k: x.get(k) for k in ("gift_id", "source_order_id", "source_line_id", "group")}
        | {"ships": x.get("ships", True)}
        for x in children["lines"]
    ]
    return {
        "order_id": o["order_id"],
        "status": o["status"],
        "status_reason_code": o["status_reason_code"],
        "status_reason": o["status_reason"],
        "trade": {
            k: o[k]
            for k in (
                "channel", "shop_id", "channel_order_id", "channel_status", "business_model", "buyer_id",
                "buyer_message", "created_at", "paid_at", "received_at", "recorded_at", "updated_at",
                "completed_at", "cancelled_at", "duplicate_deliveries", "last_duplicate_at",
            )
        }
        | {"roles": {r: o[f"role_{r}"] for r in ("owner", "seller", "channel", "fulfiller", "platform")}
           | {"partners": o.get("partners") or []}},
        "goods": {
            "channel_lines": [_without_order_id(x) for x in children["channel_lines"]],
            "lines": lines,
        },
        "stock": {
            "lines": [
                {
                    "line_id": x["line_id"],
                    "material_code": x["material_code"],
                    "qty": x["qty"],
                    "allocations": allocations.get(x["line_id"], []),
                    "shipped_qty": shipped.get(x["line_id"], 0),
                }
                for x in lines
            ]
        },
        "logistics": {
            "delivery": o["delivery"],
            "pickup_node": o["pickup_node"],
            "address": {
                "country": o["country"], "state": o["state"], "city": o["city"], "district": o["district"],
                "town": o["town"], "zip": o["zip"],
            } | receiver_view(o, viewer),
            "geo": {"lat": o["lat"], "lng": o["lng"]} if o["lat"] is not None else None,
            "shipments": [_without_order_id(x) for x in children["shipments"]],
        },
        "money": {
            "currency": o["currency"],
            "goods_cents": o["goods_cents"],
            "discount_cents": o["discount_cents"],
            "post_fee_cents": o["post_fee_cents"],
            "paid_cents": o["paid_cents"],
            "goods_paid_cents": o["goods_paid_cents"],
            "allocation": [{"line_id": x["line_id"], "amount_cents": x["amount_cents"]} for x in lines],
        },
        "invoice": (
            {"kind": o["invoice_kind"], "title": o["invoice_title"], "tax_id": o["invoice_tax_id"]}
            if o["invoice_kind"]
            else None
        ),
        "history": [
            {k: h[k] for k in ("from_status", "to_status", "reason_code", "reason", "source", "at")}
            for h in children["history"]
        ],
        "writeback_problems": [
            {k: p[k] for k in ("writeback_id", "channel", "carrier", "company_code", "tracking_no", "reason",
                               "refused_at")}
            for p in children.get("writeback_problems", [])
        ],
        "merge": {"kind": o.get("kind") or "order", "merged_into": o.get("merged_into"),
                  "sources": o.get("merge_sources") or []},
    }  # fmt: skip


def _without_order_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "order_id"}
