"""Entities: named-entity mentions from a spaCy Doc, and mentions merged into corpus-level entities.

Merging rule (documented for researchers):
- Organisations, places and other names merge when their *normalised key* is equal: case-folded, hyphens
  and spaces unified, umlauts folded, each word reduced with the German Snowball stemmer, so inflected
  forms ("Landratsamtes Vogtlandkreis" / "Landratsamt Vogtlandkreis") and hyphen variants
  ("August-Horch-Museum" / "August Horch Museum") are one entity.
- Persons are never stemmed (surnames are not inflected words: "Hansen" is not "Hans"); only a trailing
  genitive "s" is dropped when the name without it is also seen. A surname mentioned alone ("Krüger
  betonte …") joins the full name of the *same report* when exactly one person in that report has this
  surname; across reports a bare surname is never attached to anyone.
- Standard administrative abbreviations are expanded ("LRA Vogtlandkreis" = "Landratsamt
  Vogtlandkreis"), and an abbreviation introduced in the text ("Sächsischer Städte- und Gemeindetag
  (SSG)") joins its full name: within that report always, across reports when the corpus introduces it
  for one entity only.
- Role words written before a person ("Moderator Martin Ziegenhagen") are kept out of the name and
  recorded as the mention's role.
The canonical name of an entity is its most frequent base form (ties: the shortest, then the hyphenated).
"""

from __future__ import annotations

import bisect
import gzip
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from spacy.attrs import IDX, LENGTH, ORTH, SENT_START
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from reportminer.records import Mention

NAME_LABELS = ("PER", "LOC", "ORG", "MISC")

# Roles and titles that precede a person's name in German reports. Lower-cased; inflected forms included.
ROLE_WORDS = {
    "herr", "herrn", "frau", "dr.", "dr", "prof.", "prof", "professor", "professorin",
    "moderator", "moderatorin", "referent", "referentin", "leiter", "leiterin", "leiters",
    "bürgermeister", "bürgermeisterin", "oberbürgermeister", "oberbürgermeisterin", "landrat", "landrätin",
    "ministerpräsident", "ministerpräsidentin", "minister", "ministerin", "staatssekretär", "staatssekretärin",
    "stadtrat", "stadträtin", "gemeinderat", "gemeinderätin", "kreisrat", "kreisrätin", "abgeordnete",
    "abgeordneter", "vorsitzende", "vorsitzender", "geschäftsführer", "geschäftsführerin", "sprecher",
    "sprecherin", "koordinator", "koordinatorin", "beigeordneter", "beigeordnete", "dezernent", "dezernentin",
    "amtsleiter", "amtsleiterin", "polizeioberrat", "polizeipräsident", "polizeipräsidentin", "pfarrer",
    "pfarrerin", "schulleiter", "schulleiterin", "projektleiter", "projektleiterin", "präsident",
    "präsidentin", "direktor", "direktorin", "sozialarbeiter", "sozialarbeiterin", "kollege", "kollegin",
    "phk", "pok", "khk", "kok", "pk", "ok", "bm", "ob", "mdb", "mdl",
}  # fmt: skip
# Compound roles end in these words: Jugendreferentin, Polizeihauptkommissar, Ortsvorsteher, Stadträtin ...
ROLE_SUFFIXES = (
    "referent", "referentin", "kommissar", "kommissarin", "meister", "meisterin", "leiter", "leiterin",
    "rat", "rätin", "direktor", "direktorin", "beauftragte", "beauftragter", "vorsitzende", "vorsitzender",
    "sprecher", "sprecherin", "präsident", "präsidentin", "minister", "ministerin", "arbeiter", "arbeiterin",
    "pädagoge", "pädagogin", "manager", "managerin", "koordinator", "koordinatorin", "vorsteher",
    "vorsteherin", "berater", "beraterin", "planer", "planerin", "führer", "führerin", "sekretär", "sekretärin",
)  # fmt: skip


def is_role_word(token_text: str) -> bool:
    """A title or role written before a person's name ("Bürgermeisterin", "Polizeihauptkommissar")."""
    low = token_text.lower()
    if low in ROLE_WORDS:
        return True
    return token_text[:1].isupper() and any(low.endswith(s) and len(low) > len(s) + 2 for s in ROLE_SUFFIXES)


_WS = re.compile(r"\s+")
_EDGE_PUNCT = "\"'„“”‚‘’«»()[]{}.,;:!?–—-/ "


def extract_entities(
    doc: Doc,
    *,
    labels: Iterable[str] = NAME_LABELS,
    source: str = "ner",
    sentences: SentenceIndex | None = None,
) -> list[Mention]:
    """Named-entity mentions of ``doc`` (offsets into ``doc.text``), role words split off persons.
    ``sentences``: the doc's :class:`SentenceIndex`, when the caller has one."""
    wanted = set(labels)
    mentions = []
    sentences = sentences or SentenceIndex(doc)
    doc_text = sentences.text  # Doc.text joins every token anew on each access
    for ent in doc.ents:
        if ent.label_ not in wanted:
            continue
        span, role = _split_role(ent)
        if span is None:
            continue
        # a name never runs across a line break: keep the longest line of it ("Daniela Wolf\n")
        raw = max(span.text.split("\n"), key=lambda line: len(line.strip(_EDGE_PUNCT)))
        text = raw.strip(_EDGE_PUNCT)
        if raw.rstrip().endswith("V.") and text.endswith(" V"):
            text += "."  # "Kreisjugendring Vogtland e. V."
        if len(text) < 2 or not any(ch.isalpha() for ch in text):
            continue
        start = span.start_char + span.text.index(raw) + raw.index(text)
        prev = doc[span.start - 1].lower_ if span.start > 0 else None
        abbreviation = _introduced_abbreviation(doc_text, span.end_char, text)
        mentions.append(
            Mention(
                label=ent.label_,
                text=text,
                start_char=start,
                end_char=start + len(text),
                sentence=sentences.text_at(ent.start_char),
                source=source,
                value=text if ent.label_ == "PER" else _district_form(doc, span, base_form(text, prev)),
                role=role,
                abbreviation=abbreviation,
            )
        )
    return mentions + _abbreviation_mentions(doc, mentions, sentences, source)


def _abbreviation_mentions(doc: Doc, mentions: list[Mention], sentences, source: str) -> list[Mention]:
    """Later uses of an abbreviation the report introduced ("… Gemeindetag (SSG) … der SSG berät"),
    where the model did not tag them itself."""
    introduced = {m.abbreviation: m for m in mentions if m.abbreviation}
    if not introduced:
        return []
    covered = {i for m in mentions for i in range(m.start_char, m.end_char)}
    extra = []
    for token in doc:
        full = introduced.get(token.text)
        if full is None or token.idx in covered or token.idx < full.end_char:
            continue
        extra.append(
            Mention(full.label, token.text, token.idx, token.idx + len(token.text),
                    sentences.text_at(token.idx), source, value=token.text)
        )  # fmt: skip
    return extra


_ABBREVIATION = re.compile(r"\s*\(([A-ZÄÖÜ][A-Za-zÄÖÜäöü&]{1,9})\)")


