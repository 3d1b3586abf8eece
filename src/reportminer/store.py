"""Store: write the output tables atomically as Parquet, CSV and one SQLite database; read them back.

Layout of an output folder::

    parquet/<table>.parquet   csv/<table>.csv   reportminer.sqlite

Every file is written to a temporary name in the same folder, flushed to disk, then renamed over the old
one, so a reader (or a crash) never sees half a file. The ``runs`` table keeps the history of all runs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reportminer.errors import OutputError
from reportminer.schema import TABLES

log = logging.getLogger(__name__)

SQLITE_NAME = "reportminer.sqlite"


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """A temporary path beside ``dest`` that replaces ``dest`` when the block ends without error."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    finally:
        tmp_path.unlink(missing_ok=True)


def check_writable(out_dir: Path) -> None:
    """Fail early, before any work, when the output folder cannot be written."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise OutputError(
            f"output folder {out_dir} is not writable ({exc.strerror or exc}); choose another with --out"
        ) from exc


def remove_stale_temp_files(out_dir: Path) -> None:
    """Delete temporary files a killed run left behind (the finished files were never touched)."""
    for folder in (out_dir, out_dir / "parquet", out_dir / "csv"):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def read_runs(out_dir: Path) -> pd.DataFrame:
    """Run history stored in an output folder (empty when there is none)."""
    path = Path(out_dir) / "parquet" / "runs.parquet"
    if not path.exists():
        return TABLES["runs"].conform(None)
    return TABLES["runs"].conform(pd.read_parquet(path))


def read_document_hashes(out_dir: Path) -> dict[str, str]:
    """path → sha256 of the documents an output folder holds now (empty when there are none or they
    cannot be read): what an incremental run compares the corpus with."""
    path = Path(out_dir) / "parquet" / "documents.parquet"
    if not path.exists():
        return {}
    try:
        df = pd.read_parquet(path, columns=["path", "sha256"])
    except Exception as exc:  # a damaged file only costs the new/changed counts
        log.warning("cannot read %s (%s); counting every document as new", path, exc)
        return {}
    return dict(zip(df["path"].astype(str), df["sha256"].astype(str), strict=True))


def read_previous_table(out_dir: Path, name: str) -> pd.DataFrame | None:
    """Table ``name`` of the run an output folder holds now, or ``None`` when there is none or it cannot be
    read (what the next run builds on, e.g. the previous themes whose ids it keeps)."""
    path = Path(out_dir) / "parquet" / f"{name}.parquet"
    if not path.exists():
        return None
    try:
        return TABLES[name].conform(pd.read_parquet(path))
    except Exception as exc:  # a damaged file only costs continuity with the previous run
        log.warning("cannot read %s (%s); starting afresh", path, exc)
        return None


BUILD_MARKER = Path("cache") / "build.json"
"""Fingerprint of the inputs of the tables an output folder holds; written after a complete write."""


def read_build_marker(out_dir: Path) -> str | None:
    """Fingerprint of the last complete build in ``out_dir`` (None when absent or unreadable)."""
    try:
        return json.loads((Path(out_dir) / BUILD_MARKER).read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_build_marker(out_dir: Path, fingerprint: str) -> None:
    with atomic_path(Path(out_dir) / BUILD_MARKER) as tmp:
        tmp.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")


def remove_build_marker(out_dir: Path) -> None:
    (Path(out_dir) / BUILD_MARKER).unlink(missing_ok=True)


def append_runs(rows: pd.DataFrame, out_dir: Path) -> pd.DataFrame:
    """Add ``rows`` to the runs history of ``out_dir`` (Parquet, CSV and the SQLite ``runs`` table), leaving
    every other table as it is. Each file is replaced atomically. Returns the whole history."""
    out_dir = Path(out_dir)
    history = read_runs(out_dir)
    rows = TABLES["runs"].conform(rows)
    history = history[~history["run_id"].isin(rows["run_id"])]
    runs = TABLES["runs"].conform(pd.concat([history, rows], ignore_index=True) if len(history) else rows)
    db = out_dir / SQLITE_NAME
    try:
        arrow = pa.Table.from_pandas(runs, schema=TABLES["runs"].arrow_schema(), preserve_index=False)
        with atomic_path(out_dir / "parquet" / "runs.parquet") as tmp:
            pq.write_table(arrow, tmp)
        with atomic_path(out_dir / "csv" / "runs.csv") as tmp:
            runs.to_csv(tmp, index=False, encoding="utf-8")
        if db.exists():
            with atomic_path(db) as tmp:
                shutil.copyfile(db, tmp)
                conn = sqlite3.connect(tmp)
                try:
                    with conn:
                        cols = TABLES["runs"].column_names
                        marks = ", ".join("?" for _ in cols)
                        records = rows.astype(object).where(rows.notna(), None)[cols].itertuples(index=False)
                        conn.executemany(
                            f"INSERT OR REPLACE INTO runs ({', '.join(cols)}) VALUES ({marks})", list(records)
                        )
                finally:
                    conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise OutputError(
            f"recording the run in {out_dir} failed ({exc}); free space or fix permissions"
        ) from exc
    return runs


def write_tables(tables: dict[str, pd.DataFrame], out_dir: Path) -> dict[str, pd.DataFrame]:
    """Write every table (conformed to the schema) to Parquet, CSV and SQLite; ``runs`` is appended.

    Returns the tables as written.
    """
    out_dir = Path(out_dir)
    check_writable(out_dir)
    remove_stale_temp_files(out_dir)
    tables = dict(tables)
    history = read_runs(out_dir)
    new_runs = TABLES["runs"].conform(tables.get("runs"))
    history = history[~history["run_id"].isin(new_runs["run_id"])]
    tables["runs"] = pd.concat([history, new_runs], ignore_index=True) if len(history) else new_runs
    written = {name: TABLES[name].conform(tables.get(name)) for name in TABLES}
    try:
        for name, df in written.items():
            table = TABLES[name]
            arrow = pa.Table.from_pandas(df, schema=table.arrow_schema(), preserve_index=False)
            with atomic_path(out_dir / "parquet" / f"{name}.parquet") as tmp:
                pq.write_table(arrow, tmp)
            with atomic_path(out_dir / "csv" / f"{name}.csv") as tmp:
                df.to_csv(tmp, index=False, encoding="utf-8")
        with atomic_path(out_dir / SQLITE_NAME) as tmp:
            write_sqlite(written, tmp)
    except OSError as exc:
        raise OutputError(
            f"writing results to {out_dir} failed ({exc.strerror or exc}); free space or fix permissions"
        ) from exc
    return written


def write_sqlite(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """Create a fresh SQLite database at ``path``: ``tables`` and their full-text indexes, one transaction."""
    import sqlite_utils

    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    try:
        db = sqlite_utils.Database(conn)
        with conn:
            for name, df in tables.items():
                table = TABLES[name]
                db[name].create(
                    {c.name: _py_type(c.type) for c in table.columns},
                    pk=table.primary_key[0] if len(table.primary_key) == 1 else (table.primary_key or None),
                )
                records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
                if records:
                    db[name].insert_all(records, batch_size=1000)
            for name, cols in (
                ("mentions", ["doc_id"]),
                ("mentions", ["entity_id"]),
                ("doc_themes", ["theme_id"]),
            ):
                db[name].create_index(cols, if_not_exists=True)
            create_fts(conn)
    finally:
        conn.close()


FTS_INDEXES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "documents_fts": ("documents", ("title", "text"), "SELECT rowid, title, text FROM documents"),
    # each sentence once (by its first mention), not once per mention: the index stays a third of the size
    "mentions_fts": (
        "mentions",
        ("sentence",),
        "SELECT min(rowid), sentence FROM mentions WHERE sentence IS NOT NULL GROUP BY doc_id, sentence",
    ),
}
"""Full-text indexes in the SQLite database: FTS5 table -> (content table, indexed columns, rows indexed)."""


def fts_tokenizer() -> str:
    """FTS5 tokenizer: ``trigram`` (SQLite 3.34+) matches inside German compounds, so "Vollzugsdienst" finds
    "Gemeindevollzugsdienst"; older SQLite falls back to whole words."""
    return "trigram" if sqlite3.sqlite_version_info >= (3, 34, 0) else "unicode61 remove_diacritics 2"


def create_fts(conn: sqlite3.Connection) -> None:
    """Add the FTS5 indexes of :data:`FTS_INDEXES` (external content, so the text is stored once).

    Named ``<table>_fts`` with ``content=[<table>]``, the convention sqlite-utils and Datasette detect.
    """
    tokenizer = fts_tokenizer()
    for fts, (table, columns, rows) in FTS_INDEXES.items():
        cols = ", ".join(f"[{c}]" for c in columns)
        conn.execute(
            f"CREATE VIRTUAL TABLE [{fts}] USING FTS5 ({cols}, tokenize='{tokenizer}', content=[{table}])"
        )
        conn.execute(f"INSERT INTO [{fts}] (rowid, {cols}) {rows}")


def _py_type(logical: str) -> type:
    return {"str": str, "int": int, "float": float, "bool": int}[logical]


def read_table(out_dir: Path, name: str) -> pd.DataFrame:
    """One output table from an output folder's Parquet files."""
    if name not in TABLES:
        raise OutputError(f"unknown table {name!r}; tables are: {', '.join(TABLES)}")
    path = Path(out_dir) / "parquet" / f"{name}.parquet"
    if not path.exists():
        raise OutputError(f"{path} not found; run `reportminer run` first to create the outputs")
    return TABLES[name].conform(pd.read_parquet(path))
