"""Incremental runs: only new or changed reports are analysed; corpus tables are rebuilt from the cache."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reportminer import cache, pipeline, store
from reportminer.errors import OutputError
from reportminer.records import Report
from reportminer.schema import TABLES

from .conftest import CORPUS

COMPARED = [
    "documents",
    "mentions",
    "entities",
    "themes",
    "doc_themes",
    "segment_themes",
    "errors",
    "meetings",
]
FILES = [
    "01_vernetzungstreffen_plauen.txt",
    "04_jugendforum_auerbach.txt",
    "07_interkommunale_kooperation_erzgebirge.txt",
    "14_fachtag_digitale_beteiligung_borna.md",
]


class CountingSteps(pipeline.Steps):
    """The default steps, recording the paths read and the reports analysed in each run."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.analysed: list[str] = []
        self.read_paths: list[str] = []
        read, analyse = self.read, self.analyse

        def counting_read(paths, root):
            self.read_paths.extend(Path(p).name for p in paths)
            return read(paths, root)

        def counting_analyse(reports: list[Report], model):
            self.analysed.extend(r.path for r in reports)
            return analyse(reports, model)

        self.read, self.analyse = counting_read, counting_analyse


def _run(corpus: Path, out: Path, **kwargs) -> tuple[pipeline.RunSummary, CountingSteps]:
    steps = CountingSteps()
    summary = pipeline.run_pipeline(corpus, out, batch_size=2, steps=steps, **kwargs)
    return summary, steps


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for name in COMPARED:
        df = pd.read_parquet(out / "parquet" / f"{name}.parquet")
        tables[name] = df[[c for c in df.columns if c != "run_id"]]
    return tables


def _last_run(out: Path) -> dict:
    return pd.read_parquet(out / "parquet" / "runs.parquet").iloc[-1].to_dict()


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in FILES[:3]:
        shutil.copy(CORPUS / name, folder)
    return folder


def test_add_change_rename_delete_analyse_only_what_changed(corpus, tmp_path):
    out = tmp_path / "out"
    first, steps = _run(corpus, out)
    assert sorted(steps.analysed) == sorted(FILES[:3]) and first.n_documents == 3
    assert (first.n_new, first.n_changed, first.n_unchanged, first.n_removed) == (3, 0, 0, 0)
    baseline = _tables(out)

    # unchanged: nothing read or analysed, the same tables
    again, steps = _run(corpus, out)
    assert steps.analysed == [] and steps.read_paths == []
    counts = (again.n_new, again.n_changed, again.n_unchanged, again.n_removed, again.n_analysed)
    assert counts == (0, 0, 3, 0, 0)
    for name, df in _tables(out).items():
        pd.testing.assert_frame_equal(baseline[name], df, obj=name)
    with sqlite3.connect(out / "reportminer.sqlite") as db:
        assert [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY run_id")] == [
            first.run_id,
            again.run_id,
        ]
    assert list(pd.read_csv(out / "csv" / "runs.csv")["run_id"]) == [first.run_id, again.run_id]

    # a new file: only it is analysed; corpus-level tables take it in
    shutil.copy(CORPUS / FILES[3], corpus)
    added, steps = _run(corpus, out)
    assert steps.analysed == [FILES[3]]
    assert (added.n_new, added.n_unchanged, added.n_documents) == (1, 3, 4)
    docs = pd.read_parquet(out / "parquet" / "documents.parquet")
    assert FILES[3] in set(docs["path"])
    new_id = docs.loc[docs["path"] == FILES[3], "doc_id"].item()
    assert new_id in set(pd.read_parquet(out / "parquet" / "mentions.parquet")["doc_id"])

    # a changed file is analysed again, and only it
    changed = corpus / FILES[0]
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\nDas nächste Treffen findet in Leipzig statt.\n"
    )
    result, steps = _run(corpus, out)
    assert steps.analysed == [FILES[0]]
    assert (result.n_new, result.n_changed, result.n_unchanged, result.n_removed) == (0, 1, 3, 0)
    docs = pd.read_parquet(out / "parquet" / "documents.parquet").set_index("path")
    assert "Leipzig" in docs.loc[FILES[0], "text"]

    # a renamed file: its analysis is reused under the new path
    (corpus / FILES[1]).rename(corpus / "umbenannt.txt")
    renamed, steps = _run(corpus, out)
    assert steps.analysed == [] and steps.read_paths == ["umbenannt.txt"]
    assert (renamed.n_new, renamed.n_removed, renamed.n_documents) == (1, 1, 4)

    # a deleted file: its rows vanish from every table, nothing is analysed
    gone = pd.read_parquet(out / "parquet" / "documents.parquet").set_index("path").loc[FILES[2], "doc_id"]
    (corpus / FILES[2]).unlink()
    deleted, steps = _run(corpus, out)
    assert steps.analysed == [] and (deleted.n_removed, deleted.n_documents) == (1, 3)
    for name in ("documents", "mentions", "doc_themes", "segment_themes", "meetings"):
        assert gone not in set(pd.read_parquet(out / "parquet" / f"{name}.parquet")["doc_id"]), name
    with cache.AnalysisCache.open(out, "unused") as entries:
        assert len(entries) == 3, "entries of deleted, renamed-away and changed files are pruned"

    runs = pd.read_parquet(out / "parquet" / "runs.parquet")
    assert list(runs["n_analysed"]) == [3, 0, 1, 1, 0, 0]
    assert list(runs.columns) == TABLES["runs"].column_names


