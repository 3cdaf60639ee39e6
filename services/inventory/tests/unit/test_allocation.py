"""Layers 3-4, pure: pools, allocations, water levels, safety stock, listing formulas, bundles; the rules'
validation; and the channel-level oversell invariant as a property (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from omni_inventory.domain.rules import Allocation, Known, RuleDocument, problems
from omni_inventory.domain.sellable import ListingView, RuleIndex, explain, material_supply, pool_shares

SUPPLY = {("WH-HZ", "M1"): 60, ("STORE-SH", "M1"): 40, ("WH-BJ", "M1"): 100, ("WH-HZ", "M2"): 7}
KNOWN = Known(frozenset({"WH-HZ", "STORE-SH", "WH-BJ"}), frozenset(), frozenset({"L1", "L2"}))


def listing(channel: str = "tmall", shop: str = "S1", parts: tuple[tuple[str, int], ...] = (("M1", 1),),
            lid: str = "L1", status: str = "on_sale") -> ListingView:  # fmt: skip
    return ListingView(lid, channel, shop, status, True, parts)


def doc(**kw: object) -> RuleDocument:
    base: dict[str, object] = {"pools": [{"code": "EAST", "nodes": ["WH-HZ", "STORE-SH"]}]}
    base.update(kw)
    return RuleDocument.model_validate(base)


def qty(d: RuleDocument, view: ListingView, supply: dict[tuple[str, str], int] = SUPPLY) -> int:
    return explain(RuleIndex(d, 1), supply, view).quantity


def test_without_rules_a_listing_shares_every_node() -> None:
    got = explain(RuleIndex(RuleDocument()), SUPPLY, listing())
    assert got.quantity == 200
    assert got.steps[0].step == "shared-everywhere"


def test_normal_water_applies_each_mode() -> None:
    d = doc(allocations=[
        {"pool": "EAST", "channel": "tmall", "mode": "shared"},
        {"pool": "EAST", "channel": "jd", "mode": "quota", "quota": 30},
        {"pool": "EAST", "channel": "douyin", "mode": "ratio", "ratio_pct": 25},
    ])  # fmt: skip
    assert qty(d, listing("tmall")) == 100
    assert qty(d, listing("jd")) == 30
    assert qty(d, listing("douyin")) == 25


def test_low_water_cuts_the_others_to_their_caps_and_the_core_keeps_the_rest() -> None:
    d = doc(
        allocations=[
            {"pool": "EAST", "channel": "tmall", "core": True},
            {"pool": "EAST", "channel": "jd", "mode": "quota", "quota": 30},
            {"pool": "EAST", "channel": "pdd"},  # shared, not core: nothing when the water is low
        ],
        water_levels=[{"pool": "EAST", "low": 150, "high": 500}],
    )
    assert qty(d, listing("jd")) == 30
    assert qty(d, listing("tmall")) == 70
    assert qty(d, listing("pdd")) == 0
    steps = explain(RuleIndex(d, 1), SUPPLY, listing("tmall")).steps
    assert steps[0].inputs["water"] == "low" and steps[0].inputs["pool_available"] == 100


def test_high_water_shares_everything_with_everyone() -> None:
    d = doc(
        allocations=[{"pool": "EAST", "channel": "jd", "mode": "quota", "quota": 30}],
        water_levels=[{"pool": "EAST", "low": 10, "high": 100}],
    )
    assert qty(d, listing("jd")) == 100


def test_a_shop_allocation_beats_its_channel_allocation() -> None:
    d = doc(allocations=[
        {"pool": "EAST", "channel": "tmall", "mode": "quota", "quota": 10},
        {"pool": "EAST", "channel": "tmall", "shop_id": "S2", "mode": "quota", "quota": 20},
    ])  # fmt: skip
    assert qty(d, listing("tmall", "S1")) == 10
    assert qty(d, listing("tmall", "S2")) == 20


def test_safety_stock_per_node_material_and_channel() -> None:
    d = doc(
        allocations=[{"pool": "EAST", "channel": "tmall"}],
        safety_stock=[
            {"node_code": "WH-HZ", "material_code": "M1", "qty": 5},
            {"node_code": "STORE-SH", "qty": 50},  # more than it holds: it offers 0, never negative
            {"material_code": "M1", "qty": 3},
            {"channel": "tmall", "qty": 2},
        ],
    )
    assert qty(d, listing("tmall")) == (60 - 5) + 0 - 3 - 2


def test_a_bundle_sells_what_its_scarcest_part_allows() -> None:
    bundle = listing(parts=(("M1", 3), ("M2", 2)))
    assert qty(RuleDocument(), bundle) == min(200 // 3, 7 // 2)
    steps = explain(RuleIndex(RuleDocument()), SUPPLY, bundle).steps
    assert steps[-1].step == "bundle" and steps[-1].value == 3


def test_the_listing_formula_percent_plus_max_and_min() -> None:
    def with_rule(**r: object) -> int:
        return qty(doc(listing_rules=[{"listing_id": "L1", **r}]), listing())

    assert with_rule(percent=50) == 100
    assert with_rule(percent=50, plus=-10) == 90
    assert with_rule(plus=-500) == 0  # never below 0
    assert with_rule(max_qty=20) == 20
    assert with_rule(percent=1, min_qty=5) == 5
    small = {("WH-HZ", "M1"): 3}
    assert qty(doc(listing_rules=[{"listing_id": "L1", "percent": 10, "min_qty": 5}]), listing(), small) == 3


def test_dedicated_supply_nodes_bypass_the_pools() -> None:
    d = doc(
        allocations=[{"pool": "EAST", "channel": "tmall", "mode": "quota", "quota": 1}],
        listing_rules=[{"listing_id": "L1", "supply_nodes": ["WH-BJ"]}],
    )
    assert qty(d, listing()) == 100


def test_off_sale_and_unknown_products_sell_nothing() -> None:
    assert qty(RuleDocument(), listing(status="off_sale")) == 0
    assert qty(RuleDocument(), ListingView("L1", "tmall", "S1", "on_sale", True, ())) == 0


def test_shapes_are_refused_by_the_models() -> None:
    bad = [
        {"allocations": [{"pool": "P", "channel": "tmall", "mode": "ratio", "ratio_pct": 120}]},
        {"safety_stock": [{"material_code": "M1", "qty": -1}]},
        {"water_levels": [{"pool": "P", "low": 10, "high": 5}]},
        {"allocations": [{"pool": "P", "channel": "tmall", "mode": "quota"}]},
        {"safety_stock": [{"node_code": "WH-HZ", "channel": "tmall", "qty": 1}]},
    ]
    for body in bad:
        with pytest.raises(ValidationError):
            RuleDocument.model_validate(body)


def test_every_reference_problem_is_listed_at_once() -> None:
    d = RuleDocument.model_validate({
        "pools": [{"code": "EAST", "nodes": ["WH-HZ", "NOPE"]}, {"code": "ALL", "nodes": ["WH-HZ", "WH-BJ"]}],
        "allocations": [
            {"pool": "EAST", "channel": "tmall"},
            {"pool": "ALL", "channel": "tmall"},
            {"pool": "EAST", "channel": "martian"},
            {"pool": "EAST", "channel": "jd", "mode": "ratio", "ratio_pct": 70},
            {"pool": "EAST", "channel": "pdd", "mode": "ratio", "ratio_pct": 40},
            {"pool": "GONE", "channel": "xhs"},
        ],
        "listing_rules": [{"listing_id": "L9"}],
    })  # fmt: skip
    found = {p.path: p.message for p in problems(d, KNOWN)}
    assert found["body.pools[0].nodes[1]"] == "unknown node NOPE"
    assert "overlapping pools EAST and ALL" in found["body.allocations[1].pool"]
    assert found["body.allocations[2].channel"] == "unknown channel martian"
    assert "add up to 110 %" in found["body.allocations"]
    assert found["body.allocations[5].pool"] == "unknown pool GONE"
    assert found["body.listing_rules[0].listing_id"] == "unknown listing L9"
    assert problems(doc(allocations=[{"pool": "EAST", "channel": "tmall"}]), KNOWN) == []


# -- the invariant --------------------------------------------------------------------------------------
CHANNELS = ["tmall", "jd", "pdd", "douyin", "xhs"]
allocation = st.builds(
    lambda channel, mode, n, pct, prio, core: Allocation(
        pool="P", channel=channel, mode=mode, quota=n if mode == "quota" else None,
        ratio_pct=pct if mode == "ratio" else None, priority=prio, core=core,
    ),
    st.sampled_from(CHANNELS), st.sampled_from(["shared", "quota", "ratio"]), st.integers(0, 500),
    st.integers(0, 100), st.integers(0, 5), st.booleans(),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(allocation, max_size=6, unique_by=lambda a: a.channel), st.integers(0, 10_000))
def test_low_water_shares_never_add_up_to_more_than_the_pool(
    allocs: list[Allocation], available: int
) -> None:
    shares = pool_shares(allocs, available, "low")
    assert sum(shares.values()) <= available
    assert all(v >= 0 for v in shares.values())


@st.composite
def estate(draw: st.DrawFn) -> tuple[RuleDocument, dict[tuple[str, str], int], list[ListingView]]:
    """Random nodes split into disjoint pools, random allocations of them, every pool at low water, random
    stock (after random orders reserved some), and one listing per channel per material."""
    nodes = [f"N{i}" for i in range(draw(st.integers(1, 6)))]
    n_pools = draw(st.integers(1, len(nodes)))
    owner = {n: draw(st.integers(0, n_pools - 1)) for n in nodes}
    pools = [{"code": f"P{p}", "nodes": [n for n in nodes if owner[n] == p]} for p in range(n_pools)]
    pools = [p for p in pools if p["nodes"]]
    allocations, used = [], set()
    for ch in CHANNELS:
        pool = draw(st.sampled_from(pools))["code"]
        mode = draw(st.sampled_from(["shared", "quota", "ratio"]))
        allocations.append({
            "pool": pool, "channel": ch, "mode": mode, "core": draw(st.booleans()),
            "priority": draw(st.integers(0, 3)),
            **({"quota": draw(st.integers(0, 300))} if mode == "quota" else {}),
            **({"ratio_pct": draw(st.integers(0, 20))} if mode == "ratio" else {}),
        })  # fmt: skip
        used.add(pool)
    water = [{"pool": p["code"], "low": 10**9, "high": 10**9} for p in pools]  # always below low
    one = st.builds(lambda n, q: {"node_code": n, "qty": q}, st.sampled_from(nodes), st.integers(0, 20))
    safety = draw(st.lists(one, max_size=3, unique_by=lambda s: s["node_code"]))
    d = RuleDocument.model_validate(
        {"pools": pools, "allocations": allocations, "water_levels": water, "safety_stock": safety}
    )
    supply: dict[tuple[str, str], int] = {}
    for n in nodes:
        for m in ("M1", "M2"):
            on_hand = draw(st.integers(0, 400))
            reserved = draw(st.integers(0, on_hand))  # what random orders hold
            supply[(n, m)] = on_hand - reserved
    views = [
        ListingView(f"{c}-{m}", c, "S", "on_sale", True, ((m, 1),)) for c in CHANNELS for m in ("M1", "M2")
    ]
    return d, supply, views


@settings(max_examples=200, deadline=None)
@given(estate())
def test_with_low_water_the_channels_never_sell_more_than_is_available(
    case: tuple[RuleDocument, dict[tuple[str, str], int], list[ListingView]],
) -> None:
    d, supply, views = case
    assert problems(d, Known(frozenset(n for n, _ in supply), frozenset(), frozenset())) == []
    idx = RuleIndex(d, 1)
    for m in ("M1", "M2"):
        offered = sum(material_supply(idx, supply, v, m, []) for v in views if v.components[0][0] == m)
        assert offered <= sum(q for (_, mm), q in supply.items() if mm == m)


def test_a_huge_bad_document_is_checked_quickly_and_its_problems_are_capped() -> None:
    pools = [{"code": f"P{i}", "nodes": [f"N{j}" for j in range(500)]} for i in range(200)]
    allocs = [{"channel": "tmall", "pool": "P0"}] * 2000
    found = problems(RuleDocument.model_validate({"pools": pools, "allocations": allocs}), KNOWN)
    assert len(found) == 201 and found[-1].message.startswith("and ")
    assert found[0].message == "unknown node N0"


def test_numbers_and_booleans_are_what_json_schema_says() -> None:
    ok = RuleDocument.model_validate_json('{"allocations": [{"pool": "P", "channel": "jd", "mode": "quota", '
                                          '"quota": 3.0, "core": true}]}')  # fmt: skip
    assert ok.allocations[0].quota == 3
    for bad in ('"core": 0', '"quota": false', '"quota": "3"'):
        with pytest.raises(ValidationError):
            body = '{"pool": "P", "channel": "jd", "mode": "quota", "quota": 3, ' + bad + "}"
            RuleDocument.model_validate_json(f'{{"allocations": [{body}]}}')
