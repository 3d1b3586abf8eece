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


def test_cli_missing_corpus_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_cli_version_names_the_model():
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0 and "de_reportminer_ner" in result.output
