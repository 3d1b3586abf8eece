"""Bad and odd input: every kind from scripts/make_bad_corpus.py gets exactly the outcome it promises.

Good documents are processed; bad ones become one ``errors`` row (stage ``ingest``, a message that names
the file and the fix); odd but usable ones are processed, with a logged warning where a person should look.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from reportminer import cache, ingest, pipeline, store
from reportminer.ingest import guess_language

from .conftest import bad_corpus_script

ROOT = Path(__file__).resolve().parents[1]
bad = bad_corpus_script()

BIG_MB = 2.5  # the script's default is 50 MB; this keeps the suite fast and the NLP test under a minute


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_corpus")
    expected = bad.make_bad_corpus(root, big_mb=BIG_MB)
    handler = _Warnings()
    logger = logging.getLogger("reportminer")
    logger.addHandler(handler)
    try:
        paths = pipeline.list_reports(root)
        reports, errors = pipeline.read_reports(paths, root)
    finally:
        logger.removeHandler(handler)
    yield SimpleNamespace(
        root=root,
        expected=expected,
        paths=paths,
        reports={r.path: r for r in reports},
        errors={e.path: e for e in errors},
        n_errors=len(errors),
        warnings=handler.messages,
    )
    for path in root.rglob("*"):  # let pytest clean up the locked file
        if not path.is_symlink() and path.is_file():
            path.chmod(0o644)


def test_at_least_25_kinds():
    assert len(bad.KINDS) >= 25 and len(set(bad.KINDS)) == len(bad.KINDS)


def test_every_file_is_processed_or_one_error_row(bad_run):
    processed, failed = set(bad_run.reports), set(bad_run.errors)
    assert not processed & failed
    assert bad_run.n_errors == len(failed)  # one row per file, not several
    assert processed | failed == set(bad_run.expected)
    assert {e.kind for e in bad_run.expected.values()} == set(bad.KINDS) - (
        set() if hasattr(os, "mkfifo") else {"named_pipe"}
    )


def test_every_stored_string_is_valid_unicode(bad_run):
    """Odd names and encodings must not break the Parquet/SQLite writers later."""
    for row in [*bad_run.reports.values(), *bad_run.errors.values()]:
        for value in vars(row).values():
            if isinstance(value, str):
                value.encode("utf-8")


def test_good_documents_are_all_processed(bad_run):
    good = {name for name, e in bad_run.expected.items() if e.kind.startswith("good_")}
    assert len(good) == 5 and good <= set(bad_run.reports)
    assert {bad_run.reports[name].format for name in good} == {"txt", "md", "html", "pdf", "docx"}


@pytest.mark.parametrize("kind", bad.KINDS)
def test_kind_has_its_expected_outcome(bad_run, kind):
    cases = {name: e for name, e in bad_run.expected.items() if e.kind == kind}
    if not cases:
        pytest.skip(f"{kind}: cannot be made on this system")
    for name, exp in cases.items():
        if kind == "unreadable" and os.access(bad_run.root / name, os.R_OK):
            pytest.skip(
                "running as root (or similar): chmod 000 does not stop this user from reading the file"
            )
        warned = [m for m in bad_run.warnings if m.startswith(f"{name}:")]
        if exp.outcome == bad.ERROR:
            assert name in bad_run.errors, f"{name!r} should be an error row"
            error = bad_run.errors[name]
            assert error.stage == "ingest" and error.error == "InputError"
            assert error.message.startswith(f"{name}: ") and exp.phrase in error.message, error.message
        else:
            assert name in bad_run.reports, f"{name!r} should be processed: {bad_run.errors.get(name)}"
            report = bad_run.reports[name]
            assert exp.phrase in report.text
            assert "\u00ad" not in report.text and "\u200b" not in report.text and "\x00" not in report.text
            if exp.outcome == bad.WARNING:
                assert warned, f"{name!r} should be processed with a warning"
            else:
                assert not warned, warned


def test_encodings_are_recorded(bad_run):
    encodings = {name: r.encoding for name, r in bad_run.reports.items()}
    assert encodings["utf16_bom.txt"] == "utf-16"
    assert encodings["utf16_ohne_bom.txt"] == "utf-16-le"
    assert encodings["cp1252.txt"] == encodings["latin1.txt"] == "cp1252"
    assert encodings["meta_luegt_latin1.html"] == "utf-8"
    assert encodings["meta_luegt_utf8.html"] == "cp1252"


def test_soft_hyphen_name_is_found_as_zwickau(bad_run):
    report = bad_run.reports["weiches_trennzeichen.txt"]
    assert "Zwickau" in report.text and "Krüger" in report.text


def test_duplicates_are_both_processed_and_noted(bad_run):
    first, second = bad_run.reports["duplikat_1.txt"], bad_run.reports["duplikat_2.txt"]
    assert first.sha256 == second.sha256 and first.doc_id != second.doc_id
    assert any(m.startswith("duplikat_2.txt: same content as duplikat_1.txt") for m in bad_run.warnings)


def test_a_quiet_read_ahead_logs_nothing_and_reads_the_same(bad_run):
    """The CLI reads a run's first batch ahead (quiet=True), and the run reads it again: the warnings and
    errors are the run's to report, once."""
    handler = _Warnings()
    logger = logging.getLogger("reportminer")
    logger.addHandler(handler)
    try:
        reports, errors = pipeline.read_reports(bad_run.paths, bad_run.root, quiet=True)
        assert handler.messages == []
        pipeline.read_reports(bad_run.paths[:0], bad_run.root)  # the filter is gone after the quiet read
    finally:
        logger.removeHandler(handler)
    assert {r.path: r for r in reports} == bad_run.reports and len(errors) == bad_run.n_errors
    assert not logger.filters and not pipeline.log.filters and not ingest.log.filters


