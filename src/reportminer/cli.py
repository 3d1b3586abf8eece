"""Command line: a thin layer that calls the library and turns its errors into one-line messages."""

from __future__ import annotations

import logging
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from reportminer import __version__
from reportminer.errors import ReportminerError

app = typer.Typer(
    help="Mine German meeting reports: people, places, organisations, dates and themes as tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

CodebookOption = Annotated[
    str | None,
    typer.Option(
        help="Theme codebook: a TOML file (per theme: id, label, description, terms) or a shipped name "
        "(municipal-prevention). Without it, themes come from the data alone."
    ),
]


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _prepare_prefect(verbose: bool) -> None:
    # A local run starts Prefect's temporary server; on a busy 2-core machine that can take a while.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


@app.command()
def run(
    corpus: Annotated[
        Path, typer.Argument(help="Folder of reports (searched recursively) or one file")
    ] = Path("corpus"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the tables")] = Path("outputs"),
    model: Annotated[
        str | None,
        typer.Option(help="spaCy model: package name or path (default: de_core_news_md, else bundled)"),
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Reports per Prefect task and per write to the cache")
    ] = 128,  # pipeline.BATCH_SIZE, not imported here: the CLI starts without spaCy
    engine: Annotated[
        str,
        typer.Option(help="prefect: run as a Prefect flow (tracked in the Prefect UI); local: plain Python"),
    ] = "prefect",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's and reportminer's logs")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Analyse every report again, ignoring the cache of earlier runs")
    ] = False,
    task_runner: Annotated[
        str,
        typer.Option(help="default: analyse in this process; dask: on a Dask cluster (needs prefect-dask)"),
    ] = "default",
    dask_address: Annotated[
        str | None,
        typer.Option(help="Scheduler of an existing Dask cluster (tcp://host:8786); default: a LocalCluster"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that analyse reports side by side, each loading the model once (default: one "
            "per usable core; 1: in this process). With --task-runner dask: the LocalCluster's workers",
        ),
    ] = None,
    codebook: CodebookOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="When another run is writing OUT: wait for it to finish (default), or stop at once (exit 2)",
        ),
    ] = True,
) -> None:
    """Analyse every report in CORPUS and write tables (Parquet, CSV, SQLite) to OUT.

    Incremental: reports analysed by an earlier run into OUT (same content, model and reportminer
    version) come from OUT/cache; only new and changed ones are analysed. --full analyses all again.

    Without a Prefect server (PREFECT_API_URL unset) Prefect starts a temporary local one. If Prefect
    cannot be reached or started, the run goes on with the local engine and says so.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if engine not in ("prefect", "local"):
        _fail(f"unknown --engine {engine!r}; use prefect or local")
    if task_runner not in ("default", "dask"):
        _fail(f"unknown --task-runner {task_runner!r}; use default or dask")
    if task_runner == "dask" and engine != "prefect":
        _fail("--task-runner dask runs the Prefect flow; leave out --engine local")
    dask = (dask_address, workers or _usable_cores()) if task_runner == "dask" else None
    if not corpus.exists():
        _fail(f"corpus folder {corpus} does not exist; pass a folder of .txt/.md/.html/.pdf/.docx reports")
    _check_codebook(codebook)
    _check_lock(out, wait)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from reportminer.pipeline import run_pipeline

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:  # fmt: skip
        bar = progress.add_task("starting Prefect" if engine == "prefect" else "starting", total=None)
        started = False

        def hook(done: int, total: int) -> None:
            nonlocal started
            started = True
            progress.update(bar, description="analysing reports", completed=done, total=total)

        def local() -> object:
            return run_pipeline(
                corpus, out, model=model, batch_size=batch_size, progress=hook, full=full, codebook=codebook,
                wait=wait, workers=workers,
            )  # fmt: skip

        try:
            summary = None
            if engine == "prefect" and not full and _temporary_server_needed(out):
                # nothing changed since the last run: record it without starting Prefect's temporary
                # server (seconds of start-up for a run that only adds a row to `runs`)
                summary = run_pipeline(
                    corpus, out, model=model, batch_size=batch_size, progress=hook, codebook=codebook,
                    wait=wait, workers=workers, unchanged_only=True,
                )  # fmt: skip
                if summary is not None:
                    console.print(
                        "no report changed since the last run: recorded without starting Prefect's temporary "
                        "server (set PREFECT_API_URL to track such runs on a Prefect server)",
                        highlight=False, soft_wrap=True,
                    )  # fmt: skip
            if summary is None and engine == "local":
                summary = local()
            elif summary is None:
                summary = _run_prefect(
                    corpus,
                    out,
                    model,
                    batch_size,
                    hook,
                    verbose,
                    lambda: started,
                    local,
                    full=full,
                    dask=dask,
                    codebook=codebook,
                    wait=wait,
                    workers=workers,
                )
        except ReportminerError as exc:
            progress.stop()
            _fail(str(exc))
    _print_summary(summary)


def _temporary_server_needed(out: Path) -> bool:
    """Whether a Prefect run would start Prefect's temporary server (no PREFECT_API_URL), into an output
    folder with an earlier complete build (only then can a run be unchanged)."""
    from reportminer.store import BUILD_MARKER

    return not os.environ.get("PREFECT_API_URL") and (out / BUILD_MARKER).exists() and not _api_configured()


def _api_configured() -> bool:
    """PREFECT_API_URL set in Prefect's own profile (``prefect config set``), read without importing Prefect
    when the environment already answers."""
    try:
        from prefect.settings import PREFECT_API_URL

        return bool(PREFECT_API_URL.value())
    except Exception:  # noqa: BLE001 - Prefect missing or broken: the run falls back to local anyway
        return False


def _check_lock(out: Path, wait: bool) -> None:
    """Say so when another run is writing OUT: this one waits for it, or with --no-wait stops (exit 2)."""
    from reportminer.store import describe_holder, lock_holder

    holder = lock_holder(out) if out.is_dir() else None
    if holder is None:
        return
    if not wait:
        _fail(f"another reportminer run is writing {out} ({describe_holder(holder)}); try again when it ends")
    console.print(
        f"[yellow]another reportminer run is writing {out} ({describe_holder(holder)}); "
        "waiting for it to finish (Ctrl+C to stop)[/]",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def _check_codebook(codebook: str | None) -> None:
    """A bad codebook stops the command in one line (file and line) before anything is read or written."""
    if codebook:
        from reportminer.themes import load_codebook

        try:
            load_codebook(codebook)
        except ReportminerError as exc:
            _fail(str(exc))


def _run_prefect(
    corpus, out, model, batch_size, hook, verbose, started, local, *, full=False, dask=None, codebook=None,
    wait=True, workers=None,
):  # fmt: skip
    """The Prefect flow; falls back to ``local`` when Prefect fails before the flow's work began.
    ``dask``: ``(address or None, LocalCluster workers)`` to run the analysis on Dask (no fallback)."""
    _prepare_prefect(verbose)
    try:
        import reportminer_flows.reportminer_flow as flow_module
    except ImportError as exc:  # prefect missing or broken
        console.print(f"[yellow]Prefect unavailable ({exc}); running locally[/]", soft_wrap=True)
        return local()
    flow_module.progress_hook = hook
    params = {
        "corpus": str(corpus), "out": str(out), "model": model, "batch_size": batch_size, "full": full,
        "codebook": None if codebook is None else str(codebook), "wait": wait,
    }  # fmt: skip
    if dask is None:
        params["workers"] = workers
    # Prefect's temporary server starts (one process at a time, see start_temporary_server) in a thread
    # while the analysis's worker processes (or this one, or a temporary Dask cluster's) load the model.
    from concurrent.futures import ThreadPoolExecutor

    cluster = client = None
    with ThreadPoolExecutor(1) as pool:
        server = pool.submit(flow_module.start_temporary_server)
        if dask is None:
            _prepare_analysis(model, workers, out, full, corpus=corpus, batch_size=batch_size)
        elif dask[0] is None:
            from reportminer import pipeline

            try:
                cluster, client = flow_module.start_local_cluster(dask[1], pipeline.worker_model(model))
            except ReportminerError:
                raise
            except Exception as exc:
                raise ReportminerError(
                    f"could not start a Dask LocalCluster ({type(exc).__name__}: {exc})"
                ) from exc
    try:
        api_url = server.result()
        if dask is not None:
            address, workers = dask
            if cluster is not None:
                address = cluster.scheduler_address
                # the run's server address, before a task imports Prefect there: without it each worker
                # would start a temporary Prefect server of its own for its task runs
                if api_url:
                    client.run(pipeline.set_environ, {"PREFECT_API_URL": api_url})
            else:
                workers = _dask_workers(address)
            flow = flow_module.dask_flow(address, workers)
            return flow(**params, parallel=2 * workers)
        return flow_module.reportminer_flow(**params)
    except ReportminerError:
        raise
    except Exception as exc:
        if dask is not None:
            raise ReportminerError(f"the run on Dask failed ({type(exc).__name__}: {exc})") from exc
        if started():
            raise
        console.print(
            f"[yellow]Prefect could not be reached or started ({type(exc).__name__}: {exc}); "
            "running locally without Prefect tracking[/]",
            soft_wrap=True,
        )
        return local()
    finally:
        flow_module.progress_hook = None
        if cluster is not None:
            client.close()
            cluster.close()


def _usable_cores() -> int:
    from reportminer.pipeline import usable_cores

    return usable_cores()


def _prepare_analysis(
    model: str | None, workers: int | None, out: Path, full: bool, *, corpus: Path, batch_size: int
) -> None:
    """Start what the analysis needs while Prefect's server starts: the worker processes (they load the
    model) and the analysis of the run's first batch of ``corpus`` (:meth:`pipeline.WorkerPool.prefetch`,
    whose results the flow's first analysis task then takes), or the model in this process. Only when the
    run will analyse every report (a first run into OUT, or --full): an unchanged re-run should not pay
    for it, and an incremental run takes most reports from the cache. A failure is left for the run to
    report."""
    from reportminer import pipeline
    from reportminer.nlp import load_pipeline

    if not full and (out / "parquet" / "documents.parquet").exists():
        return
    try:
        pool = pipeline.start_workers(workers, pipeline.worker_model(model))
        if pool is None:
            load_pipeline(model)
        else:
            first = pipeline.list_reports(corpus)[:batch_size]
            pool.prefetch(pipeline.read_reports(first, corpus, quiet=True)[0])
    except Exception:  # noqa: BLE001 - the run starts them again and reports the error with its context
        pass


def _dask_workers(address: str) -> int:
    """How many workers the Dask cluster at ``address`` has now (at least 1)."""
    from distributed import Client

    try:
        with Client(address, timeout=30) as client:
            return max(1, len(client.scheduler_info().get("workers", {})))
    except OSError as exc:
        raise ReportminerError(
            f"cannot reach the Dask scheduler at {address} ({exc}); is it running?"
        ) from exc


def _print_summary(summary) -> None:
    out = Console()
    table = Table(title=f"reportminer run {summary.run_id}", show_header=False)
    for key, value in [
        ("documents", summary.n_documents),
        (
            "new/changed/unchanged/removed",
            f"{summary.n_new}/{summary.n_changed}/{summary.n_unchanged}/{summary.n_removed}"
            f" ({summary.n_analysed} analysed, the others from the cache)",
        ),
        ("entity mentions", summary.n_mentions),
        ("distinct entities", summary.n_entities),
        ("dates", summary.n_dates),
        ("themes", f"{summary.n_themes}: " + "; ".join(summary.themes) if summary.themes else 0),
        *(
            [("boilerplate", f"{summary.n_boilerplate} recurring sentences/lines left out of themes")]
            if summary.n_boilerplate
            else []
        ),
        *(
            [("codebook not found", "; ".join(summary.codebook_not_found))]
            if summary.codebook_not_found
            else []
        ),
        ("errors", summary.n_errors),
        ("model", summary.model),
        ("time", f"{summary.seconds:.1f} s"),
        ("outputs", str(summary.out_dir)),
    ]:
        table.add_row(key, str(value))
    out.print(table)
    for err in summary.errors:
        out.print(f"[yellow]skipped[/] {err.path} ({err.stage}): {err.message}", highlight=False)


def _print_json_last(result: dict) -> None:
    import json

    typer.echo(json.dumps(result, ensure_ascii=False))


@app.command("eval-ner")
def eval_ner(
    gold: Annotated[Path, typer.Argument(help="Gold file: token<TAB>IOB2 tag, blank line between sentences")],
    model: Annotated[str | None, typer.Option(help="spaCy model: package name or path")] = None,
    predictions: Annotated[Path | None, typer.Option(help="Write predicted tags here (same format)")] = None,
) -> None:
    """Score the entity pipeline (model and rules) on pre-tokenised gold: P/R/F1 per label and micro."""
    from reportminer.conll import evaluate_ner
    from reportminer.nlp import load_pipeline, model_name

    nlp = load_pipeline(model)
    result = evaluate_ner(gold, nlp, predictions=predictions)
    table = Table(title=f"{gold} ({result['sentences']} sentences, {model_name(nlp)})")
    for col in ("label", "precision", "recall", "f1", "gold", "predicted"):
        table.add_column(col, justify="right" if col != "label" else "left")
    for label, r in [*result["per_label"].items(), ("micro", result["micro"])]:
        table.add_row(
            label,
            *(f"{r[k]:.4f}" for k in ("precision", "recall", "f1")),
            str(r["gold"]),
            str(r["predicted"]),
        )
    Console().print(table)
    _print_json_last({"gold": str(gold), "model": model_name(nlp), **result})


@app.command("eval-dates")
def eval_dates(
    gold_dir: Annotated[Path, typer.Argument(help="Folder with texts/<doc_id>.txt and gold.json")],
    predictions: Annotated[
        Path | None, typer.Option(help="Write predictions (gold schema) as JSON here")
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="news: resolve against the report date; narrative: against the last date in the text"
        ),
    ] = "news",
) -> None:
    """Score the date tagger: strict/relaxed span P/R/F1 and value accuracy."""
    import json

    from reportminer.dates import load_gold, predict_folder, score_predictions

    if mode not in ("news", "narrative"):
        _fail(f"unknown --mode {mode!r}; use news or narrative")
    try:
        gold = load_gold(gold_dir)
    except FileNotFoundError as exc:
        _fail(str(exc))
    pred = predict_folder(gold_dir, mode=mode)
    result = score_predictions(gold, pred)
    table = Table(title=f"{gold_dir} ({result['docs']} documents, mode {mode})")
    for col in ("match", "precision", "recall", "f1"):
        table.add_column(col)
    for kind in ("strict", "relaxed"):
        table.add_row(kind, *(f"{result[kind][k]:.3f}" for k in ("precision", "recall", "f1")))
    table.add_row("value accuracy", f"{result['value_accuracy']:.3f}", "", "")
    Console().print(table)
    if predictions:
        predictions.parent.mkdir(parents=True, exist_ok=True)
        predictions.write_text(json.dumps(pred, ensure_ascii=False, indent=1), encoding="utf-8")
    _print_json_last({"gold_dir": str(gold_dir), "mode": mode, **result})


@app.command("eval-themes")
def eval_themes(
    folder: Annotated[Path, typer.Argument(help="Folder with texts/<doc_id>.txt and metadata.csv")],
    labels: Annotated[
        Path | None, typer.Option(help="CSV with doc_id and a label column (default FOLDER/metadata.csv)")
    ] = None,
    label_column: Annotated[str, typer.Option(help="Label column of the CSV")] = "label",
    codebook: CodebookOption = None,
    model: Annotated[str | None, typer.Option(help="spaCy model: package name or path")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Keep the run's tables here (default: a temporary folder)"),
    ] = None,
    half: Annotated[
        str | None,
        typer.Option(
            help="Only half of the documents: a or b (fixed by a hash of doc_id), to hold one half out"
        ),
    ] = None,
    baseline: Annotated[
        bool, typer.Option(help="Also score plain TF-IDF + NMF told the number of labels (a reference point)")
    ] = False,
) -> None:
    """Run reportminer on a labelled folder exactly as `run` does, then score its themes against the labels:
    NMI, ARI, the largest theme's share, the share without a theme, NPMI coherence and k."""
    import tempfile
    import zlib

    from reportminer.pipeline import run_pipeline
    from reportminer.store import read_table
    from reportminer.themes import baseline_themes, read_labels, score_themes

    if half not in (None, "a", "b"):
        _fail(f"--half must be a or b, not {half!r}")
    _check_codebook(codebook)
    gold = read_labels(folder, labels or folder / "metadata.csv", label_column)
    if half:
        gold = {k: v for k, v in gold.items() if (zlib.crc32(k.encode("utf-8")) % 2 == 0) == (half == "a")}
    with tempfile.TemporaryDirectory(prefix="reportminer-eval-") as tmp:
        corpus = folder / "texts"
        if half:  # the chosen half as a folder of links, so the run sees only those reports
            corpus = Path(tmp) / "texts"
            corpus.mkdir()
            for doc_id in gold:
                (corpus / f"{doc_id}.txt").symlink_to((folder / "texts" / f"{doc_id}.txt").resolve())
        target = out or Path(tmp) / "out"
        try:
            run_pipeline(corpus, target, model=model, codebook=codebook)
        except ReportminerError as exc:
            _fail(str(exc))
        tables = {
            name: read_table(target, name) for name in ("documents", "doc_themes", "themes", "codebook")
        }
    result = score_themes(tables["documents"], tables["doc_themes"], tables["themes"], gold)
    table = Table(
        title=f"{folder}{f' (half {half})' if half else ''}: {result['n_docs']} documents, {result['n_labels']} labels"
    )
    for col in ("themes", "k", "NMI", "ARI", "largest", "no theme", "NPMI"):
        table.add_column(col)
    table.add_row(
        "reportminer run" + (f" --codebook {codebook}" if codebook else ""), str(result["n_themes"]),
        f"{result['nmi']:.3f}", f"{result['ari']:.3f}", f"{result['largest_share']:.1%}",
        f"{result['no_theme_share']:.1%}", f"{result['npmi']:.3f}",
    )  # fmt: skip
    results = {"run": result}
    if baseline:
        texts = [(folder / "texts" / f"{k}.txt").read_text(encoding="utf-8") for k in gold]
        results["baseline_nmf_k_labels"] = base = baseline_themes(texts, list(gold.values()))
        table.add_row(
            "TF-IDF + NMF, k = labels",
            str(base["n_themes"]),
            f"{base['nmi']:.3f}",
            f"{base['ari']:.3f}",
            "",
            "",
            "",
        )
    Console().print(table)
    lines = [f"{row.label} ({row.n_docs}): {row.top_terms}" for row in tables["themes"].itertuples()]
    Console().print("\n".join(lines), highlight=False, soft_wrap=True)
    not_found = tables["codebook"][~tables["codebook"]["found"].fillna(False).astype(bool)]
    if len(not_found):
        Console().print(
            "codebook themes not found: " + "; ".join(f"{r.label} ({r.reason})" for r in not_found.itertuples()),
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    _print_json_last({"folder": str(folder), "half": half, "codebook": codebook, **results})


@app.command()
def version() -> None:
    """Print the reportminer version and the spaCy model it would use."""
    from reportminer.nlp import resolve_model

    try:
        choice = resolve_model()
        typer.echo(f"reportminer {__version__}; model {choice.target} ({choice.source})")
    except ReportminerError as exc:
        _fail(str(exc))


# -- querying the outputs: thin wrappers around reportminer.query ------------------------------------------


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Level(str, Enum):
    document = "document"
    sentence = "sentence"


OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output folder written by `reportminer run`")]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table (readable), csv or json (records)")
]
LabelOption = Annotated[
    str | None, typer.Option(help="PER, LOC, ORG or MISC; several separated by commas (PER,ORG)")
]
NameOption = Annotated[str | None, typer.Option(help="Part of the name (case and accents ignored)")]
ThemeOption = Annotated[
    str | None, typer.Option("--in-theme", help="Theme id or part of its label (reports of that theme)")
]
SinceOption = Annotated[
    str | None, typer.Option(help="Reports dated on or after (YYYY-MM-DD, YYYY-MM, YYYY)")
]
UntilOption = Annotated[
    str | None, typer.Option(help="Reports dated on or before (YYYY-MM-DD, YYYY-MM, YYYY)")
]
PlaceOption = Annotated[str | None, typer.Option(help="Reports that mention this place (part of its name)")]
LimitOption = Annotated[int | None, typer.Option(min=1, help="At most N rows")]


