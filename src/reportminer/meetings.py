"""Meetings: one OParl-shaped row for each report that describes a meeting, so "who met where, when" is one query.

A report describes a meeting when its title or its opening paragraphs name one ("Vernetzungstreffen",
"Ausschusssitzung", "Fachtag", "Arbeitskreis", "tagte", "trafen sich" …). The meeting's

- ``start`` is the full date nearest to a meeting cue in the same paragraph of the opening
  ("… trafen sich am 3. November 2022 zum Vernetzungstreffen …"), else the report date;
- ``place`` is the place on an "Ort:" line at the top, or the place or venue written with "in"/"im" near that cue ("im Rathaus Plauen", "in Zwickau"),
  else the place the report mentions most;
- ``organisations``, ``people`` and ``themes`` list the report's organisations, people (in order of first
  mention) and strongest themes, separated by ``' | '``.

The field names follow OParl's ``Meeting`` object where there is one (name, start, location → place).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from reportminer.schema import TABLES

log = logging.getLogger(__name__)

SEPARATOR = " | "
LEAD_CHARS = 1500
"""How far into the text (after the title) the meeting's own date and place are looked for."""
MAX_THEMES = 3
MIN_THEME_WEIGHT = 0.25
"""A report's themes: the strongest one, and the next ones while their weight is at least this."""