def _introduced_abbreviation(text: str, end: int, name: str) -> str | None:
    """The abbreviation in parentheses right after ``name`` if its capitals are the name's initials."""
    m = _ABBREVIATION.match(text, end)
    if not m:
        return None
    abbr = m[1]
    capitals = [c for c in abbr if c.isupper()]
    if len(capitals) < 2:
        return None
    # initials of the name's words and of the parts of its compounds ("Städte- und Gemeindetag" → S, G)
    initials = {w[0].upper() for w in re.split(r"[\s-]+", name) if w}
    parts = re.findall(r"[A-ZÄÖÜ][a-zäöüß]+", name)
    initials |= {p[0] for p in parts}
    return abbr if sum(c in initials for c in capitals) >= len(capitals) - 1 else None


class SentenceIndex:
    """The sentence around a character offset, found by bisection (``Span.sent`` rescans the Doc each time).

    ``text``: the text the Doc was made from, when the caller has it (it is ``doc.text``, which spaCy
    rebuilds from a Token object per token on each access: half the time of extracting the entities)."""

    def __init__(self, doc: Doc, text: str | None = None):
        self.text = doc.text if text is None else text
        self.starts: list[int] = []
        self.ends: list[int] = []
        if doc.has_annotation("SENT_START") and len(doc):
            # from spaCy's token arrays, as Doc.sents gives them (a Span per sentence costs more)
            cols = doc.to_array([SENT_START, IDX, LENGTH])
            first = np.flatnonzero(cols[:, 0] == 1)
            if not len(first) or first[0] != 0:  # the first token always starts a sentence
                first = np.concatenate([[0], first])
            last = np.concatenate([first[1:], [len(doc)]]) - 1
            self.starts = cols[first, 1].tolist()
            self.ends = (cols[last, 1] + cols[last, 2]).tolist()
        self._texts: dict[int, str] = {}

    def text_at(self, char: int) -> str:
        if not self.starts:
            return ""
        i = max(0, bisect.bisect_right(self.starts, char) - 1)
        found = self._texts.get(i)
        if found is None:  # one string per sentence, shared by all its mentions
            found = self._texts[i] = self.text[self.starts[i] : self.ends[i]].strip()
        return found


def entity_token_spans(doc: Doc, *, labels: Iterable[str] = NAME_LABELS) -> list[tuple[int, int, str]]:
    """Token spans (start, end, label) of ``doc``'s entities as reportminer reports them (roles split off)."""
    wanted = set(labels)
    out = []
    for ent in doc.ents:
        if ent.label_ in wanted:
            span, _ = _split_role(ent)
            if span is not None:
                out.append((span.start, span.end, ent.label_))
    return out


_DISTRICT_PLURALS = {"landkreise", "landkreisen", "kreise", "kreisen"}


def _district_form(doc: Doc, span: Span, name: str) -> str:
    """ "Zwickau" in "der Landkreise Zwickau und Vogtlandkreis" is Landkreis Zwickau, not the city."""
    if span.label_ != "LOC" or name.lower().endswith("kreis"):
        return name
    i = span.start - 1
    while i >= max(0, span.start - 8) and not doc[i].is_sent_start:
        low = doc[i].lower_
        if low in _DISTRICT_PLURALS:
            return f"Landkreis {name}" if low.startswith("land") else f"Kreis {name}"
        if not (doc[i].is_title or low in {"und", "sowie", ",", "oder"}):
            break
        i -= 1
    return name


def _split_role(ent: Span) -> tuple[Span | None, str | None]:
    """Strip role words inside a PER span and find one right before it."""
    if ent.label_ != "PER":
        return ent, None
    roles = []
    start = ent.start
    while start < ent.end and is_role_word(ent.doc[start].text):
        roles.append(ent.doc[start].text)
        start += 1
    if start == ent.end:
        return None, None
    if not roles:
        i = ent.start - 1
        while i >= 0 and is_role_word(ent.doc[i].text) and len(roles) < 3:
            roles.insert(0, ent.doc[i].text)
            i -= 1
    return ent.doc[start : ent.end], " ".join(roles) or None


# Grammatical gender of German organisation and place head nouns, by ending (for de-inflecting names).
_NEUTER = (
    "amt",
    "museum",
    "institut",
    "zentrum",
    "büro",
    "forum",
    "netzwerk",
    "kreuz",
    "werk",
    "haus",
    "gericht",
    "ministerium",
    "land",
    "bündnis",
    "kolleg",
    "theater",
    "archiv",
    "krankenhaus",
    "team",
)
_FEMININE = (
    "schaft",
    "ung",
    "heit",
    "keit",
    "stelle",
    "agentur",
    "kammer",
    "bahn",
    "polizei",
    "direktion",
    "schule",
    "universität",
    "stiftung",
    "initiative",
    "akademie",
    "partei",
    "union",
    "kommission",
    "gemeinde",
    "stadt",
    "bank",
    "kasse",
    "behörde",
    "zentrale",
    "konferenz",
    "versammlung",
    "runde",
)
_GENITIVE_MN = {"des", "eines", "unseres", "ihres", "seines"}
_OBLIQUE = _GENITIVE_MN | {"dem", "einem", "im", "vom", "zum", "beim", "am", "der", "einer", "zur", "den"}
_NO_S_STRIP = ("ss", "us", "is", "os", "as", "x", "z", "ps")


def _gender(noun: str) -> str:
    low = noun.lower().rstrip("-")
    if low.endswith(_FEMININE):
        return "f"
    if low.endswith(_NEUTER):
        return "n"
    return "m"


def base_form(text: str, prev_word: str | None) -> str:
    """Nominative spelling of an organisation or place name seen after an article or contraction.

    "Landratsamtes Vogtlandkreis" after "des" → "Landratsamt Vogtlandkreis"; "Sächsischen Städte- und
    Gemeindetages" → "Sächsischer Städte- und Gemeindetag". Without an oblique-case cue the text is
    returned as it is: names are not guessed at.
    """
    if not prev_word or prev_word not in _OBLIQUE:
        return text
    words = text.split(" ")
    nouns = [i for i, w in enumerate(words) if w[:1].isupper() and not w.isupper() and not _is_adjective(w)]
    if not nouns:
        return text
    head = nouns[0]
    if prev_word in _GENITIVE_MN:
        w = words[head]
        if (
            w.endswith("es")
            and len(w) > 5
            and not w.endswith(("ses", "zes", "xes"))
            or w.endswith(("ses", "zes"))
        ):
            words[head] = w[:-2]
        elif w.endswith("s") and not w.endswith(_NO_S_STRIP) and len(w) > 4:
            words[head] = w[:-1]
        # a coordinated compound ("Städte- und Gemeindetages"): the last conjunct carries the ending
        if words[head].endswith("-") and len(nouns) > 1:
            head = nouns[1]
            w = words[head]
            if w.endswith("es") and len(w) > 5:
                words[head] = w[:-2]
            elif w.endswith("s") and not w.endswith(_NO_S_STRIP):
                words[head] = w[:-1]
    gender = _gender(words[nouns[-1] if words[nouns[0]].endswith("-") else nouns[0]])
    ending = {"m": "er", "f": "e", "n": "es"}[gender]
    for i in range(0, head):
        if _is_adjective(words[i]) and words[i].endswith("en"):
            words[i] = words[i][:-2] + ending
    return " ".join(words)


