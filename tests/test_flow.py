"""The Prefect flow and the command line, run for real."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from reportminer.cli import app

from .conftest import CORPUS


def test_import_reportminer_does_not_import_prefect():
    code = "import sys, reportminer.pipeline, reportminer.cli; print('prefect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.mark.slow
def test_flow_run_writes_tables_and_reruns_idempotently(prefect_harness, tmp_path):
    from reportminer_flows.reportminer_flow import reportminer_flow

    corpus = tmp_path / "reports"
    corpus.mkdir()
    for name in ["01_vernetzungstreffen_plauen.txt", "07_interkommunale_kooperation_erzgebirge.txt",
                 "16_vernetzungstreffen_zwickau.html", "14_fachtag_digitale_beteiligung_borna.md"]:  # fmt: skip
        shutil.copy(CORPUS / name, corpus)
    (corpus / "kaputt.docx").write_bytes(b"PK\x03\x04 broken")
    out = tmp_path / "out"

    first = reportminer_flow(corpus=str(corpus), out=str(out), batch_size=2)
    assert (first.n_documents, first.n_errors) == (4, 1)
    assert first.n_mentions > 20 and first.n_dates > 5 and first.n_themes >= 1
    errors = pd.read_parquet(out / "parquet" / "errors.parquet")
    assert list(errors["path"]) == ["kaputt.docx"] and errors["message"].str.contains("DOCX").all()

    before = {
        t: pd.read_parquet(out / "parquet" / f"{t}.parquet") for t in ("documents", "mentions", "entities")
    }
    second = reportminer_flow(corpus=str(corpus), out=str(out), batch_size=2)
    assert second.run_id != first.run_id
    for table, df in before.items():
        again = pd.read_parquet(out / "parquet" / f"{table}.parquet")
        cols = [c for c in df.columns if c != "run_id"]
        pd.testing.assert_frame_equal(df[cols], again[cols])
    runs = pd.read_parquet(out / "parquet" / "runs.parquet")
    assert list(runs["run_id"]) == [first.run_id, second.run_id]


@pytest.mark.slow
def test_dask_runner_writes_the_same_tables_as_the_default_runner(prefect_harness, tmp_path, monkeypatch):
    """The flow on a LocalCluster of 2 worker processes, batches in parallel and the last ones smaller
    (``batch_bounds``): tables equal the default's."""
    pytest.importorskip("prefect_dask", reason="needs prefect-dask (pip install -e '.[dask]')")
    from reportminer_flows.reportminer_flow import dask_flow, reportminer_flow

    from reportminer import pipeline

    monkeypatch.setattr(pipeline, "NLP_BATCH", 1)  # the last batches shrink to 2 and 1 reports here

    corpus = tmp_path / "reports"
    corpus.mkdir()
    for path in sorted(CORPUS.glob("*"))[:7]:
        if path.suffix in {".txt", ".md", ".html"}:
            shutil.copy(path, corpus)
    (corpus / "leer.txt").write_text("   \n", encoding="utf-8")
    default = reportminer_flow(corpus=str(corpus), out=str(tmp_path / "default"), batch_size=2)
    on_dask = dask_flow(n_workers=2)(corpus=str(corpus), out=str(tmp_path / "dask"), batch_size=3, parallel=4)
    assert on_dask.n_analysed == default.n_analysed == default.n_documents >= 5
    assert on_dask.n_errors == default.n_errors == 1
    for table in ("documents", "mentions", "entities", "themes", "doc_themes", "segment_themes", "meetings",
                  "errors"):  # fmt: skip
        expected = pd.read_parquet(tmp_path / "default" / "parquet" / f"{table}.parquet")
        got = pd.read_parquet(tmp_path / "dask" / "parquet" / f"{table}.parquet")
        cols = [c for c in expected.columns if c != "run_id"]
        pd.testing.assert_frame_equal(expected[cols], got[cols], obj=table)


def test_cli_missing_corpus_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_cli_version_names_the_model():
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0 and "de_reportminer_ner" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "local", "--task-runner", "dask"], "runs the Prefect flow"),
        (["--task-runner", "spark"], "unknown --task-runner"),
    ],
)
def test_cli_task_runner_usage_errors(tmp_path, args, message):
    result = CliRunner().invoke(app, ["run", str(CORPUS), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # refused before any work


@pytest.mark.slow
def test_dask_workers_use_the_runs_prefect_server(tmp_path):
    """A LocalCluster's workers report their task runs to the run's temporary Prefect server; without
    PREFECT_API_URL passed down, each worker started a server of its own (two more on a 2-core machine)."""
    pytest.importorskip("prefect_dask", reason="needs prefect-dask (pip install -e '.[dask]')")
    corpus = tmp_path / "reports"
    corpus.mkdir()
    for path in sorted(CORPUS.glob("0*.txt"))[:4]:
        shutil.copy(path, corpus)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("PREFECT_API_URL")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    done = subprocess.run(
        [sys.executable, "-m", "reportminer", "run", str(corpus), "--out", str(tmp_path / "out"), "--verbose",
         "--task-runner", "dask", "--workers", "2", "--batch-size", "1"],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert output.count("Starting temporary server") == 1, output[-3000:]


@pytest.mark.slow
def test_a_local_clusters_workers_keep_the_malloc_thresholds_of_reportminers_own_workers(monkeypatch):
    """Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536 (freed memory back at once: spaCy's
    batch arrays on fresh pages, batch after batch); the LocalCluster a run starts gives its workers the
    thresholds of ``nlp.tune_malloc`` instead, and leaves this process's environment as it was."""
    import os

    # a process without a malloc setting of the user's (an earlier cluster in this test process set some)
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)

    pytest.importorskip("prefect_dask", reason="needs prefect-dask (pip install -e '.[dask]')")
    from reportminer_flows.reportminer_flow import dask_flow, local_cluster, start_local_cluster

    from reportminer.nlp import MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD

    cluster, client = start_local_cluster(1, None)
    try:
        trim = client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_")
        mmap = client.run(os.getenv, "MALLOC_MMAP_THRESHOLD_")
    finally:
        client.close()
        cluster.close()
    assert list(trim.values()) == [str(MALLOC_TRIM_THRESHOLD)]
    assert list(mmap.values()) == [str(MALLOC_MMAP_THRESHOLD)]
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ
    # the flow's own temporary cluster (dask_flow without an address) is made the same way
    assert dask_flow(n_workers=1).task_runner.cluster_class is local_cluster
