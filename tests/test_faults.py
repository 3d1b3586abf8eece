"""Faults: a run killed at any point loses nothing; Prefect being unreachable does not stop a run."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from reportminer.schema import TABLES

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
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        # whatever was written is whole: every Parquet file that exists can be read
        for path in (out / "parquet").glob("*.parquet") if (out / "parquet").exists() else []:
            pd.read_parquet(path)
    proc = _run(small_corpus, out, "--engine", "local")
    assert proc.wait(timeout=600) == 0, proc.stdout.read()
    got = _tables(out)
    for name, df in expected.items():
        pd.testing.assert_frame_equal(df, got[name], obj=name)
    assert not list(out.rglob(".*.tmp")), "temporary files of killed runs are cleaned up"
    runs = pd.read_parquet(out / "parquet" / "runs.parquet")
    assert runs["run_id"].is_unique


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
