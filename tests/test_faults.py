"""Faults: a run killed at any point loses nothing; a full disk loses nothing either; Prefect being
unreachable does not stop a run."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import random
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import psutil
import pyarrow.parquet as pq
import pytest

from reportminer.errors import OutputError
from reportminer.schema import TABLES
from reportminer.store import LOCK_NAME

from .conftest import CORPUS

COMPARED = ["documents", "mentions", "entities", "themes", "doc_themes", "errors", "meetings"]


def _run(corpus: Path, out: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "reportminer", "run", str(corpus), "--out", str(out), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    tables = {}
    for name in COMPARED:
        if name not in TABLES:
            continue
        df = pd.read_parquet(out / "parquet" / f"{name}.parquet")
        tables[name] = df[[c for c in df.columns if c != "run_id"]]
    return tables


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("reports")
    for path in sorted(CORPUS.glob("0*.txt"))[:6]:
        shutil.copy(path, corpus)
    (corpus / "leer.txt").write_bytes(b"")
    return corpus


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_equals_clean_run(small_corpus, tmp_path):
    clean = tmp_path / "clean"
    proc = _run(small_corpus, clean, "--engine", "local")
    assert proc.wait(timeout=600) == 0, proc.stdout.read()
    expected = _tables(clean)

    out = tmp_path / "killed"
    rng = random.Random(7)
    for _ in range(3):
        proc = _run(small_corpus, out, "--engine", "local")
        time.sleep(rng.uniform(1.0, 12.0))
        children = psutil.Process(proc.pid).children(recursive=True)  # its worker processes
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        # the workers of a killed run end too (each would hold a loaded model forever)
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"worker processes outlived the killed run: {alive}"
        # whatever was written is whole: every Parquet file that exists can be read
        for path in (out / "parquet").glob("*.parquet") if (out / "parquet").exists() else []:
            pd.read_parquet(path)
    proc = _run(small_corpus, out, "--engine", "local")
    assert proc.wait(timeout=600) == 0, proc.stdout.read()
    got = _tables(out)
    for name, df in expected.items():
        pd.testing.assert_frame_equal(df, got[name], obj=name)
    assert not list(out.rglob(".*.tmp")), "temporary files of killed runs are cleaned up"
    assert not list(out.rglob(".build-*")), "so are the spooled tables of killed builds"
    runs = pd.read_parquet(out / "parquet" / "runs.parquet")
    assert runs["run_id"].is_unique


@pytest.mark.slow
@pytest.mark.parametrize("after", [2.0, 6.0])  # while the workers start, and once they have the model
def test_worker_processes_end_with_a_killed_run(tmp_path, after):
    proc = _run(CORPUS, tmp_path / "out", "--engine", "local", "--full", "--workers", "2")
    deadline = time.monotonic() + 30
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2:  # the two spawned workers
        workers = [
            c
            for c in psutil.Process(proc.pid).children(recursive=True)
            if "spawn_main" in " ".join(c.cmdline())
        ]
        time.sleep(0.1)
    assert len(workers) == 2
    time.sleep(after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    _, alive = psutil.wait_procs(workers, timeout=20)
    for p in alive:
        p.kill()
    assert not alive, "a killed run's workers must not keep a loaded model for ever"


@pytest.mark.slow
def test_unreachable_prefect_server_falls_back_to_local_run(small_corpus, tmp_path):
    env = dict(os.environ, PREFECT_API_URL="http://127.0.0.1:9/api")
    proc = _run(small_corpus, tmp_path / "out", env=env)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    assert "running locally" in output
    docs = pd.read_parquet(tmp_path / "out" / "parquet" / "documents.parquet")
    assert len(docs) == 6


def test_local_engine_and_unknown_engine(small_corpus, tmp_path):
    from typer.testing import CliRunner

    from reportminer.cli import app

    bad = CliRunner().invoke(app, ["run", str(small_corpus), "--engine", "spark"])
    assert bad.exit_code == 2 and "unknown --engine" in bad.output


# -- a full disk -----------------------------------------------------------------------------------------


def _results(out: Path) -> dict[str, tuple[str, int]]:
    """Every file of the results in ``out`` (the cache and the run lock left out): path -> (sha256, inode).
    A file replaced by another with the same bytes still counts as changed (new inode); a leftover file
    shows up too."""
    files = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if path.is_file() and rel.parts[0] not in ("cache", LOCK_NAME):
            files[rel.as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_ino)
    return files


def _inputs(corpus: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(corpus.iterdir())}


def _temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if ".tmp" in p.name or p.name.startswith((".write-test-", ".build-"))]


def _fill_disk_at(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Make one output file's write fail the way a full disk makes it fail, after writing part of it."""
    if where == "parquet":
        target = f".{list(TABLES)[len(TABLES) // 2]}.parquet."  # a table in the middle
        real_write_table = pq.write_table

        def write_table(table, path, *args, **kwargs):
            if Path(path).name.startswith(target):
                Path(path).write_bytes(b"PAR1 half a file")
                # what pyarrow raises on a full disk
                raise OSError(
                    errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device"
                )
            return real_write_table(table, path, *args, **kwargs)

        monkeypatch.setattr(pq, "write_table", write_table)
    elif where == "csv":
        target = f".{list(TABLES)[-1]}.csv."  # the last table: every Parquet file is written by then
        real_to_csv = pd.DataFrame.to_csv

        def to_csv(
            self, path=None, *args, **kwargs
        ):  # a path, or the open file of a table written in batches
            name = Path(getattr(path, "name", path) or "").name
            if path is not None and name.startswith(target):
                if hasattr(path, "write"):
                    path.write("doc_id,half a li")
                else:
                    Path(path).write_text("doc_id,half a li", encoding="utf-8")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_to_csv(self, path, *args, **kwargs)

        monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    elif where == "spool":  # the build's spooled mentions, before any output file is written
        real_writer = pq.ParquetWriter

        class FullDisk(real_writer):
            def write_table(self, table, *args, **kwargs):
                if self.spool_path.endswith("mentions.parquet"):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return super().write_table(table, *args, **kwargs)

        def writer(where, schema, *args, **kwargs):
            made = FullDisk(where, schema, *args, **kwargs)
            made.spool_path = str(where)
            return made

        monkeypatch.setattr(pq, "ParquetWriter", writer)
    else:  # SQLite finds the disk full itself (SQLITE_FULL)
        real_connect = sqlite3.connect
        opened: list[str] = []

        def connect(path, *args, **kwargs):
            conn = real_connect(path, *args, **kwargs)
            if Path(str(path)).name.startswith(".reportminer.sqlite."):
                opened.append(str(path))
                if where == "sqlite":  # the database is capped at 8 pages
                    conn.execute("PRAGMA max_page_count = 8")
                elif opened.count(str(path)) == 2:  # "fts": the tables are in, no page more fits
                    pages = conn.execute("PRAGMA page_count").fetchone()[0]
                    conn.execute(f"PRAGMA max_page_count = {pages}")
            return conn

        monkeypatch.setattr(sqlite3, "connect", connect)


