"""Write a folder of bad and odd report files, to show what reportminer does with each.

    python scripts/make_bad_corpus.py OUT_DIR [--big-mb 50]

Every kind of input a hand-filled folder really contains: empty files, scans without text, encrypted and
truncated PDFs, Word files renamed to .txt, latin-1 exports, lying HTML charsets, symlink loops, huge dumps,
English reports, duplicates ... and a few good German reports mixed in. ``make_bad_corpus`` returns, for
each file written, what reportminer is expected to do with it; ``tests/test_bad_inputs.py`` checks exactly that.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

PROCESSED = "processed"
WARNING = "processed with warning"
ERROR = "error"


@dataclass(frozen=True)
class Expected:
    """What should happen to one input file.

    ``outcome`` is PROCESSED, WARNING (processed, and a warning logged) or ERROR (one ``errors`` row, stage
    ``ingest``). ``phrase`` must appear in the error message, or (processed) in the report text.
    """

    kind: str
    outcome: str
    phrase: str = ""
    note: str = ""


GOOD_TXT = """14.03.2023

Sitzung des Gemeinderates Neukirchen

Bürgermeisterin Anja Krüger eröffnete die Sitzung im Rathaus und begrüßte die Gäste aus Zwickau.
Der Gemeinderat hat über den Haushalt für das Jahr 2023 beraten. Die Verwaltung stellte die Pläne für die
Sanierung der Grundschule vor, die im Sommer beginnen soll. Außerdem wurde über die Förderung der
Vereine gesprochen, die sich in der Jugendarbeit engagieren.

Die nächste Sitzung findet am 11. April 2023 statt.
"""

GOOD_MD = """# Fachtag Bürgerbeteiligung in Osnabrück

Datum: 12.05.2023

**Landrat** Jens Weber eröffnete den Fachtag. Die Teilnehmenden aus den Städten und Gemeinden des
Landkreises haben in drei Workshops über neue Formen der Beteiligung diskutiert. Es wurde vereinbart,
dass die Ergebnisse im Herbst im Kreistag vorgestellt werden.
"""

GOOD_HTML = (
    "<html><head><meta charset='utf-8'><title>Stadt Plauen</title></head><body>"
    "<nav>Startseite | Rathaus | Kontakt</nav><article><h1>Kreistag berät über Jugendarbeit</h1>"
    "<time datetime='2022-12-07'>7. Dezember 2022</time>"
    "<p>Der Kreistag des Erzgebirgskreises hat am Mittwoch in Annaberg-Buchholz eine neue Förderrichtlinie"
    " für die offene Jugendarbeit beschlossen. Landrat Rico Anton stellte die Vorlage vor und dankte den"
    " Trägern für ihre Arbeit.</p><p>Die Mittel sollen im kommenden Jahr an die Träger der Jugendarbeit"
    " fließen. Die Fraktionen haben der Vorlage mit großer Mehrheit zugestimmt.</p></article>"
    "<footer>Impressum | Datenschutz</footer></body></html>"
)

PDF_TEXT = "Der Stadtrat von Zwickau tagte am 14. März 2023 im Rathaus und hat den Haushalt beschlossen."

DOCX_PARAGRAPHS = [
    "14.03.2023",
    "Ortsvorsteher Uwe Lehmann eröffnete die Sitzung im Dorfgemeinschaftshaus Rottmannsdorf.",
    "Der Ortschaftsrat hat über die Sanierung der Straße und die Förderung der Feuerwehr beraten.",
]

UMLAUT_TXT = """12.05.2023

Sitzung des Ausschusses für Umwelt

Bürgermeisterin Anja Krüger begrüßte die Gäste in Plauen. Der Ausschuss hat über „grüne Höfe“ und die
Förderung von Straßenbäumen beraten – die Maßnahmen sollen im Frühjahr beginnen.
"""

ENGLISH_TXT = """Meeting of the Town Council

The council met on Tuesday in the town hall. The mayor opened the meeting and welcomed the guests from
the neighbouring towns. The members discussed the budget for the coming year and the plans for the new
school building, which will be finished in the summer. It was agreed that the results of the workshop
should be presented to the public at the next meeting, and that the committee would report on the costs.
"""

FRENCH_TXT = """Réunion du conseil municipal