def _query_outputs(out: Path, method: str, **kwargs):
    """Open the output folder and call one query method; library errors become a one-line message."""
    import reportminer

    try:
        with reportminer.open(out) as outputs:
            return getattr(outputs, method)(**kwargs)
    except ReportminerError as exc:
        _fail(str(exc))
        raise  # not reached: _fail exits


def _show(df, fmt: OutputFormat, columns: list[str] | None = None, title: str = "") -> None:
    """Print a DataFrame as a rich table (chosen columns), CSV or JSON records on stdout."""
    if fmt is OutputFormat.csv:
        typer.echo(df.to_csv(index=False), nl=False)
        return
    if fmt is OutputFormat.json:
        typer.echo(df.to_json(orient="records", force_ascii=False))
        return
    if df.empty:
        console.print("no matching rows", highlight=False)
        return
    import pandas as pd

    columns = [c for c in columns or list(df.columns) if c in df.columns]
    table = Table(title=f"{title} ({len(df)} rows)" if title else None)
    for col in columns:
        table.add_column(col)
    for row in df[columns].itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(table)


@app.command()
def entities(
    out: OutOption = Path("outputs"),
    label: LabelOption = None,
    name: NameOption = None,
    in_theme: ThemeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    place: PlaceOption = None,
    limit: LimitOption = None,
    fmt: FormatOption = OutputFormat.table,
    min_confidence: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Only entities whose confidence (0 to 1) is at least this"),
    ] = None,
) -> None:
    """People, places, organisations and other entities in the selected reports, most widespread first."""
    df = _query_outputs(
        out, "entities", label=label, name=name, in_theme=in_theme, since=since, until=until, place=place,
        limit=limit, min_confidence=min_confidence,
    )  # fmt: skip
    _show(
        df, fmt,
        ["name", "label", "n_docs", "n_mentions", "confidence", "first_date", "last_date", "entity_id"],
        "entities",
    )  # fmt: skip


