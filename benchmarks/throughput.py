"""End-to-end throughput: reportminer against raw spaCy ``nlp.pipe`` on the same texts, side by side.

Usage: python benchmarks/throughput.py [--docs 10000] [--small 2500] [--workers 2] [--skip-dask]

Builds a corpus of --docs reports (and one of --small reports for the memory comparison) from the real
OKFDE civic reports in ../shared/data/corpus/okfde_civic_blogs/texts, repeated with varied dates, years
and town names (falls back to the sample corpus in corpus/ when ../shared is absent). Then, each in its
own process so that peak RSS is that of the measured work alone:

- raw: the same loaded pipeline (model, sentences, entity rules, dates; same batch size) over the texts
  held in memory, cut into the same pieces of at most ``pipeline.MAX_CHUNK_CHARS`` characters, with
  ``nlp.pipe`` and n_process 1 and 2;
- reportminer: ``run_pipeline`` (local engine) from files to written tables, for both corpus sizes;
- dask: the Prefect flow on a LocalCluster of --workers worker processes (prefect-dask), against the
  default flow, so the speed-up includes Prefect's and the cluster's start-up.

Raw and reportminer on the large corpus, the pair the ratio compares, take turns on the machine: both
processes load, then run --slice seconds at a time each while the other is stopped (SIGSTOP), and each
one's time is its wall time less the time it was stopped. This VM's speed moves by 10-20 % between
minutes (the same raw pass over 640 reports took 62.0, 55.1 and 45.8 s in one quarter of an hour), so
measured one after the other, 17 minutes apart, the ratio was as much the machine's as the code's; taking
turns, both see the same machine. ``--sequential`` measures them one after the other instead.

Words are tokens that are neither space nor punctuation, counted the same way for both. Model loading
is outside the timed part of raw and reportminer runs (the interpreter and model start-up are printed
separately). BLAS runs one thread per process, as the ``reportminer`` command runs it. For each measured
process it also prints the minor page faults of the timed part (fresh pages from the kernel) and, for
reportminer, the time of each stage (read and analyse, build, write: from run_pipeline's log lines). Target:
reportminer/raw >= 0.85; peak RSS about flat in corpus size. Last line is JSON.
"""

from __future__ import annotations

import os

# as the reportminer command runs (cli.main): one BLAS thread per process, set before numpy loads; the
# measured child processes and the Dask workers inherit it (two workers with two BLAS threads each would
# share the 2 cores four ways)
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CIVIC = ROOT.parent / "shared" / "data" / "corpus" / "okfde_civic_blogs" / "texts"
TOWNS = ["Zwickau", "Plauen", "Chemnitz", "Leipzig", "Dresden", "Görlitz", "Bautzen", "Freiberg", "Meißen",
         "Erfurt", "Jena", "Gera", "Halle", "Magdeburg", "Potsdam", "Cottbus", "Rostock", "Schwerin"]  # fmt: skip
CITY_RE = re.compile(r"\b(München|Berlin|Hamburg|Köln|Frankfurt|Stuttgart|Düsseldorf|Ulm|Bonn|Karlsruhe)\b")
YEAR_RE = re.compile(r"\b(20[012]\d)\b")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def minor_faults() -> int:
    """Pages this process has faulted in so far (fresh memory from the kernel): see ``tune_malloc`` in
    reportminer.nlp for why the benchmark prints them."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


STAGE_LINES = {"analysed": "read and analysed", "built": "built the tables", "written": "wrote the tables"}
"""run_pipeline's log lines that end its stages; the measurement notes the time of each."""


def build_corpus(folder: Path, n_docs: int, seed: int = 0) -> None:
    """``n_docs`` report files: the source texts in turn, each copy with a date line, shifted years and
    other towns, so that no two files are the same document."""
    sources = sorted(CIVIC.glob("*.txt")) if CIVIC.is_dir() else sorted((ROOT / "corpus").glob("*.txt"))
    if not sources:
        raise SystemExit(f"no source texts: neither {CIVIC} nor {ROOT / 'corpus'} has .txt files")
    if not CIVIC.is_dir():
        print(f"note: {CIVIC} not found; building from the sample corpus instead", file=sys.stderr)
    texts = [p.read_text(encoding="utf-8") for p in sources]
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(n_docs):
        text = texts[i % len(texts)]
        shift = i // len(texts) % 7
        text = YEAR_RE.sub(lambda m, shift=shift: str(int(m.group(1)) + shift), text)
        text = CITY_RE.sub(lambda m: rng.choice(TOWNS), text)
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2015, 2026)
        (folder / f"{i:05d}_{sources[i % len(sources)].stem}.txt").write_text(
            f"{day:02d}.{month:02d}.{year}\n\n{text}", encoding="utf-8"
        )


