"""NER gold for our own domain: hand-annotated sentences of the OKFDE civic reports in ../shared.

GermEval is Wikipedia and news; reportminer reads meeting and workshop reports. This script keeps a small
gold set of such reports (`training/gold/okfde_ner.jsonl`, annotated by the project) as stand-off
annotations: character offsets and labels only, no text, so nothing of ../shared is copied into the
repository. The text is read from ../shared/data/corpus/okfde_civic_blogs when the CoNLL file is built.

Usage (from training/):
    python scripts/domain_gold.py build ../../shared/data/corpus/okfde_civic_blogs corpus/okfde_gold.conll
    ../.venv/bin/reportminer eval-ner corpus/okfde_gold.conll

    python scripts/domain_gold.py template CORPUS OUT_DIR [--docs N]
        writes one token<TAB>O file per chosen report (and its token offsets) for annotators;
    python scripts/domain_gold.py collect OUT_DIR gold/okfde_ner.jsonl
        turns the annotated token files back into stand-off annotations.

Labels and guidelines follow GermEval 2014 as mapped in ../shared/data/README.md: PER, LOC, ORG, MISC
(other names: events, products, works, languages; adjectives and nouns derived from names such as
"deutschen" or "Berliner" in "die Berliner"), outer spans only; a token that only contains a name
("Open-Data-Portal", "OK-Lab-Treffen") is O. A report's sentences are its non-empty lines split by spaCy's
sentencizer; the tokens are those of spaCy's German tokenizer (`spacy.blank("de")`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from reportminer.conll import Sentence, iob_spans, read_conll
from reportminer.errors import InputError

LABELS = ("PER", "LOC", "ORG", "MISC")


def _nlp():
    import spacy

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return nlp


def _texts_dir(corpus: Path) -> Path:
    texts = corpus / "texts"
    if not texts.is_dir():
        sys.exit(
            f"{texts} not found: the OKFDE civic reports live in ../shared/data/corpus/okfde_civic_blogs "
            "beside the repository"
        )
    return texts


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def sentences(nlp, text: str) -> list[list[tuple[str, int, int]]]:
    """Sentences of a report as lists of (token, start, end), lines first, then the sentencizer."""
    out: list[list[tuple[str, int, int]]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if len(stripped) >= 3:
            lead = len(line) - len(line.lstrip())
            doc = nlp(stripped)
            for sent in doc.sents:
                toks = [
                    (t.text, offset + lead + t.idx, offset + lead + t.idx + len(t.text))
                    for t in sent
                    if not t.is_space
                ]
                if toks:
                    out.append(toks)
        offset += len(line)
    return out


def choose(texts: Path, n_docs: int) -> list[Path]:
    """Reports of 250-800 words in sha1 order of their ids, taking the four sites in turn."""
    by_site: dict[str, list[Path]] = {}
    for path in sorted(texts.glob("*.txt"), key=lambda p: _sha1(p.stem)):
        words = len(path.read_text(encoding="utf-8").split())
        if 250 <= words <= 800:
            by_site.setdefault(path.stem.split("_", 1)[0], []).append(path)
    chosen: list[Path] = []
    while len(chosen) < n_docs and any(by_site.values()):
        for site in sorted(by_site):
            if by_site[site] and len(chosen) < n_docs:
                chosen.append(by_site[site].pop(0))
    return chosen


def write_template(nlp, path: Path, out_dir: Path) -> list[list[tuple[str, int, int]]]:
    """A report's token file (every tag O) and its offsets for the annotators; returns its sentences."""
    text = path.read_text(encoding="utf-8")
    sents = sentences(nlp, text)
    lines = [line for sent in sents for line in [*(f"{tok}\tO" for tok, _, _ in sent), ""]]
    (out_dir / f"{path.stem}.conll").write_text("\n".join(lines), encoding="utf-8")
    meta = {"doc_id": path.stem, "sha1": _sha1(text), "sentences": [[[s, e] for _, s, e in x] for x in sents]}
    (out_dir / f"{path.stem}.offsets.json").write_text(json.dumps(meta), encoding="utf-8")
    return sents


