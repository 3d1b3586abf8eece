"""Ingest: find report files in a folder and turn each into a :class:`Report` (title, date, body text).

Formats: plain text and Markdown (encoding detected), HTML (trafilatura), PDF (pypdf), DOCX (python-docx).
Plain-text reports follow the layout of German web news posts: a leading date line (``03.11.2022``) is the
report date, the next heading is the title, photo credits (``© B3 Institut``) and web boilerplate
(``zurück zum Seitenanfang``) are left out of the analysed body. Every failure raises :class:`InputError`
with a message that names the file and what to do.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import logging
import os
import re
import stat
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from reportminer.dates import MONTHS
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

# Document formats people put into report folders that reportminer cannot read: listed, so that each
# becomes an error row that says what to do, instead of being skipped without a word.
UNSUPPORTED_DOCUMENTS = {
    ".doc": "save it as .docx", ".rtf": "save it as .docx", ".odt": "save it as .docx",
    ".pages": "export it as .docx or PDF", ".xps": "print it to PDF", ".epub": "convert it to PDF or text",
}  # fmt: skip

# Larger files are refused with a clear error: split them. (Big texts below it are analysed in chunks.)
MAX_INPUT_BYTES = 100 * 2**20

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
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")  # a regex: str.translate is slow


def iter_report_paths(root: Path) -> Iterator[Path]:
    """Yield supported report files below ``root`` (recursively, sorted).

    Hidden files and folders and a folder's own description (``README.md``/``README.txt``) are skipped.
    Linked folders are followed once (a link back up the tree is not a loop here). Entries that cannot be
    used are still yielded, so that :func:`read_report` turns each into a clear error: broken links,
    symlink loops, unreadable files and sub-folders that cannot be listed.
    """
    root = Path(root)
    if not root.exists() and not root.is_symlink():
        raise InputError(f"corpus folder {root} does not exist: pass a folder of reports (e.g. corpus/)")
    if not root.is_dir():
        yield root
        return
    try:
        os.listdir(root)
    except OSError as exc:
        raise InputError(
            f"corpus folder {root} cannot be listed ({exc.strerror or exc}); check its permissions"
        ) from exc
    found: list[Path] = []
    seen_dirs: set[tuple[int, int]] = set()

    def unlistable(exc: OSError) -> None:  # a sub-folder os.walk cannot open: read_report explains it
        if exc.filename:
            found.append(Path(exc.filename))

    for folder, dirnames, filenames in os.walk(root, onerror=unlistable, followlinks=True):
        try:
            st = os.stat(folder)
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # reached again through a link: a folder loop
            log.info("%s: folder already listed (a link back up the tree); not listed again", folder)
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            stem, suffix = os.path.splitext(name)
            known = suffix.lower() in SUPPORTED_SUFFIXES or suffix.lower() in UNSUPPORTED_DOCUMENTS
            if not known or stem.upper() == "README":
                continue
            found.append(Path(folder, name))
    seen: set[Path] = set()
    for path in sorted(found):
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop: read_report reports it
            real = path
        if real in seen:  # the same file reached twice through symlinks
            continue
        seen.add(real)
        yield path


def relative_name(path: Path, root: Path | None) -> str:
    """``path`` relative to the corpus folder, as text that can be stored (POSIX separators, valid Unicode).

    File names that are not valid UTF-8 on disk (old Windows shares, zip files) are decoded as cp1252.
    """
    path = Path(path)
    if root is None or not Path(root).is_dir():
        rel = path.name
    else:
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            rel = path.name
    if not _is_storable(rel):
        rel = os.fsencode(rel).decode("cp1252", errors="replace")
    return rel


def make_doc_id(rel_path: str) -> str:
    """Stable id of a report: a short hash of its path relative to the corpus folder."""
    return hashlib.sha256(rel_path.encode("utf-8")).hexdigest()[:16]


def read_report(path: Path, root: Path | None = None) -> Report:
    """Read one report file; raise :class:`InputError` naming the file when it cannot be used."""
    path = Path(path)
    rel = relative_name(path, root)
    if not _is_storable(str(path)):
        log.warning("%s: file name is not valid UTF-8 on disk; stored as %r (rename the file)", rel, rel)
    if path.is_dir():
        raise _folder_error(path, rel)
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        fix = UNSUPPORTED_DOCUMENTS.get(path.suffix.lower(), "use .txt, .md, .html, .pdf or .docx")
        raise InputError(f"{rel}: unsupported file type {path.suffix!r}; {fix}")
    data = _read_bytes(path, rel)
    if not data.strip():
        raise InputError(f"{rel}: file is empty; nothing to analyse")
    sha = hashlib.sha256(data).hexdigest()
    encoding = None
    metadata_date: date | None = None
    if fmt in ("txt", "md"):
        text, encoding = decode_text(data, rel)
        del data  # a large file: keep only one copy
        title, report_date, body, date_source = split_plain_text(text, markdown=fmt == "md")
    elif fmt == "html":
        title, metadata_date, body, encoding = _read_html(data, rel)
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
    if report_date is None and (named := date_in_file_name(path.name)) is not None:
        report_date, date_source = named, "file_name"
    body = normalise_text(body)
    if len(body.strip()) < 2:
        raise InputError(f"{rel}: no text found after removing boilerplate; is it a real report?")
    language = guess_language(body)
    if language not in (None, "de"):
        raise InputError(
            f"{rel}: language looks like {LANGUAGE_NAMES[language]}; reportminer analyses German reports "
            "(remove the file from the folder, or add a German version)"
        )
    return Report(
        doc_id=make_doc_id(rel),
        path=rel,
        sha256=sha,
        format=fmt,
        title=normalise_text(title or Path(rel).stem),
        report_date=report_date,
        report_date_source=date_source if report_date else None,
        encoding=encoding,
        text=body,
    )


def _folder_error(path: Path, rel: str) -> InputError:
    """Why a folder was handed over as a report (iter_report_paths lists those it could not open)."""
    try:
        os.listdir(path)
    except OSError as exc:
        return InputError(
            f"{rel}: folder cannot be listed ({exc.strerror or exc}); its reports were skipped: "
            "check its permissions"
        )
    return InputError(f"{rel}: is a folder, not a report file; pass the corpus folder instead")


def _is_storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_bytes(path: Path, rel: str) -> bytes:
    """The file's bytes, or an :class:`InputError` that says what is wrong with the folder entry."""
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise _folder_error(path, rel)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(
                f"{rel}: not a regular file (a pipe, socket or device); remove it from the folder"
            )
        if st.st_size > MAX_INPUT_BYTES:
            raise InputError(
                f"{rel}: file is too large ({st.st_size / 2**20:,.0f} MB; the limit is "
                f"{MAX_INPUT_BYTES / 2**20:,.0f} MB); split it into smaller files"
            )
        return path.read_bytes()
    except InputError:
        raise
    except FileNotFoundError as exc:
        if path.is_symlink():
            raise InputError(
                f"{rel}: broken link (it points to {os.readlink(path)!r}, which does not exist); "
                "fix or remove the link"
            ) from exc
        raise InputError(
            f"{rel}: vanished during the run (it was listed but is gone now); if it was moved, run again"
        ) from exc
    except PermissionError as exc:
        raise InputError(
            f"{rel}: cannot be read (permission denied); give the user running reportminer read access "
            "(e.g. chmod a+r) or remove it"
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(
                f"{rel}: symbolic link loop (the link leads back to itself); fix or remove the link"
            ) from exc
        raise InputError(
            f"{rel}: cannot be read ({exc.strerror or exc}); check that it exists and is readable"
        ) from exc


_FILE_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-(\d\d)-(\d\d)(?!\d)")


def date_in_file_name(name: str) -> date | None:
    """An ISO date in a file name, as blogs and archives name posts ("2014-04-25-gruendung.txt")."""
    m = _FILE_NAME_DATE.search(name)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def decode_text(data: bytes, rel: str) -> tuple[str, str]:
    """Decode a text file's bytes: BOMs and UTF-8 first, then charset detection (cp1252, latin-1 ...).

    Anything but UTF-8 (with or without BOM) and UTF-16 with BOM is logged as a warning, since the
    guess can be wrong; NUL bytes in otherwise readable text are dropped with a warning.
    """
    bom = _decode_bom(data, rel)
    if bom is not None:
        return bom
    if (utf16 := _decode_utf16_without_bom(data)) is not None:
        log.warning(
            "%s: UTF-16 text without byte order mark; decoded as %s (save it as UTF-8)", rel, utf16[1]
        )
        return utf16
    if _looks_binary(data):
        kind = _sniff_binary(data)
        raise InputError(
            f"{rel}: binary content{f' ({kind})' if kind else ''} in a text file; "
            "save it as plain text or give it its real extension"
        )
    if b"\x00" in data:
        log.warning("%s: %d NUL bytes in the text were dropped (a damaged file?)", rel, data.count(b"\x00"))
        data = data.replace(b"\x00", b"")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    text, enc = _detect_8bit(data, rel)
    log.warning("%s: not UTF-8; decoded as %s (check the umlauts, or save the file as UTF-8)", rel, enc)
    return text, enc


def _decode_bom(data: bytes, rel: str) -> tuple[str, str] | None:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"{rel}: UTF-16 byte order mark but undecodable content ({exc.reason})") from exc
    return None


