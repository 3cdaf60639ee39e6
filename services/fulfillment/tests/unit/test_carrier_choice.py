"""Choosing a parcel's carrier: the cheapest within the promise, then the fallbacks (does not serve, down,
no band, full, past the cut-off, refused at ship time), degraded carriers last, pins and the OMS rules'
preferences first; every loser's reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from omni_fulfillment.domain.carrier_choice import Parcel, choose
from omni_fulfillment.domain.carriers import (
    Area,
    Band,
    Carrier,
    Health,
    Pin,
    PinKind,
    Promise,
    Region,
    RegionDays,
)

HZ = Region("浙江省", "杭州市", "西湖区")
MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
EVENING = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
TODAY = date(2026, 3, 2)


def c(code: str, first: int, step: int = 100, days: int = 2, **over) -> Carrier:
    bands = (Band(0, None, 1000, first, 1000, step),)
    return Carrier(code=code, name=code, bands=bands, default_sla_days=days, **over)


def parcel(weight: int = 2500, **over) -> Parcel:
    return Parcel(**{"task_id": "T1", "order_id": "O1", "shop_id": "shop-1", "region": HZ, "weight_g": weight,
                     "materials": frozenset({"M1"}), **over})  # fmt: skip


def pick(carriers, p=None, pins=(), promise=Promise(3), used=None, now=MORNING):
    return choose(p or parcel(), carriers, list(pins), promise, used or {}, now)


def why(choice, code):
    return next(x.reason for x in choice.considered if x.carrier == code)


def test_the_cheapest_within_the_promise_wins_and_the_others_say_why_they_lost():
    got = pick([c("YTO", 600, days=4), c("SF", 1200), c("ZTO", 900)])
    assert (got.carrier, got.cost_cents, got.sla_days, got.ship_day) == ("ZTO", 1100, 2, TODAY)
    assert got.reason == "ZTO: the cheapest within the promised 3 days: ¥11.00, 2 days for 2,500 g"
    assert why(got, "ZTO") == "chosen: ¥11.00, 2 days"
    assert why(got, "SF") == "lost: ¥3.00 dearer than ZTO (¥14.00, 2 days)"
    assert why(got, "YTO") == "lost: over the promised 3 days (¥8.00, 4 days)"
    assert [x.carrier for x in got.considered] == ["SF", "YTO", "ZTO"]  # every active carrier, by code
    assert [x.chosen for x in got.considered] == [False, False, True]


def test_ties_go_to_the_faster_then_by_code():
    got = pick([c("B", 900, days=2), c("A", 900, days=3), c("C", 900, days=2)])
    assert got.carrier == "B"
    assert why(got, "A") == "lost: as cheap as B but slower (¥11.00, 3 days)"
    assert why(got, "C").startswith("lost: as cheap and as fast as B, which comes first by code")


def test_a_carrier_that_does_not_serve_the_destination_refuses():
    got = pick([c("CHEAP", 100, areas=(Area("广东"),)), c("SF", 1200)])
    assert got.carrier == "SF"
    assert why(got, "CHEAP") == "does not serve 浙江省 杭州市"


def test_down_is_never_taken_and_degraded_only_when_no_healthy_carrier_can():
    down = c("CHEAP", 100, health=Health.DOWN, health_note="typhoon")
    degraded = c("MID", 500, health=Health.DEGRADED)
    got = pick([down, degraded, c("SF", 1200)])
    assert got.carrier == "SF"
    assert why(got, "CHEAP") == "down (typhoon)"
    assert why(got, "MID").startswith("lost: degraded: taken only when no healthy carrier can")
    alone = pick([down, degraded, c("SF", 1200, areas=(Area("广东"),))])
    assert alone.carrier == "MID" and "degraded: no healthy one could take it" in alone.reason


def test_no_band_for_the_weight_refuses():
    small = Carrier("SMALL", "s", (Band(0, 2000, 1000, 100, 1000, 100),))
    got = pick([small, c("SF", 1200)])
    assert got.carrier == "SF" and why(got, "SMALL") == "no weight band of it holds 2,500 g to 浙江省 杭州市"


def test_a_full_carrier_is_skipped_counting_its_day():
    cheap = c("CHEAP", 100, daily_capacity=2)
    assert pick([cheap, c("SF", 1200)], used={("CHEAP", TODAY): 1}).carrier == "CHEAP"
    got = pick([cheap, c("SF", 1200)], used={("CHEAP", TODAY): 2})
    assert got.carrier == "SF" and why(got, "CHEAP") == "full: 2/2 parcels on 2026-03-02"
    # past its cut-off it takes the parcel tomorrow: tomorrow's count is what matters
    late = c("CHEAP", 100, daily_capacity=2, cutoff=time(16, 0), days=1)
    assert pick([late, c("SF", 1200)], used={("CHEAP", TODAY): 2}, now=EVENING).carrier == "CHEAP"
    assert pick([c("Z", 100, daily_capacity=0), c("SF", 1200)]).carrier == "SF"


def test_past_the_cut_off_a_day_more_which_can_miss_the_promise():
    cheap = c("CHEAP", 100, days=3, cutoff=time(16, 0))
    assert pick([cheap, c("SF", 1200)], now=MORNING).carrier == "CHEAP"
    got = pick([cheap, c("SF", 1200)], now=EVENING)
    assert got.carrier == "SF"
    assert why(got, "CHEAP") == (
        "lost: over the promised 3 days (¥3.00, 4 days, past its 16:00 cut-off: taken tomorrow)"
    )
    alone = pick([cheap], now=EVENING)
    assert alone.ship_day == date(2026, 3, 3) and alone.sla_days == 4
    assert alone.reason.startswith("CHEAP: no carrier within the promised 3 days: the fastest")
    assert alone.reason.endswith("over the promised 3 days")


def test_no_carrier_within_the_promise_the_fastest_then_the_cheaper():
    got = pick(
        [c("SLOW", 100, days=6), c("FAST", 2000, days=4), c("FAST2", 1500, days=4)], promise=Promise(2)
    )
    assert got.carrier == "FAST2" and got.sla_days == 4
    assert why(got, "SLOW") == "lost: slower than FAST2 (¥3.00, 6 days)"
    assert why(got, "FAST") == "lost: as fast as FAST2 but ¥5.00 dearer (¥22.00, 4 days)"


def test_the_promise_and_the_sla_follow_the_region():
    far = Region("新疆", "喀什", "")
    promise = Promise(2, (RegionDays(Area("新疆"), 6),))
    slow = c("SLOW", 100, days=2, sla=(RegionDays(Area("新疆"), 5),))
    got = pick([slow, c("SF", 1200, days=2, sla=(RegionDays(Area("新疆"), 3),))], parcel(region=far),
               promise=promise)  # fmt: skip
    assert got.carrier == "SLOW" and got.promised_days == 6 and got.sla_days == 5
    near = pick([c("SLOW", 100, days=4), c("SF", 1200, days=2)], promise=promise)
    assert near.carrier == "SF" and near.promised_days == 2


def test_pins_come_first_sku_then_shop_then_region_and_say_so():
    carriers = [c("CHEAP", 100), c("SF", 1200), c("JD", 1000)]
    region = Pin("R1", "JD", PinKind.REGION, area=Area("浙江"))
    shop = Pin("S1", "SF", PinKind.SHOP, shop_id="shop-1")
    sku = Pin("K1", "JD", PinKind.SKU, material_code="M1")
    assert pick(carriers, pins=[region]).carrier == "JD"
    assert pick(carriers, pins=[region, shop]).carrier == "SF"
    got = pick(carriers, pins=[region, shop, sku])
    assert got.carrier == "JD"
    assert got.reason.startswith("JD: pinned by rule K1 (sku M1): ¥12.00, 2 days")
    assert why(got, "CHEAP") == "lost: JD is pinned by rule K1 (sku M1) (¥3.00, 2 days)"
    assert pick(carriers, pins=[Pin("K2", "SF", PinKind.SKU, material_code="OTHER")]).carrier == "CHEAP"


def test_a_pin_wins_over_the_promise_but_not_over_a_carrier_that_cannot():
    slow = c("SLOW", 1500, days=9)
    got = pick([c("CHEAP", 100), slow], pins=[Pin("S1", "SLOW", PinKind.SHOP, shop_id="shop-1")])
    assert got.carrier == "SLOW" and got.reason.endswith("over the promised 3 days")
    down = c("SLOW", 1500, health=Health.DOWN)
    got = pick([c("CHEAP", 100), down], pins=[Pin("S1", "SLOW", PinKind.SHOP, shop_id="shop-1")])
    assert got.carrier == "CHEAP"
    assert why(got, "SLOW") == "pinned by rule S1 (shop shop-1), but down"


def test_the_oms_rules_preference_is_honoured_within_the_promise():
    carriers = [c("CHEAP", 100), c("SF", 1200), c("SLOW", 200, days=5)]
    got = pick(carriers, parcel(hints=(("SF", "rs-vip v3"),)))
    assert got.carrier == "SF" and got.reason.startswith("SF: preferred by the OMS rules (rs-vip v3)")
    assert why(got, "CHEAP").startswith("lost: SF is preferred by the OMS rules (rs-vip v3)")
    over = pick(carriers, parcel(hints=(("SLOW", "rs"),)))
    assert over.carrier == "CHEAP"
    assert why(over, "SLOW").startswith("preferred by the OMS rules (rs), but lost: over the promised 3 days")


def test_a_carrier_that_refused_the_parcel_is_kept_out_and_the_next_one_chosen():
    carriers = [c("CHEAP", 100), c("SF", 1200), c("JD", 1000)]
    got = pick(carriers, parcel(refused={"CHEAP": "no room on the truck"}))
    assert got.carrier == "JD"
    assert why(got, "CHEAP") == "refused this parcel: no room on the truck"
    pinned = pick(
        carriers, parcel(refused={"SF": "refused"}), pins=[Pin("S1", "SF", PinKind.SHOP, shop_id="shop-1")]
    )
    assert pinned.carrier == "CHEAP" and why(pinned, "SF").startswith(
        "pinned by rule S1 (shop shop-1), but refused"
    )


def test_no_carrier_at_all():
    got = pick([c("ONLY", 100, areas=(Area("广东"),))])
    assert (got.carrier, got.cost_cents, got.ship_day) == (None, None, None)
    assert got.reason == "no carrier can take 2,500 g to 浙江省 杭州市"
    assert pick([]).reason.endswith(": no carrier is configured")
    assert pick([c("X", 100, active=False)]).considered == ()  # a retired carrier is not considered


def test_weight_unknown_is_said_and_an_unknown_destination_only_for_carriers_serving_everywhere():
    got = pick([c("SF", 1200)], parcel(weight=0, unknown_weight=("M9",)))
    assert got.cost_cents == 1200 and got.reason.endswith("for 0 g (weight unknown for M9)")
    nowhere = parcel(region=Region(""))
    got = pick([c("ZJ", 100, areas=(Area("浙江"),)), c("ALL", 900)], nowhere)
    assert got.carrier == "ALL"
    assert why(got, "ZJ") == "the destination has no province: it cannot be told whether it is served"
