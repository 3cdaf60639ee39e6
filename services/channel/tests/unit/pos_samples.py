"""Odoo POS orders as `create_from_ui` receives them: the reference example (docs: reference/channels/pos.md,
Odoo 16, a 100 yuan pos_discount line), its Odoo 12 form, and a till return of part of it."""

from __future__ import annotations

import copy
from typing import Any

SET_NAME = "[SET-COFFEE-PRO] 示例意式咖啡机套装 专业版"
BEAN_NAME = "[BEAN-ETH-500] 示例埃塞俄比亚咖啡豆 500g"

V16: dict[str, Any] = {
    "id": "00012-003-0045",
    "to_invoice": False,
    "data": {
        "name": "Order 00012-003-0045",
        "uid": "00012-003-0045",
        "sequence_number": 45,
        "pos_session_id": 12,
        "user_id": 7,
        "partner_id": False,
        "pricelist_id": 1,
        "fiscal_position_id": False,
        "date_order": "2025-06-12 02:15:30",
        "amount_total": 3296.0,
        "amount_tax": 379.19,
        "amount_paid": 3296.0,
        "amount_return": 0.0,
        "to_invoice": False,
        "is_tipped": False,
        "tip_amount": 0,
        "lines": [
            [
                0,
                0,
                {
                    "id": 1,
                    "product_id": 501,
                    "full_product_name": SET_NAME,
                    "qty": 1,
                    "price_unit": 3099.0,
                    "discount": 0,
                    "price_subtotal": 2742.48,
                    "price_subtotal_incl": 3099.0,
                    "tax_ids": [[6, False, [3]]],
                    "pack_lot_ids": [],
                },
            ],
            [
                0,
                0,
                {
                    "id": 2,
                    "product_id": 502,
                    "full_product_name": BEAN_NAME,
                    "qty": 3,
                    "price_unit": 99.0,
                    "discount": 0,
                    "price_subtotal": 262.83,
                    "price_subtotal_incl": 297.0,
                    "tax_ids": [[6, False, [3]]],
                    "pack_lot_ids": [],
                },
            ],
            [
                0,
                0,
                {
                    "id": 3,
                    "product_id": 900,
                    "full_product_name": "Discount",
                    "qty": 1,
                    "price_unit": -100.0,
                    "discount": 0,
                    "price_subtotal": -88.50,
                    "price_subtotal_incl": -100.0,
                    "tax_ids": [[6, False, [3]]],
                    "pack_lot_ids": [],
                },
            ],
        ],
        "statement_ids": [
            [
                0,
                0,
                {
                    "name": "2025-06-12 02:16:02",
                    "payment_method_id": 2,
                    "amount": 3296.0,
                    "payment_status": "done",
                    "transaction_id": "4200002614202506121234567890",
                },
            ],
        ],
    },
}


def v12() -> dict[str, Any]:
    """The same sale as Odoo 12 sends it: creation_date, no full_product_name, tenders by journal_id, and a
    cash tender of 3300 with 4 yuan change."""
    o = copy.deepcopy(V16)
    d = o["data"]
    d["creation_date"] = d.pop("date_order").replace(" ", "T") + ".000Z"
    for _, _, line in d["lines"]:
        line.pop("full_product_name")
    d["amount_return"] = 4.0
    d["statement_ids"] = [
        [
            0,
            0,
            {
                "name": "2025-06-12 02:16:02",
                "statement_id": 31,
                "account_id": 9,
                "journal_id": 5,
                "amount": 3300.0,
            },
        ]
    ]
    return o


def till_return() -> dict[str, Any]:
    """Odoo 16 refund of 2 of the 3 bags of beans (the discount share is not refunded here)."""
    return {
        "id": "00012-004-0002",
        "to_invoice": False,
        "data": {
            "name": "Order 00012-004-0002 REFUND",
            "uid": "00012-004-0002",
            "pos_session_id": 12,
            "date_order": "2025-06-13 09:00:00",
            "amount_total": -198.0,
            "amount_tax": -22.78,
            "amount_paid": -198.0,
            "amount_return": 0.0,
            "lines": [
                [
                    0,
                    0,
                    {
                        "id": 1,
                        "product_id": 502,
                        "full_product_name": BEAN_NAME,
                        "qty": -2,
                        "price_unit": 99.0,
                        "discount": 0,
                        "price_subtotal": -175.22,
                        "price_subtotal_incl": -198.0,
                        "refunded_orderline_id": 4411,
                    },
                ],
            ],
            "statement_ids": [
                [0, 0, {"name": "2025-06-13 09:00:10", "payment_method_id": 2, "amount": -198.0}]
            ],
        },
    }
