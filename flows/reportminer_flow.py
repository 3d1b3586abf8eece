"""The reportminer Prefect flow: read → analyse (in batches) → build tables → write.

Tasks are coarse (a batch of reports each); every task calls one plain function from
``reportminer.pipeline``, which is where the logic lives and is tested.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, task

from reportminer import pipeline, store
from reportminer.nlp import load_pipeline, model_name, resolve_model
from reportminer.records import AnalysedReport, ErrorRecord, Report

# Set by the CLI to show progress: called with (done, total) after each batch. Not a flow parameter,
# since parameters must be serialisable for the Prefect API.
progress_hook: Callable[[int, int], None] | None = None


@task(name="read-reports")
def read_batch(paths: list[Path], root: Path) -> tuple[list[Report], list[ErrorRecord]]:
    return pipeline.read_reports(paths, root)


@task(name="analyse-reports")
def analyse_batch(reports: list[Report], model: str | None) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
    nlp = load_pipeline(model)
    return pipeline.analyse_reports(reports, nlp, model=model_name(nlp))


@task(name="build-tables")
def build_tables(analysed, errors, run: pipeline.RunInfo):
    return pipeline.build_tables(analysed, errors, run)


@task(name="write-outputs", retries=2, retry_delay_seconds=2)
def write_outputs(tables, out: Path):
    return store.write_tables(tables, out)


@flow(name="reportminer", log_prints=True)
def reportminer_flow(
    corpus: str = "corpus",
    out: str = "outputs",
    model: str | None = None,
    batch_size: int = 32,
) -> pipeline.RunSummary:
    """Analyse every report under ``corpus`` and write the tables to ``out``."""
    corpus_path, out_path = Path(corpus), Path(out)
    store.check_writable(out_path)
    choice = resolve_model(model)
    nlp = load_pipeline(model)
    run = pipeline.RunInfo(
        run_id=pipeline.new_run_id(), started_at=pipeline.utc_now(), corpus=str(corpus_path),
        model=model_name(nlp), model_source=choice.source,
    )  # fmt: skip
    paths = pipeline.list_reports(corpus_path)
    if progress_hook:
        progress_hook(0, len(paths))
    analysed: list[AnalysedReport] = []
    errors: list[ErrorRecord] = []
    for i in range(0, len(paths), batch_size):
        reports, read_errors = read_batch(paths[i : i + batch_size], corpus_path)
        done, nlp_errors = analyse_batch(reports, model)
        analysed.extend(done)
        errors.extend(read_errors + nlp_errors)
        if progress_hook:
            progress_hook(min(i + batch_size, len(paths)), len(paths))
    tables = build_tables(analysed, errors, run)
    written = write_outputs(tables, out_path)
    return pipeline.summarise(written, out_path, errors)