@pytest.fixture(scope="module")
def grown_corpus(tmp_path_factory):
    """Three reports (``a``), the same plus a fourth (``b``), the outputs of a run on ``a`` (``out_a``) and
    those of a run on ``a`` and then ``b`` that nothing disturbed (``clean``)."""
    from reportminer.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("disk_full")
    files = sorted(CORPUS.glob("0*.txt"))[:4]
    a, b = root / "a", root / "b"
    for folder, chosen in ((a, files[:3]), (b, files)):
        folder.mkdir()
        for path in chosen:
            shutil.copy(path, folder)
    out_a, clean = root / "out_a", root / "clean"
    run_pipeline(a, out_a)
    shutil.copytree(out_a, clean)
    run_pipeline(b, clean)
    return SimpleNamespace(a=a, b=b, out_a=out_a, clean=clean)


@pytest.mark.parametrize("where", ["spool", "parquet", "csv", "sqlite", "fts"])
def test_disk_full_while_writing_keeps_the_previous_results_and_the_next_run_completes(
    grown_corpus, tmp_path, monkeypatch, where
):
    from reportminer.pipeline import run_pipeline
    from reportminer.store import read_runs, read_table

    out = tmp_path / "out"
    shutil.copytree(grown_corpus.out_a, out)
    before, inputs = _results(out), _inputs(grown_corpus.b)
    with monkeypatch.context() as patch:
        _fill_disk_at(patch, where)
        with pytest.raises(OutputError) as failed:
            run_pipeline(grown_corpus.b, out)
    message = str(failed.value)
    what = (
        f"spooling the mentions table in {out / 'cache'}/.build-"
        if where == "spool"
        else f"writing results to {out}"
    )
    assert message.startswith(what) and " failed: the disk is full" in message, message
    assert "free space" in message and "the previous results there are unchanged" in message
    assert "\n" not in message
    # all or nothing: not one file replaced (same bytes and inode), no half or temporary file left
    assert _results(out) == before
    assert not _temp_files(out)
    assert {name: len(read_table(out, name)) for name in ("documents", "runs")} == {"documents": 3, "runs": 1}
    assert _inputs(grown_corpus.b) == inputs
    # space freed: the next run completes, reuses the analysis done before the failure, equals the clean run
    summary = run_pipeline(grown_corpus.b, out)
    assert (summary.n_documents, summary.n_new, summary.n_analysed) == (4, 1, 0)
    clean = _tables(grown_corpus.clean)
    for name, df in _tables(out).items():
        pd.testing.assert_frame_equal(df, clean[name], obj=name)
    assert len(read_runs(out)) == len(read_runs(grown_corpus.clean)) == 2  # the failed run is not recorded
    assert not _temp_files(out) and _inputs(grown_corpus.b) == inputs


