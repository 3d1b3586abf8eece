"""Maps: reports placed in districts from the packaged boundaries, drawn offline, seen in Chromium."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reportminer import maps
from reportminer.cli import app

from .test_web import browser  # noqa: F401 (the headless Chromium fixture)


@pytest.mark.parametrize(
    ("lon", "lat", "key"),
    [
        (12.488, 50.727, "14524"),  # Zwickau, in the Landkreis Zwickau
        (12.138, 50.495, "14523"),  # Plauen, in the Vogtlandkreis
        (13.405, 52.520, "11000"),  # Berlin
        (7.624, 51.962, "05515"),  # Münster, a kreisfreie Stadt
        (2.35, 48.86, None),  # Paris
    ],
)
def test_district_of_a_point(lon, lat, key):
    assert maps.district_of(lon, lat) == key


def test_packaged_boundaries_cover_every_district_with_their_source_note():
    regions = maps.regions()
    districts = {r.key for r in regions if r.kind == "district"}
    assert len(districts) == 401 and {r.key for r in regions if r.kind == "state"} == {
        f"{i:02d}" for i in range(1, 17)
    }
    data = json.loads(maps.BOUNDARIES.read_text(encoding="utf-8"))
    assert data["attribution"].startswith(maps.SOURCE_NOTE)


def test_reports_are_placed_in_their_districts(corpus_tables):
    _, out = corpus_tables
    data = maps.map_data(out)
    counts = maps.district_counts(data)
    # the sample corpus is about Zwickau, the Vogtland, Leipzig's surroundings, Steinfurt and others
    assert counts["14524"] >= 4 and counts["14523"] >= 2 and counts["05566"] >= 2
    assert len(data.districts_of) >= 14
    plauen = data.towns[data.towns["name"] == "Plauen"].iloc[0]
    assert maps.district_of(plauen["lon"], plauen["lat"]) == "14523" and len(plauen["doc_ids"]) >= 2


def test_map_page_and_html_summary_have_the_maps(corpus_tables, tmp_path):
    _, out = corpus_tables
    page = tmp_path / "map.html"
    result = CliRunner().invoke(app, ["map", str(page), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 2 and maps.SOURCE_NOTE in text
    assert "http" not in text.replace("https://www.bkg.bund.de", "")  # nothing loaded from a server
    summary = tmp_path / "summary.html"
    result = CliRunner().invoke(
        app, ["summarize", "--out", str(out), "--format", "html", "--output", str(summary)]
    )
    assert result.exit_code == 0, result.output
    assert summary.read_text(encoding="utf-8").count('<figure class="map">') == 2


def test_map_without_outputs_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["map", str(tmp_path / "m.html"), "--out", str(tmp_path / "none")])
    assert result.exit_code == 2 and "run `reportminer run" in result.output


@pytest.mark.slow
def test_map_renders_in_chromium(corpus_tables, tmp_path, browser):  # noqa: F811
    _, out = corpus_tables
    page = tmp_path / "map.html"
    page.write_text(maps.map_html(out), encoding="utf-8")
    browser.get(page.as_uri())
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt]);"
    )
    assert len(sizes) == 2
    for complete, width, height, alt in sizes:
        assert complete and width > 500 and height > 400, alt
    assert sizes[0][3].startswith("Map: reports per district")
