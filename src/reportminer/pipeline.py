"""The pipeline's stages as plain typed functions; ``flows/`` composes them into a Prefect flow.

read_reports → analyse_reports (spaCy: entities, dates, theme terms) → build_tables (entity merging,
themes, table rows) → store.write_tables. Each stage isolates failures per document: one broken report
becomes an :class:`ErrorRecord`, never a crashed run.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import itertools
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from spacy.attrs import IS_PUNCT, IS_SPACE
from spacy.language import Language
from spacy.tokens import Doc

from reportminer import __version__
from reportminer.boilerplate import Boilerplate, BoilerplateFinder, unit_spans
from reportminer.cache import CachedReports
from reportminer.dates import extract_dates, find_report_date
from reportminer.entities import NAME_LABELS, SentenceIndex, extract_entities, merge_entities, score_entities
from reportminer.errors import InputError, OutputError, ReportminerError
from reportminer.ingest import iter_report_paths, read_report, relative_name
from reportminer.meetings import build_meetings
from reportminer.records import AnalysedReport, ErrorRecord, Mention, Report, TextUnit
from reportminer.schema import TABLES
from reportminer.store import THEME_STATE_KEY, BuiltTables, Spool, SpoolFolder, StoredTables
from reportminer.themes import (
    ThemeModel,
    ThemeState,
    doc_and_segment_terms,
    load_seed_themes,
    match_themes,
    naming_terms,
    paragraph_spans,
    theme_drift,
    unit_words,
    units_by_paragraph,
)

log = logging.getLogger(__name__)

MAX_CHUNK_CHARS = 10_000  # spaCy memory grows with the tokens in a batch: bound each piece (~1,500 words)
Progress = Callable[[int], None]


def new_run_id() -> str:
    """A run id that sorts in time order (UTC to the millisecond) with a random suffix against clashes."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z-" + secrets.token_hex(3)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------- ingest


def read_reports(
    paths: Iterable[Path], root: Path, *, progress: Progress | None = None, quiet: bool = False
) -> tuple[list[Report], list[ErrorRecord]]:
    """Read report files; unreadable ones become error records naming the file and the fix.

    A file with the same content as one read before is still read (it is another file), with a warning;
    the documents table's ``sha256`` column shows such duplicates. ``quiet``: no log lines (a read ahead
    of the run, which reads the same files again and reports what it finds).
    """
    if quiet:
        with _quiet_log():
            return read_reports(paths, root, progress=progress)
    reports, errors = [], []
    first_with: dict[str, str] = {}
    for path in paths:
        try:
            report = read_report(path, root)
        except InputError as exc:
            errors.append(ErrorRecord(relative_name(path, root), "ingest", "InputError", str(exc)))
        except Exception as exc:  # an unexpected failure must still not stop the run
            log.exception("unexpected error reading %s", relative_name(path, root))
            errors.append(
                ErrorRecord(relative_name(path, root), "ingest", type(exc).__name__,
                            f"{relative_name(path, root)}: could not be read ({exc}); please report this with the file")
            )  # fmt: skip
        else:
            reports.append(report)
            if report.sha256 in first_with:
                log.warning(
                    "%s: same content as %s (a duplicate); both are analysed",
                    report.path,
                    first_with[report.sha256],
                )
            else:
                first_with[report.sha256] = report.path
        if progress:
            progress(1)
    return reports, errors


@contextlib.contextmanager
def _quiet_log():
    """Log lines of reportminer's modules (reading: ingest, this one) are dropped inside the block, for this
    thread only."""
    me = threading.get_ident()

    def other_threads(record: logging.LogRecord) -> bool:
        return record.thread != me

    loggers = [
        logging.getLogger(name)
        for name in list(logging.Logger.manager.loggerDict)
        if name == "reportminer" or name.startswith("reportminer.")
    ]
    for logger in loggers:
        logger.addFilter(other_threads)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(other_threads)


# ------------------------------------------------------------------------------------------------ nlp