# Words naming a meeting, with their inflected forms; also as the last part of a compound
# ("Frühjahrstreffen", "Kreistagssitzung"). Matched with str.endswith: a regular expression searched in
# every capitalised word of every report took 2 s at 10,000 reports.
_NOUN_CUES = (
    "treffen", "treffens", "sitzung", "sitzungen", "workshop", "workshops",
    "fachtag", "fachtage", "fachtages", "fachtags", "forum", "forums", "foren", "arbeitskreis",
    "arbeitskreises", "ausschuss", "ausschusses", "kreistag", "kreistage", "kreistages", "kreistags",
    "gemeinderat", "gemeinderates", "gemeinderats", "stadtrat", "stadtrates", "stadtrats", "ortschaftsrat",
    "ortschaftsrates", "ortschaftsrats", "konferenz", "konferenzen", "versammlung", "versammlungen",
    "werkstatt", "runde", "tagung", "tagungen", "präventionsrat", "präventionsrates", "präventionsrats",
    "niederschrift", "protokoll", "hackathon", "hackathons", "hackday", "hackdays", "barcamp", "barcamps",
    "meetup", "meetups", "stammtisch", "stammtische", "stammtisches", "day",
)  # fmt: skip
# alone not enough ("Day" of "Public Domain Day"); as part of a compound ("Gesprächsrunde",
# "Sitzungsprotokoll", "Hackday") they are
_WEAK_CUES = frozenset({"runde", "protokoll", "day"})
_WORD = re.compile(r"\b[A-ZÄÖÜ][\wÄÖÜäöüß-]*")
_VERB_CUE = re.compile(
    r"\b(?:tagte[n]?|trafen\s+sich|traf\s+sich|treffen\s+sich"
    r"|(?:kamen|kam|fanden\s+sich)\b(?:[^.\n]|(?<=\d)\.){0,120}?\bzusammen)\b"
)
_PAST_MEETING = re.compile(r"tagten?\b|trafen\b|traf\b|kamen?\b|fanden\b")
_NEXT = re.compile(r"(?i)\b(?:nächste[nrs]?|kommende[nrs]?|folgende[nrs]?|weitere[nrs]?)\s+$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# an invitation or announcement: the meeting it names lies after the report's date
_ANNOUNCEMENT = re.compile(
    r"\b(?:Einladung|[Ll]aden\s+(?:\S+\s+){0,4}?(?:ein|zu[mr]?)\b|lädt\b|ist\s+es\s+(?:wieder\s+)?soweit"
    r"|[Ss]ave\s+the\s+[Dd]ate|[Aa]nmeld|wird\s+(?:\S+\s+){0,6}?(?:stattfinden|geben)\b"
    r"|findet\s+(?:\S+\s+){0,6}?statt\b|[Ff]reuen?\s+(?:\S+\s+){0,3}?auf\b|[Ss]eid\s+dabei|[Kk]ommt\s+vorbei"
    r"|[Bb]esucht\s+(?:uns|euch)|treffen\s+sich|erwarten?\s+(?:dich|euch|Sie)\b)"
)
# "10. und 11. Juni", "29.-30. Mai": a meeting over days starts on the first
_RANGE_JOIN = re.compile(r"^\s*(?:-|–|bis|und|/)\s*$")
# "in", "im", "ins", "in der" … up to two words before the place: "im Rathaus Plauen", "in der Stadthalle"
_IN_BEFORE = re.compile(
    r"\b(?:[Ii]n|[Ii]m|[Ii]ns)\s+(?:(?:der|dem|den|das)\s+)?((?:[\wÄÖÜäöüß.-]+\s+){0,2})$"
)
_IN_PHRASE = re.compile(
    r"\b(?:[Ii]n|[Ii]m|[Ii]ns)\s+(?:(?:der|dem|den|das)\s+)?([A-ZÄÖÜ][\wÄÖÜäöüß-]*(?:\s+[A-ZÄÖÜ][\wÄÖÜäöüß-]*){0,2})"
)
_ORT_LINE = re.compile(r"(?m)^[\s*_]*(?:Ort|Sitzungsort|Veranstaltungsort|Tagungsort)\s*:\s*(.+)$")
_VENUE = re.compile(
    r"(?i)(museum|rathaus|saal|haus|halle|zentrum|schule|hotel|landratsamt|gymnasium|hochschule|universität"
    r"|bibliothek|kirche|schloss|villa|forum|campus|arena)"
)


@dataclass(frozen=True)
class Cue:
    text: str
    start: int
    end: int


class Mention(NamedTuple):
    """A report's mention as plain Python values (``None`` where the table has a missing value)."""

    start: int | None
    end: int | None
    label: str | None
    value: str | None
    text: str | None
    entity_id: str | None
    name: object
    """The linked entity's name, else ``value``."""


def find_cues(text: str) -> list[Cue]:
    """Words and phrases in ``text`` that name a meeting, in order."""
    cues = []
    for m in _WORD.finditer(text or ""):
        word = m.group().lower().rstrip("-")
        if word != "grunde" and word.endswith(_NOUN_CUES):
            cues.append(Cue(m.group(), m.start(), m.end()))
    cues += [Cue(m.group(), m.start(), m.end()) for m in _VERB_CUE.finditer(text or "")]
    # "das nächste Treffen" is a meeting to come, not the one the report describes
    cues = [c for c in cues if not _NEXT.search(text[max(0, c.start - 20) : c.start])]
    return sorted(cues, key=lambda c: c.start)


def _strong(cue: Cue) -> bool:
    """A cue that alone makes a report a meeting report (not "Protokoll" or a bare "Runde")."""
    return cue.text.lower() not in _WEAK_CUES


def build_meetings(
    documents: pd.DataFrame | None,
    mentions: pd.DataFrame | None,
    entities: pd.DataFrame | None,
    doc_themes: pd.DataFrame | None,
    themes: pd.DataFrame | None,
) -> pd.DataFrame:
    """The ``meetings`` table: one row for each report that describes a meeting (schema ``MEETINGS``)."""
    documents = TABLES["documents"].conform(documents)
    mentions = TABLES["mentions"].conform(mentions)
    entities = TABLES["entities"].conform(entities)
    doc_themes = TABLES["doc_themes"].conform(doc_themes)
    themes = TABLES["themes"].conform(themes)

    names = dict(zip(entities["entity_id"], entities["name"], strict=True))
    linked = set(entities.loc[entities["place_kind"].isin(["district", "place", "state"]), "entity_id"])
    theme_labels = dict(zip(themes["theme_id"], themes["label"], strict=True))
    mentions_of = _MentionsByDoc(mentions, names)
    themes_of = _ThemesByDoc(doc_themes)

    rows = []
    for doc in documents.itertuples(index=False):
        text = _str(doc.text)
        title = _str(doc.title)
        body_start = _body_start(text, title)
        lead_cues = [c for c in find_cues(text[: body_start + LEAD_CHARS]) if c.start >= body_start]
        title_cues = find_cues(title)
        if not any(_strong(c) for c in title_cues + lead_cues):
            continue
        ms = mentions_of.get(doc.doc_id)
        announced = _is_announcement(title, text, body_start)
        start, start_source, cue = _meeting_date(
            text, ms, lead_cues, body_start, _str(doc.report_date), announced=announced,
            titled=any(_strong(c) for c in title_cues),
        )  # fmt: skip
        # a meeting named in the title, a dated one in the opening, or "tagte" / "trafen sich" / "kamen zusammen";
        # a blog post that only mentions "der Stadtrat" or "wir treffen uns" is not a meeting report
        if not (
            any(_strong(c) for c in title_cues)
            or start_source == "meeting_cue"
            or any(_PAST_MEETING.match(c.text) for c in lead_cues)
        ):
            continue
        rows.append(
            {
                "meeting_id": f"{doc.doc_id}-meeting", "doc_id": doc.doc_id, "name": title or None,
                "start": start, "start_source": start_source,
                "place": _meeting_place(text, ms, cue, lead_cues, linked),
                "organisations": _joined(ms, "ORG"), "people": _joined(ms, "PER"),
                "themes": _doc_themes(themes_of.get(doc.doc_id), theme_labels),
                "cue": (title_cues or lead_cues)[0].text if (title_cues or lead_cues) else None,
                "path": doc.path,
            }
        )  # fmt: skip
    log.debug("%d of %d reports describe a meeting", len(rows), len(documents))
    return TABLES["meetings"].conform(pd.DataFrame(rows))


def _objects(series: pd.Series) -> np.ndarray:
    """The column as an array of Python values, ``None`` for missing ones."""
    return series.to_numpy(dtype=object, na_value=None)


class _SortOrder:
    """Rows in the order ``DataFrame.sort_values`` puts them by an integer column.

    The same numpy sort as pandas (quicksort, so the order of equal values is the one it gives), missing
    values last.
    """

    def __init__(self, series: pd.Series) -> None:
        self._missing = series.isna().to_numpy()
        self._keys = series.to_numpy(dtype="int64", na_value=0)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        missing = self._missing[rows]
        if not missing.any():
            return rows[self._keys[rows].argsort(kind="quicksort")]
        present = rows[~missing]
        return np.concatenate([present[self._keys[present].argsort(kind="quicksort")], rows[missing]])


class _MentionsByDoc:
    """Each report's mentions as ``Mention`` records, sorted by ``start`` as ``sort_values`` sorts them."""

    def __init__(self, mentions: pd.DataFrame, names: dict) -> None:
        self._rows = mentions.groupby("doc_id", sort=False).indices if len(mentions) else {}
        self._order = _SortOrder(mentions["start_char"])
        cols = ("start_char", "end_char", "label", "value", "text", "entity_id")
        self._columns = [_objects(mentions[c]) for c in cols]
        self._names = names

    def get(self, doc_id: object) -> list[Mention]:
        rows = self._rows.get(doc_id)
        if rows is None:
            return []
        order = self._order(rows)
        names = self._names
        return [
            Mention(start, end, label, value, text, e, names.get(e, value) if isinstance(e, str) else value)
            for start, end, label, value, text, e in zip(
                *(c[order].tolist() for c in self._columns), strict=True
            )
        ]


class _ThemesByDoc:
    """Each report's ``(theme_id, weight)`` pairs by rank."""

    def __init__(self, doc_themes: pd.DataFrame) -> None:
        self._rows = doc_themes.groupby("doc_id", sort=False).indices if len(doc_themes) else {}
        self._order = _SortOrder(doc_themes["rank"])
        self._theme_ids = _objects(doc_themes["theme_id"])
        self._weights = _objects(doc_themes["weight"])

    def get(self, doc_id: object) -> list[tuple[object, object]]:
        rows = self._rows.get(doc_id)
        if rows is None:
            return []
        order = self._order(rows)
        return list(zip(self._theme_ids[order].tolist(), self._weights[order].tolist(), strict=True))


def _str(value: object) -> str:
    return (
        "" if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value)
    )


