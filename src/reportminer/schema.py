"""The output tables, defined once.

Every writer (Parquet, CSV, SQLite) and every reader takes column names, order and types from here, so the
three formats never drift. Table and column names are the public contract: add columns, never rename.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

# logical type -> (pandas dtype, pyarrow type, SQLite type)
_TYPES: dict[str, tuple[str, pa.DataType, str]] = {
    "str": ("string", pa.string(), "TEXT"),
    "int": ("Int64", pa.int64(), "INTEGER"),
    "float": ("Float64", pa.float64(), "REAL"),
    "bool": ("boolean", pa.bool_(), "INTEGER"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, _TYPES[c.type][1]) for c in self.columns])

    def sqlite_types(self) -> dict[str, str]:
        return {c.name: _TYPES[c.type][2] for c in self.columns}

    def conform(self, df: pd.DataFrame | None) -> pd.DataFrame:
        """``df`` with exactly this table's columns, in order and with their types (missing ones empty)."""
        df = pd.DataFrame() if df is None else df
        out = pd.DataFrame(index=df.index)
        for c in self.columns:
            values = df[c.name] if c.name in df.columns else pd.Series([None] * len(df), index=df.index)
            out[c.name] = values.astype(_TYPES[c.type][0]) if len(df) else pd.Series(dtype=_TYPES[c.type][0])
        return out.reset_index(drop=True)


def _t(name: str, description: str, cols: list[tuple[str, str, str]], pk: tuple[str, ...] = ()) -> Table:
    return Table(name, description, tuple(Column(*c) for c in cols), pk)


DOCUMENTS = _t(
    "documents",
    "One row per report that was read and analysed.",
    [
        ("doc_id", "str", "Stable id of the report, derived from its path relative to the corpus folder"),
        ("path", "str", "Path relative to the corpus folder"),
        ("sha256", "str", "SHA-256 of the file's bytes"),
        ("format", "str", "Input format: txt, md, html, pdf, docx"),
        ("title", "str", "Title: heading line, HTML/PDF/DOCX metadata, or the file name"),
        ("report_date", "str", "Date of the report (ISO 8601)"),
        (
            "report_date_source",
            "str",
            "Where report_date came from: date_line, metadata, file_name, first_date_in_text",
        ),
        ("encoding", "str", "Detected text encoding (text files)"),
        ("n_chars", "int", "Characters in the analysed body text"),
        ("n_words", "int", "Tokens in the analysed body text"),
        ("n_mentions", "int", "Entity and date mentions found"),
        ("text", "str", "Analysed body text; mentions' character offsets point into it"),
        ("model", "str", "spaCy pipeline that analysed the report (name and version)"),
        ("run_id", "str", "Run that produced this row"),
    ],
    ("doc_id",),
)

MENTIONS = _t(
    "mentions",
    "One row per entity or date mention in a report.",
    [
        ("mention_id", "str", "doc_id and running number"),
        ("doc_id", "str", "Report the mention is in"),
        (
            "label",
            "str",
            "PER, LOC, ORG, MISC; DATE, TIME, DURATION or SET for temporal expressions (TIMEX3 types)",
        ),
        ("text", "str", "Mention as written"),
        ("start_char", "int", "Start offset into documents.text"),
        ("end_char", "int", "End offset into documents.text"),
        ("value", "str", "ISO/TIMEX value for dates, canonical entity name otherwise"),
        (
            "entity_id",
            "str",
            "Entity the mention belongs to (entities.entity_id); empty for temporal expressions",
        ),
        ("role", "str", "Role or title written before a person's name (e.g. Moderator)"),
        ("sentence", "str", "The sentence containing the mention"),
        ("source", "str", "What found it: ner model name, or the date tagger"),
        (
            "in_boilerplate",
            "bool",
            "True when the mention stands in corpus boilerplate (a sentence or line of the boilerplate table)",
        ),
    ],
    ("mention_id",),
)