def _is_adjective(word: str) -> bool:
    low = word.lower()
    return low.endswith(("ischen", "ische", "ischer", "isches", "lichen", "liche", "licher", "liches")) or (
        word[:1].isupper()
        and low
        in {
            "deutschen",
            "deutsche",
            "deutscher",
            "deutsches",
            "neuen",
            "neue",
            "roten",
            "rote",
            "rotes",
            "freien",
            "freie",
            "evangelischen",
        }
    )


@lru_cache(maxsize=65536)  # the same names recur in every report
def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("ß", "ss")
    text = re.sub(r"[-‐‑‒–—/]", " ", text)
    text = re.sub(r"[^\w\s&.]", "", text)
    return _WS.sub(" ", text).strip()


_stemmer = None


def _stem(word: str) -> str:
    global _stemmer
    if _stemmer is None:
        import snowballstemmer

        _stemmer = snowballstemmer.stemmer("german")
    return _stemmer.stemWord(word)


# Standard abbreviations of German administrative names, expanded before comparing names.
STANDARD_ABBREVIATIONS = {
    "lra": "landratsamt", "lk": "landkreis", "lkr": "landkreis", "vg": "verwaltungsgemeinschaft",
    "pd": "polizeidirektion", "pp": "polizeipräsidium", "vhs": "volkshochschule", "kjr": "kreisjugendring",
    "stjr": "stadtjugendring", "gem": "gemeinde", "st": "sankt", "ev": "evangelische",
}  # fmt: skip


@lru_cache(maxsize=65536)
def name_key(label: str, name: str) -> str:
    """Normalised key under which spellings of one entity merge (see the module docstring)."""
    folded = _fold(name)
    if label == "PER":
        return folded
    folded = _LEGAL_FORM.sub("", folded).strip(" .") or folded  # "… e.V." = "… e. V" = "…"
    words = folded.split()
    if len(words) > 1:  # "LRA Vogtlandkreis" = "Landratsamt Vogtlandkreis"; a bare "PD" stays itself
        words = [_fold(STANDARD_ABBREVIATIONS.get(w, w)) for w in words]
    return " ".join(_stem(w) if len(w) > 3 else w for w in words)


#: legal forms at the end of a folded organisation name: e.V., e. V., eV, gGmbH, GmbH, gUG, UG, mbH, KG
_LEGAL_FORM = re.compile(r"(\s+(e\.?\s?v\.?|g?gmbh|g?ug|mbh|kg|ggmbh)\.?)+$")


def is_first_name(word: str) -> bool:
    """True when ``word`` is a German first name (Wiktionary, data/first_names_de.txt)."""
    from spacy.strings import hash_string

    table = _first_names()
    return bool(_in_sorted(table, np.array([hash_string(word.strip())], dtype=np.uint64))[0])


def entity_id(label: str, key: str) -> str:
    """Stable entity id: the label and a short hash of the normalised key."""
    return f"{label}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:10]}"


@dataclass
class _Bucket:
    label: str
    key: str
    spellings: Counter
    docs: set
    roles: Counter


def merge_entities(rows: list[dict]) -> tuple[list[dict], dict[int, str]]:
    """Merge mention rows (dicts with doc_id, label, text, role, report_date, and optionally
    in_boilerplate) into entities.

    Returns (entity rows, mapping from row index to entity_id). Date mentions are ignored. A mention in
    corpus boilerplate belongs to its entity but does not count towards the entity's ``n_docs``.
    """
    keys: dict[int, tuple[str, str]] = {}
    labels = majority_labels(rows)
    for i, row in enumerate(rows):
        if row["label"] in NAME_LABELS:
            label = labels.get(_fold(row["text"]), row["label"])
            name = row["text"] if label == "PER" else (row.get("value") or row["text"])
            keys[i] = (label, name_key(label, name))

    _retype_introduced_terms(rows, keys)
    _resolve_abbreviations(rows, keys)
    _merge_near_duplicates(keys)
    known = {(label, k) for (label, k) in keys.values() if label in ("PER", "LOC")}
    # genitive "s": "Krügers" joins "Krüger", "Europas" joins "Europa", when that form exists
    for i, (label, k) in list(keys.items()):
        if label in ("PER", "LOC") and k.endswith("s") and (label, k[:-1]) in known:
            keys[i] = (label, k[:-1])

    # a bare surname or first name joins the one full name of the same report that ends or starts with it;
    # a bare first name with no such full name is a person of its own report only ("Stefan" in two reports
    # is not one person), keyed by the report
    full_by_doc: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    first_by_doc: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    first_words: set[str] = set()  # words that start a full name somewhere in the corpus, never end one
    last_words: set[str] = set()
    for i, (label, k) in keys.items():
        if label == "PER" and " " in k:
            full_by_doc[rows[i]["doc_id"]][k.rsplit(" ", 1)[1]].add(k)
            first_by_doc[rows[i]["doc_id"]][k.split(" ", 1)[0]].add(k)
            first_words.add(k.split(" ", 1)[0])
            last_words.add(k.rsplit(" ", 1)[1])
    first_words -= last_words
    for i, (label, k) in list(keys.items()):
        if label == "PER" and " " not in k:
            doc_id = rows[i]["doc_id"]
            candidates = full_by_doc[doc_id].get(k, set())
            if len(candidates) == 1:
                keys[i] = (label, next(iter(candidates)))
            elif is_first_name(rows[i]["text"]) or k in first_words:
                # a first name the word list lacks ("Mika", "Nele") shows itself by starting a full name
                firsts = first_by_doc[doc_id].get(k, set())
                keys[i] = (label, next(iter(firsts)) if len(firsts) == 1 else f"{k} @{doc_id}")

    buckets: dict[tuple[str, str], _Bucket] = {}
    dates: dict[tuple[str, str], list[str]] = defaultdict(list)
    votes: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for i, (label, k) in keys.items():
        votes[(label, k)][rows[i]["label"]].add(rows[i]["doc_id"])
        b = buckets.setdefault((label, k), _Bucket(label, k, Counter(), set(), Counter()))
        b.spellings[rows[i].get("value") or rows[i]["text"]] += 1
        if not rows[i].get("in_boilerplate"):  # a venue in every newsletter's footer is not news of it
            b.docs.add(rows[i]["doc_id"])
        if rows[i].get("role"):
            b.roles[rows[i]["role"]] += 1
        if rows[i].get("report_date"):
            dates[(label, k)].append(rows[i]["report_date"])

    entities = []
    for (label, k), b in buckets.items():
        name = _canonical(b)
        ds = sorted(dates[(label, k)])
        entities.append(
            {
                "entity_id": entity_id(label, k),
                "label": label,
                "name": name,
                "aliases": " | ".join(sorted(s for s in b.spellings if s != name)),
                "n_mentions": sum(b.spellings.values()),
                "n_docs": len(b.docs),
                "first_date": ds[0] if ds else None,
                "last_date": ds[-1] if ds else None,
                "roles": " | ".join(r for r, _ in b.roles.most_common()),
                "label_votes": " | ".join(
                    f"{lab} {len(ds)}"
                    for lab, ds in sorted(votes[(label, k)].items(), key=lambda x: (-len(x[1]), x[0]))
                ),
            }
        )
    entities.sort(key=lambda e: (-e["n_docs"], -e["n_mentions"], e["label"], e["name"]))
    ids = {lk: entity_id(*lk) for lk in buckets}  # one id string per entity, not one per mention
    return entities, {i: ids[lk] for i, lk in keys.items()}


