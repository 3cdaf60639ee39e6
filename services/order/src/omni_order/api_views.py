"""The order view: an order as the API presents it, in its six dimensions (trade, goods, stock,
logistics, money, invoice), plus its history. Pure: rows in, a dict shaped like `api.OrderDetail` out."""

from __future__ import annotations

from typing import Any

from .service import OrderRecord


def present(record: OrderRecord) -> dict[str, Any]:
    return order_view(record.order, record.children)


def order_view(o: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The order in its six dimensions (trade, goods, stock, logistics, money, invoice), plus its history."""
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
    lines = [{k: x[k] for k in keys} | {"gift_id": x.get("gift_id")} for x in children["lines"]]
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
        | {"roles": {r: o[f"role_{r}"] for r in ("owner", "seller", "channel", "fulfiller", "platform")}},
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
                "name": o["receiver_name"], "phone": o["receiver_phone"], "country": o["country"],
                "state": o["state"], "city": o["city"], "district": o["district"], "town": o["town"],
                "detail": o["address_detail"], "zip": o["zip"],
            },
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
    }  # fmt: skip


def _without_order_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "order_id"}
