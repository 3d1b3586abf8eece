"""Store: write the output tables atomically as Parquet, CSV and one SQLite database; read them back.

Layout of an output folder::

    parquet/<table>.parquet   csv/<table>.csv   reportminer.sqlite

Every file is written to a temporary name in the same folder and flushed to disk; only when all files of a
write are complete are they renamed over the old ones. A reader (or a crash) never sees half a file, and a
write that fails (a full disk) leaves the previous results as they were. The ``runs`` table keeps the
history of all runs.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
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


class StagedFiles:
    """Temporary files beside their destinations that replace them all together (``with`` block).

    :meth:`path` hands out a temporary path for each destination; :meth:`sync` flushes them all to disk and
    :meth:`commit` then renames each over its destination. Nothing is renamed before every file is complete,
    so a write that fails part way (a full disk) leaves every old file as it was. Temporary files (and
    SQLite's journals beside them) are removed when the block ends, whatever happened.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def __enter__(self) -> StagedFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        for tmp, _ in self._pending:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal"), tmp.with_name(tmp.name + "-wal")):
                leftover.unlink(missing_ok=True)

    def path(self, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        os.close(fd)
        self._pending.append((Path(tmp), dest))
        return Path(tmp)

    def sync(self) -> None:
        for tmp, _ in self._pending:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())

    def commit(self) -> None:
        for tmp, dest in self._pending:
            os.replace(tmp, dest)


def write_files(out_dir: Path, what: str, write: Callable[[StagedFiles], None]) -> None:
    """Call ``write`` with a :class:`StagedFiles`, then put its files in place, all or none.

    Failures become an :class:`OutputError` that says what failed in ``out_dir`` (``what``: "writing
    results to"), why (the disk is full, permission denied, ...), what to do, and whether the previous
    files are still there unchanged.
    """
    with StagedFiles() as staged:
        try:
            write(staged)
            staged.sync()
        except (OSError, sqlite3.Error) as exc:
            raise write_error(out_dir, what, exc, unchanged=True) from exc
        try:
            staged.commit()
        except OSError as exc:  # a rename failed: some files may be new, some old
            raise write_error(out_dir, what, exc, unchanged=False) from exc


def is_disk_full(exc: BaseException) -> bool:
    """True for "no space left" (or over quota) from the OS, pyarrow, pandas or SQLite."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    if isinstance(exc, sqlite3.Error):
        full = getattr(sqlite3, "SQLITE_FULL", 13)
        return getattr(exc, "sqlite_errorcode", None) == full or "disk is full" in str(exc)
    return False


def write_error(out_dir: Path, what: str, exc: BaseException, *, unchanged: bool) -> OutputError:
    """The one-line error for a failed write to ``out_dir``: what failed there, why, and what to do."""
    reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc) or repr(exc)
    if is_disk_full(exc):
        why, fix = f"the disk is full ({reason})", "free space on it (or write elsewhere with --out)"
    elif isinstance(exc, PermissionError):
        why, fix = reason, "give the user running reportminer write access (or write elsewhere with --out)"
    else:
        why, fix = reason, "free space or fix permissions"
    state = "the previous results there are unchanged" if unchanged else "its results may be incomplete"
    return OutputError(f"{what} {out_dir} failed: {why}; {fix} and run again; {state}")


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


LOCK_NAME = ".reportminer-run.lock"
"""The file in an output folder that the run writing it holds a lock on (with who holds it, as JSON)."""


class RunInProgressError(OutputError):
    """Another run is writing the same output folder (and this one was told not to wait)."""


def lock_holder(out_dir: Path) -> dict | None:
    """Who holds ``out_dir``'s run lock now (``pid``, ``host``, ``started_at``, ``corpus``), or None when no
    run holds it (or locks are unavailable here)."""
    path = Path(out_dir) / LOCK_NAME
    try:
        with open(path, "a+") as fh:
            free = _try_lock(fh)
            if free is not False:  # taken (and let go when the file closes) or no locks here
                return None
            fh.seek(0)
            text = fh.read()
    except OSError:
        return None
    try:
        holder = json.loads(text)
    except ValueError:  # the holder has the lock but has not written itself in yet
        holder = {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(holder: dict) -> str:
    """'pid 1234 on host, started 2026-12-04T04:10:00Z, corpus corpus/' from :func:`lock_holder`'s dict."""
    parts = [f"pid {holder.get('pid', '?')}"]
    if holder.get("host"):
        parts[0] += f" on {holder['host']}"
    if holder.get("started_at"):
        parts.append(f"started {holder['started_at']}")
    if holder.get("corpus"):
        parts.append(f"corpus {holder['corpus']}")
    return ", ".join(parts)


@contextmanager
def run_lock(
    out_dir: Path, *, wait: bool = True, corpus: str = "", on_wait: Callable[[dict], None] | None = None
) -> Iterator[None]:
    """Hold ``out_dir``'s run lock for the block: one run at a time writes an output folder.

    When another process holds it: with ``wait``, call ``on_wait`` with the holder (see :func:`lock_holder`)
    and block until it is free; without, raise :class:`RunInProgressError`. The lock is the operating
    system's (``flock``), so a killed run releases it at once and never leaves a stale lock behind. Where
    such locks are unavailable (not POSIX), runs are not serialised."""
    import socket
    import time

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fh = open(out_dir / LOCK_NAME, "a+")  # noqa: SIM115 (held for the block)
    try:
        taken = _try_lock(fh)
        if taken is False:
            fh.seek(0)
            try:
                holder = json.loads(fh.read() or "{}")
            except ValueError:
                holder = {}
            if not wait:
                raise RunInProgressError(
                    f"another reportminer run is writing {out_dir} ({describe_holder(holder)}); "
                    "wait for it to finish, or choose another folder with --out"
                )
            if on_wait:
                on_wait(holder)
            log.info("waiting for the run writing %s to finish (%s)", out_dir, describe_holder(holder))
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        if taken is not None:
            me = {
                "pid": os.getpid(), "host": socket.gethostname(), "corpus": corpus,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }  # fmt: skip
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(me))
            fh.flush()
        yield
    finally:
        fh.close()  # closing the file lets the lock go


