"""Recurring themes: theme terms from spaCy Docs, a scikit-learn style NMF theme model, evaluation.

``content_terms(doc)`` turns a Doc into theme-relevant terms (content words and adjective+noun
bigrams, lowercased, entity tokens and boilerplate removed). It works with a bare ``spacy.blank("de")``
pipeline (capitalisation heuristics) and uses lemmas/POS tags when the pipeline sets them.

``ThemeModel`` follows scikit-learn's estimator contract: ``fit(list_of_term_lists)`` learns a TF-IDF
vocabulary keyed by German Snowball stems and an NMF factorisation; with ``n_themes="auto"`` the number
of themes is chosen by top-term stability across perturbed refits.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import combinations
from pathlib import Path

import numpy as np
import snowballstemmer
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

logger = logging.getLogger(__name__)

__all__ = [
    "Theme",
    "ThemeModel",
    "content_terms",
    "evaluate_themes",
    "npmi_coherence",
    "stopwords",
    "theme_label",
]

# ---------------------------------------------------------------------------------------------------------
# Term extraction
# ---------------------------------------------------------------------------------------------------------

#: spaCy STOP_WORDS entries that are real content in meeting reports (Mittel = funds, Recht = law).
_KEEP_CONTENT = frozenset({"mittel", "recht"})
_CONTENT_POS = frozenset({"NOUN", "ADJ", "VERB"})
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
    stop = stopwords()
    has_lemma = doc.has_annotation("LEMMA")
    has_pos = doc.has_annotation("POS")
    in_ent = np.zeros(len(doc), dtype=bool)
    for ent in doc.ents:
        in_ent[ent.start : ent.end] = True

    # per token: its term (or None) and whether it may start / end a bigram
    terms: list[str | None] = [None] * len(doc)
    for tok in doc:
        text = tok.text
        if in_ent[tok.i] or len(text) < 3 or tok.is_punct or tok.like_num or tok.is_space:
            continue
        if tok.like_url or tok.like_email or _URL_RE.search(text) or not _WORD_RE.match(text):
            continue
        lower = text.lower()
        if lower in stop:
            continue
        if has_pos:
            if tok.pos_ not in _CONTENT_POS:
                continue
        else:
            sent_initial = tok.is_sent_start if doc.has_annotation("SENT_START") else None
            if sent_initial is None:
                sent_initial = tok.i == 0 or doc[tok.i - 1].text in _SENT_END
            if text[0].isupper():
                if text.isupper() and len(text) <= 5:  # acronyms are mostly organisations
                    continue
                if sent_initial and len(text) < 5:
                    continue
            elif len(text) < _MIN_LOWER_LEN:
                continue
        term = tok.lemma_.lower() if has_lemma and tok.lemma_ else lower
        if len(term) < 3 or term in stop:
            continue
        terms[tok.i] = term

    out = [t for t in terms if t is not None]
    for left, right in zip(doc[:-1], doc[1:], strict=True):
        lt, rt = terms[left.i], terms[right.i]
        if lt is None or rt is None:
            continue
        if has_pos:
            ok = left.pos_ == "ADJ" and right.pos_ == "NOUN"
        else:
            ok = _is_adjective_like(left.text) and right.text[0].isupper() and not right.text.isupper()
        if ok:
            adj = _normalise_adjective(left.lower_ if not has_lemma else lt)
            out.append(f"{adj} {rt}")
    return out


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


@dataclass
class Theme:
    """One learned theme."""

    theme_id: int
    label: str
    top_terms: list[str] = field(default_factory=list)


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


def _top_indices(components: np.ndarray, n: int) -> list[list[int]]:
    return [list(np.argsort(-row, kind="stable")[:n]) for row in components]


def _npmi_from_matrix(B, top: list[list[int]]) -> float:
    """Mean per-theme NPMI of top-term pairs; ``B`` is the binary documents x features matrix (sparse)."""
    n = B.shape[0]
    scores = []
    for idx in top:
        if len(idx) < 2:
            continue
        sub = B[:, idx]
        co = np.asarray((sub.T @ sub).todense(), dtype=float) / n
        p = np.diag(co).copy()
        vals = []
        for a, b in combinations(range(len(idx)), 2):
            if p[a] == 0 or p[b] == 0:
                continue
            pab = co[a, b]
            if pab == 0:
                vals.append(-1.0)
            elif pab >= 1.0:
                vals.append(1.0)
            else:
                vals.append(math.log(pab / (p[a] * p[b])) / -math.log(pab))
        if vals:
            scores.append(float(np.mean(vals)))
    return float(np.mean(scores)) if scores else float("nan")


def _topic_diversity(top: list[list[int]]) -> float:
    """Share of distinct terms among all themes' top terms (1.0: no theme repeats another's terms)."""
    total = sum(len(t) for t in top)
    return len({j for t in top for j in t}) / total if total else 0.0


def _topic_agreement(a: list[list[int]], b: list[list[int]]) -> float:
    """Mean Jaccard of top-term sets after the best one-to-one matching of the two topic sets."""
    from scipy.optimize import linear_sum_assignment

    sim = np.zeros((len(a), len(b)))
    for i, ta in enumerate(a):
        sa = set(ta)
        for j, tb in enumerate(b):
            sb = set(tb)
            sim[i, j] = len(sa & sb) / max(1, len(sa | sb))
    rows, cols = linear_sum_assignment(-sim)
    return float(sim[rows, cols].mean())


# ---------------------------------------------------------------------------------------------------------
# The estimator
# ---------------------------------------------------------------------------------------------------------


class ThemeModel(TransformerMixin, BaseEstimator):
    """TF-IDF + NMF themes over term lists (``list[list[str]]``, e.g. from :func:`content_terms`).

    Terms are grouped by German Snowball stem; each feature is shown as its most frequent surface form.
    ``n_themes="auto"`` picks k in ``[min_themes, min(max_themes, n_docs - 1)]`` by ``k_criterion``:
    ``"coherence"`` (default): topic quality = mean NPMI of each theme's top ``n_top_terms`` terms over
    document co-occurrence (rescaled to [0, 1]) x topic diversity (share of distinct top terms);
    ``"stability"``: mean best-matched Jaccard of top-term sets between the full fit and fits on
    ``n_stability_runs`` 80 % subsamples; ``"product"``: quality x stability. Ties (within
    1e-6) go to fewer themes. ``beta_loss="kullback-leibler"`` switches NMF to the "mu" solver.

    Fitted attributes: ``vectorizer_``, ``nmf_`` (None when no theme can be learned), ``n_themes_``,
    ``components_`` (themes x features), ``themes_`` (list of :class:`Theme`), ``feature_names_``,
    ``k_scores_`` (dict k -> criterion score, auto mode only).
    """

    def __init__(
        self,
        n_themes="auto",
        min_themes=2,
        max_themes=12,
        max_df=0.8,
        min_df=2,
        n_top_terms=10,
        random_state=0,
        beta_loss="frobenius",
        k_criterion="coherence",
        n_stability_runs=3,
        max_features=None,
    ):
        self.n_themes = n_themes
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.max_df = max_df
        self.min_df = min_df
        self.n_top_terms = n_top_terms
        self.random_state = random_state
        self.beta_loss = beta_loss
        self.k_criterion = k_criterion
        self.n_stability_runs = n_stability_runs
        self.max_features = max_features

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _keys(X: Iterable[Sequence[str]]) -> list[list[str]]:
        return [[_stem_term(t) for t in terms if t] for terms in X]

    def _make_nmf(self, k: int, seed: int) -> NMF:
        kl = self.beta_loss != "frobenius"
        return NMF(
            n_components=k,
            init="nndsvda",
            solver="mu" if kl else "cd",
            beta_loss=self.beta_loss,
            max_iter=400 if kl else 300,
            tol=1e-4,
            random_state=seed,
        )

    def _choose_k(self, V, k_values: list[int]) -> int:
        """Score each candidate k on the full matrix ``V`` and return the best (ties -> fewer themes)."""
        if self.k_criterion not in ("coherence", "stability", "product"):
            raise ValueError(
                f"k_criterion must be 'coherence', 'stability' or 'product', not {self.k_criterion!r}"
            )
        B = (V > 0).astype(np.float64).tocsc()
        n_docs = V.shape[0]
        rng = np.random.RandomState(self.random_state)
        size = max(2, int(round(0.8 * n_docs)))
        samples = [
            rng.choice(n_docs, size=size, replace=False) for _ in range(max(1, int(self.n_stability_runs)))
        ]
        scores: dict[int, float] = {}
        for k in k_values:
            ref = _top_indices(self._make_nmf(k, self.random_state).fit(V).components_, self.n_top_terms)
            score = 1.0
            if self.k_criterion in ("coherence", "product"):
                npmi = _npmi_from_matrix(B, ref)
                score *= (npmi + 1.0) / 2.0 if not math.isnan(npmi) else 0.0  # NPMI in [-1, 1] -> [0, 1]
                score *= _topic_diversity(ref)  # split themes repeat their top terms
            if self.k_criterion in ("stability", "product"):
                agreements = []
                for run, idx in enumerate(samples):
                    sub = V[idx]
                    nmf = self._make_nmf(k, self.random_state + run + 1)
                    if k > min(sub.shape):  # nndsvda needs k <= min(n_samples, n_features)
                        nmf.set_params(init="random")
                    nmf.fit(sub)
                    agreements.append(_topic_agreement(ref, _top_indices(nmf.components_, self.n_top_terms)))
                score *= float(np.mean(agreements))
            scores[k] = score
        self.k_scores_ = scores
        best = max(scores.values())
        chosen = min(k for k, sc in scores.items() if sc >= best - 1e-6)
        logger.debug("theme k scores (%s): %s -> k=%d", self.k_criterion, scores, chosen)
        return chosen

    # -- estimator API -----------------------------------------------------------------------------

    def fit(self, X, y=None):
        """Learn vocabulary, number of themes and theme-term weights from term lists ``X``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # NMF at max_iter is fine for themes
            return self._fit(list(X))

    def _fit(self, docs: list[Sequence[str]]):
        keys = self._keys(docs)
        # most frequent surface form per stem key -> readable feature names
        surfaces: dict[str, Counter] = {}
        for terms, ks in zip(docs, keys, strict=True):
            for t, k in zip((t for t in terms if t), ks, strict=True):
                surfaces.setdefault(k, Counter())[t.lower()] += 1

        n_usable = sum(1 for ks in keys if ks)
        self.k_scores_ = {}
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

        if self.vectorizer_ is None or V is None or V.nnz == 0:
            self.feature_names_ = np.array([], dtype=object)
            self.n_themes_ = 0
            self.components_ = np.zeros((0, 0))
            self.themes_ = []
            return self

        vocab = self.vectorizer_.get_feature_names_out()
        self.feature_names_ = np.array([surfaces[k].most_common(1)[0][0] for k in vocab], dtype=object)
        n_docs = int((V.getnnz(axis=1) > 0).sum())
        upper = min(int(self.max_themes), n_docs - 1, V.shape[1])
        if self.n_themes == "auto":
            if n_docs < 2:
                k = 1
            elif upper < self.min_themes:
                k = max(1, upper)
            else:
                k = self._choose_k(V, list(range(int(self.min_themes), upper + 1)))
        else:
            k = max(1, min(int(self.n_themes), n_docs, V.shape[1]))
        self.nmf_ = self._make_nmf(k, self.random_state).fit(V)
        self.n_themes_ = k
        self.components_ = self.nmf_.components_
        top = _top_indices(self.components_, self.n_top_terms)
        self.themes_ = []
        for i, idx in enumerate(top):
            terms = [str(self.feature_names_[j]) for j in idx if self.components_[i, j] > 0]
            self.themes_.append(Theme(theme_id=i, label=theme_label(terms), top_terms=terms))
        return self

    def transform(self, X) -> np.ndarray:
        """Documents x themes weights; each non-zero row sums to 1 (all-zero rows stay zero)."""
        check_is_fitted(self, "n_themes_")
        docs = list(X)
        if self.nmf_ is None:
            return np.zeros((len(docs), self.n_themes_))
        V = self.vectorizer_.transform(self._keys(docs))
        W = self.nmf_.transform(V)
        sums = W.sum(axis=1, keepdims=True)
        return np.divide(W, sums, out=np.zeros_like(W), where=sums > 0)

    def predict(self, X) -> np.ndarray:
        """Argmax theme per document; -1 where the document has no known term."""
        W = self.transform(X)
        if W.shape[1] == 0:
            return np.full(W.shape[0], -1)
        labels = W.argmax(axis=1)
        labels[W.sum(axis=1) == 0] = -1
        return labels

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Readable feature names (most frequent surface form of each stem), in ``components_`` order."""
        check_is_fitted(self, "n_themes_")
        return self.feature_names_.copy()


# ---------------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------------


def _term_lists(texts: Sequence[str], nlp) -> list[list[str]]:
    if nlp is None:
        import spacy

        nlp = spacy.blank("de")
    return [content_terms(doc) for doc in nlp.pipe(texts, batch_size=64)]


def evaluate_themes(
    texts: list[str],
    labels: list[str],
    *,
    nlp=None,
    random_state: int = 0,
    baseline: bool = False,
    model: ThemeModel | None = None,
) -> dict:
    """Fit themes on ``texts`` and compare argmax assignments with gold ``labels``.

    Returns ``{"nmi", "ari", "n_themes", "n_labels", "npmi"}``. ``baseline=True`` measures plain word
    TF-IDF + NMF with k = number of labels instead (``npmi`` then uses its top words on the term lists).
    ``model`` overrides the default ``ThemeModel(n_themes="auto", random_state=random_state)``.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    n_labels = len(set(labels))
    term_lists = _term_lists(texts, nlp)
    if baseline:
        vec = TfidfVectorizer(stop_words=sorted(stopwords()), max_df=0.8, min_df=2, sublinear_tf=True)
        V = vec.fit_transform(texts)
        nmf = NMF(n_components=n_labels, init="nndsvda", random_state=random_state, max_iter=300)
        pred = nmf.fit_transform(V).argmax(axis=1)
        names = vec.get_feature_names_out()
        top_terms = [[str(names[j]) for j in idx] for idx in _top_indices(nmf.components_, 10)]
        n_themes = n_labels
    else:
        tm = model if model is not None else ThemeModel(random_state=random_state)
        tm.fit(term_lists)
        pred = tm.predict(term_lists)
        top_terms = [t.top_terms for t in tm.themes_]
        n_themes = tm.n_themes_
    return {
        "nmi": float(normalized_mutual_info_score(labels, pred)),
        "ari": float(adjusted_rand_score(labels, pred)),
        "n_themes": int(n_themes),
        "n_labels": n_labels,
        "npmi": npmi_coherence(top_terms, term_lists),
    }


def read_labelled_folder(
    folder: Path, labels_csv: Path, label_column: str = "label"
) -> tuple[list[str], list[str]]:
    """Texts (``folder/texts/<doc_id>.txt``) and their labels from a CSV with ``doc_id`` and a label column."""
    import csv

    from reportminer.errors import InputError

    folder, labels_csv = Path(folder), Path(labels_csv)
    if not (folder / "texts").is_dir():
        raise InputError(f"{folder} has no texts/ folder (is ../shared/data beside the repository?)")
    if not labels_csv.is_file():
        raise InputError(f"labels CSV {labels_csv} not found; give --labels")
    texts, labels = [], []
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
            texts.append(path.read_text(encoding="utf-8"))
            labels.append(row[label_column])
    return texts, labels
