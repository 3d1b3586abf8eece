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