def _decode_utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 text without BOM: (nearly) every other byte is NUL. None when the data is not like that."""
    head = data[:8192]
    if len(head) < 16 or len(head) % 2:
        return None
    for enc, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError:
                return None
            if sum(1 for c in text[:4096] if c.isprintable() or c.isspace()) >= 0.95 * len(text[:4096]):
                return text, enc
    return None


def _detect_8bit(data: bytes, rel: str) -> tuple[str, str]:
    """Decode bytes that are not UTF-8 with charset detection among German 8-bit encodings."""
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
    if _sniff_binary(data) is not None or head.count(b"\x00") > len(head) // 100:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) // 20


def _sniff_binary(data: bytes) -> str | None:
    signatures = {b"%PDF": "a PDF", b"PK\x03\x04": "a ZIP/DOCX", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
                  b"\xd0\xcf\x11\xe0": "an old Word/Excel file", b"GIF8": "a GIF image"}  # fmt: skip
    for sig, kind in signatures.items():
        if data.startswith(sig):
            return kind
    return None


# Frequent function words for a cheap language check. No word is in two lists; words several languages
# share ("in", "was", "will", "des", "de", "en") are left out.
_FUNCTION_WORDS = {
    "de": "der die das und ist nicht mit von zu den dem im für auf ein eine einer sich auch es wurde wurden "
          "werden bei nach über aus sind hat haben zur zum vom oder wir dass durch noch am um einen eines als",
    "en": "the and of to is that for with on are be by this have has from it which would at as an or not "
          "their they been were these there",
    "fr": "le la les et du est une un pour dans que qui sur au aux avec par pas ne ce cette sont été il "
          "elle ont mais ou leur nous",
    "nl": "het een van en niet zijn voor op met wordt werd naar bij ook maar deze dit heeft hebben worden",
    "es": "el los las y del por para con una se lo su sus fue como más pero está",
    "it": "di che della delle degli gli nel nella sono è non anche stato alla dei",
}  # fmt: skip
_WORD_LANGUAGE = {w: lang for lang, words in _FUNCTION_WORDS.items() for w in words.split()}
LANGUAGE_NAMES = {
    "de": "German",
    "en": "English",
    "fr": "French",
    "nl": "Dutch",
    "es": "Spanish",
    "it": "Italian",
}
_WORD = re.compile(r"[^\W\d_]+")


def guess_language(text: str, *, sample_chars: int = 20_000) -> str | None:
    """The language of ``text`` by its function words ("de", "en", "fr", "nl", "es", "it"), or None.

    None means too few function words to tell. Another language wins only when it clearly outnumbers
    German, so German reports that quote English stay German.
    """
    sample = text[:sample_chars].lower()
    counts = Counter(_WORD_LANGUAGE[w] for w in _WORD.findall(sample) if w in _WORD_LANGUAGE)
    if sum(counts.values()) < 8:
        return None
    best, n = counts.most_common(1)[0]
    if best != "de" and n < 3 * counts["de"] + 5:
        return "de" if counts["de"] else None
    return best


def normalise_text(text: str) -> str:
    """NFC, invisible characters removed (soft hyphen, zero-width), NUL dropped, line ends unified."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
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
            month = MONTHS.get(m[2].lower().rstrip("."))
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


