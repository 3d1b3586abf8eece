"""Overhead of the date tagger in the bundled pipeline: ms/doc with and without "reportminer_dates".

Usage: python benchmarks/dates_overhead.py [--docs N] [--repeat N] [--model M]

Texts: the sample corpus in corpus/ repeated to about ``--docs`` documents; when
../shared/data/corpus/okfde_civic_blogs/texts exists, also its 285 real meeting reports. Each document gets
its report date as the pipeline gives it (date line, metadata or first date in the text). The pipeline runs
once with all pipes and once with ``nlp.select_pipes(disable=["reportminer_dates"])``, best of
``--repeat`` passes each (the two runs alternate, so background load hits both alike). The tagger alone
(``tag_dates`` on the same texts) is timed too, as a load-independent cross-check. BLAS is pinned to one
thread, so the figures are per core. Target: overhead < 10 %. The last line is JSON.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CIVIC = ROOT.parent / "shared" / "data" / "corpus" / "okfde_civic_blogs" / "texts"


def load_reports(folder: Path) -> list:
    from reportminer.pipeline import list_reports, read_reports, with_report_date

    reports, errors = read_reports(list_reports(folder), folder)
    if errors:
        raise SystemExit(f"cannot read {len(errors)} reports in {folder}: {errors[0]}")
    meta = folder.parent / "metadata.csv"  # okfde_civic_blogs: the publication date is the report date
    if meta.is_file():
        with meta.open(encoding="utf-8") as fh:
            dates = {row["doc_id"]: row["date"] for row in csv.DictReader(fh) if row.get("date")}
        reports = [
            dataclasses.replace(r, report_date=datetime.date.fromisoformat(dates[Path(r.path).stem][:10]))
            if r.report_date is None and Path(r.path).stem in dates
            else r
            for r in reports
        ]
    return [with_report_date(r) for r in reports]


def measure(nlp, reports: list, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` seconds for the full pipeline, the pipeline without dates, and the tagger alone."""
    from reportminer.dates import tag_dates

    def docs() -> Iterator:
        for r in reports:
            doc = nlp.make_doc(r.text)
            doc._.report_date = r.report_date
            yield doc

    def run_pipeline(disable: list[str]) -> float:
        with nlp.select_pipes(disable=disable):
            t0 = time.perf_counter()
            for _ in nlp.pipe(docs(), batch_size=16):
                pass
            return time.perf_counter() - t0

    def run_tagger() -> float:
        t0 = time.perf_counter()
        for r in reports:
            tag_dates(r.text, reference_date=r.report_date)
        return time.perf_counter() - t0

    run_pipeline([])  # warm-up (lazy init, caches)
    best = {"with_dates": float("inf"), "without_dates": float("inf"), "tagger_only": float("inf")}
    for _ in range(repeat):
        best["without_dates"] = min(best["without_dates"], run_pipeline(["reportminer_dates"]))
        best["with_dates"] = min(best["with_dates"], run_pipeline([]))
        best["tagger_only"] = min(best["tagger_only"], run_tagger())
    return best


def summarise(name: str, nlp, reports: list, repeat: int) -> dict[str, object]:
    n_docs = len(reports)
    n_words = sum(len(nlp.make_doc(r.text)) for r in reports)
    t = measure(nlp, reports, repeat)
    res = {
        "corpus": name,
        "docs": n_docs,
        "words": n_words,
        "ms_per_doc_with_dates": round(1000 * t["with_dates"] / n_docs, 2),
        "ms_per_doc_without_dates": round(1000 * t["without_dates"] / n_docs, 2),
        "ms_per_doc_tagger_only": round(1000 * t["tagger_only"] / n_docs, 3),
        "overhead_pct": round(100 * (t["with_dates"] - t["without_dates"]) / t["without_dates"], 1),
        "tagger_share_pct": round(100 * t["tagger_only"] / t["without_dates"], 1),
        "words_per_s_with_dates": round(n_words / t["with_dates"]),
        "words_per_s_without_dates": round(n_words / t["without_dates"]),
        "words_per_s_tagger_only": round(n_words / t["tagger_only"]),
    }
    print(
        f"{name}: {n_docs} docs, {n_words} words\n"
        f"  with dates     {res['ms_per_doc_with_dates']:8.2f} ms/doc  {res['words_per_s_with_dates']:>9,} words/s\n"
        f"  without dates  {res['ms_per_doc_without_dates']:8.2f} ms/doc  {res['words_per_s_without_dates']:>9,} words/s\n"
        f"  tagger alone   {res['ms_per_doc_tagger_only']:8.3f} ms/doc  {res['words_per_s_tagger_only']:>9,} words/s\n"
        f"  overhead       {res['overhead_pct']:6.1f} %  (tagger alone / pipeline without dates: "
        f"{res['tagger_share_pct']:.1f} %; target < 10 %)"
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--docs", type=int, default=200, help="sample corpus repeated to about this many documents"
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed passes; the best is reported")
    ap.add_argument(
        "--model", default=None, help="package name or path (default: as reportminer resolves it)"
    )
    args = ap.parse_args()

    from reportminer.nlp import load_pipeline, model_name

    nlp = load_pipeline(args.model)
    if "reportminer_dates" not in nlp.pipe_names:
        raise SystemExit("the pipeline has no 'reportminer_dates' component")
    print(f"model: {model_name(nlp)}; pipes: {', '.join(nlp.pipe_names)}")

    sample = load_reports(ROOT / "corpus")
    if not sample:
        raise SystemExit(f"no reports in {ROOT / 'corpus'}")
    reps = max(1, round(args.docs / len(sample)))
    results = {"model": model_name(nlp), "repeat": args.repeat}
    results["sample_corpus"] = summarise(f"corpus/ x{reps}", nlp, sample * reps, args.repeat)
    if CIVIC.is_dir():
        results["okfde_civic_blogs"] = summarise("okfde_civic_blogs", nlp, load_reports(CIVIC), args.repeat)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
