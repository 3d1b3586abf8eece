# ruff: noqa: E501  (long regex tables)
"""Rule-based German temporal tagger (dates, times, durations) with TIMEX3-style values.

Two resolution modes:

* ``"news"`` (default, meeting reports): deictic and underspecified expressions ("heute", "im Juli",
  "am 3. November") resolve against the reference (report) date, tense-aware per sentence.
* ``"narrative"`` (history texts such as WikiWarsDE): underspecified expressions resolve against the
  last mentioned date in the text, "heute" becomes ``PRESENT_REF``.

Anaphoric expressions ("am folgenden Tag", "zwei Tage später") use the last mentioned date in both modes.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

logger = logging.getLogger(__name__)

__all__ = [
    "Timex",
    "tag_dates",
    "extract_dates",
    "find_report_date",
    "evaluate_dates",
    "predict_folder",
    "DatesComponent",
]


@dataclass(frozen=True)
class Timex:
    """One temporal expression: char offsets, surface text, type and TIMEX3 value."""

    start: int
    end: int
    text: str
    type: str  # DATE | TIME | DURATION | SET
    value: str


# --------------------------------------------------------------------------- lexicon

MONTHS: dict[str, int] = {
    "januar": 1,
    "jänner": 1,
    "jan": 1,
    "februar": 2,
    "feber": 2,
    "feb": 2,
    "märz": 3,
    "mär": 3,
    "mrz": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
}
MONTH_RE = (
    r"(?:Januar|Jänner|Februar|Feber|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
    r"|(?:Jan|Feb|Mär|Mrz|Apr|Jun|Jul|Aug|Sept|Sep|Okt|Nov|Dez)\.)"
)
WEEKDAYS: dict[str, int] = {
    "montag": 0,
    "dienstag": 1,
    "mittwoch": 2,
    "donnerstag": 3,
    "freitag": 4,
    "samstag": 5,
    "sonnabend": 5,
    "sonntag": 6,
}
WEEKDAY_RE = r"(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag)"
NUMBERS: dict[str, float] = {
    "ein": 1,
    "eine": 1,
    "einen": 1,
    "einem": 1,
    "einer": 1,
    "eines": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
    "zwanzig": 20,
    "dreißig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "sechzig": 60,
    "hundert": 100,
    "anderthalb": 1.5,
    "eineinhalb": 1.5,
    "zweieinhalb": 2.5,
    "beiden": 2,
    "beide": 2,
}
VAGUE_NUM = r"(?:wenige[nr]?|einige[nr]?|mehrere[nr]?|ein\s+paar|etliche[nr]?)"
NUM_WORD_RE = "|".join(sorted(NUMBERS, key=len, reverse=True))
NUM_RE = rf"(?:(?<![\d.,])\d{{1,3}}(?![\d.,]\d)|(?i:{NUM_WORD_RE})|(?i:{VAGUE_NUM}))"
UNIT_RE = r"(?:Tag|Woche|Monat|Jahr|Stunde|Minute|Jahrzehnt|Jahrhundert)"
UNIT_CODE = {
    "tag": "D",
    "woche": "W",
    "monat": "M",
    "jahr": "Y",
    "stunde": "H",
    "minute": "M",
    "jahrzehnt": "DE",
    "jahrhundert": "CE",
}
SEASONS: dict[str, str] = {"frühjahr": "SP", "frühling": "SP", "sommer": "SU", "herbst": "FA", "winter": "WI"}
SEASON_START = {"SP": 3, "SU": 6, "FA": 9, "WI": 12}
SEASON_RE = (
    r"(?:(?:Früh|Spät|Hoch)(?:sommer|herbst|winter)|Sommer|Herbst|Winter|Frühjahr|Frühling)(?:e?s)?"
    r"(?![a-zäöüß])"
)
MOD_RE = r"(?:(?:[Gg]egen|[Uu]ngefähr|[Ee]twa)\s+)?(?:Anfang|Mitte|Ende|Beginn|Ausgang)"
YEAR4 = r"(?:1\d{3}|20\d{2})"
DAY_RE = r"(?:0?[1-9]|[12]\d|3[01])"
YREL_RE = (
    r"(?:desselben\s+Jahres|des\s+(?:selben|gleichen|folgenden|nächsten|darauffolgenden|vorigen|"
    r"vorangegangenen|vergangenen|letzten|laufenden)\s+Jahres|des\s+Jahres(?!\s+\d)"
    r"|(?:vorigen|vergangenen|letzten|nächsten|kommenden|laufenden|dieses)\s+Jahres)"
)
POD_CODE = {
    "morgen": "MO",
    "morgenstunden": "MO",
    "vormittag": "MO",
    "mittag": "MI",
    "nachmittag": "AF",
    "abend": "EV",
    "mitternacht": "MI",
    "abendstunden": "EV",
    "nacht": "NI",
    "früh": "MO",
    "morgens": "MO",
    "vormittags": "MO",
    "nachmittags": "AF",
    "abends": "EV",
    "nachts": "NI",
}
POD_RE = r"(?:Morgenstunden|Morgen|Vormittag|Mittag|Nachmittag|Abendstunden|Abend|Nacht)"
NOT_YEAR_AFTER = re.compile(
    r"\s*(?:Euro|EUR|€|\$|Dollar|Mark|Reichsmark|Rubel|Pfund|Franken|Lira|Prozent|%|km|m|kg|t|ha|"
    r"Tonnen|Mann|Menschen|Personen|Soldaten|Einwohner\w*|Teilnehm\w*|Tote\w*|Opfer\w*|Verwundete\w*|"
    r"Gefangene\w*|Flugzeuge\w*|Panzer\w*|Schiffe\w*|Geschütze\w*|Kilometer\w*|Meter\w*|Stück|Stunden|"
    r"Minuten|Tage\w*|Wochen|Monate\w*|Jahre\w*|Männer\w*|Frauen|Kinder\w*|Zivilisten|Kämpfer\w*|"
    r"Mitglieder\w*|Stimmen|Plätze\w*|Seiten|Einheiten|Divisionen|Truppen|Offiziere\w*|Kanonen|"
    r"Fahrzeuge\w*|Meilen|Fuß|Besucher\w*|Gäste\w*|Beschäftigte\w*|Mitarbeiter\w*|Exemplare\w*)(?![\wäöü])"
)
NOT_YEAR_BEFORE = re.compile(
    r"(?:etwa|rund|über|ca\.|circa|knapp|insgesamt|fast|mehr\s+als|weniger\s+als|bis\s+zu|Nr\.|Nummer|"
    r"§|Seite|S\.|Tel\.?|PLZ|Artikel|Art\.|Paragraph|Zimmer|Raum|Haus|Str\.|straße|gasse|weg|platz|"
    r"von\s+über|nur|zusammen|weitere|aus|mit|statt\s+von)\s*$"
)

# --------------------------------------------------------------------------- tense cues

FUTURE_CUES = re.compile(
    r"\b(?:wird|werden|wirst|werde|soll|sollen|sollte|sollten|wollen|will|möchten|möchte|plant|planen|"
    r"geplant|vorgesehen|findet|finden\s+\w+(?:\s+\w+)?\s+statt|beginnt|startet|erscheint|"
    r"nächste\w*|kommende\w*|künftig\w*|zukünftig\w*|demnächst|bald|anstehende\w*|"
    r"bevorstehende\w*|folgt|freuen\s+uns\s+auf|bereits\s+wieder|schon\s+wieder|wieder\s+\w*zu\w+en|"
    r"geht\s+es\s+weiter|ist\s+geplant|\w{2,}zu(?!nächst)\w{3,}en|vor,?.*\bzu\s+\w+en)\b",
    re.IGNORECASE,
)
PAST_CUES = re.compile(
    r"\b(?:war|waren|warst|wurde|wurden|fand|fanden|traf|trafen|hatte|hatten|erinnerten|erinnerte|gab|"
    r"kam|kamen|ging|gingen|stand|standen|konnte|konnten|sagte|sagten|begann|begannen|zeigte|zeigten|"
    # common preterites of meeting reports (strong and weak verbs)
    r"entstand|entstanden|beschloss|beschlossen|besprach|besprachen|sprach|sprachen|nahm|nahmen|lud|luden|"
    r"bot|boten|hielt|hielten|ließ|ließen|lag|lagen|rief|riefen|schrieb|schrieben|trat|traten|verlief|"
    r"verliefen|lief|liefen|zog|zogen|sah|sahen|blieb|blieben|beriet|berieten|entschied|entschieden|"
    r"erschien|erschienen|bat|baten|brachte|brachten|berichtete|berichteten|erklärte|erklärten|stellte|"
    r"stellten|legte|legten|machte|machten|meldete|meldeten|betonte|betonten|dankte|dankten|startete|"
    r"starteten|endete|endeten|tagte|tagten|besuchte|besuchten|eröffnete|eröffneten|diskutierte|"
    r"diskutierten|informierte|präsentierte|präsentierten|organisierte|moderierte|tauschten|arbeiteten|"
    r"erarbeiteten|sammelten|fragte|fragten|wählte|wählten|führte|führten|feierte|feierten|einigten|"
    r"vergangen\w*|zuletzt|bereits|damals|letzte[nmrs]?|"
    r"(?:hat|haben|habe|hatten|ist|sind|bin|waren)\b.*\bge\w+(?:t|en)|\w*ge\w+(?:t|en)\s+(?:hat|haben|hatte|hatten))\b",
    re.IGNORECASE,
)
# A preposition right before the expression fixes its direction: "aus dem Juli", "seit dem Frühjahr"
# look back; "bis Ende Mai", "spätestens im Juni" set a deadline, which lies ahead unless the sentence is past.
PAST_PREP = re.compile(r"(?:\b(?:aus|seit|Seit)(?:\s+(?:dem|den))?|\bvom)\s+$")
DEADLINE = re.compile(r"\b(?:[Bb]is|[Ss]pätestens)(?:\s+(?:zum|zur|im|in\s+de[nrm]|Ende|Anfang|Mitte))?\s+$")
SUBORDINATE = re.compile(r"\s*(?:dass|damit|sodass|so\s+dass|um)\b", re.IGNORECASE)
# Main-clause verbs of agreement and intention: a cue-less dass-clause under them lies ahead.
AGREEMENT = re.compile(
    r"\b(?:vereinbar\w*|beschlossen|beschließ\w*|verabrede\w*|festgelegt|zugesagt|angekündigt|"
    r"vorgeschlagen|gebeten|aufgefordert|verständig\w*|geeinigt|einig|Ziel|Auftrag|Aufgabe|verpflicht\w*|"
    r"wünsch\w*|hoff\w*|erwarte\w*)\b",
    re.IGNORECASE,
)


def _tense(text: str, start: int, end: int) -> str:
    """Return 'past', 'future' or '' for the expression at [start, end).

    The clause holding the expression decides first: a preposition right before it ("aus dem", "seit",
    "vom" look back), then tense cues in the clause. A cue-less clause: a deadline ("bis Ende Mai") lies
    ahead unless the rest of the sentence is past; a cue-less dass-clause is not dominated by a past
    auxiliary of its main clause ("Vereinbart wurde, dass ... bis Ende Mai ... erstellen") and lies ahead
    under verbs of agreement; otherwise the cues of the whole sentence decide.
    """
    s0 = _sentence_start(text, start)
    s1 = _sentence_end(text, end)
    c0 = max(text.rfind(",", s0, start), text.rfind(";", s0, start), s0 - 1) + 1
    c_end = [p for p in (text.find(",", end, s1), text.find(";", end, s1)) if p != -1]
    c1 = min(c_end) if c_end else s1
    before = text[max(c0, start - 24) : start]
    if PAST_PREP.search(before) and not re.search(r"\bbis\b|[–-]", text[start : end + 6]):
        return "past"
    clause = text[c0:start] + " " + text[end:c1]
    if FUTURE_CUES.search(clause):
        return "future"
    if PAST_CUES.search(clause):
        return "past"
    rest = text[s0:c0] + " " + text[c1:s1]
    deadline = DEADLINE.search(before) is not None
    if SUBORDINATE.match(text, c0):
        if deadline or AGREEMENT.search(rest) or FUTURE_CUES.search(rest):
            return "future"
        return ""
    if FUTURE_CUES.search(rest):
        return "future"
    if PAST_CUES.search(rest):
        return "past"
    return "future" if deadline else ""


_SENT_END = re.compile(r"(?<=[a-zäöüß)\]\"“”»])[.!?](?=\s+[A-ZÄÖÜ\"„»(])|\n\s*\n|\n")


@lru_cache(maxsize=8)
def _sentence_bounds(text: str) -> tuple[list[int], list[int]]:
    """(starts of sentence-end marks, starts of the following sentences), computed once per text."""
    marks, starts = [], []
    for m in _SENT_END.finditer(text):
        marks.append(m.start())
        starts.append(m.end())
    return marks, starts


def _sentence_start(text: str, pos: int) -> int:
    starts = _sentence_bounds(text)[1]
    i = bisect.bisect_right(starts, pos) - 1
    return starts[i] if i >= 0 else 0


def _sentence_end(text: str, pos: int) -> int:
    marks = _sentence_bounds(text)[0]
    i = bisect.bisect_left(marks, pos)
    return marks[i] + 1 if i < len(marks) else len(text)


# --------------------------------------------------------------------------- value helpers


def _fy(y: int) -> str:
    return f"BC{-y:04d}" if y < 0 else f"{y:04d}"


def _fmt(y: int | None, m: int | None = None, d: int | None = None) -> str:
    ys = "XXXX" if y is None else _fy(y)
    if m is None:
        return ys
    if d is None:
        return f"{ys}-{m:02d}"
    return f"{ys}-{m:02d}-{d:02d}"


def _safe_date(y: int, m: int, d: int) -> datetime.date | None:
    try:
        return datetime.date(y, m, d)
    except ValueError:
        return None


def _week(d: datetime.date) -> str:
    iso = d.isocalendar()
    return f"{iso[0]:04d}-W{iso[1]:02d}"


def _add_months(y: int, m: int, n: int) -> tuple[int, int]:
    idx = y * 12 + (m - 1) + n
    return idx // 12, idx % 12 + 1


def _num(s: str) -> float | None:
    s = re.sub(r"\s+", " ", s.lower())
    if s.isdigit():
        return int(s)
    if s in NUMBERS:
        return NUMBERS[s]
    return None  # vague


def _month(s: str) -> int:
    return MONTHS[s.lower().rstrip(".")]


def _easter(y: int) -> datetime.date:
    a, b, c = y % 19, y // 100, y % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return datetime.date(y, month, day + 1)


# --------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    text: str
    ref: datetime.date | None
    mode: str
    anchor: tuple[int, int | None, int | None] | None = None  # last mentioned (y, m, d)
    sentence_date: str | None = None  # full date mentioned earlier in the current sentence
    last_day: str | None = None  # last mentioned full date (YYYY-MM-DD)
    sentence_no: int = 0  # running number of the sentence being tagged
    last_day_no: int = -10  # the sentence last_day was mentioned in
    sentence_year: tuple[int, int] | None = None  # (year, end offset): explicit year earlier in the sentence

    def clause_year(self, pos: int) -> int | None:
        """The explicit year stated earlier in the same clause as ``pos`` (no comma or semicolon between)."""
        if self.sentence_year is None:
            return None
        y, end = self.sentence_year
        between = self.text[end:pos]
        return None if ("," in between or ";" in between) else y

    def base_year(self) -> int | None:
        if self.mode == "news" and self.ref is not None:
            return self.ref.year
        if self.anchor is not None:
            return self.anchor[0]
        return self.ref.year if self.ref is not None else None

    def anchor_date(self) -> datetime.date | None:
        if self.anchor and self.anchor[1] and self.anchor[2] and self.anchor[0] > 0:
            return _safe_date(self.anchor[0], self.anchor[1], self.anchor[2])
        if self.anchor is None and self.ref is not None:
            return self.ref
        return None

    def current_day(self) -> datetime.date | None:
        """News mode: the day being talked about: a full date earlier in the sentence, else the last
        mentioned full date, else the reference date."""
        for value in (self.sentence_date, self.last_day):
            d = _as_date(value)
            if d is not None:
                return d
        return self.ref

    def deictic_date(self) -> datetime.date | None:
        """Date for deictic words (heute, gestern): ref in news mode, anchor date in narrative mode."""
        if self.mode == "news" and self.ref is not None:
            return self.ref
        return self.anchor_date() if self.mode == "narrative" else None

    def update(self, value: str) -> None:
        m = re.match(r"^(BC)?(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value)
        if not m:
            return
        y = int(m.group(2)) * (-1 if m.group(1) else 1)
        self.anchor = (y, int(m.group(3)) if m.group(3) else None, int(m.group(4)) if m.group(4) else None)


NEAR_DAYS = 31
"""A day and month without a year within this many days of the report's date are in the nearest year…"""
NEAR_ANY_TENSE = 14
"""… unless the tense points the other way and the day is more than this many days off."""


