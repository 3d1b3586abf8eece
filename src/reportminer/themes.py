"""Recurring themes: theme terms from spaCy Docs, a scikit-learn style theme model, codebooks, evaluation.

``content_terms(doc)`` turns a Doc into theme-relevant terms (content words and adjective+noun
bigrams, lowercased, entity tokens removed). It works with a bare ``spacy.blank("de")`` pipeline
(capitalisation heuristics) and uses lemmas/POS tags when the pipeline sets them. ``theme_words`` gives
what the model reads of a report: its words (themes are found from them) and its nouns and phrases (themes
are named from them), corpus boilerplate (:mod:`reportminer.boilerplate`) left out.

``ThemeModel`` follows scikit-learn's estimator contract: ``fit(list_of_token_lists)`` learns a TF-IDF
vocabulary keyed by German Snowball stems; with ``n_themes="auto"`` the number of themes comes from a
consensus of NMF runs, the themes are the groups' centroids, and each is named by class-based TF-IDF
(:func:`class_terms`).

A codebook (``--codebook``: a TOML file or a shipped name, see :func:`load_codebook`) guides the model: the
codebook themes a corpus supports get components of their own, data-driven themes are found beside them,
and a theme keeps a codebook label only where its reports use the codebook theme's terms.

``paragraph_spans(text)`` and ``units_by_paragraph`` give the units of each paragraph, so themes can be
assigned per segment as well as per document. ``score_themes`` scores a run's tables against gold labels
(``reportminer eval-themes``).
"""

from __future__ import annotations

import bisect
import logging
import math
import re
import sys
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import combinations
from pathlib import Path

import numpy as np
import snowballstemmer
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

__all__ = [
    "SeedTheme",
    "Theme",
    "ThemeModel",
    "ThemeState",
    "content_terms",
    "score_themes",
    "baseline_themes",
    "load_seed_themes",
    "match_themes",
    "npmi_coherence",
    "paragraph_spans",
    "segment_terms",
    "doc_and_segment_terms",
    "stopwords",
    "theme_drift",
    "theme_label",
    "theme_words",
    "unit_words",
    "naming_terms",
    "units_by_paragraph",
    "class_terms",
    "load_codebook",
]

# ---------------------------------------------------------------------------------------------------------
# Term extraction
# ---------------------------------------------------------------------------------------------------------