def _body_start(text: str, title: str) -> int:
    """Offset just after the title line when the text repeats it as a line of its own near the top, else 0
    (a title that is also part of the first sentence does not cut that sentence off)."""
    if title:
        line = re.compile(rf"(?m)^[\s#*_]*{re.escape(title)}[\s#*_:.]*$")
        found = line.search(text, 0, 500 + len(title))
        if found:
            return found.end()
    return 0


def _paragraph(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the line (paragraph) around ``pos``."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _is_announcement(title: str, text: str, body_start: int) -> bool:
    """Whether the title or the first paragraph invites to a meeting ("Einladung", "laden … ein", "findet …
    statt", "Save the date", "Anmeldung") rather than reporting one that took place."""
    return bool(
        _ANNOUNCEMENT.search(title)
        or _ANNOUNCEMENT.search(text[body_start : _paragraph(text, body_start)[1]])
    )


def _meeting_date(
    text: str,
    ms: list[Mention],
    cues: list[Cue],
    body_start: int,
    report_date: str,
    *,
    announced: bool = False,
    titled: bool = False,
) -> tuple[str | None, str, Cue | None]:
    """The full date nearest to a cue in the same paragraph of the lead, else the report date. A report
    tells of a past meeting, so a date after its own is a meeting to come and ranks behind the others;
    not so in an invitation (``announced``), whose meeting lies ahead."""
    dates = [
        m
        for m in ms
        if m.label == "DATE"
        and _ISO_DAY.match(m.value or "")
        and m.start is not None
        and body_start <= m.start < body_start + LEAD_CHARS
    ]
    best: tuple[bool, int, int, str, Cue] | None = None
    for d in dates:
        para = _paragraph(text, d.start)
        for cue in cues:
            if not (para[0] <= cue.start < para[1]):
                continue
            gap = max(cue.start - int(d.end), d.start - cue.end, 0)
            # reports tell of past meetings: a date after the report's own is a meeting announced
            later = bool(report_date) and str(d.value) > report_date and not announced
            # the first paragraph that dates a meeting names the report's own; in it, the date nearest a cue
            key = (later, para[0], gap, d.start, str(d.value), cue)
            if best is None or key[:4] < best[:4]:
                best = key
    if best is not None:
        start, value = best[3], best[4]
        for d in sorted(dates, key=lambda d: -d.start):  # back over a range's first day(s)
            if d.end is not None and d.end <= start and _RANGE_JOIN.match(text[d.end : start]):
                if str(d.value) < value:
                    start, value = d.start, str(d.value)
        return value, "meeting_cue", best[5]
    if titled and dates:
        # the title names the meeting ("Pen and Paper Hackathon in Köln") and no date stands beside a
        # meeting word: the first date of the opening paragraphs ("In Köln kommen am 10. Juni … zusammen")
        first = min(dates, key=lambda d: d.start)
        if first.start <= _second_paragraph_end(text, body_start):
            return str(first.value), "lead_date", None
    return (report_date or None), "report_date", None


def _second_paragraph_end(text: str, body_start: int) -> int:
    """Where the second non-empty paragraph after ``body_start`` ends (the opening of a report)."""
    pos, seen = body_start, 0
    while pos < len(text) and seen < 2:
        start, end = _paragraph(text, pos)
        if text[start:end].strip():
            seen += 1
        pos = end + 1
    return pos


def _meeting_place(
    text: str, ms: list[Mention], cue: Cue | None, cues: list[Cue], linked: set[str]
) -> str | None:
    """Where the meeting was: a place or venue written with "in"/"im" in the cue's paragraph.

    Towns, districts and Länder (places linked to official keys) win over venues ("im August-Horch-Museum
    in Zwickau" → Zwickau); then the fewest words between "in" and the name, then the nearest to the cue.
    Without one, the place the report mentions most (linked places first).
    """
    from reportminer.places import link_place

    written = _ORT_LINE.search(text[:LEAD_CHARS])
    if written:
        parts = [p.strip(" *_") for p in re.split(r"[·|]|\bVeranstalter", written.group(1))[0].split(",")]
        for part in reversed(parts):
            if part and link_place(part).linked:
                return part
            for word in reversed(part.split()):
                if link_place(word).linked:
                    return word
        if parts[0]:
            return parts[0]
    anchors = [cue] if cue else [c for c in cues if _strong(c)][:3]
    for anchor in anchors:
        para = _paragraph(text, anchor.start)
        found: list[tuple[int, int, int, str]] = []  # (not a linked place, words before, gap, name)

        def gap(start: int, end: int, anchor: Cue = anchor) -> int:
            return max(anchor.start - end, start - anchor.end, 0)

        near = [
            m
            for m in ms
            if m.start is not None and m.end is not None and m.start >= para[0] and m.end <= para[1]
        ]
        for m in near:
            is_venue = m.label in ("ORG", "MISC") and _VENUE.search(_str(m.text))
            if m.label != "LOC" and not is_venue:
                continue
            before = _IN_BEFORE.search(text[max(para[0], m.start - 60) : m.start])
            if before:
                words = len(before.group(1).split())
                is_linked = m.label == "LOC" and _str(m.entity_id) in linked
                found.append(
                    (
                        int(not is_linked),
                        words,
                        gap(m.start, m.end),
                        _str(m.name) or _str(m.text),
                    )
                )
        # "in"/"im" phrases the entity model missed: a known town or a venue ("im Kulturhaus Borna")
        for m in _IN_PHRASE.finditer(text, para[0], para[1]):
            words = m.group(1).split()
            for i, word in enumerate(words):
                if link_place(word).linked:
                    found.append((0, i, gap(m.start(1), m.end(1)), word))
                    break
            else:
                if _VENUE.search(words[0]):
                    # a bare "Ratssaal" says less than the town the report is about
                    found.append((1 if len(words) > 1 else 2, 0, gap(m.start(1), m.end(1)), " ".join(words)))
        if found and min(found)[0] < 2:
            return min(found)[3]
        if found:
            return _most_mentioned_place(ms, linked, only_linked=True) or min(found)[3]
    return _most_mentioned_place(ms, linked)


def _most_mentioned_place(ms: list[Mention], linked: set[str], *, only_linked: bool = False) -> str | None:
    """The place the report mentions most (linked places first; among equals the first mentioned)."""
    counts = Counter(
        (_str(m.entity_id) in linked, _str(m.name) or _str(m.text)) for m in ms if m.label == "LOC"
    )
    if not counts:
        return None
    # max() keeps the first of equals, and Counter keeps the order of first mention
    (is_linked, name), _ = max(counts.items(), key=lambda kv: (kv[0][0], kv[1]))
    return name if is_linked or not only_linked else None


def _joined(ms: list[Mention], label: str) -> str | None:
    """Distinct names of the ``label`` mentions, in order of first mention, joined with ' | '."""
    seen: dict[str, None] = {}
    for m in ms:
        if m.label != label:
            continue
        key = _str(m.name) or _str(m.text)
        if key:
            seen.setdefault(key, None)
    return SEPARATOR.join(seen) or None


def _doc_themes(weights: list[tuple[object, object]], labels: dict) -> str | None:
    """Labels of the strongest themes; ``weights`` are ``(theme_id, weight)`` by rank."""
    if not weights:
        return None
    chosen = [
        labels.get(t)
        for i, (t, w) in enumerate(weights)
        if i < MAX_THEMES and (i == 0 or float(w) >= MIN_THEME_WEIGHT)
    ]
    return SEPARATOR.join(str(c) for c in chosen if c is not None and c is not pd.NA) or None