def _read_html(data: bytes, rel: str) -> tuple[str | None, date | None, str, str]:
    import trafilatura

    html, encoding = decode_html(data, rel)
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, favor_recall=True)
    except Exception as exc:  # trafilatura raises many kinds on broken markup
        raise InputError(f"{rel}: HTML could not be parsed ({type(exc).__name__}: {exc})") from exc
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        # lxml gives up on elements nested more than a few hundred levels deep; strip the tags instead
        fallback = _TagStripper.extract(html)
        if fallback.max_depth <= _LXML_MAX_DEPTH or not fallback.text.strip():
            raise InputError(
                f"{rel}: no readable main text in this HTML page (only scripts, menus or markup?)"
            )
        log.warning(
            "%s: HTML nested %d levels deep; main text taken by stripping tags (menus may be included)",
            rel, fallback.max_depth,
        )  # fmt: skip
        return fallback.title, None, fallback.text, encoding
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
    return title, meta_date, text, encoding


_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)


def decode_html(data: bytes, rel: str) -> tuple[str, str]:
    """Decode an HTML page's bytes. The bytes win over a ``<meta charset>`` that lies.

    BOM first; then valid UTF-8 is UTF-8 whatever the page declares; then the declared charset if the
    bytes decode with it (``iso-8859-1`` read as its superset cp1252, as browsers do); then detection.
    A declaration that does not match the bytes is logged as a warning.
    """
    bom = _decode_bom(data, rel)
    if bom is not None:
        return bom
    m = _META_CHARSET.search(data[:8192])
    label = (m[1] or m[2]).decode("ascii") if m else None
    declared = _codec_name(label) if label else None
    if declared in ("latin_1", "iso8859_1", "ascii"):
        declared = "cp1252"
    try:
        html = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if declared not in (None, "utf_8", "cp1252") or (declared == "cp1252" and not data.isascii()):
            log.warning("%s: page declares charset %s but its bytes are UTF-8; decoded as UTF-8", rel, label)
        return html, "utf-8"
    if declared and declared != "utf_8":
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError:
            pass
    if _looks_binary(data):
        kind = _sniff_binary(data)
        raise InputError(
            f"{rel}: binary content{f' ({kind})' if kind else ''} in an HTML file; give it its real extension"
        )
    html, enc = _detect_8bit(data, rel)
    what = f"declares charset {label} but" if label else "declares no charset and"
    log.warning("%s: page %s is not UTF-8; decoded as %s (check the umlauts)", rel, what, enc)
    return html, enc


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name.replace("-", "_")
    except LookupError:
        return None


_LXML_MAX_DEPTH = 255  # libxml2's default nesting limit for HTML
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SKIP = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "head", "svg"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table"}


class _TagStripper(HTMLParser):
    """Text of an HTML page without a tree (so without a nesting limit); scripts and page chrome left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = self.max_depth = self.skipping = 0
        self.parts: list[str] = []
        self.title: str | None = None
        self._in_title = False

    @classmethod
    def extract(cls, html: str) -> _TagStripper:
        parser = cls()
        parser.feed(html)
        parser.close()
        return parser

    @property
    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _VOID:
            if tag == "br":
                self.parts.append("\n")
            return
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        if tag in _SKIP or self.skipping:
            self.skipping += 1
        if tag == "title":
            self._in_title = True
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        self.depth = max(0, self.depth - 1)
        if self.skipping:
            self.skipping -= 1
        self._in_title = False
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title and self.title is None:
            self.title = data.strip() or None
        elif not self.skipping:
            self.parts.append(data)


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
