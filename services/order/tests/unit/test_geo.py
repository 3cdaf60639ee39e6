from __future__ import annotations

import pytest

from omni_order.domain.geo import geocode, known_cities

MUST_KNOW = ["杭州", "上海", "北京", "广州", "深圳", "成都", "武汉", "南京", "苏州", "西安", "重庆", "天津"]


@pytest.mark.parametrize("city", MUST_KNOW)
def test_big_cities_with_and_without_the_suffix(city):
    assert geocode(city) is not None
    assert geocode(city + "市") == geocode(city)


def test_at_least_forty_cities_all_inside_china():
    assert len(known_cities()) >= 40
    for city in known_cities():
        lat, lng = geocode(city)
        assert 18 <= lat <= 54 and 73 <= lng <= 135, city


def test_coordinates_are_roughly_right():
    lat, lng = geocode("杭州市")
    assert abs(lat - 30.27) < 0.2 and abs(lng - 120.16) < 0.2
    lat, lng = geocode("北京")
    assert abs(lat - 39.9) < 0.2 and abs(lng - 116.4) < 0.2
    assert geocode("深圳")[0] < geocode("广州")[0]  # Shenzhen lies south of Guangzhou


def test_unknown_or_empty_is_none():
    assert geocode("火星市") is None
    assert geocode("") is None
    assert geocode("市") is None


def test_municipality_given_as_province_with_a_district_as_city():
    assert geocode("市辖区", "上海市") == geocode("上海")
    assert geocode("", "北京") == geocode("北京")
    assert geocode("", "浙江省") is None  # a province alone is too vague


def test_pinyin_and_spacing():
    assert geocode("Hangzhou") == geocode("杭州")
    assert geocode(" 杭州 市 ") == geocode("杭州")
