"""Import into the cache: manifest, atomic replacement, refusal on bad input, staleness."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from gis.errors import CacheMissingError, DataImportError
from gis.importer import current_dir, import_data, import_if_stale, is_stale, read_manifest
from gis.service import load_index
from tests.gis.conftest import FIXTURES

GOOD = [
    FIXTURES / "a40_tsunami_cp932.zip",
    FIXTURES / "a31a_flood.gpkg",
    FIXTURES / "a33_utf8" / "A33-22_39.shp",
    FIXTURES / "municipal" / "kochi_shelters.yaml",
]


def _copy(tmp_path: Path) -> list[Path]:
    src = tmp_path / "src"
    shutil.copytree(FIXTURES, src, ignore=shutil.ignore_patterns("bad", "*.py"))
    return [src / p.relative_to(FIXTURES) for p in GOOD]


def test_import_fixtures_and_query(tmp_path):
    cache = tmp_path / "cache"
    manifest = import_data([str(p) for p in GOOD], cache)
    assert manifest["counts"] == {"sites": 3, "zones": 9 + 3 + 3}
    layers = {r["layer"]: r for r in manifest["layers"]}
    assert layers["A40-16_39"]["repaired_geometries"] == 1
    assert layers["A40-16_39"]["encoding"] == "cp932"
    assert layers["kochi_city_shelters"]["data_date"] == "2024-04-01"
    for rec in manifest["layers"]:
        assert rec["attribution"] and rec["data_date"] and rec["feature_count"] > 0
        assert len(rec["bbox"]) == 4
    idx = load_index(cache)
    assert {m["layer"] for m in idx.meta} == set(layers)
    # inside the overlapping A31a zones of two rivers and no other layer
    answer = idx.hazards_at(33.415, 133.415)
    assert sorted(z.river for z in answer.zones) == ["仁淀川", "宇治川"]
    assert {c["layer"] for c in answer.coverage} == {"A31a-20_39"}
    r = idx.nearest(33.555, 133.53, hazard="tsunami", k=1)[0]
    assert r.id == "K-002"


def test_bad_input_refused_and_previous_cache_kept(tmp_path):
    cache = tmp_path / "cache"
    import_data([str(GOOD[0])], cache)
    before = read_manifest(cache)
    gen = current_dir(cache)
    for bad in sorted((FIXTURES / "bad").iterdir()):
        with pytest.raises(DataImportError) as err:
            import_data([str(GOOD[1]), str(bad)], cache)
        assert bad.name in str(err.value)
        assert read_manifest(cache) == before
        assert current_dir(cache) == gen
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith("gen-")) == [gen.name]


def test_duplicate_ids_across_layers_refused(tmp_path, data_root):
    csv_dir = data_root / "gsi" / "csv"
    with pytest.raises(DataImportError) as err:
        import_data(
            [str(csv_dir / "012068_2.csv"), str(csv_dir / "012068_2_cp932.csv")], tmp_path / "c"
        )
    assert "also in layer" in str(err.value)


def test_missing_cache(tmp_path):
    with pytest.raises(CacheMissingError):
        load_index(tmp_path / "none")
    assert read_manifest(tmp_path / "none") is None


def test_staleness(tmp_path):
    sources = _copy(tmp_path)
    cache = tmp_path / "cache"
    assert is_stale(cache, sources) == (True, "no cache")
    assert import_if_stale(cache, sources) is not None
    assert is_stale(cache, sources)[0] is False
    assert import_if_stale(cache, sources) is None
    # touched but same content: not stale
    st = sources[0].stat()
    os.utime(sources[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert is_stale(cache, sources)[0] is False
    # a shapefile sidecar changes size: stale
    dbf = sources[2].with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes() + b" ")
    assert is_stale(cache, sources)[0] is True
    import_data(sources, cache)
    # source set changes: stale
    assert is_stale(cache, sources[:2])[0] is True
    # content change with same size: stale
    yaml_path = sources[3]
    text = yaml_path.read_text("utf-8")
    yaml_path.write_text(text.replace("2024-04-01", "2024-04-02"), "utf-8")
    assert is_stale(cache, sources) == (True, f"{yaml_path} changed content")


def test_default_set_manifest(real_cache, data_root):
    manifest = read_manifest(real_cache)
    names = {r["layer"] for r in manifest["layers"]}
    assert "emergency_sites_hokkaido" in names and "numazu_lsld_sediment_zones" in names
    assert not any("csv" in r["file"] for r in manifest["layers"])  # CSV copies not in the default
    for rec in manifest["layers"]:
        expected = len(json.loads(Path(rec["file"]).read_text("utf-8"))["features"])
        assert rec["feature_count"] == expected
    gsi = next(r for r in manifest["layers"] if r["layer"] == "emergency_sites_hokkaido")
    assert gsi["attribution"].startswith("出典：国土地理院") and gsi["data_date"] == "2025-10-27"
    assert is_stale(real_cache, [str(data_root)])[0] is False


def test_import_from_url_on_loopback(tmp_path):
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/a31a_flood.gpkg"
        manifest = import_data([url], tmp_path / "cache")
        assert manifest["counts"]["zones"] == 3
        assert manifest["layers"][0]["source"] == url
        assert is_stale(tmp_path / "cache", [url])[0] is True  # URLs are always re-fetched
        with pytest.raises(DataImportError):
            import_data([url.replace("a31a_flood.gpkg", "missing.gpkg")], tmp_path / "cache")
    finally:
        server.shutdown()
        server.server_close()
    assert not list((tmp_path / "cache").glob("download-*"))
