"""Train compact floret vectors (subword-hashed, good for German compounds) on raw text.

Usage: python scripts/train_vectors.py RAW.txt OUT_PREFIX [--dim 200] [--bucket 50000] [--epoch 5] [--min-count 5]

Writes OUT_PREFIX.floret, which `spacy init vectors de OUT_PREFIX.floret DIR --mode floret` turns into
a vectors table of ``bucket`` rows, whatever the vocabulary size.
"""

from __future__ import annotations

import argparse
import time

import floret


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw")
    ap.add_argument("out_prefix")
    ap.add_argument("--dim", type=int, default=200)
    ap.add_argument("--bucket", type=int, default=50000)
    ap.add_argument("--epoch", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = floret.train_unsupervised(
        args.raw, model="cbow", mode="floret", hashCount=2, bucket=args.bucket, minn=3, maxn=6,
        minCount=args.min_count, dim=args.dim, epoch=args.epoch, thread=args.threads, verbose=0,
    )  # fmt: skip
    model.save_floret_vectors(args.out_prefix + ".floret")
    print(f"{args.out_prefix}.floret: {args.bucket} x {args.dim} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