def _resolve_year_for(ctx: _Ctx, month: int, day: int | None, start: int, end: int) -> int | None:
    """Year for a day/month without year: tense-aware against ref (news) or the anchor year (narrative).

    In news mode an explicit year mentioned earlier in the same sentence wins ("Für das Jahr 2022 plant
    der Beirat eine Fachtagung im Herbst").
    """
    if ctx.mode == "news" and ctx.ref is not None:
        if (y := ctx.clause_year(start)) is not None:
            return y
        ref = ctx.ref
        tense = _tense(ctx.text, start, end)
        if day is not None:
            # a day within a month of the report's is that one ("9. Dezember" in a report of late
            # November), and within two weeks whatever the tense ("die Rennen vom 18. und 19. Dezember
            # wurden verlegt" in a report of 16 December); further ahead, a past tense wins
            near = [
                (abs(delta), d.year, delta)
                for y in (ref.year - 1, ref.year, ref.year + 1)
                if (d := _safe_date(y, month, day)) is not None and (delta := (d - ref).days) is not None
            ]
            _, year, delta = min(near) if near else (0, None, 0)
            if (
                year is not None
                and abs(delta) <= NEAR_DAYS
                and not (
                    (tense == "past" and delta > NEAR_ANY_TENSE)
                    or (tense == "future" and delta < -NEAR_ANY_TENSE)
                )
            ):
                return year
        key, rkey = (month, day or 0), (ref.month, ref.day if day else 0)
        if tense == "past" and key > rkey:
            return ref.year - 1
        if tense == "future" and key < rkey:
            return ref.year + 1
        return ref.year
    return ctx.base_year()


def _resolve_season_year(ctx: _Ctx, code: str, start: int, end: int) -> int | None:
    if ctx.mode == "news" and ctx.ref is not None:
        if (y := ctx.clause_year(start)) is not None:
            return y
        ref = ctx.ref
        tense = _tense(ctx.text, start, end)
        sm = SEASON_START[code]
        cur = ref.month if ref.month != 12 or code == "WI" else ref.month
        if tense == "past" and sm > cur:
            return ref.year - 1
        if tense == "future" and sm + 2 < cur:
            return ref.year + 1
        return ref.year
    return ctx.base_year()


# --------------------------------------------------------------------------- patterns

Resolver = Callable[[re.Match[str], _Ctx], list[tuple[int, int, str, str]]]


@dataclass
class _Pattern:
    name: str
    regex: re.Pattern[str]
    resolve: Resolver
    ok: Callable[[re.Match[str], str], bool] | None = None
    trigger: str | None = None  # key of TRIGGERS: every match contains such a word (None: scan all)


def _one(m: re.Match[str], typ: str, value: str | None) -> list[tuple[int, int, str, str]]:
    return [] if value is None else [(m.start(), m.end(), typ, value)]


def _year_of(m: re.Match[str], ctx: _Ctx, month: int, day: int | None, g: str = "y") -> int | None:
    ys = m.groupdict().get(g)
    if ys:
        if len(ys) == 2:
            base = ctx.base_year() or (ctx.ref.year if ctx.ref else 2000)
            century = base // 100 * 100
            y = century + int(ys)
            if ctx.mode == "news" and y > base + 10:
                y -= 100
            return y
        return int(ys)
    yrel = m.groupdict().get("yrel")
    if yrel:
        if (
            ctx.mode == "news"
            and ctx.ref is not None
            and re.match(r"(?:des\s+)?(?:nächst|kommend|letzt|vergangen|vorig|dies|laufend)", yrel)
        ):
            # deictic in news: "August vorigen Jahres" is the report's year - 1
            base: int | None = ctx.ref.year
        else:
            base = ctx.anchor[0] if ctx.anchor else ctx.base_year()
        if base is None:
            return None
        if re.search(r"folgenden|nächsten|kommenden|darauffolgenden|neuen", yrel):
            return base + 1
        if re.search(r"vorigen|vorangegangenen|vergangenen|letzten", yrel):
            return base - 1
        return base
    return _resolve_year_for(ctx, month, day, m.start(), m.end())


