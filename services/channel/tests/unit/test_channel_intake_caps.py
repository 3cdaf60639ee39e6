"""Intake caps: too many lines or too-long text is refused at once, every problem listed, no value quoted."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from omni_channel.domain.errors import InvalidTrade
from omni_channel.domain.limits import MAX_LINES, TEXT_LIMITS
from omni_channel.domain.tmall import Accepted, normalise_trade, parse_json

FIXTURE = Path(__file__).parents[1] / "fixtures" / "tmall_trade.json"
RECEIVED = datetime(2025, 6, 12, 2, 20, tzinfo=UTC)


def trade() -> dict[str, Any]:
    return parse_json(FIXTURE.read_bytes())["trade_fullinfo_get_response"]["trade"]


def problems(t: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidTrade) as info:
        normalise_trade(t, shop_id="shop-1", received_at=RECEIVED)
    return {p.path: p.message for p in info.value.problems}


def test_a_trade_at_every_cap_is_accepted() -> None:
    t = trade()
    t["buyer_message"] = "留" * TEXT_LIMITS["buyer_message"]
    t["receiver_address"] = "路" * TEXT_LIMITS["receiver_address"]
    t["orders"]["order"][0]["title"] = "咖" * TEXT_LIMITS["title"]
    out = normalise_trade(t, shop_id="shop-1", received_at=RECEIVED)
    assert isinstance(out, Accepted)
    assert len(out.event.buyer_message) == 1000 and len(out.event.receiver.detail) == 500


def test_too_many_lines_and_too_long_texts_are_all_listed_without_their_values() -> None:
    t = trade()
    line = t["orders"]["order"][0]
    t["orders"]["order"] = [copy.deepcopy(line) for _ in range(MAX_LINES + 1)]
    secret_address = "文三路" * 200
    t["receiver_address"] = secret_address
    t["buyer_message"] = "x" * 1001
    t["invoice_name"] = "抬" * 201

    found = problems(t)

    assert found == {
        "orders.order": "too many lines: 201, at most 200 per trade",
        "receiver_address": "too long: 600 characters, at most 500",
        "buyer_message": "too long: 1001 characters, at most 1000",
        "invoice_name": "too long: 201 characters, at most 200",
    }
    assert not any(secret_address in m for m in found.values())


def test_line_texts_are_capped_with_their_paths() -> None:
    t = trade()
    first = t["orders"]["order"][0]
    first["title"] = "t" * 201
    first["outer_sku_id"] = "o" * 129
    first["sku_id"] = "9" * 65
    found = problems(t)
    assert found == {
        "orders.order[0].title": "too long: 201 characters, at most 200",
        "orders.order[0].outer_sku_id": "too long: 129 characters, at most 128",
        "orders.order[0].sku_id": "too long: 65 characters, at most 64",
    }


def test_every_capped_field_has_a_sensible_limit() -> None:
    assert MAX_LINES == 200
    assert all(16 <= n <= 1000 for n in TEXT_LIMITS.values())
