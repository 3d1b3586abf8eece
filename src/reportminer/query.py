"""Query an output folder, read-only: entities, mentions, co-occurrences, full-text search and plain SQL.

Every method returns a pandas DataFrame and reads the folder's SQLite database, opened read-only::

    import reportminer

    out = reportminer.open("outputs")
    out.entities(label="ORG", place="Landkreis Zwickau", since="2022-01-01", until="2022-12-31")
    out.mentions(name="Anja Krüger")                 # each mention with its sentence, title and report date
    out.cooccurrences(label="PER,ORG", level="sentence")
    out.search("interkommunale Zusammenarbeit")
    out.sql("SELECT label, count(*) AS n FROM entities GROUP BY label")

Filters shared by ``entities``, ``mentions`` and ``cooccurrences`` select reports first, then entities:

- ``since`` / ``until``: report date range, ISO dates (``2022-05-01``; ``2022`` or ``2022-05`` stand for the
  whole year or month), both ends included.
- ``in_theme``: a theme id or a substring of its label; a report belongs to a theme when it is its strongest
  theme or holds at least 20 % of the report's theme weight.
- ``place``: reports that mention a place (LOC entity) whose name contains this text, plus places that share
  its district key.
- ``label``: PER, LOC, ORG or MISC, or several separated by commas; ``name``: text in the name or aliases.

Comparisons of names ignore case and accents. Mistakes in a query raise :class:`~reportminer.errors.QueryError`,
a missing or unreadable output folder :class:`~reportminer.errors.OutputError`; both name the fix.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from reportminer.errors import OutputError, QueryError
from reportminer.store import SQLITE_NAME

ENTITY_LABELS = ("PER", "LOC", "ORG", "MISC")
THEME_MIN_WEIGHT = 0.2
"""Outputs written before ``doc_themes.assigned``: a report belongs to every theme holding at least this share
of its weight (and to its strongest one). Newer outputs use ``assigned`` (the theme model's minimum weight)."""

_RUN_FIRST = "run `reportminer run` first (or pass the folder it wrote with --out)"


def fold(text: str | None) -> str:
    """``text`` lower-cased, accents removed and whitespace collapsed, for forgiving name comparisons."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _contains(haystack: str | None, needle: str | None) -> bool:
    return fold(needle) in fold(haystack)


def _connect(path: Path) -> sqlite3.Connection:
    """A read-only connection: ``mode=ro`` in the URI and ``query_only``, with the name matcher registered."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute("PRAGMA query_only = ON")
    conn.create_function("rm_contains", 2, _contains, deterministic=True)
    return conn


class Outputs:
    """The tables of one output folder (``parquet/``, ``csv/``, ``reportminer.sqlite``), read-only.

    Open with :func:`reportminer.open`. Usable as a context manager; :meth:`close` releases the database.
    """

    def __init__(self, out_dir: str | Path = "outputs") -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / SQLITE_NAME
        if not self.out_dir.is_dir():
            raise OutputError(f"outputs folder {self.out_dir} not found; {_RUN_FIRST}")
        if not self.path.is_file():
            raise OutputError(f"{self.path} not found; {_RUN_FIRST}")
        try:
            self._conn = _connect(self.path)
            names = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.Error as exc:
            raise OutputError(f"cannot read {self.path} ({exc}); run `reportminer run` again") from exc
        missing = {"documents", "mentions", "entities", "themes", "doc_themes"} - names
        if missing:
            raise OutputError(f"{self.path} lacks table(s) {', '.join(sorted(missing))}; {_RUN_FIRST}")
        self._tables = names

    def __repr__(self) -> str:
        return f"Outputs({str(self.out_dir)!r})"

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    # -- queries -------------------------------------------------------------------------------------------

    def entities(
        self,
        label: str | Iterable[str] | None = None,
        name: str | None = None,
        in_theme: int | str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        place: str | None = None,
        limit: int | None = None,
        min_confidence: float | None = None,
    ) -> pd.DataFrame:
        """Entities mentioned in the selected reports, most widespread first.

        ``n_mentions``, ``n_docs``, ``first_date`` and ``last_date`` count only the selected reports (and
        ``n_docs`` only mentions outside corpus boilerplate); the other columns are those of the
        ``entities`` table. ``min_confidence`` keeps entities whose ``confidence`` is at least that.
        """
        docs, params = self._doc_filter(since=since, until=until, in_theme=in_theme, place=place)
        ents, ent_params = self._entity_filter(label=label, name=name)
        if min_confidence is not None:
            ents += " AND coalesce(e.confidence, 0) >= ?"
            ent_params = [*ent_params, float(min_confidence)]
        query = f"""
            WITH sel AS ({docs})
            SELECT e.entity_id, e.label, e.name, e.aliases,
                   count(*) AS n_mentions,
                   count(DISTINCT CASE WHEN coalesce(m.in_boilerplate, 0) = 0 THEN m.doc_id END) AS n_docs,
                   min(sel.report_date) AS first_date, max(sel.report_date) AS last_date,
                   e.roles, e.place_kind, e.district_key, e.nuts3, e.geonames_id, e.state, e.lat, e.lon,
                   e.label_votes, e.confidence
            FROM mentions m JOIN sel ON sel.doc_id = m.doc_id JOIN entities e ON e.entity_id = m.entity_id
            WHERE {ents}
            GROUP BY e.entity_id
            ORDER BY n_docs DESC, n_mentions DESC, e.name
            {self._limit(limit)}"""
        return self._read(query, params + ent_params)

    def mentions(
        self,
        label: str | Iterable[str] | None = None,
        name: str | None = None,
        in_theme: int | str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        place: str | None = None,
        doc_id: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Entity mentions in the selected reports, with their sentence, the report's title and date.

        ``name`` matches the entity's name or aliases or the mention as written. Ordered by report date and
        position in the report.
        """
        docs, params = self._doc_filter(
            since=since, until=until, in_theme=in_theme, place=place, doc_id=doc_id
        )
        ents, ent_params = self._entity_filter(label=label, name=name, mention_text=True)
        query = f"""
            WITH sel AS ({docs})
            SELECT m.mention_id, m.doc_id, d.title, d.report_date, m.entity_id, e.label, e.name,
                   m.text, m.role, m.sentence, m.start_char, m.end_char
            FROM mentions m JOIN sel ON sel.doc_id = m.doc_id
                 JOIN documents d ON d.doc_id = m.doc_id JOIN entities e ON e.entity_id = m.entity_id
            WHERE {ents}
            ORDER BY d.report_date, m.doc_id, m.start_char
            {self._limit(limit)}"""
        return self._read(query, params + ent_params)

    def cooccurrences(
        self,
        label: str | Iterable[str] | None = None,
        min_count: int = 2,
        level: str = "document",
        name: str | None = None,
        in_theme: int | str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        place: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Pairs of entities mentioned together, with how often: in ``min_count`` or more reports
        (``level="document"``) or sentences (``level="sentence"``).

        ``label`` restricts both entities of a pair (``"PER,ORG"``: people and organisations, in any
        combination); with ``name``, pairs involving a matching entity, that entity in the ``_a`` columns.
        Columns: entity_id_a, name_a, label_a, entity_id_b, name_b, label_b, count, n_docs, doc_ids.
        """
        if level not in ("document", "sentence"):
            raise QueryError(f"unknown level {level!r}; use document or sentence")
        if not isinstance(min_count, int) or min_count < 1:
            raise QueryError(f"min_count must be a whole number of at least 1, not {min_count!r}")
        docs, params = self._doc_filter(since=since, until=until, in_theme=in_theme, place=place)
        ents, ent_params = self._entity_filter(label=label, name=None)
        unit = "m.doc_id AS doc_id, ''" if level == "document" else "m.doc_id AS doc_id, m.sentence"
        query = f"""
            WITH sel AS ({docs}),
            em AS (
                SELECT DISTINCT {unit} AS sentence, m.entity_id
                FROM mentions m JOIN sel ON sel.doc_id = m.doc_id JOIN entities e ON e.entity_id = m.entity_id
                WHERE {ents}
            ),
            pairs AS (
                SELECT a.entity_id AS entity_id_a, b.entity_id AS entity_id_b, count(*) AS count,
                       count(DISTINCT a.doc_id) AS n_docs, group_concat(DISTINCT a.doc_id) AS doc_ids
                FROM em a JOIN em b
                     ON a.doc_id = b.doc_id AND a.sentence = b.sentence AND a.entity_id < b.entity_id
                GROUP BY a.entity_id, b.entity_id
                HAVING count(*) >= ?
            )
            SELECT p.entity_id_a, ea.name AS name_a, ea.label AS label_a,
                   p.entity_id_b, eb.name AS name_b, eb.label AS label_b, p.count, p.n_docs, p.doc_ids
            FROM pairs p JOIN entities ea ON ea.entity_id = p.entity_id_a
                 JOIN entities eb ON eb.entity_id = p.entity_id_b
            ORDER BY p.count DESC, p.n_docs DESC, ea.name, eb.name"""
        pairs = self._read(query, params + ent_params + [min_count])
        if name is not None:
            pairs = _pairs_with(pairs, name)
        if limit is not None:
            pairs = pairs.head(_check_limit(limit))
        return pairs.reset_index(drop=True)

    def search(self, text: str, limit: int = 20, level: str = "document") -> pd.DataFrame:
        """Full-text search (SQLite FTS5), best matches first.

        Words of ``text`` must all occur (case ignored; parts of words match, so "Vollzugsdienst" finds
        "Gemeindevollzugsdienst"); text in double quotes must occur as written. ``level="document"`` searches
        titles and report texts; ``level="sentence"`` searches the sentences that mention entities and adds
        those entities. Columns: doc_id, title, report_date, snippet (matches marked «so»), [entities], score
        (bm25, lower is better).
        """
        if level not in ("document", "sentence"):
            raise QueryError(f"unknown level {level!r}; use document or sentence")
        fts = "documents_fts" if level == "document" else "mentions_fts"
        if fts not in self._tables:
            raise OutputError(
                f"{self.path} has no full-text index (written by an older reportminer); run `reportminer run` again"
            )
        match, terms = _fts_query(text, trigram=self._tokenizer(fts) == "trigram")
        limit = _check_limit(limit)
        try:
            if level == "document":
                hits = self._read(
                    """SELECT d.doc_id, d.title, d.report_date, d.text, bm25(documents_fts, 5.0, 1.0) AS score
                       FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid
                       WHERE documents_fts MATCH ? ORDER BY score LIMIT ?""",
                    [match, limit],
                )
                hits.insert(3, "snippet", [_snippet(t or "", terms) for t in hits.pop("text")])
                return hits
            rows = self._read(
                """WITH hits AS (
                       SELECT m.doc_id, m.sentence, bm25(mentions_fts) AS score
                       FROM mentions_fts JOIN mentions m ON m.rowid = mentions_fts.rowid
                       WHERE mentions_fts MATCH ? ORDER BY score LIMIT ?
                   )
                   SELECT h.doc_id, d.title, d.report_date, h.sentence, e.name, h.score
                   FROM hits h JOIN documents d ON d.doc_id = h.doc_id
                        JOIN mentions m ON m.doc_id = h.doc_id AND m.sentence = h.sentence
                        LEFT JOIN entities e ON e.entity_id = m.entity_id
                   ORDER BY h.score, h.doc_id, m.start_char""",
                [match, limit],
            )
        except QueryError as exc:
            raise QueryError(f"search {text!r} failed: {exc}") from exc
        keys = ["doc_id", "title", "report_date", "sentence"]
        grouped = rows.groupby(keys, sort=False, dropna=False).agg(
            entities=("name", lambda s: "; ".join(dict.fromkeys(n for n in s if isinstance(n, str)))),
            score=("score", "min"),
        )
        hits = grouped.reset_index().sort_values("score", kind="stable")
        hits.insert(3, "snippet", [_mark(s or "", terms) for s in hits.pop("sentence")])
        return hits.reset_index(drop=True)

    def sql(self, query: str, params: Iterable[object] | None = None) -> pd.DataFrame:
        """The result of one read-only SQL statement (SELECT, or WITH … SELECT) as a DataFrame.

        Anything that would change the database or reach beyond it (INSERT, UPDATE, DELETE, DROP, CREATE,
        ATTACH, PRAGMA, load_extension, …) is refused with a :class:`QueryError`. Tables: documents,
        mentions, entities, themes, doc_themes, errors, runs and the FTS5 indexes documents_fts, mentions_fts.
        """
        statement = _single_select(query)
        conn = _connect(self.path)
        refused: list[str] = []
        conn.set_authorizer(_read_only_authorizer(refused))
        try:
            return pd.read_sql_query(
                statement, conn, params=list(params or []), dtype_backend="numpy_nullable"
            )
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            if refused:
                raise QueryError(
                    f"refused: the query would {refused[0]}; `sql` only reads the outputs (one SELECT statement)"
                ) from None
            message = _sqlite_message(exc)
            if re.search(r"readonly|read-only|may not be modified|query_only", message):
                raise QueryError(
                    f"refused ({message}); `sql` only reads the outputs (one SELECT statement)"
                ) from None
            if "one statement at a time" in message:
                raise QueryError(
                    "only one SQL statement at a time; remove the ';' and what follows"
                ) from None
            raise QueryError(f"SQL error: {message}; tables are {', '.join(self.table_names())}") from None
        finally:
            conn.close()

    def table_names(self) -> list[str]:
        """Tables of the database that ``sql`` can read (FTS5 shadow tables left out)."""
        return sorted(t for t in self._tables if not re.search(r"_fts_(data|idx|docsize|config|content)$", t))

    # -- helpers -------------------------------------------------------------------------------------------

    def _read(self, query: str, params: list[object]) -> pd.DataFrame:
        try:
            return pd.read_sql_query(query, self._conn, params=params, dtype_backend="numpy_nullable")
        except (sqlite3.Error, pd.errors.DatabaseError) as exc:
            raise QueryError(_sqlite_message(exc)) from None

    def _tokenizer(self, fts: str) -> str:
        (create,) = self._conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [fts]).fetchone()
        return "trigram" if "trigram" in create else "words"

    def _doc_filter(
        self,
        *,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        in_theme: int | str | None = None,
        place: str | None = None,
        doc_id: str | None = None,
    ) -> tuple[str, list[object]]:
        """SQL selecting (doc_id, report_date) of the reports that pass the filters, and its parameters."""
        where, params = ["1"], []
        start = _parse_date(since, "since", end=False)
        stop = _parse_date(until, "until", end=True)
        if start and stop and start > stop:
            raise QueryError(f"since ({start}) is after until ({stop}); swap them")
        if start:
            where.append("substr(report_date, 1, 10) >= ?")
            params.append(start)
        if stop:
            where.append("substr(report_date, 1, 10) <= ?")
            params.append(stop)
        if in_theme is not None:
            themes = self._theme_ids(in_theme)
            where.append(
                f"doc_id IN (SELECT doc_id FROM doc_themes WHERE theme_id IN ({', '.join('?' * len(themes))})"
                " AND (assigned = 1 OR (assigned IS NULL AND (rank = 1 OR weight >= ?))))"
            )
            params += [*themes, THEME_MIN_WEIGHT]
        if place is not None:
            places = self._place_ids(place)
            where.append(
                f"doc_id IN (SELECT doc_id FROM mentions WHERE entity_id IN ({', '.join('?' * len(places))}))"
            )
            params += places
        if doc_id is not None:
            if not self._conn.execute("SELECT 1 FROM documents WHERE doc_id = ?", [doc_id]).fetchone():
                raise QueryError(
                    f"no report with doc_id {doc_id!r}; list them with "
                    '`reportminer sql "SELECT doc_id, title FROM documents"`'
                )
            where.append("doc_id = ?")
            params.append(doc_id)
        return f"SELECT doc_id, report_date FROM documents WHERE {' AND '.join(where)}", params

    def _entity_filter(
        self, *, label: str | Iterable[str] | None, name: str | None, mention_text: bool = False
    ) -> tuple[str, list[object]]:
        where, params = ["1"], []
        labels = _parse_labels(label)
        if labels:
            where.append(f"e.label IN ({', '.join('?' * len(labels))})")
            params += labels
        if name is not None:
            if not fold(name):
                raise QueryError("name is empty; give part of a name, e.g. --name Krüger")
            match = "rm_contains(e.name, ?) OR rm_contains(e.aliases, ?)"
            params += [name, name]
            if mention_text:
                match += " OR rm_contains(m.text, ?)"
                params.append(name)
            where.append(f"({match})")
        return " AND ".join(where), params

    def _theme_ids(self, theme: int | str) -> list[int]:
        themes = pd.read_sql_query("SELECT theme_id, label FROM themes ORDER BY theme_id", self._conn)
        known = ", ".join(f"{t.theme_id} {t.label}" for t in themes.itertuples()) or "none"
        text = str(theme).strip()
        if re.fullmatch(r"\d+", text):
            if int(text) in set(themes["theme_id"]):
                return [int(text)]
            raise QueryError(f"no theme {text}; themes are: {known}")
        ids = [int(t.theme_id) for t in themes.itertuples() if fold(text) and _contains(t.label, text)]
        if not ids:
            raise QueryError(f"no theme label contains {text!r}; themes are: {known}")
        return ids

    def _place_ids(self, place: str) -> list[str]:
        """LOC entities whose name or aliases contain ``place``, and those sharing their district key."""
        if not fold(place):
            raise QueryError("place is empty; give a place name, e.g. --place 'Landkreis Zwickau'")
        rows = self._conn.execute(
            "SELECT entity_id, district_key FROM entities WHERE label = 'LOC'"
            " AND (rm_contains(name, ?) OR rm_contains(aliases, ?))",
            [place, place],
        ).fetchall()
        if not rows:
            common = [r[0] for r in self._conn.execute(
                "SELECT name FROM entities WHERE label = 'LOC' ORDER BY n_docs DESC, name LIMIT 8"
            )]  # fmt: skip
            raise QueryError(f"no place named like {place!r}; places often mentioned: {', '.join(common)}")
        ids = {r[0] for r in rows}
        keys = sorted({r[1] for r in rows if r[1]})
        if keys:
            ids |= {r[0] for r in self._conn.execute(
                f"SELECT entity_id FROM entities WHERE label = 'LOC' AND district_key IN ({', '.join('?' * len(keys))})",
                keys,
            )}  # fmt: skip
        return sorted(ids)

    @staticmethod
    def _limit(limit: int | None) -> str:
        return "" if limit is None else f"LIMIT {_check_limit(limit)}"


def _sqlite_message(exc: Exception) -> str:
    """SQLite's own message, without the "Execution failed on sql ..." wrapper pandas adds."""
    cause = exc.__cause__ if isinstance(exc.__cause__, sqlite3.Error) else exc
    return str(cause)


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise QueryError(f"limit must be a whole number of at least 1, not {limit!r}")
    return limit


def _parse_labels(label: str | Iterable[str] | None) -> list[str]:
    if label is None:
        return []
    parts = label.split(",") if isinstance(label, str) else list(label)
    labels = [str(p).strip().upper() for p in parts if str(p).strip()]
    unknown = [p for p in labels if p not in ENTITY_LABELS]
    if unknown or not labels:
        raise QueryError(
            f"unknown label {', '.join(unknown) or repr(label)}; valid labels are {', '.join(ENTITY_LABELS)}"
        )
    return labels


def _parse_date(value: str | dt.date | None, option: str, *, end: bool) -> str | None:
    """ISO date string for ``value``; ``2022`` and ``2022-05`` stand for the year's or month's first or last day."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return f"{text}-12-31" if end else f"{text}-01-01"
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            first = dt.date(int(m[1]), int(m[2]), 1)
            if not end:
                return first.isoformat()
            following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return (following - dt.timedelta(days=1)).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise QueryError(f"{option} {text!r} is not a date; use YYYY-MM-DD (or YYYY, YYYY-MM), e.g. 2022-01-31")


def _pairs_with(pairs: pd.DataFrame, name: str) -> pd.DataFrame:
    """Pairs where an entity's name contains ``name``, that entity moved to the ``_a`` columns."""
    hit_a = pairs["name_a"].map(lambda n: _contains(n, name))
    hit_b = pairs["name_b"].map(lambda n: _contains(n, name))
    swap = hit_b & ~hit_a
    cols = ["entity_id", "name", "label"]
    a, b = [f"{c}_a" for c in cols], [f"{c}_b" for c in cols]
    pairs = pairs.copy()
    pairs.loc[swap, a + b] = pairs.loc[swap, b + a].to_numpy()
    return pairs[hit_a | hit_b]


_ONLY_SELECT = (
    "only a single read-only SELECT statement (or WITH … SELECT) is allowed{found}; the outputs are read-only"
)


def _single_select(query: str) -> str:
    """``query`` without trailing semicolons, if its first keyword is SELECT, WITH or VALUES."""
    if not isinstance(query, str) or not query.strip():
        raise QueryError('empty query; give a SELECT statement, e.g. "SELECT label, count(*) FROM entities"')
    statement = query.strip().rstrip(";").rstrip()
    body = re.sub(r"^(\s*(--[^\n]*(\n|$)|/\*.*?\*/))*\s*", "", statement, flags=re.S)
    keyword = (re.match(r"[A-Za-z_]+", body) or [""])[0].upper()
    if keyword not in ("SELECT", "WITH", "VALUES"):
        found = f", not {keyword}" if keyword else ""
        hint = (
            "; for a table's columns use SELECT * FROM pragma_table_info('entities')"
            if keyword == "PRAGMA"
            else ""
        )
        raise QueryError(_ONLY_SELECT.format(found=found) + hint)
    return statement


# Read-only PRAGMAs usable as table-valued functions, e.g. SELECT * FROM pragma_table_info('entities').
_READ_PRAGMAS = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "collation_list", "function_list", "pragma_list", "compile_options",
    "database_list", "data_version",
}  # fmt: skip
_REFUSED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_ACTIONS = {
    sqlite3.SQLITE_INSERT: "insert rows into {0}",
    sqlite3.SQLITE_UPDATE: "update {0}",
    sqlite3.SQLITE_DELETE: "delete rows from {0}",
    sqlite3.SQLITE_ATTACH: "attach another database",
    sqlite3.SQLITE_DETACH: "detach a database",
    sqlite3.SQLITE_PRAGMA: "run PRAGMA {0}",
    sqlite3.SQLITE_TRANSACTION: "control a transaction",
    sqlite3.SQLITE_DROP_TABLE: "drop table {0}",
    sqlite3.SQLITE_CREATE_TABLE: "create table {0}",
    sqlite3.SQLITE_ALTER_TABLE: "alter table {1}",
}


