"""``bosai data ...`` and ``bosai gis ...`` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.gis.conftest import FIXTURES


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_nearest_json_keys(real_cache, capsys):
    rc = main(
        [
            "gis",
            "nearest",
            "--lat",
            "43.0621",
            "--lon",
            "141.3544",
            "--hazard",
            "flood",
            "--k",
            "4",
            "--json",
            "--cache",
            str(real_cache),
        ]
    )
    assert rc == 0
    out = _json(capsys)
    assert set(out) == {"query", "results", "attribution"}
    assert len(out["results"]) == 4
    first = out["results"][0]
    for key in (
        "id",
        "name",
        "address",
        "municipality",
        "lat",
        "lon",
        "distance_m",
        "bearing_deg",
        "hazards",
        "kind",
        "same_as_shelter",
        "in_hazard_zone",
        "remarks",
    ):
        assert key in first
    assert all("flood" in r["hazards"] for r in out["results"])
    d = [r["distance_m"] for r in out["results"]]
    assert d == sorted(d)


def test_hazard_json_and_text(real_cache, real_index, capsys):
    # a point inside a named sediment zone: take it from the index's own zone geometry
    j = next(i for i, n in enumerate(real_index.zones.cols["name"]) if n)
    p = real_index.zones.geoms[j].representative_point()
    rc = main(
        [
            "gis",
            "hazard",
            "--lat",
            str(p.y),
            "--lon",
            str(p.x),
            "--json",
            "--cache",
            str(real_cache),
        ]
    )
    assert rc == 0
    out = _json(capsys)
    assert {"zones", "coverage", "loaded_layers", "attribution"} <= set(out)
    z = out["zones"][0]
    for key in (
        "kind",
        "level",
        "label",
        "name",
        "source",
        "depth_min_m",
        "depth_max_m",
        "phenomenon",
        "zone_class",
        "river",
    ):
        assert key in z
    assert real_index.zones.cols["name"][j] in {x["name"] for x in out["zones"]}
    rc = main(["gis", "hazard", "--lat", "43.06", "--lon", "141.35", "--cache", str(real_cache)])
    text = capsys.readouterr().out
    assert rc == 0 and "not a statement of safety" in text and "No loaded hazard layer" in text


def test_within_and_search(real_cache, capsys):
    assert (
        main(
            [
                "gis",
                "within",
                "--lat",
                "43.0621",
                "--lon",
                "141.3544",
                "--radius-m",
                "1500",
                "--json",
                "--cache",
                str(real_cache),
            ]
        )
        == 0
    )
    out = _json(capsys)
    assert out["results"] and all(r["distance_m"] <= 1500 for r in out["results"])
    assert (
        main(["gis", "search", out["results"][0]["name"], "--json", "--cache", str(real_cache)])
        == 0
    )
    assert _json(capsys)["results"][0]["score"] == 1.0


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["gis", "nearest", "--lat", "141.35", "--lon", "43.06"], "swapped"),
        (["gis", "nearest", "--lat", "51.5", "--lon", "-0.12"], "--lat must be within"),
        (["gis", "nearest", "--lat", "nan", "--lon", "141"], "--lat must be within"),
        (
            ["gis", "nearest", "--lat", "43", "--lon", "141", "--k", "51"],
            "--k must be within 1..50",
        ),
        (["gis", "nearest", "--lat", "43", "--lon", "141", "--k", "0"], "--k must be within 1..50"),
        (["gis", "nearest", "--lat", "43", "--lon", "141", "--hazard", "meteor"], "invalid choice"),
        (
            ["gis", "within", "--lat", "43", "--lon", "141", "--radius-m", "100000"],
            "--radius-m must be within",
        ),
        (
            ["gis", "within", "--lat", "43", "--lon", "141", "--radius-m", "0"],
            "--radius-m must be within",
        ),
    ],
)
def test_bounded_arguments(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_data_import_status_and_refusal(tmp_path, capsys):
    cache = tmp_path / "cache"
    good = str(FIXTURES / "a31a_flood.gpkg")
    assert main(["data", "import", good, "--cache", str(cache), "-q"]) == 0
    assert main(["data", "import", good, "--cache", str(cache), "--if-stale"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["data", "status", "--cache", str(cache), "--json"]) == 0
    status = _json(capsys)
    assert status["loaded"] and status["counts"]["zones"] == 3
    bad = str(FIXTURES / "bad" / "swapped_latlon.csv")
    assert main(["data", "import", good, bad, "--cache", str(cache)]) == 1
    err = capsys.readouterr().err
    assert "swapped_latlon.csv: row 3" in err and "swapped" in err
    assert (
        main(["gis", "nearest", "--lat", "43", "--lon", "141", "--cache", str(tmp_path / "none")])
        == 1
    )
    assert "bosai data import" in capsys.readouterr().err
