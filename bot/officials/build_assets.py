"""Install the dashboard's JavaScript libraries from the npm registry and copy them locally.

Usage: ``python -m bot.officials.build_assets`` (runs ``npm ci`` at the repository root when
``node_modules`` is missing or older than ``package-lock.json``, then copies the files the
dashboard serves into ``bot/officials/static/vendor/``, which git ignores). No CDN is used.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"

# (package, file or folder inside the package, destination inside vendor/)
FILES = [
    ("leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet", "dist/images", "leaflet/images"),
    ("leaflet", "LICENSE", "leaflet/LICENSE"),
    (
        "leaflet.markercluster",
        "dist/leaflet.markercluster.js",
        "markercluster/leaflet.markercluster.js",
    ),
    ("leaflet.markercluster", "dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    (
        "leaflet.markercluster",
        "dist/MarkerCluster.Default.css",
        "markercluster/MarkerCluster.Default.css",
    ),
    ("leaflet.markercluster", "MIT-LICENCE.txt", "markercluster/LICENSE"),
    ("socket.io-client", "dist/socket.io.min.js", "socket.io/socket.io.min.js"),
    ("socket.io-client", "LICENSE", "socket.io/LICENSE"),
]
REQUIRED = [dest for _, _, dest in FILES if not dest.endswith("LICENSE")]


def missing_assets(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Files the dashboard needs that are not built yet (empty when ready)."""
    return [dest for dest in REQUIRED if not (vendor_dir / dest).exists()]


def _npm_ci(root: Path) -> None:
    node_modules = root / "node_modules"
    lock = root / "package-lock.json"
    stamp = node_modules / ".package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed: apt-get install npm (or nodejs), then retry")
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=root, check=True)


def build(
    root: Path = REPO_ROOT, vendor_dir: Path = VENDOR_DIR, skip_npm: bool = False
) -> list[Path]:
    if not skip_npm:
        _npm_ci(root)
    written: list[Path] = []
    for package, src, dest in FILES:
        source = root / "node_modules" / package / src
        target = vendor_dir / dest
        if not source.exists():
            if dest.endswith("LICENSE"):
                continue
            raise SystemExit(f"{source} is missing: run `npm ci` at {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-npm", action="store_true", help="only copy from node_modules")
    args = parser.parse_args(argv)
    written = build(skip_npm=args.skip_npm)
    print(f"copied {len(written)} asset(s) into {VENDOR_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
