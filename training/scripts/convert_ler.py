"""Convert German LER (federal court decisions) into spaCy's binary format with GermEval's labels.

Usage: python scripts/convert_ler.py LER_DIR OUT_DIR [--held-out bverfg]

German LER (Leitner, Rehm, Moreno-Schneider 2019, CC BY 4.0) annotates 19 fine-grained classes. Its names of
persons, places and organisations map onto GermEval 2014's labels:

    PER: PER (person), RR (judge), AN (lawyer)
    LOC: LD (country), ST (city), STR (street), LDS (landscape)
    ORG: ORG, UN (company), INN (institution), GRT (court)

The legal references (GS law, VO ordinance, EUN European norm, VS regulation, VT contract, RS court
decision, LIT literature) and MRK (brand) have no GermEval counterpart that is certain (GermEval files some
under MISC, most under nothing): their tokens are marked *missing*, so training neither rewards nor punishes
any label there. Only sentences with at least one PER/LOC/ORG name are kept: the rest would teach little
beyond GermEval's own "O" tokens and triple the training time.

The official dev/test split of LER leaks sentences between its parts (see SOURCE.txt), so this script
splits by court instead: every court file except ``--held-out`` goes to ``OUT_DIR/ler_train.spacy``; the
held-out court, minus any sentence that also occurs in a training court, goes to ``ler_<court>.spacy`` and
``ler_<court>.conll`` (token<TAB>IOB2, legal references as O) for ``reportminer eval-ner``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import spacy
from spacy.tokens import Doc, DocBin, Span

MAPPING = {
    "PER": "PER", "RR": "PER", "AN": "PER",
    "LD": "LOC", "ST": "LOC", "STR": "LOC", "LDS": "LOC",
    "ORG": "ORG", "UN": "ORG", "INN": "ORG", "GRT": "ORG",
}  # fmt: skip
MISSING = {"GS", "VO", "EUN", "VS", "VT", "RS", "LIT", "MRK"}


def read_sentences(path: Path) -> list[list[tuple[str, str]]]:
    """Sentences of (token, tag) from a LER file (token, space, IOB2 tag; blank line between sentences)."""
    sentences, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            if current:
                sentences.append(current)
            current = []
            continue
        token, _, tag = line.rpartition(" ")
        current.append((token, tag))
    if current:
        sentences.append(current)
    return sentences


def spans(sentence: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """(start, end, LER class) of each annotated span (IOB2; a stray I- opens a span)."""
    out: list[tuple[int, int, str]] = []
    for i, (_, tag) in enumerate(sentence):
        kind, _, label = tag.partition("-")
        if kind == "B" or (kind == "I" and (not out or out[-1][1] != i or out[-1][2] != label)):
            out.append((i, i + 1, label))
        elif kind == "I":
            out[-1] = (out[-1][0], i + 1, label)
    return out


def to_doc(vocab, sentence: list[tuple[str, str]]) -> Doc | None:
    """The sentence as a Doc with PER/LOC/ORG entities and legal references missing; None without a name."""
    words = [token for token, _ in sentence]
    doc = Doc(vocab, words=words, spaces=[True] * (len(words) - 1) + [False])
    ents, missing = [], []
    for start, end, label in spans(sentence):
        if label in MAPPING:
            ents.append(Span(doc, start, end, label=MAPPING[label]))
        elif label in MISSING:
            missing.append(Span(doc, start, end))
    if not ents:
        return None
    doc.set_ents(ents, missing=missing, default="outside")
    return doc


def write_conll(sentences: list[list[tuple[str, str]]], dest: Path) -> None:
    """Gold for eval-ner: token<TAB>IOB2 over PER/LOC/ORG (every other class as O)."""
    lines = []
    for sentence in sentences:
        tags = ["O"] * len(sentence)
        for start, end, label in spans(sentence):
            if label in MAPPING:
                tags[start] = f"B-{MAPPING[label]}"
                for i in range(start + 1, end):
                    tags[i] = f"I-{MAPPING[label]}"
        lines.extend(f"{token}\t{tag}" for (token, _), tag in zip(sentence, tags, strict=True))
        lines.append("")
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ler_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--held-out", default="bverfg", help="court file kept out of training for evaluation")
    args = ap.parse_args()
    courts = sorted(p for p in args.ler_dir.glob("*.conll") if not p.name.startswith("ler_"))
    if not courts:
        sys.exit(
            f"no German LER court files in {args.ler_dir}: the data lives in ../shared/data/ner/german_ler "
            "beside the repository (see ../shared/data/README.md)"
        )
    held = [p for p in courts if p.stem == args.held_out]
    if not held:
        sys.exit(f"--held-out {args.held_out}: no {args.held_out}.conll in {args.ler_dir}")
    train_sentences = [s for p in courts if p != held[0] for s in read_sentences(p)]
    seen = {tuple(t for t, _ in s) for s in train_sentences}
    test_sentences = [s for s in read_sentences(held[0]) if tuple(t for t, _ in s) not in seen]

    nlp = spacy.blank("de")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, sentences in (("ler_train", train_sentences), (f"ler_{args.held_out}", test_sentences)):
        db, unique = DocBin(store_user_data=False), set()
        for sentence in sentences:
            key = tuple(t for t, _ in sentence)
            if key in unique:  # court decisions repeat formulae; one copy each
                continue
            unique.add(key)
            doc = to_doc(nlp.vocab, sentence)
            if doc is not None:
                db.add(doc)
        db.to_disk(args.out_dir / f"{name}.spacy")
        print(f"{name}: {len(db)} sentences with names (of {len(sentences)})")
    write_conll(test_sentences, args.out_dir / f"ler_{args.held_out}.conll")
    print(f"ler_{args.held_out}.conll: {len(test_sentences)} sentences (gold for reportminer eval-ner)")


if __name__ == "__main__":
    main()