# -- the measured runs, each in a process of its own ------------------------------------------------------


def wait_for_turn(paired: bool) -> None:
    """In a paired measurement: say the process is loaded, then wait for the controller's go (see
    :func:`measure_paired`)."""
    if paired:
        print("ready", flush=True)
        sys.stdin.readline()


def measure_raw(folder: Path, n_process: int, batch_size: int, paired: bool = False) -> dict:
    from reportminer.nlp import load_pipeline
    from reportminer.pipeline import chunk_spans, count_words

    t0 = time.perf_counter()
    nlp = load_pipeline(None)
    load = time.perf_counter() - t0
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    texts = [text[start:end] for text in texts for start, end in chunk_spans(text)]
    wait_for_turn(paired)
    words = 0
    faults = minor_faults()
    t0 = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        words += count_words(doc)  # as reportminer counts them
    t1 = time.perf_counter()
    return {
        "seconds": t1 - t0, "words": words, "load_seconds": load, "rss_mb": peak_rss_mb(), "t0": t0, "t1": t1,
        "minor_faults": minor_faults() - faults,
    }  # fmt: skip


def measure_reportminer(folder: Path, out: Path, batch_size: int, paired: bool = False) -> dict:
    import pandas as pd

    from reportminer.nlp import load_pipeline
    from reportminer.pipeline import run_pipeline

    t0 = time.perf_counter()
    load_pipeline(None)  # loaded once per process; run_pipeline then finds it loaded
    load = time.perf_counter() - t0
    marks: dict[str, float] = {}

    class StageEnds(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            marks.update(
                {k: time.perf_counter() for k, line in STAGE_LINES.items() if message.startswith(line)}
            )

    stage_log = logging.getLogger("reportminer.pipeline")
    stage_log.addHandler(StageEnds(logging.INFO))
    stage_log.setLevel(logging.INFO)
    wait_for_turn(paired)
    faults = minor_faults()
    t0 = time.perf_counter()
    summary = run_pipeline(folder, out, batch_size=batch_size, full=True)
    t1 = time.perf_counter()
    words = int(pd.read_parquet(out / "parquet" / "documents.parquet", columns=["n_words"])["n_words"].sum())
    return {
        "seconds": t1 - t0, "words": words, "load_seconds": load, "rss_mb": peak_rss_mb(),
        "documents": summary.n_documents, "errors": summary.n_errors, "themes": summary.n_themes,
        "t0": t0, "t1": t1, "minor_faults": minor_faults() - faults, "stage_ends": marks,
    }  # fmt: skip


def measure_flow(folder: Path, out: Path, batch_size: int, workers: int) -> dict:
    # BLAS threads are pinned at the top of this module (the Dask workers inherit it too)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    from reportminer_flows.reportminer_flow import dask_flow, reportminer_flow

    t0 = time.perf_counter()
    if workers:
        summary = dask_flow(n_workers=workers)(
            corpus=str(folder), out=str(out), batch_size=batch_size, full=True, parallel=2 * workers
        )
    else:
        summary = reportminer_flow(corpus=str(folder), out=str(out), batch_size=batch_size, full=True)
    return {"seconds": time.perf_counter() - t0, "documents": summary.n_documents, "rss_mb": peak_rss_mb()}


def in_subprocess(*args: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"measurement {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def stage_seconds(result: dict, stopped: list[tuple[float, float]]) -> dict[str, float] | None:
    """A reportminer measurement's time in each stage (read and analyse, build, write; the rest, the
    summary, is left out), less the time the process was ``stopped`` in it."""
    ends = result.get("stage_ends")
    if not ends or set(ends) != set(STAGE_LINES):
        return None
    bounds = [result["t0"], *(ends[k] for k in STAGE_LINES)]
    return {
        name: round(b - a - sum(max(0.0, min(y, b) - max(x, a)) for x, y in stopped), 1)
        for name, a, b in zip(STAGE_LINES, bounds[:-1], bounds[1:], strict=True)
    }


def measure_paired(jobs: dict[str, list[str]], slice_s: float, work: Path) -> dict[str, dict]:
    """Run the measurements ``jobs`` (name -> ``--measure`` arguments) in processes that take turns.

    Each process loads, says "ready" and waits; then one at a time runs for ``slice_s`` seconds while the
    others are stopped (SIGSTOP/SIGCONT), until each is done. A process's "seconds" become its measured
    wall time (perf_counter, the same monotonic clock in every process) less the time it was stopped in it.
    """
    procs: dict[str, subprocess.Popen] = {}
    logs = {name: work / f"{name}.stderr" for name in jobs}
    for name, args in jobs.items():
        cmd = [sys.executable, str(Path(__file__).resolve()), "--paired", "--measure", *args]
        with open(logs[name], "w") as err:
            procs[name] = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
            )
    stopped: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}  # (stopped at, continued at)

    def failed(name: str) -> SystemExit:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
        return SystemExit(f"measurement {name} failed:\n{logs[name].read_text()[-3000:]}")

    for name, p in procs.items():
        if p.stdout.readline().strip() != "ready":  # blocks until loaded
            raise failed(name)
    names = list(jobs)
    for name in names[1:]:
        os.kill(procs[name].pid, signal.SIGSTOP)
    since = {name: time.perf_counter() for name in names[1:]}
    for p in procs.values():
        p.stdin.write("go\n")  # a stopped process reads it when it is continued
        p.stdin.flush()
    running = names[0]
    while True:
        try:
            procs[running].wait(timeout=slice_s)
        except subprocess.TimeoutExpired:
            pass
        waiting = [n for n in names if n != running and procs[n].poll() is None]
        if not waiting:
            if procs[running].poll() is None:
                procs[running].wait()
            break
        nxt = waiting[0]
        if procs[running].poll() is None:
            os.kill(procs[running].pid, signal.SIGSTOP)
            since[running] = time.perf_counter()
        os.kill(procs[nxt].pid, signal.SIGCONT)
        stopped[nxt].append((since.pop(nxt), time.perf_counter()))
        names.remove(nxt)
        names.append(nxt)  # round robin
        running = nxt
    results = {}
    for name, p in procs.items():
        out = p.stdout.read()
        if p.wait():
            raise failed(name)
        r = json.loads(out.strip().splitlines()[-1])
        paused = sum(max(0.0, min(b, r["t1"]) - max(a, r["t0"])) for a, b in stopped[name])
        r |= {
            "seconds": r["t1"] - r["t0"] - paused,
            "stopped_seconds": paused,
            "turns": len(stopped[name]) + 1,
            "stage_seconds": stage_seconds(r, stopped[name]),
        }
        results[name] = r
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10_000, help="reports in the large corpus")
    ap.add_argument("--small", type=int, default=None, help="reports in the small corpus (default docs/4)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2, help="Dask LocalCluster workers")
    ap.add_argument("--skip-dask", action="store_true", help="leave out the Prefect/Dask comparison")
    ap.add_argument("--skip-two-process", action="store_true", help="leave out raw nlp.pipe n_process=2")
    ap.add_argument(
        "--flow-docs", type=int, default=None, help="reports for the Dask comparison (default small)"
    )
    ap.add_argument(
        "--raw-from", type=Path, default=None,
        help="take the raw nlp.pipe figures from the JSON line of an earlier run with the same --docs "
        "(the corpus is built the same way each time); saves re-measuring spaCy after a reportminer change. "
        "Use a run of the same day: this VM's speed moves by several percent between days",
    )  # fmt: skip
    ap.add_argument(
        "--slice", type=float, default=5.0,
        help="seconds raw and reportminer run at a time when they take turns (default 5)",
    )  # fmt: skip
    ap.add_argument(
        "--sequential", action="store_true",
        help="measure raw and reportminer one after the other instead of taking turns",
    )  # fmt: skip
    ap.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--paired", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.measure:  # a child process: one measurement, JSON on stdout
        kind, *rest = args.measure
        if kind == "raw":
            result = measure_raw(Path(rest[0]), int(rest[1]), args.batch_size, args.paired)
        elif kind == "reportminer":
            result = measure_reportminer(Path(rest[0]), Path(rest[1]), args.batch_size, args.paired)
        else:
            result = measure_flow(Path(rest[0]), Path(rest[1]), args.batch_size, int(rest[2]))
        print(json.dumps(result))
        return

    small = args.small or max(1, args.docs // 4)
    work = Path(tempfile.mkdtemp(prefix="reportminer-throughput-"))
    try:
        big, little = work / f"docs_{args.docs}", work / f"docs_{small}"
        build_corpus(big, args.docs)
        build_corpus(little, small)
        print(f"corpora: {args.docs} and {small} reports under {work}", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import reportminer.pipeline"], check=True)
        startup = time.perf_counter() - t0

        rm_args = ["reportminer", str(big), str(work / "out_big")]
        if args.raw_from:
            earlier = json.loads(args.raw_from.read_text(encoding="utf-8").strip().splitlines()[-1])
            if earlier["docs"] != args.docs:
                raise SystemExit(f"{args.raw_from} measured {earlier['docs']} reports, not {args.docs}")
            raw = {k: v for k, v in earlier["raw"].items() if k != "words_per_s"}
            print(f"raw nlp.pipe figures from {args.raw_from}")
            rm = in_subprocess(*rm_args)
        elif args.sequential:
            raw = in_subprocess("raw", str(big), "1")
            rm = in_subprocess(*rm_args)
        else:
            print(f"raw and reportminer take turns, {args.slice:g} s at a time", flush=True)
            paired = measure_paired({"raw": ["raw", str(big), "1"], "reportminer": rm_args}, args.slice, work)
            raw, rm = paired["raw"], paired["reportminer"]
        rm_small = in_subprocess("reportminer", str(little), str(work / "out_small"))
        raw2 = None if args.skip_two_process else in_subprocess("raw", str(big), "2")
        rows = [
            ("raw nlp.pipe, 1 process", raw), ("reportminer, 1 process", rm),
            (f"reportminer, {small} reports", rm_small),
        ]  # fmt: skip
        if raw2:
            rows.insert(1, ("raw nlp.pipe, 2 processes", raw2))
        for name, r in rows:
            r["words_per_s"] = round(r["words"] / r["seconds"])
            r.setdefault("stage_seconds", stage_seconds(r, []))
            print(f"{name:<32} {r['words']:>10,} words {r['seconds']:>8.1f} s {r['words_per_s']:>7,} words/s "
                  f"peak RSS {r['rss_mb']:>7.1f} MB", flush=True)  # fmt: skip
        for name, r in rows:
            stages = r.get("stage_seconds")
            detail = ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) if stages else "-"
            if "minor_faults" in r:
                print(f"{name:<32} minor page faults {r['minor_faults']:>10,}; stages: {detail}")
        ratio = rm["words_per_s"] / raw["words_per_s"]
        print(f"ratio reportminer / raw (1 process): {ratio:.3f}  (target >= 0.85)")
        print(f"peak RSS {small} → {args.docs} reports: {rm_small['rss_mb']:.0f} → {rm['rss_mb']:.0f} MB")
        print(f"start-up: interpreter + import {startup:.1f} s, model load {rm['load_seconds']:.1f} s")
        result = {
            "docs": args.docs, "small": small, "ratio": round(ratio, 3), "raw": raw, "reportminer": rm,
            "reportminer_small": rm_small, "raw_2_processes": raw2, "startup_seconds": round(startup, 2),
        }  # fmt: skip
        if raw2:
            print(f"raw nlp.pipe scaling 1 → 2 processes: x{raw2['words_per_s'] / raw['words_per_s']:.2f}")
        if not args.skip_dask:
            n_flow = args.flow_docs or small
            corpus = little
            if n_flow != small:
                corpus = work / f"docs_{n_flow}"
                build_corpus(corpus, n_flow)
            flow = in_subprocess("flow", str(corpus), str(work / "out_flow"), "0")
            dask = in_subprocess("flow", str(corpus), str(work / "out_dask"), str(args.workers))
            speedup = flow["seconds"] / dask["seconds"]
            print(f"Prefect flow on {n_flow} reports: default runner {flow['seconds']:.1f} s, "
                  f"Dask {args.workers} workers {dask['seconds']:.1f} s: speed-up x{speedup:.2f}")  # fmt: skip
            result |= {"flow": flow, "dask": dask, "dask_speedup": round(speedup, 2)}
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
