"""NER throughput on one core: words per second of the entity pipeline (model + rules).

Usage: python benchmarks/ner_speed.py [--model M] [--texts DIR] [--repeat N]

Texts: the OKFDE civic reports in ../shared/data/corpus/okfde_civic_blogs/texts when present (real
meeting reports), else the sample corpus in corpus/. BLAS is pinned to one thread before numpy loads,
so the figure is per core. Target for the bundled model: >= 5,000 words/s. The last line is JSON.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CIVIC = ROOT.parent / "shared" / "data" / "corpus" / "okfde_civic_blogs" / "texts"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--model", default=None, help="package name or path (default: as reportminer resolves it)"
    )
    ap.add_argument("--texts", type=Path, default=None, help="folder of .txt files")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes; the best is reported")
    args = ap.parse_args()

    from reportminer.nlp import load_pipeline, model_name

    folder = args.texts or (CIVIC if CIVIC.exists() else ROOT / "corpus")
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    if not texts:
        raise SystemExit(f"no .txt files in {folder}")
    nlp = load_pipeline(args.model)
    n_words = sum(len(nlp.make_doc(t)) for t in texts)
    results = {}
    for name, pipes in {
        "model (tok2vec+ner)": [p for p in nlp.pipe_names if p in ("tok2vec", "ner")],
        "entity pipeline (+ sentences, rules)": [p for p in nlp.pipe_names if p != "reportminer_dates"],
        "full pipeline (+ dates)": list(nlp.pipe_names),
    }.items():
        best = float("inf")
        with nlp.select_pipes(enable=pipes):
            for _ in nlp.pipe(texts[:5]):
                pass  # warm-up
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                for _ in nlp.pipe(texts, batch_size=64):
                    pass
                best = min(best, time.perf_counter() - t0)
        results[name] = round(n_words / best)
        print(f"{name:<40} {results[name]:>8,} words/s")
    size = None
    from reportminer.nlp import BUNDLED_MODEL_PATH

    if args.model is None and BUNDLED_MODEL_PATH.exists():
        size = round(sum(p.stat().st_size for p in BUNDLED_MODEL_PATH.rglob("*") if p.is_file()) / 1e6, 1)
    print(
        f"{len(texts)} texts, {n_words:,} words from {folder}; model {model_name(nlp)}"
        + (f", {size} MB" if size else "")
    )
    print(json.dumps({"model": model_name(nlp), "texts": str(folder), "words": n_words, "words_per_s": results,
                      "model_mb": size}))  # fmt: skip


if __name__ == "__main__":
    main()