ENTITIES = _t(
    "entities",
    "One row per distinct person, place, organisation or other named entity in the corpus.",
    [
        ("entity_id", "str", "Stable id: label and a hash of the normalised name"),
        ("label", "str", "PER, LOC, ORG or MISC"),
        ("name", "str", "Canonical name (most frequent base form)"),
        ("aliases", "str", "Other spellings merged into this entity, separated by ' | '"),
        ("n_mentions", "int", "Mentions in the corpus"),
        ("n_docs", "int", "Reports that mention it outside corpus boilerplate"),
        ("first_date", "str", "Earliest report date that mentions it"),
        ("last_date", "str", "Latest report date that mentions it"),
        ("roles", "str", "Roles seen before a person's name, separated by ' | '"),
        ("place_kind", "str", "For places: district, place, state or unlinked"),
        ("district_key", "str", "Official district key (Kreisschlüssel, first 5 digits of the AGS)"),
        ("nuts3", "str", "NUTS-3 code of the district"),
        ("geonames_id", "int", "GeoNames id of the town or city"),
        ("state", "str", "Bundesland"),
        ("lat", "float", "Latitude (WGS84) of the town or city"),
        ("lon", "float", "Longitude (WGS84) of the town or city"),
        (
            "label_votes",
            "str",
            "Reports per label the model gave its mentions ('ORG 5 | PER 1'); a name labelled differently "
            "across reports takes the majority label",
        ),
        (
            "confidence",
            "float",
            "Evidence that the entity is what the row says, 0 to 1: label agreement x spread over reports x "
            "word-list support (reportminer.entities.score_entities)",
        ),
    ],
    ("entity_id",),
)

THEMES = _t(
    "themes",
    "Recurring themes found across the corpus.",
    [
        ("theme_id", "int", "Theme number"),
        ("label", "str", "Name: the codebook theme's label, else its distinctive terms (class-based TF-IDF)"),
        (
            "top_terms",
            "str",
            "The terms that set its reports apart, most distinctive first, separated by ', '",
        ),
        ("n_docs", "int", "Reports whose strongest theme this is"),
        ("weight", "float", "Share of the corpus' theme weight"),
        ("theme_key", "str", "Stable theme id: the codebook theme's id, else a slug of the label"),
        ("seed", "bool", "True when the theme is a codebook theme (run --codebook) found in the corpus"),
    ],
    ("theme_id",),
)

DOC_THEMES = _t(
    "doc_themes",
    "Theme weights of each report (weights of a report sum to 1); its themes are the rows with assigned.",
    [
        ("doc_id", "str", "Report"),
        ("theme_id", "int", "Theme"),
        ("weight", "float", "Share of the report's theme weight"),
        ("rank", "int", "1 for the report's strongest theme"),
        (
            "assigned",
            "bool",
            "True when the theme is one of the report's themes (weight of at least 0.25); a report with no "
            "assigned row has no clear theme",
        ),
    ],
    ("doc_id", "theme_id"),
)

ERRORS = _t(
    "errors",
    "One row per report that could not be processed, with the reason.",
    [
        ("path", "str", "Path relative to the corpus folder"),
        ("stage", "str", "Stage that failed: ingest, nlp, ..."),
        ("error", "str", "Kind of error"),
        ("message", "str", "What went wrong and what to do about it"),
        ("run_id", "str", "Run that met the error"),
    ],
)

RUNS = _t(
    "runs",
    "One row per run of the pipeline over this output folder (history is kept).",
    [
        ("run_id", "str", "Run id (UTC timestamp to the millisecond and random suffix; sorts in time order)"),
        ("started_at", "str", "Start time (UTC, ISO 8601)"),
        ("finished_at", "str", "End time (UTC, ISO 8601)"),
        ("corpus", "str", "Corpus folder that was read"),
        ("n_documents", "int", "Reports analysed"),
        ("n_errors", "int", "Reports that failed"),
        ("n_mentions", "int", "Mentions found"),
        ("n_entities", "int", "Distinct entities"),
        ("n_themes", "int", "Themes"),
        ("model", "str", "spaCy pipeline used (name and version)"),
        ("model_source", "str", "Why that model: explicit, installed de_core_news_md, or bundled"),
        ("version", "str", "reportminer version"),
        ("seconds", "float", "Wall-clock duration"),
        ("n_new", "int", "Documents whose path was not in the previous run's documents table"),
        ("n_changed", "int", "Documents whose content (sha256) changed since the previous run"),
        ("n_unchanged", "int", "Documents with the same path and content as in the previous run"),
        ("n_removed", "int", "Documents of the previous run that are gone (their rows were removed)"),
        ("n_analysed", "int", "Reports run through spaCy in this run; the others came from the cache"),
        ("codebook", "str", "Codebook file the themes were guided by (empty: data-driven themes only)"),
    ],
    ("run_id",),
)

