"""A small pure geocoder: Chinese city name -> approximate (lat, lng) of its centre. Unknown -> None.

Good enough to rank nodes by distance for sourcing; not a street-level geocoder.
"""

from __future__ import annotations

# name (without the 市 suffix): (lat, lng, pinyin)
_CITIES: dict[str, tuple[float, float, str]] = {
    "北京": (39.904, 116.407, "beijing"),
    "上海": (31.230, 121.474, "shanghai"),
    "天津": (39.084, 117.201, "tianjin"),
    "重庆": (29.563, 106.551, "chongqing"),
    "广州": (23.129, 113.264, "guangzhou"),
    "深圳": (22.543, 114.058, "shenzhen"),
    "杭州": (30.274, 120.155, "hangzhou"),
    "成都": (30.573, 104.066, "chengdu"),
    "武汉": (30.593, 114.305, "wuhan"),
    "南京": (32.060, 118.797, "nanjing"),
    "苏州": (31.299, 120.585, "suzhou"),
    "西安": (34.341, 108.940, "xian"),
    "长沙": (28.228, 112.939, "changsha"),
    "郑州": (34.746, 113.625, "zhengzhou"),
    "东莞": (23.021, 113.752, "dongguan"),
    "青岛": (36.067, 120.383, "qingdao"),
    "沈阳": (41.806, 123.432, "shenyang"),
    "宁波": (29.868, 121.544, "ningbo"),
    "昆明": (25.039, 102.718, "kunming"),
    "合肥": (31.821, 117.227, "hefei"),
    "佛山": (23.022, 113.122, "foshan"),
    "无锡": (31.491, 120.312, "wuxi"),
    "厦门": (24.480, 118.089, "xiamen"),
    "福州": (26.074, 119.296, "fuzhou"),
    "济南": (36.651, 117.120, "jinan"),
    "大连": (38.914, 121.615, "dalian"),
    "哈尔滨": (45.803, 126.535, "harbin"),
    "长春": (43.817, 125.324, "changchun"),
    "石家庄": (38.042, 114.515, "shijiazhuang"),
    "南宁": (22.817, 108.367, "nanning"),
    "南昌": (28.682, 115.858, "nanchang"),
    "贵阳": (26.647, 106.630, "guiyang"),
    "太原": (37.870, 112.549, "taiyuan"),
    "温州": (27.994, 120.699, "wenzhou"),
    "泉州": (24.874, 118.676, "quanzhou"),
    "常州": (31.811, 119.974, "changzhou"),
    "南通": (31.980, 120.894, "nantong"),
    "徐州": (34.205, 117.284, "xuzhou"),
    "金华": (29.079, 119.647, "jinhua"),
    "绍兴": (30.030, 120.580, "shaoxing"),
    "嘉兴": (30.746, 120.755, "jiaxing"),
    "台州": (28.656, 121.421, "taizhou"),
    "珠海": (22.271, 113.577, "zhuhai"),
    "惠州": (23.112, 114.416, "huizhou"),
    "中山": (22.517, 113.393, "zhongshan"),
    "烟台": (37.464, 121.448, "yantai"),
    "潍坊": (36.707, 119.161, "weifang"),
    "扬州": (32.394, 119.413, "yangzhou"),
    "兰州": (36.061, 103.834, "lanzhou"),
    "乌鲁木齐": (43.825, 87.617, "urumqi"),
    "呼和浩特": (40.842, 111.749, "hohhot"),
    "海口": (20.044, 110.199, "haikou"),
    "三亚": (18.253, 109.512, "sanya"),
    "拉萨": (29.652, 91.172, "lhasa"),
    "西宁": (36.617, 101.778, "xining"),
    "银川": (38.487, 106.231, "yinchuan"),
}

_INDEX: dict[str, tuple[float, float]] = {}
for _name, (_lat, _lng, _py) in _CITIES.items():
    _INDEX[_name] = _INDEX[_py] = (_lat, _lng)

# Municipalities: platforms often put 北京/北京市 in the province and 市辖区 (or the district) in the city.
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")


def _normalise(name: str) -> str:
    n = "".join(name.split()).lower()
    if n.endswith("市") and len(n) > 2:
        n = n[:-1]
    return n


def geocode(city: str, state: str = "") -> tuple[float, float] | None:
    """(lat, lng) of `city` (with or without 市, or in pinyin), or of a municipality named in `state`."""
    found = _INDEX.get(_normalise(city)) if city else None
    if found is None and state:
        province = _normalise(state)
        if province in _MUNICIPALITIES:
            found = _INDEX[province]
    return found


def known_cities() -> list[str]:
    return list(_CITIES)
