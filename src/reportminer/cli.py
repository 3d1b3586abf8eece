"""Command line: a thin layer that calls the library and turns its errors into one-line messages."""

from __future__ import annotations

import logging
import os
import sys
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


def _fail(message: str, code: int = 2) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _prepare_prefect(verbose: bool) -> None:
    # A local run starts Prefect's temporary server; on a busy 2-core machine that can take a while.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


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
    batch_size: Annotated[int, typer.Option(help="Reports per Prefect task")] = 32,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's and reportminer's logs")
    ] = False,
) -> None:
    """Analyse every report in CORPUS and write tables (Parquet, CSV, SQLite) to OUT."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    _prepare_prefect(verbose)
    import reportminer_flows.reportminer_flow as flow_module
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not corpus.exists():
        _fail(f"corpus folder {corpus} does not exist; pass a folder of .txt/.md/.html/.pdf/.docx reports")
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=False,
    ) as progress:  # fmt: skip
        bar = progress.add_task("starting Prefect", total=None)

        def hook(done: int, total: int) -> None:
            progress.update(bar, description="analysing reports", completed=done, total=total)

        flow_module.progress_hook = hook
        try:
            summary = flow_module.reportminer_flow(
                corpus=str(corpus), out=str(out), model=model, batch_size=batch_size
            )
        except ReportminerError as exc:
            progress.stop()
            _fail(str(exc))
        finally:
            flow_module.progress_hook = None
    _print_summary(summary)


def _print_summary(summary) -> None:
    out = Console()
    table = Table(title=f"reportminer run {summary.run_id}", show_header=False)
    for key, value in [
        ("documents", summary.n_documents),
        ("entity mentions", summary.n_mentions),
        ("distinct entities", summary.n_entities),
        ("dates", summary.n_dates),
        ("themes", f"{summary.n_themes}: " + "; ".join(summary.themes) if summary.themes else 0),
        ("errors", summary.n_errors),
        ("model", summary.model),
        ("time", f"{summary.seconds:.1f} s"),
        ("outputs", str(summary.out_dir)),
    ]:
        table.add_row(key, str(value))
    out.print(table)
    for err in summary.errors:
        out.print(f"[yellow]skipped[/] {err.path} ({err.stage}): {err.message}", highlight=False)


@app.command()
def version() -> None:
    """Print the reportminer version and the spaCy model it would use."""
    from reportminer.nlp import resolve_model

    try:
        choice = resolve_model()
        typer.echo(f"reportminer {__version__}; model {choice.target} ({choice.source})")
    except ReportminerError as exc:
        _fail(str(exc))


def main() -> None:
    try:
        app()
    except ReportminerError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
