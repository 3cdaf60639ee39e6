"""`make geo-data`: cpca's adcodes.csv into the order service's divisions.csv (no network: the wheel is
built here)."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from omni_tools.geo_dataset import main

ADCODES = """adcode,name,longitude,latitude
110000000000,北京市,116.407394,39.904211
110100000000,市辖区,116.407394,39.904211
110105000000,朝阳区,116.443205,39.921506
330000000000,浙江省,120.152585,30.266597
330100000000,杭州市,120.209789,30.24692
330101000000,市辖区,,
330106000000,西湖区,120.130194,30.259463
420000000000,湖北省,114.341861,30.546498
429000000000,省直辖县级行政区划,,
429004000000,仙桃市,113.423583,30.361438
"""


def _wheel(tmp_path, licence: bool = True):
    path = tmp_path / "cpca-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cpca/resources/adcodes.csv", ADCODES)
        z.writestr("cpca-9.9.9.dist-info/METADATA", "Metadata-Version: 2.1\nName: cpca\nVersion: 9.9.9\n")
        if licence:
            notice = "The MIT License (MIT)\nCopyright (c) 2018 QinYuan Du\n"
            z.writestr("cpca-9.9.9.dist-info/LICENSE", notice)
    return path


def test_placeholders_are_left_out_and_their_children_hang_under_the_province(tmp_path):
    out = tmp_path / "divisions.csv"
    main(["--wheel", str(_wheel(tmp_path)), "--out", str(out)])
    text = out.read_text(encoding="utf-8")
    assert "# Source: cpca 9.9.9 (PyPI), cpca/resources/adcodes.csv sha256 " in text
    assert "# Rows: 3 provinces, 1 cities, 3 districts." in text
    rows = list(csv.DictReader(io.StringIO("".join(x for x in text.splitlines(True) if x[0] != "#"))))
    assert [(r["adcode"], r["name"], r["level"], r["parent"]) for r in rows] == [
        ("110000", "北京市", "province", ""),
        ("110105", "朝阳区", "district", "110000"),
        ("330000", "浙江省", "province", ""),
        ("330100", "杭州市", "city", "330000"),
        ("330106", "西湖区", "district", "330100"),
        ("420000", "湖北省", "province", ""),
        ("429004", "仙桃市", "district", "420000"),
    ]
    assert (rows[4]["lat"], rows[4]["lng"]) == ("30.259463", "120.130194")
    assert "QinYuan Du" in (tmp_path / "LICENSE-cpca.txt").read_text(encoding="utf-8")
    again = tmp_path / "again.csv"
    main(["--wheel", str(_wheel(tmp_path)), "--out", str(again)])
    assert again.read_bytes() == out.read_bytes()  # deterministic: a regeneration diffs only on real change


def test_a_wheel_without_its_licence_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="LICENSE"):
        main(["--wheel", str(_wheel(tmp_path, licence=False)), "--out", str(tmp_path / "d.csv")])
    assert not (tmp_path / "d.csv").exists()
