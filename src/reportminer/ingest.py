"""Ingest: find report files in a folder and turn each into a :class:`Report` (title, date, body text).

Formats: plain text and Markdown (encoding detected), HTML (trafilatura), PDF (pypdf), DOCX (python-docx).
Plain-text reports follow the layout of German web news posts: a leading date line (``03.11.2022``) is the
report date, the next heading is the title, photo credits (``© B3 Institut``) and web boilerplate
(``zurück zum Seitenanfang``) are left out of the analysed body. Every failure raises :class:`InputError`
with a message that names the file and what to do.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from reportminer.errors import InputError
from reportminer.records import Report

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {
    ".txt": "txt",
    ".md": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}

_MONTHS = {
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "april": 4, "mai": 5, "juni": 6, "juli": 7,
    "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12,
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"^\s*(?:\w+,\s*)?(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_WORD_DATE = re.compile(r"^\s*(?:\w+,\s*)?(\d{1,2})\.\s*([A-Za-zÄÖÜäöüß]+)\s+(\d{4})\s*$")
_MD_DATE = re.compile(r"^\s*(?:Datum|Date|Stand|Veröffentlicht(?: am)?)\s*:\s*(.+?)\s*$", re.IGNORECASE)
_CREDIT = re.compile(r"^\s*(?:©|\(c\)|Foto:|Fotos:|Bild:|Bildquelle:|Quelle Foto:)", re.IGNORECASE)
_BOILERPLATE = re.compile(
    r"^\s*(?:zurück zum Seitenanfang|nach oben|zum Seitenanfang|seite drucken|drucken|teilen|"
    r"artikel teilen|zurück|zurück zur übersicht|impressum|datenschutz(?:erklärung)?|"
    r"impressum\s*\|\s*datenschutz.*|mehr erfahren|weiterlesen|cookie-einstellungen)\s*$",
    re.IGNORECASE,
)
# Characters that are invisible in German text but break tokens and names ("Zwi\u00adckau").
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)


def iter_report_paths(root: Path) -> Iterator[Path]:
    """Yield supported report files below ``root`` (recursively, sorted).

    Hidden files and folders and a folder's own description (``README.md``/``README.txt``) are skipped.
    """
    root = Path(root)
    if not root.exists():
        raise InputError(f"corpus folder {root} does not exist: pass a folder of reports (e.g. corpus/)")
    if root.is_file():
        yield root
        return
    seen: set[Path] = set()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES or path.stem.upper() == "README":
            continue
        try:
            if not path.is_file():
                continue
        except OSError:  # a symlink loop or an unreadable folder entry: read_report reports it
            pass
        real = path.resolve()
        if real in seen:  # the same file reached twice through symlinks
            continue
        seen.add(real)
        yield path


def make_doc_id(rel_path: str) -> str:
    """Stable id of a report: a short hash of its path relative to the corpus folder."""
    return hashlib.sha256(rel_path.encode("utf-8")).hexdigest()[:16]


def read_report(path: Path, root: Path | None = None) -> Report:
    """Read one report file; raise :class:`InputError` naming the file when it cannot be used."""
    path = Path(path)
    rel = path.name if root is None or Path(root).is_file() else path.relative_to(root).as_posix()
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{rel}: unsupported file type {path.suffix!r}; use .txt, .md, .html, .pdf or .docx")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{rel}: cannot be read ({exc.strerror or exc}); check that it exists and is readable"
        ) from exc
    if not data.strip():
        raise InputError(f"{rel}: file is empty; nothing to analyse")
    sha = hashlib.sha256(data).hexdigest()
    encoding = None
    metadata_date: date | None = None
    if fmt in ("txt", "md"):
        text, encoding = decode_text(data, rel)
        title, report_date, body, date_source = split_plain_text(text, markdown=fmt == "md")
    elif fmt == "html":
        title, metadata_date, body = _read_html(data, rel)
        _, report_date, body, date_source = split_plain_text(body, markdown=False, title_from_text=False)
    elif fmt == "pdf":
        title, metadata_date, body = _read_pdf(data, rel)
        pdf_title, report_date, body, date_source = split_plain_text(body, markdown=False)
        title = title or pdf_title
    else:
        title, metadata_date, body = _read_docx(data, rel)
        docx_title, report_date, body, date_source = split_plain_text(body, markdown=False)
        title = title or docx_title
    if report_date is None and metadata_date is not None:
        report_date, date_source = metadata_date, "metadata"
    body = normalise_text(body)
    if len(body.strip()) < 2:
        raise InputError(f"{rel}: no text found after removing boilerplate; is it a real report?")
    return Report(
        doc_id=make_doc_id(rel),
        path=rel,
        sha256=sha,
        format=fmt,
        title=(title or path.stem).strip(),
        report_date=report_date,
        report_date_source=date_source if report_date else None,
        encoding=encoding,
        text=body,
    )


def decode_text(data: bytes, rel: str) -> tuple[str, str]:
    """Decode a text file's bytes: BOMs and UTF-8 first, then charset detection (cp1252, latin-1 ...)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"{rel}: UTF-16 byte order mark but undecodable content ({exc.reason})") from exc
    if _looks_binary(data):
        kind = _sniff_binary(data)
        raise InputError(
            f"{rel}: binary content{f' ({kind})' if kind else ''} in a text file; "
            "save it as plain text or give it its real extension"
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15", "cp850", "mac_roman"]).best()
    if best is None:
        raise InputError(f"{rel}: text encoding could not be detected; save the file as UTF-8")
    enc = best.encoding
    # cp1252 is a superset of latin-1 for printable text; prefer it when both decode (typographic quotes).
    if enc in ("latin_1", "iso8859_15"):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), enc


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return head.count(b"\x00") > len(head) // 100 or _sniff_binary(data) is not None
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) // 20


