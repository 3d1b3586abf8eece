"""Collect unannotated German text from ../shared/data for training static vectors (one sentence a line).

Usage: python scripts/raw_text.py SHARED_DATA_DIR OUT.txt   (also writes OUT.jsonl for spacy pretrain)

Sources (token columns only, labels ignored): GermEval 2014 *train* (not dev/test), the German LER court
decisions minus every sentence of its official dev and test splits, MobIE train, and the texts of the
OKFDE civic blog corpus (our domain). No evaluation split contributes text, so vectors never see a
sentence the models are scored on.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import spacy


def conll_sentences(path: Path, *, sep: str | None = None) -> Iterator[str]:
    tokens: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip("\r\n")
            if not line.strip() or line.startswith("-DOCSTART-"):
                if tokens:
                    yield " ".join(tokens)
                    tokens = []
                continue
            tokens.append(line.split(sep)[0] if sep else line.split()[0])
    if tokens:
        yield " ".join(tokens)


def main(data: str, out: str) -> None:
    root = Path(data)
    if not root.exists():
        sys.exit(
            f"{root} not found: ../shared/data must sit beside the repository (see ../shared/data/README.md)"
        )
    nlp = spacy.blank("de")
    held_out = set()
    for split in ("ler_dev.conll", "ler_test.conll"):
        held_out.update(conll_sentences(root / "ner" / "german_ler" / split))
    counts = {}
    with open(out, "w", encoding="utf-8") as fh:

        def emit(name: str, sentences) -> None:
            n = 0
            for s in sentences:
                if s and s not in held_out:
                    fh.write(s + "\n")
                    n += 1
            counts[name] = n

        emit(
            "germeval_train",
            conll_sentences(root / "ner" / "germeval2014" / "conll" / "train.conll", sep="\t"),
        )
        ler = sorted(
            p for p in (root / "ner" / "german_ler").glob("*.conll") if not p.name.startswith("ler_")
        )
        emit("german_ler", (s for p in ler for s in conll_sentences(p)))
        emit("mobie_train", conll_sentences(root / "dates" / "mobie" / "train.conll2003", sep="\t"))

        def civic() -> Iterator[str]:
            for p in sorted((root / "corpus" / "okfde_civic_blogs" / "texts").glob("*.txt")):
                for line in p.read_text(encoding="utf-8").splitlines():
                    line = re.sub(r"\s+", " ", line).strip()
                    if len(line) > 20:
                        yield " ".join(t.text for t in nlp.make_doc(line))

        emit("okfde_civic_blogs", civic())
    print(f"{out}: " + ", ".join(f"{k} {v} sentences" for k, v in counts.items()))
    # the same lines as JSONL for `spacy pretrain` (spacy.JsonlCorpus reads {"text": ...} records)
    jsonl = Path(out).with_suffix(".jsonl")
    with open(out, encoding="utf-8") as src, jsonl.open("w", encoding="utf-8") as dest:
        for line in src:
            if line.strip():
                dest.write(json.dumps({"text": line.strip()}, ensure_ascii=False) + "\n")
    print(f"{jsonl}: the same sentences for spacy pretrain")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