@app.command()
def mentions(
    out: OutOption = Path("outputs"),
    label: LabelOption = None,
    name: NameOption = None,
    in_theme: ThemeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    place: PlaceOption = None,
    doc_id: Annotated[str | None, typer.Option("--doc-id", help="Only this report")] = None,
    limit: LimitOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Entity mentions with the sentence they are in, the report's title and date."""
    df = _query_outputs(
        out, "mentions", label=label, name=name, in_theme=in_theme, since=since, until=until, place=place,
        doc_id=doc_id, limit=limit,
    )  # fmt: skip
    _show(df, fmt, ["report_date", "doc_id", "name", "label", "text", "sentence"], "mentions")


@app.command()
def cooccurrences(
    out: OutOption = Path("outputs"),
    label: LabelOption = None,
    min_count: Annotated[int, typer.Option("--min", min=1, help="Pairs seen together at least N times")] = 2,
    level: Annotated[
        Level, typer.Option(help="Together in a report (document) or in one sentence")
    ] = Level.document,
    name: NameOption = None,
    in_theme: ThemeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    place: PlaceOption = None,
    limit: LimitOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Pairs of entities mentioned together, with how many reports (or sentences) they share."""
    df = _query_outputs(
        out, "cooccurrences", label=label, min_count=min_count, level=level.value, name=name,
        in_theme=in_theme, since=since, until=until, place=place, limit=limit,
    )  # fmt: skip
    _show(
        df,
        fmt,
        ["name_a", "label_a", "name_b", "label_b", "count", "n_docs"],
        f"co-occurrences ({level.value})",
    )


@app.command()
def search(
    text: Annotated[str, typer.Argument(help='Words that must all occur; "in quotes" for an exact phrase')],
    out: OutOption = Path("outputs"),
    limit: Annotated[int, typer.Option(min=1, help="At most N results")] = 20,
    level: Annotated[
        Level, typer.Option(help="Search report texts (document) or sentences naming entities (sentence)")
    ] = Level.document,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Full-text search of the reports (SQLite FTS5), best matches first."""
    df = _query_outputs(out, "search", text=text, limit=limit, level=level.value)
    _show(df, fmt, ["report_date", "doc_id", "title", "snippet", "entities"], f"search {text!r}")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT statement (or WITH … SELECT)")],
    out: OutOption = Path("outputs"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run one read-only SQL query on the outputs' SQLite database; writes are refused."""
    _show(_query_outputs(out, "sql", query=query), fmt)


@app.command()
def web(
    out: OutOption = Path("outputs"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on")] = 8001,
    host: Annotated[
        str, typer.Option(help="Address to bind; the default serves this machine only")
    ] = "127.0.0.1",
) -> None:
    """Browse and search the outputs in Datasette (read-only) at http://HOST:PORT/reportminer."""
    from reportminer.web import DATABASE, database_path, serve

    try:
        db = database_path(out)
        console.print(
            f"serving {db} read-only at http://{host}:{port}/{DATABASE} (Ctrl+C to stop)", highlight=False
        )
        serve(out, host=host, port=port)
    except ReportminerError as exc:
        _fail(str(exc))


@app.command()
def summarize(
    out: OutOption = Path("outputs"),
    theme: Annotated[
        str | None, typer.Option(help="Theme id, key or (part of its) label; default: corpus overview")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="md (Markdown) or html (one file, with plots)")
    ] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the summary here (default: stdout)")
    ] = None,
) -> None:
    """Readable summary of a theme (key sentences with sources, entities, timeline) or of all themes."""
    from reportminer.summaries import FORMATS
    from reportminer.summaries import summarize as summarize_outputs

    if fmt not in FORMATS:
        _fail(f"unknown --format {fmt!r}; use md or html")
    try:
        text = summarize_outputs(out, theme=theme, fmt=fmt)
    except ReportminerError as exc:
        _fail(str(exc))
        raise  # not reached: _fail exits
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    console.print(f"summary written to {output}", highlight=False)


# -- exports: thin wrappers around reportminer.export ---------------------------------------------------

export_app = typer.Typer(
    help="Hand the results on: OParl objects, FollowTheMoney entities.", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@export_app.command("oparl")
def export_oparl(
    dest: Annotated[
        Path, typer.Argument(help="Folder for the OParl JSON files (created; earlier objects replaced)")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder of a run")] = Path("outputs"),
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Address DEST will be served at; ids are BASE/meeting/ID.json (default: DEST's file:// address)"
        ),
    ] = None,
    source_url: Annotated[
        str | None,
        typer.Option(
            help="Address of the corpus folder, for each meeting's report (default: its file:// address)"
        ),
    ] = None,
    validate: Annotated[
        Path | None,
        typer.Option(help="Folder of the OParl 1.1 JSON schemas: check every object written against them"),
    ] = None,
) -> None:
    """OParl 1.1 objects of the meetings the reports describe: System, Body, Meetings (with their report as
    resultsProtocol), Organizations, Persons, Locations, and the Body's paginated lists."""
    from reportminer.export import export_oparl as export
    from reportminer.export import validate_oparl

    try:
        counts = export(out, dest, base_url=base_url, source_url=source_url)
        problems = validate_oparl(dest, validate) if validate else []
    except ReportminerError as exc:
        _fail(str(exc))
        return
    console.print(
        f"OParl export in {dest}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()), highlight=False
    )
    if validate:
        for problem in problems[:20]:
            console.print(f"[red]invalid:[/] {problem}", highlight=False, soft_wrap=True)
        if problems:
            _fail(f"{len(problems)} problem(s) against the schemas in {validate}", code=1)
        console.print(f"all objects valid against the OParl schemas in {validate}", highlight=False)


@export_app.command("ftm")
def export_ftm(
    dest: Annotated[Path, typer.Argument(help="File for the entities, one JSON object a line (.ftm.json)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder of a run")] = Path("outputs"),
    source_url: Annotated[
        str | None,
        typer.Option(
            help="http(s) address of the corpus folder, for each report's sourceUrl (FtM drops file:// "
            "addresses: without it, reports carry their file name and title)"
        ),
    ] = None,
) -> None:
    """FollowTheMoney entities for Aleph and the ftm tools: reports (PlainText, HyperText, Document),
    Person, Organization, Address, an Event for each meeting, and a Mention for each entity in each report.
    Needs `pip install 'reportminer[ftm]'`."""
    from reportminer.export import export_ftm as export

    try:
        counts = export(out, dest, source_url=source_url)
    except ReportminerError as exc:
        _fail(str(exc))
        return
    console.print(
        f"FollowTheMoney entities in {dest}: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())),
        highlight=False,
    )


@app.command("map")
def map_command(
    file: Annotated[Path, typer.Argument(help="HTML file to write (one page, works offline)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder of a run")] = Path("outputs"),
) -> None:
    """Where the reports are: districts coloured by the reports that name them, towns as points, for the
    corpus and its largest themes. Offline: the district boundaries ship with reportminer."""
    from reportminer.maps import map_html

    try:
        text = map_html(out)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    except ReportminerError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {file}: {exc.strerror or exc}")
    console.print(f"map written to {file}", highlight=False)


# -- schedules: thin wrappers around reportminer_flows.serve ---------------------------------------------

CronOption = Annotated[str, typer.Option(help="Schedule as a cron expression (default: Mondays 06:00)")]


def _flow_schedules(verbose: bool = True):
    """The flows' schedule module; a clear message when Prefect or its server is missing."""
    _prepare_prefect(verbose)
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            _fail(
                "schedules need a Prefect server: start one with `prefect server start`, then "
                "`export PREFECT_API_URL=http://127.0.0.1:4200/api` (or `prefect config set PREFECT_API_URL=...`)"
            )
    try:
        import reportminer_flows.serve as schedules
    except ImportError as exc:
        _fail(f"Prefect is not available ({exc}); install reportminer with its dependencies")
    return schedules


@app.command()
def serve(
    corpus: Annotated[Path, typer.Argument(help="Folder of reports to analyse on each run")] = Path("corpus"),
    cron: CronOption = "0 6 * * 1",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the tables")] = Path("outputs"),
    model: Annotated[str | None, typer.Option(help="spaCy model: package name or path")] = None,
    name: Annotated[str, typer.Option(help="Deployment name in the Prefect UI")] = "reportminer-scheduled",
    codebook: CodebookOption = None,
) -> None:
    """Run the flow on a schedule from this process (incremental runs over CORPUS into OUT) until Ctrl+C."""
    if not corpus.exists():
        _fail(f"corpus folder {corpus} does not exist; pass a folder of .txt/.md/.html/.pdf/.docx reports")
    _check_codebook(codebook)
    schedules = _flow_schedules()
    console.print(f"serving {name!r}: {corpus} → {out} on {cron!r} (Ctrl+C to stop)", highlight=False)
    schedules.serve(corpus, out, cron, model, name=name, codebook=codebook)


@app.command()
def deploy(
    corpus: Annotated[Path, typer.Argument(help="Folder of reports, as the worker sees it")] = Path("corpus"),
    pool: Annotated[
        str, typer.Option("--pool", help="Prefect work pool whose workers run the flow")
    ] = "default",
    cron: CronOption = "0 6 * * 1",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder, as the worker sees it")] = Path(
        "outputs"
    ),
    model: Annotated[str | None, typer.Option(help="spaCy model: package name or path")] = None,
    name: Annotated[str, typer.Option(help="Deployment name in the Prefect UI")] = "reportminer-scheduled",
    codebook: CodebookOption = None,
) -> None:
    """Register the scheduled flow with a Prefect server for a work pool (like `prefect deploy` with prefect.yaml)."""
    _check_codebook(codebook)
    schedules = _flow_schedules()
    try:
        deployment_id = schedules.deploy(
            corpus, out, cron, model, work_pool=pool, name=name, codebook=codebook
        )
    except Exception as exc:  # Prefect's errors (no server, unknown pool) as one line
        _fail(f"could not register the deployment ({type(exc).__name__}: {exc})")
        raise  # not reached
    console.print(
        f"deployment reportminer/{name} ({deployment_id}) scheduled {cron!r}; "
        f"start a worker with `prefect worker start --pool {pool}`",
        highlight=False,
    )


def main() -> None:
    # One BLAS thread per process (set before numpy loads; a value the user set wins): spaCy's CNN runs
    # faster so on these machines (120 OKFDE reports: 8.0 s with OpenBLAS's default threads, 7.1 s with
    # one), and parallelism comes from processes (Dask workers), which Dask already pins the same way.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        app()
    except ReportminerError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