def remove_stale_temp_files(out_dir: Path) -> None:
    """Delete temporary files a killed run left behind (the finished files were never touched)."""
    for folder in (out_dir, out_dir / "parquet", out_dir / "csv", out_dir / BUILD_MARKER.parent):
        if folder.is_dir():
            for pattern in (".*.tmp", ".*.tmp-journal", ".*.tmp-wal"):
                for tmp in folder.glob(pattern):
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
    return _read_optional(path, "starting afresh", TABLES[name].conform)


def _read_optional(path: Path, otherwise: str, convert=lambda df: df) -> pd.DataFrame | None:
    """A Parquet file the next run builds on, passed through ``convert``: None when absent, and when it
    cannot be read or converted (with a warning that says what happens ``otherwise``): such a file only
    costs continuity with the previous run."""
    if not path.exists():
        return None
    try:
        return convert(pd.read_parquet(path))
    except Exception as exc:
        log.warning("cannot read %s (%s); %s", path, exc, otherwise)
        return None


THEME_STATE = Path("cache") / "theme_state.parquet"
"""The theme model's state (:class:`reportminer.themes.ThemeState`) of the tables an output folder holds,
from which the next run's theme model continues; written together with the tables."""
THEME_STATE_KEY = "theme_state"
"""Key of that state in the dict of tables ``build_tables`` returns (it is not an output table)."""


def read_theme_state(out_dir: Path) -> pd.DataFrame | None:
    """The stored theme state of ``out_dir`` (None when absent or unreadable: themes are then fitted afresh)."""
    return _read_optional(Path(out_dir) / THEME_STATE, "themes are fitted afresh")


