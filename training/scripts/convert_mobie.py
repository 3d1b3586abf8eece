"""MobIE test split as NER gold for ``reportminer eval-ner`` (an out-of-domain check: tweets, traffic reports).

Usage: python scripts/convert_mobie.py ../../shared/data/dates/mobie/test.conll2003 corpus/mobie_test.conll

MobIE (Hennig et al. 2021, CC BY 4.0) tags fine-grained spans in CoNLL-2003 columns (token, POS, chunk, tag).
Mapped onto GermEval's labels: location* (city, street, stop, route, ...) -> LOC, organization* -> ORG,
person -> PER; everything else (dates, triggers, numbers, distances) -> O. Stops and routes are LOC here,
which GermEval annotators would not always do, so the figure is a loose, relative check between models.
"""

from __future__ import annotations

import sys
from pathlib import Path


def map_tag(tag: str) -> str:
    if tag == "O":
        return "O"
    prefix, _, label = tag.partition("-")
    if label.startswith("location"):
        return f"{prefix}-LOC"
    if label.startswith("organization"):
        return f"{prefix}-ORG"
    if label == "person":
        return f"{prefix}-PER"
    return "O"


def main(src: str, dest: str) -> None:
    path = Path(src)
    if not path.exists():
        sys.exit(f"{path} not found: MobIE lives in ../shared/data/dates/mobie beside the repository")
    out: list[str] = []
    previous = "O"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            continue
        if not line.strip():
            if out and out[-1]:
                out.append("")
            previous = "O"
            continue
        parts = line.split("\t")
        tag = map_tag(parts[-1])
        if tag.startswith("I-") and previous[2:] != tag[2:]:  # a span whose start was mapped away
            tag = "B-" + tag[2:]
        out.append(f"{parts[0]}\t{tag}")
        previous = tag
    Path(dest).parent.mkdir(parents=True, exist_ok=True)
    Path(dest).write_text("\n".join(out).strip("\n") + "\n", encoding="utf-8")
    print(f"{path} -> {dest}: {sum(1 for line in out if not line) + 1} sentences")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