_FILLER_WORDS = {
    "in",
    "im",
    "der",
    "die",
    "das",
    "des",
    "fur",
    "und",
    "von",
    "vom",
    "am",
    "an",
    "e.v.",
    "e.",
    "v.",
}


#: a name that the model labels differently across reports takes the majority label when it is in at least
#: this many reports and the majority holds this share of them
MAJORITY_MIN_DOCS = 3
MAJORITY_SHARE = 0.6


def majority_labels(rows: list[dict]) -> dict[str, str]:
    """Folded name -> the label it takes everywhere: the label most of the reports that name it give it, for
    names labelled differently across at least :data:`MAJORITY_MIN_DOCS` reports with a majority of
    :data:`MAJORITY_SHARE` ("Campact" ORG in five reports, PER in one: ORG). Counted by report, not by
    mention; the per-label report counts stay in ``entities.label_votes``."""
    docs: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        if row["label"] in NAME_LABELS:
            docs[_fold(row["text"])][row["label"]].add(row["doc_id"])
    out = {}
    for name, by_label in docs.items():
        if len(by_label) < 2:
            continue
        n = len(set().union(*by_label.values()))
        label, ds = max(by_label.items(), key=lambda x: (len(x[1]), x[0]))
        if n >= MAJORITY_MIN_DOCS and len(ds) >= MAJORITY_SHARE * n:
            out[name] = label
    return out


def score_entities(entities: list[dict]) -> None:
    """Add ``confidence`` (0 to 1) to entity rows: how much evidence says the entity is what its row says.

    The product of three factors: **agreement** (the share of its reports in which the model gave it this
    label, from ``label_votes``), **spread** (0.5 for a name seen in no report outside boilerplate, rising
    as 1 - 0.5 ** (n_docs + 1): 0.75 for one report, 0.875 for two) and **support** from the word lists: a
    person whose first word is a known first name, a place linked to the gazetteer (or a street or hall), an
    organisation with a head word or of several words get 1.0; a single-word person or organisation without
    it 0.7, an unlinked place 0.8, other MISC 0.8."""
    for e in entities:
        votes = dict(
            (part.rsplit(" ", 1)[0], int(part.rsplit(" ", 1)[1]))
            for part in (e.get("label_votes") or "").split(" | ")
            if part.strip()
        )
        total = sum(votes.values())
        agreement = votes.get(e["label"], total) / total if total else 1.0
        spread = 1 - 0.5 ** (int(e.get("n_docs") or 0) + 1)
        name = str(e["name"])
        words = name.split()
        if e["label"] == "PER":
            support = 1.0 if is_first_name(words[0]) and len(words) > 1 else 0.7
        elif e["label"] == "LOC":
            linked = e.get("place_kind") not in (None, "unlinked")
            support = 1.0 if linked or _STREET.match(words[-1]) or _VENUE.match(words[-1]) else 0.8
        elif e["label"] == "ORG":
            support = 1.0 if len(words) > 1 or _ABBREVIATION_FORM.match(name) else 0.7
        else:
            support = 0.8
        e["confidence"] = round(agreement * spread * support, 3)


def _merge_near_duplicates(keys: dict[int, tuple[str, str]]) -> None:
    """Join organisation and place keys that differ only by filler words or a one-letter slip.

    "Partnerschaft für Demokratie in Zwickau" = "Partnerschaft für Demokratie Zwickau"; a spelling slip
    joins only in long names (rapidfuzz ratio ≥ 95), and never for persons.
    """
    from rapidfuzz import fuzz, process

    counts = Counter(keys.values())
    canonical: dict[tuple[str, str], tuple[str, str]] = {}
    reps: dict[str, dict[str, str]] = defaultdict(dict)  # label -> {core: key}
    for label, key in sorted(counts, key=lambda lk: (-counts[lk], lk)):
        if label == "PER":
            continue
        core = " ".join(w for w in key.split() if w not in _FILLER_WORDS) or key
        pool = reps[label]
        target = pool.get(core)
        if target is None and len(core) >= 12:
            hit = process.extractOne(core, list(pool), scorer=fuzz.ratio, score_cutoff=95)
            if hit is not None and hit[0].split()[-1][:4] == core.split()[-1][:4]:
                target = pool[hit[0]]
        if target is None:
            pool[core] = key
        else:
            canonical[(label, key)] = (label, target)
    for label, pool in reps.items():
        if label != "ORG":  # "berlin.de" is no "Berliner"
            continue
        for core, key in list(pool.items()):
            target = _short_form_of(core, pool)
            if target is not None and target != key:
                canonical[(label, key)] = (label, target)
    for i, lk in list(keys.items()):
        if lk in canonical:
            keys[i] = canonical[lk]


#: a web address named as the organisation: "abgeordnetenwatch.de" = "Abgeordnetenwatch"
_DOMAIN = re.compile(r"^(?P<bare>[\w-]{5,})\.[a-z]{1,4}$")  # on keys: ".de" is stemmed to ".d"


def _short_form_of(core: str, pool: dict[str, str]) -> str | None:
    """The key of the same organisation under another name in ``pool`` (core -> key), or None: its web
    address without the domain ("abgeordnetenwatch.de" -> "abgeordnetenwatch"), or the long form of
    leading initials ("ok labs" -> "open knowledge labs", "tu berlin" -> "technische universität
    berlin"), when the rest of the name is the same."""
    m = _DOMAIN.match(core)
    if m and m["bare"] in pool:
        return pool[m["bare"]]
    words = core.split()
    if len(words) < 2 or not 2 <= len(words[0]) <= 4 or not words[0].isalpha():
        return None
    short, tail = words[0], words[1:]
    hits = [
        key
        for other, key in pool.items()
        if other.endswith(" " + " ".join(tail))
        and len(other.split()) == len(short) + len(tail)
        and "".join(w[0] for w in other.split()[: len(short)]) == short
    ]
    return hits[0] if len(hits) == 1 else None


#: head words of English organisation names: "Open Knowledge Foundation (OKF)" is no term
_ORG_HEADS = frozenset(
    "lab labs foundation fund group council institute network society association club clubs agency "
    "commission union party office company corporation center centre school university college academy "
    "alliance initiative project team hub works studio media news times bank trust forum committee board "
    "services systems partners watch movement federation organization organisation".split()
)


def is_english_term(name: str) -> bool:
    """An English common-noun phrase: "Large Language Models", "Open Educational Resources". Every word
    plain letters and in the English word list, the head (last word) a common word the list never writes
    as a name and no organisation's head word, and no German first name among them."""
    words = name.split()
    if len(words) < 2 or not _english_headed(words) or words[-1].casefold() in _ORG_HEADS:
        return False
    only_common, also_name = _english_words()
    return all(w.casefold() in only_common or w.casefold() in also_name for w in words)