BUILD_MARKER = Path("cache") / "build.json"
"""Fingerprint of the inputs of the tables an output folder holds; written after a complete write."""


def read_build_marker(out_dir: Path) -> str | None:
    """Fingerprint of the last complete build in ``out_dir`` (None when absent or unreadable)."""
    try:
        return json.loads((Path(out_dir) / BUILD_MARKER).read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_build_marker(out_dir: Path, fingerprint: str) -> None:
    """Record that the tables in ``out_dir`` are complete for ``fingerprint``. Only a shortcut for the next
    run: when it cannot be written (a full disk), that run rebuilds the tables, so this only warns."""
    try:
        with atomic_path(Path(out_dir) / BUILD_MARKER) as tmp:
            tmp.write_text(json.dumps({"fingerprint": fingerprint}), encoding="utf-8")
    except OSError as exc:
        log.warning("cannot record the build in %s (%s); the next run rebuilds the tables", out_dir, exc)


def remove_build_marker(out_dir: Path) -> None:
    (Path(out_dir) / BUILD_MARKER).unlink(missing_ok=True)


def append_runs(rows: pd.DataFrame, out_dir: Path) -> pd.DataFrame:
    """Add ``rows`` to the runs history of ``out_dir`` (Parquet, CSV and the SQLite ``runs`` table), leaving
    every other table as it is. The three files are replaced together (or, on failure, not at all).
    Returns the whole history."""
    out_dir = Path(out_dir)
    remove_stale_temp_files(out_dir)
    history = read_runs(out_dir)
    rows = TABLES["runs"].conform(rows)
    history = history[~history["run_id"].isin(rows["run_id"])]
    runs = TABLES["runs"].conform(pd.concat([history, rows], ignore_index=True) if len(history) else rows)
    db = out_dir / SQLITE_NAME
    records = list(
        rows.astype(object).where(rows.notna(), None)[TABLES["runs"].column_names].itertuples(index=False)
    )

    def write(staged: StagedFiles) -> None:
        arrow = to_arrow("runs", runs)
        pq.write_table(arrow, staged.path(out_dir / "parquet" / "runs.parquet"))
        runs.to_csv(staged.path(out_dir / "csv" / "runs.csv"), index=False, encoding="utf-8")
        if db.exists():
            tmp = staged.path(db)
            shutil.copyfile(db, tmp)
            conn = sqlite3.connect(tmp)
            try:
                with conn:
                    cols = TABLES["runs"].column_names
                    marks = ", ".join("?" for _ in cols)
                    conn.executemany(
                        f"INSERT OR REPLACE INTO runs ({', '.join(cols)}) VALUES ({marks})", records
                    )
            finally:
                conn.close()

    write_files(out_dir, "recording the run in", write)
    return runs


def to_arrow(name: str, df: pd.DataFrame | None) -> pa.Table:
    """Table ``name``'s rows ``df``, conformed, as Arrow with the schema's types (and pandas' metadata)."""
    return pa.Table.from_pandas(
        TABLES[name].conform(df), schema=TABLES[name].arrow_schema(), preserve_index=False
    )


class Spool:
    """One output table written batch by batch to a temporary Parquet file and read back batch by batch.

    The build appends the rows of each batch of reports (:meth:`append`); :func:`write_tables` then copies
    the file as the table's Parquet file and streams its row groups into CSV and SQLite. Neither needs the
    whole table in memory: what a large corpus's mentions or paragraphs take grows on disk, not in RAM.
    """

    def __init__(self, name: str, folder: SpoolFolder) -> None:
        self.name = name
        self._folder = folder  # removed when the last spool in it (and the BuiltTables) is gone
        self.path = Path(folder.name) / f"{name}.parquet"
        self._writer: pq.ParquetWriter | None = None
        self._rows = 0

    def append(self, rows: pd.DataFrame | list[dict]) -> None:
        """Add rows (a frame or row dicts; conformed to the table's schema) as one row group."""
        arrow = to_arrow(self.name, pd.DataFrame(rows) if isinstance(rows, list) else rows)
        if not arrow.num_rows:
            return
        try:
            if self._writer is None:  # the schema with pandas' metadata, as pq.write_table stores it
                self._writer = pq.ParquetWriter(self.path, arrow.schema)
            self._writer.write_table(arrow)
        except OSError as exc:
            raise self._error(exc) from exc
        self._rows += arrow.num_rows

    def close(self) -> None:
        """Finish the file (an empty table is a file with the schema and no rows)."""
        try:
            if self._writer is not None:
                self._writer.close()
            elif not self.path.exists():
                pq.write_table(to_arrow(self.name, None), self.path)
        except OSError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: OSError) -> OutputError:
        return write_error(self.path.parent, f"spooling the {self.name} table in", exc, unchanged=True)

    def __len__(self) -> int:
        return self._rows

    def batches(self) -> Iterator[pd.DataFrame]:
        """The rows, one conformed frame per appended batch."""
        self.close()
        with pq.ParquetFile(self.path) as parquet:
            for i in range(parquet.num_row_groups):
                yield TABLES[self.name].conform(parquet.read_row_group(i).to_pandas())

    def frame(self) -> pd.DataFrame:
        """The whole table in memory (for small corpora and tests)."""
        return TABLES[self.name].conform(pd.concat(list(self.batches()) or [None], ignore_index=True))