def test_incremental_tables_equal_a_full_run(corpus, tmp_path):
    out = tmp_path / "out"
    _run(corpus, out)
    # the same history for the full run: themes continue from the previous run's state in both folders
    shutil.copytree(out, tmp_path / "fresh")
    shutil.copy(CORPUS / FILES[3], corpus)
    (corpus / FILES[0]).unlink()
    _, steps = _run(corpus, out)
    assert steps.analysed == [FILES[3]]
    incremental = _tables(out)

    full, steps = _run(corpus, tmp_path / "fresh", full=True)
    assert sorted(steps.analysed) == sorted(FILES[1:]) and full.n_analysed == 3
    for name, df in _tables(tmp_path / "fresh").items():
        pd.testing.assert_frame_equal(incremental[name], df, obj=name)

    # --full ignores the cache even where it has every report
    _, steps = _run(corpus, out, full=True)
    assert sorted(steps.analysed) == sorted(FILES[1:])


def test_the_first_pass_made_during_the_analysis_builds_what_the_cache_builds(corpus, tmp_path):
    """A run that analyses every report makes the build's first pass from each batch as it comes back
    (``pipeline.FirstPass``); a run with reports from the cache makes it in the build, from the cache. The
    tables are the same either way."""

    class RecordingSteps(CountingSteps):
        """Also records how many reports the first pass handed to the build held (None: no first pass)."""

        def __post_init__(self) -> None:
            super().__post_init__()
            self.passes: list[int | None] = []
            build = self.build

            def recording_build(analysed, errors, run, **kwargs):
                first = kwargs.get("first_pass")
                self.passes.append(None if first is None else first.n_documents)
                return build(analysed, errors, run, **kwargs)

            self.build = recording_build

    def run(**kwargs) -> RecordingSteps:
        steps = RecordingSteps()
        pipeline.run_pipeline(corpus, out, batch_size=2, steps=steps, **kwargs)
        return steps

    out = tmp_path / "out"
    assert run().passes == [3]  # made during the analysis, over all three reports
    during = _tables(out)
    store.remove_build_marker(out)  # the same reports again, all from the cache: the build makes its own
    steps = run()
    assert steps.analysed == [] and steps.passes == [None]
    for name, df in _tables(out).items():
        pd.testing.assert_frame_equal(during[name], df, obj=name)
    assert run(full=True).passes == [3]


def test_other_model_or_code_version_analyses_everything_again(corpus, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _run(corpus, out)

    real = cache.model_identity
    retrained = lambda target: (real(target)[0], real(target)[1] + "-retrained")  # noqa: E731
    monkeypatch.setattr(cache, "model_identity", retrained)
    summary, steps = _run(corpus, out)
    assert sorted(steps.analysed) == sorted(FILES[:3])
    assert (summary.n_unchanged, summary.n_analysed) == (3, 3), "same files, analysed again"
    monkeypatch.setattr(cache, "model_identity", real)
    _, steps = _run(corpus, out)
    assert steps.analysed == [], "entries of the first model were kept for the files still there"

    monkeypatch.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION + 1)
    _, steps = _run(corpus, out)
    assert sorted(steps.analysed) == sorted(FILES[:3])
    _, steps = _run(corpus, out)
    assert steps.analysed == []


def test_model_identity_matches_the_loaded_pipeline(nlp):
    from reportminer.nlp import model_name, resolve_model

    name, key = cache.model_identity(resolve_model().target)
    assert name == model_name(nlp) and key.startswith(name + "#")


def test_cache_round_trip_and_damaged_entry(seed_analysis, tmp_path):
    with cache.AnalysisCache(tmp_path / "c.sqlite", "m") as entries:
        entries.put_many([seed_analysis])
        got = entries.get(seed_analysis.report.sha256, seed_analysis.report.path)
        assert got == seed_analysis
        # as after the analysis: the mentions of one sentence share its string, each term is one object
        by_sentence = {}
        for m in got.mentions:
            assert by_sentence.setdefault(m.sentence, m.sentence) is m.sentence
        assert len(by_sentence) < len(got.mentions)
        assert all(t is sys.intern(t) for u in got.units for t in u.terms)
        assert entries.get(seed_analysis.report.sha256, "elsewhere.txt") is None
        assert entries.get(seed_analysis.report.sha256) == seed_analysis
        assert entries.contains(seed_analysis.report.sha256, seed_analysis.report.path)
        assert not entries.contains(seed_analysis.report.sha256, "elsewhere.txt")
        # what the build reads: the run's reports in path order, from the cache or (not stored) from memory
        other = dataclasses.replace(
            seed_analysis, report=dataclasses.replace(seed_analysis.report, path="zz.txt")
        )
        run = [(seed_analysis.report.path, seed_analysis.report.sha256), ("zz.txt", other.report.sha256)]
        view = cache.CachedReports(entries.path, "m", run, kept={"zz.txt": other})
        assert len(view) == 2 and list(view) == [seed_analysis, other] and list(view) == list(view)
        entries._conn.execute("UPDATE analysed SET payload = x'00'")
        entries._conn.commit()
        assert entries.get(seed_analysis.report.sha256) is None
        assert not entries.contains(seed_analysis.report.sha256, seed_analysis.report.path)
        with pytest.raises(OutputError, match="cannot be read.*removed: run again"):
            list(view)
        assert (
            entries.get(seed_analysis.report.sha256) is None and len(entries) == 0
        )  # the next run re-analyses