def test_disk_full_while_recording_an_unchanged_run_keeps_the_history(grown_corpus, tmp_path, monkeypatch):
    from reportminer.pipeline import run_pipeline
    from reportminer.store import read_runs

    out = tmp_path / "out"
    shutil.copytree(grown_corpus.clean, out)
    before = _results(out)
    real_to_csv = pd.DataFrame.to_csv

    def to_csv(self, path=None, *args, **kwargs):  # runs.parquet is written by then
        if path is not None and Path(path).name.startswith(".runs.csv."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_to_csv(self, path, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pd.DataFrame, "to_csv", to_csv)
        with pytest.raises(OutputError, match=f"recording the run in {out} failed: the disk is full"):
            run_pipeline(grown_corpus.b, out)  # nothing changed: only the run would be recorded
    assert _results(out) == before and not _temp_files(out)
    summary = run_pipeline(grown_corpus.b, out)
    assert summary.n_analysed == 0 and summary.n_unchanged == 4
    runs = read_runs(out)
    assert len(runs) == 3 and runs["run_id"].is_unique
    with sqlite3.connect(out / "reportminer.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
    assert len(pd.read_csv(out / "csv" / "runs.csv")) == 3


def test_cli_disk_full_exits_2_with_one_line(grown_corpus, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from reportminer.cli import app

    out = tmp_path / "out"
    shutil.copytree(grown_corpus.out_a, out)
    before, inputs = _results(out), _inputs(grown_corpus.b)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")

    monkeypatch.setattr(pq, "write_table", no_space)
    result = CliRunner().invoke(
        app, ["run", str(grown_corpus.b), "--out", str(out), "--engine", "local"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: writing results to {out} failed: the disk is full")
    assert "free space" in errors[0] and "unchanged" in errors[0]
    assert _results(out) == before and not _temp_files(out) and _inputs(grown_corpus.b) == inputs


def test_full_disk_while_caching_is_a_warning_not_a_crash(tmp_path, caplog):
    from reportminer.cache import AnalysisCache
    from reportminer.records import AnalysedReport, Report, TextUnit

    text = secrets.token_hex(50_000)  # does not compress: needs more pages than the cache may grow by
    report = Report("d1", "a.txt", "0" * 64, "txt", "Titel", None, None, "utf-8", text)
    with AnalysisCache(tmp_path / "analysed.sqlite", "model") as cache:
        pages = cache._conn.execute("PRAGMA page_count").fetchone()[0]
        cache._conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
        with caplog.at_level(logging.WARNING, logger="reportminer.cache"):
            cache.put_many([AnalysedReport(report, [], [TextUnit(0, 3, ["rat"])], 1, "model")])
        assert cache.get(report.sha256, report.path) is None and len(cache) == 0
    assert "database or disk is full" in caplog.text and "the next run analyses them again" in caplog.text
