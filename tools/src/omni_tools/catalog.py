"""The demo catalog, nodes, stock and shop (the seed's coffee set), shared by `make up`, demo, bench, e2e.

Each material carries the facts the OMS rules decide on (category, tags, handling, VAT rate in basis points;
PIM's defaults when absent: uncategorised, no tags, normal, 1300)."""

from __future__ import annotations

SHOP = {
    "channel": "tmall",
    "shop_id": "TM-OMNI-FLAGSHIP",
    "name": "Omni咖啡天猫旗舰店",
    "app_key": "12345678",
    "secret": "dev-tmall-secret-change-me",
}

MATERIALS = [
    {
        "code": "BEAN-YN-250",
        "name": "云南保山咖啡豆 250g",
        "barcode": "6900000000011",
        "unit": "bag",
        "weight_g": 260,
        "category": "food/coffee/beans",
        "tags": ["single_origin"],
    },
    {
        "code": "BEAN-ETH-250",
        "name": "埃塞俄比亚耶加雪菲咖啡豆 250g",
        "barcode": "6900000000028",
        "unit": "bag",
        "weight_g": 260,
        "category": "food/coffee/beans",
        "tags": ["single_origin"],
    },
    {
        "code": "BEAN-COL-250",
        "name": "哥伦比亚慧兰咖啡豆 250g",
        "barcode": "6900000000035",
        "unit": "bag",
        "weight_g": 260,
        "category": "food/coffee/beans",
        "tags": ["single_origin"],
    },
    {
        "code": "MACHINE-AUTO-01",
        "name": "全自动咖啡机 尊享版",
        "barcode": "6900000000042",
        "unit": "pcs",
        "weight_g": 9800,
        "high_value": True,
        "category": "appliance/coffee/machine",
        "tags": ["fragile"],
    },
    {
        "code": "BEAN-ETH-500",
        "name": "埃塞俄比亚咖啡豆 500g",
        "barcode": "6900000000059",
        "unit": "bag",
        "weight_g": 510,
        "category": "food/coffee/beans",
        "tags": ["new", "single_origin"],
    },
    # Not sold on the demo shop yet: they show the handling classes the OMS rules split and complete by.
    {
        "code": "COLD-BREW-1L",
        "name": "冷萃咖啡液 1L（冷链）",
        "barcode": "6900000000066",
        "unit": "bottle",
        "weight_g": 1100,
        "category": "food/coffee/cold_brew",
        "tags": ["new"],
        "handling": "cold_chain",
    },
    {
        "code": "VOUCHER-CLASS",
        "name": "手冲咖啡体验课 电子券",
        "unit": "pcs",
        "weight_g": 0,
        "category": "service/coffee/class",
        "tags": ["gift"],
        "handling": "virtual",
        "tax_rate_bp": 600,
    },
]

SALES_PRODUCTS = [
    {
        "code": "SET-COFFEE-PRO",
        "name": "3产地咖啡豆x全自动咖啡机尊享全能套装",
        "kind": "bundle",
        "components": [
            {"material_code": "BEAN-YN-250", "qty": 1, "price_weight": 1},
            {"material_code": "BEAN-ETH-250", "qty": 1, "price_weight": 1},
            {"material_code": "BEAN-COL-250", "qty": 1, "price_weight": 1},
            {"material_code": "MACHINE-AUTO-01", "qty": 1, "price_weight": 28},
        ],
    },
    {
        "code": "BEAN-ETH-500",
        "name": "埃塞俄比亚咖啡豆 500g",
        "kind": "single",
        "components": [{"material_code": "BEAN-ETH-500", "qty": 1, "price_weight": 1}],
    },
]

# Tmall listings: num_iid / sku_id as the platform gives them (19-digit ids are strings).
LISTINGS = [
    {
        "listing_id": "L-TM-SET-COFFEE-PRO",
        "channel": "tmall",
        "shop_id": SHOP["shop_id"],
        "channel_item_id": "660000000001",
        "channel_sku_id": "5100000000001",
        "outer_id": "SET-COFFEE-PRO",
        "sales_product_code": "SET-COFFEE-PRO",
        "price_cents": 309_900,
    },
    {
        "listing_id": "L-TM-BEAN-ETH-500",
        "channel": "tmall",
        "shop_id": SHOP["shop_id"],
        "channel_item_id": "660000000002",
        "channel_sku_id": "5100000000002",
        "outer_id": "BEAN-ETH-500",
        "sales_product_code": "BEAN-ETH-500",
        "price_cents": 9_900,
    },
]

NODES = [
    {
        "code": "WH-HZ",
        "name": "杭州中心仓",
        "type": "warehouse",
        "city": "杭州",
        "lat": 30.274,
        "lng": 120.155,
        "priority": 10,
    },
    {
        "code": "WH-BJ",
        "name": "北京北方仓",
        "type": "warehouse",
        "city": "北京",
        "lat": 39.904,
        "lng": 116.407,
        "priority": 5,
    },
    {
        "code": "STORE-SH-01",
        "name": "上海静安门店",
        "type": "store",
        "city": "上海",
        "lat": 31.229,
        "lng": 121.455,
        "priority": 1,
    },
]

# (node, material, qty) received once (receipt ids make it idempotent)
STOCK = [
    ("WH-HZ", "BEAN-YN-250", 5000),
    ("WH-HZ", "BEAN-ETH-250", 5000),
    ("WH-HZ", "BEAN-COL-250", 5000),
    ("WH-HZ", "MACHINE-AUTO-01", 2000),
    ("WH-HZ", "BEAN-ETH-500", 20000),
    ("WH-BJ", "BEAN-YN-250", 500),
    ("WH-BJ", "BEAN-ETH-250", 500),
    ("WH-BJ", "BEAN-COL-250", 500),
    ("WH-BJ", "MACHINE-AUTO-01", 100),
    ("WH-BJ", "BEAN-ETH-500", 3000),
    ("STORE-SH-01", "BEAN-ETH-500", 40),
    ("STORE-SH-01", "MACHINE-AUTO-01", 2),
]

# The shop's TOP session token (授权 sessionKey): the channel pushes stock with it, and the local platform
# simulator (`make up` starts it) is told the same one, with the shop's app_key and secret.
SESSION_KEY = "dev-tmall-session-change-me"
