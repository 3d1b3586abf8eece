"""Overhead of reportminer's analysis stage over raw spaCy ``nlp.pipe``, measured batch by batch.

Usage: python benchmarks/analysis_overhead.py [--corpus DIR] [--docs N]

For each batch of 32 reports (the run's batch size), in turn: raw ``nlp.pipe`` over the batch's texts cut
into the run's pieces (as ``benchmarks/throughput.py`` measures raw spaCy), and what ``run_pipeline``
does with a batch of new files before the build: read and decode them (``read_reports``), analyse them
(``analyse_reports``: the pipeline plus mentions, dates, theme terms, paragraph terms, word counts) and
store them in the analysis cache (``AnalysisCache.put_many``). The order alternates from batch to batch,
so the machine's changing speed (up to 10 % from one minute to the next on these VMs) hits both alike;
what is left is the stage's own overhead. The build and write that follow the analysis are not in it
(``throughput.py`` measures the whole run). BLAS is pinned to one thread, as the CLI runs.

Both run in one process, so what the process's state does to spaCy hits both alike and is not seen here:
before ``reportminer.nlp.tune_malloc``, glibc mapped fresh pages for spaCy's batch arrays in a run (four
times the page faults of a bare ``nlp.pipe`` loop) and this script measured 0.96-0.99 while the stage ran
at about 0.90 of raw spaCy in a process of its own. ``throughput.py``, with raw spaCy and reportminer in
processes that take turns, sees it.

Corpus: --corpus, else the OKFDE civic reports in ../shared/data/corpus/okfde_civic_blogs/texts, else the
sample corpus in corpus/. The last line is JSON.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CIVIC = ROOT.parent / "shared" / "data" / "corpus" / "okfde_civic_blogs" / "texts"
BATCH = 32


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus", type=Path, default=None, help="folder of reports (default: OKFDE, else corpus/)"
    )
    ap.add_argument("--docs", type=int, default=None, help="only the first N reports")
    args = ap.parse_args()

    from reportminer.cache import AnalysisCache
    from reportminer.nlp import load_pipeline, model_name
    from reportminer.pipeline import analyse_reports, chunk_spans, count_words, list_reports, read_reports

    corpus = args.corpus or (CIVIC if CIVIC.is_dir() else ROOT / "corpus")
    paths = list_reports(corpus)[: args.docs]
    nlp = load_pipeline(None)
    name = model_name(nlp)
    seconds = {"raw": 0.0, "read": 0.0, "analyse": 0.0, "cache": 0.0}
    words = {"raw": 0, "reportminer": 0}
    with tempfile.TemporaryDirectory() as tmp, AnalysisCache(Path(tmp) / "analysed.sqlite", name) as cache:
        for n, i in enumerate(range(0, len(paths), BATCH)):
            batch = paths[i : i + BATCH]
            texts = [p.read_text(encoding="utf-8", errors="replace") for p in batch]
            pieces = [text[s:e] for text in texts for s, e in chunk_spans(text)]
            for step in ("raw", "reportminer") if n % 2 == 0 else ("reportminer", "raw"):
                if step == "raw":
                    t0 = time.perf_counter()
                    words["raw"] += sum(count_words(doc) for doc in nlp.pipe(pieces, batch_size=BATCH))
                    seconds["raw"] += time.perf_counter() - t0
                    continue
                t0 = time.perf_counter()
                reports, _ = read_reports(batch, corpus)
                t1 = time.perf_counter()
                analysed, _ = analyse_reports(reports, nlp, model=name)
                t2 = time.perf_counter()
                cache.put_many(analysed)
                t3 = time.perf_counter()
                words["reportminer"] += sum(a.n_words for a in analysed)
                seconds["read"] += t1 - t0
                seconds["analyse"] += t2 - t1
                seconds["cache"] += t3 - t2
    stage = seconds["read"] + seconds["analyse"] + seconds["cache"]
    # words/s, as throughput.py compares them (the run analyses the body text, raw the whole file)
    ratio = (words["reportminer"] / stage) / (words["raw"] / seconds["raw"])
    print(f"{len(paths)} reports from {corpus}")
    print(f"raw nlp.pipe            {words['raw']:>10,} words {seconds['raw']:8.1f} s")
    print(f"reportminer analysis    {words['reportminer']:>10,} words {stage:8.1f} s  (read {seconds['read']:.1f} s, "
          f"analyse {seconds['analyse']:.1f} s, cache {seconds['cache']:.1f} s)")  # fmt: skip
    print(f"words/s, analysis stage / raw nlp.pipe: {ratio:.3f}")
    out = {"docs": len(paths), "ratio": round(ratio, 4), "words": words}
    print(json.dumps(out | {k: round(v, 2) for k, v in seconds.items()}))


if __name__ == "__main__":
    main()
