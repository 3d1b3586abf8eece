"""The reportminer Prefect flow: read → analyse (in batches) → build tables → write.

Tasks are coarse (a batch of reports each); every task calls one plain function from
``reportminer.pipeline``, and ``pipeline.run_pipeline`` is the orchestration, shared with the
Prefect-free local engine (``reportminer run --engine local``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import flow, task

from reportminer import pipeline, store

# Set by the CLI to show progress: called with (done, total) after each batch. Not a flow parameter,
# since parameters must be serialisable for the Prefect API.
progress_hook: Callable[[int, int], None] | None = None

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
) -> pipeline.RunSummary:
    """Analyse every report under ``corpus`` and write the tables to ``out``."""
    steps = pipeline.Steps(read=read_batch, analyse=analyse_batch, build=build_tables, write=write_outputs)
    return pipeline.run_pipeline(
        Path(corpus), Path(out), model=model, batch_size=batch_size, progress=progress_hook, steps=steps
    )
