"""Maps: where the reports are, drawn offline from the packaged district boundaries.

Districts are coloured by the number of reports that name them: a district named itself ("Landkreis
Zwickau"), or a town in it ("Plauen", placed by its coordinates). Towns are points sized by their reports.
One map for the corpus and one for each of the strongest themes (a report counts for a theme it is
assigned to). The boundaries are BKG's VG5000 (2021), simplified by ``scripts/build_districts.py`` and
shipped in ``data/germany_districts.geojson``; every map carries their source note. No tile server, no
network: the figures are PNGs inside the HTML.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from reportminer.errors import OutputError
from reportminer.store import read_table

log = logging.getLogger(__name__)

BOUNDARIES = Path(__file__).parent / "data" / "germany_districts.geojson"
SOURCE_NOTE = "© GeoBasis-DE / BKG 2021 (Daten verändert)"
MAX_THEME_MAPS = 6


@dataclass(frozen=True)
class Region:
    key: str
    name: str
    kind: str  # "district" or "state"
    rings: tuple[np.ndarray, ...]  # outer rings, lon/lat


@lru_cache(maxsize=1)
def regions() -> tuple[Region, ...]:
    """Districts (401, 5-digit keys) and states (2-digit keys) of the packaged boundaries."""
    data = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    out = []
    for f in data["features"]:
        geom, props = f["geometry"], f["properties"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        rings = tuple(np.asarray(poly[0], dtype=float) for poly in polygons)
        out.append(Region(props["key"], props["name"], props["kind"], rings))
    return tuple(out)


def district_of(lon: float, lat: float) -> str | None:
    """The key of the district that contains the point, or None outside Germany."""
    from matplotlib.path import Path as MplPath

    for region in regions():
        if region.kind != "district":
            continue
        for ring in region.rings:
            lo, hi = ring.min(axis=0), ring.max(axis=0)
            if lo[0] <= lon <= hi[0] and lo[1] <= lat <= hi[1] and MplPath(ring).contains_point((lon, lat)):
                return region.key
    return None


@dataclass
class MapData:
    """Per report, the districts it names; per town, its coordinates and reports."""

    districts_of: dict[str, set[str]]  # doc_id -> district keys
    towns: pd.DataFrame  # entity_id, name, lon, lat, doc_ids (set)


def map_data(out_dir: Path) -> MapData:
    """Read what the maps need from an output folder (entities with their district keys and coordinates,
    and the reports that mention them, boilerplate left out)."""
    entities = read_table(out_dir, "entities")
    mentions = read_table(out_dir, "mentions")
    places = entities[entities["label"] == "LOC"].set_index("entity_id")
    places = places[places["district_key"].notna() | places["lat"].notna()]
    mentions = mentions[mentions["entity_id"].isin(places.index) & ~mentions["in_boilerplate"].fillna(False)]
    district_cache: dict[str, str | None] = {}

    def district(entity_id: str) -> str | None:
        if entity_id not in district_cache:
            row = places.loc[entity_id]
            key = row["district_key"]
            if (key is None or pd.isna(key)) and not pd.isna(row["lat"]):
                key = district_of(float(row["lon"]), float(row["lat"]))
            district_cache[entity_id] = None if key is None or pd.isna(key) else str(key)
        return district_cache[entity_id]

    districts_of: dict[str, set[str]] = {}
    docs_of_town: dict[str, set[str]] = {}
    for doc_id, entity_id in zip(mentions["doc_id"], mentions["entity_id"], strict=True):
        key = district(entity_id)
        if key:
            districts_of.setdefault(doc_id, set()).add(key)
        if not pd.isna(places.at[entity_id, "lat"]):
            docs_of_town.setdefault(entity_id, set()).add(doc_id)
    towns = pd.DataFrame(
        [(e, places.at[e, "name"], float(places.at[e, "lon"]), float(places.at[e, "lat"]), docs)
         for e, docs in docs_of_town.items()],
        columns=["entity_id", "name", "lon", "lat", "doc_ids"],
    )  # fmt: skip
    return MapData(districts_of, towns)


def district_counts(data: MapData, doc_ids: set[str] | None = None) -> dict[str, int]:
    """Reports per district key (of ``doc_ids`` only, when given)."""
    counts: dict[str, int] = {}
    for doc_id, keys in data.districts_of.items():
        if doc_ids is None or doc_id in doc_ids:
            for key in keys:
                counts[key] = counts.get(key, 0) + 1
    return counts


def draw(ax, data: MapData, title: str, doc_ids: set[str] | None = None, *, label_top: int = 8) -> int:
    """Draw one map on the matplotlib axes ``ax``: districts coloured by reports, towns as points, state
    borders, the source note. Returns the number of reports placed on it."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    counts = district_counts(data, doc_ids)
    top = max(counts.values(), default=0)
    cmap = LinearSegmentedColormap.from_list("reports", ["#deebf7", "#08519c"])
    norm = Normalize(vmin=1, vmax=max(top, 2))
    polys, colours = [], []
    for region in regions():
        if region.kind != "district":
            continue
        n = counts.get(region.key, 0)
        for ring in region.rings:
            polys.append(ring)
            colours.append(cmap(norm(n)) if n else (0.95, 0.95, 0.95, 1.0))
    ax.add_collection(PolyCollection(polys, facecolors=colours, edgecolors="white", linewidths=0.25))
    states = [ring for r in regions() if r.kind == "state" for ring in r.rings]
    ax.add_collection(PolyCollection(states, facecolors="none", edgecolors="#555555", linewidths=0.6))
    towns = data.towns
    if doc_ids is not None and len(towns):
        towns = towns.assign(doc_ids=towns["doc_ids"].map(lambda d: d & doc_ids))
    towns = towns[towns["doc_ids"].map(len) > 0] if len(towns) else towns
    if len(towns):
        n = towns["doc_ids"].map(len).to_numpy()
        ax.scatter(towns["lon"], towns["lat"], s=8 + 10 * np.sqrt(n), c="#e6550d", edgecolors="white",
                   linewidths=0.4, zorder=3)  # fmt: skip
        for row in (
            towns.assign(n=n).sort_values(["n", "name"], ascending=[False, True]).head(label_top).itertuples()
        ):
            ax.annotate(str(row.name), (row.lon, row.lat), xytext=(3, 2), textcoords="offset points", fontsize=6,
                        zorder=4)  # fmt: skip
    ax.set_xlim(5.7, 15.2)
    ax.set_ylim(47.2, 55.2)
    ax.set_aspect(1 / np.cos(np.radians(51.2)))  # lon/lat at Germany's middle latitude
    ax.set_axis_off()
    placed = len([d for d in data.districts_of if doc_ids is None or d in doc_ids])
    ax.set_title(f"{title} ({placed} reports placed)", fontsize=9)
    ax.text(0.0, 0.0, SOURCE_NOTE, transform=ax.transAxes, fontsize=5, color="#444444")
    if top:
        from matplotlib.cm import ScalarMappable
        from matplotlib.ticker import MaxNLocator

        bar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.035, pad=0.01)
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
        bar.set_label("reports per district", fontsize=7)
        bar.ax.tick_params(labelsize=6)
    return placed


