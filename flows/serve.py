"""Schedules for the reportminer flow: serve it from this process, or deploy it to a Prefect work pool.

The schedule carries the flow's parameters (corpus, output folder, model), so every scheduled run is an
incremental run over the same folders. Both need a Prefect server (``prefect server start``, then
``PREFECT_API_URL``): a temporary local server has no scheduler.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reportminer_flows.reportminer_flow import reportminer_flow

from reportminer.pipeline import BATCH_SIZE

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.deployments.runner import RunnerDeployment

DEPLOYMENT_NAME = "reportminer-scheduled"
DEFAULT_CRON = "0 6 * * 1"  # Mondays at 06:00


def flow_parameters(
    corpus: str | Path,
    out: str | Path,
    model: str | None = None,
    batch_size: int = BATCH_SIZE,
    codebook: str | Path | None = None,
) -> dict[str, Any]:
    """The flow's parameters for a schedule; folders (and a codebook file) made absolute, so runs do not
    depend on the working directory of the process or worker that starts them. A shipped codebook stays
    a name."""
    from reportminer.themes import codebook_path

    if codebook:
        path = codebook_path(codebook)
        codebook = str(path.resolve()) if path.exists() and Path(codebook).exists() else str(codebook)
    return {
        "corpus": str(Path(corpus).resolve()),
        "out": str(Path(out).resolve()),
        "model": model,
        "batch_size": batch_size,
        "codebook": codebook or None,
    }


def deployment(
    corpus: str | Path = "corpus",
    out: str | Path = "outputs",
    cron: str = DEFAULT_CRON,
    model: str | None = None,
    *,
    name: str = DEPLOYMENT_NAME,
    work_pool: str | None = None,
    codebook: str | Path | None = None,
) -> RunnerDeployment:
    """The scheduled deployment of the flow (not registered yet: see :func:`serve` and :func:`deploy`).

    With a work pool, the entrypoint is the installed module ``reportminer_flows.reportminer_flow``, so a
    worker needs reportminer installed, not this checkout.
    """
    from prefect.types.entrypoint import EntrypointType

    return reportminer_flow.to_deployment(
        name=name,
        cron=cron,
        parameters=flow_parameters(corpus, out, model, codebook=codebook),
        description=f"reportminer over {Path(corpus).resolve()} on schedule {cron!r}",
        work_pool_name=work_pool,
        entrypoint_type=EntrypointType.MODULE_PATH if work_pool else EntrypointType.FILE_PATH,
    )


def serve(
    corpus: str | Path = "corpus",
    out: str | Path = "outputs",
    cron: str = DEFAULT_CRON,
    model: str | None = None,
    *,
    name: str = DEPLOYMENT_NAME,
    codebook: str | Path | None = None,
) -> None:
    """Run the flow on ``cron`` from this process until it is stopped (Ctrl+C)."""
    reportminer_flow.serve(
        name=name, cron=cron, parameters=flow_parameters(corpus, out, model, codebook=codebook)
    )


def deploy(
    corpus: str | Path,
    out: str | Path,
    cron: str,
    model: str | None = None,
    *,
    work_pool: str,
    name: str = DEPLOYMENT_NAME,
    codebook: str | Path | None = None,
) -> UUID:
    """Register the scheduled deployment with the Prefect server, for a worker of ``work_pool`` to run
    (``prefect worker start --pool WORK_POOL``). Returns the deployment's id."""
    return deployment(corpus, out, cron, model, name=name, work_pool=work_pool, codebook=codebook).apply(
        work_pool_name=work_pool
    )
