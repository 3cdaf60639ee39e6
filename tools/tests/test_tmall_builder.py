"""The demo/bench trade builder must produce what the real adapter accepts, to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from omni_channel.domain import sign_tmall
from omni_channel.domain.tmall import Accepted, normalise_trade
from omni_tools.tmall import Line, signed_request, trade


def test_built_trade_normalises_with_exact_amounts():
    doc = trade(
        [Line("SET-COFFEE-PRO", 1, paid_yuan=Decimal("3007.75")), Line("BEAN-ETH-500", 3, Decimal("288.25"))],
        post_fee_cents=1000,
        tid="4123456789012345678",
    )
    out = normalise_trade(doc, shop_id="TM-OMNI-FLAGSHIP", received_at=datetime.now(UTC))
    assert isinstance(out, Accepted)
    ev = out.event
    assert ev.channel_order_id == "4123456789012345678"
    assert [line.paid_cents for line in ev.lines] == [300_775, 28_825]
    assert ev.post_fee_cents == 1000 and ev.paid_cents == 300_775 + 28_825 + 1000
    assert ev.goods_cents == 309_900 + 3 * 9_900


def test_signed_request_verifies_with_the_adapter_rule():
    params, body = signed_request(trade([Line("BEAN-ETH-500", 1)]), secret="s3cret")
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    assert params["sign"] == sign_tmall(unsigned, body, "s3cret", params["sign_method"])
    assert params["sign"] != sign_tmall(unsigned, body + b" ", "s3cret", params["sign_method"])