def test_odd_file_names_are_kept(bad_run):
    assert "zeilen\numbruch im namen.txt" in bad_run.reports
    assert "Protokoll – Größe & Maß (Entwurf) ✓.txt" in bad_run.reports
    assert "bericht_müller.txt" in bad_run.reports  # latin-1 bytes on disk, stored as valid Unicode


def test_folder_link_loop_is_listed_once(bad_run):
    listed = [p.relative_to(bad_run.root).as_posix() for p in bad_run.paths]
    assert listed.count("ordner/im_ordner.txt") == 1
    assert not any("zurueck" in p for p in listed)


def test_file_vanished_between_listing_and_reading(tmp_path):
    (tmp_path / "bleibt.txt").write_text(bad.GOOD_TXT, encoding="utf-8")
    (tmp_path / "weg.txt").write_text(bad.GOOD_TXT + "\nNoch ein Satz.\n", encoding="utf-8")
    paths = pipeline.list_reports(tmp_path)
    (tmp_path / "weg.txt").unlink()
    reports, errors = pipeline.read_reports(paths, tmp_path)
    assert [r.path for r in reports] == ["bleibt.txt"]
    assert [(e.path, e.stage) for e in errors] == [("weg.txt", "ingest")]
    assert "vanished during the run" in errors[0].message


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_file_changed_while_being_read_records_the_bytes_it_decoded(tmp_path, monkeypatch):
    path = tmp_path / "sitzung.txt"
    old = (bad.GOOD_TXT + "\nFassung eins.\n").encode("utf-8")
    new = (bad.GOOD_TXT + "\nFassung zwei, etwas länger als die erste.\n").encode("utf-8")
    path.write_bytes(old)
    read_bytes = ingest._read_bytes

    def read_then_saved_again(p, rel):
        data = read_bytes(p, rel)
        p.write_bytes(new)  # someone saves a new version just after reportminer read the file
        return data

    monkeypatch.setattr(ingest, "_read_bytes", read_then_saved_again)
    report = ingest.read_report(path, tmp_path)
    assert report.sha256 == _sha(old)  # the hash of the bytes decoded, not of the file as it is now
    assert "Fassung eins" in report.text and "Fassung zwei" not in report.text
    monkeypatch.undo()
    again = ingest.read_report(path, tmp_path)
    assert again.sha256 == _sha(new) == cache.file_sha256(path)  # what the next run's cache lookup sees
    assert "Fassung zwei" in again.text


