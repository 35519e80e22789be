"""Districts named in a resident's text (gis/areas.py): parsed from the sites' addresses, found
only when the text names them clearly, never a municipality alone or a district of many towns."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from bot.settings import default_data_source
from gis.areas import MAX_RADIUS_M, AreaIndex, district_of


def _index(rows: list[tuple[str, str, float, float]]) -> AreaIndex:
    return AreaIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])


@pytest.mark.parametrize(
    ("muni", "address", "expected"),
    [
        ("北海道釧路市", "北海道釧路市大町1-1-1", ("釧路市", "大町")),
        ("北海道池田町", "北海道池田町字川合212", ("池田町", "川合")),  # 字 dropped
        ("北海道礼文町", "北海道礼文町大字香深村カフカイ1141", ("礼文町", "香深村カフカイ")),
        ("北海道札幌市", "北海道札幌市白石区川下四条3-1-1", ("札幌市", "白石区川下四条")),
        ("北海道深川市", "北海道深川市音江町字菊丘", ("深川市", "音江町菊丘")),
        ("北海道比布町", "北海道比布町北２線13", ("比布町", "北二線")),  # as 「北一条」: data's numerals
        ("北海道八雲町", "北海道八雲町北3", None),  # 「北」 alone says nothing
        ("北海道登別市", "北海道室蘭市高砂町1-30", None),  # the address is another town's
        ("北海道函館市", "", None),
    ],
)
def test_district_of_an_address(muni, address, expected):
    assert district_of(muni, address) == expected


ROWS = [
    ("北海道釧路市", "北海道釧路市大町1-1", 42.980, 144.380),
    ("北海道釧路市", "北海道釧路市大町2-5", 42.982, 144.384),
    ("北海道釧路町", "北海道釧路町大町3", 43.010, 144.460),  # the same name in the next town
    ("北海道函館市", "北海道函館市大町5-1", 41.767, 140.713),
    ("北海道旭川市", "北海道旭川市豊岡八条4-1", 43.760, 142.410),
    ("北海道美瑛町", "北海道美瑛町字白金", 43.500, 142.640),
    ("北海道美瑛町", "北海道美瑛町字白金10", 43.470, 142.700),  # 5.8 km apart: too wide
    ("北海道厚岸町", "北海道厚岸町湾月町1-1", 43.040, 144.850),
]


def test_a_district_with_its_town_is_found_at_the_centre_of_its_sites():
    idx = _index(ROWS)
    area = idx.find("津波どこに逃げれば 釧路市大町")
    assert area is not None and area.name == "釧路市大町" and area.sites == 2
    assert area.lat == pytest.approx(42.981) and area.lon == pytest.approx(144.382)
    assert 0 < area.radius_m < 300


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("函館 大町 避難所", "函館市大町"),  # the town without 市
        ("函館市大町", "函館市大町"),
        ("旭川市豊岡8条", "旭川市豊岡八条"),  # written with a digit, the data writes 八条
        ("湾月町の高台どこ", "厚岸町湾月町"),  # three characters, one town only
        ("釧路町大町", "釧路町大町"),  # the full name wins over the stem 釧路
    ],
)
def test_found(text, name):
    area = _index(ROWS).find(text)
    assert area is not None and area.name == name


@pytest.mark.parametrize(
    "text",
    [
        "大町",  # three towns have one: which?
        "釧路 大町",  # 釧路市 or 釧路町?
        "釧路",  # a town alone is no point
        "釧路市",
        "美瑛町白金",  # its sites lie 5.8 km apart
        "避難所どこ",
        "",
        "Hakodate",
    ],
)
def test_not_found(text):
    assert _index(ROWS).find(text) is None


def test_too_wide_districts_are_the_limit():
    assert MAX_RADIUS_M == 2500.0


def test_the_shared_data_districts_lie_where_their_sites_are():
    """On the real GSI data: 函館市柏野町's point is the mean of its sites, computed here from the
    raw GeoJSON, and most districts are small enough to stand for a point."""
    data = default_data_source()
    if not Path(str(data)).exists():
        pytest.skip("shared open data not available")
    rows = []
    for name in ("emergency_sites_hokkaido.geojson", "designated_shelters_hokkaido.geojson"):
        raw = json.loads((Path(str(data)) / "gsi" / name).read_text("utf-8"))
        for f in raw["features"]:
            p = f["properties"]
            lon, lat = f["geometry"]["coordinates"][:2]
            rows.append((p["都道府県名及び市町村名"], p["住所"] or "", lat, lon))
    idx = _index(rows)
    area = idx.find("函館市柏野町の避難場所")
    mine = [
        (lat, lon)
        for _, addr, lat, lon in rows
        if unicodedata.normalize("NFKC", addr).startswith("北海道函館市柏野町")
        and unicodedata.normalize("NFKC", addr)[len("北海道函館市柏野町")].isdigit()
    ]
    assert area is not None and area.sites == len(mine) >= 2
    assert area.lat == pytest.approx(sum(p[0] for p in mine) / len(mine))
    assert area.lon == pytest.approx(sum(p[1] for p in mine) / len(mine))
    areas = idx._built()
    assert len(areas) > 3000
    assert sum(a.radius_m <= MAX_RADIUS_M for a in areas) / len(areas) > 0.9
