"""Collect unannotated German text from ../shared/data for training static vectors (one sentence a line).

Usage: python scripts/raw_text.py SHARED_DATA_DIR OUT.txt [--unlabeled-share 1.0] [--shards 10]

Also writes OUT.jsonl for spacy pretrain, and the same lines in shuffled shards OUT.shardNN.jsonl, so that
pretraining can run in resumable chunks of one shard each (scripts/pretrain_chunks.py).

Sources (token columns only, labels ignored): GermEval 2014 *train* (not dev/test), the German LER court
decisions minus every sentence of its official dev and test splits, MobIE train, and the texts of the
OKFDE civic blog corpus (our domain), and ``data/unlabeled``: 28.8 M words of federal laws and Bundestag
speeches (public domain), of which ``--unlabeled-share`` takes a fixed, hash-chosen share of paragraphs (for
the learning curve in docs/ner.md). No evaluation split contributes text, so vectors never see a sentence
the models are scored on.
"""

from __future__ import annotations

import argparse
import json
import lzma
import random
import re
import sys
import zlib
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


def unlabeled_paragraphs(root: Path, share: float, nlp) -> Iterator[str]:
    """Paragraphs of data/unlabeled/*.txt.xz (a fixed share chosen by crc32), tokenized like spaCy does."""
    files = sorted((root / "unlabeled").glob("*.txt.xz"))
    if not files:
        sys.exit(f"{root / 'unlabeled'}: no *.txt.xz files (see ../shared/data/README.md)")
    cutoff = int(share * 2**32)

    def chosen() -> Iterator[str]:
        for path in files:
            with lzma.open(path, "rt", encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line and zlib.crc32(line.encode("utf-8")) < cutoff:
                        yield line

    for doc in nlp.tokenizer.pipe(chosen(), batch_size=2000):
        yield " ".join(t.text for t in doc if not t.is_space)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="../shared/data")
    ap.add_argument("out", help="OUT.txt (one sentence or paragraph a line, tokens separated by spaces)")
    ap.add_argument("--unlabeled-share", type=float, default=1.0, help="share of data/unlabeled (0 to 1)")
    ap.add_argument("--shards", type=int, default=10, help="shuffled JSONL shards for chunked pretraining")
    args = ap.parse_args()
    root = Path(args.data)
    if not root.exists():
        sys.exit(
            f"{root} not found: ../shared/data must sit beside the repository (see ../shared/data/README.md)"
        )
    out = args.out
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
        if args.unlabeled_share > 0:
            emit("unlabeled", unlabeled_paragraphs(root, args.unlabeled_share, nlp))
    print(f"{out}: " + ", ".join(f"{k} {v} lines" for k, v in counts.items()))
    # the same lines as JSONL for `spacy pretrain` (spacy.JsonlCorpus reads {"text": ...} records), once
    # whole and once in shuffled shards: one shard is one resumable chunk of pretraining
    with open(out, encoding="utf-8") as src:
        lines = [line.strip() for line in src if line.strip()]
    jsonl = Path(out).with_suffix(".jsonl")
    with jsonl.open("w", encoding="utf-8") as dest:
        for line in lines:
            dest.write(json.dumps({"text": line}, ensure_ascii=False) + "\n")
    random.Random(42).shuffle(lines)
    for k in range(args.shards):
        shard = jsonl.with_name(f"{jsonl.stem}.shard{k:02d}.jsonl")
        with shard.open("w", encoding="utf-8") as dest:
            for line in lines[k :: args.shards]:
                dest.write(json.dumps({"text": line}, ensure_ascii=False) + "\n")
    print(f"{jsonl} and {args.shards} shuffled shards: the same lines for spacy pretrain")


if __name__ == "__main__":
    main()
