"""The reportminer Prefect flow: read → analyse (in batches) → build tables → write.

Tasks are coarse (a batch of reports each); every task calls one plain function from
``reportminer.pipeline``, and ``pipeline.run_pipeline`` is the orchestration, shared with the
Prefect-free local engine (``reportminer run --engine local``).

The flow's default task runner runs one analysis batch at a time in this process. :func:`dask_flow` gives
the same flow on a Dask cluster (prefect-dask): analysis batches run in parallel on the workers, each of
which loads the model once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from reportminer import pipeline, store
from reportminer.errors import OutputError, ReportminerError
from reportminer.records import AnalysedReport, ErrorRecord, Report

# Set by the CLI to show progress: called with (done, total) after each batch. Not a flow parameter,
# since parameters must be serialisable for the Prefect API.
progress_hook: Callable[[int, int], None] | None = None

ARTIFACT_KEY = "reportminer-run"

# Each task calls one pipeline function. They are defined here by name (not `task(...)(function)`), so
# that Dask workers can unpickle them by reference. No Prefect result caching: reportminer keeps its own
# cache of analysed reports (OUT/cache), and hashing each batch's inputs for cache keys would cost time.


@task(name="read-reports", cache_policy=NO_CACHE)
def read_batch(paths: list[Path], root: Path) -> tuple[list[Report], list[ErrorRecord]]:
    return pipeline.read_reports(paths, root)


@task(name="analyse-reports", cache_policy=NO_CACHE)
def analyse_batch(reports: list[Report], model: str | None) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
    return pipeline.analyse_batch(reports, model)  # in the run's worker processes, or here on a Dask worker


@task(name="build-tables", cache_policy=NO_CACHE)
def build_tables(
    analysed, errors, run, *, previous_themes=None, previous_state=None, spool_dir=None, codebook=None,
    first_pass=None,
) -> store.BuiltTables:  # fmt: skip
    return pipeline.build_tables(
        analysed, errors, run, previous_themes=previous_themes, previous_state=previous_state,
        spool_dir=spool_dir, codebook=codebook, first_pass=first_pass,
    )  # fmt: skip


def _retry_unless_output_error(task, task_run, state) -> bool:
    """Retry a failed write (a passing lock or network hiccup), not a full disk or a read-only folder."""
    try:
        state.result()
    except OutputError:
        return False
    except Exception:
        return True
    return False


@task(
    name="write-outputs", retries=2, retry_delay_seconds=2, retry_condition_fn=_retry_unless_output_error,
    cache_policy=NO_CACHE,
)  # fmt: skip
def write_outputs(tables: store.BuiltTables, out: Path) -> store.StoredTables:
    return store.write_tables(tables, out)


@flow(name="reportminer", log_prints=True)
def reportminer_flow(
    corpus: str = "corpus",
    out: str = "outputs",
    model: str | None = None,
    batch_size: int = pipeline.BATCH_SIZE,
    full: bool = False,
    parallel: int = 1,
    codebook: str | None = None,
    wait: bool = True,
    workers: int | None = None,
) -> pipeline.RunSummary:
    """Analyse the new and changed reports under ``corpus`` (all of them with ``full``) and write the
    tables to ``out``; publishes the run's figures as the markdown artifact ``reportminer-run``.

    ``workers``: processes that analyse batches side by side, each loading the model once (None: one a
    usable core; 1: in the flow's process); the analysis tasks wait for them in the default task runner's
    threads. ``parallel``: analysis batches submitted to the task runner at once, above 1 only with a runner
    that runs tasks in parallel processes of its own (see :func:`dask_flow`), which replaces ``workers``. ``codebook``: a theme codebook (TOML file or
    shipped name) that guides the themes; without it themes come from the data alone. ``wait``: when another
    run is writing ``out``, wait for it (the default) or fail at once."""
    steps = pipeline.Steps(
        read=read_batch, analyse=analyse_batch, build=build_tables, write=write_outputs, parallel=parallel
    )
    summary = pipeline.run_pipeline(
        Path(corpus), Path(out), model=model, batch_size=batch_size, progress=_progress(), steps=steps,
        full=full, codebook=codebook, wait=wait, workers=workers,
    )  # fmt: skip
    publish_summary(summary)
    return summary


SERVER_LOCK = "reportminer-temporary-server.lock"


def start_temporary_server() -> str | None:
    """Start Prefect's temporary server now, one process at a time; its API address, or None when
    PREFECT_API_URL names a server (nothing to start).

    Without PREFECT_API_URL, a flow's first call starts a temporary server whose start creates or migrates
    the database in PREFECT_HOME. Two runs that start at the same minute (cron) would do that at the same
    time and one prints the other's half-made tables as a traceback. Here the start holds a lock in
    PREFECT_HOME until the server answers, so the next process finds the database ready. The server is
    Prefect's own per-process instance, which the flow then uses."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME

    if PREFECT_API_URL.value():
        return None
    home = Path(PREFECT_HOME.value()).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    with open(home / SERVER_LOCK, "a") as fh:
        try:
            import fcntl
        except ImportError:  # not POSIX: start without the lock
            fcntl = None
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file closes
        server = SubprocessASGIServer()
        server.start()
        return server.api_url


def _progress() -> Callable[[int, int], None] | None:
    # Read through a function: on Dask the flow's code is pickled with the globals it names, and the
    # hook (a closure over the terminal's progress bar) cannot be pickled.
    return progress_hook


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


def _needs_dask(exc: ImportError) -> ReportminerError:
    return ReportminerError(
        f"the Dask task runner needs prefect-dask ({exc}); install it with `pip install 'reportminer[dask]'`"
    )


def local_cluster(n_workers: int = 2, **kwargs):
    """A Dask ``LocalCluster`` of ``n_workers`` single-threaded worker processes (``kwargs`` go to it) whose
    workers allocate memory as reportminer's own workers do.

    Dask's nannies start their workers with MALLOC_TRIM_THRESHOLD_=65536, so that a worker gives freed memory
    back at once; for spaCy's batch arrays that means fresh pages batch after batch (1,600 reports: 2.8
    million page faults and 11.6 s of system time a worker, against 0.43 million and 5.7 s with the thresholds
    of reportminer's own workers, see :func:`reportminer.nlp.tune_malloc`). These workers get those, unless
    this process's environment sets them (a user's setting: Dask lets it win over its config)."""
    try:
        from distributed import LocalCluster
    except ImportError as exc:
        raise _needs_dask(exc) from exc
    import os

    import dask

    from reportminer.nlp import MALLOC_MMAP_THRESHOLD, MALLOC_TRIM_THRESHOLD

    prefix = "distributed.nanny.pre-spawn-environ"
    malloc = {
        f"{prefix}.MALLOC_TRIM_THRESHOLD_": str(MALLOC_TRIM_THRESHOLD),
        f"{prefix}.MALLOC_MMAP_THRESHOLD_": str(MALLOC_MMAP_THRESHOLD),
    }
    # one thread per worker: spaCy is CPU-bound, so parallelism comes from processes
    kwargs = {"threads_per_worker": 1, "processes": True, **kwargs}
    with dask.config.set(malloc):
        # the nannies also write their workers' variables into this process's environment; they are put
        # back afterwards, so that this process's own malloc tuning does not take them for a user's setting
        before = {name: os.environ.get(name) for name in [*dask.config.get(prefix), "PYTHONHASHSEED"]}
        try:
            return LocalCluster(n_workers=n_workers, **kwargs)
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def start_local_cluster(n_workers: int, model: str | None):
    """A temporary :func:`local_cluster` of ``n_workers`` workers, each of which has loaded ``model`` (as
    :func:`pipeline.worker_model` gives it), and a client to it. The CLI starts it while Prefect's server
    starts, so that neither the cluster's start nor the model loads count after the flow's start; hand the
    cluster's address to :func:`dask_flow` and close both when the run ends."""
    from distributed import Client

    cluster = local_cluster(n_workers)
    try:
        client = Client(cluster)
        client.run(pipeline.load_model, model)
    except BaseException:
        cluster.close()
        raise
    return cluster, client


def dask_flow(address: str | None = None, n_workers: int = 2):
    """The flow on a Dask cluster: the one at ``address`` (``tcp://host:8786``), or a temporary
    :func:`local_cluster` of ``n_workers`` single-threaded worker processes. Call it with
    ``parallel=2 * workers`` so every worker has a batch to work on while the next is read."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise _needs_dask(exc) from exc
    if address:
        runner = DaskTaskRunner(address=address)
    else:
        runner = DaskTaskRunner(cluster_class=local_cluster, cluster_kwargs={"n_workers": n_workers})
    return reportminer_flow.with_options(task_runner=runner)