def _retype_introduced_terms(rows: list[dict], keys: dict[int, tuple[str, str]]) -> None:
    """An abbreviation that a report introduces for an English common-noun phrase ("Large Language Models
    (LLM)", "Open Educational Resources (OER)") names a kind of thing, not an organisation or a place: the
    phrase and every use of the abbreviation in the corpus are one MISC entity."""
    terms = {
        rows[i]["abbreviation"]: _fold(rows[i]["text"])
        for i in keys
        if rows[i].get("abbreviation")
        and rows[i]["label"] in ("ORG", "LOC")
        and is_english_term(rows[i]["text"])
    }
    if not terms:
        return
    long_forms = set(terms.values())
    for i in list(keys):
        text = rows[i]["text"]
        if text in terms or _fold(text) in long_forms:
            keys[i] = ("MISC", name_key("MISC", terms.get(text, _fold(text))))


def _resolve_abbreviations(rows: list[dict], keys: dict[int, tuple[str, str]]) -> None:
    """Point mentions of an introduced abbreviation ("SSG") at the entity it was introduced for.

    Within a report the introduction decides; across reports an abbreviation joins its full name only
    when the corpus introduces it for exactly one entity.
    """
    by_doc: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    corpus: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for i, key in keys.items():
        abbr = rows[i].get("abbreviation")
        if abbr:
            by_doc[(rows[i]["doc_id"], abbr)].add(key)
            corpus[abbr].add(key)
    if not corpus:
        return
    for i, (label, _) in list(keys.items()):
        text = rows[i]["text"]
        if text not in corpus or label == "PER":
            continue
        targets = by_doc.get((rows[i]["doc_id"], text)) or corpus[text]
        if len(targets) == 1:
            keys[i] = next(iter(targets))


def _canonical(bucket: _Bucket) -> str:
    spellings = bucket.spellings
    if bucket.label == "PER":
        # the longest form (full name) beats a bare surname
        return max(spellings, key=lambda s: (len(s.split()), spellings[s], -len(s)))
    # a full name beats its abbreviation ("SSG"), however often the abbreviation is used
    full = [s for s in spellings if not _ABBREVIATION_FORM.match(s)] or list(spellings)
    # ties: the shorter form (no genitive ending), then the hyphenated compound (German orthography)
    return min(full, key=lambda s: (-spellings[s], len(s), -s.count("-"), s))


_ABBREVIATION_FORM = re.compile(r"^(?=(?:\w*[A-ZÄÖÜ]){2})[\w&]{2,10}$")


# ----------------------------------------------------------------------------------- domain rules

# Nouns of German authorities and bodies that, followed by a place or name, form an organisation's name.
ORG_HEADS = [
    "landratsamt", "landratsamtes", "landratsamts", "stadtverwaltung", "gemeindeverwaltung", "kreisverwaltung",
    "polizeidirektion", "polizeipräsidium", "polizeipräsidiums", "polizeirevier", "polizeireviers",
    "polizeiinspektion", "bürgermeisteramt", "bürgermeisteramtes", "ordnungsamt", "ordnungsamtes", "jugendamt",
    "jugendamtes", "sozialamt", "gesundheitsamt", "gesundheitsamtes", "jobcenter", "amtsgericht",
    "amtsgerichts", "landgericht", "landgerichts", "landesdirektion", "kreisjugendring", "kreisjugendrings",
    "stadtjugendring", "stadtjugendrings", "volkshochschule", "hochschule", "universität", "stadtwerke",
    "sparkasse", "kreissportbund", "kreissportbundes", "stadtbibliothek", "verbandsgemeinde", "verwaltungsgemeinschaft",
]  # fmt: skip
# Heads of coordinated organisation names ("Sächsischer Städte- und Gemeindetag").
_COORD_ORG_SUFFIX = r"(?i)^\w+(tag|tages|tags|bund|bundes|verband|verbandes|rat|rates|ring|rings|kammer|amt|amtes|verein|vereins|werk|werks)$"
_ARTICLES = [
    "der",
    "die",
    "das",
    "des",
    "dem",
    "den",
    "ein",
    "eine",
    "einer",
    "eines",
    "im",
    "am",
    "vom",
    "zum",
]
_NEXT_NAME = {"IS_TITLE": True, "LOWER": {"NOT_IN": ["und", "sowie", "oder", *_ARTICLES]}}
_NAME_WORD = {"IS_TITLE": True, "LOWER": {"NOT_IN": _ARTICLES}}
_ASSOCIATION_SUFFIXES = {"e.", "e.V.", "e.V"}

# Institutions named by what they are for: "Bundesministerium für Familie, Senioren, Frauen und Jugend",
# "Senatsverwaltung für Bildung, Jugend und Wissenschaft", "Bundeszentrale für politische Bildung".
_FOR_HEAD = (
    r"^(\w*[Mm]inisteriums?|Senatsverwaltung|\w*[Aa]mt(es)?|Bundes\w*(zentrale|anstalt|agentur)|"
    r"Landes\w*(zentrale|anstalt|agentur)|Institut(s|es)?|Zentrums?|Gesellschaft|Akademie|Stiftung|Kommission)$"
)
_DETERMINERS = [
    "eine", "einer", "eines", "einen", "diese", "dieser", "dieses", "diesen", "jede", "jeder", "jedes", "jeden",
    "alle", "allen", "aller", "andere", "anderen", "unsere", "unserer", "unseren", "ihre", "ihrer", "ihren",
    "seine", "seiner", "seinen", "welche", "welcher", "solche", "solchen", "keine", "keiner", "keinen",
]  # fmt: skip
# "Nexus Institut", "Open Knowledge Foundation", "Bertelsmann Stiftung"
_HEAD_AFTER_NAME = ["institut", "instituts", "institute", "foundation", "stiftung"]
# "Bildungsministerium Rheinland-Pfalz", "Stiftung Mercator", "Bündnis Freie Bildung"
_HEAD_BEFORE_NAME = r"^(\w*[Mm]inisterium|\w*[Mm]inisteriums|Stiftung|Bündnis|Bündnisses)$"


def _for_patterns() -> list[list[dict]]:
    """HEAD für X, HEAD für X und X, HEAD für X, X und X, ... where X is a noun, optionally after an adjective."""
    adjective = {
        "TEXT": {"REGEX": r"^[a-zäöü]{3,}(e|en|er|es)$"},
        "LOWER": {"NOT_IN": _DETERMINERS},
        "OP": "?",
    }
    item = [adjective, {"IS_TITLE": True, "LOWER": {"NOT_IN": _ARTICLES}}]
    joiner = {"LOWER": {"IN": [",", "und", "sowie"]}}
    patterns = []
    for n in range(1, 5):
        tail = [*item]
        for _ in range(n - 1):
            tail += [joiner, *item]
        patterns.append([{"TEXT": {"REGEX": _FOR_HEAD}}, {"LOWER": "für"}, *tail])
    return patterns


