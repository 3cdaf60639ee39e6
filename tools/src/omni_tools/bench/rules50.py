"""The bench's 50-rule rule set and the strategy that applies it to the bench's shop (plain JSON documents,
as `PUT /rulesets/{id}` and `PUT /strategies/{id}` take them; validated in tools/tests/test_bench_rules50.py).

A realistic mix of what a brand's operations team writes: money ranges in fen, sku any/all/only, regions,
daily and absolute time windows, product tags and tags earlier rules set, buyers, literal and explicit-regex
messages, quantity, weight, invoice, presale, handling, with all/any/not/use. The actions are tags,
priorities and route hints, so the bench's orders are never held and still flow to `allocated`; the one
`hold` (a complaint in the buyer's message) holds nothing in practice: the bench's trades carry no message.

No `first_orders` or `duplicate_suspected`: every bench trade has the same buyer, so the buyer-history
lookup they need would read tens of thousands of orders of one buyer, which no real shop has.
"""

from __future__ import annotations

from typing import Any

RULESET_ID = "omni-bench-rules50"
STRATEGY_ID = "omni-bench-rules50"
SET, BEANS = "SET-COFFEE-PRO", "BEAN-ETH-500"  # the two sales products the bench's trades carry
BENCH_BUYER = "AAHk5d-EAAeGwJedwSHpg8bT"  # the buyer id (Tmall buyer_open_uid) of every bench trade

DEFINITIONS: dict[str, dict[str, Any]] = {
    "coffee_set": {"type": "sku", "codes": [SET], "match": "any"},
    "beans_only": {"type": "sku", "codes": [BEANS], "match": "only"},
    "east": {"type": "region", "states": ["浙江省", "上海", "江苏省", "安徽省"]},
    "north": {"type": "region", "states": ["北京", "天津", "河北省", "山东省"]},
    "south": {"type": "region", "states": ["广东省", "广西壮族自治区", "福建省", "海南省"]},
    "big_spender": {"type": "paid_amount", "min": 200_000},  # 2,000.00 yuan, in fen
    "night": {"type": "order_time", "daily_from": "22:00", "daily_to": "06:00"},
    "premium_tagged": {"type": "tag", "on": "order", "tags": ["premium"]},
}