def _read_only_authorizer(refused: list[str]):
    """SQLite authorizer allowing reads only; it notes what it refused in ``refused``."""

    def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() not in _REFUSED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            refused.append(f"call {arg2}()")
            return sqlite3.SQLITE_DENY
        # Only side-effect-free PRAGMAs work as table-valued functions; PRAGMA statements never get here.
        if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _READ_PRAGMAS:
            return sqlite3.SQLITE_OK
        # SQLite asks this while it connects a virtual table (FTS5, pragma functions); the file is read-only.
        if action == sqlite3.SQLITE_UPDATE and arg1 == "sqlite_master" and source is None:
            return sqlite3.SQLITE_OK
        refused.append(_ACTIONS.get(action, "change the database").format(arg1, arg2))
        return sqlite3.SQLITE_DENY

    return authorize


def _fts_query(text: str, *, trigram: bool) -> tuple[str, list[str]]:
    """FTS5 MATCH expression for ``text`` (all words, or a quoted phrase) and the terms to mark in snippets."""
    text = (text or "").strip()
    minimum = 3 if trigram else 1
    if len(text) > 2 and text[0] == text[-1] == '"':
        phrase = " ".join(text[1:-1].split())
        if len(phrase) >= minimum:
            return '"' + phrase.replace('"', '""') + '"', [phrase]
    words = [w for w in re.findall(r"\w+", text) if len(w) >= minimum]
    if not words:
        raise QueryError(
            f"nothing to search for in {text!r}; give a word of at least {minimum} letters, e.g. Vollzugsdienst"
        )
    return " ".join(f'"{w}"' for w in words), words


def _mark(text: str, terms: list[str]) -> str:
    """``text`` on one line with every occurrence of ``terms`` marked «so»."""
    text = " ".join(text.split())
    pattern = "|".join(re.escape(" ".join(t.split())) for t in sorted(terms, key=len, reverse=True))
    return re.sub(f"({pattern})", r"«\1»", text, flags=re.I) if pattern else text


def _snippet(text: str, terms: list[str], width: int = 90) -> str:
    """About ``2 * width`` characters of ``text`` around the first match, with matches marked."""
    flat = " ".join(text.split())
    hits = [m.start() for t in terms if (m := re.search(re.escape(" ".join(t.split())), flat, re.I))]
    at = min(hits) if hits else 0
    start, end = max(0, at - width), min(len(flat), at + width)
    if start > 0 and (space := flat.find(" ", start, at)) != -1:
        start = space + 1
    if end < len(flat) and (space := flat.rfind(" ", at, end)) > at:
        end = space
    return ("…" if start > 0 else "") + _mark(flat[start:end], terms) + ("…" if end < len(flat) else "")
