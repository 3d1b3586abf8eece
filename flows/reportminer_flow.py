"""The reportminer Prefect flow: read → analyse (in batches) → build tables → write.

Tasks are coarse (a batch of reports each); every task calls one plain function from
``reportminer.pipeline``, and ``pipeline.run_pipeline`` is the orchestration, shared with the
Prefect-free local engine (``reportminer run --engine local``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from reportminer import pipeline, store

# Set by the CLI to show progress: called with (done, total) after each batch. Not a flow parameter,
# since parameters must be serialisable for the Prefect API.
progress_hook: Callable[[int, int], None] | None = None

ARTIFACT_KEY = "reportminer-run"

read_batch = task(name="read-reports")(pipeline.read_reports)
analyse_batch = task(name="analyse-reports")(pipeline.analyse_with_model)
build_tables = task(name="build-tables")(pipeline.build_tables)
write_outputs = task(name="write-outputs", retries=2, retry_delay_seconds=2)(store.write_tables)


@flow(name="reportminer", log_prints=True)
def reportminer_flow(
    corpus: str = "corpus",
    out: str = "outputs",
    model: str | None = None,
    batch_size: int = 32,
    full: bool = False,
) -> pipeline.RunSummary:
    """Analyse the new and changed reports under ``corpus`` (all of them with ``full``) and write the
    tables to ``out``; publishes the run's figures as the markdown artifact ``reportminer-run``."""
    steps = pipeline.Steps(read=read_batch, analyse=analyse_batch, build=build_tables, write=write_outputs)
    summary = pipeline.run_pipeline(
        Path(corpus), Path(out), model=model, batch_size=batch_size, progress=progress_hook, steps=steps,
        full=full,
    )  # fmt: skip
    publish_summary(summary)
    return summary


def publish_summary(summary: pipeline.RunSummary) -> None:
    """The run's figures as a markdown artifact in the Prefect UI; the tables are written either way."""
    try:
        create_markdown_artifact(
            key=ARTIFACT_KEY,
            markdown=pipeline.summary_markdown(summary),
            description=f"reportminer run {summary.run_id}: {summary.n_documents} documents",
        )
    except Exception as exc:  # the outputs are written: a failed artifact must not fail the run
        logging.getLogger(__name__).warning("could not publish the run artifact: %s", exc)