def _r_day_month(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    month = _month(m["mon"]) if m.groupdict().get("mon") else int(m["m"])
    day = int(m["d"])
    y = _year_of(m, ctx, month, day)
    if _safe_date(y if y and y > 0 else 2000, month, day) is None:
        return []
    val = _fmt(y, month, day)
    pod = m.groupdict().get("pod")
    if pod:
        val += "T" + POD_CODE[pod.lower()]
    return _one(m, "DATE", val)


def _r_iso(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    if _safe_date(int(m["y"]), int(m["m"]), int(m["d"])) is None:
        return []
    return _one(m, "DATE", f"{m['y']}-{m['m']}-{m['d']}")


def _month_year_after(text: str, pos: int) -> tuple[int, str | None] | None:
    mm = re.compile(rf"[^.]{{0,40}}?\b{DAY_RE}\.\s*(?P<mon>{MONTH_RE})(?:\s+(?P<y>{YEAR4})(?!\d))?").match(
        text, pos
    )
    if not mm:
        return None
    return _month(mm["mon"]), mm["y"]


def _r_day_range(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    month = _month(m["mon"])
    d1, d2 = int(m["d1"]), int(m["d2"])
    y = _year_of(m, ctx, month, d2)
    return [
        (m.start("d1"), m.end("d1") + 1, "DATE", _fmt(y, month, d1)),
        (m.start("d2"), m.end(), "DATE", _fmt(y, month, d2)),
    ]


def _r_day_month_range(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    y = int(m["y"])
    return [
        (m.start("d1"), m.end("mon1"), "DATE", _fmt(y, _month(m["mon1"]), int(m["d1"]))),
        (m.start("d2"), m.end(), "DATE", _fmt(y, _month(m["mon2"]), int(m["d2"]))),
    ]


def _r_month_range(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    y = int(m["y"])
    return [
        (m.start("mon1"), m.end("mon1"), "DATE", _fmt(y, _month(m["mon1"]))),
        (m.start("mon2"), m.end(), "DATE", _fmt(y, _month(m["mon2"]))),
    ]


def _r_year_range2(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    y1 = int(m["y1"])
    y2 = y1 // 100 * 100 + int(m["y2"])
    if y2 <= y1:
        return []
    return [(m.start("y1"), m.end("y1"), "DATE", str(y1)), (m.start("y2"), m.end("y2"), "DATE", str(y2))]


def _r_night_of(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    nxt = _month_year_after(ctx.text, m.end())
    day = int(m["d"])
    if nxt is None:
        if ctx.anchor and ctx.anchor[1]:
            return _one(m, "DATE", _fmt(ctx.anchor[0], ctx.anchor[1], day) + "TNI")
        return []
    month, ys = nxt
    y = int(ys) if ys else _resolve_year_for(ctx, month, day, m.start(), m.end())
    return _one(m, "DATE", _fmt(y, month, day) + "TNI")


def _r_month_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    month = _month(m["mon"])
    return _one(m, "DATE", _fmt(_year_of(m, ctx, month, None), month))


def _r_month(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    month = _month(m["mon"])
    y = _resolve_year_for(ctx, month, None, m.start(), m.end())
    return _one(m, "DATE", _fmt(y, month))


def _ok_month(m: re.Match[str], text: str) -> bool:
    mon = m["mon"]
    after = text[m.end() : m.end() + 30]
    if mon in ("August", "Mai", "Juli", "Juni") and re.match(r"\s+(?:von\s+)?[A-ZÄÖÜ][a-zäöüß]+", after):
        # "August Bebel", "August von Mackensen": a name unless followed by a year or date word
        return bool(re.match(rf"\s+(?:{YEAR4}|des|desselben|bis|und)\b", after))
    before = text[max(0, m.start() - 12) : m.start()]
    if re.search(r"\d\.?\s*$", before):  # part of a numeric expression not matched as a date
        return False
    return True


def _r_season(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    word = m["s"].lower()
    word = re.sub(r"^(?:früh|spät|hoch)(?=sommer|herbst|winter)", "", word)
    word = re.sub(r"e?s$", "", word) if word not in SEASONS else word
    code = SEASONS.get(word)
    if code is None:
        return []
    if m.groupdict().get("y") or m.groupdict().get("yrel"):
        y = _year_of(m, ctx, SEASON_START[code], None)
    else:
        y = _resolve_season_year(ctx, code, m.start(), m.end())
    return _one(m, "DATE", f"{_fy(y) if y is not None else 'XXXX'}-{code}")


def _ok_bare_year(m: re.Match[str], text: str) -> bool:
    if m.groupdict().get("mod") or m.groupdict().get("jahr"):
        return True
    s, e = m.start("y"), m.end("y")
    if s > 0 and text[s - 1] in ".,:/#+-" and not re.search(r"\d{4}[-–/]$", text[max(0, s - 6) : s]):
        return False
    if re.search(
        r"(?<![\d.])\d{1,3}(?:\.\d{3})*\s+[^\d.;]{0,30}\b(?:und|oder)\s*$", text[max(0, s - 45) : s]
    ):
        return False  # "34 Schiffe und 1370 Landungsboote"
    if re.match(r"(?:[.,:]\d|er\b|er-)", text[e : e + 4]):
        return False
    if NOT_YEAR_AFTER.match(text, e):
        return False
    if NOT_YEAR_BEFORE.search(text[max(0, s - 16) : s]):
        return False
    return True


def _r_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    # "das Jahr 1864": the article is not part of the expression (TIMEX convention, as in WikiWarsDE)
    art = re.match(r"[Dd]as\s+", m.group(0))
    return [(m.start() + (art.end() if art else 0), m.end(), "DATE", m["y"])]


def _r_slash_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    prev = int(m["prev"])
    ys = m["y"]
    y = int(ys) if len(ys) == 4 else prev // 100 * 100 + int(ys)
    if not 0 < y - prev <= 10:
        return []
    return [(m.start("y"), m.end("y"), "DATE", str(y))]


def _r_bc_range(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    return [
        (m.start("y1"), m.end("y1"), "DATE", f"BC{int(m['y1']):04d}"),
        (m.start("y2"), m.end(), "DATE", f"BC{int(m['y2']):04d}"),
    ]


def _r_pod_anchor(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    """'am Abend', 'nachts': part of the day being talked about (news: the last mentioned day, else ref)."""
    base = ctx.anchor_date() if ctx.mode == "narrative" else ctx.current_day()
    if base is None:
        return []
    pod = m["pod"].lower()
    if pod == "mitternacht":
        return _one(m, "TIME", base.isoformat() + "T24:00")
    return _one(m, "DATE", base.isoformat() + "T" + POD_CODE[pod])


def _r_bc_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    return _one(m, "DATE", f"BC{int(m['y']):04d}")


def _r_bare_bc_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    if not (ctx.anchor and ctx.anchor[0] < 0 and ctx.mode == "narrative"):
        return []
    y = int(m["y"])
    if abs(y - (-ctx.anchor[0])) > 150:
        return []
    return _one(m, "DATE", f"BC{y:04d}")


def _r_century(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    c = int(m["c"]) - 1
    return _one(m, "DATE", f"BC{c:02d}" if m["bc"] else f"{c:02d}")


def _r_decade(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    dec = m["dec"]
    if len(dec) == 4:
        return _one(m, "DATE", dec[:3])
    base = ctx.base_year() or 1990
    if ctx.mode == "news":
        century = 20 if dec in ("00", "10") else 19
    else:
        century = base // 100
    return _one(m, "DATE", f"{century:02d}{dec[0]}")


def _r_kw(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = int(m["w"])
    if not 1 <= w <= 53:
        return []
    y = int(m["y"]) if m["y"] else ctx.base_year()
    return _one(m, "DATE", f"{_fy(y) if y else 'XXXX'}-W{w:02d}")


def _r_rel_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = m.group(0).lower()
    # "Vorjahr" in news is the year before the report's (KRAUTS, HeidelTime's news mode), not before the
    # last year named; narrative text keeps the anchor
    deictic = re.search(r"nächst|kommend|letzt|vergangen|vorig|dies|laufend|vorjahr", w) is not None
    if ctx.mode == "news" and ctx.ref is not None and deictic:
        base = ctx.ref.year
    else:
        base = ctx.anchor[0] if ctx.anchor else (ctx.ref.year if ctx.ref else None)
    if base is None:
        return _one(m, "DATE", "XXXX")
    if re.search(r"nächst|kommend|folge|darauf|neue", w):
        base += 1
    elif re.search(r"letzt|vergangen|vorig|vorjahr|vorangegangen|zuvor", w):
        base -= 1
    return _one(m, "DATE", _fy(base))


def _r_rel_month(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = m.group(0).lower()
    deictic = re.search(r"nächst|kommend|letzt|vergangen|vorig|dies|laufend", w) is not None
    if ctx.mode == "news" and ctx.ref is not None and deictic:
        y, mo = ctx.ref.year, ctx.ref.month
    elif ctx.anchor and ctx.anchor[1]:
        y, mo = ctx.anchor[0], ctx.anchor[1]
    elif ctx.ref is not None:
        y, mo = ctx.ref.year, ctx.ref.month
    else:
        return []
    if re.search(r"nächst|kommend|folge|darauf", w):
        y, mo = _add_months(y, mo, 1)
    elif re.search(r"letzt|vergangen|vorig|vormonat", w):
        y, mo = _add_months(y, mo, -1)
    return _one(m, "DATE", _fmt(y, mo))


def _r_rel_week(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = m.group(0).lower()
    base = ctx.ref if (ctx.mode == "news" and ctx.ref) else ctx.anchor_date()
    if base is None:
        return []
    if re.search(r"nächst|kommend|folge", w):
        base += datetime.timedelta(weeks=1)
    elif re.search(r"letzt|vergangen|vorig", w):
        base -= datetime.timedelta(weeks=1)
    return _one(m, "DATE", _week(base))


def _r_rel_day(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = m.group(0).lower()
    base = ctx.anchor_date()
    if base is None:
        return []
    if re.search(r"folge|nächst|darauf|danach", w):
        base += datetime.timedelta(days=1)
    elif re.search(r"vortag|vorherig|vorig|zuvor|vorher", w):
        base -= datetime.timedelta(days=1)
    val = base.isoformat()
    pod = m.groupdict().get("pod")
    if pod:
        val += "T" + POD_CODE[pod.lower()]
    return _one(m, "DATE", val)


DEICTIC_DAYS = {"heute": 0, "gestern": -1, "vorgestern": -2, "morgen": 1, "übermorgen": 2}


# "heute" as "nowadays" (TIMEX3 PRESENT_REF), not the report's day: set against the past ("damals …,
# heute"), in the conditional ("heute würde"), in "wie wir heute wissen", "bis heute", "noch heute"
_NOWADAYS = re.compile(
    r"(?i)\b(?:damals|früher|einst|seinerzeit|ehemals|würden?|wären?|könnten?|hätten?|müssten?|sollten?"
    r"|heutzutage|inzwischen|mittlerweile|längst|immer\s+(?:noch|mehr|weniger)|nicht\s+mehr)\b"
    r"|\bwie\s+(?:wir|man)\s+heute\b|\b(?:noch|schon|auch)\s+heute\b|\bheute\s+noch\b"
    r"|\b(?:1[0-9]|20)\d0er\b|\b(?:1[5-9]\d\d)\b"
)
# … but the day when the sentence ties it to the clock or to other days
_TODAY = re.compile(
    r"(?i)\bheute\s+(?:ab|um|von|bis|zwischen|\d|abend|morgen|nachmittag|vormittag|mittag|früh|nacht)"
    r"|\bUhr\b|\b(?:gestern|morgen|übermorgen|vorgestern)\b|\bheute\s+und\s+morgen"
)


def _nowadays(ctx: _Ctx, m: re.Match[str]) -> bool:
    """Whether "heute" at ``m`` means "nowadays": its sentence sets it against the past or the conditional
    and does not tie it to the clock or to neighbouring days (news mode; KRAUTS dev)."""
    start, end = _sentence_start(ctx.text, m.start()), _sentence_end(ctx.text, m.end())
    sentence = ctx.text[start:end]
    return not _TODAY.search(sentence) and bool(_NOWADAYS.search(sentence))


def _r_deictic_day(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = m.group(0).lower()
    if ctx.mode == "news" and w == "heute" and _nowadays(ctx, m):
        return _one(m, "DATE", "PRESENT_REF")
    if ctx.mode == "news" and ctx.ref is not None:
        return _one(m, "DATE", (ctx.ref + datetime.timedelta(days=DEICTIC_DAYS[w])).isoformat())
    if w == "heute" and ctx.mode == "narrative":
        return _one(m, "DATE", "PRESENT_REF")
    return []


def _r_this_year(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    """ "heuer" (Austrian, Bavarian and South Tyrolean German: this year): the reference date's year."""
    day = ctx.deictic_date()
    return _one(m, "DATE", _fy(day.year)) if day is not None else []


def _r_ref(value: str) -> Resolver:
    def resolve(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
        return _one(m, "DATE", value)

    return resolve


def _shift(ctx: _Ctx, base: datetime.date | None, n: float, unit: str, sign: int) -> str | None:
    if base is None:
        return None
    u = UNIT_CODE[unit.lower()]
    k = int(n) * sign
    if u == "D":
        return (base + datetime.timedelta(days=k)).isoformat()
    if u == "W":
        if ctx.mode == "narrative" or getattr(ctx, "_anaphoric", False):
            return (base + datetime.timedelta(weeks=k)).isoformat()
        return _week(base + datetime.timedelta(weeks=k))
    if u == "M" and unit.lower() == "monat":
        y, mo = _add_months(base.year, base.month, k)
        return _fmt(y, mo)
    if u == "Y":
        return _fy(base.year + k)
    return None


def _anchor_or_year(ctx: _Ctx) -> datetime.date | None:
    d = ctx.anchor_date()
    if d is None and ctx.anchor and ctx.anchor[0] > 0:
        d = datetime.date(ctx.anchor[0], ctx.anchor[1] or 7, 1)
    return d


def _r_offset_after(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    """'zwei Tage später', 'drei Jahre zuvor': shift from the last mentioned date."""
    n = _num(m["n"])
    sign = -1 if re.match(r"zuvor|vorher|früher", m["dir"]) else 1
    if n is None or n != int(n):
        return _one(m, "DATE", "PAST_REF" if sign < 0 else "FUTURE_REF")
    base = _anchor_or_year(ctx)
    if base is None and ctx.ref is not None:
        base = ctx.ref
    ctx._anaphoric = True  # type: ignore[attr-defined]
    try:
        return _one(m, "DATE", _shift(ctx, base, n, m["u"], sign))
    finally:
        ctx._anaphoric = False  # type: ignore[attr-defined]


def _r_offset_before(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    """'vor zwei Wochen', 'in drei Tagen' (deictic), 'nach zwei Tagen' (anaphoric)."""
    n = _num(m["n"])
    p = m["p"].lower()
    if n is None or n != int(n):
        return []
    if p == "nach":
        base = _anchor_or_year(ctx) or ctx.ref
        return _one(m, "DATE", _shift(ctx, base, n, m["u"], 1))
    base = ctx.ref if ctx.mode == "news" else ctx.anchor_date()
    return _one(m, "DATE", _shift(ctx, base, n, m["u"], -1 if p == "vor" else 1))


_COMPOUND_REST = re.compile(
    rf"\s+und\s+(?P<n>{NUM_RE})\s+(?P<u>Monat|Woche|Tag|Stunde|Minute)(?:e|en|n|es|s)?(?![\wäöüÄÖÜß])"
)
_UNIT_ORDER = ("jahr", "monat", "woche", "tag", "stunde", "minute")


def _r_duration(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    n = _num(m["n"])
    unit = m["u"].lower()
    u = UNIT_CODE[unit]
    t = "T" if unit in ("stunde", "minute") else ""
    rest = _COMPOUND_REST.match(ctx.text, m.end())
    if n is not None and n == int(n) and rest and unit in _UNIT_ORDER:
        # "drei Jahre und vier Monate" (P3Y4M), "zwei Stunden und 20 Minuten" (PT2H20M): one duration
        n2, unit2 = _num(rest["n"]), rest["u"].lower()
        if n2 is not None and n2 == int(n2) and _UNIT_ORDER.index(unit2) > _UNIT_ORDER.index(unit):
            time_part = unit2 in ("stunde", "minute")
            if time_part == (unit in ("stunde", "minute")):  # within the date part or the time part
                u2 = UNIT_CODE[unit2]
                return [(m.start(), rest.end(), "DURATION", f"P{t}{int(n)}{u}{int(n2)}{u2}")]
    if n is None:
        return _one(m, "DURATION", f"P{t}X{u}")
    if n != int(n):
        if u == "Y":
            return _one(m, "DURATION", f"P{int(n)}Y{round((n - int(n)) * 12)}M")
        if u == "H":
            return _one(m, "DURATION", f"PT{int(n)}H{round((n - int(n)) * 60)}M")
        return _one(m, "DURATION", f"P{t}{n:g}{u}")
    return _one(m, "DURATION", f"P{t}{int(n)}{u}")


def _r_duration_adj(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    stem = m["n"].lower()
    u = {"tägig": "D", "wöchig": "W", "monatig": "M", "jährig": "Y", "stündig": "H"}[m["u"].lower()]
    t = "T" if u == "H" else ""
    if stem in ("mehr", "viel", "lang"):
        return _one(m, "DURATION", f"P{t}X{u}")
    if stem == "ganz":
        return _one(m, "DURATION", f"P1{u}")
    n = NUMBERS.get(stem) or NUMBERS.get(stem + "e")
    if n is None:
        return []
    return _one(m, "DURATION", f"P{t}{n:g}{u}")


def _r_time(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    h = int(m["h"])
    mi = int(m["mi"] or m["mi2"] or 0)
    if h > 24:
        return []
    pod = (m["pod"] or "").lower()
    if pod in ("abends", "nachmittags", "nachts") and h < 12 and not (pod == "nachts" and h < 6):
        h += 12
    return _one(m, "TIME", _time_value(ctx, h, mi))


def _as_date(value: str | None) -> datetime.date | None:
    """The date a full date value (YYYY-MM-DD…) names; None for anything else."""
    if value is None or not value[:1].isdigit():
        return None
    return _safe_date(*map(int, value[:10].split("-")))


def _time_value(ctx: _Ctx, h: int, mi: int) -> str:
    """Clock time on the date of its sentence, else (news) the last mentioned day or the report date,
    (narrative) the last date."""
    ds = ctx.sentence_date
    if ds is None:
        if ctx.mode == "news" and ctx.ref is not None:
            # the day of the sentence before ("Am 3. November trafen sie sich. Es begann um 18 Uhr."), else
            # the report's day: a time further on is not tied to a day named sentences ago (KRAUTS dev:
            # values right 334 -> 356 of 539; event listings name "am morgigen Sonntag" once)
            recent = _as_date(ctx.last_day) if ctx.sentence_no - ctx.last_day_no <= 1 else None
            ds = (recent or ctx.ref).isoformat()
        elif ctx.anchor and ctx.anchor[1] and ctx.anchor[2]:
            ds = _fmt(*ctx.anchor)
        elif ctx.anchor:
            ds = f"{_fy(ctx.anchor[0])}-XX-XX"
        else:
            ds = "XXXX-XX-XX"
    return f"{ds}T{h:02d}:{mi:02d}"


def _r_time_range(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    """'von 10 bis 16 Uhr', '9–12 Uhr': both ends are times on the same day."""
    h1, h2 = int(m["h1"]), int(m["h2"])
    if h1 > 24 or h2 > 24:
        return []
    return [
        (m.start("h1"), m.end("t1"), "TIME", _time_value(ctx, h1, int(m["mi1"] or 0))),
        (m.start("h2"), m.end(), "TIME", _time_value(ctx, h2, int(m["mi2"] or 0))),
    ]


def _r_holiday(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    w = m["h"].lower()
    if "weihnacht" in w:
        md = (12, 26) if w.startswith("zweit") else (12, 25)
    elif "heilig" in w:
        md = (12, 24)
    elif "silvester" in w:
        md = (12, 31)
    elif "neujahr" in w:
        md = (1, 1)
    else:
        md = None
    y = (
        int(m["y"])
        if m["y"]
        else _resolve_year_for(ctx, (md or (4, 1))[0], (md or (4, 1))[1], m.start(), m.end())
    )
    if y is None:
        return [] if md is None else _one(m, "DATE", _fmt(None, *md))
    if md is None:
        e = _easter(y)
        d = e if w.startswith("oster") else e + datetime.timedelta(days=49)
        md = (d.month, d.day)
    return _one(m, "DATE", _fmt(y, *md))


def _r_set(value: str) -> Resolver:
    def resolve(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
        return _one(m, "SET", value)

    return resolve


def _r_weekday(m: re.Match[str], ctx: _Ctx) -> list[tuple[int, int, str, str]]:
    wd = WEEKDAYS[m["wd"].lower()]
    rel = (m["rel"] or "").lower()
    if ctx.mode == "news" and ctx.ref is not None:
        base = ctx.ref
        tense = (
            "past"
            if re.match(r"vergangen|letzt|vorig", rel)
            else ("future" if re.match(r"kommend|nächst", rel) else _tense(ctx.text, m.start(), m.end()))
        )
    else:
        base = ctx.anchor_date()
        tense = "future" if re.match(r"kommend|nächst|folgend", rel) else ("past" if rel else "")
        if base is None:
            return _one(m, "DATE", f"XXXX-WXX-{wd + 1}")
    diff = wd - base.weekday()
    if diff == 0 and re.search(r"(?i)\bheutigen\s+$", ctx.text[max(0, m.start() - 12) : m.start()]):
        return _one(m, "DATE", base.isoformat())  # "am heutigen Samstag": the report's own day
    if tense == "past":
        diff = diff - 7 if diff >= 0 else diff
    elif tense == "future":
        diff = diff + 7 if diff <= 0 else diff
    elif ctx.mode == "news":
        # a cue-less weekday in a news report is the last such day up to the report's date: reports are
        # published after what they tell ("Sonntag" in a Saturday's report is the Sunday before; KRAUTS dev:
        # values right 322 -> 327 of 539); announcements carry future cues and go ahead above
        diff = diff - 7 if diff > 0 else diff
    else:
        diff = diff - 7 if diff > 3 else (diff + 7 if diff < -3 else diff)
    return _one(m, "DATE", (base + datetime.timedelta(days=diff)).isoformat())


def _p(
    name: str,
    regex: str,
    resolve: Resolver,
    ok: Callable[[re.Match[str], str], bool] | None = None,
    flags: int = 0,
) -> _Pattern:
    return _Pattern(name, re.compile(regex, flags), resolve, ok)


B = r"(?<![\wäöüÄÖÜß])"  # left word boundary (umlaut-aware)
E = r"(?![\wäöüÄÖÜß])"  # right word boundary
WD_PREFIX = rf"(?:{WEEKDAY_RE},?\s+(?:(?:den|dem)\s+)?)?"
POD_PREFIX = rf"(?:(?:(?:frühen|späten)\s+)?(?P<pod>{POD_RE})\s+(?:des|vom)\s+)?"
YEAR_TAIL = rf"(?:\s*,?\s*(?P<y>{YEAR4})(?!\d)|\s+(?P<yrel>{YREL_RE}))?"
LB_DATE = (
    "(?:"
    + "|".join(
        rf"(?<=\b{w} )"
        for w in (
            "am",
            "vom",
            "bis",
            "zum",
            "ab",
            "den",
            "seit",
            "dem",
            "Am",
            "Vom",
            "Bis",
            "Zum",
            "Ab",
            "Seit",
        )
    )
    + ")"
)
LB_YEAR = (
    "(?:"
    + "|".join(
        rf"(?<=\b{w} )" for w in ("im", "Im", "bis", "von", "um", "Um", "seit", "ab", "und", "Jahr", "Jahre")
    )
    + "|(?<=[–-]))"
)
DIR_RE = r"(?P<dir>später|danach|darauf|zuvor|vorher|früher)"

PATTERNS: list[_Pattern] = [
    _p(
        "date_text",
        rf"{B}{POD_PREFIX}{WD_PREFIX}(?P<d>{DAY_RE})\.\s*(?P<mon>{MONTH_RE}){E}{YEAR_TAIL}",
        _r_day_month,
    ),
    _p(
        "date_num",
        rf"{B}{WD_PREFIX}(?<![\d.])(?P<d>{DAY_RE})\.\s?(?P<m>0?[1-9]|1[0-2])\.\s?"
        rf"(?P<y>{YEAR4}|\d{{2}})(?!\d|\.\d)",
        _r_day_month,
    ),
    _p(
        "date_num_noyear",
        LB_DATE + rf"(?P<d>{DAY_RE})\.(?P<m>0?[1-9]|1[0-2])\."
        rf"(?!\s?\d)",
        _r_day_month,
    ),
    _p(
        "date_iso",
        rf"(?<![\d-])(?P<y>{YEAR4})-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12]\d|3[01])(?![\d-])",
        _r_iso,
    ),
    _p(
        "day_range",
        rf"(?<![\d.])(?P<d1>{DAY_RE})\.\s*(?:[–—-]|bis(?:\s+(?:zum|den))?|und|/|auf\s+den|u\.)\s*"
        rf"(?P<d2>{DAY_RE})\.\s*(?P<mon>{MONTH_RE}){E}{YEAR_TAIL}",
        _r_day_range,
    ),
    _p(
        "day_month_range",
        rf"(?<![\d.])(?P<d1>{DAY_RE})\.\s*(?P<mon1>{MONTH_RE})\s*(?:[–—-]|bis(?:\s+zum)?|und)\s*"
        rf"(?P<d2>{DAY_RE})\.\s*(?P<mon2>{MONTH_RE})\s+(?P<y>{YEAR4})(?!\d)",
        _r_day_month_range,
    ),
    _p(
        "month_range",
        rf"{B}(?P<mon1>{MONTH_RE})\s*(?:[–—/-]|bis|und)\s*(?P<mon2>{MONTH_RE})\s+(?P<y>{YEAR4})(?!\d)",
        _r_month_range,
    ),
    _p("year_range2", rf"(?<![\d.,])(?P<y1>{YEAR4})\s*[–/-]\s*(?P<y2>\d{{2}})(?![\d.,]|er)", _r_year_range2),
    _p("night_of", rf"{B}Nacht\s+vom\s+(?P<d>{DAY_RE})\.(?!\s*{MONTH_RE})", _r_night_of),
    _p(
        "month_year",
        rf"{B}(?:(?P<mod>{MOD_RE})\s+)?(?P<mon>{MONTH_RE})\s+(?:(?:des\s+Jahres\s+)?(?P<y>{YEAR4})(?!\d)"
        rf"|(?P<yrel>{YREL_RE}))",
        _r_month_year,
    ),
    _p("month", rf"{B}(?:(?P<mod>{MOD_RE})\s+)?(?P<mon>{MONTH_RE}){E}", _r_month, _ok_month),
    _p(
        "season",
        rf"{B}(?:(?P<mod>{MOD_RE})\s+(?:des\s+)?)?(?:(?:frühen|späten)\s+)?(?P<s>{SEASON_RE})"
        rf"(?:\s+(?:des\s+Jahres\s+)?(?P<y>{YEAR4})(?!\d)|\s+(?P<yrel>{YREL_RE}))?",
        _r_season,
    ),
    _p("bc_range", rf"{B}(?P<y1>\d{{1,4}})\s*[–-]\s*(?P<y2>\d{{1,4}})\s+v\.\s?Chr\.?", _r_bc_range),
    _p(
        "slash_year",
        r"(?<![\d.])(?P<prev>\d{4})(?:/|[–-](?=\d\d(?!\d)))(?P<y>\d{4}|\d{2})(?![\d.,])",
        _r_slash_year,
    ),
    _p(
        "pod_anchor",
        rf"(?:(?<=\b[Aa]m )|(?<=\bin die )|(?<=\bnach )|(?<=\bbis ))(?:(?:frühen|späten)\s+)?"
        rf"(?P<pod>Morgen|Vormittag|Mittag|Nachmittag|Abend|Abendstunden|Morgenstunden|Mitternacht){E}"
        rf"(?!\s+(?:des|vom|darauf|desselben)\b)",
        _r_pod_anchor,
    ),
    _p("pod_nachts", rf"{B}(?P<pod>nachts|abends|morgens|vormittags|nachmittags){E}(?<!\d )", _r_pod_anchor),
    _p(
        "vague_dur",
        rf"{B}(?:(?:folgenden|ersten|nächsten|vorangegangenen|letzten|kommenden|darauffolgenden|frühen|"
        rf"diesen|beiden|vergangenen)\s+|seit\s+|[Ii]m\s+Laufe\s+der\s+)(?P<u>Tag|Woche|Monat|Jahr)(?:e|en|n){E}",
        lambda m, c: _one(m, "DURATION", f"PX{UNIT_CODE[m['u'].lower()]}"),
    ),
    _p(
        "vague_dur_adv",
        rf"{B}(?P<u>tage|wochen|monate|jahre|jahrzehnte)lang(?:e[nmrs]?)?{E}",
        lambda m, c: _one(
            m,
            "DURATION",
            "PX"
            + {"tage": "D", "wochen": "W", "monate": "M", "jahre": "Y", "jahrzehnte": "DE"}[m["u"].lower()],
        ),
    ),
    _p(
        "bc_year",
        rf"{B}(?:(?:[Uu]m|[Ee]twa|[Cc]a\.)\s+)?(?:(?:(?P<mod>{MOD_RE})\s+(?:des\s+)?)?(?:das\s+)?"
        rf"Jahr(?:es|e|s)?\s+)?(?P<y>\d{{1,4}})\s+v\.\s?Chr\.?",
        _r_bc_year,
    ),
    _p(
        "year",
        rf"{B}(?:(?P<mod>{MOD_RE}|(?:[Ii]m\s+)?Laufe|Verlauf)\s+(?:des\s+)?)?"
        rf"(?:(?P<jahr>(?:das\s+)?Jahr(?:es|e|s)?|Jahres(?:beginn|anfang|ende|mitte|wechsel)|Frühjahres)\s+)?"
        rf"(?P<y>{YEAR4})(?![\d])(?:\s+n\.\s?Chr\.?)?",
        _r_year,
        _ok_bare_year,
    ),
    _p(
        "bare_bc_year",
        LB_YEAR + r"(?P<y>[1-9]\d{2})(?![\d.,]|\s+n\.)",
        _r_bare_bc_year,
        lambda m, t: NOT_YEAR_AFTER.match(t, m.end()) is None,
    ),
    _p(
        "century",
        rf"{B}(?:(?P<mod>{MOD_RE}|Laufe|Verlauf)\s+des\s+)?(?P<c>\d{{1,2}})\.\s*"
        rf"(?:Jahrhunderts?|Jahrhunderte|Jh\.)(?P<bc>\s+v\.\s?Chr\.?)?",
        _r_century,
    ),
    _p(
        "decade",
        rf"{B}(?:(?:Anfang|Mitte|Ende)\s+der\s+)?(?P<dec>(?:1\d|20)?\d0)er(?:[- ]?Jahren?){E}",
        _r_decade,
    ),
    _p("kw", rf"{B}(?:KW|Kalenderwoche)\s*(?P<w>\d{{1,2}})(?:\s*(?:/|\s)\s*(?P<y>{YEAR4}))?(?!\d)", _r_kw),
    _p(
        "rel_year_mod",
        rf"{B}(?:(?:[Gg]egen\s+)?(?:Anfang|Mitte|Ende|Beginn)|Laufe|Verlauf)\s+des\s+"
        r"(?:(?:folgenden|nächsten|vorigen|vergangenen|selben|gleichen|laufenden|darauffolgenden|kommenden|"
        r"letzten|vorangegangenen|neuen)\s+)?Jahres(?!\s+\d)",
        _r_rel_year,
    ),
    _p(
        "rel_year",
        rf"{B}(?:(?:nächsten|kommenden|folgenden|darauffolgenden|vergangenen|letzten|vorigen|selben|"
        r"gleichen|laufenden|diesem|dieses|neuen)\s+Jahr(?:es)?|(?:nächstes|kommendes|letztes|vergangenes|"
        r"voriges|dieses|laufendes)\s+Jahr|Vorjahr(?:es)?|Folgejahr(?:es)?|Jahr\s+darauf|Jahres(?:beginn|anfang|"
        rf"ende|mitte|wechsel|frist)|desselben\s+Jahres){E}",
        _r_rel_year,
        flags=re.IGNORECASE,
    ),
    _p(
        "rel_month",
        rf"{B}(?:(?:nächsten|kommenden|folgenden|vergangenen|letzten|vorigen|selben|gleichen|diesen|"
        r"diesem|dieses|laufenden)\s+Monat(?:s|es)?|Folgemonat(?:s|es)?|Vormonat(?:s|es)?|"
        rf"(?:Anfang|Mitte|Ende)\s+des\s+Monats){E}",
        _r_rel_month,
        flags=re.IGNORECASE,
    ),
    _p(
        "rel_week",
        rf"{B}(?:nächste|kommende|folgende|vergangene|letzte|vorige|diese)[nrs]?\s+Woche{E}",
        _r_rel_week,
        flags=re.IGNORECASE,
    ),
    _p(
        "rel_day",
        rf"{B}(?:(?:selben|gleichen|folgenden|nächsten|darauffolgenden|vorherigen|diesem)\s+Tag(?:e|es)?"
        rf"|(?:[Tt]ags|Tag)\s+(?:darauf|danach|zuvor|vorher)|Vortag(?:es)?|Folgetag(?:es)?|desselben\s+Tages|"
        rf"(?:(?:frühen|späten)\s+)?(?P<pod>{POD_RE})\s+(?:desselben|dieses|des\s+(?:selben|gleichen|folgenden))\s+Tages"
        rf"){E}",
        _r_rel_day,
    ),
    _p(
        "rel_pod",
        rf"{B}(?:selben|gleichen|nächsten|folgenden|darauffolgenden)\s+(?P<pod>{POD_RE}){E}",
        _r_rel_day,
    ),
    _p("deictic_day", rf"{B}(?:heute|gestern|vorgestern|morgen|übermorgen){E}", _r_deictic_day),
    _p("deictic_day_cap", rf"{B}(?:Heute|Gestern|Vorgestern|Übermorgen){E}", _r_deictic_day),
    _p("this_year", rf"{B}(?:heuer|Heuer){E}", _r_this_year),
    _p(
        "present",
        rf"{B}(?:derzeit|aktuell|gegenwärtig|zurzeit|momentan|heutzutage|jetzt|Derzeit|Aktuell|"
        rf"Gegenwärtig|Zurzeit|Momentan|Heutzutage|Jetzt|[Hh]eutige[nmrs]?|zur\s+Zeit){E}"
        # "am heutigen Samstag": the weekday is the expression (the report's day), not "heutigen"
        r"(?!\s+(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag|Tag)\b)",
        _r_ref("PRESENT_REF"),
    ),
    _p(
        "past",
        rf"{B}(?:damals|Damals|kürzlich|Kürzlich|(?:[Kk]urz|[Ww]enige\s+\w+)\s+(?:zuvor|vorher)){E}",
        _r_ref("PAST_REF"),
    ),
    _p(
        "future",
        rf"{B}(?:bald|Bald|künftig|Künftig|zukünftig|Zukünftig|demnächst|Demnächst|in\s+Zukunft|"
        r"(?:[Ww]enig|[Kk]urz|[Kk]urze\s+Zeit|[Ee]inige\s+Zeit|[Ww]enige\s+\w+|[Ee]inige\s+\w+)\s+später|"
        rf"[Kk]urz\s+(?:darauf|danach)|in\s+der\s+Folge|(?:der\s+)?Folgezeit){E}",
        _r_ref("FUTURE_REF"),
    ),
    _p(
        "offset_after",
        rf"{B}(?P<n>{NUM_RE})\s+(?P<u>Tag|Woche|Monat|Jahr)(?:e|en|n|es)?\s+{DIR_RE}{E}",
        _r_offset_after,
    ),
    _p(
        "offset_before",
        rf"{B}(?P<p>vor|in|nach|Vor|In|Nach)\s+(?P<n>{NUM_RE})\s+(?P<u>Tag|Woche|Monat|Jahr)"
        rf"(?:e|en|n|es)?{E}(?!\s+{DIR_RE})",
        _r_offset_before,
    ),
    _p(
        "duration",
        rf"{B}(?:(?:mehr\s+als|weniger\s+als|über|knapp|etwa|rund|fast|gut|nur|nächsten|kommenden|letzten|"
        rf"vergangenen|ersten|folgenden)\s+)?(?P<n>{NUM_RE})"
        rf"\s+(?:(?:ganze[nr]?|weitere[nr]?|volle[nr]?)\s+)?(?P<u>{UNIT_RE})(?:e|en|n|es|s)?{E}",
        _r_duration,
    ),
    _p(
        "duration_adj",
        r"(?<![\wäöü])(?P<n>(?i:ein|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|"
        r"zwanzig|dreißig|hundert|mehr|viel|ganz))(?P<u>tägig|wöchig|monatig|jährig|stündig)(?:e[nmrs]?)?(?![\wäöü])",
        _r_duration_adj,
    ),
    _p(
        "time",
        rf"{B}(?:(?:gegen|knapp|etwa|ca\.)\s+)?(?P<h>[01]?\d|2[0-4])(?:[:.](?P<mi>[0-5]\d))?\s*Uhr"
        rf"(?:\s+(?P<mi2>[0-5]\d)(?![\d.,]|\s*(?:Minuten|[A-ZÄÖÜ])))?(?:\s+(?P<pod>morgens|früh|abends|nachmittags|"
        rf"vormittags|nachts))?{E}",
        _r_time,
    ),
    _p(
        "time_range",
        r"(?:(?<=\b[Vv]on )|(?<=\bzwischen )|(?<![\w\d.,:]))(?P<t1>(?P<h1>[01]?\d|2[0-4])(?:[:.](?P<mi1>[0-5]\d))?"
        r"(?:\s*Uhr)?)\s*(?:bis|und|[–-])\s*(?P<h2>[01]?\d|2[0-4])(?:[:.](?P<mi2>[0-5]\d))?\s*Uhr(?![\wäöü])",
        _r_time_range,
    ),
    _p(
        "holiday",
        rf"{B}(?P<h>(?:(?:[Ee]rsten|[Zz]weiten)\s+)?Weihnachts(?:feier)?tag(?:es|s)?|Weihnachten|"
        rf"Heiligabend|Silvester|Neujahr(?:stag)?|Ostern|Pfingsten)(?:\s+(?P<y>{YEAR4})(?!\d))?{E}",
        _r_holiday,
    ),
    _p(
        "weekday",
        rf"{B}(?:(?P<rel>vergangenen|letzten|vorigen|kommenden|nächsten|folgenden|diesen)\s+)?"
        rf"(?P<wd>{WEEKDAY_RE}){E}(?!,?\s+(?:den\s+)?\d)",
        _r_weekday,
    ),
    _p("set_daily", rf"{B}(?:täglich|Täglich){E}", _r_set("P1D")),
    _p("set_weekly", rf"{B}(?:wöchentlich|Wöchentlich){E}", _r_set("P1W")),
    _p("set_monthly", rf"{B}(?:monatlich|Monatlich){E}", _r_set("P1M")),
    _p("set_yearly", rf"{B}(?:jährlich|Jährlich){E}", _r_set("P1Y")),
    _p(
        "set_weekday",
        r"(?<![\wäöü])(?P<wd>montags|dienstags|mittwochs|donnerstags|freitags|samstags|sonntags)"
        r"(?![\wäöü])",
        lambda m, c: _one(m, "SET", f"XXXX-WXX-{WEEKDAYS[m['wd'][:-1]] + 1}"),
    ),
    _p(
        "set_every_weekday",
        r"(?<![\wäöü])[Jj]ede[nmr]?\s+(?:(?P<ord>ersten|zweiten|dritten|vierten|letzten)\s+)?"
        r"(?P<wd>Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag)"
        r"(?P<month>\s+im\s+Monat)?(?![\wäöü])",
        lambda m, c: _one(m, "SET", "P1M" if m["month"] else f"XXXX-WXX-{WEEKDAYS[m['wd'].lower()] + 1}"),
    ),
    _p(
        "set_every_unit",
        r"(?<![\wäöü])(?:[Jj]ede[nmrs]?|[Aa]lle)\s+(?P<u>Tag|Woche|Monat|Jahr)(?![\wäöü])",
        lambda m, c: _one(
            m, "SET", {"tag": "P1D", "woche": "P1W", "monat": "P1M", "jahr": "P1Y"}[m["u"].lower()]
        ),
    ),
]
_PRIORITY = {p.name: i for i, p in enumerate(PATTERNS)}

# --------------------------------------------------------------------------- pre-filter
#
# Running ~45 regexes over a whole report dominates the tagger's time. Every match of a pattern contains
# one of a few trigger words (a digit, a month name, "Uhr", "Woche" ...), so a pattern only needs to run
# in windows around those words: each trigger regex is scanned once per text, the windows (trigger
# +/- _WINDOW_PAD characters, merged) are shared by all patterns with that trigger. Matches never reach
# further than ~40 characters from their trigger, lookbehinds still see the text before a window.

_WINDOW_PAD = 64
_UNIT_T = r"tag|woche|monat|jahr|stunde|minute|täg|wöch|jähr|stünd"
_POD_T = r"morgen|mittag|abend|nacht|früh"
_TRIGGER_RES = {
    "digit": r"\d+",
    "dotted": r"\d\.\s?\d",  # 3.11.22, 3. 11. 2022, 7.3.
    "year4": r"\d{4}",
    "bc": r"v\.\s?chr",
    "bc_anywhere": r"v\.\s?chr",  # the whole text, if it has one
    "century": r"jahrh|jh\.",
    "decade": r"\d0er",
    "kw": r"kw|kalenderwoche",
    "night": r"nacht\s+vom",
    "month": r"jan|jän|feb|mär|mrz|apr|mai|jun|jul|aug|sep|okt|nov|dez",
    "weekday": r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag",
    "season": r"sommer|herbst|winter|frühjahr|frühling",
    "unit": _UNIT_T,
    "pod": _POD_T,
    "unit_pod": rf"{_UNIT_T}|{_POD_T}",
    "deictic": r"heute|gestern|morgen|heuer",
    "present": r"derzeit|aktuell|gegenwärtig|zurzeit|momentan|heutzutage|jetzt|heutig|zur\s+zeit",
    "past": r"damals|kürzlich|zuvor|vorher",
    "future": r"bald|künftig|demnächst|zukunft|später|darauf|danach|folge",
    "uhr": r"uhr",
    "holiday": r"weihnacht|heiligabend|silvester|neujahr|ostern|pfingsten",
    "set": r"täglich|wöchentlich|monatlich|jährlich",
}
# Scanned on the lower-cased text (much faster than IGNORECASE); the IGNORECASE variants serve texts whose
# lower-casing changes their length (offsets would shift).
TRIGGERS: dict[str, re.Pattern[str]] = {k: re.compile(v) for k, v in _TRIGGER_RES.items()}
_TRIGGERS_I: dict[str, re.Pattern[str]] = {k: re.compile(v, re.IGNORECASE) for k, v in _TRIGGER_RES.items()}
_TRIGGER_OF = {
    "date_text": "month",
    "date_num": "dotted",
    "date_num_noyear": "dotted",
    "date_iso": "year4",
    "day_range": "month",
    "day_month_range": "month",
    "month_range": "month",
    "year_range2": "year4",
    "night_of": "night",
    "month_year": "month",
    "month": "month",
    "season": "season",
    "bc_range": "bc",
    "slash_year": "year4",
    "pod_anchor": "pod",
    "pod_nachts": "pod",
    "vague_dur": "unit",
    "vague_dur_adv": "unit",
    "bc_year": "bc",
    "year": "year4",
    "bare_bc_year": "bc_anywhere",
    "century": "century",
    "decade": "decade",
    "kw": "kw",
    "rel_year_mod": "unit",
    "rel_year": "unit",
    "rel_month": "unit",
    "rel_week": "unit",
    "rel_day": "unit_pod",
    "rel_pod": "pod",
    "deictic_day": "deictic",
    "deictic_day_cap": "deictic",
    "this_year": "deictic",
    "present": "present",
    "past": "past",
    "future": "future",
    "offset_after": "unit",
    "offset_before": "unit",
    "duration": "unit",
    "duration_adj": "unit",
    "time": "uhr",
    "time_range": "uhr",
    "holiday": "holiday",
    "weekday": "weekday",
    "set_daily": "set",
    "set_weekly": "set",
    "set_monthly": "set",
    "set_yearly": "set",
    "set_weekday": "weekday",
    "set_every_weekday": "weekday",
    "set_every_unit": "unit",
}
for _pat in PATTERNS:
    _pat.trigger = _TRIGGER_OF.get(_pat.name)


def _windows(text: str, lowered: str | None, trigger: str) -> list[tuple[int, int]]:
    """Merged windows around the matches of one trigger regex (``lowered``: ``text.lower()`` or None)."""
    out: list[tuple[int, int]] = []
    n = len(text)
    matches = (
        TRIGGERS[trigger].finditer(lowered) if lowered is not None else _TRIGGERS_I[trigger].finditer(text)
    )
    if trigger == "bc_anywhere":  # bare years resolve to BC only in texts that speak of BC
        return [(0, n)] if next(matches, None) is not None else []
    for m in matches:
        ws, we = max(0, m.start() - _WINDOW_PAD), min(n, m.end() + _WINDOW_PAD)
        if out and ws <= out[-1][1]:
            out[-1] = (out[-1][0], we)
        else:
            out.append((ws, we))
    return out


# --------------------------------------------------------------------------- tagging


def _candidates(text: str, *, prefilter: bool = True) -> list[tuple[int, int, int, _Pattern, re.Match[str]]]:
    """All pattern matches, each pattern run only in the windows around its trigger words."""
    out = []
    windows: dict[str, list[tuple[int, int]]] = {}
    whole = [(0, len(text))]
    lowered: str | None = text.lower()
    if len(lowered) != len(text):
        lowered = None
    for p in PATTERNS:
        if prefilter and p.trigger is not None:
            if p.trigger not in windows:
                windows[p.trigger] = _windows(text, lowered, p.trigger)
            spans = windows[p.trigger]
        else:
            spans = whole
        for ws, we in spans:
            for m in p.regex.finditer(text, ws, we):
                if m.end() <= m.start():
                    continue
                if p.ok is not None and not p.ok(m, text):
                    continue
                out.append((m.start(), m.end(), _PRIORITY[p.name], p, m))
    return out


def _select(
    cands: list[tuple[int, int, int, _Pattern, re.Match[str]]],
) -> list[tuple[_Pattern, re.Match[str]]]:
    """Greedy non-overlapping selection: longest first, then pattern priority."""
    cands = sorted(cands, key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
    taken: list[tuple[int, int]] = []
    chosen = []
    for s, e, _, p, m in cands:
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        chosen.append((p, m))
    chosen.sort(key=lambda pm: pm[1].start())
    return chosen


def _in_parentheses(text: str, pos: int) -> bool:
    s0 = _sentence_start(text, pos)
    chunk = text[s0:pos]
    return chunk.count("(") > chunk.count(")")


def _should_anchor(name: str, m: re.Match[str], start: int, value: str, ctx: _Ctx) -> bool:
    """Decide whether an expression becomes the new reference for later underspecified ones.

    Bare years that jump backwards or far ahead ("die 1871 gegründete", "bis 1929") are usually
    digressions in narratives and do not move the anchor; neither does anything in parentheses.
    """
    if ctx.anchor is None:
        return True
    if _in_parentheses(ctx.text, start):
        return False
    vm = re.match(r"^(BC)?(\d{4})(-\d\d)?", value)
    if not vm:
        return False
    if vm.group(3) or name not in ("year", "slash_year", "year_range2", "bare_bc_year"):
        return True
    if m.groupdict().get("mod") or m.groupdict().get("jahr"):
        return True
    if re.search(r"\b(?:bis|seit|ab|Bis|Seit|Ab)\s*$", ctx.text[max(0, start - 6) : start]):
        return False
    if ctx.anchor[1] is None:
        return True
    y = int(vm.group(2)) * (-1 if vm.group(1) else 1)
    return 0 <= y - ctx.anchor[0] <= 2


def tag_dates(text: str, *, reference_date: datetime.date | None = None, mode: str = "news") -> list[Timex]:
    """Find and normalise German temporal expressions in ``text``.

    ``mode="news"`` resolves deictic/underspecified expressions against ``reference_date``;
    ``mode="narrative"`` resolves them against the last mentioned date (history texts).
    """
    if mode not in ("news", "narrative"):
        raise ValueError(f"mode must be 'news' or 'narrative', got {mode!r}")
    ctx = _Ctx(text=text, ref=reference_date, mode=mode)
    result: list[Timex] = []
    current_sentence = -1
    for p, m in _select(_candidates(text)):
        if _inside_compound(text, m.start(), m.end()):
            continue  # "August-Horch-Museum", "Mai-Kundgebung": part of a hyphenated name
        sent = _sentence_start(text, m.start())
        if sent != current_sentence:
            current_sentence, ctx.sentence_date, ctx.sentence_year = sent, None, None
            ctx.sentence_no += 1
        try:
            found = p.resolve(m, ctx)
        except (ValueError, OverflowError, KeyError) as exc:  # defensive: odd dates
            logger.debug("could not resolve %r (%s): %s", m.group(0), p.name, exc)
            continue
        for s, e, typ, value in found:
            if result and s < result[-1].end:
                continue  # inside the expression before it ("vier Monate" of "drei Jahre und vier Monate")
            part = _PART_OF_DAY.match(text, e) if typ == "DATE" and _FULL_DATE_VALUE.match(value) else None
            if part and _DAY_WORD.fullmatch(text[s:e].strip()):
                # "gestern Abend", "heute Vormittag": a time of that day (TIMEX3 TEV, TMO, ...)
                e, typ, value = part.end(), "TIME", f"{value}T{_PART_CODES[part['part'].lower()]}"
            if mode == "news":
                # TimeML as news corpora annotate it (KRAUTS): a determiner right before the expression is
                # part of it ("in den vergangenen Jahren", "seit dem 20. April"); narrative mode keeps
                # WikiWarsDE's convention without it
                det = _DETERMINER_BEFORE.search(text[max(0, s - 10) : s])
                if det:
                    s -= len(det.group(0))
            result.append(Timex(s, e, text[s:e], typ, value))
            if typ != "DATE":
                continue
            if _should_anchor(p.name, m, s, value, ctx):
                ctx.update(value)
                if _FULL_DATE_VALUE.match(value):
                    ctx.sentence_date = ctx.last_day = value
                    ctx.last_day_no = ctx.sentence_no
            if _states_year(text, s, e, value) or (p.name == "this_year" and value.isdigit()):
                ctx.sentence_year = (int(value[:4]), e)  # "heuer im Sommer": this year's summer
    return result


_FULL_DATE_VALUE = re.compile(r"^(?:BC)?\d{4}-\d{2}-\d{2}$")
_DETERMINER_BEFORE = re.compile(r"(?<![\w-])(?:[Dd](?:er|ie|as|en|em|es)|[Dd]iese[mnrs]?|[Jj]ene[mnrs]?) +$")
_DAY_WORD = re.compile(r"(?i)(?:vor)?gestern|heute|(?:über)?morgen")
_PART_CODES = {
    "früh": "MO", "morgen": "MO", "vormittag": "MO", "mittag": "MI", "nachmittag": "AF", "abend": "EV",
    "nacht": "NI",
}  # fmt: skip
_PART_OF_DAY = re.compile(
    r"\s+(?P<part>(?i:früh|morgen|vormittag|mittag|nachmittag|abend|nacht))(?![\wäöüß])"
)


_NOT_FRAME_BEFORE = re.compile(
    r"\b(?:seit|bis|ab|von|vor|nach|zwischen)\s+(?:de[mn]\s+)?(?:Jahre?\s+)?$", re.I
)


def _states_year(text: str, start: int, end: int, value: str) -> bool:
    """True when a DATE states its year explicitly and sets the frame of its sentence ("Für das Jahr
    2022 plant ..."); years after "seit", "bis", "ab" ... are limits, not frames."""
    if not (len(value) >= 4 and value[:4].isdigit() and value[:4] in text[start:end]):
        return False
    if _NOT_FRAME_BEFORE.search(text, max(0, start - 24), start) is not None:
        return False
    # a frame opens its clause ("Für das Jahr 2022 plant ..."); deeper inside it usually qualifies a noun
    # ("Der Bericht für das Jahr 2020 wurde im Oktober veröffentlicht")
    s0 = _sentence_start(text, start)
    c0 = max(text.rfind(",", s0, start), text.rfind(";", s0, start), s0 - 1) + 1
    return len(text[c0:start].split()) <= 2


def _inside_compound(text: str, start: int, end: int) -> bool:
    """True when the match is glued to a word by a hyphen on either side."""
    after = text[end : end + 2]
    before = text[max(0, start - 2) : start]
    return (len(after) == 2 and after[0] == "-" and after[1].isalpha()) or (
        len(before) == 2 and before[1] == "-" and before[0].isalpha()
    )


def extract_dates(
    doc: Doc, *, reference_date: datetime.date | None = None, mode: str = "news"
) -> list[Timex]:
    """Tag ``doc.text``; the reference date defaults to ``doc._.report_date``.

    When the "reportminer_dates" component already tagged the doc with the same reference date and mode,
    its result is reused instead of tagging the text again.
    """
    _register_extensions()
    if reference_date is None:
        reference_date = doc._.report_date
    tagged = doc._.timexes
    if tagged is not None and doc.user_data.get(_TAGGED_WITH) == f"{reference_date}|{mode}":
        return tagged
    return tag_dates(doc.text, reference_date=reference_date, mode=mode)


_TAGGED_WITH = "reportminer_dates_tagged_with"  # doc.user_data key: "reference date|mode" of doc._.timexes


_FULL_DATE_KINDS = ("date_text", "date_num", "date_iso")


def find_report_date(text: str) -> datetime.date | None:
    """Return the first full calendar date (day, month and explicit year) in ``text``."""
    best: tuple[int, datetime.date] | None = None
    for p in PATTERNS:
        if p.name not in _FULL_DATE_KINDS:
            continue
        for m in p.regex.finditer(text):
            if not m.groupdict().get("y"):
                continue
            ys = m["y"]
            y = int(ys) if len(ys) == 4 else 2000 + int(ys)
            month = _month(m["mon"]) if m.groupdict().get("mon") else int(m["m"])
            d = _safe_date(y, month, int(m["d"]))
            if d is not None:
                if best is None or m.start() < best[0]:
                    best = (m.start(), d)
                break
    return best[1] if best else None


# --------------------------------------------------------------------------- spaCy component


def _register_extensions() -> None:
    if not Doc.has_extension("report_date"):
        Doc.set_extension("report_date", getter=_get_report_date, setter=_set_report_date)
    if not Doc.has_extension("timexes"):
        Doc.set_extension("timexes", getter=_get_timexes)
    if not Span.has_extension("timex_value"):
        Span.set_extension("timex_value", default=None)


_REPORT_DATE = "reportminer_report_date"  # doc.user_data key: the report date as ISO text


def _get_report_date(doc: Doc) -> datetime.date | None:
    found = doc.user_data.get(_REPORT_DATE)
    return None if found is None else datetime.date.fromisoformat(found)


def _set_report_date(doc: Doc, value: datetime.date | None) -> None:
    doc.user_data[_REPORT_DATE] = None if value is None else value.isoformat()


_TIMEXES = "reportminer_dates_timexes"  # doc.user_data key: the component's timexes as plain tuples


def _get_timexes(doc: Doc) -> list[Timex] | None:
    """``doc._.timexes``: what the component found, or None when it did not tag this doc. Kept in
    ``doc.user_data`` as tuples, which survive ``Doc.to_bytes`` (``nlp.pipe`` with n_process > 1)."""
    found = doc.user_data.get(_TIMEXES)
    return None if found is None else [Timex(*fields) for fields in found]


_register_extensions()


class DatesComponent:
    """spaCy component: ``doc.spans["dates"]`` (label = timex type, ``span._.timex_value``)."""

    def __init__(self, nlp: Language, name: str, spans_key: str = "dates", mode: str = "news") -> None:
        self.name = name
        self.spans_key = spans_key
        self.mode = mode

    def __call__(self, doc: Doc) -> Doc:
        timexes = tag_dates(doc.text, reference_date=doc._.report_date, mode=self.mode)
        spans = []
        for t in timexes:
            span = doc.char_span(t.start, t.end, label=t.type, alignment_mode="expand")
            if span is None:
                continue
            span._.timex_value = t.value
            spans.append(span)
        doc.spans[self.spans_key] = spans
        doc.user_data[_TIMEXES] = [dataclasses.astuple(t) for t in timexes]
        doc.user_data[_TAGGED_WITH] = f"{doc._.report_date}|{self.mode}"
        return doc


@Language.factory(
    "reportminer_dates", default_config={"spans_key": "dates", "mode": "news"}, retokenizes=False
)
def make_dates_component(nlp: Language, name: str, spans_key: str, mode: str) -> DatesComponent:
    return DatesComponent(nlp, name, spans_key=spans_key, mode=mode)


# --------------------------------------------------------------------------- evaluation


def load_gold(gold_dir: Path) -> dict[str, Any]:
    gold_dir = Path(gold_dir)
    gold_file = gold_dir / "gold.json"
    if not gold_file.is_file() or not (gold_dir / "texts").is_dir():
        raise FileNotFoundError(
            f"Date gold data not found at {gold_dir} (expected gold.json and texts/). "
            "The shared data folder ../shared/data must sit beside the repository."
        )
    return json.loads(gold_file.read_text(encoding="utf-8"))


def predict_folder(
    gold_dir: Path, *, mode: str = "narrative", doc_ids: Iterable[str] | None = None
) -> dict[str, Any]:
    """Tag every ``texts/<doc_id>.txt`` with its gold DCT; result in the gold schema."""
    gold_dir = Path(gold_dir)
    gold = load_gold(gold_dir)
    ids = list(doc_ids) if doc_ids is not None else sorted(gold)
    out: dict[str, Any] = {}
    for doc_id in ids:
        text = (gold_dir / "texts" / f"{doc_id}.txt").read_text(encoding="utf-8")
        dct = datetime.date.fromisoformat(gold[doc_id]["dct"]) if gold[doc_id].get("dct") else None
        timexes = tag_dates(text, reference_date=dct, mode=mode)
        out[doc_id] = {
            "dct": gold[doc_id].get("dct"),
            "timex": [
                {"start": t.start, "end": t.end, "type": t.type, "value": t.value, "text": t.text}
                for t in timexes
            ],
        }
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def score_predictions(gold: dict[str, Any], pred: dict[str, Any]) -> dict[str, Any]:
    """Strict/relaxed span P/R/F1 and value accuracy over relaxed (one-to-one) matches."""
    n_gold = n_pred = strict_tp = relaxed_tp = value_ok = strict_value_ok = 0
    for doc_id, p in pred.items():
        g = sorted(gold[doc_id]["timex"], key=lambda t: (t["start"], t["end"]))
        ps = sorted(p["timex"], key=lambda t: (t["start"], t["end"]))
        n_gold += len(g)
        n_pred += len(ps)
        gold_exact = {(t["start"], t["end"]): t for t in g}
        for t in ps:
            gt = gold_exact.get((t["start"], t["end"]))
            if gt is not None:
                strict_tp += 1
                strict_value_ok += gt["value"] == t["value"]
        used: set[int] = set()
        for gt in g:
            best = None
            for i, t in enumerate(ps):
                if i in used or t["end"] <= gt["start"] or t["start"] >= gt["end"]:
                    continue
                best = i
                break
            if best is not None:
                used.add(best)
                relaxed_tp += 1
                value_ok += ps[best]["value"] == gt["value"]
    return {
        "docs": len(pred),
        "gold": n_gold,
        "predicted": n_pred,
        "strict": {**_prf(strict_tp, n_pred, n_gold), "tp": strict_tp},
        "relaxed": {**_prf(relaxed_tp, n_pred, n_gold), "tp": relaxed_tp},
        "value_accuracy": round(value_ok / relaxed_tp, 4) if relaxed_tp else 0.0,
        "value_correct": value_ok,
        "strict_value_accuracy": round(strict_value_ok / strict_tp, 4) if strict_tp else 0.0,
    }


def evaluate_dates(
    gold_dir: Path, *, mode: str = "narrative", doc_ids: Iterable[str] | None = None
) -> dict[str, Any]:
    """Evaluate the tagger on a ``texts/`` + ``gold.json`` folder (e.g. WikiWarsDE)."""
    gold_dir = Path(gold_dir)
    gold = load_gold(gold_dir)
    pred = predict_folder(gold_dir, mode=mode, doc_ids=doc_ids)
    result = score_predictions(gold, pred)
    result["mode"] = mode
    return result