def test_file_changed_during_the_run_is_stored_consistently_and_analysed_again_next_run(tmp_path):
    corpus, out = tmp_path / "berichte", tmp_path / "out"
    corpus.mkdir()
    (corpus / "fachtag.md").write_text(bad.GOOD_MD, encoding="utf-8")
    target = corpus / "sitzung.txt"
    version = {
        name: (bad.GOOD_TXT + f"\nFassung {name}: Danach tagte der Ausschuss in {place}.\n").encode("utf-8")
        for name, place in (("A", "Plauen"), ("B", "Chemnitz"), ("C", "Leipzig"))
    }
    target.write_bytes(version["A"])

    def read_while_saved(paths, root):
        target.write_bytes(version["B"])  # saved after it was listed and hashed, before it is read
        found = pipeline.read_reports(paths, root)
        target.write_bytes(version["C"])  # and again after it was read, before the run ends
        return found

    first = pipeline.run_pipeline(corpus, out, steps=pipeline.Steps(read=read_while_saved))
    assert (first.n_documents, first.n_errors) == (2, 0)
    # one version, B, the one analysed: its hash and text, in Parquet, CSV and SQLite alike
    docs = store.read_table(out, "documents").set_index("path")
    csv = pd.read_csv(out / "csv" / "documents.csv").set_index("path")
    with sqlite3.connect(out / "reportminer.sqlite") as conn:
        sql = pd.read_sql("SELECT * FROM documents", conn).set_index("path")
    for table in (docs, csv, sql):
        assert table.loc["sitzung.txt", "sha256"] == _sha(version["B"])
        text = table.loc["sitzung.txt", "text"]
        assert "Fassung B" in text and "Fassung A" not in text and "Fassung C" not in text
    mentions = store.read_table(out, "mentions")
    mentions = mentions[mentions["doc_id"] == docs.loc["sitzung.txt", "doc_id"]]
    assert "Chemnitz" in set(mentions["text"])
    text = docs.loc["sitzung.txt", "text"]
    assert all(text[m.start_char : m.end_char] == m.text for m in mentions.itertuples())

    second = pipeline.run_pipeline(corpus, out)  # notices version C and analyses it
    assert (second.n_changed, second.n_unchanged, second.n_analysed) == (1, 1, 1)
    docs = store.read_table(out, "documents").set_index("path")
    assert docs.loc["sitzung.txt", "sha256"] == _sha(version["C"])
    assert "Fassung C" in docs.loc["sitzung.txt", "text"]
    third = pipeline.run_pipeline(corpus, out)
    assert (third.n_changed, third.n_unchanged, third.n_analysed) == (0, 2, 0)


