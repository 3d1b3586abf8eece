"""Tests for the theme outputs (segment_themes) and reportminer.summaries (Markdown, HTML, CLI)."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from reportminer import store
from reportminer.cli import app
from reportminer.summaries import sentence_spans, summarize

from .conftest import SEED


def test_segment_themes_table(corpus_tables):
    tables, _ = corpus_tables
    seg, docs = tables["segment_themes"], tables["documents"].set_index("doc_id")
    assert len(seg) and list(seg.columns[:6]) == [
        "doc_id",
        "segment",
        "start_char",
        "end_char",
        "theme_id",
        "weight",
    ]
    assert set(seg["theme_id"]) <= set(tables["themes"]["theme_id"])
    for row in seg.head(30).itertuples():
        para = docs.at[row.doc_id, "text"][row.start_char : row.end_char]
        assert para.strip() == para and "\n\n" not in para
    sums = seg.groupby(["doc_id", "segment"])["weight"].sum()
    assert ((sums > 0.98) & (sums < 1.02)).all()
    assert (seg["assigned"].astype(bool) == seg["weight"].ge(0.25)).all()  # its themes: weight >= 0.25
    assert tables["themes"]["theme_key"].notna().all()


def test_seed_report_gets_beteiligung_and_interkommunale_zusammenarbeit(corpus_tables):
    if not SEED.exists():
        pytest.skip(f"needs {SEED} (../shared beside the repository is not present on this machine)")
    tables, _ = corpus_tables
    docs = tables["documents"]
    doc_id = docs.loc[docs["title"] == "3. Vernetzungstreffen der Region Westsachsen", "doc_id"].iloc[0]
    labels = dict(zip(tables["themes"]["theme_id"], tables["themes"]["label"], strict=True))
    dt = tables["doc_themes"]
    seg = tables["segment_themes"]
    # a report's themes: its strongest document themes plus the strongest theme of each paragraph
    found = {labels[t] for t in dt[(dt["doc_id"] == doc_id) & (dt["rank"] <= 3)]["theme_id"]}
    found |= {labels[t] for t in seg[(seg["doc_id"] == doc_id) & (seg["rank"] == 1)]["theme_id"]}
    assert {"Beteiligung", "Interkommunale Zusammenarbeit"} <= found, found


# ---------------------------------------------------------------------------------------------- summaries


def test_sentence_spans_keep_dates_and_offsets():
    text = "Das Treffen fand am 14. März statt. Danach sprach Frau Noack.\nNeue Zeile ohne Punkt"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Das Treffen fand am 14. März statt.", "Danach sprach Frau Noack.", "Neue Zeile ohne Punkt"
    ]  # fmt: skip


def _theme_with_sentences(out):
    themes = store.read_table(out, "themes")
    return themes.sort_values("theme_id").iloc[0]


def test_markdown_overview_and_theme(corpus_tables):
    tables, out = corpus_tables
    overview = summarize(out)
    for label in tables["themes"]["label"]:
        assert label in overview
    assert "Most mentioned entities" in overview
    dates = tables["documents"]["report_date"].dropna()
    assert dates.min() in overview and dates.max() in overview

    theme = _theme_with_sentences(out)
    md = summarize(out, theme=theme["theme_key"])
    assert md.startswith(f"# {theme['label']}")
    assert "Key sentences" in md and "Timeline" in md
    # every key sentence names its report and offsets that slice documents.text back to the sentence
    docs = tables["documents"].set_index("doc_id")
    import re

    found = re.findall(r"„(.+?)“ — \*(.*?)\* \((.*?); doc_id `(\w+)`, chars (\d+)–(\d+)\)", md)
    assert found
    for sentence, title, date, doc_id, start, end in found:
        assert title == docs.at[doc_id, "title"] and date == (docs.at[doc_id, "report_date"] or "undated")
        assert " ".join(docs.at[doc_id, "text"][int(start) : int(end)].split()) == sentence
    assert summarize(out, theme=str(theme["theme_id"])) == md
    assert summarize(out, theme=theme["label"].upper()) == md


def test_html_is_self_contained_with_plots(corpus_tables):
    _, out = corpus_tables
    page = summarize(out, fmt="html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count('src="data:image/png;base64,') == 4  # two plots, the corpus map and the theme maps
    assert 'alt="Themes over time: reports per theme and ' in page  # the heat map
    assert page.count('<figure class="map">') == 2
    # nothing loaded from a server; the maps' source note links to its publisher, as its licence asks
    assert "http://" not in page and "https://" not in page.replace("https://www.bkg.bund.de", "")
    theme = _theme_with_sentences(out)
    one = summarize(out, theme=int(theme["theme_id"]), fmt="html")
    assert "data-doc-id=" in one and "data:image/png;base64," in one


def test_report_text_is_escaped(corpus_tables, tmp_path):
    tables, out = corpus_tables
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    docs = tables["documents"].copy()
    evil = "<script>alert('x')</script> Treffen"
    docs["title"] = evil
    store.write_tables({**tables, "documents": docs}, copy)
    page = summarize(copy, fmt="html")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>" not in summarize(copy, fmt="md")


def test_summarize_cli(corpus_tables, tmp_path):
    _, out = corpus_tables
    runner = CliRunner()
    ok = runner.invoke(app, ["summarize", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "# Themes of the corpus" in ok.output
    target = tmp_path / "s.html"
    ok = runner.invoke(app, ["summarize", "--out", str(out), "--format", "html", "--output", str(target)])
    assert ok.exit_code == 0 and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bad = runner.invoke(app, ["summarize", "--out", str(out), "--theme", "Raumfahrt"])
    assert bad.exit_code == 2
    assert bad.output.strip().startswith("error: no theme 'Raumfahrt'") and bad.output.count("\n") == 1
    bad = runner.invoke(app, ["summarize", "--out", str(out), "--format", "pdf"])
    assert bad.exit_code == 2 and "md or html" in bad.output
    bad = runner.invoke(app, ["summarize", "--out", str(tmp_path / "none")])
    assert bad.exit_code == 2 and "run" in bad.output


# ---------------------------------------------------------------------------------------------- chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_PROBE = """<script>
window.addEventListener("load", () => {
  const sizes = [...document.images].map(i => i.naturalWidth + "x" + i.naturalHeight).join(",");
  document.body.setAttribute("data-image-sizes", sizes);
});
</script>"""


def _chromium(*args: str, tmp_path) -> str:
    import subprocess

    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", *args,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_html_summary_renders_plots_in_headless_chromium(corpus_tables, tmp_path):
    if CHROMIUM is None:
        pytest.skip("needs headless Chromium (Debian package chromium) on PATH")
    import re
    import struct

    import numpy as np
    from PIL import Image

    _, out = corpus_tables
    page = summarize(out, fmt="html")
    probed = tmp_path / "probe.html"  # the summary plus a script that records each image's natural size
    probed.write_text(page.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    dom = _chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri(), tmp_path=tmp_path)
    found = re.search(r'data-image-sizes="([^"]*)"', dom)
    assert found, dom[-2000:]
    sizes = [tuple(int(n) for n in s.split("x")) for s in found.group(1).split(",") if s]
    assert len(sizes) == 4 and all(w > 100 and h > 100 for w, h in sizes), sizes

    shot = tmp_path / "summary.png"
    page_file = tmp_path / "summary.html"
    page_file.write_text(page, encoding="utf-8")
    _chromium(f"--screenshot={shot}", "--window-size=1200,3000", page_file.as_uri(), tmp_path=tmp_path)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1200, 3000)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.std() > 5 and (pixels < 128).mean() > 0.001  # text and plots, not a blank page


def test_theme_periods_are_quarters_for_short_spans_and_years_for_long_ones():
    from reportminer.summaries import ThemeSummary, theme_periods

    short = [ThemeSummary(0, "a", "A", [], 3, timeline=[("2022-01", 2), ("2022-11", 1)]),
             ThemeSummary(1, "b", "B", [], 1, timeline=[("2023-02", 1)])]  # fmt: skip
    counts, periods, unit = theme_periods(short)
    assert unit == "quarter" and periods[0] == "2022-Q1" and periods[-1] == "2023-Q1" and len(periods) == 5
    assert counts.tolist() == [[2, 0, 0, 1, 0], [0, 0, 0, 0, 1]]
    long = [ThemeSummary(0, "a", "A", [], 3, timeline=[("2005-03", 1), ("2024-07", 2)])]
    counts, periods, unit = theme_periods(long)
    assert unit == "year" and periods == [str(y) for y in range(2005, 2025)] and counts.sum() == 3
    assert theme_periods([ThemeSummary(0, "a", "A", [], 0)]) is None
