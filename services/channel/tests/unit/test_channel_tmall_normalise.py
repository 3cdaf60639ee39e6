"""Tmall trade -> channel.order.received v1: money, ids, wrapping, times, statuses, every refusal."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from omni_channel.domain.errors import InvalidTrade, MalformedPayload
from omni_channel.domain.tmall import (
    NOT_FOR_FULFILMENT,
    Accepted,
    NotForFulfilment,
    normalise_trade,
    parse_json,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "tmall_trade.json"
RECEIVED = datetime(2025, 6, 12, 2, 20, tzinfo=UTC)
TID = "3912476580123456789"


def wrapped() -> dict[str, Any]:
    return parse_json(FIXTURE.read_bytes())


def trade() -> dict[str, Any]:
    return wrapped()["trade_fullinfo_get_response"]["trade"]


def orders(t: dict[str, Any]) -> list[dict[str, Any]]:
    return t["orders"]["order"]


def accept(doc: Any) -> Accepted:
    out = normalise_trade(doc, shop_id="shop-1", received_at=RECEIVED)
    assert isinstance(out, Accepted), out
    return out


def problems(doc: Any) -> dict[str, str]:
    with pytest.raises(InvalidTrade) as info:
        normalise_trade(doc, shop_id="shop-1", received_at=RECEIVED)
    return {p.path: p.message for p in info.value.problems}


# ------------------------------------------------------------------------------------ the synthetic order


def test_the_synthetic_coffee_order_normalises_exactly() -> None:
    ev = accept(wrapped()).event
    assert (ev.channel, ev.shop_id, ev.channel_order_id) == ("tmall", "shop-1", TID)
    assert (ev.channel_status, ev.business_model, ev.delivery, ev.pickup_node) == (
        "WAIT_SELLER_SEND_GOODS",
        "B2C",
        "express",
        None,
    )
    assert (ev.goods_cents, ev.discount_cents, ev.post_fee_cents, ev.paid_cents) == (339600, 10000, 0, 329600)
    assert ev.currency == "CNY"
    assert ev.buyer_id == "AAHk5d-EAAeGwJedwSFuOmni"
    assert ev.buyer_message == "请工作日送货"
    assert ev.created_at == datetime(2025, 6, 12, 2, 15, 32, tzinfo=UTC)
    assert ev.paid_at == datetime(2025, 6, 12, 2, 16, 5, tzinfo=UTC)
    assert ev.received_at == RECEIVED
    assert ev.invoice is None
    coffee, beans = ev.lines
    assert coffee.model_dump() == {
        "channel_line_id": "3912476580123456790",
        "channel_item_id": "720001234567",
        "channel_sku_id": "5011112223334",
        "outer_sku_id": "SET-COFFEE-PRO",
        "outer_iid": "SET-COFFEE",
        "title": "Omni 意式咖啡机套装 专业版",
        "qty": 1,
        "unit_price_cents": 309900,
        "paid_cents": 300775,
        "discount_cents": 9125,
        "refund_status": "none",
        "platform_refund_status": "NO_REFUND",
    }
    assert type(ev).__event_version__ == 2
    assert ev.presale_stage == "none"
    assert (
        beans.outer_sku_id,
        beans.qty,
        beans.unit_price_cents,
        beans.paid_cents,
        beans.discount_cents,
    ) == (
        "BEAN-ETH-500",
        3,
        9900,
        28825,
        875,
    )
    assert sum(line.paid_cents for line in ev.lines) + ev.post_fee_cents == ev.paid_cents
    r = ev.receiver
    assert (r.name, r.phone, r.country, r.state, r.city, r.district, r.town, r.detail, r.zip) == (
        "屈**",
        "1389289****",
        "CN",
        "浙江省",
        "杭州市",
        "西湖区",
        "西溪街道",
        "文**路**号**小区",
        "310013",
    )


def test_every_accepted_wrapping_gives_the_same_event() -> None:
    reference = accept(wrapped()).event
    bare = trade()
    simplified = trade()
    simplified["orders"] = orders(simplified)
    simplified["promotion_details"] = simplified["promotion_details"]["promotion_detail"]
    for doc in (wrapped(), {"trade": trade()}, bare, simplified, {"trade": simplified}):
        assert accept(doc).event == reference


def test_the_fixture_file_is_the_raw_top_answer() -> None:
    raw = json.loads(FIXTURE.read_text())
    assert set(raw) == {"trade_fullinfo_get_response"}
    assert isinstance(raw["trade_fullinfo_get_response"]["trade"]["orders"]["order"], list)


# ------------------------------------------------------------------------------------------------ ids


def test_tid_str_wins_over_a_rounded_json_number() -> None:
    t = trade()
    t["tid"] = 3912476580123456800  # what a float-based JSON writer makes of it
    assert accept(t).event.channel_order_id == TID


def test_a_json_number_tid_above_2_53_alone_is_refused() -> None:
    t = trade()
    del t["tid_str"]
    found = problems(t)
    assert "lost precision" in found["tid"] and "tid_str" in found["tid"]


def test_a_big_tid_parsed_from_json_text_alone_is_refused() -> None:
    body = FIXTURE.read_text().replace('"tid_str": "3912476580123456789",', "")
    assert "lost precision" in problems(parse_json(body.encode()))["tid"]


def test_a_small_number_tid_is_fine_and_becomes_a_string() -> None:
    t = trade()
    del t["tid_str"]
    t["tid"] = 1234567890123
    assert accept(t).event.channel_order_id == "1234567890123"


def test_tid_and_tid_str_that_disagree_are_refused() -> None:
    t = trade()
    t["tid_str"] = "1234567890124"
    t["tid"] = 1234567890123
    assert "disagree" in problems(t)["tid"]


@pytest.mark.parametrize("bad", [None, "", "T123", "-5", "0123", "12 34", 3.9e18, True, 0, -7])
def test_bad_tids_are_refused(bad: Any) -> None:
    t = trade()
    del t["tid_str"]
    t["tid"] = bad
    assert "tid" in problems(t)


def test_a_non_digit_tid_str_is_refused() -> None:
    t = trade()
    t["tid_str"] = "39124765801234567x9"
    assert "string of digits" in problems(t)["tid_str"]


def test_an_oid_above_2_53_without_oid_str_is_refused_with_its_path() -> None:
    t = trade()
    del orders(t)[1]["oid_str"]
    assert "lost precision" in problems(t)["orders.order[1].oid"]


def test_missing_num_iid_is_refused() -> None:
    t = trade()
    del orders(t)[0]["num_iid"]
    assert problems(t) == {"orders.order[0].num_iid": "missing"}


# ---------------------------------------------------------------------------------------------- money


def test_money_as_a_json_number_is_refused() -> None:
    t = parse_json(json.dumps(trade()).replace('"payment": "3296.00"', '"payment": 3296.00').encode())
    assert "string" in problems(t)["payment"]


def test_three_decimals_and_negatives_are_refused_with_paths() -> None:
    t = trade()
    orders(t)[0]["price"] = "3099.001"
    t["post_fee"] = "-1.00"
    found = problems(t)
    assert "more than 2 decimals" in found["orders.order[0].price"]
    assert "negative" in found["post_fee"]


def test_paid_must_add_up() -> None:
    t = trade()
    t["payment"] = "3296.01"
    assert problems(t) == {"payment": "3296.01 is not Σ line paid (3296.00) + post_fee (0.00) = 3296.00"}


def test_freight_is_part_of_payment() -> None:
    t = trade()
    t["post_fee"] = "12.00"
    t["payment"] = "3308.00"
    ev = accept(t).event
    assert (ev.post_fee_cents, ev.paid_cents, ev.discount_cents) == (1200, 330800, 10000)


def test_total_fee_must_be_the_sum_of_price_times_num() -> None:
    t = trade()
    t["total_fee"] = "3395.00"
    assert "Σ price × num" in problems(t)["total_fee"]


def test_without_divide_order_fee_payment_minus_part_mjz_is_used() -> None:
    t = trade()
    for o in orders(t):
        del o["divide_order_fee"]
    assert [ln.paid_cents for ln in accept(t).event.lines] == [300775, 28825]


def test_without_any_apportioning_the_trade_discount_is_spread_by_share() -> None:
    t = trade()
    for o in orders(t):
        del o["divide_order_fee"], o["part_mjz_discount"]
    lines = accept(t).event.lines
    assert [ln.paid_cents for ln in lines] == [300775, 28825]  # the same 91.25 / 8.75 split
    assert [ln.discount_cents for ln in lines] == [9125, 875]


def test_without_payment_either_price_times_num_minus_discounts_is_used() -> None:
    t = trade()
    for o in orders(t):
        del o["divide_order_fee"], o["payment"]
    orders(t)[1]["discount_fee"] = "8.75"  # an item-level discount on the beans
    orders(t)[1]["part_mjz_discount"] = "0.00"
    orders(t)[0]["part_mjz_discount"] = "91.25"
    assert [ln.paid_cents for ln in accept(t).event.lines] == [300775, 28825]


def test_an_unexplained_gap_without_divide_order_fee_is_refused() -> None:
    t = trade()
    for o in orders(t):
        del o["divide_order_fee"], o["part_mjz_discount"]
    t["discount_fee"] = "50.00"  # only 50 of the 100 gap is a known trade discount
    assert "payment" in problems(t)


def test_single_line_order_payment_includes_freight() -> None:
    t = trade()
    line = orders(t)[0]
    t["orders"]["order"] = [line]
    del line["divide_order_fee"]
    line["part_mjz_discount"] = "0.00"
    line["payment"] = "3109.00"  # 3099.00 + 10.00 freight, as TOP writes it on single-line trades
    t.update(total_fee="3099.00", discount_fee="0.00", post_fee="10.00", payment="3109.00")
    ev = accept(t).event
    assert ev.lines[0].paid_cents == 309900
    assert (ev.post_fee_cents, ev.paid_cents, ev.discount_cents) == (1000, 310900, 0)


# ---------------------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("num", "message"), [(0, "greater than 0"), (-1, "greater than 0"), (1.5, "integer")]
)
def test_bad_quantities_are_refused(num: Any, message: str) -> None:
    t = trade()
    orders(t)[1]["num"] = num
    assert message in problems(t)["orders.order[1].num"]


def test_a_digit_string_quantity_is_read() -> None:
    t = trade()
    orders(t)[1]["num"] = "3"
    assert accept(t).event.lines[1].qty == 3


# ------------------------------------------------------------------------------------ required / every


def test_missing_tid_and_status_are_both_reported() -> None:
    t = trade()
    del t["tid"], t["tid_str"], t["status"]
    assert set(problems(t)) == {"tid", "status"}


def test_missing_payment_orders_and_created_are_all_reported() -> None:
    t = trade()
    del t["payment"], t["orders"], t["created"]
    assert problems(t) == {
        "payment": "missing",
        "orders": "missing: the trade has no lines",
        "created": "missing",
    }


def test_every_problem_is_listed_at_once() -> None:
    t = trade()
    orders(t)[0]["num"] = 0
    orders(t)[1]["price"] = "99"
    orders(t)[1]["divide_order_fee"] = 288.25
    t["pay_time"] = "2025/06/12 10:16:05"
    t["post_fee"] = "0.001"
    found = problems(t)
    assert {"orders.order[0].num", "orders.order[1].divide_order_fee", "pay_time", "post_fee"} <= set(found)


@pytest.mark.parametrize(
    ("orders_value", "path"),
    [([], "orders"), ({"order": []}, "orders.order"), ({"item": []}, "orders.order"), ("x", "orders")],
)
def test_empty_or_misshapen_orders_are_refused(orders_value: Any, path: str) -> None:
    t = trade()
    t["orders"] = orders_value
    assert path in problems(t)


def test_an_order_that_is_not_an_object_is_refused() -> None:
    t = trade()
    orders(t).append("oops")
    assert "orders.order[2]" in problems(t)


# ------------------------------------------------------------------------------------------- statuses


def test_partly_shipped_trades_are_published() -> None:
    t = trade()
    t["status"] = "SELLER_CONSIGNED_PART"
    assert accept(t).event.channel_status == "SELLER_CONSIGNED_PART"


@pytest.mark.parametrize("status", sorted(NOT_FOR_FULFILMENT))
def test_statuses_that_need_no_fulfilment_are_not_published(status: str) -> None:
    t = trade()
    t["status"] = status
    del t["payment"]  # an unpaid or closed trade is not checked any further
    out = normalise_trade(t, shop_id="shop-1", received_at=RECEIVED)
    assert isinstance(out, NotForFulfilment)
    assert (out.channel_order_id, out.channel_status) == (TID, status)
    assert out.reason.startswith(f"status {status}: ")


def test_paid_forbid_consign_says_it_will_come_again() -> None:
    t = trade()
    t["status"] = "PAID_FORBID_CONSIGN"
    out = normalise_trade(t, shop_id="shop-1", received_at=RECEIVED)
    assert isinstance(out, NotForFulfilment) and "WAIT_SELLER_SEND_GOODS" in out.reason


def test_a_presale_with_unpaid_balance_is_not_published() -> None:
    t = trade()
    t["step_trade_status"] = "FRONT_PAID_FINAL_NOPAID"
    out = normalise_trade(t, shop_id="shop-1", received_at=RECEIVED)
    assert isinstance(out, NotForFulfilment) and "presale" in out.reason
    t["step_trade_status"] = "FRONT_PAID_FINAL_PAID"
    assert isinstance(normalise_trade(t, shop_id="shop-1", received_at=RECEIVED), Accepted)


def test_an_unknown_status_is_refused() -> None:
    t = trade()
    t["status"] = "WAIT_SELLER_SEND"
    assert problems(t) == {"status": "unknown trade status 'WAIT_SELLER_SEND'"}


# ---------------------------------------------------------------------------------- times, address, …


def test_created_in_another_format_is_refused() -> None:
    t = trade()
    t["created"] = "2025-06-12T10:15:32+08:00"
    assert "yyyy-MM-dd HH:mm:ss" in problems(t)["created"]


def test_a_province_administered_county_becomes_the_city() -> None:
    t = trade()
    t.update(receiver_state="河南省", receiver_city="", receiver_district="济源市")
    del t["receiver_mobile"]
    r = accept(t).event.receiver
    assert (r.state, r.city, r.district, r.phone) == ("河南省", "济源市", "济源市", "0571-8597****")


def test_invoice_fields_map_to_an_invoice_request() -> None:
    t = trade()
    t.update(invoice_name="杭州全渠道科技有限公司", invoice_kind="2", buyer_tax_no="91330100MA2H000000")
    inv = accept(t).event.invoice
    assert inv is not None
    assert (inv.kind, inv.title, inv.tax_id) == ("paper", "杭州全渠道科技有限公司", "91330100MA2H000000")
    t.update(invoice_kind="1", invoice_type="增值税专用发票")
    assert accept(t).event.invoice.kind == "electronic_special"  # type: ignore[union-attr]
    t["invoice_kind"] = "9"
    assert "unknown invoice kind" in problems(t)["invoice_kind"]


@pytest.mark.parametrize(
    ("fields", "node"),
    [
        ({"o2o_delivery": "inshop", "o2o_shop_id": "HZ-XIHU-01"}, "HZ-XIHU-01"),
        (
            {"rt_omni_send_type": "pickUp", "rt_omni_outer_store_id": "STORE-7", "rt_omni_store_id": "9"},
            "STORE-7",
        ),
    ],
)
def test_store_pickup_is_recognised(fields: dict[str, str], node: str) -> None:
    t = trade()
    t.update(fields)
    ev = accept(t).event
    assert (ev.delivery, ev.pickup_node) == ("store_pickup", node)


def test_online_delivery_of_a_guided_sale_is_express() -> None:
    t = trade()
    t.update(o2o_delivery="online", o2o_shop_id="HZ-XIHU-01")
    assert accept(t).event.delivery == "express"


# ----------------------------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"tid": ', "malformed JSON"),
        (b"", "empty"),
        (b'{"payment": NaN}', "NaN"),
        (b'{"tid": 1, "tid": 2}', "duplicate key 'tid'"),
        (b'{"title": "\xff"}', "not UTF-8"),
    ],
)
def test_unreadable_bodies_are_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        parse_json(body)


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ([1, 2], "$"),
        ({"error_response": {"code": 27, "msg": "Invalid session"}}, "error_response"),
        ({"trade_fullinfo_get_response": {"request_id": "x"}}, "trade_fullinfo_get_response.trade"),
        ({"trade": "x"}, "trade"),
    ],
)
def test_documents_that_are_not_trades_are_refused(doc: Any, path: str) -> None:
    assert path in problems(doc)


def test_the_input_document_is_not_mutated() -> None:
    t = trade()
    for o in orders(t):
        del o["divide_order_fee"], o["part_mjz_discount"]
    before = copy.deepcopy(t)
    accept(t)
    assert t == before