MEETINGS = _t(
    "meetings",
    "One row per report that describes a meeting (OParl Meeting-like): who met where, when.",
    [
        ("meeting_id", "str", "Stable id: the report's doc_id and '-meeting'"),
        ("doc_id", "str", "Report describing the meeting (documents.doc_id)"),
        ("name", "str", "Name of the meeting: the report's title"),
        ("start", "str", "Meeting date (ISO 8601): the date beside a meeting cue, else the report date"),
        (
            "start_source",
            "str",
            "Where start came from: meeting_cue (a date beside a meeting word), lead_date (the first date of the opening, when the title names the meeting) or report_date",
        ),
        ("place", "str", "Place or venue written with 'in'/'im' near the cue, else the most mentioned place"),
        ("organisations", "str", "Organisations named in the report, first mention first, joined by ' | '"),
        ("people", "str", "People named in the report, in order of first mention, separated by ' | '"),
        ("themes", "str", "Labels of the report's strongest themes, separated by ' | '"),
        ("cue", "str", "Word that marks the report as a meeting report (e.g. Vernetzungstreffen, tagte)"),
        ("path", "str", "Source file, relative to the corpus folder"),
    ],
    ("meeting_id",),
)

SEGMENT_THEMES = _t(
    "segment_themes",
    "Theme weights of each paragraph (blank-line-separated block of documents.text) of a report.",
    [
        ("doc_id", "str", "Report"),
        ("segment", "int", "Paragraph number in the report, from 1"),
        ("start_char", "int", "Start offset of the paragraph into documents.text"),
        ("end_char", "int", "End offset of the paragraph into documents.text"),
        ("theme_id", "int", "Theme"),
        ("weight", "float", "Share of the paragraph's theme weight"),
        ("rank", "int", "1 for the paragraph's strongest theme"),
        (
            "assigned",
            "bool",
            "True when the theme is one of the paragraph's themes (weight of at least 0.25)",
        ),
    ],
    ("doc_id", "segment", "theme_id"),
)

THEME_DRIFT = _t(
    "theme_drift",
    "How each theme moved since the previous run over this output folder (theme ids persist across runs).",
    [
        ("run_id", "str", "Run that found the change"),
        ("theme_id", "int", "Theme (themes.theme_id; for a faded theme, its id in the previous run)"),
        ("label", "str", "Theme label"),
        ("status", "str", "new, grown, shrunk, stable or faded (gone since the previous run)"),
        ("n_docs_before", "int", "Reports whose strongest theme it was in the previous run (empty when new)"),
        ("n_docs_after", "int", "Reports whose strongest theme it is now (0 when faded)"),
    ],
    ("run_id", "theme_id"),
)

BOILERPLATE = _t(
    "boilerplate",
    "Sentences and lines that recur across the corpus (disclaimers, footers, event lists, sign-offs): kept in "
    "documents.text, left out of themes, theme terms, key sentences and entity counts.",
    [
        ("unit_key", "str", "Hash of the normalised text (lowercase, whitespace collapsed, digits as 0)"),
        ("text", "str", "The text as it stands in one of the reports"),
        ("n_docs", "int", "Reports it occurs in (reports with identical text counted once)"),
    ],
    ("unit_key",),
)

CODEBOOK = _t(
    "codebook",
    "The themes of the run's codebook (run --codebook) and whether the corpus supports each.",
    [
        ("theme_key", "str", "The codebook theme's id"),
        ("label", "str", "Its label"),
        ("found", "bool", "True when a theme of the corpus carries it (its reports use its terms)"),
        ("theme_id", "int", "themes.theme_id when found"),
        ("n_docs", "int", "Reports whose strongest theme it is"),
        ("n_docs_with_terms", "int", "Reports that use at least one of its terms"),
        ("reason", "str", "Why it was not found"),
    ],
    ("theme_key",),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        DOCUMENTS, MENTIONS, ENTITIES, THEMES, DOC_THEMES, ERRORS, RUNS, MEETINGS, SEGMENT_THEMES, THEME_DRIFT,
        BOILERPLATE, CODEBOOK,
    )
}  # fmt: skip