class BuiltTables(dict):
    """What the build hands to :func:`write_tables`: the output tables by name, each a DataFrame or, for
    the tables that grow with the corpus, a :class:`Spool` in a temporary folder that :meth:`close` (or
    the garbage collector) removes. ``frame(name)`` gives either as a DataFrame."""

    def __init__(self, tables: dict, folder: SpoolFolder | None = None) -> None:
        super().__init__(tables)
        self._folder = folder

    def frame(self, name: str) -> pd.DataFrame:
        value = self[name]
        return value.frame() if isinstance(value, Spool) else value

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()


SPOOL_PREFIX = ".build-"


class SpoolFolder(tempfile.TemporaryDirectory):
    """A temporary folder for a build's spooled tables, removed by :meth:`cleanup` or when garbage.

    ``parent``: the output folder's cache, so a large build's spools go to the disk that holds its outputs
    (not to a temporary folder that may live in RAM). While the folder exists its process holds a lock on
    ``lock`` in it, so :func:`remove_stale_spools` removes only the folders of runs that were killed."""

    def __init__(self, parent: Path | None = None) -> None:
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        super().__init__(prefix=SPOOL_PREFIX, dir=parent)
        self._lock = open(Path(self.name) / "lock", "w")  # noqa: SIM115 (held for the folder's lifetime)
        _try_lock(self._lock)

    def cleanup(self) -> None:
        self._lock.close()
        super().cleanup()


