"""order.accepted's `sources` (a merged order): the sources' money adds up, every line names one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from omni_contracts.events.order import OrderAcceptedV1


def _order(**over):
    d = {
        "order_id": "M1", "channel": "tmall", "shop_id": "s1", "channel_order_id": "T1+T2",
        "ship_to": {}, "goods_paid_cents": 300, "post_fee_cents": 10, "paid_cents": 310,
        "lines": [
            {"line_id": "M1-1", "channel_line_id": "a", "sales_product_code": "SP", "material_code": "M",
             "qty": 1, "amount_cents": 100, "source_order_id": "O1"},
            {"line_id": "M1-2", "channel_line_id": "b", "sales_product_code": "SP", "material_code": "M",
             "qty": 2, "amount_cents": 200, "source_order_id": "O2"},
        ],
        "sources": [
            {"order_id": "O1", "shop_id": "s1", "channel_order_id": "T1", "goods_paid_cents": 100,
             "post_fee_cents": 10, "paid_cents": 110},
            {"order_id": "O2", "shop_id": "s1", "channel_order_id": "T2", "goods_paid_cents": 200,
             "paid_cents": 200},
        ],
    }  # fmt: skip
    d.update(over)
    return d


def test_a_merged_order_whose_sources_add_up_is_valid():
    o = OrderAcceptedV1.model_validate(_order())
    assert [s.channel_order_id for s in o.sources] == ["T1", "T2"]
    assert {x.source_order_id for x in o.lines} == {"O1", "O2"}


@pytest.mark.parametrize(
    ("over", "says"),
    [
        ({"paid_cents": 311}, "paid_cents do not add up"),
        ({"post_fee_cents": 0, "paid_cents": 300}, "post_fee_cents do not add up"),
        ({"sources": _order()["sources"][:1]}, "name no source"),
        ({"sources": [_order()["sources"][0]] * 2}, "listed twice"),
        ({"sources": []}, "has no sources"),
    ],
)
def test_sources_that_do_not_match_the_order_are_refused(over, says):
    with pytest.raises(ValidationError, match=says):
        OrderAcceptedV1.model_validate(_order(**over))


def test_an_order_of_its_own_has_no_sources():
    d = _order(sources=[])
    d["lines"] = [dict(x, source_order_id=None) for x in d["lines"]]
    assert OrderAcceptedV1.model_validate(d).sources == []