def chunk_spans(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """Split ``text`` into spans of at most ``max_chars``, at paragraph, line or sentence breaks."""
    spans = []
    start = 0
    n = len(text)
    while start < n:
        end = min(start + max_chars, n)
        if end < n:
            window = text[start:end]
            for sep in ("\n\n", "\n", ". ", " "):
                cut = window.rfind(sep)
                if cut > max_chars // 4:
                    end = start + cut + len(sep)
                    break
        spans.append((start, end))
        start = end
    return spans


def with_report_date(report: Report) -> Report:
    """The report, with its date taken from the first full date in the text if it had none."""
    if report.report_date is not None:
        return report
    found = find_report_date(report.text)
    if found is None:
        return report
    return dataclasses.replace(report, report_date=found, report_date_source="first_date_in_text")


BATCH_SIZE = 128
"""Reports per batch of a run (``--batch-size``): per Prefect task, per write to the cache and per step of the
progress bar. The worker processes take a batch in jobs of :data:`NLP_BATCH` reports, so a large batch keeps
them all busy; Prefect's per-task cost (about 30 ms of this process's and its server's time per task run)
counts little at this size (1,600 reports on 2 cores: 69.0 s with 128, 71.2 s with 32)."""

NLP_BATCH = 16
"""Reports per ``nlp.pipe`` batch in :func:`analyse_reports`, and per job of the worker processes (a run's
batches are split into jobs of this size, so that both workers finish at about the same time)."""


def batch_bounds(n: int, size: int, in_flight: int = 1) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each batch of ``n`` paths: ``size`` paths each. With ``in_flight`` above 1 (a
    task runner that analyses that many batches at once in processes of its own, such as Dask) the last
    batches shrink to an ``in_flight``-th of what is left, not under :data:`NLP_BATCH`, so that its workers
    finish together instead of one analysing the last full batch alone."""
    start = 0
    while start < n:
        step = size if in_flight <= 1 else min(size, max(NLP_BATCH, math.ceil((n - start) / in_flight)))
        yield start, min(n, start + step)
        start += step


def analyse_reports(
    reports: Sequence[Report],
    nlp: Language,
    *,
    model: str,
    batch_size: int = NLP_BATCH,
    progress: Progress | None = None,
) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
    """Run the spaCy pipeline over reports: entity and date mentions plus theme terms for each."""
    analysed: list[AnalysedReport] = []
    errors: list[ErrorRecord] = []
    for i in range(0, len(reports), batch_size):
        batch = [with_report_date(r) for r in reports[i : i + batch_size]]
        try:
            analysed.extend(_analyse_batch(batch, nlp, model, batch_size))
        except Exception:
            # isolate the broken report: redo the batch one report at a time
            for report in batch:
                try:
                    analysed.extend(_analyse_batch([report], nlp, model, 1))
                except Exception as exc:
                    log.exception("NLP failed on %s", report.path)
                    errors.append(
                        ErrorRecord(report.path, "nlp", type(exc).__name__,
                                    f"{report.path}: analysis failed ({exc}); please report this with the file")
                    )  # fmt: skip
        if progress:
            progress(len(batch))
    return analysed, errors


def _analyse_batch(reports: list[Report], nlp: Language, model: str, batch_size: int) -> list[AnalysedReport]:
    pieces: list[tuple[int, int, int]] = []  # (report index, chunk start, chunk end)
    for idx, report in enumerate(reports):
        pieces.extend((idx, s, e) for s, e in chunk_spans(report.text))

    def make_docs() -> Iterable[Doc]:
        for idx, s, e in pieces:
            doc = nlp.make_doc(reports[idx].text[s:e])
            doc._.report_date = reports[idx].report_date
            yield doc

    mentions: list[list[Mention]] = [[] for _ in reports]
    units: list[list[TextUnit]] = [[] for _ in reports]
    n_words = [0] * len(reports)
    for (idx, offset, end), doc in zip(pieces, nlp.pipe(make_docs(), batch_size=batch_size), strict=True):
        # shared: one string per sentence for all its mentions; the chunk's text is the Doc's
        sentences = SentenceIndex(doc, reports[idx].text[offset:end])
        dates = _date_mentions(doc, sentences)
        names = [
            m for m in extract_entities(doc, source=model, sentences=sentences) if not _inside_any(m, dates)
        ]
        found = names + dates
        mentions[idx].extend(_shift(m, offset) for m in found)
        units[idx].extend(text_units(doc, offset))
        n_words[idx] += count_words(doc)
    out = []
    for idx, report in enumerate(reports):
        ms = sorted(mentions[idx], key=lambda m: (m.start_char, m.end_char))
        out.append(AnalysedReport(report, ms, units[idx], n_words[idx], model))
    return out


def text_units(doc: Doc, offset: int = 0) -> list[TextUnit]:
    """The sentence units of ``doc`` with their theme terms, offsets shifted by ``offset`` (where the Doc's
    text starts in the report). Theme terms are kept sentence by sentence, so that corpus boilerplate can be
    found, and left out, by sentence (:mod:`reportminer.boilerplate`)."""
    spans = unit_spans(doc)
    _, local = doc_and_segment_terms(doc, spans)
    return [TextUnit(s + offset, e + offset, terms) for (s, e), terms in zip(spans, local, strict=True)]


def count_words(doc: Doc) -> int:
    """Words of ``doc`` as ``documents.n_words`` counts them: tokens that are neither space nor punctuation."""
    if not len(doc):
        return 0
    flags = doc.to_array([IS_SPACE, IS_PUNCT])
    return int((flags.sum(axis=1) == 0).sum())


def _inside_any(m: Mention, spans: list[Mention]) -> bool:
    """True when ``m`` lies within one of ``spans`` (a "KW 43" the model took for a place)."""
    return any(s.start_char <= m.start_char and m.end_char <= s.end_char for s in spans)


def _date_mentions(doc: Doc, sentences: SentenceIndex) -> list[Mention]:
    out = []
    for tx in extract_dates(doc, reference_date=doc._.report_date):
        sentence = sentences.text_at(tx.start)
        out.append(Mention(tx.type, tx.text, tx.start, tx.end, sentence, "reportminer_dates", value=tx.value))
    return out


def _shift(m: Mention, offset: int) -> Mention:
    if not offset:
        return m
    return dataclasses.replace(m, start_char=m.start_char + offset, end_char=m.end_char + offset)


# --------------------------------------------------------------------------------------------- tables


@dataclass
class RunInfo:
    run_id: str
    started_at: str
    corpus: str
    model: str
    model_source: str
    version: str = __version__
    t0: float = field(default_factory=time.perf_counter)
    # incremental runs: documents compared with the previous run's documents table (path -> sha256),
    # and how many reports went through spaCy in this run (the others came from the cache)
    n_new: int | None = None
    n_changed: int | None = None
    n_unchanged: int | None = None
    n_removed: int | None = None
    n_analysed: int | None = None
    codebook: str | None = None


BUILD_BATCH = 500
"""Reports whose rows the build makes and spools at a time (its second pass)."""


class FirstPass:
    """The build's first pass, one analysed report at a time, in path order: the compact rows the
    corpus-level results need (each name mention's label, text, report and date for entity merging; each
    text unit's boilerplate key, theme words and naming terms) and the corpus' boilerplate counts.

    :func:`build_tables` makes it from the cache; :func:`run_pipeline` makes it while the analysis runs,
    from each batch as it comes back, when the run analyses every report (a first run or ``--full``): the
    main process is nearly idle then, and the build starts with its second pass (1,600 reports: about 2 s
    less after the analysis, and no first reading of the cache)."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}  # one string object per distinct value
        self.merge_rows: list[_MergeRow] = []
        self.finder = BoilerplateFinder()
        # per report with units: its merge rows (first, end) and its units' spans and keys
        self.unit_bounds: list[tuple[int, int, list[tuple[int, int]], list[str | None]]] = []
        self.unit_features: list[tuple[str, list[tuple[str | None, list[str], list[str]]]]] = []
        self.n_documents = self.n_mentions = 0
        self.last_path: str | None = None

    def follows(self, a: AnalysedReport) -> bool:
        """Whether ``a`` comes after every report added so far in path order (the build's order)."""
        return self.last_path is None or a.report.path > self.last_path

    def add(self, a: AnalysedReport) -> None:
        r = a.report
        pool = self._strings
        self.last_path = r.path
        self.n_documents += 1
        self.n_mentions += len(a.mentions)
        report_date = _iso(r.report_date)
        merge_rows = self.merge_rows
        first_row = len(merge_rows)
        for m in a.mentions:
            if m.label in NAME_LABELS:
                merge_rows.append(
                    _MergeRow(
                        r.doc_id, pool.setdefault(m.label, m.label), pool.setdefault(m.text, m.text),
                        None if m.value is None else pool.setdefault(m.value, m.value),
                        None if m.role is None else pool.setdefault(m.role, m.role), report_date,
                        m.abbreviation, m.start_char,
                    )
                )  # fmt: skip
        if a.units:
            pieces = [r.text[u.start : u.end] for u in a.units]
            keys = self.finder.add(r.sha256, pieces)
            self.unit_bounds.append((first_row, len(merge_rows), [(u.start, u.end) for u in a.units], keys))
            self.unit_features.append(
                (
                    r.doc_id,
                    [
                        (k, unit_words(p, u.terms), naming_terms(p, u.terms))
                        for k, p, u in zip(keys, pieces, a.units, strict=True)
                    ],
                )
            )

    def take(self) -> tuple[list[_MergeRow], list, list, BoilerplateFinder]:
        """The rows and the boilerplate counts, handed over (the build frees each as soon as it is done)."""
        taken = (self.merge_rows, self.unit_bounds, self.unit_features, self.finder)
        self.merge_rows, self.unit_bounds, self.unit_features, self._strings = [], [], [], {}
        return taken


def build_tables(
    analysed: Iterable[AnalysedReport],
    errors: Sequence[ErrorRecord],
    run: RunInfo,
    *,
    random_state: int = 0,
    previous_themes: pd.DataFrame | None = None,
    previous_state: pd.DataFrame | None = None,
    spool_dir: Path | None = None,
    codebook: str | Path | None = None,
    first_pass: FirstPass | None = None,
) -> BuiltTables:
    """Corpus-level results (merged entities, themes) and every output table, conformed to the schema.

    Two passes over ``analysed`` (a list, or :class:`reportminer.cache.CachedReports`, which reads the
    reports from the cache on each pass), in path order. The first keeps only what the corpus-level results
    need — each name mention's label, text, report and date for entity merging, each report's theme terms —
    and computes them; the second makes the rows of :data:`BUILD_BATCH` reports at a time (documents,
    mentions, paragraph themes, meetings) and appends them to :class:`reportminer.store.Spool` files in a
    temporary folder under ``spool_dir``, so memory does not grow with the tables.

    ``previous_themes`` (the themes table of the previous run over the same output folder) keeps theme ids
    stable and feeds the ``theme_drift`` table; ``previous_state`` (that run's theme model state,
    :data:`reportminer.store.THEME_STATE`) lets the theme model continue from its solution (see
    :func:`fit_themes`). Besides the schema's tables the result holds ``theme_state``, the state for the
    next run, which :func:`reportminer.store.write_tables` stores beside the cache. Close the result
    (``BuiltTables.close``) once it is written, to remove its spools.

    The first pass also finds the corpus' boilerplate (:mod:`reportminer.boilerplate`), which themes and
    their terms leave out; ``codebook`` (a codebook file or shipped name) guides the themes. ``first_pass``:
    the first pass already made, report by report as the analysis went (:class:`FirstPass`); used when it
    holds every report of ``analysed``, else the first pass is made here.
    """
    reports = _in_path_order(analysed)
    if first_pass is None or first_pass.n_documents != len(reports):
        first_pass = FirstPass()
        for a in reports:
            first_pass.add(a)
    merge_rows, unit_bounds, unit_features, finder = first_pass.take()
    n_documents, n_mentions = first_pass.n_documents, first_pass.n_mentions
    boilerplate = finder.result()
    _mark_boilerplate_mentions(merge_rows, unit_bounds, boilerplate)
    del unit_bounds
    word_lists: list[list[str]] = []
    term_lists: list[list[str]] = []
    term_docs: list[str] = []
    for doc_id, units in unit_features:
        kept = [(words, terms) for key, words, terms in units if key is None or key not in boilerplate]
        words = [w for ws, _ in kept for w in ws]
        if words:
            word_lists.append(words)
            term_lists.append([t for _, ts in kept for t in ts])
            term_docs.append(doc_id)
    # pass 2 needs each unit's key and words again (boilerplate spans, paragraph themes): kept, not redone
    unit_info = {doc_id: [(k, words) for k, words, _ in units] for doc_id, units in unit_features}
    del unit_features
    entities, assignment = merge_entities(merge_rows)
    link_places(entities, merge_rows, assignment)
    score_entities(entities)
    entity_of = [assignment[i] for i in range(len(merge_rows))]  # every name mention has an entity
    del merge_rows, assignment
    fitted = fit_themes(
        word_lists, term_docs, label_terms=term_lists, random_state=random_state,
        previous_themes=previous_themes, previous_state=previous_state, codebook=codebook,
    )  # fmt: skip
    fitted.boilerplate = boilerplate
    del word_lists, term_lists, term_docs

    small = {
        "entities": TABLES["entities"].conform(pd.DataFrame(entities)),
        "themes": TABLES["themes"].conform(pd.DataFrame(fitted.themes)),
        "doc_themes": TABLES["doc_themes"].conform(pd.DataFrame(fitted.doc_themes)),
        "boilerplate": TABLES["boilerplate"].conform(pd.DataFrame(boilerplate.rows())),
        "codebook": TABLES["codebook"].conform(pd.DataFrame(fitted.codebook)),
    }
    names = dict(zip(small["entities"]["entity_id"], small["entities"]["name"], strict=True))

    # pass 2: the rows of each batch of reports, spooled (a failed build removes its spools at once: on a
    # full disk they would keep it full)
    folder = SpoolFolder(spool_dir)
    try:
        spools = _spool_rows(reports, folder, run, entity_of, names, small, fitted, unit_info)
    except BaseException:
        folder.cleanup()
        raise
    log.info("%d of %d reports describe a meeting", len(spools["meetings"]), n_documents)

    error_rows = [dataclasses.asdict(e) | {"run_id": run.run_id} for e in errors]
    tables = {
        **spools,
        **small,
        "theme_drift": TABLES["theme_drift"].conform(
            pd.DataFrame([row | {"run_id": run.run_id} for row in fitted.drift])
        ),
        "errors": TABLES["errors"].conform(pd.DataFrame(error_rows)),
        "runs": run_row(
            run,
            n_documents=n_documents,
            n_errors=len(errors),
            n_mentions=n_mentions,
            n_entities=len(entities),
            n_themes=len(fitted.themes),
        ),
        THEME_STATE_KEY: fitted.state,
    }
    return BuiltTables(tables, folder)


def _spool_rows(
    reports: Iterable[AnalysedReport], folder: SpoolFolder, run: RunInfo, entity_of: Sequence[str],
    names: dict[str, str], small: dict[str, pd.DataFrame], fitted: FittedThemes,
    unit_info: dict[str, list[tuple[str | None, list[str]]]],
) -> dict[str, Spool]:  # fmt: skip
    """The build's second pass: the documents, mentions, meetings and paragraph-theme rows of
    :data:`BUILD_BATCH` reports at a time, appended to spools in ``folder``. ``entity_of[k]`` is the entity
    of the k-th name mention of the corpus (in report and mention order, as the first pass counted them);
    ``unit_info`` the first pass's key and theme words of each unit, by report."""
    spools = {name: Spool(name, folder) for name in ("documents", "mentions", "segment_themes", "meetings")}
    k = 0
    for batch in _batched(reports, BUILD_BATCH):
        documents, mentions = [], []
        for b in batch:
            r = b.report
            report_date = _iso(r.report_date)
            in_boilerplate = fitted.boilerplate_spans(b, unit_info.get(r.doc_id, []))
            starts = [s for s, _ in in_boilerplate]
            documents.append(
                {
                    "doc_id": r.doc_id, "path": r.path, "sha256": r.sha256, "format": r.format, "title": r.title,
                    "report_date": report_date, "report_date_source": r.report_date_source,
                    "encoding": r.encoding, "n_chars": len(r.text), "n_words": b.n_words,
                    "n_mentions": len(b.mentions), "text": r.text, "model": b.model, "run_id": run.run_id,
                }
            )  # fmt: skip
            for n, m in enumerate(b.mentions, 1):
                entity = value = None
                label = m.label
                if m.label in NAME_LABELS:
                    entity = entity_of[k]
                    value = names[entity]
                    label = entity.split("-", 1)[0]  # a corpus-level majority label may have changed it
                    k += 1
                mentions.append(
                    {
                        "mention_id": f"{r.doc_id}-{n:04d}", "doc_id": r.doc_id, "label": label,
                        "text": m.text, "start_char": m.start_char, "end_char": m.end_char,
                        "value": value if entity else m.value, "entity_id": entity, "role": m.role,
                        "sentence": m.sentence, "source": m.source,
                        "in_boilerplate": _inside(m.start_char, starts, in_boilerplate),
                    }
                )  # fmt: skip
        docs_df = TABLES["documents"].conform(pd.DataFrame(documents))
        mentions_df = TABLES["mentions"].conform(pd.DataFrame(mentions))
        del documents, mentions
        doc_themes = small["doc_themes"][small["doc_themes"]["doc_id"].isin(set(docs_df["doc_id"]))]
        spools["meetings"].append(
            build_meetings(docs_df, mentions_df, small["entities"], doc_themes, small["themes"])
        )
        spools["documents"].append(docs_df)
        spools["mentions"].append(mentions_df)
        spools["segment_themes"].append(fitted.segment_rows(batch, unit_info))
    if k != len(entity_of):  # the reports changed between the passes: the rows would not match
        raise ReportminerError(f"the build's passes saw {len(entity_of)} and {k} name mentions; run again")
    for spool in spools.values():
        spool.close()
    return spools


def _inside(pos: int, starts: list[int], spans: list[tuple[int, int]]) -> bool:
    """Whether ``pos`` lies in one of ``spans`` (sorted, not overlapping; ``starts`` their starts)."""
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and pos < spans[i][1]


def _in_path_order(analysed: Iterable[AnalysedReport]) -> Sequence[AnalysedReport] | CachedReports:
    """The reports in path order, iterable more than once (a cache view is already in that order)."""
    if isinstance(analysed, CachedReports):
        return analysed
    return sorted(analysed, key=lambda a: a.report.path)


def _batched(items: Iterable, n: int) -> Iterator[list]:
    """Lists of ``n`` consecutive items (the last one shorter), reading ``items`` lazily."""
    it = iter(items)
    while batch := list(itertools.islice(it, n)):
        yield batch


def _mark_boilerplate_mentions(
    rows: list[_MergeRow],
    bounds: list[tuple[int, int, list[tuple[int, int]], list[str | None]]],
    found: Boilerplate,
) -> None:
    """Set ``in_boilerplate`` of the name mentions that stand in a boilerplate unit of their report.
    ``bounds``: per report with units, the range of its merge rows, its units' spans and their keys."""
    if not len(found):
        return
    for first, end, spans, keys in bounds:
        boiler = [span for span, key in zip(spans, keys, strict=True) if key is not None and key in found]
        for row in rows[first:end] if boiler else ():
            row.in_boilerplate = any(s <= row.start < e for s, e in boiler)


class _MergeRow:
    """A name mention as entity merging and place linking read it (``row["label"]``, ``row.get("value")``).
    Slots, not a dict: a large corpus has hundreds of thousands of name mentions."""

    __slots__ = (
        "doc_id",
        "label",
        "text",
        "value",
        "role",
        "report_date",
        "abbreviation",
        "start",
        "in_boilerplate",
    )

    def __init__(self, doc_id, label, text, value, role, report_date, abbreviation, start=0) -> None:  # noqa: PLR0913
        self.doc_id, self.label, self.text, self.value = doc_id, label, text, value
        self.role, self.report_date, self.abbreviation = role, report_date, abbreviation
        self.start, self.in_boilerplate = start, False

    def __getitem__(self, key: str) -> object:
        return getattr(self, key)

    def get(self, key: str, default: object = None) -> object:
        return getattr(self, key, default)


def run_row(run: RunInfo, **counts: int) -> pd.DataFrame:
    """The ``runs`` row of a run; ``counts``: n_documents, n_errors, n_mentions, n_entities, n_themes."""
    row = {
        "run_id": run.run_id, "started_at": run.started_at, "finished_at": utc_now(), "corpus": run.corpus,
        **counts,
        "model": run.model, "model_source": run.model_source, "version": run.version,
        "seconds": round(time.perf_counter() - run.t0, 3),
        "n_new": run.n_new, "n_changed": run.n_changed, "n_unchanged": run.n_unchanged,
        "n_removed": run.n_removed, "n_analysed": run.n_analysed, "codebook": run.codebook,
    }  # fmt: skip
    return TABLES["runs"].conform(pd.DataFrame([row]))


def link_places(entities: list[dict], mention_rows: Sequence, assignment: dict[int, str]) -> None:
    """Add official keys and coordinates to place entities (district key, NUTS-3, GeoNames, state).

    The other places named in the same reports are the context that settles ambiguous names
    ("Auerbach" in a report that also names the Vogtlandkreis).
    """
    from reportminer.places import link_place

    places_by_doc: dict[str, set[str]] = {}
    docs_by_entity: dict[str, set[str]] = {}
    for i, entity in assignment.items():
        row = mention_rows[i]
        if row["label"] == "LOC":
            places_by_doc.setdefault(row["doc_id"], set()).add(row.get("value") or row["text"])
            docs_by_entity.setdefault(entity, set()).add(row["doc_id"])
    for e in entities:
        if e["label"] != "LOC":
            continue
        context = sorted({p for d in docs_by_entity.get(e["entity_id"], ()) for p in places_by_doc[d]})
        link = link_place(e["name"], context=context)
        e.update(
            place_kind=link.kind, district_key=link.district_key, nuts3=link.nuts3,
            geonames_id=link.geonames_id, state=link.state, lat=link.lat, lon=link.lon,
        )  # fmt: skip


@dataclass
class FittedThemes:
    """The theme model fitted on a corpus: the ``themes``, ``doc_themes``, ``codebook`` and (without
    ``run_id``) ``theme_drift`` rows, the model's state for the next run, the corpus' boilerplate, and the
    paragraph rows of any report."""

    themes: list[dict]
    doc_themes: list[dict]
    drift: list[dict]
    state: pd.DataFrame | None
    model: ThemeModel | None = None
    theme_ids: list[int] = field(default_factory=list)
    codebook: list[dict] = field(default_factory=list)
    boilerplate: Boilerplate = field(default_factory=Boilerplate)

    def boilerplate_spans(
        self, analysed: AnalysedReport, info: list[tuple[str | None, list[str]]]
    ) -> list[tuple[int, int]]:
        """Character spans of the report's units that are corpus boilerplate (in text order). ``info``: the
        key and theme words of each unit, as the build's first pass computed them."""
        found = self.boilerplate
        if not len(found):
            return []
        return [
            (u.start, u.end)
            for u, (k, _) in zip(analysed.units, info, strict=True)
            if k is not None and k in found
        ]

    def segment_rows(
        self, analysed: Sequence[AnalysedReport], unit_info: dict[str, list[tuple[str | None, list[str]]]]
    ) -> list[dict]:
        """``segment_themes`` rows of these reports: every paragraph's theme weights, in one transform.

        Paragraphs are the blank-line-separated blocks of the report text; their words are those of the
        report's sentence units outside the boilerplate, as the build's first pass found them (``unit_info``:
        each unit's key and theme words, by report), so nothing is tokenised again here."""
        if self.model is None:
            return []
        rows: list[dict] = []
        features: list[list[str]] = []
        keys: list[tuple[str, int, int, int]] = []
        found = self.boilerplate
        for a in analysed:
            if not a.units:
                continue
            spans = paragraph_spans(a.report.text)
            info = {id(u): ki for u, ki in zip(a.units, unit_info[a.report.doc_id], strict=True)}
            for n, ((start, end), units) in enumerate(
                zip(spans, units_by_paragraph(a.units, spans), strict=True), 1
            ):
                words: list[str] = []
                for u in units:
                    k, ws = info[id(u)]
                    if k is None or k not in found:
                        words.extend(ws)
                if words:
                    features.append(words)
                    keys.append((a.report.doc_id, n, start, end))
        if not features:
            return []
        weights = self.model.transform(features)
        for (doc_id, n, start, end), row in zip(keys, weights, strict=True):
            rows.extend(
                _theme_rows(row, self.theme_ids, min_weight=self.model.min_weight, doc_id=doc_id, segment=n,
                            start_char=start, end_char=end)
            )  # fmt: skip
        return rows


def fit_themes(
    word_lists: Sequence[Sequence[str]],
    doc_ids: Sequence[str],
    *,
    label_terms: Sequence[Sequence[str]] | None = None,
    random_state: int = 0,
    codebook: str | Path | None = None,
    previous_themes: pd.DataFrame | None = None,
    previous_state: pd.DataFrame | None = None,
) -> FittedThemes:
    """Fit the theme model on the reports' words (``word_lists[i]`` of report ``doc_ids[i]``, named from
    ``label_terms[i]``; reports without words left out): theme rows, each report's themes, the codebook's
    rows, the drift rows and the model's state.

    A report's themes (``doc_themes``) are those with at least the model's ``min_weight``; a report whose
    themes are all weaker has none (no clear theme). ``codebook`` (a file or shipped name, see
    :func:`reportminer.themes.load_codebook`) guides the themes; without it they come from the data alone.
    With ``previous_themes`` (the previous run's themes table) a theme that continues an old one keeps its
    ``theme_id``, key and label (:func:`reportminer.themes.match_themes`); the drift rows say which themes
    are new, grown, shrunk, stable or faded (:func:`reportminer.themes.theme_drift`). With
    ``previous_state`` (:meth:`ThemeState.to_frame` of the previous run's model) the model continues the
    previous solution, so reports keep their themes when others are added (``ThemeModel.fit(previous=…)``).
    """
    seeds = load_seed_themes(codebook) if codebook else None
    if len(word_lists) < 2:
        status = [
            {"theme_key": s.key, "label": s.label, "found": False, "n_docs": 0, "n_docs_with_terms": 0,
             "reason": "fewer than two reports with words"}
            for s in seeds or []
        ]  # fmt: skip
        return FittedThemes([], [], theme_drift([], previous_themes), None, codebook=status)
    model = ThemeModel(n_themes="auto", random_state=random_state, seed_themes=seeds)
    model.fit(word_lists, previous=ThemeState.from_frame(previous_state), label_terms=label_terms)
    found = match_themes(model.themes_, previous_themes)
    ids = [t.theme_id for t in found]
    weights = model.transform(word_lists)
    themes, doc_themes = [], []
    held = weights.max(axis=1) >= model.min_weight if weights.size else np.zeros(len(word_lists), bool)
    strongest = np.where(held, weights.argmax(axis=1), -1) if weights.size else held.astype(int) - 1
    total = float(weights.sum()) or 1.0
    for j, theme in enumerate(found):
        themes.append(
            {
                "theme_id": theme.theme_id, "label": theme.label, "top_terms": ", ".join(theme.top_terms),
                "n_docs": int((strongest == j).sum()),
                "weight": round(float(weights[:, j].sum()) / total, 4), "theme_key": theme.key,
                "seed": theme.seed,
            }
        )  # fmt: skip
    for doc_id, row in zip(doc_ids, weights, strict=True):
        doc_themes.extend(_theme_rows(row, ids, min_weight=model.min_weight, doc_id=doc_id))
    by_key = {row["theme_key"]: row for row in themes if row["seed"]}
    codebook_rows = [
        {
            "theme_key": st["key"], "label": st["label"], "found": bool(st["found"]),
            "theme_id": by_key[st["key"]]["theme_id"] if st["found"] and st["key"] in by_key else None,
            "n_docs": by_key[st["key"]]["n_docs"] if st["found"] and st["key"] in by_key else 0,
            "n_docs_with_terms": model.seed_support_.get(st["key"], 0), "reason": st["reason"] or None,
        }
        for st in model.codebook_status_
    ]  # fmt: skip
    state = model.state_.to_frame() if model.state_ is not None else None
    return FittedThemes(
        themes, doc_themes, theme_drift(themes, previous_themes), state, model, ids, codebook=codebook_rows
    )


def _theme_rows(row, theme_ids: Sequence[int], *, min_weight: float = 0.0, **keys) -> list[dict]:
    """Rows for one document's or paragraph's theme weights, strongest first (weights rounding to 0 left
    out); ``assigned`` marks its themes, those of at least ``min_weight``."""
    order = sorted((j for j in range(len(row)) if round(float(row[j]), 4) > 0), key=lambda j: -row[j])
    return [
        {**keys, "theme_id": theme_ids[j], "weight": round(float(row[j]), 4), "rank": rank,
         "assigned": bool(row[j] >= min_weight)}
        for rank, j in enumerate(order, 1)
    ]  # fmt: skip


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


# ------------------------------------------------------------------------------------------ whole run


@dataclass
class RunSummary:
    run_id: str
    out_dir: Path
    n_documents: int
    n_errors: int
    n_mentions: int
    n_dates: int
    n_entities: int
    n_themes: int
    seconds: float
    model: str
    errors: list[ErrorRecord]
    themes: list[str]
    n_new: int | None = None
    n_changed: int | None = None
    n_unchanged: int | None = None
    n_removed: int | None = None
    n_analysed: int | None = None
    n_boilerplate: int = 0
    codebook_not_found: list[str] = field(default_factory=list)


def summarise(tables: StoredTables, out_dir: Path, errors: Sequence[ErrorRecord]) -> RunSummary:
    """The run's figures from the tables as written (counts and small tables only: nothing large is read)."""
    run = tables["runs"].iloc[-1]
    labels = tables.column("mentions", "label")
    return RunSummary(
        run_id=str(run["run_id"]),
        out_dir=Path(out_dir),
        n_documents=tables.n_rows("documents"),
        n_errors=tables.n_rows("errors"),
        n_mentions=int(labels.isin(NAME_LABELS).sum()),
        n_dates=int(labels.isin(["DATE", "TIME"]).sum()),
        n_entities=tables.n_rows("entities"),
        n_themes=tables.n_rows("themes"),
        seconds=float(run["seconds"]),
        model=str(run["model"]),
        errors=list(errors),
        themes=[str(x) for x in tables["themes"]["label"]],
        n_boilerplate=_n_rows(tables, "boilerplate"),
        codebook_not_found=_codebook_not_found(tables),
        **{
            k: _int_or_none(run.get(k))
            for k in ("n_new", "n_changed", "n_unchanged", "n_removed", "n_analysed")
        },
    )


def _n_rows(tables: StoredTables, name: str) -> int:
    try:
        return tables.n_rows(name)
    except (OutputError, KeyError, OSError):  # outputs written before the table existed
        return 0


def _codebook_not_found(tables: StoredTables) -> list[str]:
    """``label (reason)`` of each codebook theme the corpus does not support."""
    try:
        book = tables["codebook"]
    except (OutputError, KeyError, OSError):
        return []
    missing = book[~book["found"].fillna(False).astype(bool)]
    return [
        f"{r.label} ({r.reason})" if isinstance(r.reason, str) else str(r.label) for r in missing.itertuples()
    ]


def _int_or_none(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def summary_markdown(summary: RunSummary) -> str:
    """A run's figures as a Markdown table (published as the Prefect artifact of each run)."""
    changes = " / ".join(
        "–" if v is None else str(v)
        for v in (summary.n_new, summary.n_changed, summary.n_unchanged, summary.n_removed)
    )
    rows = [
        ("documents", summary.n_documents),
        ("new / changed / unchanged / removed", changes),
        ("analysed with spaCy", "–" if summary.n_analysed is None else summary.n_analysed),
        ("entity mentions", summary.n_mentions),
        ("distinct entities", summary.n_entities),
        ("dates", summary.n_dates),
        ("themes", f"{summary.n_themes}: " + "; ".join(summary.themes) if summary.themes else 0),
        ("boilerplate left out of themes", summary.n_boilerplate),
        ("codebook themes not found", "; ".join(summary.codebook_not_found) or "–"),
        ("errors", summary.n_errors),
        ("time", f"{summary.seconds:.1f} s"),
        ("model", summary.model),
        ("outputs", str(summary.out_dir)),
    ]
    lines = [f"# reportminer run {summary.run_id}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {str(v).replace('|', '/')} |" for k, v in rows]
    if summary.errors:
        lines.append("")
    lines += [f"- skipped `{e.path}` ({e.stage}): {e.message}" for e in summary.errors[:50]]
    return "\n".join(lines) + "\n"


def list_reports(corpus: Path) -> list[Path]:
    """Report files of a corpus folder (a single file is a corpus of one)."""
    try:
        return list(iter_report_paths(Path(corpus)))
    except InputError:
        raise
    except OSError as exc:
        raise ReportminerError(f"cannot list {corpus}: {exc}") from exc


def analyse_with_model(
    reports: list[Report], model: str | None
) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
    """``analyse_reports`` with the pipeline ``model`` resolves to (loaded once per process)."""
    from reportminer.nlp import load_pipeline, model_name

    nlp = load_pipeline(model)
    return analyse_reports(reports, nlp, model=model_name(nlp))


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it, else all of them)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    """Worker processes that each load the model once and analyse batches of reports
    (:func:`analyse_with_model`); the default way a run uses more than one core.

    Processes are spawned (not forked: the parent may run Prefect's threads) and start loading the model
    as soon as the pool exists, so that start-up overlaps with what the parent does meanwhile (hashing the
    corpus, starting Prefect's temporary server). What crosses between processes per batch is the reports'
    text one way and their mentions and theme terms the other."""

    def __init__(self, workers: int, model: str | None) -> None:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        self.workers, self.model, self.broken = workers, model, False
        self._ahead: dict[tuple[Report, ...], object] = {}  # jobs begun by prefetch, by their reports
        self._pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_load_in_worker,
            initargs=(model, os.getpid()),
        )  # fmt: skip
        for _ in range(workers):  # start every worker now (the executor would start them one by one)
            self._pool.submit(_noop)

    def analyse(self, reports: list[Report]) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
        """Analyse a batch in the workers and wait for it (called from a thread per batch). The batch goes
        out in jobs of :data:`NLP_BATCH` reports, which the workers take as they become free: the last
        batches of a run do not wait for one worker while the other is idle, and a large batch (fewer Prefect
        task runs) keeps both busy. The jobs are the batches ``analyse_reports`` makes anyway, so the results
        are the same. When a worker has died (killed for memory, say), the batch, and every later one, is
        analysed here."""
        from concurrent.futures.process import BrokenProcessPool

        if not self.broken:
            try:
                jobs = [
                    self._ahead.pop(tuple(job), None)
                    or self._pool.submit(analyse_with_model, job, self.model)
                    for job in _jobs(reports)
                ]
                analysed: list[AnalysedReport] = []
                errors: list[ErrorRecord] = []
                for job in jobs:
                    done, failed = job.result()
                    analysed.extend(done)
                    errors.extend(failed)
                return analysed, errors
            except BrokenProcessPool as exc:
                self.broken = True
                log.warning("a worker process died (%s); analysing the rest in the main process", exc)
        return analyse_with_model(reports, self.model)

    def prefetch(self, reports: list[Report]) -> None:
        """Begin analysing ``reports`` (the first batch of a run, read before the run has begun): the jobs
        queue in the workers, and :meth:`analyse` takes their results for a batch whose jobs hold the same
        reports (equal :class:`Report` objects: same path, content and metadata) instead of analysing them
        again. The CLI does this while Prefect's temporary server starts, when the workers would otherwise
        wait for the flow's first batch. Jobs nobody asks for are dropped when the pool closes."""
        if self.broken:
            return
        for job in _jobs(reports):
            if tuple(job) not in self._ahead:
                self._ahead[tuple(job)] = self._pool.submit(analyse_with_model, job, self.model)

    def close(self) -> None:
        self._ahead.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _jobs(reports: list[Report]) -> list[list[Report]]:
    """A batch split into the jobs the worker processes take (:data:`NLP_BATCH` reports each)."""
    return [reports[i : i + NLP_BATCH] for i in range(0, len(reports), NLP_BATCH)]


def _load_in_worker(model: str | None, parent: int | None = None) -> None:
    import os
    import threading

    from reportminer.nlp import load_pipeline

    # the parent's pid comes from the parent: one killed while this process was still starting is noticed too
    parent = os.getppid() if parent is None else parent
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # one thread a process: the parallelism is the processes'
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load_pipeline(model)


def _noop() -> None:
    return None


def load_model(model: str | None) -> None:
    """Load ``model`` in this process now, for the batches it will analyse (run on each worker of a Dask
    cluster before the flow starts; returns nothing, so no model travels back)."""
    from reportminer.nlp import load_pipeline

    load_pipeline(model)


def set_environ(values: dict[str, str]) -> None:
    """Set environment variables in this process (run on Dask workers, which inherit no later change of the
    process that started them; before their first task imports Prefect)."""
    import os

    os.environ.update(values)


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """End this worker process once its parent is gone. A run killed outright (``kill -9``, the OOM killer)
    cannot shut its pool down, and its workers, each holding a loaded model (about 1 GB), would wait for
    work forever; an orphan's parent becomes another process (init), which this notices within a second."""
    import os

    while os.getppid() == parent:
        time.sleep(every)
    os._exit(0)


_workers: WorkerPool | None = None
"""The worker processes of the run in progress in this process, if it uses any (see :func:`analyse_batch`)."""


def start_workers(workers: int | None, model: str | None) -> WorkerPool | None:
    """Start the worker processes a run into this process will use (``workers``: None for one a usable
    core; 1 or fewer for none). Callers that start them early (the CLI, before Prefect's server is up) let
    the model load meanwhile; :func:`run_pipeline` takes them over, or starts them itself."""
    global _workers
    n = usable_cores() if workers is None else workers
    if n <= 1:
        return None
    if _workers is not None and (_workers.workers, _workers.model) == (n, model):
        return _workers
    stop_workers()
    _workers = WorkerPool(n, model)
    return _workers


def stop_workers() -> None:
    global _workers
    if _workers is not None:
        pool, _workers = _workers, None
        pool.close()


def worker_model(model: str | None) -> str | None:
    """What worker processes load for ``model``: the model resolved here, except the bundled one, whose
    path differs between machines (each worker resolves its own installed copy; ``documents.model``
    records what was used)."""
    from reportminer.nlp import resolve_model

    choice = resolve_model(model)
    return None if choice.source == "bundled" else choice.target


def analyse_batch(reports: list[Report], model: str | None) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
    """A batch analysed in this run's worker processes when it has any, else in this process. The Prefect
    flow's analysis task calls this: on a Dask worker there is no pool, and the batch is analysed there."""
    pool = _workers
    if pool is not None and pool.model == model:
        return pool.analyse(reports)
    return analyse_with_model(reports, model)


@dataclass
class Steps:
    """The stages ``run_pipeline`` calls; the Prefect flow passes its tasks, which wrap these same functions.

    ``parallel`` is how many analysis batches may be in flight at once. At 1 (the default) each batch is
    analysed before the next is read; above 1, ``analyse`` must be a Prefect task, whose ``submit`` hands
    the batch to the flow's task runner (e.g. a Dask cluster) while the next batches are read.
    """

    read: Callable = read_reports
    analyse: Callable = analyse_batch
    build: Callable = build_tables
    write: Callable = None  # type: ignore[assignment]  # store.write_tables, set in __post_init__
    parallel: int = 1
    _threads: object = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.write is None:
            from reportminer.store import write_tables

            self.write = write_tables

    def start_analysis(self, reports: list[Report], model: str | None):
        """Begin analysing a batch; the returned object's ``result()`` gives ``analyse``'s result.

        Above ``parallel`` 1, a Prefect task is submitted to the flow's task runner; a plain function runs
        in a thread of its own (it waits there for the run's worker processes)."""
        if self.parallel > 1:
            if hasattr(self.analyse, "submit"):
                return self.analyse.submit(reports, model)
            if self._threads is None:
                from concurrent.futures import ThreadPoolExecutor

                self._threads = ThreadPoolExecutor(self.parallel, thread_name_prefix="analyse")
            return self._threads.submit(self.analyse, reports, model)
        return _Finished(self.analyse(reports, model))

    def close(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None


@dataclass
class _Finished:
    """A batch analysed in place, with the ``result()`` of a future."""

    value: tuple[list[AnalysedReport], list[ErrorRecord]]

    def result(self) -> tuple[list[AnalysedReport], list[ErrorRecord]]:
        return self.value


def run_pipeline(
    corpus: Path,
    out: Path,
    *,
    model: str | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    steps: Steps | None = None,
    full: bool = False,
    codebook: str | Path | None = None,
    wait: bool = True,
    on_wait: Callable[[dict], None] | None = None,
    workers: int | None = None,
    unchanged_only: bool = False,
) -> RunSummary | None:
    """Analyse the reports under ``corpus`` and write the tables to ``out``, batch by batch.

    One run at a time writes ``out`` (:func:`reportminer.store.run_lock`): when another run holds it, this
    one waits for it (``on_wait`` is told who holds it), or with ``wait=False`` raises
    :class:`reportminer.store.RunInProgressError` before doing anything.

    ``codebook`` (a TOML file or the name of a shipped codebook, see
    :func:`reportminer.themes.load_codebook`) guides the themes; it is checked before any work is done (a
    :class:`reportminer.errors.CodebookError` leaves ``out`` as it was).

    Incremental: a report whose content was analysed before with the same model and code comes from the
    cache in ``out`` (:mod:`reportminer.cache`) without being decoded or analysed again; only new and changed
    files go through ``steps.read`` and ``steps.analyse``. The corpus-level results (entity merging, themes,
    meetings) are then rebuilt from all current reports, so the rows of deleted files vanish. ``full``
    ignores the cache (every report is analysed again, and the cache refreshed).

    ``workers``: processes that analyse batches side by side (:class:`WorkerPool`, each loads the model
    once); None for one a usable core, 1 to analyse in this process. The tables do not depend on it.
    With ``steps.parallel`` above 1 the task runner (Dask) brings its own processes and none start here.

    ``unchanged_only``: record the run only if no report changed since the last complete build (the cheap
    path of an unchanged re-run), else return None at once, having read, analysed and written nothing.
    """
    from reportminer.cache import AnalysisCache, model_identity, source_digest
    from reportminer.nlp import release_malloc, resolve_model, tune_malloc
    from reportminer.store import (
        BUILD_MARKER,
        check_writable,
        read_build_marker,
        read_document_hashes,
        read_previous_table,
        read_theme_state,
        remove_build_marker,
        remove_stale_spools,
        run_lock,
        write_build_marker,
    )

    t0 = time.perf_counter()  # the run's time includes loading the model
    steps = steps or Steps()
    corpus, out = Path(corpus), Path(out)
    codebook_digest = ""
    if codebook:  # a bad codebook fails before anything is read or written
        from reportminer.cache import file_sha256
        from reportminer.themes import codebook_path, load_codebook

        load_codebook(codebook)
        codebook = codebook_path(codebook)
        codebook_digest = file_sha256(codebook) or ""
    check_writable(out)  # fail before any work is done
    with run_lock(out, wait=wait, corpus=str(corpus), on_wait=on_wait):  # one run at a time writes out
        t0 = time.perf_counter()  # a run that waited for another starts now
        choice = resolve_model(model)
        name, model_key = model_identity(choice.target)  # from meta.json: no need to load an unused model
        run = RunInfo(
            run_id=new_run_id(), started_at=utc_now(), corpus=str(corpus),
            model=name, model_source=choice.source, t0=t0, codebook=str(codebook) if codebook else None,
        )  # fmt: skip
        previous = read_document_hashes(out)
        paths = list_reports(corpus)
        if progress:
            progress(0, len(paths))
        # the run's reports are kept in the cache, not in memory: path -> sha256 of each, and the few the cache
        # could not store (a full disk) by path
        current: dict[str, str] = {}
        kept: dict[str, AnalysedReport] = {}
        errors: list[ErrorRecord] = []
        n_analysed = n_done = 0
        pending: deque = deque()  # (future of an analysis batch, number of paths it completes)
        to_load = worker_model(model)
        # Worker processes (a usable core each, unless ``workers`` says otherwise) start with the first
        # batch that needs analysing (an unchanged re-run starts none), or were started by the caller
        # earlier; none on a task runner that runs batches in parallel itself (Dask).
        workers_wanted = steps.parallel == 1
        # the build's first pass, made from each batch as it comes back while every report so far was
        # analysed in this run (in path order); dropped at the first report from the cache
        first_pass: FirstPass | None = FirstPass()

        def collect() -> None:
            nonlocal n_done, first_pass
            future, n_paths = pending.popleft()
            done, nlp_errors = future.result()
            keep(done, stored=cache.put_many(done))
            for a in done if first_pass is not None else ():
                if not first_pass.follows(a):
                    first_pass = None
                    break
                first_pass.add(a)
            errors.extend(nlp_errors)
            n_done += n_paths
            if progress:
                progress(n_done, len(paths))

        def keep(done: Sequence[AnalysedReport], *, stored: bool) -> None:
            for a in done:
                current[a.report.path] = a.report.sha256
                if not stored:
                    kept[a.report.path] = a

        remove_stale_spools(out)
        # a task runner with processes of its own gets ever smaller last batches (the worker pool here splits
        # every batch into jobs instead)
        bounds = list(batch_bounds(len(paths), batch_size, in_flight=steps.parallel))
        with AnalysisCache.open(out, model_key) as cache:
            tune_malloc()  # spaCy's batch arrays reuse the heap (set when the model loads; again for a later run)
            try:
                for start, end in bounds:
                    batch = paths[start:end]
                    hits, misses = cached_reports(batch, corpus, cache, use_cache=not full)
                    current.update(hits)
                    if hits:
                        first_pass = None
                    to_analyse: list[Report] = []
                    if misses and unchanged_only:
                        return None  # something is new or changed: the caller runs the real thing
                    if misses:
                        reports, read_errors = steps.read(misses, corpus)
                        reused, to_analyse = reuse_analysis(reports, cache) if not full else ([], reports)
                        keep(reused, stored=cache.put_many(reused))
                        if reused:
                            first_pass = None
                        errors.extend(read_errors)
                        n_analysed += len(to_analyse)
                    if to_analyse and workers_wanted:
                        workers_wanted = False
                        pool = start_workers(workers, to_load)
                        if pool is not None:  # a batch waits for each worker while one is analysed
                            steps = dataclasses.replace(steps, parallel=2 * pool.workers)
                    future = steps.start_analysis(to_analyse, to_load) if to_analyse else _Finished(([], []))
                    pending.append((future, len(batch)))
                    while pending and (len(pending) >= steps.parallel or end >= len(paths)):
                        collect()
            finally:
                stop_workers()  # their memory is free before the build
                steps.close()
            release_malloc()  # the build's large arrays come and go once each: glibc's defaults suit them
            errors.sort(key=lambda e: (e.path, e.stage))  # the same order whichever batch finished first
            run.n_new, run.n_changed, run.n_unchanged, run.n_removed = compare_documents(previous, current)
            run.n_analysed = n_analysed
            fingerprint = build_fingerprint(
                current, errors, model_key, f"{cache.code_version}+{source_digest()}+{codebook_digest}"
            )
            unchanged = not full and read_build_marker(out) == fingerprint
            if unchanged_only and not unchanged:
                return None
            if unchanged:
                # nothing changed since the last complete build: its tables stand; only the run is recorded
                log.info("no report changed since the last run; tables kept, run recorded")
                written = record_unchanged_run(run, out)
            else:
                remove_build_marker(out)  # a run killed while writing leaves no marker: the next one rebuilds
                t_build = time.perf_counter()
                log.info("read and analysed %d reports in %.1f s (%s)", len(paths), t_build - t0, _memory())
                analysed = CachedReports(cache.path, model_key, current.items(), kept)
                tables = steps.build(
                    analysed, errors, run,
                    previous_themes=read_previous_table(out, "themes"), previous_state=read_theme_state(out),
                    spool_dir=out / BUILD_MARKER.parent, codebook=codebook, first_pass=first_pass,
                )  # fmt: skip
                first_pass = None
                try:
                    t_write = time.perf_counter()
                    log.info("built the tables in %.1f s (%s)", t_write - t_build, _memory())
                    written = steps.write(tables, out)
                    log.info("wrote the tables in %.1f s (%s)", time.perf_counter() - t_write, _memory())
                finally:
                    tables.close()
                write_build_marker(out, fingerprint)
            cache.prune(current)
        return summarise(written, out, errors)


def _memory() -> str:
    """Resident and peak memory of this process, for the stage log lines (Linux: /proc)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return "memory unknown"
    values = dict(line.split(":", 1) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM")))
    mb = {k: int(v.split()[0]) // 1024 for k, v in values.items()}
    return f"RSS {mb.get('VmRSS', 0)} MB, peak {mb.get('VmHWM', 0)} MB"


def record_unchanged_run(run: RunInfo, out: Path) -> StoredTables:
    """Record a run that found nothing changed: the stored tables stand, the run is added to ``runs``."""
    from reportminer.store import append_runs

    tables = StoredTables(out)
    counts = {
        f"n_{name}": tables.n_rows(name) for name in ("documents", "errors", "mentions", "entities", "themes")
    }
    append_runs(run_row(run, **counts), out)
    return tables


def cached_reports(
    paths: Sequence[Path], root: Path, cache, *, use_cache: bool = True
) -> tuple[list[tuple[str, str]], list[Path]]:
    """Split ``paths`` into reports the ``cache`` holds (same path and content), as (path, sha256), and
    files to read. The cached analyses are not decoded here: the build reads them when it needs them."""
    from reportminer.cache import file_sha256

    hits: list[tuple[str, str]] = []
    misses: list[Path] = []
    for path in paths:
        sha = file_sha256(path) if use_cache else None
        name = relative_name(path, root)
        if sha and cache.contains(sha, name):
            hits.append((name, sha))
        else:
            misses.append(path)
    return hits, misses


def reuse_analysis(reports: Sequence[Report], cache) -> tuple[list[AnalysedReport], list[Report]]:
    """Reports whose content the cache holds under another path (a renamed or copied file) keep that
    analysis when ingest gave the same text and date; the others are returned to be analysed."""
    reused: list[AnalysedReport] = []
    rest: list[Report] = []
    for report in reports:
        found = cache.get(report.sha256)
        dated = with_report_date(report)
        same = found is not None and found.report.text == dated.text
        if same and found is not None and found.report.report_date == dated.report_date:
            reused.append(dataclasses.replace(found, report=dated))
        else:
            rest.append(report)
    return reused, rest


def build_fingerprint(
    documents: dict[str, str], errors: Sequence[ErrorRecord], model_key: str, code_version: str
) -> str:
    """What the corpus-level tables are built from: documents (path → sha256), errors, model and code.
    Equal fingerprints give equal tables (the build is deterministic)."""
    import hashlib
    import json

    data = [sorted(documents.items()), [dataclasses.astuple(e) for e in errors], model_key, code_version]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()


def compare_documents(previous: dict[str, str], current: dict[str, str]) -> tuple[int, int, int, int]:
    """(new, changed, unchanged, removed) documents: ``current`` against ``previous`` (path → sha256)."""
    new = sum(1 for p in current if p not in previous)
    changed = sum(1 for p, sha in current.items() if p in previous and previous[p] != sha)
    unchanged = sum(1 for p, sha in current.items() if previous.get(p) == sha)
    removed = sum(1 for p in previous if p not in current)
    return new, changed, unchanged, removed