def _try_lock(fh) -> bool | None:
    """An exclusive lock on an open file, without waiting: True when taken, False when another open file
    holds it, None where locks are unavailable (not POSIX)."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def remove_stale_spools(out_dir: Path, *, keep_unlocked_hours: float = 24.0) -> None:
    """Delete the spool folders that killed runs left in ``out_dir``'s cache folder (a folder whose lock no
    process holds; where locks are unavailable, one untouched for ``keep_unlocked_hours``)."""
    import time

    folder = Path(out_dir) / BUILD_MARKER.parent
    if not folder.is_dir():
        return
    for spool in folder.glob(f"{SPOOL_PREFIX}*"):
        try:
            with open(spool / "lock", "a") as fh:
                stale = _try_lock(fh)
            if stale is None:  # no locks here: only folders untouched for long
                stale = time.time() - spool.stat().st_mtime > keep_unlocked_hours * 3600
        except OSError:  # no lock file: a folder cut short while it was being made
            stale = True
        if stale:
            shutil.rmtree(spool, ignore_errors=True)


def _batches(table: pd.DataFrame | Spool | None, name: str) -> Iterator[pd.DataFrame]:
    """A table's rows as conformed frames: the spool's batches, or the one frame (an empty one for None)."""
    if isinstance(table, Spool):
        yield from table.batches()
    else:
        yield TABLES[name].conform(table)


class StoredTables(Mapping):
    """The tables of an output folder by name, each read from its Parquet file when first asked for.

    What :func:`write_tables` returns: a large corpus's tables are not held in memory after the write;
    :meth:`n_rows` and :meth:`column` read what a summary needs without loading a whole table."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self._loaded: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = read_table(self.out_dir, name)
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(TABLES)

    def __len__(self) -> int:
        return len(TABLES)

    def n_rows(self, name: str) -> int:
        return pq.ParquetFile(table_path(self.out_dir, name)).metadata.num_rows

    def column(self, name: str, column: str) -> pd.Series:
        return pq.read_table(table_path(self.out_dir, name), columns=[column]).column(column).to_pandas()


def write_tables(tables: dict[str, pd.DataFrame | Spool], out_dir: Path) -> StoredTables:
    """Write every table (conformed to the schema) to Parquet, CSV and SQLite; ``runs`` is appended.

    A table is a DataFrame or a :class:`Spool`, whose rows are written batch by batch. All files are
    replaced together once every one is complete; when a write fails (a full disk: see
    :func:`write_files`) the previous files stay as they were. Returns the tables as written (read back
    from the Parquet files on demand).
    """
    out_dir = Path(out_dir)
    check_writable(out_dir)
    remove_stale_temp_files(out_dir)
    tables = dict(tables)
    history = read_runs(out_dir)
    new_runs = TABLES["runs"].conform(tables.get("runs"))
    history = history[~history["run_id"].isin(new_runs["run_id"])]
    tables["runs"] = pd.concat([history, new_runs], ignore_index=True) if len(history) else new_runs
    state = tables.get(THEME_STATE_KEY)

    def write(staged: StagedFiles) -> None:
        for table in tables.values():
            if isinstance(table, Spool):
                table.close()
        # The SQLite tables first; then SQLite builds their full-text indexes in a second thread while this
        # one writes Parquet and CSV. Building the indexes is SQLite's own work, without Python's GIL, so
        # the two run side by side on two cores (10,000 reports: the full-text indexes take 25-30 s).
        database = staged.path(out_dir / SQLITE_NAME)
        write_sqlite({name: _batches(tables.get(name), name) for name in TABLES}, database)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportminer-fts") as pool:
            fts_done = pool.submit(add_fts, database)
            for name in TABLES:
                table = tables.get(name)
                parquet = staged.path(out_dir / "parquet" / f"{name}.parquet")
                if isinstance(table, Spool):
                    _link_or_copy(table.path, parquet)
                else:
                    pq.write_table(to_arrow(name, table), parquet)
                with open(
                    staged.path(out_dir / "csv" / f"{name}.csv"), "w", encoding="utf-8", newline=""
                ) as fh:
                    for n, batch in enumerate(_batches(table, name)):
                        batch.to_csv(fh, index=False, header=n == 0)
            if state is not None:
                state.to_parquet(staged.path(out_dir / THEME_STATE), index=False)
            fts_done.result()  # its failure is raised here; after a failure above, leaving waits for it

    write_files(out_dir, "writing results to", write)
    if state is None:  # no themes this time: nothing for the next run to continue from
        (out_dir / THEME_STATE).unlink(missing_ok=True)
    return StoredTables(out_dir)


