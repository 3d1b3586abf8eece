"""Convert token<TAB>IOB2 CoNLL files (GermEval 2014 layout) into spaCy's binary DocBin format.

Usage: python scripts/convert_conll.py IN.conll OUT.spacy

Each sentence becomes one Doc: GermEval sentences come from unrelated articles, so grouping them
would invent context that is not there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from reportminer.conll import read_conll, sentence_to_doc


def main(src: str, dest: str) -> None:
    src_path = Path(src)
    if not src_path.exists():
        sys.exit(
            f"{src_path} not found: the training data lives in ../shared/data/ner/ beside the repository "
            "(see ../shared/data/README.md); pass its path on the command line."
        )
    nlp = spacy.blank("de")
    db = DocBin(store_user_data=False)
    n = 0
    for sentence in read_conll(src_path):
        db.add(sentence_to_doc(nlp.vocab, sentence))
        n += 1
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(dest)
    print(f"{src_path} -> {dest}: {n} sentences")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
