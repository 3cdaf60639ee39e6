"""Carriers as data: pricing (first + continued weight, rounded up), band edges and regions, service areas,
cut-off, SLA days, pins and the promise; what a carrier refuses to be."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from omni_fulfillment.domain.carriers import (
    Area,
    Band,
    Carrier,
    Pin,
    PinKind,
    Promise,
    Region,
    RegionDays,
    place,
    yuan,
)
from omni_fulfillment.domain.errors import Invalid

HZ = Region("浙江省", "杭州市", "西湖区")
WZ = Region("浙江", "温州", "鹿城区")
SH = Region("上海", "上海市", "浦东新区")


def band(min_g=0, max_g=None, first_g=1000, first=800, step_g=1000, step=200, area=None) -> Band:
    return Band(min_g, max_g, first_g, first, step_g, step, area)


def carrier(**over) -> Carrier:
    return Carrier(**{"code": "SF", "name": "顺丰", "bands": (band(),), **over})


# -- pricing -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("weight", "cents"),
    [
        (0, 800),  # nothing known: the first weight's price
        (1, 800),
        (1000, 800),  # exactly the first weight
        (1001, 1000),  # one gram over: a whole continued unit (ONEX would charge 0.2 fen)
        (2000, 1000),
        (2001, 1200),
        (2500, 1200),
        (10_000, 800 + 9 * 200),
    ],
)
def test_continued_weight_is_rounded_up_per_unit(weight, cents):
    assert band().price(weight) == cents


def test_a_step_that_is_not_a_kilogram_rounds_up_per_step():
    b = band(first_g=500, first=600, step_g=250, step=50)
    assert [b.price(w) for w in (500, 501, 750, 751, 1000, 1001)] == [600, 650, 650, 700, 700, 750]


def test_band_edges_hold_min_and_not_max():
    light, heavy = band(0, 3000, step=100), band(3000, None, first_g=3000, first=2000, step=300)
    c = carrier(bands=(light, heavy))
    assert c.band_for(HZ, 2999) is light and c.band_for(HZ, 3000) is heavy
    assert c.band_for(HZ, 3000).price(3000) == 2000 and c.band_for(HZ, 3001).price(3001) == 2300
    capped = carrier(bands=(band(0, 5000),))
    assert capped.band_for(HZ, 4999) is not None and capped.band_for(HZ, 5000) is None


def test_the_most_specific_region_with_bands_prices_it_and_never_falls_back():
    everywhere = band(0, None)
    zhejiang = band(0, 2000, first=500, area=Area("浙江"))
    hangzhou = band(0, 1000, first=300, area=Area("浙江", "杭州"))
    c = carrier(bands=(everywhere, zhejiang, hangzhou))
    assert c.band_for(HZ, 900) is hangzhou
    assert c.band_for(HZ, 1500) is None  # Hangzhou has bands, none this heavy: not the province's
    assert c.band_for(WZ, 1500) is zhejiang
    assert c.band_for(SH, 50_000) is everywhere


def test_bands_of_one_region_may_not_overlap_but_regions_apart_may():
    with pytest.raises(Invalid, match="overlap"):
        carrier(bands=(band(0, 2000), band(1999, None)))
    with pytest.raises(Invalid, match="overlap"):
        carrier(bands=(band(0, None), band(5000, None)))
    carrier(bands=(band(0, 2000), band(2000, None)))  # touching is fine
    carrier(bands=(band(0, None), band(0, None, area=Area("浙江"))))


@pytest.mark.parametrize(
    "kwargs",
    [{"step_g": 0}, {"first": -1}, {"min_g": 5, "max_g": 5}, {"area": Area("浙江", exclude=True)}],
)
def test_a_band_that_cannot_price_is_refused(kwargs):
    with pytest.raises(Invalid):
        band(**kwargs)


def test_a_carrier_needs_a_band_a_known_time_zone_and_sane_numbers():
    with pytest.raises(Invalid, match="at least one weight band"):
        carrier(bands=())
    with pytest.raises(Invalid, match="time zone"):
        carrier(timezone="Mars/Olympus")
    with pytest.raises(Invalid):
        carrier(daily_capacity=-1)
    with pytest.raises(Invalid, match="twice"):
        carrier(areas=(Area("浙江"), Area("浙江省", exclude=True)))


def test_yuan():
    assert (yuan(0), yuan(5), yuan(1200), yuan(123456)) == ("¥0.00", "¥0.05", "¥12.00", "¥1234.56")


# -- service areas -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "norm"),
    [("浙江省", "浙江"), ("广西壮族自治区", "广西"), ("内蒙古自治区", "内蒙古"), ("香港特别行政区", "香港"),
     ("杭州市", "杭州"), ("西湖区", "西湖"), (" 上海 ", "上海"), ("朝阳区", "朝阳"), ("北京", "北京")],
)  # fmt: skip
def test_place_names_lose_their_suffix(raw, norm):
    assert place(raw) == norm


def test_no_areas_serves_everywhere_and_only_excludes_serve_everywhere_else():
    assert carrier().serves(HZ) and carrier().serves(SH)
    c = carrier(areas=(Area("新疆", exclude=True),))
    assert c.serves(HZ) and not c.serves(Region("新疆维吾尔自治区", "乌鲁木齐市"))


def test_the_most_specific_area_decides():
    c = carrier(
        areas=(
            Area("浙江省"),
            Area("浙江", "温州市", exclude=True),
            Area("浙江", "温州", "鹿城区"),  # back in
        )
    )
    assert c.serves(HZ)
    assert not c.serves(Region("浙江", "温州", "瓯海区"))
    assert c.serves(WZ)
    assert not c.serves(SH)  # includes only: nowhere else


def test_a_district_is_told_apart_by_its_city():
    c = carrier(areas=(Area("北京", "北京", "朝阳区"),))
    assert c.serves(Region("北京市", "北京市", "朝阳区"))
    assert not c.serves(Region("吉林省", "长春市", "朝阳区"))
    assert not c.serves(Region("北京", "北京", ""))  # an area naming a district needs the district


def test_a_longer_official_name_is_the_same_place():
    c = carrier(areas=(Area("湖北", "恩施"),))
    assert c.serves(Region("湖北省", "恩施土家族苗族自治州", "恩施市"))


def test_an_area_names_its_province_and_a_district_its_city():
    with pytest.raises(Invalid):
        Area("")
    with pytest.raises(Invalid):
        Area("浙江", "", "西湖区")


# -- cut-off and SLA -----------------------------------------------------------------------------------------
def test_cut_off_is_local_time_and_past_it_the_parcel_goes_tomorrow():
    c = carrier(cutoff=time(16, 0))  # Asia/Shanghai, UTC+8
    assert c.ship_day(datetime(2026, 3, 2, 7, 59, tzinfo=UTC)) == (date(2026, 3, 2), False)  # 15:59
    assert c.ship_day(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) == (date(2026, 3, 3), True)  # 16:00
    assert c.ship_day(datetime(2026, 3, 2, 17, 0, tzinfo=UTC)) == (date(2026, 3, 3), False)  # 01:00 next day
    assert carrier().ship_day(datetime(2026, 3, 2, 15, 0, tzinfo=UTC)) == (date(2026, 3, 2), False)
    ny = carrier(cutoff=time(16, 0), timezone="America/New_York")
    assert ny.ship_day(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) == (date(2026, 3, 2), False)  # 03:00 there


def test_sla_days_per_region_most_specific_first():
    c = carrier(
        default_sla_days=3,
        sla=(RegionDays(Area("浙江"), 2), RegionDays(Area("浙江", "杭州"), 1), RegionDays(Area("新疆"), 6)),
    )
    assert (c.sla_days(HZ), c.sla_days(WZ), c.sla_days(SH)) == (1, 2, 3)


def test_the_promise_per_region():
    p = Promise(3, (RegionDays(Area("新疆"), 7), RegionDays(Area("浙江", "杭州"), 1)))
    assert (p.days(HZ), p.days(WZ), p.days(Region("新疆", "喀什"))) == (1, 3, 7)
    with pytest.raises(Invalid, match="twice"):
        Promise(3, (RegionDays(Area("新疆"), 7), RegionDays(Area("新疆维吾尔自治区"), 6)))


# -- pins ----------------------------------------------------------------------------------------------------
def test_a_pin_names_exactly_what_its_kind_needs():
    assert Pin("P1", "SF", PinKind.SKU, material_code="M1").applies("s", HZ, frozenset({"M1", "M2"}))
    assert not Pin("P1", "SF", PinKind.SKU, material_code="M1").applies("s", HZ, frozenset({"M2"}))
    assert Pin("P2", "SF", PinKind.SHOP, shop_id="s").applies("s", HZ, frozenset())
    assert Pin("P3", "SF", PinKind.REGION, area=Area("浙江")).applies("x", WZ, frozenset())
    assert not Pin("P3", "SF", PinKind.REGION, area=Area("浙江"), active=False).applies("x", WZ, frozenset())
    with pytest.raises(Invalid):
        Pin("P4", "SF", PinKind.SKU, shop_id="s")
    with pytest.raises(Invalid):
        Pin("P5", "SF", PinKind.SHOP, shop_id="s", material_code="M1")
