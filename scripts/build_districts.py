"""Build the packaged district and state boundaries (src/reportminer/data/germany_districts.geojson) for the
offline maps of reportminer.maps, from BKG's VG5000 boundaries in ../shared/data/geo.

Usage: python scripts/build_districts.py [../shared/data/geo] [--tolerance 0.01]

Needs shapely (a development tool here, not a dependency of reportminer: `pip install shapely`). Each
district and state polygon is simplified (Douglas-Peucker, ``--tolerance`` degrees, 0.02 by default: about 2 km, finer than a pixel of a page-wide map; topology kept) and its
coordinates rounded to 3 decimals (about 100 m), which is plenty for a map of Germany a page wide. Features
keep the official key (``ARS``: 5 digits a district, 2 a state), the name and the kind (``district`` or
``state``). Licence: Datenlizenz Deutschland – Namensnennung 2.0; the source note "© GeoBasis-DE / BKG 2021
(Daten verändert)" goes with every map (reportminer.maps draws it) and into data/GEO_SOURCES.txt.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "src" / "reportminer" / "data" / "germany_districts.geojson"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("geo", nargs="?", type=Path, default=ROOT.parent / "shared" / "data" / "geo")
    ap.add_argument("--tolerance", type=float, default=0.02, help="simplification in degrees (default 0.02)")
    args = ap.parse_args()
    try:
        from shapely.geometry import mapping, shape
    except ImportError:
        sys.exit("needs shapely: pip install shapely")
    sources = {
        "district": args.geo / "kreise_vg5000_2021.geojson",
        "state": args.geo / "laender_vg5000_2021.geojson",
    }
    for path in sources.values():
        if not path.exists():
            sys.exit(
                f"{path} not found: ../shared/data/geo (BKG VG5000 boundaries) must be beside the repository"
            )
    features = []
    for kind, path in sources.items():
        for f in json.loads(path.read_text(encoding="utf-8"))["features"]:
            geom = shape(f["geometry"]).simplify(args.tolerance, preserve_topology=True)
            geo = json.loads(json.dumps(mapping(geom)), parse_float=lambda x: round(float(x), 3))
            props = f["properties"]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"key": props["ARS"], "name": props["GEN"], "kind": kind},
                    "geometry": geo,
                }  # fmt: skip
            )
    collection = {
        "type": "FeatureCollection",
        "attribution": "© GeoBasis-DE / BKG 2021 (Daten verändert); dl-de/by-2-0, https://www.bkg.bund.de",
        "features": features,
    }
    DEST.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    n = {k: sum(f["properties"]["kind"] == k for f in features) for k in sources}
    print(f"{DEST}: {n['district']} districts, {n['state']} states, {DEST.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
