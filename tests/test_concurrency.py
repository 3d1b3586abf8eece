"""Runs at the same time, as cron starts them: real processes, a fresh PREFECT_HOME each test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reportminer.pipeline import run_pipeline
from reportminer.store import LOCK_NAME, RunInProgressError, lock_holder, run_lock

from .conftest import CORPUS

REPORTMINER = [sys.executable, "-m", "reportminer"]


@pytest.fixture
def two_reports(tmp_path) -> Path:
    corpus = tmp_path / "reports"
    corpus.mkdir()
    for name in ("01_vernetzungstreffen_plauen.txt", "16_vernetzungstreffen_zwickau.html"):
        shutil.copy(CORPUS / name, corpus)
    return corpus


def _env(prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(prefect_home)  # a fresh one: the first start creates its database
    return env


def _hold_lock(out: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds OUT's run lock for ``seconds``; returns once it holds it."""
    code = (
        "import sys, time\nfrom reportminer.store import run_lock\n"
        f"with run_lock({str(out)!r}, corpus='elsewhere'):\n"
        "    print('held', flush=True)\n"
        f"    time.sleep({seconds})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_refuses_or_waits_for_another_process(tmp_path, two_reports):
    out = tmp_path / "out"
    holder = _hold_lock(out, 4)
    try:
        info = lock_holder(out)
        assert info is not None and info["pid"] == holder.pid and info["corpus"] == "elsewhere"
        with pytest.raises(RunInProgressError, match=f"pid {holder.pid}"):
            run_pipeline(two_reports, out, wait=False)
        assert not (out / "parquet").exists()  # refused before anything was written
        seen: list[dict] = []
        t0 = time.monotonic()
        with run_lock(out, on_wait=seen.append):
            waited = time.monotonic() - t0
            assert lock_holder(out)["pid"] == os.getpid()
        assert seen and seen[0]["pid"] == holder.pid and waited > 1.0
    finally:
        holder.wait(timeout=30)
    assert lock_holder(out) is None  # a finished run leaves no lock behind


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    out = tmp_path / "out"
    holder = _hold_lock(out, 60)
    holder.kill()
    holder.wait()
    assert (out / LOCK_NAME).exists() and lock_holder(out) is None
    with run_lock(out, wait=False):
        pass


@pytest.mark.slow
def test_cli_no_wait_refuses_in_one_line(tmp_path, two_reports):
    out = tmp_path / "out"
    holder = _hold_lock(out, 60)
    try:
        done = subprocess.run(
            [*REPORTMINER, "run", str(two_reports), "--out", str(out), "--engine", "local", "--no-wait"],
            capture_output=True, text=True, timeout=120, env=_env(tmp_path / "prefect"),
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and f"another reportminer run is writing {out}" in lines[0], lines
    assert not (out / "parquet").exists()


@pytest.mark.slow
def test_runs_started_together_under_prefect_all_succeed(tmp_path, two_reports):
    """Three Prefect runs at once on a fresh PREFECT_HOME: two into their own folders, and two into the
    same folder (the later one waits). No traceback, all tables written, the shared folder has both runs."""
    env = _env(tmp_path / "prefect")
    outs = [tmp_path / "a", tmp_path / "b", tmp_path / "b"]
    procs = [
        subprocess.Popen(
            [*REPORTMINER, "run", str(two_reports), "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )  # fmt: skip
        for out in outs
    ]
    logs = []
    for proc in procs:
        text, _ = proc.communicate(timeout=600)
        logs.append(text)
        assert proc.returncode == 0, text
    for text in logs:
        assert "Traceback" not in text and "OperationalError" not in text, text
        assert "running locally" not in text, text  # every run went through Prefect
    for out in (tmp_path / "a", tmp_path / "b"):
        docs = pd.read_parquet(out / "parquet" / "documents.parquet")
        assert sorted(docs["path"]) == [
            "01_vernetzungstreffen_plauen.txt",
            "16_vernetzungstreffen_zwickau.html",
        ]
    assert len(pd.read_parquet(tmp_path / "b" / "parquet" / "runs.parquet")) == 2
    assert len(pd.read_parquet(tmp_path / "a" / "parquet" / "runs.parquet")) == 1


def _count_jobs(pool, jobs: list[int]):
    """``pool`` (a ``pipeline.WorkerPool``), recording in ``jobs`` the reports of each job it sends out."""
    from reportminer import pipeline

    submit = pool._pool.submit

    def counted(fn, *args):
        if fn is pipeline.analyse_with_model:
            jobs.append(len(args[0]))
        return submit(fn, *args)

    pool._pool.submit = counted
    return pool


def test_batches_for_a_task_runner_shrink_at_the_end_and_cover_every_path_once():
    """With batches in flight on a task runner's own processes (Dask) the last batches shrink, so that the
    workers finish together; each path is in exactly one batch, in order."""
    from reportminer.pipeline import NLP_BATCH, batch_bounds

    assert [e - s for s, e in batch_bounds(1600, 128)] == [128] * 12 + [64]
    tapered = list(batch_bounds(1600, 128, in_flight=4))
    sizes = [e - s for s, e in tapered]
    assert tapered[0] == (0, 128) and tapered[-1][1] == 1600
    assert all(a[1] == b[0] for a, b in zip(tapered, tapered[1:], strict=False))
    assert sizes == sorted(sizes, reverse=True) and sizes.count(128) == 9
    assert min(sizes[:-1]) == NLP_BATCH and sum(sizes[-4:]) <= 4 * NLP_BATCH  # the last round is short
    assert list(batch_bounds(10, 128, in_flight=4)) == [(0, 10)] and list(batch_bounds(0, 128, 4)) == []


@pytest.mark.slow
def test_worker_processes_write_the_same_tables_as_one_process(tmp_path, monkeypatch):
    """A run on 2 worker processes (the default on 2 cores) gives exactly the tables of a one-process run;
    an unchanged re-run starts no worker at all."""
    from reportminer import pipeline

    corpus = tmp_path / "reports"
    corpus.mkdir()
    for path in sorted(CORPUS.glob("*")):
        if path.suffix in {".txt", ".md", ".html"}:
            shutil.copy(path, corpus)
    (corpus / "leer.txt").write_text("   \n", encoding="utf-8")
    one = run_pipeline(corpus, tmp_path / "one", workers=1, batch_size=3)
    started: list[int] = []
    real_pool = pipeline.WorkerPool

    jobs: list[int] = []  # reports per job the workers were given

    def counting_pool(workers, model):
        started.append(workers)
        return _count_jobs(real_pool(workers, model), jobs)

    monkeypatch.setattr(pipeline, "WorkerPool", counting_pool)
    two = run_pipeline(corpus, tmp_path / "two", workers=2, batch_size=3)
    assert started == [2] and pipeline._workers is None  # started for the run, stopped after it
    assert two.n_analysed == one.n_analysed == one.n_documents >= 15 and two.n_errors == one.n_errors == 1
    for table in ("documents", "mentions", "entities", "themes", "doc_themes", "segment_themes", "meetings",
                  "boilerplate", "errors"):  # fmt: skip
        a = pd.read_parquet(tmp_path / "one" / "parquet" / f"{table}.parquet").drop(
            columns="run_id", errors="ignore"
        )
        b = pd.read_parquet(tmp_path / "two" / "parquet" / f"{table}.parquet").drop(
            columns="run_id", errors="ignore"
        )
        pd.testing.assert_frame_equal(a, b, obj=table)
    again = run_pipeline(corpus, tmp_path / "two", workers=2, batch_size=3)
    assert again.n_analysed == 0 and started == [2]
    # the default batch holds the whole corpus: the workers get it in jobs of NLP_BATCH reports (5 here, so
    # that there are several), the same tables again
    jobs.clear()
    monkeypatch.setattr(pipeline, "NLP_BATCH", 5)
    run_pipeline(corpus, tmp_path / "three", workers=2)
    assert len(jobs) >= 3 and max(jobs) == 5 and sum(jobs) == one.n_analysed
    for table in ("mentions", "entities", "segment_themes"):
        a = pd.read_parquet(tmp_path / "one" / "parquet" / f"{table}.parquet").drop(
            columns="run_id", errors="ignore"
        )
        c = pd.read_parquet(tmp_path / "three" / "parquet" / f"{table}.parquet").drop(
            columns="run_id", errors="ignore"
        )
        pd.testing.assert_frame_equal(a, c, obj=table)


@pytest.mark.slow
def test_a_prefetched_batch_is_analysed_once_and_as_without_prefetch(monkeypatch):
    """The CLI begins the first batch while Prefect's server starts (``WorkerPool.prefetch``): the batch's
    analysis then takes those jobs' results, the same as analysing it afresh, without a second job."""
    from reportminer import pipeline

    paths = sorted(p for p in CORPUS.glob("*") if p.suffix in {".txt", ".md", ".html"})
    reports, _ = pipeline.read_reports(paths, CORPUS)
    monkeypatch.setattr(pipeline, "NLP_BATCH", 6)  # jobs of 6 reports: three or more
    pool = pipeline.WorkerPool(2, None)
    try:
        fresh, _ = pool.analyse(reports)
        submitted: list[int] = []
        _count_jobs(pool, submitted)
        pool.prefetch(reports)
        n_prefetched = len(submitted)
        again, _ = pool.analyse(pipeline.read_reports(paths, CORPUS)[0])  # read again: equal, not the same
        assert n_prefetched >= 3 and len(submitted) == n_prefetched  # no job of its own
        assert again == fresh
        other, _ = pool.analyse(reports[:3])  # reports no prefetch began: analysed as usual
        assert len(submitted) == n_prefetched + 1 and other == fresh[:3]
    finally:
        pool.close()


@pytest.mark.slow
def test_an_unchanged_rerun_skips_the_temporary_server_and_a_changed_one_does_not(tmp_path, two_reports):
    env = _env(tmp_path / "prefect")
    out = tmp_path / "out"
    cmd = [*REPORTMINER, "run", str(two_reports), "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and "recorded without starting Prefect" in again.stdout + again.stderr
    (two_reports / "02_neu.txt").write_text(
        "Datum: 05.03.2024\n\nArbeitskreis Jugend in Plauen\n\nAm 4. März 2024 traf sich der Arbeitskreis.",
        encoding="utf-8",
    )
    changed = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert (
        changed.returncode == 0 and "recorded without starting Prefect" not in changed.stdout + changed.stderr
    )
    runs = pd.read_parquet(out / "parquet" / "runs.parquet")
    assert list(runs["n_analysed"]) == [2, 0, 1] and list(runs["n_documents"]) == [2, 2, 3]