def _link_or_copy(src: Path, dest: Path) -> None:
    """``dest`` becomes a hard link to ``src`` (no second copy of a large table on the disk), or a copy
    where the file system cannot link."""
    dest.unlink(missing_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def write_sqlite(tables: dict[str, Iterable[pd.DataFrame]], path: Path) -> None:
    """Create a fresh SQLite database at ``path``: ``tables`` (each an iterable of frames, conformed) and
    their indexes, one transaction; :func:`add_fts` then adds the full-text indexes.

    ``path`` is a temporary file that :func:`write_files` fsyncs and renames into place only once it is
    complete, so the build needs neither a journal on disk nor syncs of its own (a failed build is thrown
    away), and a page cache of 64 MiB keeps most index and FTS pages in memory (256 MiB was no faster at
    2,500 reports, and a large build fills it: up to 192 MiB more peak memory).
    sqlite-utils creates the tables and indexes; the rows go in with one ``executemany`` per batch, holding
    the values sqlite-utils' ``insert_all`` stored, without its per-value conversion (2 s instead of 14 s
    for 2,500 reports).
    """
    import sqlite_utils

    path.unlink(missing_ok=True)
    conn = _build_connection(path)
    try:
        db = sqlite_utils.Database(conn)
        with conn:
            for name, batches in tables.items():
                table = TABLES[name]
                db[name].create(
                    {c.name: _py_type(c.type) for c in table.columns},
                    pk=table.primary_key[0] if len(table.primary_key) == 1 else (table.primary_key or None),
                )
                cols = ", ".join(f"[{c}]" for c in table.column_names)
                marks = ", ".join("?" for _ in table.column_names)
                for df in batches:
                    if len(df):
                        conn.executemany(
                            f"INSERT INTO [{name}] ({cols}) VALUES ({marks})", _rows(df[table.column_names])
                        )
            for name, index_cols in (
                ("mentions", ["doc_id"]),
                ("mentions", ["entity_id"]),
                ("doc_themes", ["theme_id"]),
            ):
                db[name].create_index(index_cols, if_not_exists=True)
    finally:
        conn.close()


def add_fts(path: Path) -> None:
    """Add the full-text indexes to a database :func:`write_sqlite` made, one transaction."""
    conn = _build_connection(path)
    try:
        with conn:
            create_fts(conn)
    finally:
        conn.close()


def _build_connection(path: Path) -> sqlite3.Connection:
    """A connection for building a database file that is thrown away when the build fails."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = MEMORY")  # not stored in the file; a rollback still works
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -65536")  # at most 64 MiB
    return conn


def _rows(df: pd.DataFrame, chunk: int = 20_000) -> Iterator[tuple[object, ...]]:
    """Rows of ``df`` as tuples of Python values (``None`` for missing ones), as SQLite stores them.

    Converted ``chunk`` rows at a time: Python objects for every cell of a large table at once (a string per
    mention, its sentence, ...) would take several times the table's own memory."""
    for start in range(0, len(df), chunk):
        part = df.iloc[start : start + chunk]
        yield from part.astype(object).where(part.notna(), None).itertuples(index=False, name=None)


FTS_INDEXES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "documents_fts": ("documents", ("title", "text"), "SELECT rowid, title, text FROM documents"),
    # each sentence once (by its first mention), not once per mention: the index stays a third of the size;
    # rows in rowid order, so FTS5 appends to its index instead of rewriting it (3x faster to build)
    "mentions_fts": (
        "mentions",
        ("sentence",),
        "SELECT min(rowid), sentence FROM mentions WHERE sentence IS NOT NULL GROUP BY doc_id, sentence ORDER BY 1",
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
    return TABLES[name].conform(pd.read_parquet(table_path(out_dir, name)))


def table_path(out_dir: Path, name: str) -> Path:
    """The Parquet file of output table ``name`` in ``out_dir``; an :class:`OutputError` when there is none."""
    if name not in TABLES:
        raise OutputError(f"unknown table {name!r}; tables are: {', '.join(TABLES)}")
    path = Path(out_dir) / "parquet" / f"{name}.parquet"
    if not path.exists():
        raise OutputError(f"{path} not found; run `reportminer run` first to create the outputs")
    return path