def map_figures(
    out_dir: Path, max_themes: int = MAX_THEME_MAPS, theme_id: int | None = None
) -> list[tuple[str, str]]:
    """(alt text, base64 PNG) of the corpus map and of the maps of the ``max_themes`` largest themes, or
    with ``theme_id`` the map of that theme alone; empty when no report names a place with a district or
    coordinates."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    data = map_data(out_dir)
    if not data.districts_of:
        return []
    figures = []
    if theme_id is not None:
        themes, members = _themes(out_dir)
        (theme,) = [t for t in themes if int(t.theme_id) == int(theme_id)] or [None]
        if theme is None or not members.get(int(theme_id)):
            return []
        fig, ax = plt.subplots(figsize=(6.5, 7.5))
        draw(ax, data, f"Reports per district: {theme.label}", members[int(theme_id)], label_top=10)
        return [(f"Map: reports of the theme {theme.label} per district, and towns named", _png(fig))]
    fig, ax = plt.subplots(figsize=(6.5, 7.5))
    draw(ax, data, "Reports per district, all themes", label_top=12)
    figures.append(("Map: reports per district and towns named, all reports", _png(fig)))
    themes, members = _themes(out_dir)
    shown = [t for t in themes if members.get(t.theme_id)][:max_themes]
    if shown:
        cols = min(3, len(shown))
        rows = -(-len(shown) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.9 * rows), squeeze=False)
        for ax, theme in zip(axes.flat, shown, strict=False):
            draw(ax, data, str(theme.label), members[theme.theme_id], label_top=4)
        for ax in list(axes.flat)[len(shown) :]:
            ax.set_axis_off()
        fig.tight_layout()
        figures.append(("Maps per theme: reports per district and towns named", _png(fig)))
    return figures


def _themes(out_dir: Path) -> tuple[list, dict[int, set[str]]]:
    """The themes, largest first, and the reports assigned to each."""
    try:
        themes = read_table(out_dir, "themes")
        doc_themes = read_table(out_dir, "doc_themes")
    except OutputError:
        return [], {}
    if "assigned" in doc_themes:
        doc_themes = doc_themes[doc_themes["assigned"].fillna(False).astype(bool)]
    members = {int(t): set(g["doc_id"]) for t, g in doc_themes.groupby("theme_id")}
    ordered = sorted(themes.itertuples(index=False), key=lambda t: -len(members.get(int(t.theme_id), ())))
    return ordered, members


def _png(fig) -> str:
    from reportminer.summaries import _png as png

    return png(fig, dpi=130)


def figure_html(alt: str, png: str) -> str:
    """A map as an HTML figure, with the boundaries' source note and licence in its caption."""
    e = html.escape
    return (
        f'<figure class="map"><img alt="{e(alt)}" src="data:image/png;base64,{png}"><figcaption>{e(alt)}. '
        f'{e(SOURCE_NOTE)}, dl-de/by-2-0, <a href="https://www.bkg.bund.de">www.bkg.bund.de</a></figcaption></figure>'
    )


def map_html(out_dir: Path) -> str:
    """A page of its own with the maps of :func:`map_figures` (``reportminer map``)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise OutputError(f"output folder {out_dir} not found; run `reportminer run --out {out_dir}` first")
    figures = map_figures(out_dir)
    parts = [
        "<!DOCTYPE html>", '<html lang="de"><head><meta charset="utf-8"><title>Where the reports are</title>',
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "img{max-width:100%}</style></head><body><h1>Where the reports are</h1>",
    ]  # fmt: skip
    if not figures:
        parts.append("<p>No report names a place that could be placed on the map.</p>")
    parts.extend(figure_html(alt, png) for alt, png in figures)
    parts.append("</body></html>")
    return "\n".join(parts)