def _sniff_binary(data: bytes) -> str | None:
    signatures = {b"%PDF": "a PDF", b"PK\x03\x04": "a ZIP/DOCX", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                  b"\xd0\xcf\x11\xe0": "an old Word/Excel file", b"GIF8": "a GIF image"}  # fmt: skip
    for sig, kind in signatures.items():
        if data.startswith(sig):
            return kind
    return None


def normalise_text(text: str) -> str:
    """NFC, invisible characters removed (soft hyphen, zero-width), NUL dropped, line ends unified."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\u00a0", " ")
    return text.strip()


def parse_date_line(line: str) -> date | None:
    """A line that is only a date (``03.11.2022``, ``3. November 2022``, ``2022-11-03``) as a date."""
    for rx, order in ((_NUMERIC_DATE, "dmy"), (_ISO_DATE, "ymd"), (_WORD_DATE, "dMy")):
        m = rx.match(line)
        if not m:
            continue
        try:
            if order == "ymd":
                return date(int(m[1]), int(m[2]), int(m[3]))
            if order == "dmy":
                year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
                return date(year, int(m[2]), int(m[1]))
            month = _MONTHS.get(m[2].lower().rstrip("."))
            return date(int(m[3]), month, int(m[1])) if month else None
        except ValueError:
            return None
    return None


def split_plain_text(
    text: str, *, markdown: bool, title_from_text: bool = True
) -> tuple[str | None, date | None, str, str | None]:
    """Split a report's text into (title, report date, body, date source).

    The report date is a date-only line (or ``Datum: …``) among the first lines; the title is the first
    heading (Markdown ``#``) or the first short non-date line. Credits and boilerplate lines are dropped.
    """
    lines = normalise_text(text).split("\n")
    title: str | None = None
    report_date: date | None = None
    date_source: str | None = None
    body: list[str] = []
    head_done = False
    for line in lines:
        stripped = line.strip()
        if not head_done:
            if not stripped:
                continue
            if report_date is None:
                md = _MD_DATE.match(stripped)
                d = parse_date_line(md[1] if md else stripped)
                if d is not None:
                    report_date, date_source = d, "date_line"
                    continue
            if title is None and title_from_text:
                heading = stripped.lstrip("#").strip() if markdown and stripped.startswith("#") else None
                if heading or (not markdown and len(stripped) <= 200 and not stripped.endswith((".", ":"))):
                    title = heading or stripped
                    continue
            head_done = True
        if _CREDIT.match(stripped) or _BOILERPLATE.match(stripped):
            continue
        if markdown:
            md = _MD_DATE.match(stripped)
            if md and report_date is None and (d := parse_date_line(md[1])):
                report_date, date_source = d, "date_line"
                continue
            line = re.sub(r"^#{1,6}\s+", "", line)
            line = re.sub(r"(\*\*|__|\*|_)(\S.*?\S|\S)\1", r"\2", line)
            line = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line)
            line = re.sub(r"^\s*[-*+]\s+", "", line)
        body.append(line.rstrip())
    joined = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip()
    return title, report_date, joined, date_source


def _read_html(data: bytes, rel: str) -> tuple[str | None, date | None, str]:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False, favor_recall=True)
    except Exception as exc:  # trafilatura raises many kinds on broken markup
        raise InputError(f"{rel}: HTML could not be parsed ({type(exc).__name__}: {exc})") from exc
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise InputError(f"{rel}: no readable main text in this HTML page (only scripts, menus or markup?)")
    title = getattr(doc, "title", None)
    # trafilatura repeats the <h1> as the first line of the text: keep it out of the body
    first, _, rest = text.partition("\n")
    if title and first.strip() == title.strip() and rest.strip():
        text = rest
    meta_date = None
    if getattr(doc, "date", None):
        try:
            meta_date = date.fromisoformat(str(doc.date)[:10])
        except ValueError:
            meta_date = None
    return title, meta_date, text


def _read_pdf(data: bytes, rel: str) -> tuple[str | None, date | None, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise InputError(f"{rel}: PDF is password-protected; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{rel}: PDF is damaged or truncated ({exc}); re-export or re-download it") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise InputError(f"{rel}: PDF has no text layer (a scan?); run OCR (e.g. ocrmypdf) and add it again")
    title = None
    meta_date = None
    if meta is not None:
        title = (meta.title or "").strip() or None
        try:
            created = meta.creation_date
            meta_date = created.date() if created else None
        except Exception:
            meta_date = None
    return title, meta_date, text


def _read_docx(data: bytes, rel: str) -> tuple[str | None, date | None, str]:
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{rel}: DOCX is damaged or not a Word file ({exc}); re-save it from Word") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise InputError(
            f"{rel}: DOCX could not be opened ({type(exc).__name__}: {exc}); re-save it from Word"
        ) from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    title = (document.core_properties.title or "").strip() or None
    created = document.core_properties.created
    return title, created.date() if created else None, "\n".join(parts)
