"""``bosai gis nearest|hazard|within|search``: query the imported GIS cache.

Every argument is bounded: latitude/longitude inside Japan's extent, ``--k`` 1..50,
``--radius-m`` 1..50,000. ``--json`` prints the stable keys documented in docs/gis.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# gis.extent and gis.models import nothing beyond the standard library: parsing stays light
from gis.extent import JAPAN_BOUNDS
from gis.models import HAZARD_KINDS, SITE_KINDS

MAX_RADIUS_CLI_M = 50_000.0
_HAZARDS = HAZARD_KINDS
_KINDS = (*SITE_KINDS, "any")
_MIN_LON, _MIN_LAT, _MAX_LON, _MAX_LAT = JAPAN_BOUNDS


def _bounded_float(name: str, lo: float, hi: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not (lo <= value <= hi):  # also rejects NaN
            hint = ""
            if name == "--lat" and _MIN_LON <= value <= _MAX_LON:
                hint = " (latitude and longitude swapped?)"
            elif name == "--lon" and _MIN_LAT <= value <= _MAX_LAT:
                hint = " (latitude and longitude swapped?)"
            raise argparse.ArgumentTypeError(f"{name} must be within {lo}..{hi}, got {text}{hint}")
        return value

    return parse


def _bounded_int(name: str, lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if not (lo <= value <= hi):
            raise argparse.ArgumentTypeError(f"{name} must be within {lo}..{hi}, got {value}")
        return value

    return parse


def _point_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lat", required=True, type=_bounded_float("--lat", _MIN_LAT, _MAX_LAT))
    p.add_argument("--lon", required=True, type=_bounded_float("--lon", _MIN_LON, _MAX_LON))
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--cache", type=Path, default=None, help="cache folder (default: settings)")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("gis", help="query shelters and hazard zones")
    sub = parser.add_subparsers(dest="gis_command", metavar="SUBCOMMAND")

    near = sub.add_parser("nearest", help="nearest designated emergency evacuation sites")
    _point_args(near)
    near.add_argument(
        "--hazard", choices=_HAZARDS, default=None, help="only sites designated for this hazard"
    )
    near.add_argument("--k", type=_bounded_int("--k", 1, 50), default=3, help="how many (1..50)")
    near.add_argument(
        "--kind",
        choices=_KINDS,
        default="emergency_site",
        help="site kind (default emergency_site = 指定緊急避難場所)",
    )
    near.set_defaults(func=cmd_nearest)

    haz = sub.add_parser("hazard", help="hazard zones containing a point")
    _point_args(haz)
    haz.set_defaults(func=cmd_hazard)

    within = sub.add_parser("within", help="sites within a radius")
    _point_args(within)
    within.add_argument(
        "--radius-m", required=True, type=_bounded_float("--radius-m", 1.0, MAX_RADIUS_CLI_M)
    )
    within.add_argument("--hazard", choices=_HAZARDS, default=None)
    within.add_argument("--kind", choices=_KINDS, default="emergency_site")
    within.set_defaults(func=cmd_within)

    search = sub.add_parser("search", help="find a site by (part of) its name or address")
    search.add_argument("text")
    search.add_argument("--limit", type=_bounded_int("--limit", 1, 50), default=5)
    search.add_argument("--json", action="store_true")
    search.add_argument("--cache", type=Path, default=None)
    search.set_defaults(func=cmd_search)

    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _index(args: argparse.Namespace):
    from gis.errors import CacheMissingError
    from gis.service import load_index

    cache = args.cache
    if cache is None:
        from bot.settings import get_settings

        cache = get_settings().gis_cache_dir
    try:
        return load_index(cache)
    except CacheMissingError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _attribution(idx) -> list[str]:
    return sorted({m["attribution"] for m in idx.meta if m.get("attribution")})


def _print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=1))


def _print_sites(results, empty: str) -> None:
    if not results:
        print(empty)
    for r in results:
        flags = ",".join(r.hazards) or "-"
        print(
            f"{r.distance_m:>9.0f} m  {r.bearing_deg:5.1f}°  {r.id}  {r.name}  ({r.address})  [{flags}]"
        )
        for z in r.in_hazard_zone:
            print(
                f"{'':>12}注意: this site lies in a {z['kind']} zone {z.get('label') or ''} {z.get('name') or ''}"
            )


def cmd_nearest(args: argparse.Namespace) -> int:
    idx = _index(args)
    if idx is None:
        return 1
    results = idx.nearest(args.lat, args.lon, hazard=args.hazard, k=args.k, kind=args.kind)
    if args.json:
        _print_json(
            {
                "query": {
                    "lat": args.lat,
                    "lon": args.lon,
                    "hazard": args.hazard,
                    "k": args.k,
                    "kind": args.kind,
                },
                "results": [r.to_dict() for r in results],
                "attribution": _attribution(idx),
            }
        )
    else:
        _print_sites(results, "no site found in the loaded data")
    return 0


def cmd_within(args: argparse.Namespace) -> int:
    idx = _index(args)
    if idx is None:
        return 1
    results = idx.within(args.lat, args.lon, args.radius_m, hazard=args.hazard, kind=args.kind)
    if args.json:
        _print_json(
            {
                "query": {
                    "lat": args.lat,
                    "lon": args.lon,
                    "radius_m": args.radius_m,
                    "hazard": args.hazard,
                    "kind": args.kind,
                },
                "results": [r.to_dict() for r in results],
                "attribution": _attribution(idx),
            }
        )
    else:
        _print_sites(results, f"no site within {args.radius_m:.0f} m in the loaded data")
    return 0


def cmd_hazard(args: argparse.Namespace) -> int:
    idx = _index(args)
    if idx is None:
        return 1
    answer = idx.hazards_at(args.lat, args.lon)
    if args.json:
        _print_json(answer.to_dict() | {"attribution": _attribution(idx)})
        return 0
    if answer.zones:
        for z in answer.zones:
            extra = " ".join(x for x in (z.name, z.river and f"river {z.river}", z.scenario) if x)
            print(f"{z.kind:<12} level {z.level}  {z.label or ''}  {extra}  [{z.layer}]")
    else:
        print(
            "No hazard zone in the loaded data contains this point. "
            "This is not a statement of safety."
        )
    if answer.coverage:
        print(
            "Layers with data in this area: "
            + ", ".join(f"{c['layer']} ({c['kind']})" for c in answer.coverage)
        )
    else:
        print("No loaded hazard layer has data around this point.")
    print("Loaded hazard layers: " + (", ".join(answer.loaded_layers) or "none"))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    idx = _index(args)
    if idx is None:
        return 1
    matches = idx.search_sites(args.text, limit=args.limit)
    if args.json:
        _print_json({"query": args.text, "results": [m.to_dict() for m in matches]})
        return 0
    if not matches:
        print("no match")
    for m in matches:
        mark = "*" if m.confident else " "
        print(f"{mark}{m.score:.2f}  {m.site.id}  {m.site.name}  ({m.site.address})")
    return 0