def test_too_large_file_is_an_error_row(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_INPUT_BYTES", 2**20)
    (tmp_path / "dump.txt").write_bytes(b"Der Rat hat beraten.\n" * 100_000)  # 2 MB
    reports, errors = pipeline.read_reports(pipeline.list_reports(tmp_path), tmp_path)
    assert not reports
    assert "too large" in errors[0].message and "split it" in errors[0].message


def test_unlistable_subfolder_is_an_error_row_not_a_crash(tmp_path):
    (tmp_path / "ok.txt").write_text(bad.GOOD_TXT, encoding="utf-8")
    locked = tmp_path / "gesperrt"
    locked.mkdir()
    (locked / "innen.txt").write_text(bad.GOOD_TXT, encoding="utf-8")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip(
                "running as root (or similar): chmod 000 does not stop this user from listing folders"
            )
        reports, errors = pipeline.read_reports(pipeline.list_reports(tmp_path), tmp_path)
        assert [r.path for r in reports] == ["ok.txt"]
        assert [e.path for e in errors] == ["gesperrt"] and "folder cannot be listed" in errors[0].message
    finally:
        locked.chmod(0o755)


def test_permission_errors_become_error_rows_even_as_root(tmp_path, monkeypatch):
    """The same as the chmod tests above, with the permission errors simulated (they skip as root)."""
    (tmp_path / "ok.txt").write_text(bad.GOOD_TXT, encoding="utf-8")
    (tmp_path / "gesperrt.txt").write_text(bad.GOOD_TXT + "\nGesperrt.\n", encoding="utf-8")
    (tmp_path / "ordner").mkdir()
    (tmp_path / "ordner" / "innen.txt").write_text(bad.GOOD_TXT, encoding="utf-8")
    denied = {tmp_path / "gesperrt.txt", tmp_path / "ordner"}
    real_read_bytes, real_scandir, real_listdir = Path.read_bytes, os.scandir, os.listdir

    def deny(path):
        if Path(path) in denied:
            raise PermissionError(13, "Permission denied", str(path))

    def read_bytes(self):
        deny(self)
        return real_read_bytes(self)

    def scandir(path="."):
        deny(path)
        return real_scandir(path)

    def listdir(path="."):
        deny(path)
        return real_listdir(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)
    reports, errors = pipeline.read_reports(pipeline.list_reports(tmp_path), tmp_path)
    assert [r.path for r in reports] == ["ok.txt"]
    messages = {e.path: e.message for e in errors}
    assert set(messages) == {"gesperrt.txt", "ordner"}
    assert "cannot be read (permission denied)" in messages["gesperrt.txt"]
    assert "folder cannot be listed (Permission denied)" in messages["ordner"]


def test_big_text_is_split_for_nlp(bad_run):
    text = bad_run.reports["riesig.txt"].text
    assert len(text) > 2 * 2**20
    spans = pipeline.chunk_spans(text)
    assert len(spans) > 10 and max(e - s for s, e in spans) <= pipeline.MAX_CHUNK_CHARS
    assert "".join(text[s:e] for s, e in spans) == text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (bad.GOOD_TXT, "de"),
        (bad.ENGLISH_TXT, "en"),
        (bad.FRENCH_TXT, "fr"),
        ("Der Vortrag hatte den Titel „The state of the art in open data“ und wurde von der Stadt Plauen "
         "organisiert. Die Teilnehmenden haben sich auf eine Fortsetzung im nächsten Jahr geeinigt.", "de"),
        ("Haushalt 2023", None),
    ],
)  # fmt: skip
def test_guess_language(text, language):
    assert guess_language(text) == language


@pytest.mark.slow
def test_nlp_runs_on_every_processed_report_and_chunks_the_big_ones(bad_run, nlp, monkeypatch):
    """analyse_reports on every processed report: no errors, and no Doc longer than one chunk.

    The bundled pipeline analyses roughly 10-30 KB of text a second on a laptop core, so the 2.5 MB text
    and the 1-million-character line are cut to a few chunks each here (their reading is tested in full
    above, and test_big_text_is_split_for_nlp shows the full text splits into chunks).
    """
    import dataclasses

    from reportminer.nlp import model_name

    longest = 0
    make_doc = nlp.make_doc

    def measured_make_doc(text):
        nonlocal longest
        longest = max(longest, len(text))
        return make_doc(text)

    monkeypatch.setattr(nlp, "make_doc", measured_make_doc)
    cut = {
        "riesig.txt": 3 * pipeline.MAX_CHUNK_CHARS + 1_000,
        "eine_zeile.txt": 2 * pipeline.MAX_CHUNK_CHARS + 1_000,
    }
    reports = [
        dataclasses.replace(r, text=r.text[: cut[r.path]]) if r.path in cut else r
        for r in sorted(bad_run.reports.values(), key=lambda r: r.path)
    ]
    analysed, errors = pipeline.analyse_reports(reports, nlp, model=model_name(nlp))
    assert not errors
    assert len(analysed) == len(reports)
    assert 0 < longest <= pipeline.MAX_CHUNK_CHARS  # the long texts went in as several Docs
    by_path = {a.report.path: a for a in analysed}
    for name in cut:
        a = by_path[name]
        assert a.mentions and a.mentions[-1].start_char > 2 * pipeline.MAX_CHUNK_CHARS  # the last chunk too
        assert all(a.report.text[m.start_char : m.end_char] == m.text for m in a.mentions)
    assert "Zwickau" in {m.text for m in by_path["weiches_trennzeichen.txt"].mentions}
