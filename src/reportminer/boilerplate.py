"""Corpus boilerplate: sentences and lines that recur across the reports of a corpus.

Disclaimers ("Der Volltext dieses auf Agenturmeldungen basierenden Artikels steht aus rechtlichen Gründen
nicht mehr zur Verfügung."), newsletter footers and event lists, sign-offs and series templates are the same
text in many reports. They say nothing about what one report is about, so themes, theme terms, key
sentences and the entity counts of themes leave them out; the text itself stays in ``documents``.

Found from the corpus itself, not from a hand-written list: a report's text is cut into units (its
sentences, cut again at line breaks, :func:`unit_spans`), each unit is normalised (lowercase, whitespace
collapsed, every number written 0, so a monthly event list with new dates is still the same line), and a
unit of at least :data:`MIN_WORDS` words that occurs in at least ``min_docs`` different reports (reports
with identical text count once) is boilerplate.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Boilerplate", "BoilerplateFinder", "MIN_DOCS", "MIN_WORDS", "find_boilerplate", "unit_key", "unit_spans",
]  # fmt: skip

#: a unit recurring in at least this many reports is boilerplate
MIN_DOCS = 3
#: units of fewer words ("Vielen Dank!", "Und sonst so?") recur by chance and carry no theme anyway
MIN_WORDS = 3

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


def unit_spans(doc) -> list[tuple[int, int]]:
    """Character spans (into ``doc.text``) of ``doc``'s sentences, each cut again at line breaks, surrounding
    whitespace trimmed; empty pieces left out. Without sentence boundaries the lines are the units."""
    text = doc.text
    if doc.has_annotation("SENT_START"):
        bounds = [(s.start_char, s.end_char) for s in doc.sents]
    else:
        bounds = [(0, len(text))]
    spans: list[tuple[int, int]] = []
    for start, end in bounds:
        pos = start
        for line in text[start:end].split("\n"):
            stripped = line.strip()
            if stripped:
                lead = len(line) - len(line.lstrip())
                spans.append((pos + lead, pos + lead + len(stripped)))
            pos += len(line) + 1
    return spans


def unit_key(text: str) -> str | None:
    """The normalised form's hash (16 hex digits) of a unit's text; None for units under :data:`MIN_WORDS`
    words, which are never boilerplate."""
    norm = _DIGITS.sub("0", _SPACE.sub(" ", text.lower())).strip()
    if len(norm.split(" ")) < MIN_WORDS:
        return None
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()


@dataclass
class Boilerplate:
    """The boilerplate units of a corpus: key -> number of reports, and one example text of each."""

    n_docs: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    min_docs: int = MIN_DOCS

    def __contains__(self, key: object) -> bool:
        return key in self.n_docs

    def __len__(self) -> int:
        return len(self.n_docs)

    def is_boilerplate(self, text: str) -> bool:
        if not self.n_docs:
            return False
        key = unit_key(text)
        return key is not None and key in self.n_docs

    def rows(self) -> list[dict]:
        """The ``boilerplate`` table's rows, most widespread first."""
        return [
            {"unit_key": k, "text": self.examples[k], "n_docs": n}
            for k, n in sorted(self.n_docs.items(), key=lambda kv: (-kv[1], self.examples[kv[0]]))
        ]


class BoilerplateFinder:
    """Counts units report by report (:meth:`add`); :meth:`result` gives the corpus' boilerplate.

    A unit counts once per report, and reports with the same text (the same file twice) count once."""

    def __init__(self, *, min_docs: int = MIN_DOCS) -> None:
        self.min_docs = int(min_docs)
        self._counts: Counter[str] = Counter()
        self._examples: dict[str, str] = {}  # kept only once a unit is boilerplate: not the corpus text
        self._seen: set[str] = set()

    def add(self, sha256: str, pieces: Iterable[str]) -> list[str | None]:
        """Count the unit texts ``pieces`` of one report; returns their keys (:func:`unit_key`)."""
        pieces = list(pieces)
        keys = [unit_key(piece) for piece in pieces]
        if sha256 in self._seen:
            return keys
        self._seen.add(sha256)
        counted: set[str] = set()
        for key, piece in zip(keys, pieces, strict=True):
            if key is None or key in counted:
                continue
            counted.add(key)
            self._counts[key] += 1
            if self._counts[key] == self.min_docs:
                self._examples[key] = piece
        return keys

    def result(self) -> Boilerplate:
        found = {k: n for k, n in self._counts.items() if n >= self.min_docs}
        return Boilerplate(found, dict(self._examples), self.min_docs)


def find_boilerplate(
    reports: Iterable[tuple[str, str, Sequence[tuple[int, int]]]], *, min_docs: int = MIN_DOCS
) -> Boilerplate:
    """Boilerplate of a corpus from ``(sha256, text, unit spans)`` of each report (see
    :class:`BoilerplateFinder`)."""
    finder = BoilerplateFinder(min_docs=min_docs)
    for sha, text, spans in reports:
        finder.add(sha, [text[start:end] for start, end in spans])
    return finder.result()