def _rule_patterns() -> dict[str, list[list[dict]]]:
    return {
        "ORG": [
            *_for_patterns(),
            [{"IS_TITLE": True, "LOWER": {"NOT_IN": _ARTICLES}, "OP": "{1,3}"}, {"LOWER": {"IN": _HEAD_AFTER_NAME}}],
            [{"TEXT": {"REGEX": _HEAD_BEFORE_NAME}}, {"IS_TITLE": True, "LOWER": {"NOT_IN": ["und", "sowie", "oder", "für", *_ARTICLES]}, "OP": "{1,2}"}],
            [{"LOWER": {"IN": ORG_HEADS}}, _NEXT_NAME],
            [{"LOWER": {"IN": ORG_HEADS}}, {"LOWER": {"IN": ["des", "der"]}, "OP": "?"},
             {"LOWER": {"IN": ["landkreis", "landkreises", "kreis", "kreises", "stadt", "gemeinde"]}}, _NEXT_NAME],
            [{"LOWER": {"IN": ["partnerschaft", "partnerschaften"]}}, {"LOWER": "für"}, {"LOWER": "demokratie"},
             {"IS_TITLE": True, "OP": "?"}],
            [{"TEXT": {"REGEX": r"^[A-ZÄÖÜ]\w+(e|er|en|es)$"}, "OP": "?"}, {"TEXT": {"REGEX": r"^[A-ZÄÖÜ]\w+-$"}},
             {"LOWER": {"IN": ["und", "oder"]}}, {"TEXT": {"REGEX": _COORD_ORG_SUFFIX}}],
            [_NAME_WORD, {"IS_TITLE": True, "OP": "{0,2}"}, {"TEXT": "e."}, {"TEXT": "V."}],
            [_NAME_WORD, {"IS_TITLE": True, "OP": "{0,2}"}, {"TEXT": {"IN": ["e.V.", "e.V"]}}],
        ],
        "LOC": [
            [{"LOWER": {"IN": ["landkreis", "landkreises", "landkreis", "kreis", "kreises"]}}, _NEXT_NAME],
        ],
    }  # fmt: skip


class EntityRules:
    """Rules for German authority and association names on top of the statistical NER.

    A rule match replaces the model's overlapping entities; what is left of such an entity outside the
    match is kept ("… Gemeindetages Peter Schulenkorf" tagged PER by the model → ORG + PER Peter Schulenkorf).
    """

    def __init__(self, nlp: Language):
        # association names ("… e. V.") start on any capitalised word, so that matcher runs only on
        # documents that contain the suffix; the others are anchored on their head words
        self.matcher = Matcher(nlp.vocab)
        self.association_matcher = Matcher(nlp.vocab)
        for label, patterns in _rule_patterns().items():
            anchored = [p for p in patterns if p[0] is not _NAME_WORD]
            associations = [p for p in patterns if p[0] is _NAME_WORD]
            if anchored:
                self.matcher.add(label, anchored, greedy="LONGEST")
            if associations:
                self.association_matcher.add(label, associations, greedy="LONGEST")

    def __call__(self, doc: Doc) -> Doc:
        doc = _trim_function_words(_drop_common_nouns(doc))
        found = list(self.matcher(doc))
        if any(t.text in _ASSOCIATION_SUFFIXES for t in doc):
            found += self.association_matcher(doc)
        matches = [Span(doc, s, e, label=doc.vocab.strings[m]) for m, s, e in found]
        if not matches:
            return _types_from_words(_full_names(_add_district_names(doc)))
        matches = filter_spans([_widen(doc, span) for span in filter_spans(matches)])
        taken = set()
        for span in matches:
            taken.update(range(span.start, span.end))
        kept = []
        for ent in doc.ents:
            if not taken.intersection(range(ent.start, ent.end)):
                kept.append(ent)
                continue
            # keep the part of the model's entity that lies after the rule match, if it is a name
            rest = [i for i in range(ent.start, ent.end) if i not in taken]
            if rest and rest == list(range(rest[0], ent.end)) and doc[rest[0]].is_title:
                kept.append(Span(doc, rest[0], ent.end, label=ent.label_))
        doc.ents = filter_spans(kept + matches)
        return _types_from_words(_full_names(_add_district_names(doc)))


#: the last word of a street name, with or without a house number: "Tempelhofer Ufer", "Norderstraße 4"
_STREET = re.compile(
    r"(?i)^[\wäöüß.-]*(straße|strasse|str\.|ufer|weg|platz|allee|damm|chaussee|ring|gasse|steinweg|markt)$"
)
#: halls, rooms and buildings named as venues: "Wilhelm von Humboldt-Saal", "Stadthalle", "Foyer"
_VENUE = re.compile(r"(?i)^[\wäöüß-]*(saal|säle|halle|foyer|aula)$")
#: buildings: a "person" whose name ends in one is the building ("August Horch Museum", "Lutherhaus")
_BUILDING = re.compile(r"(?i)^[\wäöüß-]*(museum|haus|zentrum|kirche|schloss|bibliothek|theater|rathaus)$")
_HOUSE_NUMBER = re.compile(r"^\d{1,4}[a-z]?$")
#: platforms, apps and file formats named as things (MISC in GermEval): "auf Instagram", "mit Padlet", "als CSV"
PLATFORMS = frozenset(
    {
        "instagram", "facebook", "twitter", "youtube", "whatsapp", "tiktok", "telegram", "mastodon", "signal",
        "padlet", "zoom", "slack", "discord", "linkedin", "xing", "maps", "google maps", "openstreetmap",
        "github", "gitlab", "jitsi", "moodle", "miro", "mentimeter", "etherpad", "wordpress", "android", "ios",
        "paypal", "amazon", "ebay", "netflix", "spotify", "chatgpt", "airbnb", "uber", "bluesky", "reddit",
        "snapchat", "pinterest", "flickr", "vimeo", "dropbox", "webex", "skype",
        # file formats are things too: "als CSV", "im PDF"
        "csv", "pdf", "json", "xml", "geojson", "xlsx", "html", "rdf",
    }
)  # fmt: skip
#: events named as such are MISC (GermEval), never a person: "Hackday Moers", "Barcamp", "Open Data Day"
_EVENT = re.compile(
    r"(?i)^[\wäöüß-]*(hackday|hackathon|barcamp|meetup|hackdays|hackathons|konferenz|kongress)$"
)
#: an organisation's name ending in one of these is its event ("Kongress" alone is a parliament:
#: "US-Kongress"; "…konferenz" is often a body: "Kultusministerkonferenz")
_EVENT_ORG = re.compile(r"(?i)^[\wäöüß-]*(hackday|hackathon|barcamp|meetup|congress|summit|festival)$")
#: a plural acronym is a kind of thing, not a person: "LLMs", "NGOs"
_PLURAL_ACRONYM = re.compile(r"^[A-Z]{2,}s$")


#: offices named as such are organisations: "Servicestelle Interkommunale Zusammenarbeit", "Fachstelle …"
_OFFICE = re.compile(r"(?i)^\w*(stelle|büro|buero)$")
_NOT_OFFICE = frozenset({"haltestelle", "baustelle", "feuerstelle", "schnittstelle", "textstelle", "büro"})
#: things named after their organisation or programme: "ASSKomm Roll up" is ASSKomm's banner
_THING_WORDS = frozenset({"roll", "rollup", "roll-up", "flyer", "banner", "plakat", "logo", "broschüre"})
#: a coined name with at least two capitals ("ASSKomm", "OKLab", "KJR"): a programme or organisation
_COINED = re.compile(r"^(?=(?:[^A-ZÄÖÜ]*[A-ZÄÖÜ]){2})[A-ZÄÖÜ][\wÄÖÜäöüß&-]{2,14}$")


