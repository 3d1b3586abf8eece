"""The data model passed between pipeline stages (plain dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Report:
    """One ingested report: its identity, metadata and the body text that gets analysed."""

    doc_id: str
    path: str
    sha256: str
    format: str
    title: str
    report_date: date | None
    report_date_source: str | None
    encoding: str | None
    text: str


@dataclass(frozen=True)
class Mention:
    """An entity or date found in a report; offsets point into ``Report.text``."""

    label: str
    text: str
    start_char: int
    end_char: int
    sentence: str
    source: str
    value: str | None = None
    role: str | None = None
    abbreviation: str | None = None  # introduced right after the name: "Städte- und Gemeindetag (SSG)"


@dataclass
class AnalysedReport:
    """A report with what the NLP stage found in it: mentions, theme terms of the whole report and of each
    paragraph (``segments``, in the order of :func:`reportminer.themes.paragraph_spans` of the text)."""

    report: Report
    mentions: list[Mention]
    terms: list[str]
    n_words: int
    model: str
    segments: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class ErrorRecord:
    """A report that could not be processed, and why."""

    path: str
    stage: str
    error: str
    message: str
