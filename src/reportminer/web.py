"""Web UI: the output folder's SQLite database in Datasette, read-only, with descriptions, facets and canned queries.

``reportminer web --out outputs`` serves ``outputs/reportminer.sqlite`` at http://127.0.0.1:8001/reportminer.
The database is opened ``--immutable`` (read-only; no canned query writes), and the metadata, table and
column descriptions included, is generated from :mod:`reportminer.schema`, so it never drifts from the tables.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from reportminer.errors import OutputError
from reportminer.schema import TABLES
from reportminer.store import FTS_INDEXES, SQLITE_NAME

log = logging.getLogger(__name__)

DATABASE = Path(SQLITE_NAME).stem
"""Name of the database in Datasette's URLs: /reportminer/entities"""
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

FACETS: dict[str, list[Any]] = {
    "documents": ["format", {"date": "report_date"}],
    "mentions": ["label"],
    "entities": ["label", "state", "place_kind"],
    "themes": ["label"],
    "doc_themes": ["theme_id", "rank"],
    "segment_themes": ["theme_id"],
    "meetings": ["place", {"date": "start"}],
    "errors": ["stage", "error"],
}
"""Facets shown on each table's page (Datasette's ``facets`` metadata)."""

LABEL_COLUMNS = {"entities": "name", "themes": "label", "documents": "title", "meetings": "name"}
SORT_DESC = {"entities": "confidence"}
"""Default order of a table's page: entities with the most evidence first."""

# Full-text search over sentences and report texts (store.FTS_INDEXES): terms are matched as a phrase.
_MATCH_PHRASE = "'\"' || replace(:{param}, '\"', '\"\"') || '\"'"

CANNED_QUERIES: dict[str, dict[str, str]] = {
    "who_met_where_when": {
        "title": "Who met where, when",
        "description": "Meetings described in the reports: date, place, organisations and people. "
        "Leave the fields empty for all; fill them to narrow down (parts of names).",
        "sql": """SELECT start, place, name, organisations, people, themes, doc_id
FROM meetings
WHERE (:place = '' OR place LIKE '%' || :place || '%')
  AND (:organisation = '' OR organisations LIKE '%' || :organisation || '%')
  AND (:year = '' OR substr(start, 1, 4) = :year)
ORDER BY start, place""",
    },
    "organisations_in_meetings": {
        "title": "Organisations in meetings by place and year",
        "description": "Which organisations took part in meetings, by place and year "
        "(e.g. place Zwickau, year 2022).",
        "sql": """SELECT substr(m.start, 1, 4) AS year, m.place, e.name AS organisation,
       count(DISTINCT m.meeting_id) AS meetings, group_concat(DISTINCT m.start) AS dates
FROM meetings AS m
JOIN mentions AS x ON x.doc_id = m.doc_id
JOIN entities AS e ON e.entity_id = x.entity_id
WHERE e.label = 'ORG'
  AND (:place = '' OR m.place LIKE '%' || :place || '%')
  AND (:year = '' OR substr(m.start, 1, 4) = :year)
GROUP BY year, m.place, e.entity_id
ORDER BY year, m.place, meetings DESC, organisation""",
    },
    "cooccurring_entities": {
        "title": "Co-occurring entities",
        "description": "Pairs of people, places and organisations named in the same reports, most shared "
        "first. Optionally one label (PER, ORG, LOC, MISC) or part of a name.",
        "sql": """WITH pairs AS (
  SELECT DISTINCT doc_id, entity_id FROM mentions WHERE entity_id IS NOT NULL
)
SELECT a.name AS entity_a, a.label AS label_a, b.name AS entity_b, b.label AS label_b,
       count(*) AS reports
FROM pairs AS x
JOIN pairs AS y ON y.doc_id = x.doc_id AND x.entity_id < y.entity_id
JOIN entities AS a ON a.entity_id = x.entity_id
JOIN entities AS b ON b.entity_id = y.entity_id
WHERE (:label = '' OR (a.label = upper(:label) AND b.label = upper(:label)))
  AND (:name = '' OR a.name LIKE '%' || :name || '%' OR b.name LIKE '%' || :name || '%')
GROUP BY x.entity_id, y.entity_id
HAVING count(*) >= 2
ORDER BY reports DESC, entity_a, entity_b
LIMIT 500""",
    },
    "theme_where_and_who": {
        "title": "Where is a theme discussed and by whom",
        "description": "Reports whose text contains the words (as a phrase, e.g. interkommunale "
        "Zusammenarbeit) or whose theme label matches, with their places, organisations and people.",
        "sql": f"""SELECT d.report_date, d.title,
  (SELECT group_concat(DISTINCT e.name) FROM mentions x JOIN entities e ON e.entity_id = x.entity_id
    WHERE x.doc_id = d.doc_id AND e.label = 'LOC') AS places,
  (SELECT group_concat(DISTINCT e.name) FROM mentions x JOIN entities e ON e.entity_id = x.entity_id
    WHERE x.doc_id = d.doc_id AND e.label = 'ORG') AS organisations,
  (SELECT group_concat(DISTINCT e.name) FROM mentions x JOIN entities e ON e.entity_id = x.entity_id
    WHERE x.doc_id = d.doc_id AND e.label = 'PER') AS people,
  (SELECT group_concat(t.label, ' | ') FROM doc_themes dt JOIN themes t ON t.theme_id = dt.theme_id
    WHERE dt.doc_id = d.doc_id AND dt.rank = 1) AS theme,
  d.doc_id
FROM documents AS d
WHERE :topic != ''
  AND (d.rowid IN (SELECT rowid FROM documents_fts WHERE documents_fts MATCH {_MATCH_PHRASE.format(param="topic")})
       OR d.doc_id IN (SELECT dt.doc_id FROM doc_themes dt JOIN themes t ON t.theme_id = dt.theme_id
                       WHERE dt.rank = 1 AND (t.label LIKE '%' || :topic || '%'
                                              OR t.top_terms LIKE '%' || :topic || '%')))
ORDER BY d.report_date""",
    },
    "search_sentences": {
        "title": "Sentences mentioning a phrase, with their entities",
        "description": "Full-text search over the sentences that name an entity (mentions_fts).",
        "sql": f"""SELECT m.doc_id, d.report_date, m.sentence,
  (SELECT group_concat(DISTINCT y.value) FROM mentions y
    WHERE y.doc_id = m.doc_id AND y.sentence = m.sentence AND y.entity_id IS NOT NULL) AS entities
FROM mentions_fts
JOIN mentions AS m ON m.rowid = mentions_fts.rowid
JOIN documents AS d ON d.doc_id = m.doc_id
WHERE :text != '' AND mentions_fts MATCH {_MATCH_PHRASE.format(param="text")}
ORDER BY rank
LIMIT 200""",
    },
}
"""Read-only canned queries for the common questions (Datasette's ``queries`` metadata)."""


