"""1688 (`alibaba`) seller-view orders -> channel.order.received v2: the coffee sample decodes to the exact
fen (1688's yuan BigDecimals and its fen `discount`); orders on credit terms (账期 period, 诚E赊 creditBuy)
are `on_account` only for a shop that accepts them, every other unpaid order is refused as before; bad
totals list every problem; 1688's time format; closes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from omni_channel.domain import alibaba1688 as ali
from omni_channel.domain.errors import InvalidTrade
from omni_channel.domain.tmall import Accepted, NotForFulfilment, parse_json

FIXTURE = Path(__file__).parents[1] / "fixtures" / "alibaba_order.json"
NOW = datetime(2025, 6, 12, 2, 20, tzinfo=UTC)


def doc() -> dict[str, Any]:
    return parse_json(FIXTURE.read_bytes())


def base(d: dict[str, Any]) -> dict[str, Any]:
    return d["result"]["baseInfo"]


def run(d: Any, accepts: bool = False) -> Accepted | NotForFulfilment:
    return ali.normalise(d, shop_id="shop-1", received_at=NOW, accepts_on_account=accepts)


def accept(d: Any, accepts: bool = False) -> Any:
    out = run(d, accepts)
    assert isinstance(out, Accepted), out
    return out.event


def problems(d: Any) -> dict[str, str]:
    with pytest.raises(InvalidTrade) as exc:
        run(d, accepts=True)
    return {p.path: p.message for p in exc.value.problems}


def on_account(d: dict[str, Any], code: str = "period", status: str = "waitbuyerpay") -> dict[str, Any]:
    """The sample as 1688 sends an unpaid order on credit terms."""
    b = base(d)
    b.update(status=status, tradeTypeCode=code, tradeType="10" if code == "period" else "50060")
    del b["payTime"]
    d["result"]["tradeTerms"] = [{"payStatus": "1", "payWay": "7", "phasAmount": Decimal("3296.00")}]
    for it in d["result"]["productItems"]:
        it["status"] = status
    return d


def test_a_paid_fxassure_order_decodes_to_exact_fen():
    ev = accept(doc())
    assert (ev.channel, ev.shop_id, ev.channel_order_id) == ("alibaba", "shop-1", "2405120000123456789")
    assert (ev.goods_cents, ev.discount_cents, ev.post_fee_cents, ev.paid_cents) == (339600, 10000, 0, 329600)
    assert [
        (ln.outer_sku_id, ln.outer_iid, ln.qty, ln.unit_price_cents, ln.paid_cents) for ln in ev.lines
    ] == [
        ("SET-COFFEE-PRO", "COFFEE-PRO", 1, 309900, 300775),
        ("BEAN-ETH-500", "BEAN-ETH", 3, 9900, 28825),
    ]
    assert (
        ev.lines[0].channel_line_id == "2405120000123456790" and ev.lines[0].channel_item_id == "612345678901"
    )
    assert ev.lines[0].channel_sku_id == "4412345678901"
    assert (ev.payment, ev.payment_terms, ev.due_at) == ("paid", "fxassure", None)
    assert ev.business_model == "B2C"  # as every adapter: the OMS strategy sets the model
    assert ev.created_at == datetime(2025, 6, 12, 2, 15, 32, tzinfo=UTC)
    assert ev.paid_at == datetime(2025, 6, 12, 2, 16, tzinfo=UTC)
    assert ev.buyer_id == "b2b-2212345678" and ev.buyer_message == "请工作日送货"
    assert (ev.receiver.state, ev.receiver.city, ev.receiver.district) == ("浙江省", "杭州市", "西湖区")
    assert ev.receiver.phone == "138****5678" and ev.protected_receiver.phone_mask == "138****5678"


def test_the_bare_result_and_yuan_strings_are_read_too():
    d = doc()["result"]
    d["baseInfo"]["totalAmount"] = "3296.00"
    d["productItems"][0]["price"] = "3099.00"
    assert accept(d).paid_cents == 329600


def test_an_on_account_period_order_is_taken_in_for_a_shop_that_accepts_it():
    d = on_account(doc())
    d["result"]["orderBizInfo"]["accountPeriodTime"] = "2025-07-12 00:00:00"  # GMT+8
    ev = accept(d, accepts=True)
    assert (ev.payment, ev.payment_terms, ev.channel_status) == ("on_account", "period", "waitbuyerpay")
    assert ev.due_at == datetime(2025, 7, 11, 16, 0, tzinfo=UTC)
    assert ev.paid_at is None and ev.paid_cents == 329600  # the amount payable on account
    ev = accept(on_account(doc(), status="waitsellersend"), accepts=True)
    assert (ev.payment, ev.due_at) == ("on_account", None)  # no due date in the payload: none invented


def test_credit_buy_takes_its_due_date_from_the_credit_detail():
    d = on_account(doc(), code="creditBuy", status="waitsellersend")
    detail = {"lastRepayTime": "2025-08-01 00:00:00", "gracePeriodEndTime": "2025-07-01 00:00:00"}
    d["result"]["orderBizInfo"] = {"creditOrder": True, "creditOrderDetail": {"payAmount": 329600, **detail}}
    ev = accept(d, accepts=True)
    assert (ev.payment, ev.payment_terms) == ("on_account", "creditBuy")
    assert ev.due_at == datetime(2025, 7, 31, 16, 0, tzinfo=UTC)


def test_a_period_order_paid_on_account_but_not_arrived_is_still_on_account():
    d = doc()
    base(d)["tradeTypeCode"] = "period"
    assert accept(d).payment == "paid"  # a payTime, tradeTerms paid (2): paid
    d["result"]["tradeTerms"][0]["payStatus"] = "12"  # 账期支付, 待到账
    assert isinstance(run(d), NotForFulfilment)
    assert accept(d, accepts=True).payment == "on_account"


def test_the_same_order_is_refused_for_a_shop_that_does_not_accept_orders_on_account():
    for status in ("waitbuyerpay", "waitsellersend"):
        out = run(on_account(doc(), status=status), accepts=False)
        assert isinstance(out, NotForFulfilment)
        assert out.reason == (
            f"status {status}: on account (period), and shop shop-1 does not accept orders on account"
        )
    d = on_account(doc())
    del base(d)["tradeTypeCode"]  # the numeric tradeType 10 (账期支付交易) alone
    out = run(d)
    assert isinstance(out, NotForFulfilment) and "on account (10)" in out.reason


def test_every_other_unpaid_order_is_refused_not_paid_yet():
    for code in ("fxassure", "alipay", "bank", "631staged", ""):
        d = doc()
        base(d).update(status="waitbuyerpay", tradeTypeCode=code)
        del base(d)["payTime"]
        out = run(d, accepts=True)
        assert isinstance(out, NotForFulfilment) and out.reason == "status waitbuyerpay: not paid yet"
    d = on_account(doc())
    base(d)["payTime"] = "20250612101600000+0800"  # waitbuyerpay with a payTime: not on account either
    assert run(d, accepts=True).reason == "status waitbuyerpay: not paid yet"  # type: ignore[union-attr]


def test_shipped_and_finished_orders_are_not_for_fulfilment_and_unknown_statuses_refused():
    for status in ("waitbuyerreceive", "confirm_goods", "success", "cancel", "terminated"):
        d = doc()
        base(d)["status"] = status
        assert isinstance(run(d, accepts=True), NotForFulfilment)
    d = doc()
    base(d)["status"] = "WAIT_SELLER_SEND"
    assert "unknown 1688 order status" in problems(d)["baseInfo.status"]


def test_totals_that_do_not_add_up_list_every_problem():
    d = doc()
    b = base(d)
    b["totalAmount"] = Decimal("3297.00")
    b["sumProductPayment"] = Decimal("3395.00")
    b["discount"] = -9999
    d["result"]["productItems"][1]["entryDiscount"] = -870
    found = problems(d)
    assert set(found) >= {"baseInfo.totalAmount", "baseInfo.sumProductPayment", "baseInfo.discount",
                          "productItems[1].entryDiscount"}  # fmt: skip
    assert "is not Σ line paid" in found["baseInfo.totalAmount"]
    assert "is not Σ price × qty" in found["baseInfo.sumProductPayment"]
    assert (
        found["productItems[1].entryDiscount"] == "-870 fen is not itemAmount − price × quantity (-875 fen)"
    )


def test_discount_is_fen_and_the_money_fields_are_yuan():
    d = doc()
    base(d)["discount"] = Decimal("-100.00")  # yuan sent where 1688 sends fen
    assert "in fen" in problems(d)["baseInfo.discount"]
    d = doc()
    base(d)["discount"] = "-10000"  # a Long as a string: the same fen
    assert accept(d).discount_cents == 10000
    d = doc()
    d["result"]["productItems"][0]["itemAmount"] = Decimal("3007.755")
    assert "more than 2 decimals" in problems(d)["productItems[0].itemAmount"]
    d = doc()
    base(d)["couponFee"] = Decimal("5.00")  # a red packet: the discount identity is not checked then
    base(d)["discount"] = -10500
    assert accept(d).paid_cents == 329600


def test_1688_times():
    d = doc()
    base(d)["createTime"] = "20250612101532123+0800"
    base(d)["payTime"] = "20250612021600000+0000"
    ev = accept(d)
    assert ev.created_at == datetime(2025, 6, 12, 2, 15, 32, 123000, tzinfo=UTC)
    assert ev.paid_at == datetime(2025, 6, 12, 2, 16, tzinfo=UTC)
    base(d)["createTime"] = "2025-06-12 10:15:32"  # GMT+8, as some relays write Dates
    assert accept(d).created_at == datetime(2025, 6, 12, 2, 15, 32, tzinfo=UTC)
    for bad in ("2025/06/12 10:15:32", "20251312101532000+0800", 1749694532000):
        base(d)["createTime"] = bad
        assert "baseInfo.createTime" in problems(d)


def test_missing_fields_are_named():
    d = doc()
    del base(d)["totalAmount"]
    del base(d)["createTime"]
    del d["result"]["productItems"][0]["price"]
    del d["result"]["productItems"][1]["quantity"]
    del d["result"]["productItems"][1]["subItemID"], d["result"]["productItems"][1]["subItemIDString"]
    found = problems(d)
    assert {k for k, v in found.items() if v == "missing"} >= {
        "baseInfo.totalAmount", "baseInfo.createTime", "productItems[0].price", "productItems[1].quantity",
        "productItems[1].subItemID"}  # fmt: skip
    d = doc()
    del d["result"]["productItems"]
    assert "productItems" in problems(d)
    with pytest.raises(InvalidTrade) as exc:
        run({"result": {"productItems": []}})
    assert exc.value.problems[0].path == "baseInfo"
    with pytest.raises(InvalidTrade) as exc:
        run({"errorCode": "gw.QosAppFrequencyLimit", "errorMessage": "...", "success": False})
    assert exc.value.problems[0].path == "errorCode"
    d = doc()
    del base(d)["idOfStr"], base(d)["id"]
    assert problems(d)["baseInfo.id"] == "missing"


def test_ids_beyond_2_53_keep_every_digit_and_fractional_quantities_are_refused():
    text = FIXTURE.read_text().replace('"idOfStr": "2405120000123456789",', "")
    ev = accept(parse_json(text.replace('"id": 2405120000123456789', '"id": 9205120000123456789').encode()))
    assert ev.channel_order_id == "9205120000123456789"
    d = doc()
    d["result"]["productItems"][1]["quantity"] = Decimal("2.5")  # 2.5 tons (quantityFactor 10)
    assert "fractional" in problems(d)["productItems[1].quantity"]
    d = doc()
    d["result"]["productItems"][1]["quantity"] = Decimal("3.0")
    assert accept(d).lines[1].qty == 3


def test_the_receiver_comes_from_to_area_when_native_logistics_is_missing_and_is_never_quoted():
    d = doc()
    del d["result"]["nativeLogistics"]
    r = accept(d).receiver
    assert (r.state, r.city, r.district, r.town) == ("浙江省", "杭州市", "西湖区", "")
    assert r.detail == "浙江省 杭州市 西湖区 文三路***号" and r.zip == "310012"
    d = copy.deepcopy(doc())
    base(d)["receiverInfo"]["toFullName"] = "张" * 101
    assert problems(d)["baseInfo.receiverInfo.toFullName"] == "too long: 101 characters, at most 100"


@pytest.mark.parametrize(
    ("status", "fields", "reason"),
    [
        ("cancel", {"closeOperateType": "CLOSE_TRADE_BY_BUYER"}, "buyer_cancel"),
        ("cancel", {"closeReason": "sellerGoodsLack"}, "seller_cancel"),
        ("cancel", {"closeReason": "BUYER_NO_PAY"}, "unpaid_timeout"),
        ("terminated", {"closeOperateType": "CLOSE_TRADE_BY_BOPS"}, "platform_close"),
        ("terminated", {}, "unknown"),
    ],
)
def test_a_close_maps_to_its_reason(status, fields, reason):
    d = doc()
    base(d).update(status=status, **fields)
    out = run(d)
    assert isinstance(out, NotForFulfilment) and out.channel_status == status
    assert ali.close_of(d, status) == (status, reason)
    assert ali.close_of(d, "waitbuyerreceive") is None
