"""Pretrain the tok2vec (`spacy pretrain`) in resumable chunks: one shuffled shard of the raw text a chunk.

Usage: python scripts/pretrain_chunks.py CONFIG CHECKPOINTS [--shards corpus/raw_de.shard*.jsonl]
           [--vectors corpus/vectors_de] [--max-chunks N] [--n-chunks N] [--seed 42]

A session can be stopped at any time, so pretraining over the 30 M words of ``scripts/raw_text.py`` runs as
chunks of one shard each (about 3 M words; under two hours on 2 cores). Chunk k resumes from chunk k-1's
weights (``--resume-path``) and writes ``CHECKPOINTS/chunkKK/model{k}.bin``; a chunk whose weights exist is
skipped, so running the script again continues where it stopped. Checkpoints live outside the repository
(default in training/project.yml: ``../../reportminer-pretrain``, beside the checkout). ``CHECKPOINTS/latest``
names the newest weights, which ``spacy train --paths.init_tok2vec`` takes.
"""

from __future__ import annotations

import argparse
import glob
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("checkpoints")
    ap.add_argument("--shards", default="corpus/raw_de.shard*.jsonl")
    ap.add_argument("--vectors", default="corpus/vectors_de")
    ap.add_argument("--max-chunks", type=int, default=None, help="stop after this many new chunks")
    ap.add_argument(
        "--n-chunks", type=int, default=None, help="use only the first N shards (N chunks in all)"
    )
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    shards = sorted(glob.glob(args.shards))[: args.n_chunks]
    if not shards:
        sys.exit(f"no shards match {args.shards}: run `weasel run vectors` (scripts/raw_text.py) first")
    root = Path(args.checkpoints)
    root.mkdir(parents=True, exist_ok=True)
    previous: Path | None = None
    done = 0
    for k, shard in enumerate(shards):
        out = root / f"chunk{k:02d}"
        weights = out / f"model{k}.bin"
        if weights.exists():
            previous = weights
            continue
        if args.max_chunks is not None and done >= args.max_chunks:
            break
        cmd = [
            sys.executable, "-m", "spacy", "pretrain", args.config, str(out),
            "--paths.raw_text", shard, "--paths.vectors", args.vectors, "--system.seed", str(args.seed),
            "--pretraining.max_epochs", str(k + 1), "--pretraining.n_save_every", "null",
        ]  # fmt: skip
        if previous is not None:
            cmd += ["--resume-path", str(previous), "--epoch-resume", str(k)]
        t0 = time.perf_counter()
        print(f"chunk {k}: {shard} -> {out}", flush=True)
        subprocess.run(cmd, check=True)
        if not weights.exists():
            sys.exit(f"chunk {k} finished without {weights}; see spacy pretrain's output above")
        print(f"chunk {k}: {time.perf_counter() - t0:.0f} s", flush=True)
        (root / "latest").write_text(str(weights.resolve()) + "\n", encoding="utf-8")
        previous = weights
        done += 1
    print(f"latest weights: {previous}")


if __name__ == "__main__":
    main()
