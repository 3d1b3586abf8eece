"""Read and write pre-tokenised NER gold in the token<TAB>IOB2 format of ../shared/data/README.md."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spacy.tokens import Doc
from spacy.training import biluo_tags_to_spans, iob_to_biluo
from spacy.vocab import Vocab

from reportminer.errors import InputError


@dataclass(frozen=True)
class Sentence:
    tokens: list[str]
    tags: list[str]


def read_conll(path: Path) -> Iterator[Sentence]:
    """Yield sentences from a token<TAB>tag file; blank lines separate sentences.

    A bare ``#`` is a token, not a comment (GermEval has them). Lines with more than two columns
    keep the first two.
    """
    tokens: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\n\r")
            if not line.strip():
                if tokens:
                    yield Sentence(tokens, tags)
                    tokens, tags = [], []
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                raise InputError(f"{path}:{lineno}: expected 'token<TAB>tag', got {line!r}")
            tag = parts[1].strip() or "O"
            if tag != "O" and not (tag[:2] in ("B-", "I-") and len(tag) > 2):
                raise InputError(f"{path}:{lineno}: tag {tag!r} is not IOB2 (O, B-X or I-X)")
            tokens.append(parts[0])
            tags.append(tag)
    if tokens:
        yield Sentence(tokens, tags)


def sentence_to_doc(vocab: Vocab, sentence: Sentence) -> Doc:
    """A Doc with the gold entities of ``sentence`` set (ill-formed I- tags start a new entity)."""
    doc = Doc(vocab, words=sentence.tokens, spaces=[True] * len(sentence.tokens))
    fixed = []
    prev = "O"
    for tag in sentence.tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        fixed.append(tag)
        prev = tag
    doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(fixed))
    return doc


def doc_to_iob(doc: Doc) -> list[str]:
    """IOB2 tags of ``doc``'s entities, one per token."""
    return [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in doc]


def write_conll(path: Path, sentences: Iterable[Sentence]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for sentence in sentences:
            for token, tag in zip(sentence.tokens, sentence.tags, strict=True):
                fh.write(f"{token}\t{tag}\n")
            fh.write("\n")


def iob_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Entity spans (start, end, label) of an IOB2 tag sequence; a stray I- starts a new entity."""
    spans, start, label = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        if tag == "O" or tag.startswith("B-") or (tag.startswith("I-") and tag[2:] != label):
            if start is not None:
                spans.add((start, i, label))
            start, label = (i, tag[2:]) if tag != "O" else (None, None)
    return spans


def score_ner(gold: Iterable[Sentence], predicted: Iterable[Sentence]) -> dict:
    """Entity-level precision/recall/F1 (exact span and label), per label and micro-averaged."""
    from collections import Counter

    tp, n_gold, n_pred = Counter(), Counter(), Counter()
    n_sentences = 0
    for g, p in zip(gold, predicted, strict=True):
        gs, ps = iob_spans(g.tags), iob_spans(p.tags)
        for s in gs:
            n_gold[s[2]] += 1
        for s in ps:
            n_pred[s[2]] += 1
        for s in gs & ps:
            tp[s[2]] += 1
        n_sentences += 1

    def prf(t: int, g: int, p: int) -> dict:
        precision = t / p if p else 0.0
        recall = t / g if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                "gold": g, "predicted": p}  # fmt: skip

    labels = sorted(set(n_gold) | set(n_pred))
    return {
        "sentences": n_sentences,
        "per_label": {lab: prf(tp[lab], n_gold[lab], n_pred[lab]) for lab in labels},
        "micro": prf(sum(tp.values()), sum(n_gold.values()), sum(n_pred.values())),
    }


def predict_sentences(nlp, sentences: list[Sentence], *, batch_size: int = 256) -> list[Sentence]:
    """Tag pre-tokenised sentences with the full entity pipeline (model and rules, role words split off)."""
    from reportminer.entities import NAME_LABELS, entity_token_spans

    names = [n for n in nlp.pipe_names if n != "reportminer_dates"]
    docs = (Doc(nlp.vocab, words=s.tokens, spaces=[True] * len(s.tokens)) for s in sentences)
    out = []
    with nlp.select_pipes(enable=names):
        for sentence, doc in zip(sentences, nlp.pipe(docs, batch_size=batch_size), strict=True):
            tags = ["O"] * len(doc)
            for start, end, label in entity_token_spans(doc, labels=NAME_LABELS):
                tags[start] = f"B-{label}"
                for i in range(start + 1, end):
                    tags[i] = f"I-{label}"
            out.append(Sentence(sentence.tokens, tags))
    return out


def evaluate_ner(gold_path: Path, nlp, *, predictions: Path | None = None) -> dict:
    """Score ``nlp`` on a gold CoNLL file; optionally write its predictions in the same format."""
    gold_path = Path(gold_path)
    if not gold_path.exists():
        raise InputError(
            f"{gold_path} not found; give a token<TAB>IOB2 file, e.g. ../shared/data/ner/germeval2014/conll/test.conll"
        )
    gold = list(read_conll(gold_path))
    predicted = predict_sentences(nlp, gold)
    if predictions is not None:
        write_conll(Path(predictions), predicted)
    return score_ner(gold, predicted)
