"""Evaluate reportminer's theme model against labelled documents.

Usage:
    python scripts/eval_themes.py DIR [--labels CSV] [--label-column label] [--criterion coherence]

DIR holds ``texts/<doc_id>.txt``; CSV (default ``DIR/metadata.csv``) has ``doc_id`` and a label column.
Prints a table (auto k and the plain TF-IDF + NMF baseline with k = number of labels) and, as the last
line, a JSON object with both results. Example (evaluation only; the data stay in ../shared):

    PYTHONPATH=src python scripts/eval_themes.py ../shared/data/themes/gnad10k_a
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from reportminer.themes import ThemeModel, evaluate_themes


def read_labelled(folder: Path, labels_csv: Path, label_column: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with labels_csv.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if (
            not reader.fieldnames
            or "doc_id" not in reader.fieldnames
            or label_column not in reader.fieldnames
        ):
            raise SystemExit(
                f"{labels_csv}: needs columns doc_id and {label_column!r}, has {reader.fieldnames}"
            )
        for row in reader:
            path = folder / "texts" / f"{row['doc_id']}.txt"
            if not path.is_file():
                raise SystemExit(f"missing text for doc_id {row['doc_id']!r}: {path}")
            texts.append(path.read_text(encoding="utf-8"))
            labels.append(row[label_column])
    return texts, labels


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="folder with texts/<doc_id>.txt")
    ap.add_argument("--labels", type=Path, help="CSV with doc_id and label (default: DIR/metadata.csv)")
    ap.add_argument("--label-column", default="label")
    ap.add_argument("--criterion", default="coherence", choices=["coherence", "stability", "product"])
    ap.add_argument("--random-state", type=int, default=0)
    args = ap.parse_args(argv)

    if not (args.folder / "texts").is_dir():
        print(
            f"error: {args.folder} has no texts/ folder (is ../shared/data beside the repository?)",
            file=sys.stderr,
        )
        return 2
    labels_csv = args.labels or args.folder / "metadata.csv"
    if not labels_csv.is_file():
        print(f"error: labels CSV not found: {labels_csv} (give --labels)", file=sys.stderr)
        return 2
    texts, labels = read_labelled(args.folder, labels_csv, args.label_column)

    results = {}
    for name, kwargs in [
        ("auto", {"model": ThemeModel(k_criterion=args.criterion, random_state=args.random_state)}),
        ("baseline", {"baseline": True}),
    ]:
        t0 = time.perf_counter()
        res = evaluate_themes(texts, labels, random_state=args.random_state, **kwargs)
        res["seconds"] = round(time.perf_counter() - t0, 1)
        results[name] = res

    print(f"{len(texts)} documents, {len(set(labels))} labels ({args.folder})")
    print(f"{'mode':<10}{'k':>4}{'NMI':>8}{'ARI':>8}{'NPMI':>8}{'sec':>7}")
    for name, r in results.items():
        print(
            f"{name:<10}{r['n_themes']:>4}{r['nmi']:>8.3f}{r['ari']:>8.3f}{r['npmi']:>8.3f}{r['seconds']:>7.1f}"
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