#: spaCy STOP_WORDS entries that are real content in meeting reports (Mittel = funds, Recht = law).
_KEEP_CONTENT = frozenset({"mittel", "recht"})
_ADJ_ENDINGS = ("en", "er", "es", "em")
_URL_RE = re.compile(r"^(https?://|www\.)|\.(de|com|org|net|at|ch|eu|io)(/|$)|@", re.IGNORECASE)
_WORD_RE = re.compile(r"^[^\W\d_][\w\-]*[^\W_]$")  # starts with a letter, no stray punctuation
_SENT_END = frozenset({".", "!", "?", ":", ";", "…", "–", "—", "-", '"', "„", "“", "«", "»", "(", ")"})
#: minimum length of a lowercase word (adjective/verb) kept when no POS tags exist
_MIN_LOWER_LEN = 6


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """spaCy's German STOP_WORDS plus reportminer's domain list (``data/stopwords_de.txt``), lowercased."""
    from spacy.lang.de.stop_words import STOP_WORDS

    words = {w.lower() for w in STOP_WORDS} - _KEEP_CONTENT
    text = resources.files("reportminer").joinpath("data/stopwords_de.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            words.add(line)
    return frozenset(words)


def _normalise_adjective(word: str) -> str:
    """Strip German adjective inflection to the -e form: interkommunalen/-er/-es/-em -> interkommunale."""
    if len(word) > 5 and word.endswith(_ADJ_ENDINGS):
        return word[:-2] + "e"
    return word


def _is_adjective_like(word: str) -> bool:
    return word.islower() and len(word) >= 5 and word.endswith(("e", "en", "er", "es", "em"))


def content_terms(doc) -> list[str]:
    """Theme-relevant terms of ``doc`` in text order: lemmatised/lowercased content words, then bigrams.

    Excludes entity tokens (``doc.ents``), stopwords, punctuation, numbers, URLs and tokens under three
    characters. Uses ``token.lemma_`` when the pipeline set lemmas and ``token.pos_`` when it set POS tags;
    otherwise keeps capitalised non-sentence-initial words (German nouns), sentence-initial capitalised
    non-stopwords and long lowercase words. Adjacent adjective-like + capitalised noun pairs add a bigram
    ``"interkommunale zusammenarbeit"`` (adjective inflection normalised).
    """
    return doc_and_segment_terms(doc, ())[0]


def _lexical_word(tok) -> str | None:
    """The part of the term rules that depends on a word alone: its lowercase form, or None when the word
    can never be a term (short, punctuation, a number, a URL or e-mail address, stray characters, a
    stopword). Memoised per word by :func:`_token_terms`."""
    text = tok.text
    if len(text) < 3 or tok.is_punct or tok.like_num or tok.is_space:
        return None
    if tok.like_url or tok.like_email or _URL_RE.search(text) or not _WORD_RE.match(text):
        return None
    lower = text.lower()
    return None if lower in stopwords() else lower


_LEXICAL: dict[str, dict[int, str | None]] = {}
"""Language -> :func:`_lexical_word` of each word seen (by its hash in the vocabulary): a few MB at most."""
_LEXICAL_MAX = 500_000
_UNSEEN = object()


def _token_terms(doc) -> tuple[list[str | None], list[tuple[int, str]]]:
    """The work of :func:`content_terms`: each token's term (None for tokens that are none) and the
    bigrams as ``(index of their first token, "adjective noun")``.

    Reads spaCy's token arrays (word, POS, lemma) rather than one Token object per token, and judges each
    distinct word once per process (:data:`_LEXICAL`): less than half the time of token-by-token rules
    (150 reports: 0.53 -> 0.23 s)."""
    from spacy.attrs import LEMMA, ORTH, POS
    from spacy.symbols import ADJ, NOUN, VERB

    stop = stopwords()
    has_lemma = doc.has_annotation("LEMMA")
    has_pos = doc.has_annotation("POS")
    n = len(doc)
    memo = _LEXICAL.setdefault(doc.vocab.lang, {})
    if len(memo) > _LEXICAL_MAX:
        memo.clear()
    arrays = doc.to_array([ORTH, POS, LEMMA]).tolist() if n else []
    in_ent = [False] * n
    for ent in doc.ents:
        in_ent[ent.start : ent.end] = [True] * (ent.end - ent.start)
    strings = doc.vocab.strings
    sent_starts = not has_pos and doc.has_annotation("SENT_START")  # used only without POS tags

    # per token: its term (or None) and whether it may start / end a bigram
    terms: list[str | None] = [None] * n
    for i, (orth, pos, lemma) in enumerate(arrays):
        if in_ent[i]:
            continue
        lower = memo.get(orth, _UNSEEN)
        if lower is _UNSEEN:
            lower = memo[orth] = _lexical_word(doc[i])
        if lower is None:
            continue
        if has_pos:
            if pos != NOUN and pos != ADJ and pos != VERB:
                continue
        else:
            text = strings[orth]
            sent_initial = doc[i].is_sent_start if sent_starts else None
            if sent_initial is None:
                sent_initial = i == 0 or doc[i - 1].text in _SENT_END
            if text[0].isupper():
                if text.isupper() and len(text) <= 5:  # acronyms are mostly organisations
                    continue
                if sent_initial and len(text) < 5:
                    continue
            elif len(text) < _MIN_LOWER_LEN:
                continue
        term = strings[lemma].lower() if has_lemma and lemma else lower
        if len(term) < 3 or term in stop:
            continue
        terms[i] = sys.intern(term)  # one copy of each term for the whole corpus

    bigrams: list[tuple[int, str]] = []
    for i in range(n - 1):
        lt, rt = terms[i], terms[i + 1]
        if lt is None or rt is None:
            continue
        if has_pos:
            ok = arrays[i][1] == ADJ and arrays[i + 1][1] == NOUN
        else:
            left, right = strings[arrays[i][0]], strings[arrays[i + 1][0]]
            ok = _is_adjective_like(left) and right[0].isupper() and not right.isupper()
        if ok:
            adj = _normalise_adjective(strings[arrays[i][0]].lower() if not has_lemma else lt)
            bigrams.append((i, sys.intern(f"{adj} {rt}")))
    return terms, bigrams


# ---------------------------------------------------------------------------------------------------------
# Segments (paragraphs)
# ---------------------------------------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the blank-line-separated blocks of ``text``, surrounding whitespace trimmed."""
    spans, start = [], 0
    for m in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        block = text[start:end]
        if block.strip():
            lead = len(block) - len(block.lstrip())
            spans.append((start + lead, start + len(block.rstrip())))
        if m:
            start = m.end()
    return spans


def segment_terms(doc, spans: Sequence[tuple[int, int]]) -> list[list[str]]:
    """:func:`content_terms` of each character span of ``doc`` (e.g. :func:`paragraph_spans` of its text),
    in one pass over ``doc``: a word belongs to the span holding its first character, a bigram to the span
    holding both its words. Spans must be sorted and must not overlap."""
    return doc_and_segment_terms(doc, spans)[1]


def doc_and_segment_terms(doc, spans: Sequence[tuple[int, int]]) -> tuple[list[str], list[list[str]]]:
    """:func:`content_terms` of ``doc`` and :func:`segment_terms` of ``spans``, from one pass over ``doc``."""
    terms, bigrams = _token_terms(doc)
    whole = [t for t in terms if t is not None] + [b for _, b in bigrams]
    if not spans:
        return whole, []
    from spacy.attrs import IDX

    offsets = doc.to_array(IDX).tolist()
    starts = [start for start, _ in spans]

    def where(i: int) -> int | None:
        k = bisect.bisect_right(starts, offsets[i]) - 1
        return k if k >= 0 and offsets[i] < spans[k][1] else None

    out: list[list[str]] = [[] for _ in spans]
    for i, term in enumerate(terms):
        if term is not None and (k := where(i)) is not None:
            out[k].append(term)
    for i, bigram in bigrams:
        if (k := where(i)) is not None and where(i + 1) == k:
            out[k].append(bigram)
    return whole, out


# ---------------------------------------------------------------------------------------------------------
# Stemming (feature keys) and labels
# ---------------------------------------------------------------------------------------------------------

_STEMMER = snowballstemmer.stemmer("german")


@lru_cache(maxsize=200_000)
def _stem_term(term: str) -> str:
    """Feature key of a term: Snowball stem of each word (bigram adjectives normalised first)."""
    words = term.split(" ")
    if len(words) > 1:
        words = [_normalise_adjective(w) for w in words[:-1]] + [words[-1]]
    return " ".join(_STEMMER.stemWord(w) for w in words)


def _identity(terms):  # module level so fitted vectorizers pickle
    return terms


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


def theme_label(top_terms: Sequence[str], *, n_bigram_window: int = 5) -> str:
    """Readable label: a bigram phrase among the first ``n_bigram_window`` terms, else the top two terms.

    Words are capitalised (German nouns; a bigram's adjective starts the label):
    ``"interkommunale zusammenarbeit"`` -> ``"Interkommunale Zusammenarbeit"``; two terms join with " / ".
    """
    if not top_terms:
        return ""
    for term in top_terms[:n_bigram_window]:
        if " " in term:
            return " ".join(_capitalise(w) for w in term.split(" "))
    picked: list[str] = []
    for term in top_terms:
        if any(term in p or p in term for p in picked):
            continue
        picked.append(term)
        if len(picked) == 2:
            break
    return " / ".join(_capitalise(t) for t in picked)


def class_terms(
    term_lists: Sequence[Sequence[str]], assignment, n_classes: int, *, n_top: int = 10, min_docs: int = 2
) -> list[list[str]]:
    """The terms that set each class of documents apart: class-based TF-IDF (as in BERTopic).

    ``assignment[i]`` is document i's class (-1: none). A term's weight in class c is its share of the
    class's term occurrences times ``log(1 + A / f)``, where A is the mean number of term occurrences per
    class and f the term's occurrences in all classes. Terms are grouped by stem and shown in their most
    frequent form; a term must occur in ``min_docs`` documents of the class (fewer in a smaller class)."""
    assignment = np.asarray(assignment)
    out: list[list[str]] = [[] for _ in range(n_classes)]
    if not len(term_lists) or n_classes == 0:
        return out
    index: dict[str, int] = {}
    surfaces: dict[str, Counter] = defaultdict(Counter)
    rows, cols = [], []
    for i, terms in enumerate(term_lists):
        for t in terms:
            if not t:
                continue
            key = _stem_term(t)
            surfaces[key][t.lower()] += 1
            rows.append(i)
            cols.append(index.setdefault(key, len(index)))
    if not index:
        return out
    counts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(term_lists), len(index)))
    keys = np.array(list(index), dtype=object)
    valid = (assignment >= 0) & (assignment < n_classes)
    if not valid.any():
        return out
    member = sparse.csr_matrix(
        (np.ones(int(valid.sum())), (assignment[valid], np.flatnonzero(valid))),
        shape=(n_classes, len(term_lists)),
    )
    tf = np.asarray((member @ counts).todense())
    df = np.asarray((member @ (counts > 0).astype(np.float64)).todense())
    totals = tf.sum(axis=1, keepdims=True)
    avg = float(totals.mean()) or 1.0
    freq = tf.sum(axis=0)
    weight = np.divide(tf, totals, out=np.zeros_like(tf), where=totals > 0) * np.log1p(
        avg / np.maximum(freq, 1.0)
    )
    sizes = np.asarray(member.sum(axis=1)).ravel()
    for c in range(n_classes):
        need = min(min_docs, max(1, int(sizes[c]) // 2))
        w = np.where(df[c] >= need, weight[c], 0.0)
        order = np.argsort(-w, kind="stable")[:n_top]
        out[c] = [surfaces[keys[j]].most_common(1)[0][0] for j in order if w[j] > 0]
    return out


_WORD = re.compile(r"[^\W\d_]{3,}(?:-[^\W\d_]+)*")


def unit_words(piece: str, terms: Sequence[str]) -> list[str]:
    """The words of one unit's text that themes are found from: every word of three or more letters,
    lowercased, less stopwords and web addresses, names included (a football club or a party says much about
    a report's subject), plus the adjective + noun phrases among the unit's ``terms``."""
    stop = stopwords()
    # letters and hyphens only, so no web address can be among them (those are left out by _WORD itself)
    words = [sys.intern(w) for m in _WORD.finditer(piece) if (w := m.group().lower()) not in stop]
    words.extend(t for t in terms if " " in t)
    return words


def naming_terms(piece: str, terms: Sequence[str]) -> list[str]:
    """The unit's terms that may name a theme: adjective + noun phrases and nouns (a term written with a
    capital in the unit's text), not the adjectives and verbs a pipeline without POS tags keeps as terms."""
    return [t for t in terms if " " in t or _capitalise(t) in piece]


def theme_words(text: str, units, *, boilerplate=None) -> tuple[list[str], list[str]]:
    """What the theme model reads of one report: ``(words, terms)`` of its units outside ``boilerplate``.

    ``words`` (what themes are found from, :func:`unit_words`) and ``terms`` (what themes are named from:
    the units' content terms, :func:`content_terms`, that are nouns or phrases, :func:`naming_terms`). ``units`` are
    :class:`reportminer.records.TextUnit` (offsets into ``text``); ``boilerplate`` a
    :class:`reportminer.boilerplate.Boilerplate` or None."""
    words: list[str] = []
    terms: list[str] = []
    for unit in units:
        piece = text[unit.start : unit.end]
        if boilerplate is not None and boilerplate.is_boilerplate(piece):
            continue
        words.extend(unit_words(piece, unit.terms))
        terms.extend(naming_terms(piece, unit.terms))
    return words, terms


def units_by_paragraph(units, spans: Sequence[tuple[int, int]]) -> list[list]:
    """The units of each paragraph span (a unit belongs to the paragraph holding its first character)."""
    starts = [s for s, _ in spans]
    out: list[list] = [[] for _ in spans]
    for unit in units:
        k = bisect.bisect_right(starts, unit.start) - 1
        if k >= 0 and unit.start < spans[k][1]:
            out[k].append(unit)
    return out


@dataclass
class Theme:
    """One learned theme; ``key`` is its stable id (the seed theme's id, else a slug of the label)."""

    theme_id: int
    label: str
    top_terms: list[str] = field(default_factory=list)
    key: str = ""
    seed: bool = False


@dataclass
class ThemeState:
    """A fitted model's NMF solution, handed to the next fit on the same growing corpus (``fit(previous=…)``).

    ``keys`` are the feature stems, ``components`` the NMF components over them (themes x features, merged
    mixtures included), ``base_docs`` the number of documents of the fit that last chose k from scratch,
    ``seed_keys`` the seed theme each component was named after (None for a discovered theme), ``merged``
    whether it was folded into seed themes as a mixture, ``fingerprint`` a hash of the fit's input and
    parameters: a fit on the same input takes these components as they are, so a rebuild is idempotent.
    """

    keys: list[str]
    components: np.ndarray
    base_docs: int
    seed_keys: list[str | None] = field(default_factory=list)
    merged: list[bool] = field(default_factory=list)
    fingerprint: str = ""

    def to_frame(self):
        """Long table (component, seed_key, merged, term_key, weight, base_docs, fingerprint) of the non-zero
        weights, for Parquet."""
        import pandas as pd

        n = len(self.components)
        seeds = np.array(list(self.seed_keys) + [None] * (n - len(self.seed_keys)), dtype=object)
        merged = np.array(list(self.merged) + [False] * (n - len(self.merged)), dtype=bool)
        comp, feat = np.nonzero(self.components > 0)
        df = pd.DataFrame(
            {
                "component": comp.astype("int32"), "seed_key": seeds[comp], "merged": merged[comp],
                "term_key": np.asarray(self.keys, dtype=object)[feat], "weight": self.components[comp, feat],
            }
        )  # fmt: skip
        df["base_docs"] = np.int64(self.base_docs)
        df["fingerprint"] = self.fingerprint
        return df

    @classmethod
    def from_frame(cls, df) -> ThemeState | None:
        """The state stored by :meth:`to_frame`; None for an empty or malformed table."""
        try:
            if df is None or not len(df):
                return None
            keys = sorted(set(df["term_key"].astype(str)))
            index = {k: j for j, k in enumerate(keys)}
            k = int(df["component"].max()) + 1
            components = np.zeros((k, len(keys)))
            components[df["component"].to_numpy(int), [index[t] for t in df["term_key"].astype(str)]] = df[
                "weight"
            ].to_numpy(float)
            seed_keys: list[str | None] = [None] * k
            merged = [False] * k
            for c, key, was in zip(df["component"].to_numpy(int), df["seed_key"], df["merged"], strict=True):
                seed_keys[c] = key if isinstance(key, str) else None
                merged[c] = bool(was)
            fingerprint = str(df["fingerprint"].iloc[0]) if "fingerprint" in df else ""
            return cls(keys, components, int(df["base_docs"].iloc[0]), seed_keys, merged, fingerprint)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            logger.warning("stored theme state unreadable (%s); themes are fitted afresh", exc)
            return None


# ---------------------------------------------------------------------------------------------------------
# Seed themes
# ---------------------------------------------------------------------------------------------------------

#: a single-word seed stem at least this long also matches compounds ending in it ("jugendbeteiligung")
_MIN_SUFFIX_STEM = 6
#: weight of a compound or phrase that only contains a seed term, relative to an exact match
_PARTIAL_MATCH = 0.5
#: a learned theme is named after a seed when the seed's terms carry this share of its top-term weight
_SEED_MIN_SHARE = 0.2
#: top terms of a learned theme looked at when naming it after a seed
_SEED_NAMING_TERMS = 20
#: how far a continued theme's seed share may cross ``merge_seed_share`` before its merge status flips
_MERGE_HYSTERESIS = 0.1
_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SeedTheme:
    """A named theme given in advance: stable ``key`` (slug), ``label`` and German seed ``terms``."""

    key: str
    label: str
    terms: tuple[str, ...]
    description: str = ""


def slugify(text: str) -> str:
    """``"Klimaschutz und Mobilität"`` -> ``"klimaschutz-und-mobilitaet"`` (German umlauts spelt out)."""
    text = text.lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return _SLUG_RE.sub("-", text).strip("-")


CODEBOOKS = resources.files("reportminer").joinpath("data/codebooks")
"""The codebooks shipped with reportminer, each usable by its name (``--codebook municipal-prevention``)."""
_THEME_KEYS = frozenset({"id", "label", "description", "terms"})
_TOP_KEYS = frozenset({"theme", "title", "description"})
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def codebook_path(name: str | Path) -> Path:
    """The file of a codebook given by path, or by the name of a shipped one (see :data:`CODEBOOKS`)."""
    path = Path(name)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    shipped = CODEBOOKS.joinpath(f"{name}.toml")
    return Path(str(shipped)) if shipped.is_file() else path


def shipped_codebooks() -> list[str]:
    return sorted(p.name.removesuffix(".toml") for p in CODEBOOKS.iterdir() if p.name.endswith(".toml"))


def load_codebook(source) -> list[SeedTheme]:
    """The themes of a codebook: a TOML file (path or shipped name), see
    ``data/codebooks/municipal-prevention.toml``. Raises :class:`~reportminer.errors.CodebookError`, with
    the file and line, when it cannot be read, is not TOML, has no theme, or has an unknown key, a theme
    without terms or a repeated id."""
    import tomllib

    from reportminer.errors import CodebookError

    path = codebook_path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        hint = f" (shipped codebooks: {', '.join(shipped_codebooks())})" if not path.exists() else ""
        raise CodebookError(f"{path}: cannot read the codebook ({exc.strerror or exc}){hint}") from exc
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{path}: the codebook is not UTF-8 text ({exc.reason})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _TOML_POSITION.search(message)
        # tomllib gives a line, or "at end of document": the file's last line then
        where = f"{path}:{m.group(1) if m else max(1, len(text.splitlines()))}"
        raise CodebookError(f"{where}: not valid TOML: {_TOML_POSITION.sub('', message).strip()}") from exc
    lines = text.splitlines()
    headers = [n for n, line in enumerate(lines, 1) if line.strip().startswith("[[theme]]")]

    def line_of(key: str, entry: int | None = None) -> int:
        start = headers[entry] if entry is not None and entry < len(headers) else 1
        end = headers[entry + 1] if entry is not None and entry + 1 < len(headers) else len(lines) + 1
        pattern = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\b")
        return next((n for n in range(start, end) if pattern.match(lines[n - 1])), start)

    for key in data:
        if key not in _TOP_KEYS:
            raise CodebookError(
                f"{path}:{line_of(key)}: unknown key {key!r} (a codebook has [[theme]] entries"
                f" with {', '.join(sorted(_THEME_KEYS))})"
            )
    entries = data.get("theme")
    if not entries:
        raise CodebookError(f"{path}:1: the codebook has no [[theme]] entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CodebookError(f"{path}:{line_of('theme')}: 'theme' must be a list of tables: write [[theme]]")
    themes = []
    for n, entry in enumerate(entries):
        for key in entry:
            if key not in _THEME_KEYS:
                raise CodebookError(
                    f"{path}:{line_of(key, n)}: unknown key {key!r} in theme {n + 1}"
                    f" (allowed: {', '.join(sorted(_THEME_KEYS))})"
                )
        terms = entry.get("terms")
        if isinstance(terms, str):
            terms = [terms]
        if (
            not terms
            or not isinstance(terms, list)
            or not all(isinstance(t, str) and t.strip() for t in terms)
        ):
            raise CodebookError(f'{path}:{line_of("terms", n)}: theme {n + 1} needs terms = ["...", ...]')
        for key in ("id", "label", "description"):
            if key in entry and not isinstance(entry[key], str):
                raise CodebookError(f"{path}:{line_of(key, n)}: {key} of theme {n + 1} must be a string")
        theme = _seed_theme(entry)
        if not theme.key:
            raise CodebookError(
                f"{path}:{headers[n] if n < len(headers) else 1}: theme {n + 1} needs an id or a label"
            )
        if theme.key in {t.key for t in themes}:
            raise CodebookError(f"{path}:{line_of('id', n)}: theme id {theme.key!r} is used twice")
        themes.append(theme)
    return themes


def _seed_theme(entry: dict) -> SeedTheme:
    """A codebook theme from its entry (``id``, ``label``, ``description``, ``terms``: a list or one
    string); terms lowercased, whitespace collapsed, repeats and blanks left out. The key is empty when
    the entry has neither id nor label."""
    label = str(entry.get("label") or entry.get("id") or "").strip()
    key = slugify(str(entry.get("id") or label))
    terms = entry.get("terms") or ()
    if isinstance(terms, str):
        terms = [terms]
    words = tuple(dict.fromkeys(" ".join(str(t).lower().split()) for t in terms if str(t).strip()))
    return SeedTheme(key=key, label=label or key, terms=words, description=str(entry.get("description", "")))


def load_seed_themes(source=None) -> list[SeedTheme]:
    """Codebook themes from ``source``: ``None`` (none), a codebook file path or shipped name (see
    :func:`load_codebook`), or a mapping ``{"theme": [{"id", "label", "terms"}, ...]}`` / ``{id: {"label",
    "terms"}}`` / a list of such dicts or :class:`SeedTheme`. Raises :class:`~reportminer.errors.InputError`
    when an entry is malformed."""
    from reportminer.errors import InputError

    if source is None or source is False:
        return []
    if isinstance(source, (str, Path)):
        return load_codebook(source)
    if isinstance(source, dict):
        if "theme" in source:
            entries = list(source["theme"])
        else:
            entries = [
                dict(v, id=k) if isinstance(v, dict) else {"id": k, "terms": v} for k, v in source.items()
            ]
    else:
        entries = list(source)
    seeds: list[SeedTheme] = []
    for n, entry in enumerate(entries, 1):
        if isinstance(entry, SeedTheme):
            seeds.append(entry)
            continue
        if not isinstance(entry, dict) or not entry.get("terms"):
            raise InputError(f"codebook theme {n} needs a list of terms (and an id and label): {entry!r}")
        theme = _seed_theme(entry)
        if not theme.key:
            raise InputError(f"codebook theme {n} needs an id or a label: {entry!r}")
        seeds.append(theme)
    keys = [s.key for s in seeds]
    if len(set(keys)) != len(keys):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise InputError(f"codebook theme ids must be unique; repeated: {', '.join(dupes)}")
    return seeds


def _seed_vectors(seeds: Sequence[SeedTheme], vocab: Sequence[str]) -> np.ndarray:
    """Seeds x features matrix: 1 where a feature is a seed term's stem, :data:`_PARTIAL_MATCH` where a
    feature is a compound ending in a (long enough) single-word seed stem or a phrase containing one."""
    out = np.zeros((len(seeds), len(vocab)))
    index = {k: j for j, k in enumerate(vocab)}
    for i, seed in enumerate(seeds):
        stems = {_stem_term(t) for t in seed.terms}
        singles = {s for s in stems if " " not in s}
        suffixes = {s for s in singles if len(s) >= _MIN_SUFFIX_STEM}
        lengths = sorted({len(s) for s in suffixes})
        exact = {index[stem] for stem in stems if stem in index}
        for j, key in enumerate(vocab):
            if j in exact:
                out[i, j] = 1.0
            elif " " in key:
                if any(w in singles for w in key.split(" ")):
                    out[i, j] = _PARTIAL_MATCH
            elif any(key[-n:] in suffixes for n in lengths if n <= len(key)):
                out[i, j] = _PARTIAL_MATCH
    return out


# ---------------------------------------------------------------------------------------------------------
# Coherence and stability
# ---------------------------------------------------------------------------------------------------------


def npmi_coherence(top_terms: list[list[str]], docs: list[list[str]], *, top_n: int = 10) -> float:
    """Mean NPMI over the pairs of each theme's first ``top_n`` terms, from document co-occurrence.

    Terms are matched by their stem key, so inflected forms count together. Pairs that never co-occur score
    -1; a theme with fewer than two terms is skipped. Returns ``nan`` when no pair can be scored.
    """
    n = len(docs)
    if n == 0:
        return float("nan")
    wanted = {_stem_term(t) for terms in top_terms for t in terms[:top_n]}
    doc_sets: dict[str, set[int]] = {w: set() for w in wanted}
    for i, d in enumerate(docs):
        for key in {_stem_term(t) for t in d} & wanted:
            doc_sets[key].add(i)
    scores: list[float] = []
    for terms in top_terms:
        keys = list(dict.fromkeys(_stem_term(t) for t in terms[:top_n]))
        theme_scores = []
        for a, b in combinations(keys, 2):
            da, db = doc_sets[a], doc_sets[b]
            if not da or not db:
                continue
            joint = len(da & db)
            if joint == 0:
                theme_scores.append(-1.0)
                continue
            p_ab, p_a, p_b = joint / n, len(da) / n, len(db) / n
            if p_ab >= 1.0:
                theme_scores.append(1.0)
                continue
            theme_scores.append(math.log(p_ab / (p_a * p_b)) / -math.log(p_ab))
        if theme_scores:
            scores.append(float(np.mean(theme_scores)))
    return float(np.mean(scores)) if scores else float("nan")


def _init_floor(V) -> float:
    """Smallest value of a custom NMF start: a tenth of ``V``'s mean, so no start weight is exactly zero."""
    return float(V.sum()) / (V.shape[0] * V.shape[1]) * 0.1 or 1e-6


def _top_indices(components: np.ndarray, n: int) -> list[list[int]]:
    return [list(np.argsort(-row, kind="stable")[:n]) for row in components]


# ---------------------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------------------


def _fit_threads() -> int:
    """Threads for the consensus runs: one a usable core, at most 4."""
    from reportminer.pipeline import usable_cores  # pipeline imports this module

    return min(4, usable_cores())


class ThemeModel(TransformerMixin, BaseEstimator):
    """TF-IDF + NMF themes over token lists (``list[list[str]]``, e.g. from :func:`theme_words`).

    Tokens are grouped by German Snowball stem; each feature is shown as its most frequent surface form.

    **How many themes** (``n_themes="auto"``): consensus clustering. NMF is fitted for a grid of k (2 to
    ``max_themes``, at most a third of the documents) from two starts each; two documents that most runs
    put in the same theme (on average linkage, at least ``consensus`` of the runs) belong together. The
    groups of at least ``min_theme_docs`` documents (default: 3, or 1 % of the corpus if more) are the
    themes: their number comes from the data, and documents that no run keeps together stay without a theme
    rather than filling a catch-all. The final NMF starts from the groups' centroids. In a corpus of more
    than ``k_sample`` documents the consensus is found on a random sample of that size. Each consensus run
    stops after at most ``consensus_iter`` iterations: it only votes on each document's strongest theme,
    which settles well before the factors do.

    **Assignment**: ``transform`` gives each document's theme weights (rows sum to 1); a document has the
    themes whose weight is at least ``min_weight`` and none when no weight reaches it (``predict`` gives -1).

    **Names**: each theme is named from the terms that set its reports apart (class-based TF-IDF, as in
    BERTopic, over ``label_terms`` given to :meth:`fit`, e.g. :func:`content_terms` of the same reports:
    nouns and adjective + noun phrases), see :func:`theme_label`.

    **Codebook** (``seed_themes``: a codebook path or mapping as :func:`load_seed_themes` reads; ``None``, the
    default: no codebook, no built-in labels): each codebook theme whose terms occur in at least
    ``min_seed_docs`` documents (one in a corpus under five) becomes an NMF component initialised from its
    terms, beside the data-driven themes; a data-driven group already dominated by its terms starts that
    component instead of a second one. A learned theme takes a codebook label only when the codebook's terms
    carry at least 20 % of its top-term weight *and* most of its reports (``seed_min_docs_share``) use the
    codebook theme's vocabulary (two of its terms or compounds of them); a codebook theme that fails is reported in ``codebook_status_`` as not
    found, and its theme, if any reports hold it, is named from its own terms.

    Fitted attributes: ``vectorizer_``, ``nmf_`` (None when no theme can be learned), ``n_themes_``,
    ``components_`` (themes x features), ``themes_`` (list of :class:`Theme`), ``feature_names_``,
    ``k_runs_`` (the k of the consensus runs), ``seeds_`` (the loaded codebook themes), ``seed_support_``
    (codebook key -> documents containing its terms), ``codebook_status_`` (one dict per codebook theme:
    key, label, found, n_docs, reason), ``merged_themes_`` (discovered themes folded into codebook themes,
    see ``merge_seed_share``), ``state_`` (:class:`ThemeState` for the next fit), ``warm_started_``,
    ``base_docs_``.

    Continuity: ``fit(X, previous=earlier.state_)`` keeps the earlier number of themes and starts NMF from
    the earlier components, so that when reports are added the documents keep their themes (ids then follow
    through :func:`match_themes`); k is found afresh once the corpus is ``refit_growth`` times larger or
    smaller than when k was last found.

    ``merge_seed_share`` (``None``: off): a discovered theme whose top-term weight is at least this share
    codebook terms is a mixture of codebook themes (typically one report covering two known themes); it is
    dropped and its weight in each document goes to the codebook themes whose terms carry it there.
    """

    def __init__(
        self,
        n_themes="auto",
        max_themes=40,
        min_theme_docs=None,
        consensus=0.5,
        min_weight=0.25,
        max_df=0.5,
        min_df=2,
        n_top_terms=10,
        random_state=0,
        beta_loss="frobenius",
        max_features=None,
        seed_themes=None,
        min_seed_docs=3,
        seed_boost=3.0,
        seed_min_docs_share=0.5,
        merge_seed_share=0.5,
        k_sample=1500,
        refit_growth=1.5,
        consensus_iter=100,
    ):
        self.n_themes = n_themes
        self.max_themes = max_themes
        self.min_theme_docs = min_theme_docs
        self.consensus = consensus
        self.min_weight = min_weight
        self.max_df = max_df
        self.min_df = min_df
        self.n_top_terms = n_top_terms
        self.random_state = random_state
        self.beta_loss = beta_loss
        self.max_features = max_features
        self.seed_themes = seed_themes
        self.min_seed_docs = min_seed_docs
        self.seed_boost = seed_boost
        self.seed_min_docs_share = seed_min_docs_share
        self.merge_seed_share = merge_seed_share
        self.k_sample = k_sample
        self.refit_growth = refit_growth
        self.consensus_iter = consensus_iter

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _keys(X: Iterable[Sequence[str]]) -> list[list[str]]:
        return [[_stem_term(t) for t in terms if t] for terms in X]

    def _make_nmf(self, k: int, seed: int, init: str = "nndsvda", max_iter: int | None = None) -> NMF:
        kl = self.beta_loss != "frobenius"
        return NMF(
            n_components=k,
            init=init,
            solver="mu" if kl else "cd",
            beta_loss=self.beta_loss,
            max_iter=max_iter or (400 if kl else 300),
            tol=1e-4,
            random_state=seed,
        )

    def _fit_nmf(self, V, k: int, seed: int, S: np.ndarray | None = None) -> NMF:
        """NMF with ``k`` components on ``V``; the first ``len(S)`` start from the codebook rows ``S``, the
        others from NNDSVDa."""
        n_seeds = 0 if S is None else min(len(S), k)
        small = k > min(V.shape)  # NNDSVD needs k <= min(n_samples, n_features)
        if not n_seeds:
            return self._make_nmf(k, seed, "random" if small else "nndsvda").fit(V)
        from sklearn.decomposition._nmf import _initialize_nmf

        W, H = _initialize_nmf(V, k, init="random" if small else "nndsvda", random_state=seed)
        W, H = W.astype(V.dtype), H.astype(V.dtype)
        eps = _init_floor(V)
        scale = max(float(np.linalg.norm(H, axis=1).mean()), 1e-3)
        for i in range(n_seeds):
            h = S[i] / max(float(np.linalg.norm(S[i])), 1e-12) * scale
            w = np.asarray(V @ h).ravel() / float(h @ h)
            H[i] = np.maximum(h, eps)
            W[:, i] = np.maximum(w, eps)
        return self._make_nmf(k, seed, "custom").fit(V, W=W, H=H)

    def _seed_rows(self, B, vocab) -> tuple[np.ndarray | None, list[int]]:
        """Seed vectors of the seeds the corpus supports, most supported first (support ties: file order)."""
        if not self.seeds_:
            return None, []
        M = self._seed_M
        support = (np.asarray(B @ (M.T >= 1.0).astype(np.float64)) > 0).sum(axis=0)
        self.seed_support_ = {s.key: int(n) for s, n in zip(self.seeds_, support, strict=True)}
        min_docs = self._min_seed_docs(B.shape[0])
        active = sorted(
            (i for i in range(len(self.seeds_)) if support[i] >= min_docs), key=lambda i: -support[i]
        )
        return (M[active] if active else None), active

    def _min_theme_docs(self, n_docs: int) -> int:
        if self.min_theme_docs is not None:
            return max(1, int(self.min_theme_docs))
        return max(3, math.ceil(0.01 * n_docs)) if n_docs >= 10 else 2

    def _k_grid(self, n_docs: int) -> list[int]:
        upper = min(int(self.max_themes), max(2, n_docs // 3))
        grid = [k for k in (2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 60) if k <= upper]
        return grid or [2]

    def _consensus_groups(self, V) -> list[np.ndarray]:
        """Centroids (over ``V``'s features) of the document groups that the consensus of NMF runs finds,
        largest group first; at most ``max_themes``."""
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        rng = np.random.RandomState(self.random_state)
        rows = np.flatnonzero(V.getnnz(axis=1) > 0)
        if self.k_sample and len(rows) > int(self.k_sample):
            rows = np.sort(rng.choice(rows, size=int(self.k_sample), replace=False))
        X = V[rows]
        # the runs only vote on which documents belong together (each one's strongest theme): in single
        # precision (distinct reports: the consensus 24 % faster, the same groups)
        X32 = X.astype(np.float32)
        n = X.shape[0]
        grid = [k for k in self._k_grid(n) if k <= min(X.shape)]
        self.k_runs_ = grid
        if n < 3 or not grid:
            return []
        together = np.zeros((n, n), dtype=np.float32)
        runs = [(k, start) for k in grid for start in range(2)]

        def labels_of(run: tuple[int, int]) -> np.ndarray:
            k, start = run
            init = "nndsvda" if start == 0 else "random"
            nmf = self._make_nmf(k, self.random_state + start, init, max_iter=int(self.consensus_iter))
            return nmf.fit_transform(X32).argmax(axis=1)

        # the runs are independent and their NMF solvers release the GIL (scikit-learn's coordinate descent,
        # SciPy's sparse products), so they share the cores in threads; the sum of 0/1 counts is exact in
        # any order, so the result does not depend on the number of threads. One BLAS thread each: BLAS's
        # own threads on top of these oversubscribe the cores (1,600 reports: 8.5 s instead of 3.3 s).
        threads = _fit_threads()
        with (
            threadpool_limits(limits=1, user_api="blas") if threads > 1 else nullcontext(),
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reportminer-nmf") as pool,
        ):
            for labels in pool.map(labels_of, sorted(runs, key=lambda r: -r[0])):
                together += labels[:, None] == labels[None, :]
        distance = 1.0 - together / len(runs)
        np.fill_diagonal(distance, 0.0)
        tree = linkage(squareform(distance, checks=False), method="average")
        groups = fcluster(tree, t=1.0 - float(self.consensus), criterion="distance")
        sizes = np.bincount(groups)
        big = [g for g in np.argsort(-sizes, kind="stable") if sizes[g] >= self._min_theme_docs(n)]
        big = big[: int(self.max_themes)]
        return [np.asarray(X[groups == g].mean(axis=0)).ravel() for g in big]

    # -- estimator API -----------------------------------------------------------------------------

    def fit(self, X, y=None, previous: ThemeState | None = None, label_terms=None):
        """Learn vocabulary, number of themes and theme-term weights from term lists ``X``.

        ``previous`` (the ``state_`` of an earlier fit on the same, grown or changed corpus) continues that
        solution: its number of themes is kept and NMF starts from its components, so documents keep their
        themes when a few reports are added. k is chosen afresh, and NMF started from scratch, when the
        corpus has grown or shrunk by more than ``refit_growth`` times since k was last chosen, or when the
        state does not fit (more themes than the corpus allows, no shared vocabulary).

        ``label_terms`` (one term list per document of ``X``, e.g. :func:`content_terms`) are what themes
        are named from; without them the tokens of ``X`` are.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # NMF at max_iter is fine for themes
            return self._fit(list(X), previous, None if label_terms is None else list(label_terms))

    def _warm_start(self, previous: ThemeState | None, vocab, n_docs: int, upper: int) -> np.ndarray | None:
        """Initial components over ``vocab`` from ``previous``, or None when k must be chosen afresh."""
        if previous is None or not len(previous.components):
            return None
        k = len(previous.components)
        growth = float(self.refit_growth)
        if self.n_themes == "auto":
            base = max(1, int(previous.base_docs))
            if not (base / growth <= n_docs <= base * growth) or not (1 <= k <= upper):
                return None
        elif k != int(self.n_themes):
            return None
        index = {key: j for j, key in enumerate(previous.keys)}
        cols = np.array([index.get(key, -1) for key in vocab])
        known = cols >= 0
        if known.sum() == 0:
            return None
        H = np.zeros((k, len(vocab)))
        H[:, known] = previous.components[:, cols[known]]
        if (H.max(axis=1) <= 0).any():  # a theme whose terms all left the vocabulary: start afresh
            return None
        return H

    def _fit_warm(self, V, H0: np.ndarray) -> NMF:
        """The themes ``H0`` continued on ``V``. In auto mode (fixed rows, see :meth:`_start_rows`) each
        row moves halfway to the centroid of the documents that now have it as their strongest theme (rows
        without such documents stay); with a fixed ``n_themes``, NMF starts from ``H0``."""
        from sklearn.decomposition import non_negative_factorization

        H = H0.astype(V.dtype)
        W, _, _ = non_negative_factorization(
            V, H=H, n_components=len(H), init="custom", update_H=False, solver="cd", max_iter=200
        )
        if self.n_themes == "auto":
            strongest = W.argmax(axis=1)
            sums = W.sum(axis=1)
            held = (sums > 0) & (W.max(axis=1) >= float(self.min_weight) * sums)
            for j in range(len(H)):
                rows = np.flatnonzero(held & (strongest == j))
                if len(rows):
                    H[j] = 0.5 * H[j] + 0.5 * np.asarray(V[rows].mean(axis=0)).ravel()
            return self._fitted_nmf(V, H)
        eps = _init_floor(V)
        W = np.maximum(W, eps).astype(V.dtype)
        return self._make_nmf(len(H), self.random_state, "custom").fit(V, W=W, H=np.maximum(H, 0.0))

    def _fitted_nmf(self, V, H: np.ndarray) -> NMF:
        """An NMF whose components are ``H`` as they are (for :meth:`transform`)."""
        nmf = self._make_nmf(len(H), self.random_state, "custom")
        nmf.components_ = H.astype(V.dtype)
        nmf.n_components_ = len(H)
        nmf.n_features_in_ = V.shape[1]
        nmf.n_iter_ = 0
        nmf.reconstruction_err_ = float("nan")
        return nmf

    def _fingerprint(self, keys: list[list[str]]) -> str:
        """Hash of the fit's input (stem lists in order), parameters and seed themes."""
        import hashlib

        h = hashlib.sha256(repr(sorted(self.get_params().items())).encode())
        h.update(repr(self.seeds_).encode())
        for ks in keys:
            h.update("\x1f".join(ks).encode())
            h.update(b"\x1e")
        return h.hexdigest()[:32]

    def _fit(self, docs: list[Sequence[str]], previous: ThemeState | None = None, label_terms=None):
        keys = self._keys(docs)
        # most frequent surface form per stem key -> readable feature names (counted per distinct pair
        # first, in C: a Counter per term occurrence took 5 s at 10,000 reports)
        pairs: Counter = Counter()
        for terms, ks in zip(docs, keys, strict=True):
            pairs.update(zip((t for t in terms if t), ks, strict=True))
        surfaces: dict[str, Counter] = defaultdict(Counter)
        for (t, k), n in pairs.items():
            surfaces[k][t.lower()] += n

        n_usable = sum(1 for ks in keys if ks)
        self.k_runs_ = []
        self.codebook_status_ = []
        self.vectorizer_ = None
        self.nmf_ = None
        V = None
        if n_usable:
            min_df, max_df = self.min_df, self.max_df
            if n_usable < 5:  # pruning makes no sense on a handful of documents
                min_df, max_df = 1, 1.0
            for attempt in ((min_df, max_df), (1, 1.0)):
                vec = TfidfVectorizer(
                    analyzer=_identity,
                    lowercase=False,
                    sublinear_tf=True,
                    min_df=attempt[0],
                    max_df=attempt[1],
                    max_features=self.max_features,
                )
                try:
                    V = vec.fit_transform(keys)
                except ValueError:  # no terms remain after pruning
                    continue
                self.vectorizer_ = vec
                break

        self.seeds_ = load_seed_themes(self.seed_themes)
        self.seed_support_ = {}
        if self.vectorizer_ is None or V is None or V.nnz == 0:
            self.feature_names_ = np.array([], dtype=object)
            self.n_themes_ = 0
            self.components_ = np.zeros((0, 0))
            self.themes_ = []
            self.merged_themes_ = []
            self._merge = None
            self.feature_weights_ = np.ones(0)
            self.warm_started_ = False
            self._previous_seeds, self._previous_merged = [], []
            self.base_docs_ = 0
            self.state_ = None
            return self

        vocab = self.vectorizer_.get_feature_names_out()
        self._seed_M = _seed_vectors(self.seeds_, vocab)  # seeds x features, used by every step below
        self.feature_names_ = np.array([surfaces[k].most_common(1)[0][0] for k in vocab], dtype=object)
        n_docs = int((V.getnnz(axis=1) > 0).sum())
        upper = min(int(self.max_themes) + len(self.seeds_), n_docs - 1, V.shape[1])
        S, active = self._seed_rows((V > 0).astype(np.float64), vocab) if n_docs >= 2 else (None, [])
        self.feature_weights_ = np.ones(V.shape[1])
        if S is not None:  # seed terms weigh more, so the seeded components keep to them
            self.feature_weights_ += (float(self.seed_boost) - 1.0) * S.max(axis=0)
            V = V @ sparse.diags(self.feature_weights_)
        H0 = self._warm_start(previous, vocab, n_docs, upper) if n_docs >= 2 else None
        self.warm_started_ = H0 is not None
        self._previous_seeds = list(previous.seed_keys) if H0 is not None else []
        self._previous_merged = list(previous.merged) if H0 is not None else []
        fingerprint = self._fingerprint(keys)
        if H0 is not None:
            k = len(H0)
            # the same input as the previous fit: its solution stands as it is (an idempotent rebuild)
            same = previous.fingerprint == fingerprint
            self.nmf_ = self._fitted_nmf(V, H0) if same else self._fit_warm(V, H0)
            self.base_docs_ = int(previous.base_docs)
        else:
            if self.n_themes == "auto" and n_docs >= 2:
                H = self._start_rows(V, S, active, self._consensus_groups(V))
                if len(H):
                    self.nmf_ = self._fitted_nmf(V, H)
                else:  # no group of documents holds together: one theme, or the codebook's alone
                    self.nmf_ = self._fit_nmf(V, max(1, 0 if S is None else len(S)), self.random_state, S)
                k = self.nmf_.n_components_
            else:
                k = 1 if self.n_themes == "auto" else max(1, min(int(self.n_themes), n_docs, V.shape[1]))
                self.nmf_ = self._fit_nmf(V, k, self.random_state, S)
            self.base_docs_ = n_docs
        self.n_themes_ = k
        named = self._name_themes(vocab)
        seed_keys = [t.key if t.seed else None for t in named]
        self._merge_seed_mixtures(self._confine_seed_themes(named, vocab), vocab)
        merged = [i in set(self._merge[0]) if self._merge else False for i in range(len(named))]
        demoted = self._name_from_reports(V, label_terms if label_terms is not None else docs)
        seed_keys = [None if key in demoted else key for key in seed_keys]
        self.state_ = ThemeState(
            list(vocab), self.nmf_.components_.copy(), self.base_docs_, seed_keys, merged, fingerprint
        )
        return self

    def _start_rows(
        self, V, S: np.ndarray | None, active: list[int], centroids: list[np.ndarray]
    ) -> np.ndarray:
        """The themes' components in auto mode: a row per supported codebook theme, then a row per
        consensus group (its centroid).

        A codebook theme's row is its terms (scaled to a centroid's norm) plus the centroid of the reports
        that use them, weighted by how many of its terms each uses; a group whose top terms the codebook
        theme's terms dominate (:data:`_SEED_MIN_SHARE`) is that centroid instead of a second row beside
        it. Documents are then projected onto these fixed rows (non-negative least squares): refitting NMF
        from them moved reports between themes and cost 0.03-0.06 NMI on held-out news."""
        F = [np.asarray(c, dtype=float) for c in centroids]
        norm = float(np.mean([np.linalg.norm(c) for c in F])) if F else 0.0
        rows: list[np.ndarray] = []
        if S is not None:
            M = self._seed_M[active]
            exact = (M >= 1.0).astype(np.float64)
            B = (V > 0).astype(np.float64).tocsr()
            taken: dict[int, int] = {}  # seed row -> group
            for g, row in enumerate(F):
                idx = _top_indices(row[None, :], _SEED_NAMING_TERMS)[0]
                mass = row[idx]
                share = (M[:, idx] @ mass) / max(float(mass.sum()), 1e-12)
                best = int(share.argmax())
                if share[best] >= _SEED_MIN_SHARE and best not in taken:
                    taken[best] = g
            for i in range(len(S)):
                if i in taken:
                    centroid = F[taken[i]]
                else:
                    uses = np.asarray(B @ exact[i]).ravel()
                    centroid = (
                        np.asarray(V.T @ uses).ravel() / uses.sum()
                        if uses.sum() > 0
                        else np.zeros(V.shape[1])
                    )
                scale = float(np.linalg.norm(centroid)) or norm or 1.0
                rows.append(S[i] / max(float(np.linalg.norm(S[i])), 1e-12) * scale + centroid)
            F = [row for g, row in enumerate(F) if g not in set(taken.values())]
        rows.extend(F)
        return np.array(rows) if rows else np.zeros((0, V.shape[1]))

    def _name_from_reports(self, V, label_terms: Sequence[Sequence[str]]) -> set[str]:
        """Name every theme from the reports it holds, and keep a codebook label only where they use it.

        Each report's strongest theme (at ``min_weight`` or more) names it; every theme of at least
        ``min_weight`` in a report counts for the codebook check: a codebook theme whose reports mostly
        (``seed_min_docs_share``) use fewer than two of its terms loses the codebook's label: it is named
        from its own terms like a discovered theme, and the codebook theme counts as not found. Sets
        ``themes_`` (ids: codebook themes their codebook position, the others after them) and
        ``codebook_status_``; returns the keys of the codebook themes that lost their label."""
        W = self._weights(V)
        primary = W.argmax(axis=1) if W.shape[1] else np.zeros(W.shape[0], int)
        primary[(W.max(axis=1) if W.shape[1] else np.zeros(W.shape[0])) < float(self.min_weight)] = -1
        top = class_terms(label_terms, primary, len(self.themes_), n_top=self.n_top_terms)
        B = (V > 0).astype(np.float64).tocsr()
        seed_pos = {s.key: i for i, s in enumerate(self.seeds_)}
        demoted: set[str] = set()
        renamed: list[Theme] = []
        status: dict[str, dict] = {}
        held = W >= float(self.min_weight)  # a report holds each theme of at least min_weight
        for j, theme in enumerate(self.themes_):
            members = np.flatnonzero(held[:, j])
            terms = top[j] or theme.top_terms
            if theme.seed:
                # a report uses a codebook theme's vocabulary when two of its terms (or compounds of them) occur
                vocab_hits = np.asarray(B[members] @ (self._seed_M[seed_pos[theme.key]] > 0)).ravel() >= 2
                share = float(vocab_hits.mean()) if len(members) else 0.0
                if len(members) and share >= float(self.seed_min_docs_share):
                    renamed.append(Theme(theme.theme_id, theme.label, terms, key=theme.key, seed=True))
                    status[theme.key] = {"found": True, "n_docs": len(members), "reason": ""}
                    continue
                demoted.add(theme.key)
                status[theme.key] = {
                    "found": False, "n_docs": 0,
                    "reason": f"its reports do not use its terms ({share:.0%} of {len(members)} do)"
                    if len(members) else "no report has it as one of its themes",
                }  # fmt: skip
                if not len(members):
                    renamed.append(Theme(-1, "", terms, key=""))
                    continue
            renamed.append(Theme(-1, theme_label(terms), terms, key=""))
        # ids and unique labels and keys for the themes named from their reports
        used_labels = {t.label for t in renamed if t.seed}
        used_keys = {s.key for s in self.seeds_}
        next_id = len(self.seeds_)
        out = []
        for theme in renamed:
            if theme.seed:
                out.append(theme)
                continue
            label = theme.label or theme_label(theme.top_terms) or f"Theme {next_id}"
            if label in used_labels:
                extra = next((t for t in theme.top_terms if _capitalise(t) not in label), None)
                label = f"{label} / {_capitalise(extra)}" if extra else f"{label} ({next_id})"
            used_labels.add(label)
            key = base = slugify(label) or f"theme-{next_id}"
            n = 2
            while key in used_keys:
                key, n = f"{base}-{n}", n + 1
            used_keys.add(key)
            out.append(Theme(next_id, label, theme.top_terms, key=key))
            next_id += 1
        self.themes_ = out
        self.codebook_status_ = []
        for seed in self.seeds_:
            row = status.get(seed.key)
            if row is None:
                support = self.seed_support_.get(seed.key, 0)
                row = {"found": False, "n_docs": 0,
                       "reason": f"its terms occur in {support} report(s), fewer than needed"
                       if support < self._min_seed_docs(V.shape[0]) else "no theme of the corpus is made of its terms"}  # fmt: skip
            self.codebook_status_.append({"key": seed.key, "label": seed.label, **row})
        return demoted

    def _min_seed_docs(self, n_docs: int) -> int:
        return int(self.min_seed_docs) if n_docs >= 5 else 1

    def _confine_seed_themes(self, themes: list[Theme], vocab) -> list[Theme]:
        """Take from each seed theme its weight on other seed themes' terms (those not among its own seed
        terms, exact stem matches only) and recompute its top terms.

        Seed terms name their theme: "Beteiligung" in a paragraph is evidence for the Beteiligung theme, not
        for Interkommunale Zusammenarbeit, even when the reports that fitted that theme also spoke of
        Beteiligung. Without this a seed theme fitted on reports covering two known themes absorbs the other
        theme's terms, and :meth:`transform` gives a paragraph about both to one theme only.
        """
        seed_rows = [i for i, t in enumerate(themes) if t.seed]
        if not seed_rows:
            return themes
        M = self._seed_M >= 1.0
        H = self.nmf_.components_
        out = list(themes)
        for i in seed_rows:
            own = themes[i].theme_id  # a seed theme's id is its position in the seed list
            foreign = np.delete(M, own, axis=0).any(axis=0) & ~M[own]
            H[i, foreign] = 0.0
            terms = [str(self.feature_names_[j]) for j in _top_indices(H[i : i + 1], self.n_top_terms)[0]
                     if H[i, j] > 0]  # fmt: skip
            out[i] = Theme(themes[i].theme_id, themes[i].label, terms, key=themes[i].key, seed=True)
        return out

    def _merge_seed_mixtures(self, themes: list[Theme], vocab) -> None:
        """Fold discovered themes made of seed terms into those seed themes; set the public theme state.

        A discovered theme whose top-term weight is at least ``merge_seed_share`` seed terms (of the seed
        themes this model learned) is a mixture of known themes, typically a report covering two of them. It
        is dropped from ``themes_``/``components_``; :meth:`transform` hands its weight in each document to
        the seed themes whose terms carry it there (see :meth:`_fold_mixtures`). Discovered ids stay
        consecutive after the seeds'.
        """
        H = self.nmf_.components_
        seed_idx = [i for i, t in enumerate(themes) if t.seed]
        mixed: list[int] = []
        attribution = fallback = None
        if seed_idx and self.merge_seed_share is not None and len(themes) > len(seed_idx):
            M = self._seed_M[[themes[i].theme_id for i in seed_idx]]
            covered = M.max(axis=0)
            rows = []
            for i, idx in enumerate(_top_indices(H, _SEED_NAMING_TERMS)):
                mass = H[i, idx]
                if themes[i].seed or mass.sum() <= 0:
                    continue
                # hysteresis for continued components: one merged before stays merged down to a share
                # _MERGE_HYSTERESIS lower, one kept before needs a share that much higher to be merged
                was = self._previous_merged[i] if i < len(self._previous_merged) else None
                shift = 0.0 if was is None else (-_MERGE_HYSTERESIS if was else _MERGE_HYSTERESIS)
                if float(covered[idx] @ mass) / float(mass.sum()) >= float(self.merge_seed_share) + shift:
                    mixed.append(i)
                    rows.append(M[:, idx] @ mass)
            if mixed:
                attribution = M / np.maximum(M.sum(axis=0), 1.0)  # a term shared by two seeds is split
                fallback = np.array(rows) / np.array(rows).sum(axis=1, keepdims=True)
        kept = [i for i in range(len(themes)) if i not in set(mixed)]
        self._merge = (mixed, seed_idx, attribution, fallback, kept) if mixed else None
        self.merged_themes_ = [themes[i] for i in mixed]
        if mixed:
            logger.info("themes merged into seed themes: %s", ", ".join(themes[i].label for i in mixed))
        next_id = len(self.seeds_)
        self.themes_ = []
        for i in kept:
            theme = themes[i]
            if not theme.seed:
                theme = Theme(next_id, theme.label, theme.top_terms, key=theme.key)
                next_id += 1
            self.themes_.append(theme)
        self.components_ = H[kept]
        self.n_themes_ = len(kept)

    def _fold_mixtures(self, W: np.ndarray, V) -> np.ndarray:
        """Move each merged theme's weight to the seed themes, in proportion to the seed terms it explains
        in that document (its whole-theme seed shares where the document has none); keep the other columns."""
        if self._merge is None:
            return W
        mixed, seed_idx, attribution, fallback, kept = self._merge
        B = (V > 0).astype(np.float64)
        W = W.copy()
        for j, default in zip(mixed, fallback, strict=True):
            explained = B.multiply(self.nmf_.components_[j][None, :]).tocsr()
            per_seed = np.asarray(explained @ attribution.T)
            total = per_seed.sum(axis=1, keepdims=True)
            share = np.where(total > 0, per_seed / np.where(total > 0, total, 1.0), default[None, :])
            W[:, seed_idx] += W[:, [j]] * share
        return W[:, kept]

    def _name_themes(self, vocab) -> list[Theme]:
        """Themes for the learned components: seed-dominated ones take the seed's name, the rest get provisional labels."""
        from scipy.optimize import linear_sum_assignment

        H = self.nmf_.components_
        named: dict[int, int] = {}  # component -> seed index
        if self.seeds_ and len(H):
            M = self._seed_M
            share = np.zeros((len(H), len(self.seeds_)))
            for i, idx in enumerate(_top_indices(H, _SEED_NAMING_TERMS)):
                mass = H[i, idx]
                if mass.sum() > 0:
                    share[i] = (M[:, idx] @ mass) / mass.sum()
            # a continued component keeps the seed it was named after while the seed carries at least half
            # the share needed to name a new one (hysteresis: a theme does not flip names on small changes)
            prefer = np.zeros_like(share)
            seed_index = {s.key: j for j, s in enumerate(self.seeds_)}
            for i, key in enumerate(self._previous_seeds[: len(H)]):
                if key in seed_index and share[i, seed_index[key]] >= _SEED_MIN_SHARE / 2:
                    prefer[i, seed_index[key]] = 1.0
                    share[i, seed_index[key]] = max(share[i, seed_index[key]], _SEED_MIN_SHARE)
            share[share < _SEED_MIN_SHARE] = 0.0  # match only eligible pairs, then maximise the total share
            rows, cols = linear_sum_assignment(-(share + prefer))
            named = {
                int(r): int(c) for r, c in zip(rows, cols, strict=True) if share[r, c] >= _SEED_MIN_SHARE
            }
        themes = []
        next_id = len(self.seeds_)
        for i, idx in enumerate(_top_indices(H, self.n_top_terms)):
            terms = [str(self.feature_names_[j]) for j in idx if H[i, j] > 0]
            if i in named:
                seed = self.seeds_[named[i]]
                themes.append(Theme(named[i], seed.label, terms, key=seed.key, seed=True))
                continue
            # provisional: :meth:`_name_from_reports` gives discovered themes their names, keys and ids
            themes.append(Theme(next_id, theme_label(terms), terms))
            next_id += 1
        return themes

    def transform(self, X) -> np.ndarray:
        """Documents x themes weights; each non-zero row sums to 1 (all-zero rows stay zero)."""
        check_is_fitted(self, "n_themes_")
        docs = list(X)
        if self.nmf_ is None:
            return np.zeros((len(docs), self.n_themes_))
        return self._weights(
            self.vectorizer_.transform(self._keys(docs)) @ sparse.diags(self.feature_weights_)
        )

    def _weights(self, V) -> np.ndarray:
        """:meth:`transform` of documents already vectorised (and weighted) as in :meth:`fit`."""
        W = self._fold_mixtures(self.nmf_.transform(V), V)
        sums = W.sum(axis=1, keepdims=True)
        return np.divide(W, sums, out=np.zeros_like(W), where=sums > 0)

    def predict(self, X) -> np.ndarray:
        """Strongest theme per document; -1 where no theme reaches ``min_weight`` (no clear theme, or no
        known term)."""
        W = self.transform(X)
        if W.shape[1] == 0:
            return np.full(W.shape[0], -1)
        labels = W.argmax(axis=1)
        labels[W.max(axis=1) < float(self.min_weight)] = -1
        return labels

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Readable feature names (most frequent surface form of each stem), in ``components_`` order."""
        check_is_fitted(self, "n_themes_")
        return self.feature_names_.copy()


# ---------------------------------------------------------------------------------------------------------
# Stable ids across runs
# ---------------------------------------------------------------------------------------------------------

#: a new discovered theme takes an old theme's id when their top-term stem sets have at least this Jaccard
MIN_MATCH_SIMILARITY = 0.3
DRIFT_STATUSES = ("new", "grown", "shrunk", "stable", "faded")


def _term_set(terms) -> frozenset[str]:
    if isinstance(terms, str):
        terms = terms.split(", ")
    return frozenset(_stem_term(t) for t in terms if t)


def match_themes(
    themes: Sequence[Theme], previous, *, min_similarity: float = MIN_MATCH_SIMILARITY
) -> list[Theme]:
    """``themes`` with the ids, keys and labels of the previous run's themes they continue.

    ``previous`` is the previous run's ``themes`` table (a DataFrame with ``theme_id``, ``label``,
    ``top_terms``, ``theme_key`` and ``seed``; ``None`` or empty: nothing to match). Seed themes keep their
    seed ids. Discovered themes are matched one-to-one (Hungarian assignment) to the previous discovered
    themes by the Jaccard similarity of their top-term stems; a pair at ``min_similarity`` or above keeps
    the old ``theme_id``, ``key`` and ``label``. Unmatched themes get ids above the largest id the previous
    run used (and above the seeds'), so an id never changes its meaning between two runs.
    """
    from scipy.optimize import linear_sum_assignment

    themes = list(themes)
    if previous is None or len(previous) == 0:
        return themes
    prev = previous.reset_index(drop=True)
    is_seed = prev["seed"].fillna(False).astype(bool) if "seed" in prev else np.zeros(len(prev), bool)
    old = prev[~np.asarray(is_seed)].reset_index(drop=True)
    new_idx = [i for i, t in enumerate(themes) if not t.seed]
    matched: dict[int, int] = {}  # index into themes -> row of old
    if new_idx and len(old):
        old_sets = [_term_set(str(t) if t is not None else "") for t in old["top_terms"].fillna("")]
        sim = np.zeros((len(new_idx), len(old)))
        for a, i in enumerate(new_idx):
            mine = _term_set(themes[i].top_terms)
            for b, theirs in enumerate(old_sets):
                sim[a, b] = len(mine & theirs) / max(1, len(mine | theirs))
        rows, cols = linear_sum_assignment(-sim)
        matched = {new_idx[r]: int(c) for r, c in zip(rows, cols, strict=True) if sim[r, c] >= min_similarity}
    ids = [int(x) for x in prev["theme_id"].dropna()] + [t.theme_id for t in themes if t.seed]
    next_id = max([*ids, -1]) + 1
    used_keys = {t.key for t in themes if t.seed}
    if "theme_key" in prev:
        used_keys |= {str(k) for k in prev["theme_key"].dropna()}
    out = []
    for i, theme in enumerate(themes):
        if theme.seed:
            out.append(theme)
        elif i in matched:
            row = old.iloc[matched[i]]
            key = row["theme_key"] if "theme_key" in old and isinstance(row["theme_key"], str) else theme.key
            out.append(Theme(int(row["theme_id"]), str(row["label"]), theme.top_terms, key=key))
        else:
            key, base, n = theme.key, theme.key, 2
            while key in used_keys:
                key, n = f"{base}-{n}", n + 1
            used_keys.add(key)
            out.append(Theme(next_id, theme.label, theme.top_terms, key=key))
            next_id += 1
    return out


def theme_drift(current: Sequence[dict], previous, *, tolerance: float = 0.1) -> list[dict]:
    """How each theme moved since the previous run: rows ``theme_id, label, status, n_docs_before,
    n_docs_after``.

    ``current`` are this run's theme rows (``theme_id``, ``label``, ``n_docs``), ``previous`` the previous
    run's ``themes`` table or ``None``. Status: ``new`` (id not there before), ``faded`` (gone now),
    ``grown``/``shrunk`` when its report count changed by more than ``tolerance`` of the old count, else
    ``stable``.
    """
    before: dict[int, tuple[str, int]] = {}
    if previous is not None and len(previous):
        for row in previous.itertuples(index=False):
            n = getattr(row, "n_docs", 0)
            before[int(row.theme_id)] = (str(row.label), 0 if n is None or n != n else int(n))
    rows = []
    for theme in current:
        tid, after = int(theme["theme_id"]), int(theme.get("n_docs") or 0)
        if tid not in before:
            status, n_before = "new", None
        else:
            n_before = before[tid][1]
            change = after - n_before
            if abs(change) <= tolerance * n_before:
                status = "stable"
            else:
                status = "grown" if change > 0 else "shrunk"
        rows.append({"theme_id": tid, "label": theme["label"], "status": status,
                     "n_docs_before": n_before, "n_docs_after": after})  # fmt: skip
    seen = {int(t["theme_id"]) for t in current}
    for tid, (label, n_before) in sorted(before.items()):
        if tid not in seen:
            rows.append({"theme_id": tid, "label": label, "status": "faded",
                         "n_docs_before": n_before, "n_docs_after": 0})  # fmt: skip
    return rows


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------


def _term_lists(texts: Sequence[str], nlp) -> list[list[str]]:
    if nlp is None:
        import spacy

        nlp = spacy.blank("de")
    return [content_terms(doc) for doc in nlp.pipe(texts, batch_size=64)]


def score_themes(documents, doc_themes, themes, gold: dict[str, str]) -> dict:
    """How a run's themes (its ``documents``, ``doc_themes`` and ``themes`` tables) match gold labels.

    ``gold`` maps a document's file name without suffix (``documents.path``'s stem) to its label; documents
    without a gold label are left out. A document's theme is its rank-1 theme, or "none" (-1) when it has no
    theme. Returns ``nmi``, ``ari``, ``n_themes``, ``n_labels``, ``n_docs``, ``largest_share`` (the largest
    theme's share of the documents), ``no_theme_share`` and ``npmi`` (coherence of the themes' top terms
    over the documents' words, :func:`npmi_coherence`)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    docs = documents[["doc_id", "path", "text"]].copy()
    docs["key"] = [Path(p).stem for p in docs["path"]]
    docs = docs[docs["key"].isin(gold.keys())]
    if docs.empty:
        raise ValueError(
            "no document of the run has a gold label (labels are keyed by file name without suffix)"
        )
    first = doc_themes[(doc_themes["rank"] == 1) & doc_themes["assigned"].fillna(True).astype(bool)]
    first = first.set_index("doc_id")["theme_id"]
    pred = [int(first.get(d, -1)) for d in docs["doc_id"]]
    labels = [gold[k] for k in docs["key"]]
    counts = Counter(pred)
    n = len(pred)
    words = [unit_words(text, ()) for text in docs["text"]]
    top = [str(t).split(", ") for t in themes["top_terms"].fillna("") if str(t)]
    return {
        "nmi": float(normalized_mutual_info_score(labels, pred)),
        "ari": float(adjusted_rand_score(labels, pred)),
        "n_themes": int(len(themes)),
        "n_labels": len(set(labels)),
        "n_docs": n,
        "largest_share": max((c for t, c in counts.items() if t >= 0), default=0) / n,
        "no_theme_share": counts.get(-1, 0) / n,
        "npmi": npmi_coherence(top, words),
    }


def baseline_themes(texts: Sequence[str], labels: Sequence[str], *, random_state: int = 0) -> dict:
    """A reference point, not reportminer's themes: plain word TF-IDF + NMF told the true number of labels
    (k = number of labels), argmax per document. Returns ``nmi``, ``ari`` and ``n_themes``."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    k = len(set(labels))
    V = TfidfVectorizer(
        stop_words=sorted(stopwords()), max_df=0.8, min_df=2, sublinear_tf=True
    ).fit_transform(texts)
    pred = (
        NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=300)
        .fit_transform(V)
        .argmax(1)
    )
    return {
        "nmi": float(normalized_mutual_info_score(labels, pred)),
        "ari": float(adjusted_rand_score(labels, pred)),
        "n_themes": k,
    }


def read_labels(folder: Path, labels_csv: Path, label_column: str = "label") -> dict[str, str]:
    """doc_id -> label from a CSV with ``doc_id`` and a label column, checking that each
    ``folder/texts/<doc_id>.txt`` exists (the texts are not read)."""
    import csv

    from reportminer.errors import InputError

    folder, labels_csv = Path(folder), Path(labels_csv)
    if not (folder / "texts").is_dir():
        raise InputError(f"{folder} has no texts/ folder (is ../shared/data beside the repository?)")
    if not labels_csv.is_file():
        raise InputError(f"labels CSV {labels_csv} not found; give --labels")
    labels: dict[str, str] = {}
    with labels_csv.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if (
            not reader.fieldnames
            or "doc_id" not in reader.fieldnames
            or label_column not in reader.fieldnames
        ):
            raise InputError(
                f"{labels_csv}: needs columns doc_id and {label_column!r}, has {reader.fieldnames}"
            )
        for row in reader:
            path = folder / "texts" / f"{row['doc_id']}.txt"
            if not path.is_file():
                raise InputError(f"missing text for doc_id {row['doc_id']!r}: {path}")
            labels[row["doc_id"]] = row[label_column]
    return labels