def template(corpus: Path, out_dir: Path, n_docs: int, skip: int = 0) -> None:
    nlp = _nlp()
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in choose(_texts_dir(corpus), skip + n_docs)[skip:]:
        sents = write_template(nlp, path, out_dir)
        print(f"{path.stem}: {len(sents)} sentences, {sum(map(len, sents))} tokens")


def _read_tags(path: Path) -> list[Sentence]:
    """The sentences of an annotated token file; every tag must be O or B-/I- of one of LABELS."""
    try:
        sents = list(read_conll(path))
    except InputError as exc:
        sys.exit(str(exc))
    for n, sent in enumerate(sents, 1):
        for tok, tag in zip(sent.tokens, sent.tags, strict=True):
            if tag != "O" and tag[2:] not in LABELS:
                sys.exit(
                    f"{path}: sentence {n}, token {tok!r}: bad tag {tag!r} (X in B-X/I-X is one of {', '.join(LABELS)})"
                )
    return sents


def collect(out_dir: Path, dest: Path) -> None:
    records = []
    for meta_path in sorted(out_dir.glob("*.offsets.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tagged = _read_tags(meta_path.with_name(meta["doc_id"] + ".conll"))
        if [len(s.tags) for s in tagged] != [len(s) for s in meta["sentences"]]:
            sys.exit(f"{meta_path}: the annotated file's tokens no longer match the template's")
        ents = [
            [offsets[start][0], offsets[end - 1][1], label]
            for sent, offsets in zip(tagged, meta["sentences"], strict=True)
            for start, end, label in sorted(iob_spans(sent.tags))
        ]
        sents = [[s[0][0], s[-1][1]] for s in meta["sentences"]]
        records.append({"doc_id": meta["doc_id"], "sha1": meta["sha1"], "sentences": sents, "entities": ents})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    n_ents = sum(len(r["entities"]) for r in records)
    print(
        f"{dest}: {len(records)} reports, {sum(len(r['sentences']) for r in records)} sentences, {n_ents} entities"
    )


def build(corpus: Path, dest: Path, gold: Path) -> None:
    texts = _texts_dir(corpus)
    nlp = _nlp()
    lines: list[str] = []
    n_sents = n_ents = 0
    for line in gold.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        path = texts / f"{record['doc_id']}.txt"
        if not path.exists():
            sys.exit(f"{path} not found: is {corpus} the OKFDE civic reports folder?")
        text = path.read_text(encoding="utf-8")
        if _sha1(text) != record["sha1"]:
            sys.exit(f"{path} differs from the text that was annotated (sha1); re-annotate it or restore it")
        ents = sorted(record["entities"])
        for sent in sentences(nlp, text):
            if [sent[0][1], sent[-1][2]] not in record["sentences"]:
                sys.exit(f"{path}: sentence at {sent[0][1]} not in the gold file (tokenizer changed?)")
            previous = None
            for tok, s, e in sent:
                tag = "O"
                for es, ee, label in ents:
                    if es <= s and e <= ee:
                        tag = ("I-" if previous == (es, ee) else "B-") + label
                        previous = (es, ee)
                        break
                else:
                    previous = None
                lines.append(f"{tok}\t{tag}")
            lines.append("")
            n_sents += 1
        n_ents += len(ents)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    print(f"{gold} -> {dest}: {n_sents} sentences, {n_ents} entities")


def main(argv: list[str] | None = None) -> None:
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="stand-off gold + ../shared texts -> CoNLL for eval-ner")
    b.add_argument("corpus", type=Path)
    b.add_argument("dest", type=Path)
    b.add_argument("--gold", type=Path, default=here / "gold" / "okfde_ner.jsonl")
    t = sub.add_parser("template", help="token files for annotators")
    t.add_argument("corpus", type=Path)
    t.add_argument("out_dir", type=Path)
    t.add_argument("--docs", type=int, default=12)
    t.add_argument(
        "--skip", type=int, default=0, help="leave out the first N chosen reports (the gold set's)"
    )
    c = sub.add_parser("collect", help="annotated token files -> stand-off gold")
    c.add_argument("out_dir", type=Path)
    c.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.corpus, args.dest, args.gold)
    elif args.command == "template":
        template(args.corpus, args.out_dir, args.docs, args.skip)
    else:
        collect(args.out_dir, args.dest)


if __name__ == "__main__":
    main()
