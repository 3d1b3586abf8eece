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

import pandas as pd

from reportminer.schema import TABLES

log = logging.getLogger(__name__)

SEPARATOR = " | "
LEAD_CHARS = 1500
"""How far into the text (after the title) the meeting's own date and place are looked for."""
MAX_THEMES = 3
MIN_THEME_WEIGHT = 0.25
"""A report's themes: the strongest one, and the next ones while their weight is at least this."""

# Words naming a meeting; also as the last part of a compound ("Frühjahrstreffen", "Kreistagssitzung").
_NOUN_CUE = re.compile(
    r"(?:treffens?|sitzung(?:en)?|workshops?|fachtag(?:e|es|s)?|forums?|foren|arbeitskreis(?:es)?"
    r"|ausschuss(?:es)?|kreistag(?:e|es|s)?|gemeinderat(?:es|s)?|stadtrat(?:es|s)?|ortschaftsrat(?:es|s)?"
    r"|konferenz(?:en)?|versammlung(?:en)?|werkstatt|runde|tagung(?:en)?|präventionsrat(?:es|s)?"
    r"|niederschrift|protokoll)$"
)
# alone not enough; as part of a compound ("Gesprächsrunde", "Sitzungsprotokoll") they are
_WEAK_CUES = frozenset({"runde", "protokoll"})
_WORD = re.compile(r"\b[A-ZÄÖÜ][\wÄÖÜäöüß-]*")
_VERB_CUE = re.compile(
    r"\b(?:tagte[n]?|trafen\s+sich|traf\s+sich|treffen\s+sich"
    r"|(?:kamen|kam|fanden\s+sich)\b(?:[^.\n]|(?<=\d)\.){0,120}?\bzusammen)\b"
)
_PAST_MEETING = re.compile(r"tagten?\b|trafen\b|traf\b|kamen?\b|fanden\b")
_NEXT = re.compile(r"(?i)\b(?:nächste[nrs]?|kommende[nrs]?|folgende[nrs]?|weitere[nrs]?)\s+$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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


def find_cues(text: str) -> list[Cue]:
    """Words and phrases in ``text`` that name a meeting, in order."""
    cues = []
    for m in _WORD.finditer(text or ""):
        word = m.group().lower().rstrip("-")
        if word != "grunde" and _NOUN_CUE.search(word):
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
    by_doc = {doc_id: df for doc_id, df in mentions.groupby("doc_id", sort=False)} if len(mentions) else {}
    themes_by_doc = (
        {doc_id: df for doc_id, df in doc_themes.groupby("doc_id", sort=False)} if len(doc_themes) else {}
    )

    rows = []
    for doc in documents.itertuples(index=False):
        text = _str(doc.text)
        title = _str(doc.title)
        body_start = _body_start(text, title)
        lead_cues = [c for c in find_cues(text[: body_start + LEAD_CHARS]) if c.start >= body_start]
        title_cues = find_cues(title)
        if not any(_strong(c) for c in title_cues + lead_cues):
            continue
        ms = by_doc.get(doc.doc_id, mentions.iloc[0:0]).sort_values("start_char")
        ms = ms.assign(
            name=[
                names.get(e, v) if isinstance(e, str) else v
                for e, v in zip(ms["entity_id"], ms["value"], strict=True)
            ]
        )
        start, start_source, cue = _meeting_date(text, ms, lead_cues, body_start, _str(doc.report_date))
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
                "themes": _doc_themes(themes_by_doc.get(doc.doc_id), theme_labels),
                "cue": (title_cues or lead_cues)[0].text if (title_cues or lead_cues) else None,
                "path": doc.path,
            }
        )  # fmt: skip
    log.info("%d of %d reports describe a meeting", len(rows), len(documents))
    return TABLES["meetings"].conform(pd.DataFrame(rows))


def _str(value: object) -> str:
    return (
        "" if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value)
    )


