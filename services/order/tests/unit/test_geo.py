"""The geocoder over China's administrative divisions (domain/geo.py, docs/geo.md)."""

from __future__ import annotations

import pytest

from omni_order.domain.geo import geocode, key, locate, located_trace


def _at(state: str = "", city: str = "", district: str = "") -> tuple[str, str, str] | None:
    found = locate(state, city, district)
    return (found.level, found.adcode, found.name) if found else None


def test_a_province_a_city_and_a_district_each_at_their_level():
    assert _at("浙江省") == ("province", "330000", "浙江省")
    assert _at("浙江省", "杭州市") == ("city", "330100", "杭州市")
    assert _at("浙江省", "杭州市", "西湖区") == ("district", "330106", "西湖区")


@pytest.mark.parametrize(
    "address",
    [
        ("浙江", "杭州", "西湖"),
        ("浙江省", "杭州", "西湖区"),
        (" 浙江 省", "杭州 市", "西湖区 "),
        ("", "杭州市", "西湖区"),
    ],
)
def test_names_with_or_without_their_suffix(address):
    assert _at(*address) == ("district", "330106", "西湖区")


def test_suffix_keys():
    assert [key(n) for n in ("浙江省", "杭州市", "西湖区", "大理白族自治州", "大理州", "广西壮族自治区")] == [
        "浙江", "杭州", "西湖", "大理", "大理", "广西",
    ]  # fmt: skip
    names = ("新疆维吾尔自治区", "内蒙古自治区", "伊犁哈萨克自治州", "湘西土家族苗族自治州")
    assert [key(n) for n in names] == ["新疆", "内蒙古", "伊犁", "湘西"]
    assert [key(n) for n in ("锡林郭勒盟", "喀什地区", "神农架林区", "东乡族自治县", "城区", "杭州")] == [
        "锡林郭勒", "喀什", "神农架", "东乡", "城区", "杭州",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "address",
    [
        ("上海市", "上海市", "徐汇区"),
        ("上海", "市辖区", "徐汇区"),
        ("", "上海", "徐汇区"),
        ("上海市", "徐汇区", ""),
    ],
)
def test_a_municipality_is_its_own_city(address):
    assert _at(*address) == ("district", "310104", "徐汇区")


def test_municipalities_alone_are_located_at_the_city_level():
    assert _at("北京市") == ("city", "110000", "北京市")
    assert _at("", "北京") == ("city", "110000", "北京市")
    assert _at("天津", "天津市", "") == ("city", "120000", "天津市")
    assert _at("重庆市", "县", "忠县") == ("district", "500233", "忠县")
    assert _at("北京", "北京市", "朝阳区") == ("district", "110105", "朝阳区")


def test_a_district_name_shared_by_several_cities_is_told_apart_by_its_city():
    assert _at("江苏省", "南京市", "鼓楼区")[1] == "320106"
    assert _at("江苏省", "徐州市", "鼓楼区")[1] == "320302"
    assert _at("福建省", "福州市", "鼓楼区")[1] == "350102"
    assert _at("江西省", "南昌市", "西湖区")[1] == "360103"  # not Hangzhou's
    assert _at("吉林省", "长春市", "朝阳区")[1] == "220104"  # not Beijing's
    # without the city it stays ambiguous: not guessed, the level above
    assert _at("江苏省", "", "鼓楼区") == ("province", "320000", "江苏省")
    assert _at("", "", "鼓楼区") is None
    # a city's town and its county share a name: the full name decides, the short one is not guessed
    assert _at("甘肃省", "临夏州", "临夏市")[1] == "622901"
    assert _at("甘肃省", "临夏回族自治州", "临夏县")[1] == "622921"
    assert _at("甘肃省", "临夏回族自治州", "临夏") == ("city", "622900", "临夏回族自治州")


def test_cities_the_old_table_did_not_know():
    assert _at("新疆维吾尔自治区", "喀什地区", "") == ("city", "653100", "喀什地区")
    assert _at("新疆", "喀什地区", "喀什市") == ("district", "653101", "喀什市")
    assert _at("云南省", "大理白族自治州", "大理市") == ("district", "532901", "大理市")
    assert _at("云南", "大理州") == ("city", "532900", "大理白族自治州")
    assert _at("海南省", "三沙市") == ("city", "460300", "三沙市")
    assert _at("内蒙古", "锡林郭勒盟", "锡林浩特市")[1] == "152502"
    lat, lng = geocode("喀什地区", "新疆")
    assert abs(lat - 39.47) < 0.3 and abs(lng - 75.99) < 0.3
    assert geocode("三沙市", "海南省")[0] < 18  # out in the South China Sea


def test_county_level_cities_under_their_province():
    assert _at("湖北省", "仙桃市", "") == ("district", "429004", "仙桃市")
    assert _at("湖北省", "省直辖县级行政区划", "仙桃市") == ("district", "429004", "仙桃市")
    # as the tmall adapter sends it
    assert _at("河南省", "济源市", "济源市") == ("district", "419001", "济源市")
    assert _at("新疆", "石河子市") == ("district", "659001", "石河子市")


def test_the_province_given_constrains_the_city():
    # 苏州 is not in 浙江: not guessed
    assert _at("浙江省", "苏州市") == ("province", "330000", "浙江省")
    # a province it cannot read constrains nothing
    assert _at("火星", "杭州市") == ("city", "330100", "杭州市")
    # the most precise level found
    assert _at("浙江省", "杭州市", "火星区") == ("city", "330100", "杭州市")


def test_a_renamed_division_is_found_by_its_short_name():
    # the data predates 2017's 长乐市 -> 长乐区 and 即墨市 -> 即墨区; the short name still finds them
    assert _at("福建省", "福州市", "长乐区")[1] == "350182"
    assert _at("山东省", "青岛市", "即墨区")[1] == "370282"


def test_unknown_or_empty_is_none():
    assert locate("", "火星市", "") is None
    assert locate("", "", "") is None
    assert locate("", "市", "") is None
    assert geocode("火星市") is None


def test_coordinates_are_roughly_right():
    lat, lng = geocode("杭州市")
    assert abs(lat - 30.27) < 0.2 and abs(lng - 120.16) < 0.2
    lat, lng = geocode("北京")
    assert abs(lat - 39.9) < 0.2 and abs(lng - 116.4) < 0.2
    assert geocode("深圳")[0] < geocode("广州")[0]  # Shenzhen lies south of Guangzhou
    hz, xh = locate("浙江", "杭州"), locate("浙江", "杭州", "西湖区")
    assert abs(hz.lat - xh.lat) < 0.1 and abs(hz.lng - xh.lng) < 0.1 and (hz.lat, hz.lng) != (xh.lat, xh.lng)


def test_the_trace_says_where_the_address_was_located():
    e = located_trace({"geo_level": "district", "geo_adcode": "330106"})
    assert (e.stage, e.subject, e.matched, e.why) == (
        "geo", "ship-to address", True, "address located at district 西湖区 (330106)",
    )  # fmt: skip
    e = located_trace({"geo_level": None, "geo_adcode": None})
    assert (e.matched, e.why) == (False, "address not located: routing cannot rank by distance")
