"""One point of the learning curve of the bundled recipe (vectors + pretraining + training) at a share of
data/unlabeled, resumable: each step is skipped when its output exists, so run it again after a stop.

Usage: python scripts/learning_curve.py SHARE WORKDIR [--shards N] [--n-chunks N] [--threads 1]

Steps, all under WORKDIR (outside the repository, e.g. ../../reportminer-curve/s10):
  1. raw text: ``raw_text.py --unlabeled-share SHARE --shards N`` (the training splits' text is always in);
  2. floret vectors with 0.4.0's settings (50,000 x 200, CBOW, 5 epochs) and ``spacy init vectors``;
  3. pretraining: ``pretrain_chunks.py`` over the first ``--n-chunks`` shards (0.4.0: 2 of 10 shards of the
     whole text, about 6 M words; choose shards so that a point pretrains on about as many words);
  4. training: 0.4.0's ``train`` command (configs/ner_pretrain.cfg, GermEval train + OKFDE train twice, 6,000
     steps, seed 42) from the last pretrained chunk;
  5. ``spacy evaluate`` of model-best on GermEval dev and test: WORKDIR/metrics_{dev,test}.json.

Run from training/ after ``weasel run convert`` and ``weasel run domain-train`` (corpus/train_mix is the
training folder the ``train`` command builds). One point takes 1 to 1.5 hours on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def step(name: str, output: Path, cmd: list[str], env: dict[str, str]) -> None:
    if output.exists():
        print(f"{name}: {output} exists, skipped", flush=True)
        return
    print(f"{name}: {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("share", type=float)
    ap.add_argument("workdir")
    ap.add_argument("--data", default="../../shared/data")
    ap.add_argument("--shards", type=int, default=10)
    ap.add_argument("--n-chunks", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data} not found: ../shared/data must sit beside the repository")
    if not Path("corpus/train_mix").exists():
        sys.exit("corpus/train_mix not found: run `weasel run convert`, `domain-train` and `train` first")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    py = sys.executable
    raw = work / "raw_de.txt"
    step(
        "raw text",
        work / "raw_de.jsonl",
        [py, "scripts/raw_text.py", args.data, str(raw), "--unlabeled-share", str(args.share),
         "--shards", str(args.shards)],
        env,
    )  # fmt: skip
    step(
        "vectors",
        work / "vectors_de.floret",
        [py, "scripts/train_vectors.py", str(raw), str(work / "vectors_de"), "--dim", "200",
         "--bucket", "50000", "--epoch", "5", "--threads", str(args.threads)],
        env,
    )  # fmt: skip
    vectors = work / "vectors"
    step(
        "init vectors",
        vectors,
        [py, "-m", "spacy", "init", "vectors", "de", str(work / "vectors_de.floret"), str(vectors),
         "--mode", "floret"],
        env,
    )  # fmt: skip
    checkpoints = work / "pretrain"
    last = checkpoints / f"chunk{args.n_chunks - 1:02d}" / f"model{args.n_chunks - 1}.bin"
    step(
        "pretraining",
        last,
        [py, "scripts/pretrain_chunks.py", "configs/ner_pretrain.cfg", str(checkpoints),
         "--shards", str(work / "raw_de.shard*.jsonl"), "--vectors", str(vectors),
         "--n-chunks", str(args.n_chunks)],
        env,
    )  # fmt: skip
    model = work / "ner" / "model-best"
    step(
        "training",
        model,
        [py, "-m", "spacy", "train", "configs/ner_pretrain.cfg", "--output", str(work / "ner"),
         "--paths.train", "corpus/train_mix", "--paths.dev", "corpus/germeval_dev.spacy",
         "--paths.vectors", str(vectors), "--paths.init_tok2vec", str(last),
         "--paths.raw_text", str(work / "raw_de.shard00.jsonl"), "--system.seed", "42"],
        env,
    )  # fmt: skip
    scores = {}
    for split in ("dev", "test"):
        out = work / f"metrics_{split}.json"
        step(
            f"evaluate {split}",
            out,
            [
                py,
                "-m",
                "spacy",
                "evaluate",
                str(model),
                f"corpus/germeval_{split}.spacy",
                "--output",
                str(out),
            ],
            env,
        )
        scores[split] = round(json.loads(out.read_text())["ents_f"], 4)
    print(f"share {args.share}: GermEval dev {scores['dev']}, test {scores['test']} (bare model)")


if __name__ == "__main__":
    main()
