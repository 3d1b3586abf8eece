"""The data model passed between pipeline stages (plain dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple


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


class TextUnit(NamedTuple):
    """A sentence of a report (cut at line breaks too): character offsets into ``Report.text`` and the theme
    terms found in it. Units are what corpus boilerplate is detected on (:mod:`reportminer.boilerplate`)."""

    start: int
    end: int
    terms: list[str]


@dataclass
class AnalysedReport:
    """A report with what the NLP stage found in it: mentions and its sentence units with their theme terms
    (in text order); a paragraph's terms are those of its units (:func:`reportminer.themes.units_by_paragraph`)."""

    report: Report
    mentions: list[Mention]
    units: list[TextUnit]
    n_words: int
    model: str


@dataclass(frozen=True)
class ErrorRecord:
    """A report that could not be processed, and why."""

    path: str
    stage: str
    error: str
    message: str
