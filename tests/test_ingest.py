"""Ingest: formats, encodings, report metadata and clear errors for bad files."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from reportminer.errors import InputError
from reportminer.ingest import iter_report_paths, make_doc_id, read_report, split_plain_text

from .conftest import bad_corpus_script

REPORT = """03.11.2022

3. Vernetzungstreffen der Region Westsachsen

Das Roll-up steht im Eingang des Museums.
© B3 Institut

Die Präventionsschaffenden der Landkreise Zwickau und Vogtlandkreis trafen sich am 3. November 2022 in Zwickau.

zurück zum Seitenanfang
"""


def test_date_line_title_credits_and_boilerplate():
    title, report_date, body, source = split_plain_text(REPORT, markdown=False)
    assert report_date == date(2022, 11, 3)
    assert source == "date_line"
    assert title == "3. Vernetzungstreffen der Region Westsachsen"
    assert "© B3 Institut" not in body
    assert "Seitenanfang" not in body
    assert body.startswith("Das Roll-up steht im Eingang")
    assert "trafen sich am 3. November 2022 in Zwickau." in body


def test_seed_report_metadata(seed_path):
    report = read_report(seed_path, seed_path.parent)
    assert report.report_date == date(2022, 11, 3)
    assert report.title == "3. Vernetzungstreffen der Region Westsachsen"
    assert "B3 Institut" not in report.text and "Seitenanfang" not in report.text
    assert "Peter Schulenkorf" in report.text
    assert len(report.sha256) == 64 and report.doc_id == make_doc_id(seed_path.name)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "latin-1", "utf-16"])
def test_text_encodings(tmp_path, encoding):
    text = "12.05.2023\n\nSitzung des Gemeinderats\n\nBürgermeisterin Anja Krüger begrüßte die Gäste in Plauen.\n"
    path = tmp_path / "bericht.txt"
    path.write_bytes(text.encode(encoding))
    report = read_report(path, tmp_path)
    assert "Bürgermeisterin Anja Krüger begrüßte die Gäste" in report.text
    assert report.report_date == date(2023, 5, 12)


def test_soft_hyphens_and_zero_width_are_removed(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Titel\n\nDas Treffen fand in Zwi\u00adckau im Rat\u200bhaus statt.", encoding="utf-8")
    assert "in Zwickau im Rathaus statt." in read_report(path, tmp_path).text


def test_markdown_heading_and_date(tmp_path):
    path = tmp_path / "protokoll.md"
    path.write_text(
        "# Fachtag Bürgerbeteiligung\n\nDatum: 12.05.2023\n\n**Landrat** Jens Weber eröffnete den Fachtag.\n",
        encoding="utf-8",
    )
    report = read_report(path, tmp_path)
    assert report.title == "Fachtag Bürgerbeteiligung"
    assert report.report_date == date(2023, 5, 12)
    assert report.text == "Landrat Jens Weber eröffnete den Fachtag."


def test_html_main_text_title_and_date(tmp_path):
    path = tmp_path / "seite.html"
    path.write_text(
        "<html><head><title>Stadt Plauen</title></head><body><nav>Startseite | Rathaus | Kontakt</nav>"
        "<article><h1>Kreistag berät über Jugendarbeit</h1><time datetime='2022-12-07'>7. Dezember 2022</time>"
        "<p>Der Kreistag des Erzgebirgskreises hat am Mittwoch in Annaberg-Buchholz eine neue Förderrichtlinie"
        " für die offene Jugendarbeit beschlossen. Landrat Rico Anton stellte die Vorlage vor.</p>"
        "<p>Die Mittel sollen im kommenden Jahr an die Träger der Jugendarbeit fließen.</p></article>"
        "<footer>Impressum | Datenschutz</footer><script>var x = 1;</script></body></html>",
        encoding="utf-8",
    )
    report = read_report(path, tmp_path)
    assert report.title == "Kreistag berät über Jugendarbeit"
    assert report.report_date == date(2022, 12, 7)
    assert "Förderrichtlinie" in report.text
    assert "Impressum" not in report.text and "var x" not in report.text


def _minimal_pdf(text: str) -> bytes:
    return bad_corpus_script().minimal_pdf(text)


def test_pdf_text_layer(tmp_path):
    path = tmp_path / "protokoll.pdf"
    path.write_bytes(_minimal_pdf("Der Stadtrat von Zwickau tagte am 14. März 2023 im Rathaus."))
    report = read_report(path, tmp_path)
    assert "Stadtrat von Zwickau tagte am 14. März 2023" in report.text


def test_truncated_pdf_is_a_clear_error(tmp_path):
    path = tmp_path / "kaputt.pdf"
    path.write_bytes(_minimal_pdf("Sitzung in Plauen")[:60])
    with pytest.raises(InputError, match="kaputt.pdf"):
        read_report(path, tmp_path)


def test_docx_paragraphs_and_tables(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Niederschrift der Sitzung des Ortschaftsrates", level=1)
    document.add_paragraph("14.03.2023")
    document.add_paragraph(
        "Ortsvorsteher Uwe Lehmann eröffnete die Sitzung im Dorfgemeinschaftshaus Rottmannsdorf."
    )
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "TOP 1"
    table.rows[0].cells[1].text = "Haushalt 2023"
    path = tmp_path / "niederschrift.docx"
    document.save(path)
    report = read_report(path, tmp_path)
    assert report.title == "Niederschrift der Sitzung des Ortschaftsrates"
    assert report.report_date == date(2023, 3, 14)
    assert "Ortsvorsteher Uwe Lehmann eröffnete die Sitzung" in report.text
    assert "Haushalt 2023" in report.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("leer.txt", b"", "empty"),
        ("leer2.txt", b"  \n\t \n", "empty"),
        ("bild.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "binary"),
        ("kaputt.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("skript.html", b"<html><body><script>alert(1)</script></body></html>", "no readable main text"),
    ],
)
def test_bad_files_raise_input_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_report(path, tmp_path)
    assert name in str(info.value) and message in str(info.value)


def test_word_file_renamed_to_txt_is_flagged(tmp_path):
    path = tmp_path / "bericht.txt"
    buf = tmp_path / "x.zip"
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    path.write_bytes(buf.read_bytes())
    with pytest.raises(InputError, match="ZIP/DOCX"):
        read_report(path, tmp_path)


def test_iter_report_paths_recursive_sorted_and_filtered(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "2.txt").write_text("x")
    (tmp_path / "1.md").write_text("x")
    (tmp_path / "README.md").write_text("about this folder")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "bild.png").write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_report_paths(tmp_path)]
    assert found == ["1.md", "a/2.txt"]


def test_missing_corpus_folder():
    with pytest.raises(InputError, match="does not exist"):
        list(iter_report_paths(Path("/nonexistent/reports")))


def test_doc_id_is_stable_and_path_based():
    assert make_doc_id("a/b.txt") == make_doc_id("a/b.txt") != make_doc_id("a/c.txt")


def test_report_date_from_an_iso_date_in_the_file_name(tmp_path):
    path = tmp_path / "cfg_2014-04-25-einladung-gruendung.txt"
    path.write_text(
        "Einladung zum Gründungstreffen\n\nWir treffen uns am 13. Mai 2014 um 19 Uhr in München.",
        encoding="utf-8",
    )
    report = read_report(path, tmp_path)
    assert (report.report_date, report.report_date_source) == (date(2014, 4, 25), "file_name")
    # a date line in the text still wins
    path.write_text("03.05.2014\n\nEinladung\n\nWir treffen uns am 13. Mai 2014.", encoding="utf-8")
    assert read_report(path, tmp_path).report_date == date(2014, 5, 3)
    (tmp_path / "bericht_2023-02-30.txt").write_text("Titel\n\nDas Treffen fand statt.", encoding="utf-8")
    assert read_report(tmp_path / "bericht_2023-02-30.txt", tmp_path).report_date is None