def _body_start(text: str, title: str) -> int:
    """Offset just after the title line when the text repeats it near the top, else 0."""
    if title:
        at = text.find(title, 0, 500)
        if at >= 0:
            return at + len(title)
    return 0


def _paragraph(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the line (paragraph) around ``pos``."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


def _meeting_date(
    text: str, ms: pd.DataFrame, cues: list[Cue], body_start: int, report_date: str
) -> tuple[str | None, str, Cue | None]:
    """The full date nearest to a cue in the same paragraph of the lead, else the report date."""
    dates = ms[(ms["label"] == "DATE") & ms["value"].fillna("").str.match(_ISO_DAY)]
    dates = dates[(dates["start_char"] >= body_start) & (dates["start_char"] < body_start + LEAD_CHARS)]
    best: tuple[bool, int, int, str, Cue] | None = None
    for d in dates.itertuples(index=False):
        para = _paragraph(text, int(d.start_char))
        for cue in cues:
            if not (para[0] <= cue.start < para[1]):
                continue
            gap = max(cue.start - int(d.end_char), int(d.start_char) - cue.end, 0)
            # reports tell of past meetings: a date after the report's own is a meeting announced
            later = bool(report_date) and str(d.value) > report_date
            key = (later, gap, int(d.start_char), str(d.value), cue)
            if best is None or key[:3] < best[:3]:
                best = key
    if best is not None:
        return best[3], "meeting_cue", best[4]
    return (report_date or None), "report_date", None


def _meeting_place(
    text: str, ms: pd.DataFrame, cue: Cue | None, cues: list[Cue], linked: set[str]
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

        near = ms[(ms["start_char"] >= para[0]) & (ms["end_char"] <= para[1])]
        for m in near.itertuples(index=False):
            is_venue = m.label in ("ORG", "MISC") and _VENUE.search(_str(m.text))
            if m.label != "LOC" and not is_venue:
                continue
            before = _IN_BEFORE.search(text[max(para[0], int(m.start_char) - 60) : int(m.start_char)])
            if before:
                words = len(before.group(1).split())
                is_linked = m.label == "LOC" and _str(m.entity_id) in linked
                found.append(
                    (
                        int(not is_linked),
                        words,
                        gap(int(m.start_char), int(m.end_char)),
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


def _most_mentioned_place(ms: pd.DataFrame, linked: set[str], *, only_linked: bool = False) -> str | None:
    """The place the report mentions most (linked places first; among equals the first mentioned)."""
    locs = ms[ms["label"] == "LOC"]
    counts = Counter(
        (_str(e) in linked, _str(n) or _str(t))
        for e, n, t in zip(locs["entity_id"], locs["name"], locs["text"], strict=True)
    )
    if not counts:
        return None
    # max() keeps the first of equals, and Counter keeps the order of first mention
    (is_linked, name), _ = max(counts.items(), key=lambda kv: (kv[0][0], kv[1]))
    return name if is_linked or not only_linked else None


def _joined(ms: pd.DataFrame, label: str) -> str | None:
    """Distinct names of the ``label`` mentions, in order of first mention, joined with ' | '."""
    seen: dict[str, None] = {}
    for name, text in zip(
        ms.loc[ms["label"] == label, "name"], ms.loc[ms["label"] == label, "text"], strict=True
    ):
        key = _str(name) or _str(text)
        if key:
            seen.setdefault(key, None)
    return SEPARATOR.join(seen) or None


def _doc_themes(weights: pd.DataFrame | None, labels: dict) -> str | None:
    if weights is None or not len(weights):
        return None
    weights = weights.sort_values("rank")
    chosen = [
        labels.get(t)
        for i, (t, w) in enumerate(zip(weights["theme_id"], weights["weight"], strict=True))
        if i < MAX_THEMES and (i == 0 or float(w) >= MIN_THEME_WEIGHT)
    ]
    return SEPARATOR.join(str(c) for c in chosen if c is not None and c is not pd.NA) or None