def datasette_metadata() -> dict[str, Any]:
    """Datasette metadata for the reportminer database, generated from :mod:`reportminer.schema`."""
    fts_for = {table: fts for fts, (table, _cols, _rows) in FTS_INDEXES.items()}
    tables: dict[str, Any] = {}
    for name, table in TABLES.items():
        entry: dict[str, Any] = {
            "description": table.description,
            "columns": {c.name: c.description for c in table.columns},
        }
        if name in FACETS:
            entry["facets"] = FACETS[name]
        if name in LABEL_COLUMNS:
            entry["label_column"] = LABEL_COLUMNS[name]
        if name in SORT_DESC:
            entry["sort_desc"] = SORT_DESC[name]
        if name in fts_for:
            entry["fts_table"] = fts_for[name]
            entry["fts_pk"] = "rowid"
        tables[name] = entry
    for fts, (table, _cols, _rows) in FTS_INDEXES.items():
        tables[fts] = {"hidden": True, "description": f"Full-text index (FTS5) of {table}"}
    return {
        "title": "reportminer",
        "description": "People, places, organisations, dates, themes and meetings mined from German meeting "
        "reports. Read-only.",
        "databases": {
            DATABASE: {
                "description": "Output tables of `reportminer run` (see each table's description).",
                "tables": tables,
                "queries": CANNED_QUERIES,
            }
        },
    }


def database_path(out_dir: str | Path) -> Path:
    """The output folder's SQLite database; a clear error when it is not there."""
    path = Path(out_dir) / SQLITE_NAME
    if not Path(out_dir).is_dir():
        raise OutputError(
            f"output folder {out_dir} not found; run `reportminer run CORPUS --out {out_dir}` first"
        )
    if not path.is_file():
        raise OutputError(f"{path} not found; run `reportminer run CORPUS --out {out_dir}` first")
    return path


def datasette_args(
    db: Path, metadata: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> list[str]:
    """Arguments of ``datasette serve`` for ``db``: immutable (read-only), with ``metadata``."""
    return [
        "serve", "--immutable", str(db), "--metadata", str(metadata), "--host", host, "--port", str(port),
        "--setting", "default_page_size", "50", "--setting", "facet_time_limit_ms", "1000",
    ]  # fmt: skip


def serve(out_dir: str | Path = "outputs", *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the output folder's database with Datasette until interrupted (blocks)."""
    db = database_path(out_dir)
    try:
        from datasette.cli import cli
    except ImportError as exc:  # pragma: no cover - datasette is a dependency
        raise OutputError(
            "the web UI needs Datasette; install it with `pip install 'datasette>=0.65'`"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="reportminer-web-") as tmp:
        metadata = Path(tmp) / "metadata.json"
        metadata.write_text(json.dumps(datasette_metadata(), ensure_ascii=False, indent=1), encoding="utf-8")
        log.info("serving %s read-only at http://%s:%s/%s", db, host, port, DATABASE)
        cli.main(args=datasette_args(db, metadata, host=host, port=port), prog_name="datasette",
                 standalone_mode=False)  # fmt: skip
