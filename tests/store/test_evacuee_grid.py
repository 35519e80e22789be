"""The evacuee summary never singles out a household: grid cells and bbox totals cover at least
3 registrations (smaller cells are merged into the larger cell around them, or left out)."""

from __future__ import annotations

from itertools import count

from bot.store import Store

_n = count()


def register(store: Store, lat: float, lon: float, people: int = 2, medical: int = 0) -> None:
    who = store.resident_id("line", f"U-grid-{next(_n)}")
    store.upsert_evacuee(
        who, "line", "home", people, {"medical": medical}, [], True, lat=lat, lon=lon
    )


def test_a_cell_with_one_or_two_households_is_not_visible(store: Store) -> None:
    register(store, 43.0615, 141.3515, people=4, medical=1)  # alone in its cell
    register(store, 43.2015, 141.5015)
    register(store, 43.2016, 141.5016)  # two together, far from the first
    summary = store.evacuee_summary(cell_deg=0.01)
    assert summary["cells"] == []
    assert summary["total"]["registrations"] == 3  # the municipality's total stays whole


def test_three_households_make_a_visible_cell(store: Store) -> None:
    for i in range(3):
        register(store, 43.0611 + i * 0.001, 141.3511, people=i + 1)
    cells = store.evacuee_summary(cell_deg=0.01)["cells"]
    assert cells == [
        {
            "min_lat": 43.06,
            "min_lon": 141.35,
            "size_deg": 0.01,
            "merged": False,
            "registrations": 3,
            "people": 6,
            "households_needing_help": 0,
        }
    ]


def test_small_neighbouring_cells_are_merged_into_a_larger_one(store: Store) -> None:
    register(store, 43.0615, 141.3515)
    register(store, 43.0616, 141.3516)
    register(store, 43.0715, 141.3415)  # the next cell, inside the same 0.04° cell
    cells = store.evacuee_summary(cell_deg=0.01)["cells"]
    assert len(cells) == 1
    merged = cells[0]
    assert merged["merged"] is True and merged["size_deg"] == 0.04
    assert merged["registrations"] == 3
    assert merged["min_lat"] <= 43.0615 < merged["min_lat"] + 0.04
    assert merged["min_lon"] <= 141.3515 < merged["min_lon"] + 0.04


def test_bbox_totals_do_not_single_out_a_household(store: Store) -> None:
    for i in range(3):
        register(store, 43.0611 + i * 0.001, 141.3511)
    register(store, 43.0815, 141.3815, people=5, medical=1)  # alone, two cells away
    around_three = (141.35, 43.06, 141.36, 43.07)
    around_all = (141.35, 43.06, 141.39, 43.09)
    alone = (141.381, 43.081, 141.382, 43.082)
    a = store.evacuee_summary(bbox=around_three)
    b = store.evacuee_summary(bbox=around_all)
    assert a["total"] == b["total"]  # one household more inside the area changes nothing
    assert a["total"]["registrations"] == 3
    assert store.evacuee_summary(bbox=alone)["total"]["registrations"] == 0
    assert store.evacuee_summary(bbox=alone)["vulnerable_people"]["medical"] == 0
    # a bbox that cuts a cell counts the whole cell, never a part of it
    sliver = (141.3510, 43.0610, 141.3512, 43.0612)
    assert store.evacuee_summary(bbox=sliver)["total"]["registrations"] == 3