@pytest.mark.slow
def test_unchanged_rerun_time_on_the_sample_corpus(tmp_path, capsys):
    out = tmp_path / "out"
    pipeline.run_pipeline(CORPUS, tmp_path / "warm-up", batch_size=32)  # model loaded once, as in a CLI run
    t0 = time.perf_counter()
    full = pipeline.run_pipeline(CORPUS, out, batch_size=32)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = pipeline.run_pipeline(CORPUS, out, batch_size=32)
    t_again = time.perf_counter() - t0
    assert again.n_analysed == 0 and again.n_documents == full.n_documents
    with capsys.disabled():
        print(
            f"\n{full.n_documents} reports: full run {t_full:.2f} s, unchanged re-run {t_again:.2f} s "
            f"({t_again / t_full:.0%})"
        )


def test_a_write_cut_short_is_rebuilt_on_the_next_run(corpus, tmp_path):
    out = tmp_path / "out"
    _run(corpus, out)
    expected = _tables(out)
    (out / "parquet" / "themes.parquet").unlink()  # as if killed while writing: no build marker either
    (out / "cache" / "build.json").unlink()
    again, steps = _run(corpus, out)
    assert steps.analysed == [] and again.n_analysed == 0
    for name, df in _tables(out).items():
        pd.testing.assert_frame_equal(expected[name], df, obj=name)


def test_a_build_in_many_batches_writes_the_tables_of_a_build_in_one(tmp_path, monkeypatch):
    """The build's second pass makes the rows of ``BUILD_BATCH`` reports at a time: in batches of 3 (several
    row groups per spooled table, CSV and SQLite written in parts, name mentions counted across batches)
    every table equals a one-batch build, in Parquet, CSV and SQLite alike. Paragraph weights are
    transformed per batch, so they may differ in the last decimal (the NMF solver stops on a tolerance
    over the rows it is given)."""
    one, parts = tmp_path / "one", tmp_path / "parts"
    pipeline.run_pipeline(CORPUS, one, batch_size=32)
    shutil.copytree(one / "cache", parts / "cache")  # the same analyses: only the build differs
    (parts / "cache" / "build.json").unlink()
    monkeypatch.setattr(pipeline, "BUILD_BATCH", 3)
    summary = pipeline.run_pipeline(CORPUS, parts, batch_size=32)
    assert summary.n_analysed == 0 and summary.n_documents == len(pipeline.list_reports(CORPUS)) > 3 * 4
    expected, got = _tables(one), _tables(parts)
    for name in COMPARED:
        if name == "segment_themes":
            keys = ["doc_id", "segment", "theme_id"]
            both = expected[name].merge(got[name], on=keys, how="outer", suffixes=("", "_parts"))
            assert (both["weight"].fillna(0) - both["weight_parts"].fillna(0)).abs().max() <= 0.002
            assert (both["weight"].isna() | both["weight_parts"].isna()).mean() < 0.02
        else:
            pd.testing.assert_frame_equal(expected[name], got[name], obj=name)
    with sqlite3.connect(parts / "reportminer.sqlite") as conn:
        for name in ("documents", "mentions", "meetings", "segment_themes"):
            csv = pd.read_csv(parts / "csv" / f"{name}.csv")
            n_sql = conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            assert len(csv) == n_sql == len(got[name]), name
            assert list(csv.columns) == TABLES[name].column_names
    assert not list(parts.rglob(".build-*")), "the spools are removed once written"


def test_changed_code_or_data_rebuilds_the_tables_without_analysing_again(corpus, tmp_path, monkeypatch):
    """Editing the seed themes, a stopword or the code changes ``cache.source_digest``: the tables are rebuilt
    from the cache (no report analysed again); without such a change an unchanged re-run builds nothing."""
    out = tmp_path / "out"
    _run(corpus, out)
    built = []
    real_build = pipeline.build_tables

    class Recording(CountingSteps):
        def __post_init__(self) -> None:
            super().__post_init__()
            self.build = lambda *a, **k: built.append(1) or real_build(*a, **k)

    pipeline.run_pipeline(corpus, out, batch_size=2, steps=Recording())
    assert built == []
    monkeypatch.setattr(cache, "source_digest", lambda: "edited seed_themes.toml")
    steps = Recording()
    pipeline.run_pipeline(corpus, out, batch_size=2, steps=steps)
    assert built == [1] and steps.analysed == []
