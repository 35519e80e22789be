"""Sources on the real GSI files and on the small fixtures (formats, encodings, CRS, bad input)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from gis.io.encodings import detect_text_encoding
from gis.models import GSI_FLAG_COLUMNS, HAZARD_KINDS
from gis.sources import SITE_COLUMNS, ZONE_COLUMNS, read_source
from tests.gis.conftest import FIXTURES


def _csv_rows(path: Path, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


# --------------------------------------------------------------------------- GSI CSV (real files)


@pytest.mark.parametrize(
    "name",
    [
        "011002_2.csv",
        "012025_1.csv",
        "012025_2.csv",
        "012041_1.csv",
        "012041_2.csv",
        "012068_1.csv",
        "012068_2.csv",
    ],
)
def test_gsi_csv_bom_detected_and_matches_geojson(data_root, name):
    path = data_root / "gsi" / "csv" / name
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    layers, problems = read_source(path)
    assert problems == []
    (layer,) = layers
    assert layer.encoding == "utf-8-sig"
    gdf = layer.gdf
    rows = _csv_rows(path, "utf-8-sig")
    assert len(gdf) == len(rows)
    assert list(gdf["id"]) == [r["共通ID"] for r in rows]
    assert set(SITE_COLUMNS) <= set(gdf.columns) and gdf.crs.to_epsg() == 6668
    # the same sites in GSI's GeoJSON have the same coordinates and flags
    geo_name = (
        "emergency_sites_hokkaido.geojson"
        if name.endswith("_2.csv")
        else "designated_shelters_hokkaido.geojson"
    )
    features = json.loads((data_root / "gsi" / geo_name).read_text("utf-8"))["features"]
    by_id = {f["properties"]["共通ID"]: f for f in features}
    emergency = name.endswith("_2.csv")
    assert layer.kind == ("emergency_site" if emergency else "shelter")
    for rec in gdf.itertuples():
        f = by_id[rec.id]
        assert (rec.lon, rec.lat) == pytest.approx(tuple(f["geometry"]["coordinates"]), abs=1e-9)
        assert rec.name == f["properties"]["施設・場所名"]
        if emergency:
            for kind in HAZARD_KINDS:
                assert getattr(rec, f"hz_{kind}") == (
                    f["properties"][GSI_FLAG_COLUMNS[kind]] == "1"
                )


def test_gsi_csv_cp932_detected_same_content(data_root):
    cp = data_root / "gsi" / "csv" / "012068_2_cp932.csv"
    utf = data_root / "gsi" / "csv" / "012068_2.csv"
    enc, probs = detect_text_encoding(cp.read_bytes(), str(cp))
    assert (enc, probs) == ("cp932", [])
    (a,), pa = read_source(cp)
    (b,), pb = read_source(utf)
    assert pa == pb == []
    assert a.encoding == "cp932" and b.encoding == "utf-8-sig"
    cols = [c for c in SITE_COLUMNS if c != "layer"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.gdf[cols]).reset_index(drop=True),
        pd.DataFrame(b.gdf[cols]).reset_index(drop=True),
    )
    assert any("釧路" in n for n in a.gdf["municipality"])


def test_gsi_csv_verbatim_excerpt_plain_utf8(data_root):
    path = data_root / "gsi" / "csv" / "mergeFromCity_2_excerpt_sapporo_verbatim.csv"
    (layer,), problems = read_source(path)
    assert problems == []
    assert layer.encoding == "utf-8"
    rows = _csv_rows(path, "utf-8")
    assert len(layer.gdf) == len(rows) == 20
    assert layer.gdf["hz_large_fire"].tolist() == [r["大規模な火事"] == "1" for r in rows]


def test_gsi_geojson_real(data_root):
    path = data_root / "gsi" / "designated_shelters_hokkaido.geojson"
    (layer,), problems = read_source(path)
    assert problems == []
    props = [f["properties"] for f in json.loads(path.read_text("utf-8"))["features"]]
    assert len(layer.gdf) == len(props)
    welfare = sum(p["共通ID"][11:13] == "12" for p in props)
    assert (layer.gdf["kind"] == "welfare_shelter").sum() == welfare > 0
    assert (layer.gdf["kind"] == "shelter").sum() == len(props) - welfare
    assert not layer.gdf[[f"hz_{k}" for k in HAZARD_KINDS]].any().any()


# --------------------------------------------------------------------------- hazard layers


def _one(path: Path):
    layers, problems = read_source(path)
    assert problems == [], [str(p) for p in problems]
    assert len(layers) == 1
    layer = layers[0]
    assert set(ZONE_COLUMNS) <= set(layer.gdf.columns)
    assert layer.gdf.crs.to_epsg() == 6668
    return layer


def test_a40_zipped_shapefile_cp932_jgd2000():
    layer = _one(FIXTURES / "a40_tsunami_cp932.zip")
    assert layer.encoding == "cp932" and layer.crs_in == "EPSG:4612" and layer.kind == "tsunami"
    bands = json.loads((FIXTURES / "a40_bands.json").read_text("utf-8"))
    gdf = layer.gdf
    for i, (_text, lo, hi) in enumerate(bands):
        assert gdf["depth_min_m"][i] == lo
        assert (pd.isna(gdf["depth_max_m"][i]) and hi is None) or gdf["depth_max_m"][i] == hi
    assert layer.repaired == 1  # the bow tie
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[-1].area > 0


def test_a31a_geopackage():
    layer = _one(FIXTURES / "a31a_flood.gpkg")
    gdf = layer.gdf
    assert gdf["river"].tolist() == ["仁淀川", "宇治川", "仁淀川"]
    assert gdf["level"].tolist() == [2, 3, 6]
    assert gdf["label"].tolist() == ["0.5〜3.0m", "3.0〜5.0m", "20.0m以上"]
    assert gdf["scenario"].unique().tolist() == ["想定最大規模"]


def test_a33_shapefile_utf8():
    layer = _one(FIXTURES / "a33_utf8" / "A33-22_39.shp")
    gdf = layer.gdf
    assert layer.encoding == "utf-8"
    assert gdf["name"].tolist() == ["朝倉東", "朝倉東", "鏡川支流"]
    assert gdf["zone_class"].tolist() == ["warning", "special_warning", "warning"]
    assert gdf["phenomenon"].tolist() == ["steep_slope", "steep_slope", "debris_flow"]
    assert layer.data_date == "2020-03-01"


def test_plateau_layers_real(data_root):
    tnm = _one(data_root / "hazard" / "numazu" / "numazu_tnm_genroku_523856.geojson")
    # no code list for this release: ranks only, no invented metres
    assert tnm.gdf["depth_min_m"].isna().all() and tnm.gdf["depth_max_m"].isna().all()
    assert set(tnm.gdf["label"]) == {f"ランク {r}" for r in tnm.gdf["level"]}
    fk = _one(data_root / "hazard" / "fukuoka" / "fukuoka_tnm_tsunami.geojson")
    raw = [
        f["properties"]
        for f in json.loads(
            (data_root / "hazard" / "fukuoka" / "fukuoka_tnm_tsunami.geojson").read_text("utf-8")
        )["features"]
    ]
    assert fk.gdf["level"].tolist() == [int(p["uro:rank"]) for p in raw]
    assert fk.gdf["depth_min_m"].notna().all()
    fld = _one(data_root / "hazard" / "numazu" / "numazu_fld_kanogawa_L2_52385628.geojson")
    assert set(fld.gdf["river"]) == {"狩野川"} and set(fld.gdf["kind"]) == {"flood"}
    lsld = _one(data_root / "hazard" / "numazu" / "numazu_lsld_sediment_zones.geojson")
    raw = [
        f["properties"]
        for f in json.loads(
            (data_root / "hazard" / "numazu" / "numazu_lsld_sediment_zones.geojson").read_text(
                "utf-8"
            )
        )["features"]
    ]
    assert lsld.gdf["name"].tolist() == [p["A33_005"] for p in raw]
    assert (lsld.gdf["zone_class"] == "special_warning").sum() == sum(
        p["A33_002"] == 2 for p in raw
    )
    ok = _one(data_root / "hazard" / "ksj_a33_okayama" / "A33-22_33Polygon_first4.geojson")
    assert ok.gdf["phenomenon"].tolist() == [
        "debris_flow",
        "landslide",
        "steep_slope",
        "steep_slope",
    ]


def test_municipal_manifest():
    layers, problems = read_source(FIXTURES / "municipal" / "kochi_shelters.yaml")
    assert problems == []
    (layer,) = layers
    gdf = layer.gdf
    assert layer.encoding == "cp932" and layer.data_date == "2024-04-01"
    assert layer.attribution.startswith("出典：高知市")
    assert gdf["id"].tolist() == ["K-001", "K-002", "K-003"]
    assert gdf["hz_flood"].tolist() == [True, False, False]
    assert gdf["hz_tsunami"].tolist() == [False, True, False]
    assert gdf["municipality"].unique().tolist() == ["高知県高知市"]
    assert (gdf["kind"] == "emergency_site").all()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name,where,fragment",
    [
        ("outside_japan.csv", "row 3", "outside Japan"),
        ("swapped_latlon.csv", "row 3", "swapped"),
        ("missing_column.csv", None, "missing column 共通ID"),
        ("unknown_encoding.csv", "row 3", "unknown text encoding"),
        ("unrepairable_zone.geojson", "feature 1", "not repairable"),
        ("bad_depth_text.geojson", "feature 0", "not understood"),
        ("unknown_schema.geojson", None, "unknown layer"),
        ("swapped_zone.geojson", "feature 0", "swapped"),
    ],
)
def test_bad_input_named_precisely(name, where, fragment):
    path = FIXTURES / "bad" / name
    _layers, problems = read_source(path)
    assert len(problems) == 1, [str(p) for p in problems]
    (p,) = problems
    assert p.file.endswith(name)
    assert p.where == where or (where and p.where.startswith(where))
    assert fragment in p.message
    assert name in str(p)


def test_missing_file_and_unsupported(tmp_path):
    _l, problems = read_source(tmp_path / "nope.geojson")
    assert "not found" in problems[0].message
    other = tmp_path / "x.txt"
    other.write_text("hello")
    _l, problems = read_source(other)
    assert "unsupported" in problems[0].message


def test_manifest_missing_column(tmp_path):
    (tmp_path / "s.csv").write_text("名前,lat,lon\nA,33.5,133.5\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "type: sites\npath: s.csv\ncolumns: {name: 施設名, lat: lat, lon: lon}\n", encoding="utf-8"
    )
    _l, problems = read_source(tmp_path / "m.yaml")
    assert [p.message for p in problems] == ["missing column 施設名 (mapped as name)"]


@pytest.mark.parametrize(
    "yaml_text,fragment",
    [
        ("type: sites\npath: s.csv\ncolums: {name: 名前}\n", "colums: extra fields not permitted"),
        ("type: places\npath: s.csv\n", "type: unexpected value"),
        ("type: zones\npath: z.geojson\nkind: fire\n", "manifest kind must be one of"),
        ("type: sites\npath: s.csv\ncolumns: {lat: lat, lon: lon}\n", "lacks `name`"),
        (
            "type: sites\npath: s.csv\ncolumns: {name: 名前, lat: lat, lon: lon}\n"
            "hazards: {meteor: 隕石}\n",
            "unknown hazard kind 'meteor'",
        ),
        ("- just\n- a list\n", "manifest needs `path` and `type: sites|zones`"),
    ],
)
def test_manifest_checked_before_the_data_is_read(tmp_path, yaml_text, fragment):
    (tmp_path / "s.csv").write_text("名前,lat,lon\nA,33.5,133.5\n", encoding="utf-8")
    (tmp_path / "m.yaml").write_text(yaml_text, encoding="utf-8")
    layers, problems = read_source(tmp_path / "m.yaml")
    assert layers == []
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].file.endswith("m.yaml") and fragment in problems[0].message


def test_mapped_zone_manifest(tmp_path):
    square = [[133.5, 33.5], [133.51, 33.5], [133.51, 33.51], [133.5, 33.51], [133.5, 33.5]]
    features = [
        {
            "type": "Feature",
            "properties": {"深さ": text, "区域名": f"区域{i}"},
            "geometry": {"type": "Polygon", "coordinates": [square]},
        }
        for i, text in enumerate(["0.5m以上3.0m未満", "5m以上"])
    ]
    (tmp_path / "z.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    (tmp_path / "m.yml").write_text(
        "type: zones\npath: z.geojson\nkind: inland_flood\nlayer: city_inland\n"
        "columns: {depth_text: 深さ, name: 区域名}\nattribution: 出典：テスト市\n",
        encoding="utf-8",
    )
    (layer,), problems = read_source(tmp_path / "m.yml")
    assert problems == []
    assert layer.kind == "inland_flood" and layer.format == "manifest+geojson"
    assert layer.gdf["name"].tolist() == ["区域0", "区域1"]
    assert layer.gdf["depth_min_m"].tolist() == [0.5, 5.0]
    assert layer.gdf["level"].tolist() == [2, 4]
    assert set(layer.gdf["source"]) == {"出典：テスト市"}
