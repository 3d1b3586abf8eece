"""Cache of per-document analysis results, so a re-run analyses only new or changed reports.

An entry is one :class:`AnalysedReport` (report, mentions, terms, word count, model), stored in
``OUT/cache/analysed.sqlite`` under the key

    (sha256 of the file's bytes, model identity, code version, path)

The model identity is the model's name and version plus a short hash of its ``meta.json`` (a retrained model
has new scores there, so it misses even if its version was not bumped); the code version is
``reportminer.__version__`` plus :data:`CACHE_VERSION` and a hash of the stopword list. Changing the model
or the code thus invalidates exactly the entries made with the old ones. Bump :data:`CACHE_VERSION`
whenever a change to ingest or analysis changes what is stored for a document. (The corpus-level tables
are rebuilt on any change of reportminer's code or data files: see :func:`source_digest`.)

Entries are written in SQLite transactions (all of a batch or nothing), so a run killed at any point leaves
a whole cache behind and the next run resumes from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sqlite3
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path

from reportminer import __version__
from reportminer.errors import OutputError
from reportminer.records import AnalysedReport, Mention, Report, TextUnit

log = logging.getLogger(__name__)

CACHE_VERSION = 5  # 2: report dates from file names; 3: paragraph terms (segments); 4: compact entries;
# 5: sentence units with their terms (boilerplate is found by sentence)
"""Bump when a code change alters the analysis of a document (invalidates every cached entry)."""

PACKAGE = Path(__file__).resolve().parent

CACHE_PATH = Path("cache") / "analysed.sqlite"
"""The cache, relative to the output folder."""


def code_version() -> str:
    """The code part of a cache key: reportminer's version, the cache format version and a hash of the
    stopword list (it shapes the theme terms stored with each analysed report)."""
    stopwords = file_sha256(PACKAGE / "data" / "stopwords_de.txt") or "missing"
    return f"{__version__}+cache{CACHE_VERSION}+{stopwords[:8]}"


@lru_cache(maxsize=1)
def source_digest() -> str:
    """A hash of reportminer's code and data files (not the bundled model): part of what the corpus-level
    tables are built from, so that editing the seed themes, a stopword or the code rebuilds them."""
    files = sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "models" not in p.relative_to(PACKAGE).parts
                   and p.suffix in {".py", ".toml", ".txt", ".csv"})  # fmt: skip
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file's bytes (as in ``documents.sha256``); None when it cannot be read.

    Files this cannot hash are left to ingest, which turns them into clear error rows.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return None


def model_identity(target: str, name: str | None = None) -> tuple[str, str]:
    """``(name, key)`` of a spaCy pipeline without loading it: the name as recorded in the outputs
    (``lang_name-version``) and the cache key part (name plus a hash of its ``meta.json``).

    ``target`` is a package name or a pipeline folder. When its ``meta.json`` cannot be found, ``name``
    (the loaded pipeline's name) is used, or the pipeline is loaded to learn it.
    """
    meta_path = _meta_path(target)
    if meta_path is not None:
        try:
            raw = meta_path.read_bytes()
            meta = json.loads(raw)
            found = f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}-{meta.get('version', '0.0.0')}"
            return found, f"{found}#{hashlib.sha256(raw).hexdigest()[:12]}"
        except (OSError, ValueError):
            pass
    if name is None:
        from reportminer.nlp import load_pipeline, model_name

        name = model_name(load_pipeline(target))
    return name, name


def _meta_path(target: str) -> Path | None:
    path = Path(target)
    if (path / "meta.json").is_file():
        return path / "meta.json"
    try:
        import importlib.util

        spec = importlib.util.find_spec(target) if target.isidentifier() else None
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        meta = Path(spec.origin).parent / "meta.json"
        if meta.is_file():
            return meta
    return None


# ----------------------------------------------------------------------------------- (de)serialisation


_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, zlib.error)
"""What :func:`from_json` raises for a damaged entry."""


_MENTION_FIELDS = tuple(f.name for f in dataclasses.fields(Mention))
_SENTENCE = _MENTION_FIELDS.index("sentence")


def to_json(analysed: AnalysedReport) -> bytes:
    """An analysed report as compressed JSON (dates as ISO text).

    Compact, since every build reads each entry twice: each sentence once (a mention holds its index), a
    mention as a list of its fields, each distinct term once (the term lists of its sentence units hold
    indexes). A tenth smaller than one object per mention and term once compressed, and a
    quarter faster to read (3,000 reports: 3.0 -> 2.2 s)."""
    report = dict(vars(analysed.report))  # the fields as they are (dataclasses.asdict copies every value)
    report["report_date"] = report["report_date"].isoformat() if report["report_date"] else None
    sentences: dict[str, int] = {}
    mentions = []
    for m in analysed.mentions:
        row = list(vars(m).values())
        row[_SENTENCE] = sentences.setdefault(m.sentence, len(sentences))
        mentions.append(row)
    words: dict[str, int] = {}
    units = [[u.start, u.end, [words.setdefault(t, len(words)) for t in u.terms]] for u in analysed.units]
    data = {
        "report": report, "sentences": list(sentences), "mentions": mentions, "words": list(words),
        "units": units, "n_words": analysed.n_words, "model": analysed.model,
    }  # fmt: skip
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 3)


def from_json(blob: bytes) -> AnalysedReport:
    data = json.loads(zlib.decompress(blob))
    r = data["report"]
    r["report_date"] = date.fromisoformat(r["report_date"]) if r["report_date"] else None
    sentences = data["sentences"]  # one string per sentence, shared by its mentions, as after the analysis
    mentions = []
    for row in data["mentions"]:
        row[_SENTENCE] = sentences[row[_SENTENCE]]
        mentions.append(Mention(*row))
    words = [sys.intern(t) for t in data["words"]]  # as the analysis does: one copy of each term
    return AnalysedReport(
        report=Report(**r),
        mentions=mentions,
        units=[TextUnit(start, end, [words[i] for i in terms]) for start, end, terms in data["units"]],
        n_words=int(data["n_words"]),
        model=data["model"],
    )


# ------------------------------------------------------------------------------------------- the cache


_THIS_CONTENT = "sha256 = ? AND model = ? AND code_version = ?"
_THIS_ENTRY = _THIS_CONTENT + " AND path = ?"
"""Where-clauses of one entry: (sha256, model key, code version[, path])."""


class AnalysisCache:
    """Analysed reports of an output folder, keyed by content hash, model and code version.

    ``model_key`` is the model part of every key this instance reads or writes (see :func:`model_identity`).
    """

    def __init__(self, path: Path, model_key: str) -> None:
        self.path = Path(path)
        self.model_key = model_key
        self.code_version = code_version()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path)
            with self._conn:
                self._conn.execute(
                    "CREATE TABLE IF NOT EXISTS analysed (sha256 TEXT NOT NULL, model TEXT NOT NULL, "
                    "code_version TEXT NOT NULL, path TEXT NOT NULL, payload BLOB NOT NULL, "
                    "PRIMARY KEY (sha256, model, code_version, path))"
                )
        except (OSError, sqlite3.Error) as exc:
            raise OutputError(
                f"the analysis cache {self.path} cannot be opened ({exc}); free space or fix permissions, "
                "or delete the file (the next run analyses every report again)"
            ) from exc

    @classmethod
    def open(cls, out_dir: Path, model_key: str) -> AnalysisCache:
        return cls(Path(out_dir) / CACHE_PATH, model_key)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AnalysisCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self._conn.execute("SELECT count(*) FROM analysed").fetchone()[0]

    def get(self, sha256: str, path: str | None = None) -> AnalysedReport | None:
        """The entry for this content (and, when given, this path) under the current model and code."""
        args: tuple = (sha256, self.model_key, self.code_version)
        if path is not None:
            args += (path,)
        where = _THIS_CONTENT if path is None else _THIS_ENTRY
        row = self._conn.execute(f"SELECT payload FROM analysed WHERE {where} LIMIT 1", args).fetchone()
        if row is None:
            return None
        try:
            return from_json(row[0])
        except _UNREADABLE as exc:  # a damaged entry is a miss
            log.warning("cache entry for %s unreadable (%s); analysing again", path or sha256, exc)
            return None

    def contains(self, sha256: str, path: str) -> bool:
        """Whether a readable entry for this content and path is there under the current model and code.

        Checks the entry's compressed data (zlib's checksum) without decoding it: a fifth of the time of
        :meth:`get`, for a run that only needs to know which reports it can take from the cache."""
        sql = f"SELECT payload FROM analysed WHERE {_THIS_ENTRY} LIMIT 1"
        row = self._conn.execute(sql, (sha256, self.model_key, self.code_version, path)).fetchone()
        if row is None:
            return False
        try:
            zlib.decompress(row[0])
        except (zlib.error, TypeError) as exc:  # a damaged entry is a miss
            log.warning("cache entry for %s unreadable (%s); analysing again", path, exc)
            return False
        return True

    def put_many(self, analysed: Iterable[AnalysedReport]) -> bool:
        """Store analysed reports, all in one transaction; False when they could not be stored.

        The cache only saves work: when it cannot be written (a full disk, a read-only file) the run goes
        on with a warning (keeping those reports in memory, see :class:`CachedReports`), and the next run
        analyses them again.
        """
        rows = [
            (a.report.sha256, self.model_key, self.code_version, a.report.path, to_json(a)) for a in analysed
        ]
        try:
            with self._conn:
                self._conn.executemany("INSERT OR REPLACE INTO analysed VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:  # the transaction was rolled back: the cache is as it was
            log.warning(
                "cannot add %d analysed reports to the cache %s (%s); the next run analyses them again",
                len(rows), self.path, exc,
            )  # fmt: skip
            return False
        return True

    def prune(self, current: Mapping[str, str]) -> int:
        """Delete entries of files no longer present (path → sha256 of the corpus now) and of other code
        versions; entries of other models for current files stay (switching back is then free).
        Returns the number of entries removed (0, with a warning, when the cache cannot be written)."""
        try:
            with self._conn:
                # keyed, so each entry is looked up, not compared with every file (10,000 reports: 4.7 s -> 0.1 s)
                self._conn.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS current_files (path TEXT, sha256 TEXT, PRIMARY KEY (path, sha256))"
                )
                self._conn.execute("DELETE FROM current_files")
                self._conn.executemany("INSERT OR IGNORE INTO current_files VALUES (?, ?)", current.items())
                removed = self._conn.execute(
                    "DELETE FROM analysed WHERE code_version != ? OR NOT EXISTS (SELECT 1 FROM current_files c "
                    "WHERE c.path = analysed.path AND c.sha256 = analysed.sha256)",
                    (self.code_version,),
                ).rowcount
        except sqlite3.Error as exc:  # rolled back: old entries stay until a later run removes them
            log.warning("cannot remove old entries from the cache %s (%s)", self.path, exc)
            return 0
        return removed


class CachedReports:
    """The analysed reports of a run in path order, read back from the cache each time they are iterated.

    The build goes over a run's reports twice (corpus-level results first, then the rows of each batch);
    reading them from the cache each time, instead of holding every analysed report of the corpus from the
    analysis to the end of the build, keeps the memory of a run flat in corpus size. ``entries`` are
    (path, sha256) of every report of the run; reports the cache could not store are passed in ``kept``
    (path -> analysed report) and come from memory.
    """

    def __init__(
        self, cache_path: Path, model_key: str, entries: Iterable[tuple[str, str]],
        kept: Mapping[str, AnalysedReport] | None = None,
    ) -> None:  # fmt: skip
        self.cache_path = Path(cache_path)
        self.model_key = model_key
        self.code_version = code_version()
        self.entries = sorted(entries)
        self.kept = dict(kept or {})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[AnalysedReport]:
        conn = sqlite3.connect(self.cache_path)
        try:
            sql = f"SELECT payload FROM analysed WHERE {_THIS_ENTRY} LIMIT 1"
            for path, sha in self.entries:
                if path in self.kept:
                    yield self.kept[path]
                    continue
                row = conn.execute(sql, (sha, self.model_key, self.code_version, path)).fetchone()
                if row is None:
                    raise OutputError(
                        f"the analysis of {path} vanished from the cache {self.cache_path} during the run "
                        "(another run on the same output folder?); run again"
                    )
                try:
                    analysed = from_json(row[0])
                except _UNREADABLE as exc:
                    raise OutputError(
                        f"the cached analysis of {path} in {self.cache_path} cannot be read ({exc}); "
                        f"{self._forget(path, sha)}"
                    ) from exc
                yield analysed
        finally:
            conn.close()

    def _forget(self, path: str, sha256: str) -> str:
        """Delete a damaged entry, so that the next run analyses the report again; what to do, as text."""
        try:
            with sqlite3.connect(self.cache_path) as conn:
                conn.execute(
                    f"DELETE FROM analysed WHERE {_THIS_ENTRY}",
                    (sha256, self.model_key, self.code_version, path),
                )
        except sqlite3.Error:
            return "run again with --full"
        return "the entry is removed: run again to analyse the report anew"