Le conseil municipal s'est réuni mardi à la mairie. Le maire a ouvert la séance et a salué les invités des
communes voisines. Les membres ont discuté du budget pour l'année prochaine et des plans pour la nouvelle
école, qui sera terminée en été. Il a été décidé que les résultats de l'atelier seront présentés au public
lors de la prochaine réunion, et que la commission fera un rapport sur les coûts.
"""

# Every kind of input, in the order the table in the closing note lists them.
KINDS = [
    "good_txt", "good_md", "good_html", "good_pdf", "good_docx",
    "empty", "whitespace_only", "binary_junk_txt", "pdf_without_text", "pdf_encrypted", "pdf_truncated",
    "docx_corrupt", "zip_as_docx", "html_only_scripts", "html_meta_lies_latin1", "html_meta_lies_utf8",
    "utf8_bom", "utf16_bom", "utf16_no_bom", "cp1252", "latin1", "mixed_line_endings", "nul_bytes",
    "soft_hyphen", "zero_width", "big_text", "one_long_line", "deep_html_nesting", "symlink_loop",
    "symlink_dangling", "folder_symlink_loop", "unreadable", "name_newline", "name_unicode_spaces",
    "name_not_utf8", "english", "french", "duplicate", "word_renamed_txt", "old_word_doc", "named_pipe",
    "only_boilerplate",
]  # fmt: skip


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with a real text layer (Helvetica, WinAnsi), written by hand."""
    stream = f"BT /F1 10 Tf 40 720 Td ({text}) Tj ET".encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _pdf_blank(*, password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _docx_bytes(heading: str, paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _big_text(size: int) -> bytes:
    """About ``size`` bytes of German report text in paragraphs (UTF-8)."""
    paragraph = (
        "Bürgermeisterin Anja Krüger eröffnete am 14. März 2023 die Sitzung des Gemeinderates in Plauen. "
        "Die Polizeidirektion Zwickau berichtete über die Kriminalprävention im Vogtlandkreis und die "
        "Zusammenarbeit mit den Schulen.\n\n"
    ).encode()
    head = b"14.03.2023\n\nProtokollsammlung des Gemeinderates\n\n"
    return head + paragraph * max(1, (size - len(head)) // len(paragraph))


def make_bad_corpus(out_dir: Path | str, *, big_mb: float = 50.0, seed: int = 0) -> dict[str, Expected]:
    """Write every kind of bad or odd input into ``out_dir``; return {relative path: expected outcome}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    expected: dict[str, Expected] = {}
    copies = iter(range(1, 1000))

    def _variant(text: str) -> str:
        """The same report plus one sentence, so that copies are not byte-identical duplicates."""
        return text + f"\nVermerk Nummer {next(copies)} wurde zu den Akten genommen.\n"

    def put(name: str, data: bytes | str, exp: Expected) -> Path:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        expected[name] = exp
        return path

    # good German reports in every format
    put("good/bericht.txt", GOOD_TXT, Expected("good_txt", PROCESSED, "Bürgermeisterin Anja Krüger"))
    put("good/fachtag.md", GOOD_MD, Expected("good_md", PROCESSED, "Landrat Jens Weber eröffnete"))
    put("good/kreistag.html", GOOD_HTML, Expected("good_html", PROCESSED, "Förderrichtlinie"))
    put("good/stadtrat.pdf", minimal_pdf(PDF_TEXT), Expected("good_pdf", PROCESSED, "Stadtrat von Zwickau"))
    put(
        "good/niederschrift.docx",
        _docx_bytes("Niederschrift der Sitzung des Ortschaftsrates", DOCX_PARAGRAPHS),
        Expected("good_docx", PROCESSED, "Ortsvorsteher Uwe Lehmann"),
    )

    # empty, junk and broken files
    put("leer.txt", b"", Expected("empty", ERROR, "file is empty"))
    put("nur_leerzeichen.txt", b"  \n\t\r\n   \n", Expected("whitespace_only", ERROR, "file is empty"))
    put(
        "binaer_muell.txt",
        bytes(rng.randrange(256) for _ in range(20_000)),
        Expected("binary_junk_txt", ERROR, "binary content"),
    )
    put("scan_ohne_text.pdf", _pdf_blank(), Expected("pdf_without_text", ERROR, "no text layer"))
    put(
        "verschluesselt.pdf",
        _pdf_blank(password="geheim"),
        Expected("pdf_encrypted", ERROR, "password-protected"),
    )
    put(
        "abgeschnitten.pdf",
        minimal_pdf(PDF_TEXT)[:150],
        Expected("pdf_truncated", ERROR, "damaged or truncated"),
    )
    good_docx = _docx_bytes("Niederschrift", DOCX_PARAGRAPHS)
    put(
        "kaputt.docx",
        good_docx[: len(good_docx) // 2],
        Expected("docx_corrupt", ERROR, "re-save it from Word"),
    )
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("notes.txt", "kein Word-Dokument")
    put("zip_statt_docx.docx", zbuf.getvalue(), Expected("zip_as_docx", ERROR, "re-save it from Word"))
    put(
        "nur_skripte.html",
        "<html><head><script>var a = 1;</script></head><body><script>document.write('Hallo');</script>"
        "<noscript></noscript></body></html>",
        Expected("html_only_scripts", ERROR, "no readable main text"),
    )
    # HTML whose meta charset lies, both ways round
    put(
        "meta_luegt_latin1.html",
        GOOD_HTML.replace("<meta charset='utf-8'>", "<meta http-equiv='Content-Type' content='text/html; charset=iso-8859-1'>")
        .encode("utf-8"),
        Expected("html_meta_lies_latin1", WARNING, "Förderrichtlinie für die offene Jugendarbeit"),
    )  # fmt: skip
    put(
        "meta_luegt_utf8.html",
        GOOD_HTML.encode("cp1252"),
        Expected("html_meta_lies_utf8", WARNING, "Förderrichtlinie für die offene Jugendarbeit"),
    )

    # encodings and characters
    put(
        "utf8_bom.txt",
        b"\xef\xbb\xbf" + UMLAUT_TXT.encode(),
        Expected("utf8_bom", PROCESSED, "Straßenbäumen"),
    )
    put("utf16_bom.txt", UMLAUT_TXT.encode("utf-16"), Expected("utf16_bom", PROCESSED, "Straßenbäumen"))
    put(
        "utf16_ohne_bom.txt",
        UMLAUT_TXT.encode("utf-16-le"),
        Expected("utf16_no_bom", WARNING, "Straßenbäumen"),
    )
    put("cp1252.txt", UMLAUT_TXT.encode("cp1252"), Expected("cp1252", WARNING, "„grüne Höfe“"))
    put(
        "latin1.txt",
        UMLAUT_TXT.replace("„", '"').replace("“", '"').replace("–", "-").encode("latin-1"),
        Expected("latin1", WARNING, "Straßenbäumen"),
    )
    put(
        "zeilenenden.txt",
        GOOD_TXT.replace("\n", "\r\n", 4).replace("\n\n", "\r\r", 1).encode(),
        Expected("mixed_line_endings", PROCESSED, "Bürgermeisterin Anja Krüger"),
    )
    put(
        "nullbytes.txt",
        GOOD_TXT.replace("Rathaus", "Rat\x00haus").replace("Zwickau", "Zwickau\x00\x00").encode(),
        Expected("nul_bytes", WARNING, "im Rathaus und begrüßte die Gäste aus Zwickau."),
    )
    put(
        "weiches_trennzeichen.txt",
        GOOD_TXT.replace("Zwickau", "Zwi\u00adckau").replace("Krüger", "Krü\u00adger"),
        Expected("soft_hyphen", PROCESSED, "Anja Krüger eröffnete die Sitzung im Rathaus und begrüßte die Gäste aus Zwickau"),
    )  # fmt: skip
    put(
        "nullbreite.txt",
        GOOD_TXT.replace("Zwickau", "Zwi\u200bckau").replace("Rathaus", "Rat\u200dhaus\ufeff"),
        Expected("zero_width", PROCESSED, "im Rathaus und begrüßte die Gäste aus Zwickau"),
    )

    # size and shape
    put(
        "riesig.txt",
        _big_text(int(big_mb * 1024 * 1024)),
        Expected("big_text", PROCESSED, "Polizeidirektion Zwickau"),
    )
    sentence = (
        "Der Gemeinderat hat über die Förderung der Vereine in Zwickau beraten und die Mittel beschlossen. "
    )
    put(
        "eine_zeile.txt",
        (sentence * (1_000_000 // len(sentence) + 1))[:1_000_000],
        Expected("one_long_line", PROCESSED, "Förderung der Vereine in Zwickau"),
    )
    depth = 5_000
    put(
        "tief_verschachtelt.html",
        "<html><body>" + "<div>" * depth + "<p>" + GOOD_HTML.split("<p>")[1] + "<p>"
        + GOOD_HTML.split("<p>")[2].split("</article>")[0] + "</div>" * depth + "</body></html>",
        Expected("deep_html_nesting", WARNING, "Förderrichtlinie"),
    )  # fmt: skip

    # links, permissions, names
    loop_a, loop_b = out / "schleife_a.txt", out / "schleife_b.txt"
    os.symlink(loop_b.name, loop_a)
    os.symlink(loop_a.name, loop_b)
    expected["schleife_a.txt"] = Expected("symlink_loop", ERROR, "symbolic link loop")
    expected["schleife_b.txt"] = Expected("symlink_loop", ERROR, "symbolic link loop")
    os.symlink("gibt_es_nicht.txt", out / "verwaister_link.txt")
    expected["verwaister_link.txt"] = Expected("symlink_dangling", ERROR, "broken link")
    (out / "ordner").mkdir()
    os.symlink("..", out / "ordner" / "zurueck")  # a folder loop: listing must not recurse forever
    put(
        "ordner/im_ordner.txt",
        _variant(GOOD_TXT),
        Expected("folder_symlink_loop", PROCESSED, "Bürgermeisterin"),
    )
    locked = put(
        "gesperrt.txt",
        _variant(GOOD_TXT),
        Expected("unreadable", ERROR, "permission denied", "skipped when the tests run as root"),
    )
    locked.chmod(0)
    put(
        "zeilen\numbruch im namen.txt",
        _variant(GOOD_TXT),
        Expected("name_newline", PROCESSED, "Bürgermeisterin"),
    )
    put(
        "Protokoll – Größe & Maß (Entwurf) ✓.txt",
        _variant(GOOD_TXT),
        Expected("name_unicode_spaces", PROCESSED, "Bürgermeisterin"),
    )
    # a file name in latin-1 bytes (an old Windows share): not valid UTF-8 on disk
    raw_name = os.fsencode(out) + b"/bericht_m\xfcller.txt"
    with open(raw_name, "wb") as fh:
        fh.write(_variant(GOOD_TXT).encode())
    expected["bericht_müller.txt"] = Expected("name_not_utf8", WARNING, "Bürgermeisterin", "stored as cp1252")

    # language, duplicates, disguises
    put("english.txt", ENGLISH_TXT, Expected("english", ERROR, "language looks like English"))
    put("francais.txt", FRENCH_TXT, Expected("french", ERROR, "language looks like French"))
    put("duplikat_1.txt", GOOD_TXT + "\nDuplikat.\n", Expected("duplicate", PROCESSED, "Bürgermeisterin"))
    put(
        "duplikat_2.txt",
        GOOD_TXT + "\nDuplikat.\n",
        Expected("duplicate", WARNING, "Bürgermeisterin", "same sha256"),
    )
    put("word_umbenannt.txt", good_docx, Expected("word_renamed_txt", ERROR, "a ZIP/DOCX"))
    put(
        "altes_word.doc",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
        Expected("old_word_doc", ERROR, "unsupported file type '.doc'; save it as .docx"),
    )
    if hasattr(os, "mkfifo"):  # reading a pipe would block the run forever
        os.mkfifo(out / "pipe.txt")
        expected["pipe.txt"] = Expected("named_pipe", ERROR, "not a regular file")
    put(
        "nur_boilerplate.txt",
        "© Stadt Plauen\nzurück zum Seitenanfang\nImpressum\nDatenschutz\n",
        Expected("only_boilerplate", ERROR, "no text found"),
    )
    return expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (created; should be empty)")
    parser.add_argument("--big-mb", type=float, default=50.0, help="size of the huge text file (default 50)")
    args = parser.parse_args(argv)
    expected = make_bad_corpus(args.out_dir, big_mb=args.big_mb)
    for name, exp in sorted(expected.items(), key=lambda kv: KINDS.index(kv[1].kind)):
        print(f"{exp.kind:24} {exp.outcome:24} {name!r}")
    print(f"{len(expected)} files, {len({e.kind for e in expected.values()})} kinds in {args.out_dir}")


if __name__ == "__main__":
    main()