_OPENING_QUOTES = frozenset({"„", '"', "»", "«", "‚"})
_CLOSING_QUOTES = frozenset({"“", '"', "«", "»", "‘", "”"})


def _quoted_end(doc: Doc, ent: Span) -> int | None:
    """The end of the quotation an entity opens ("„Servicestelle Interkommunale“" cut before
    "Zusammenarbeit"): the token index after the last word before the closing quote, when only up to three
    capitalised words stand between the entity and it; else None."""
    if ent.start == 0 or doc[ent.start - 1].text not in _OPENING_QUOTES:
        return None
    for i in range(ent.end, min(ent.end + 4, len(doc))):
        if doc[i].text in _CLOSING_QUOTES:
            return i
        if not doc[i].is_title:
            return None
    return None


def _types_from_words(doc: Doc) -> Doc:
    """Labels from the words of the name, whatever the model said: a street (with or without a house
    number) or a hall is a place (LOC); a platform or app named as such is MISC; an office ("Servicestelle
    …") is ORG; a coined name followed by a thing ("ASSKomm Roll up") is the coined name, ORG. A coined name
    tagged ORG once is ORG wherever else the report names it ("im Rahmen von ASSKomm")."""
    changed = False
    ents = []
    for ent in doc.ents:
        words = [t.text for t in ent if not _HOUSE_NUMBER.match(t.text)] or [ent.text]
        label, start, end = ent.label_, ent.start, ent.end
        thing = next((i for i in range(ent.start + 1, ent.end) if doc[i].lower_ in _THING_WORDS), None)
        if label in ("PER", "ORG", "MISC") and (_STREET.match(words[-1]) or _VENUE.match(words[-1])):
            label = "LOC"
        elif label == "PER" and _BUILDING.match(words[-1]):  # "Horch Museum" is no person
            label = "LOC"
        elif label == "PER" and any(_EVENT.match(w) for w in words):  # "Hackday Niederrhein"
            label = "MISC"
        elif label == "ORG" and _EVENT_ORG.match(words[-1]):  # "Chaos Communication Congress"
            label = "MISC"
        elif label in ("PER", "ORG", "LOC") and ent.text.casefold() in PLATFORMS:
            label = "MISC"
        elif label in ("MISC", "LOC") and _OFFICE.match(words[0]) and words[0].casefold() not in _NOT_OFFICE:
            label = "ORG"
        elif thing is not None and thing - ent.start == 1 and _COINED.match(doc[ent.start].text):
            label, end = "ORG", thing
        if (label, start, end) != (ent.label_, ent.start, ent.end):
            changed = True
            ents.append(Span(doc, start, end, label=label))
        else:
            ents.append(ent)
    # a name in quotation marks is the whole quoted phrase: „Servicestelle Interkommunale Zusammenarbeit“
    for n, ent in enumerate(ents):
        close = _quoted_end(doc, ent)
        if close is not None and close > ent.end:
            ents[n] = Span(doc, ent.start, close, label=ent.label_)
            changed = True
    # a coined name that something happens "im Rahmen von" is a programme: ORG
    for frame in doc[1 : len(doc) - 2]:  # "Rahmen" first: this runs on every document
        tok = doc[frame.i + 2]
        if (
            frame.lower_ == "rahmen"
            and doc[frame.i + 1].lower_ in ("von", "des", "der")
            and _COINED.match(tok.text)
            and not any(e.start <= tok.i < e.end and (e.label_ == "ORG" or len(e) > 1) for e in ents)
        ):
            ents = [e for e in ents if not e.start <= tok.i < e.end]  # a MISC of the bare name yields
            ents.append(Span(doc, tok.i, tok.i + 1, label="ORG"))
            changed = True
    coined = {e.text for e in ents if e.label_ == "ORG" and len(e) == 1 and _COINED.match(e.text)}
    if coined:
        taken = {i for e in ents for i in range(e.start, e.end)}
        for tok in doc:
            if tok.text in coined and tok.i not in taken:
                ents.append(Span(doc, tok.i, tok.i + 1, label="ORG"))
                changed = True
    if changed:
        doc.ents = filter_spans(ents)
    return doc


def _word_hashes(name: str) -> np.ndarray:
    """Sorted spaCy hashes (ORTH values) of the words of a packaged word list in data/."""
    from spacy.strings import hash_string

    raw = resources.files("reportminer").joinpath(f"data/{name}").read_bytes()
    words = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8").split()
    return np.unique(np.fromiter((hash_string(w) for w in words), dtype=np.uint64, count=len(words)))


@lru_cache(maxsize=1)
def _common_nouns() -> np.ndarray:
    """The words that German Wiktionary knows only as common nouns (never as a name), less those GermEval
    2014 tags inside a name and the gazetteer's place words (scripts/build_lexicon.py,
    data/LEXICON_SOURCES.txt)."""
    return _word_hashes("common_nouns_de.txt.gz")


@lru_cache(maxsize=1)
def _first_names() -> np.ndarray:
    """German first names (Wiktionary entries tagged Vorname, data/first_names_de.txt)."""
    return _word_hashes("first_names_de.txt")


def _in_sorted(table: np.ndarray, orths: np.ndarray) -> np.ndarray:
    """Which of the ORTH values are in a sorted hash table (one binary search each)."""
    at = np.minimum(np.searchsorted(table, orths), len(table) - 1)
    return table[at] == orths


def _starts_sentence(doc: Doc, i: int) -> bool:
    """Token i starts a sentence or line, by the token before it (the rules run before the sentencizer)."""
    if i == 0:
        return True
    prev = doc[i - 1]
    return prev.is_space or "\n" in prev.whitespace_ or prev.text in (".", "!", "?", ":", "…", "-", "•")


