"""End-to-end throughput: a `reportminer run` against raw spaCy ``nlp.pipe`` on the same texts.

Usage: python benchmarks/throughput.py [--docs 1600] [--small 400] [--rounds 2] [--dask] [--workers N]
                                     [--corpus civic|speeches]

Builds a corpus of --docs reports (and one of --small reports for the memory comparison) from the real
OKFDE civic reports in ../shared/data/corpus/okfde_civic_blogs/texts, repeated with varied dates, years
and town names (falls back to the sample corpus in corpus/ when ../shared is absent); with ``--corpus
speeches``, of distinct reports from the Bundestag speeches in ../shared/data/unlabeled, where no text
repeats (a first run's theme fit then costs what it costs on a user's own corpus). Then, in rounds, each
measured run in processes of its own, with nothing else of the benchmark running beside it:

- raw 1: the same loaded pipeline (model, sentences, entity rules, dates; same batch size) over the texts
  held in memory, cut into the same pieces of at most ``pipeline.MAX_CHUNK_CHARS`` characters, with
  ``nlp.pipe(n_process=1)``; its time is the ``nlp.pipe`` loop alone (no interpreter start, no model load);
- raw N: the same with ``n_process`` = the usable cores;
- reportminer: the command a user types, ``reportminer run CORPUS --out OUT --full`` (Prefect engine,
  defaults), timed from process start to exit: interpreter, imports, Prefect's temporary server, model
  load, reading, analysis, tables and their writing all included.

The three take turns within each round, in a rotating order, so that all see the machine of the same
minutes (this VM's speed moves by 10-20 % between minutes); the figures are each kind's median over the
rounds. The ratio is raw's best time (1 or N processes) over reportminer's wall time: the share of what
spaCy alone would do with this machine that a user gets. Target: >= 0.85.

Then: an unchanged re-run of the last reportminer run (its wall time against the full run's; target
<= 5 %), the run on the small corpus (peak memory flat in corpus size), and with --dask the Prefect flow
on a Dask LocalCluster against a one-process run (``--workers 1``).

Memory: a sampler reads every 0.2 s the resident memory of each measured process and its children (worker
processes, Prefect's temporary server); it prints each process's peak and the peak of their sum. Words
are tokens that are neither space nor punctuation, counted the same way for both. BLAS runs one thread per
process, as the ``reportminer`` command runs it. Last line is JSON.
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
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import psutil  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CIVIC = ROOT.parent / "shared" / "data" / "corpus" / "okfde_civic_blogs" / "texts"
TOWNS = ["Zwickau", "Plauen", "Chemnitz", "Leipzig", "Dresden", "Görlitz", "Bautzen", "Freiberg", "Meißen",
         "Erfurt", "Jena", "Gera", "Halle", "Magdeburg", "Potsdam", "Cottbus", "Rostock", "Schwerin"]  # fmt: skip
CITY_RE = re.compile(r"\b(München|Berlin|Hamburg|Köln|Frankfurt|Stuttgart|Düsseldorf|Ulm|Bonn|Karlsruhe)\b")
YEAR_RE = re.compile(r"\b(20[012]\d)\b")


SPEECHES = ROOT.parent / "shared" / "data" / "unlabeled" / "bundestag_speeches_wp20.txt.xz"
PARAGRAPHS = 12  # paragraphs per report of the distinct corpus (about 600 words)


def build_distinct_corpus(folder: Path, n_docs: int) -> None:
    """``n_docs`` distinct report files: consecutive runs of :data:`PARAGRAPHS` paragraphs of the Bundestag
    speeches in ../shared/data/unlabeled (public domain). Unlike the civic corpus, no text repeats, so the
    build's boilerplate finder leaves every report's words to the theme fit, as in a user's own corpus."""
    import lzma

    if not SPEECHES.is_file():
        raise SystemExit(f"--corpus speeches needs {SPEECHES} (../shared beside the repository)")
    paragraphs: list[str] = []
    with lzma.open(SPEECHES, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                paragraphs.append(line.strip())
            if len(paragraphs) >= n_docs * PARAGRAPHS:
                break
    if len(paragraphs) < n_docs * PARAGRAPHS:
        raise SystemExit(f"{SPEECHES} has text for {len(paragraphs) // PARAGRAPHS} reports, not {n_docs}")
    folder.mkdir(parents=True)
    for i in range(n_docs):
        body = "\n\n".join(paragraphs[i * PARAGRAPHS : (i + 1) * PARAGRAPHS])
        (folder / f"{i:05d}_rede.txt").write_text(f"Rede {i + 1}\n\n{body}\n", encoding="utf-8")


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


def measure_raw(folder: Path, n_process: int, batch_size: int) -> dict:
    from reportminer.nlp import load_pipeline
    from reportminer.pipeline import chunk_spans, count_words

    t0 = time.perf_counter()
    nlp = load_pipeline(None)
    load = time.perf_counter() - t0
    texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
    texts = [text[start:end] for text in texts for start, end in chunk_spans(text)]
    words = 0
    t0 = time.perf_counter()
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        words += count_words(doc)  # as reportminer counts them
    return {"seconds": time.perf_counter() - t0, "words": words, "load_seconds": load}


class TreeSampler(threading.Thread):
    """Peak resident memory of a process and its descendants, sampled every ``interval`` seconds: per
    process (pid -> MB, with a short name) and of their sum."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = psutil.Process(pid), interval
        self.peaks: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.peak_total = 0.0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            total = 0.0
            for proc in procs:
                try:
                    mb = proc.memory_info().rss / 2**20
                    if proc.pid not in self.names:
                        self.names[proc.pid] = _short_name(proc.cmdline())
                except psutil.Error:
                    continue
                total += mb
                self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0.0), mb)
            self.peak_total = max(self.peak_total, total)
            self.stopped.wait(self.interval)

    def summary(self) -> dict:
        per = sorted(
            ((self.names.get(pid, "?"), round(mb)) for pid, mb in self.peaks.items()), key=lambda x: -x[1]
        )
        return {"peak_total_mb": round(self.peak_total), "peak_per_process_mb": per}


def _short_name(cmdline: list[str]) -> str:
    text = " ".join(cmdline)
    if "uvicorn" in text:
        return "prefect server"
    if "multiprocessing" in text or "spawn_main" in text or "forkserver" in text:
        return "worker"
    if "reportminer" in text and " run " in f" {text} ":
        return "reportminer run"
    if "--measure" in text:
        return "raw nlp.pipe"
    return os.path.basename(cmdline[0]) if cmdline else "?"


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str, dict]:
    """Run ``cmd``; its wall time from start to exit, its stdout, and its memory (:class:`TreeSampler`)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stopped.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{err[-3000:]}")
    return wall, out, sampler.summary()


def raw(folder: Path, n_process: int, batch_size: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--batch-size", str(batch_size), "--measure", "raw",
           str(folder), str(n_process)]  # fmt: skip
    wall, out, memory = run_measured(cmd)
    result = json.loads(out.strip().splitlines()[-1])
    return result | {"wall_seconds": wall, **memory}


def reportminer_run(folder: Path, out: Path, env: dict[str, str], *extra: str, full: bool = True) -> dict:
    cmd = [str(Path(sys.executable).with_name("reportminer")), "run", str(folder), "--out", str(out), *extra]
    if full:
        cmd.append("--full")
    wall, _, memory = run_measured(cmd, env)
    import pandas as pd

    words = int(pd.read_parquet(out / "parquet" / "documents.parquet", columns=["n_words"])["n_words"].sum())
    return {"seconds": wall, "words": words, **memory}


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1600, help="reports in the large corpus (default 1,600)")
    ap.add_argument("--small", type=int, default=None, help="reports in the small corpus (default docs/4)")
    ap.add_argument(
        "--rounds", type=int, default=2, help="rounds of raw 1, raw N and reportminer (default 2)"
    )
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=None, help="--workers for reportminer (default: its own)")
    ap.add_argument("--dask", action="store_true", help="also: the Dask flow against a one-process run")
    ap.add_argument(
        "--corpus", choices=["civic", "speeches"], default="civic",
        help="civic: the OKFDE posts repeated with varied dates and towns (default); speeches: distinct "
        "reports from the Bundestag speeches in ../shared/data/unlabeled (a first run's theme fit as on a "
        "user's own corpus)",
    )  # fmt: skip
    ap.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.measure:  # a child process: one raw measurement, JSON on stdout
        _, folder, n_process = args.measure
        print(json.dumps(measure_raw(Path(folder), int(n_process), args.batch_size)))
        return

    from reportminer.pipeline import usable_cores

    cores = usable_cores()
    small = args.small or max(1, args.docs // 4)
    extra = [] if args.workers is None else ["--workers", str(args.workers)]
    work = Path(tempfile.mkdtemp(prefix="reportminer-throughput-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_URL")}
    env["PREFECT_HOME"] = str(work / "prefect")  # the temporary server, as on a user's machine
    try:
        big, little = work / f"docs_{args.docs}", work / f"docs_{small}"
        build = build_corpus if args.corpus == "civic" else build_distinct_corpus
        build(big, args.docs)
        build(little, small)
        print(f"corpora: {args.docs} and {small} reports under {work}; {cores} usable cores", flush=True)
        reportminer_run(little, work / "warm-up", env, *extra)  # Prefect's database made, files cached
        kinds = {
            "raw 1": lambda: raw(big, 1, args.batch_size),
            f"raw {cores}": lambda: raw(big, cores, args.batch_size),
            "reportminer": lambda: reportminer_run(big, work / "out", env, *extra),
        }
        results: dict[str, list[dict]] = {name: [] for name in kinds}
        names = list(kinds)
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                result = kinds[name]()
                results[name].append(result)
                print(f"round {r + 1}: {name:<12} {result['seconds']:7.1f} s  "
                      f"{result['words'] / result['seconds']:7,.0f} words/s  "
                      f"peak RSS total {result['peak_total_mb']:,} MB", flush=True)  # fmt: skip
        seconds = {name: median([x["seconds"] for x in rs]) for name, rs in results.items()}
        words = results["reportminer"][0]["words"]
        best_raw = min(seconds["raw 1"], seconds[f"raw {cores}"])
        ratio = best_raw / seconds["reportminer"]
        print()
        for name in names:
            last = results[name][-1]
            per = ", ".join(f"{n} {mb:,}" for n, mb in last["peak_per_process_mb"])
            print(f"{name:<12} median {seconds[name]:7.1f} s  {words / seconds[name]:7,.0f} words/s  "
                  f"peak RSS: total {last['peak_total_mb']:,} MB; per process (MB): {per}")  # fmt: skip
        print(f"ratio: raw's best ({best_raw:.1f} s) / reportminer's wall time ({seconds['reportminer']:.1f} s, "
              f"start-up included) = {ratio:.3f}  (target >= 0.85)")  # fmt: skip

        again = reportminer_run(big, work / "out", env, *extra, full=False)
        share = again["seconds"] / seconds["reportminer"]
        print(f"unchanged re-run: {again['seconds']:.1f} s = {share:.1%} of a full run (target <= 5 %)")
        rm_small = reportminer_run(little, work / "out_small", env, *extra)
        print(f"peak RSS total, {small} → {args.docs} reports: {rm_small['peak_total_mb']:,} → "
              f"{results['reportminer'][-1]['peak_total_mb']:,} MB")  # fmt: skip
        result = {
            "docs": args.docs, "small": small, "cores": cores, "rounds": args.rounds, "words": words,
            "seconds": seconds, "ratio": round(ratio, 3), "unchanged_share": round(share, 4),
            "runs": results, "reportminer_small": rm_small, "unchanged": again,
        }  # fmt: skip
        if args.dask:
            one = reportminer_run(big, work / "out_one", env, "--workers", "1")
            dask = reportminer_run(
                big, work / "out_dask", env, "--task-runner", "dask", "--workers", str(cores)
            )
            speedup = one["seconds"] / dask["seconds"]
            print(f"one process {one['seconds']:.1f} s; Dask LocalCluster of {cores} workers "
                  f"{dask['seconds']:.1f} s: speed-up x{speedup:.2f} (target >= 1.6)")  # fmt: skip
            result |= {"one_process": one, "dask": dask, "dask_speedup": round(speedup, 2)}
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