def _r(rule_id: str, name: str, when: dict[str, Any] | None, *then: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": rule_id, "name": name, "then": list(then)}
    if when is not None:
        rule["when"] = when
    return rule


def _tag(*tags: str) -> dict[str, Any]:
    return {"type": "tag", "tags": list(tags)}


def _prio(value: int) -> dict[str, Any]:
    return {"type": "priority", "value": value}


def _route(**kw: str) -> dict[str, Any]:
    return {"type": "route_hint", **kw}


def _use(name: str) -> dict[str, Any]:
    return {"type": "use", "name": name}


def _paid(lo: int | None = None, hi: int | None = None, of: str = "paid") -> dict[str, Any]:
    return (
        {"type": "paid_amount", "of": of}
        | ({"min": lo} if lo is not None else {})
        | ({"max": hi} if hi is not None else {})
    )


def _daily(lo: str, hi: str) -> dict[str, Any]:
    return {"type": "order_time", "daily_from": lo, "daily_to": hi}


def rules(channel: str, shop_id: str) -> list[dict[str, Any]]:
    """The 50 rules, in the order they run."""
    shop = f"{channel}:{shop_id}"
    return [
        # goods
        _r("set-order", "the coffee-machine set", _use("coffee_set"), _tag("machine_set"), _prio(50)),
        _r("beans-only", "beans and nothing else", _use("beans_only"), _tag("beans_only")),
        _r(
            "set-plus-beans",
            "the set and extra beans",
            {"type": "sku", "codes": [SET, BEANS], "match": "all"},
            _tag("set_plus_beans"),
        ),
        _r(
            "no-beans", "no loose beans", {"type": "sku", "codes": [BEANS], "match": "none"}, _tag("no_loose")
        ),
        _r(
            "single-origin",
            "single-origin beans",
            {"type": "tag", "tags": ["single_origin"]},
            _tag("specialty"),
        ),
        _r(
            "all-single-origin",
            "only single-origin lines",
            {"type": "tag", "tags": ["single_origin"], "match": "all"},
            _tag("all_beans"),
        ),
        _r(
            "fragile",
            "a fragile line",
            {"type": "tag", "tags": ["fragile"]},
            _tag("fragile_pack"),
            _route(carrier="SF"),
        ),
        _r("new-arrival", "a new product", {"type": "tag", "tags": ["new"]}, _tag("new_arrival")),
        _r("high-value", "a high-value line", {"type": "high_value"}, _tag("insured"), _prio(60)),
        _r(
            "cold-chain",
            "cold-chain goods",
            {"type": "handling", "any_of": ["cold_chain", "frozen"]},
            _route(pool="cold-chain"),
        ),
        _r(
            "virtual-only",
            "only virtual goods",
            {"type": "handling", "any_of": ["virtual"], "match": "only"},
            _tag("no_shipping"),
        ),
        # money, in fen
        _r("ticket-small", "paid under 100 yuan", _paid(hi=10_000), _tag("small_ticket")),
        _r("ticket-mid", "paid 100 to 300 yuan", _paid(10_000, 30_000), _tag("mid_ticket")),
        _r("ticket-large", "paid 300 to 3,000 yuan", _paid(30_000, 300_000), _tag("large_ticket")),
        _r("ticket-premium", "paid 3,000 yuan or more", _paid(300_000), _tag("premium"), _prio(80)),
        _r("goods-over-2000", "goods over 2,000 yuan", _paid(200_000, of="goods"), _route(carrier="SF")),
        _r("odd-cents", "paid 99.99 to 100.01 yuan", _paid(9_999, 10_002), _tag("price_point_100")),
        _r(
            "big-not-high-value",
            "a big order without a high-value line",
            {"type": "all", "of": [_use("big_spender"), {"type": "not", "of": {"type": "high_value"}}]},
            _tag("value_mix"),
        ),
        # quantity and weight
        _r("multi-unit", "3 units or more", {"type": "quantity", "min": 3}, _tag("multi_unit")),
        _r(
            "multi-line", "2 lines or more", {"type": "quantity", "of": "lines", "min": 2}, _tag("multi_line")
        ),
        _r(
            "heavy",
            "over 5 kg",
            {"type": "weight", "min": 5_000},
            _tag("heavy_parcel"),
            _route(carrier="DBL"),
        ),
        _r("light", "under 1 kg", {"type": "weight", "max": 1_000}, _tag("light_parcel")),
        # where
        _r("east", "east China", _use("east"), _route(node="WH-HZ")),
        _r("north", "north China", _use("north"), _route(node="WH-BJ")),
        _r("south", "south China", _use("south"), _route(pool="south")),
        _r("hangzhou", "Hangzhou, same city", {"type": "region", "cities": ["杭州市"]}, _tag("same_city_hz")),
        _r("shanghai", "Shanghai", {"type": "region", "cities": ["上海市"]}, _tag("sh_metro")),
        _r("beijing", "Beijing", {"type": "region", "cities": ["北京市"]}, _tag("bj_metro")),
        _r("tianhe", "Guangzhou Tianhe", {"type": "region", "districts": ["天河区"]}, _tag("gz_core")),
        _r(
            "remote",
            "remote regions",
            {"type": "region", "states": ["新疆维吾尔自治区", "西藏自治区"]},
            _route(carrier="EMS"),
        ),
        _r(
            "set-core-region",
            "the set to east or north China",
            {"type": "all", "of": [_use("coffee_set"), {"type": "any", "of": [_use("east"), _use("north")]}]},
            _tag("set_core_region"),
        ),
        _r(
            "set-south",
            "the set to south China",
            {"type": "all", "of": [_use("coffee_set"), _use("south")]},
            _route(carrier="SF"),
        ),
        # when
        _r("night", "placed at night", _use("night"), _tag("night_order")),
        _r("morning", "placed in the morning", _daily("06:00", "12:00"), _tag("morning")),
        _r("afternoon", "placed in the afternoon", _daily("12:00", "18:00"), _tag("afternoon")),
        _r("evening", "placed in the evening", _daily("18:00", "22:00"), _tag("evening")),
        _r(
            "double-11",
            "the 11.11 campaign",
            {"type": "order_time", "from": "2025-11-01T00:00:00+08:00", "to": "2025-11-12T00:00:00+08:00"},
            _tag("double11"),
            _prio(40),
        ),
        _r(
            "this-decade",
            "placed 2025-2035",
            {"type": "order_time", "from": "2025-01-01T00:00:00+08:00", "to": "2035-01-01T00:00:00+08:00"},
            _tag("current"),
        ),
        # who, and what they wrote
        _r(
            "vip",
            "VIP buyers",
            {"type": "buyer", "nicks": ["vip_li", "vip_wang", "vip_zhang"]},
            _tag("vip"),
            _prio(100),
        ),
        _r(
            "loyal",
            "loyal buyers",
            {"type": "buyer", "nicks": [BENCH_BUYER, "tb_loyal_01", "tb_loyal_02"]},
            _tag("loyal"),
        ),
        _r(
            "flagged-address",
            "a flagged address",
            {"type": "buyer", "merge_keys": ["oaid-flagged-0001", "oaid-flagged-0002"]},
            _tag("flagged"),
        ),
        _r(
            "complaint",
            "a complaint in the buyer's message",
            {"type": "message", "contains": ["假货", "投诉", "差评", "12315"]},
            {"type": "hold", "code": "buyer_complaint", "reason": "the buyer's message mentions a complaint"},
        ),
        _r(
            "gift-wrap",
            "asks for gift wrapping",
            {"type": "message", "contains": ["礼盒", "包装", "gift wrap"]},
            _tag("gift_wrap"),
        ),
        _r(
            "invoice-note",
            "mentions an invoice (regex)",
            {"type": "message", "pattern": r"发票|invoice|抬头"},
            _tag("invoice_note"),
        ),
        _r(
            "urgent-memo",
            "the seller marked it urgent",
            {"type": "message", "field": "seller", "contains": ["加急", "urgent"]},
            _prio(90),
        ),
        _r(
            "has-message",
            "any message",
            {"type": "message", "field": "either", "non_empty": True},
            _tag("has_message"),
        ),
        # the order itself
        _r("invoice", "an invoice is requested", {"type": "invoice"}, _tag("invoice")),
        _r("presale", "a presale", {"type": "presale"}, _tag("presale")),
        _r(
            "flagship",
            "the flagship shop",
            {
                "type": "all",
                "of": [
                    {"type": "channel", "any_of": [channel]},
                    {"type": "shop", "any_of": [shop]},
                    {"type": "business_model", "any_of": ["B2C"]},
                ],
            },
            _tag("flagship"),
        ),
        _r(
            "premium-night",
            "premium orders at night (tags set above)",
            {"type": "all", "of": [_use("premium_tagged"), _use("night")]},
            _prio(95),
        ),
    ]


def ruleset_doc(channel: str = "tmall", shop_id: str = "TM-OMNI-FLAGSHIP") -> dict[str, Any]:
    """The rule set for `PUT /rulesets/{RULESET_ID}`."""
    return {
        "name": "omni bench: 50 realistic rules",
        "description": "made by `omni-tools bench` (phase rules); tags, priorities and route hints only",
        "definitions": DEFINITIONS,
        "rules": rules(channel, shop_id),
    }


def strategy_doc(
    channel: str = "tmall", shop_id: str = "TM-OMNI-FLAGSHIP", *, enabled: bool = True
) -> dict[str, Any]:
    """The strategy for `PUT /strategies/{STRATEGY_ID}`: the 50 rules on the bench's shop, ranked above any
    other (priority 1000, shop-specific); auto-approve, no merge window, so nothing waits."""
    return {
        "name": "omni bench: 50 rules on the bench's shop",
        "priority": 1000,
        "enabled": enabled,
        "match": {"channels": [channel], "shops": [f"{channel}:{shop_id}"]},
        "ruleset_id": RULESET_ID,
        "review": {"auto_approve": True},
        "merge": {"enabled": False},
    }