def _full_names(doc: Doc) -> Doc:
    """First name + surname made a person where the model cut it: a name that ends with one
    ("des Sächsischen Städte- und Gemeindetages Peter Schulenkorf": ORG + PER), and a first name tagged
    alone before a surname ("Martin" in "Martin Ziegenhagen führte ..."; also a first name the word list
    lacks: "Aiko" in "meint Aiko Kempen im Rahmen", when the next word is not a common noun and no
    capitalised word follows it)."""
    orths = doc.to_array(ORTH)
    is_first = _in_sorted(_first_names(), orths)
    hits = np.flatnonzero(is_first).tolist()
    if not hits and not any(e.label_ == "PER" and len(e) == 1 for e in doc.ents):
        return doc
    is_common = _in_sorted(_common_nouns(), orths)

    def surname_like(i: int) -> bool:
        """A capitalised word that may be a surname: letters (and hyphens), not a word known only as a
        common noun, not a first name."""
        text = doc[i].text
        return (
            text[:1].isupper()
            and text.replace("-", "").isalpha()
            and len(text) > 1
            and not is_common[i]
            and not is_first[i]
        )

    ents = list(doc.ents)
    taken = {i for e in ents for i in range(e.start, e.end)}
    out: list[Span] = []
    changed = False
    for ent in ents:
        if ent.label_ != "PER" and len(ent) >= 2 and is_first[ent.end - 2] and surname_like(ent.end - 1):
            if len(ent) > 2:
                out.append(Span(doc, ent.start, ent.end - 2, label=ent.label_))
            out.append(Span(doc, ent.end - 2, ent.end, label="PER"))
            changed = True
        elif (
            ent.label_ == "PER"
            and len(ent) == 1
            and ent.end < len(doc)
            and ent.end not in taken
            and surname_like(ent.end)
            and (
                is_first[ent.start]
                or (  # not a genitive ("Kádárs Werke"), a street or an English noun ("Art Gallery")
                    ent.text.isalpha()
                    and not ent.text.endswith("s")
                    and not is_common[ent.start]
                    and not _STREET.match(doc[ent.end].text)
                    and doc[ent.end].lower_ not in _english_words()[0]
                    and not (ent.end + 1 < len(doc) and doc[ent.end + 1].is_title)
                )
            )
        ):
            out.append(Span(doc, ent.start, ent.end + 1, label="PER"))
            changed = True
        else:
            out.append(ent)
    # a first name and a surname that no entity covers ("... Gemeindetages Peter Schulenkorf mit ..."),
    # not at a sentence's start and not followed by another capitalised word
    taken = {i for e in out for i in range(e.start, e.end)}
    for i in hits:
        if (
            i + 1 < len(doc)
            and i not in taken
            and i + 1 not in taken
            and not _starts_sentence(doc, i)
            and surname_like(i + 1)
            and not (i + 2 < len(doc) and doc[i + 2].is_title)  # part of a longer name: "August Horch Museum"
        ):
            out.append(Span(doc, i, i + 2, label="PER"))
            taken.update((i, i + 1))
            changed = True
    if changed:
        doc.ents = sorted(out, key=lambda span: span.start)
    return doc


#: words no German name ends with ("Stefan Lorenz von der Polizeidirektion": the model may take "von" in)
_TRAILING_FUNCTION_WORDS = frozenset(
    "der die das des dem den von vom zu zur zum und oder sowie für im in am an auf aus bei mit nach über".split()
)


def _trim_function_words(doc: Doc) -> Doc:
    """The model's entities lose the articles and prepositions they end with."""
    out = []
    changed = False
    for ent in doc.ents:
        end = ent.end
        while end > ent.start and doc[end - 1].text in _TRAILING_FUNCTION_WORDS:
            end -= 1
        if end != ent.end:
            changed = True
            if end > ent.start:
                out.append(Span(doc, ent.start, end, label=ent.label_))
        else:
            out.append(ent)
    if changed:
        doc.ents = out
    return doc


def _drop_common_nouns(doc: Doc) -> Doc:
    """The model's persons and places made only of common nouns are dropped: "Imbiss und Getränke" in a
    bullet list is no person, "Interview" no place (GermEval dev +0.5 micro-F1, our civic-report gold +0.6).
    Organisations and other names are left alone: many are common nouns ("Umweltbundesamt", "Tageblatt")."""
    ents = [e for e in doc.ents if e.label_ in ("PER", "LOC")]
    if not ents:
        return doc
    is_common = _in_sorted(_common_nouns(), doc.to_array(ORTH))
    drop = {e for e in ents if is_common[e.start : e.end].all() or _english_thing(e)}
    if drop:
        doc.ents = [e for e in doc.ents if e not in drop]
    return doc


def _english_thing(ent: Span) -> bool:
    """A "person" that is an English phrase or a plural acronym: "Large Language Models", "Use Cases",
    "Democracy", "LLMs". The head (last word) must be an English common word that the word list never
    writes as a name (so "Trump", "Baker", "Smith" stay possible surnames), every word plain ASCII letters,
    and no word a German first name (data/ENGLISH_WORDS_SOURCES.txt, scripts/build_english_words.py)."""
    words = [t.text for t in ent]
    if len(words) == 1 and _PLURAL_ACRONYM.match(words[0]):
        return True  # no place either
    return ent.label_ == "PER" and _english_headed(words)


def _english_headed(words: list[str]) -> bool:
    """Plain ASCII words headed (last word) by an English common word that is never a name, none of them a
    German first name: what :func:`_english_thing` and :func:`is_english_term` both ask."""
    if not all(w.isascii() and w.isalpha() for w in words) or words[-1].casefold() not in _english_words()[0]:
        return False
    return not any(is_first_name(w) for w in words)


@lru_cache(maxsize=1)
def _english_words() -> tuple[frozenset[str], frozenset[str]]:
    """English words that are never a name, and those that can be (data/common_words_en.txt.gz)."""
    raw = resources.files("reportminer").joinpath("data/common_words_en.txt.gz").read_bytes()
    only, also_name = set(), set()
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        word, _, mark = line.partition(" ")
        (also_name if mark == "N" else only).add(word)
    return frozenset(only), frozenset(also_name)


def _widen(doc: Doc, span: Span) -> Span:
    """An organisation rule's match grown to the model's overlapping organisation: the model may have the
    adjective before the head ("Bayerischen Staatsministerium für ...") or a longer name after it
    ("Instituts für Corporate Governance", "California Institute of Technology")."""
    if span.label_ != "ORG":
        return span
    start, end = span.start, span.end
    for ent in doc.ents:
        if ent.label_ == "ORG" and ent.start < span.end and span.start < ent.end:
            start, end = min(start, ent.start), max(end, ent.end)
    return span if (start, end) == (span.start, span.end) else Span(doc, start, end, label="ORG")


#: one-word district names: "Vogtlandkreis", "Erzgebirgskreises", "Rhein-Sieg-Kreis"
_KREIS_WORD = re.compile(r"^[A-ZÄÖÜ][\w-]*[kK]reis(es|e)?$")


def _add_district_names(doc: Doc) -> Doc:
    """One-word German district names (gazetteer-checked) are places: tagged LOC where no entity covers them,
    relabelled LOC where the model gave the word alone another label. The model may tag only the first item
    of "der Landkreise Zwickau und Vogtlandkreis", or call the second MISC; inside a longer name
    ("Landratsamt Vogtlandkreis") the word stays part of it."""
    found = _district_tokens(doc)
    if not found:
        return doc
    covered = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    changed = False
    ents = []
    for ent in doc.ents:
        if len(ent) == 1 and ent.label_ != "LOC" and ent.start in found:
            ent, changed = Span(doc, ent.start, ent.end, label="LOC"), True
        ents.append(ent)
    extra = [Span(doc, i, i + 1, label="LOC") for i in sorted(found - covered)]
    if extra or changed:
        doc.ents = sorted([*ents, *extra], key=lambda span: span.start)
    return doc


def _district_tokens(doc: Doc) -> set[int]:
    """Indices of the tokens that are one-word district names. Each distinct word of the Doc is checked once,
    from spaCy's token array (no Token object per token): most reports have none."""
    from reportminer.places import is_district_name

    orths = doc.to_array(ORTH)
    strings = doc.vocab.strings
    hits = []
    for orth in np.unique(orths).tolist():
        text = strings[orth]
        if text.endswith(("reis", "reise", "reises")) and _KREIS_WORD.match(text) and is_district_name(text):
            hits.append(orth)
    if not hits:
        return set()
    return set(np.flatnonzero(np.isin(orths, hits)).tolist())


@Language.factory("reportminer_entity_rules")
def make_entity_rules(nlp: Language, name: str) -> EntityRules:
    return EntityRules(nlp)
