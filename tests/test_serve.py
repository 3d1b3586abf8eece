"""Schedules and the run artifact: deployments carry their cron and parameters; each run publishes its figures."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from reportminer import pipeline
from reportminer.cli import app
from reportminer.records import ErrorRecord

from .conftest import CORPUS
from .test_flow import prefect_harness  # noqa: F401  (the session's Prefect test server)


def test_deployment_carries_cron_and_parameters(tmp_path):
    from reportminer_flows.serve import DEPLOYMENT_NAME, deployment

    dep = deployment(CORPUS, tmp_path / "out", "0 6 * * 1", model="de_core_news_md")
    assert dep.name == DEPLOYMENT_NAME and dep.flow_name == "reportminer"
    assert [s.schedule.cron for s in dep.schedules] == ["0 6 * * 1"]
    assert dep.parameters == {
        "corpus": str(CORPUS.resolve()),
        "out": str((tmp_path / "out").resolve()),
        "model": "de_core_news_md",
        "batch_size": 128,
        "codebook": None,
    }
    assert dep.entrypoint.endswith("reportminer_flow.py:reportminer_flow")
    # a codebook file travels as an absolute path, a shipped codebook by its name
    book = tmp_path / "book.toml"
    book.write_text('[[theme]]\nid = "rad"\nterms = ["radweg"]\n', encoding="utf-8")
    assert deployment(CORPUS, tmp_path, "0 6 * * 1", codebook=book).parameters["codebook"] == str(
        book.resolve()
    )
    shipped = deployment(CORPUS, tmp_path, "0 6 * * 1", codebook="municipal-prevention")
    assert shipped.parameters["codebook"] == "municipal-prevention"

    pooled = deployment(CORPUS, tmp_path / "out", "30 5 * * *", work_pool="reports")
    assert pooled.work_pool_name == "reports"
    assert pooled.entrypoint == "reportminer_flows.reportminer_flow.reportminer_flow"
    assert [s.schedule.cron for s in pooled.schedules] == ["30 5 * * *"]


def test_cli_serve_passes_schedule_and_parameters(tmp_path, monkeypatch):
    import reportminer_flows.serve as schedules
    from reportminer_flows.reportminer_flow import reportminer_flow

    calls = []
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.setattr(type(reportminer_flow), "serve", lambda self, **kw: calls.append(kw))
    result = CliRunner().invoke(app, ["serve", str(CORPUS), "--cron", "0 7 * * 1-5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert calls == [
        {
            "name": schedules.DEPLOYMENT_NAME,
            "cron": "0 7 * * 1-5",
            "parameters": schedules.flow_parameters(CORPUS, tmp_path),
        }
    ]


def test_summary_markdown_has_the_run_figures(tmp_path):
    summary = pipeline.RunSummary(
        run_id="r1", out_dir=tmp_path, n_documents=12, n_errors=1, n_mentions=40, n_dates=9, n_entities=20,
        n_themes=2, seconds=3.25, model="de_reportminer_ner-0.1.0",
        errors=[ErrorRecord("kaputt.docx", "ingest", "InputError", "kaputt.docx: not a DOCX file")],
        themes=["Jugend", "Klimaschutz"], n_new=2, n_changed=1, n_unchanged=9, n_removed=3, n_analysed=3,
    )  # fmt: skip
    md = pipeline.summary_markdown(summary)
    for expected in ["| documents | 12 |", "| new / changed / unchanged / removed | 2 / 1 / 9 / 3 |",
                     "| distinct entities | 20 |", "| themes | 2: Jugend; Klimaschutz |", "| errors | 1 |",
                     "| time | 3.2 s |", "| model | de_reportminer_ner-0.1.0 |", "kaputt.docx"]:  # fmt: skip
        assert expected in md, md


@pytest.mark.slow
def test_flow_publishes_the_run_artifact(prefect_harness, tmp_path):  # noqa: F811
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from reportminer_flows.reportminer_flow import ARTIFACT_KEY, reportminer_flow

    corpus = tmp_path / "reports"
    corpus.mkdir()
    for name in ["01_vernetzungstreffen_plauen.txt", "04_jugendforum_auerbach.txt"]:
        shutil.copy(CORPUS / name, corpus)
    first = reportminer_flow(corpus=str(corpus), out=str(tmp_path / "out"))
    second = reportminer_flow(corpus=str(corpus), out=str(tmp_path / "out"))
    assert (second.n_unchanged, second.n_analysed) == (2, 0)

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[ARTIFACT_KEY]))
        )
    texts = [a.data for a in artifacts]
    row = "| new / changed / unchanged / removed | {} |"
    assert any(first.run_id in t and row.format("2 / 0 / 0 / 0") in t for t in texts)
    assert any(second.run_id in t and row.format("0 / 0 / 2 / 0") in t for t in texts)


def test_prefect_yaml_matches_the_flow():
    import inspect

    import yaml
    from reportminer_flows.reportminer_flow import reportminer_flow

    from .conftest import ROOT

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (dep,) = config["deployments"]
    path, func = dep["entrypoint"].split(":")
    assert (ROOT / path).is_file() and func == reportminer_flow.fn.__name__
    assert set(dep["parameters"]) == set(inspect.signature(reportminer_flow.fn).parameters)
    assert [s["cron"] for s in dep["schedules"]] == ["0 6 * * 1"]
