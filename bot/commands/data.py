"""``bosai data import`` and ``bosai data status``: the open-data cache of the GIS layer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("data", help="import and inspect open hazard-map data")
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    imp = sub.add_parser(
        "import",
        help="import GSI sites and hazard zones into the GIS cache",
        description=(
            "Read, validate and normalise open data into the GIS cache (GeoParquet). "
            "Without arguments, imports the default set from BOSAI_DATA_SOURCE "
            "(../shared/data). Nothing is written when any input has a problem."
        ),
    )
    imp.add_argument(
        "sources",
        nargs="*",
        metavar="PATH_OR_URL",
        help="files (GSI CSV/GeoJSON, Shapefile/.zip, GeoPackage, YAML manifest), "
        "folders or http(s) URLs",
    )
    imp.add_argument("--cache", type=Path, default=None, help="cache folder (default: settings)")
    imp.add_argument(
        "--if-stale",
        action="store_true",
        help="import only when the cache is missing or older than the sources",
    )
    imp.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    imp.set_defaults(func=cmd_import)

    st = sub.add_parser("status", help="show what the GIS cache holds")
    st.add_argument("--cache", type=Path, default=None, help="cache folder (default: settings)")
    st.add_argument("--json", action="store_true", help="print the manifest as JSON")
    st.set_defaults(func=cmd_status)

    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def _cache(args: argparse.Namespace) -> Path:
    if args.cache is not None:
        return Path(args.cache)
    from bot.settings import get_settings

    return get_settings().gis_cache_dir


def _default_sources() -> list[str]:
    from bot.settings import get_settings

    src = get_settings().data_source
    return [src] if src else []


def cmd_import(args: argparse.Namespace) -> int:
    from gis.errors import DataImportError
    from gis.importer import import_data, import_if_stale

    sources = list(args.sources) or _default_sources()
    if not sources:
        print("no sources given and no data source configured (BOSAI_DATA_SOURCE)", file=sys.stderr)
        return 2
    cache = _cache(args)

    def log(line: str) -> None:
        if not args.quiet:
            print(line)

    try:
        if args.if_stale:
            import_if_stale(cache, sources, log)
        else:
            import_data(sources, cache, log)
    except DataImportError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from gis.importer import is_stale, read_manifest

    cache = _cache(args)
    manifest = read_manifest(cache)
    if manifest is None:
        if args.json:
            print(json.dumps({"cache": str(cache), "loaded": False}))
        else:
            print(f"no GIS cache at {cache}; run `bosai data import`")
        return 1
    defaults = _default_sources()
    stale_reason = None
    if defaults:
        stale, reason = is_stale(cache, defaults)
        stale_reason = reason if stale else None
    if args.json:
        print(
            json.dumps(
                manifest | {"cache": str(cache), "loaded": True, "stale": stale_reason},
                ensure_ascii=False,
                indent=1,
            )
        )
        return 0
    print(
        f"GIS cache {cache} (imported {manifest['created_at']}): "
        f"{manifest['counts']['sites']} sites, {manifest['counts']['zones']} zones"
    )
    if stale_reason:
        print(f"  stale against the default sources: {stale_reason}")
    for rec in manifest["layers"]:
        bbox = rec.get("bbox") or []
        box = ",".join(f"{v:.3f}" for v in bbox)
        print(
            f"  {rec['layer']:<40} {rec['kind']:<15} {rec['feature_count']:>7}  "
            f"date {rec.get('data_date')}  bbox {box}"
        )
    attributions = sorted({r["attribution"] for r in manifest["layers"] if r.get("attribution")})
    for line in attributions:
        print(f"  {line}")
    return 0
