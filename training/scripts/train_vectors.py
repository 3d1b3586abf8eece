"""Train compact floret vectors (subword-hashed, good for German compounds) on raw text.

Usage: python scripts/train_vectors.py RAW.txt OUT_PREFIX [--dim 100] [--bucket 20000] [--epoch 10]

Writes OUT_PREFIX.floret, which `spacy init vectors de OUT_PREFIX.floret DIR --mode floret` turns into
a vectors table of ``bucket`` rows, whatever the vocabulary size.
"""

from __future__ import annotations

import argparse

import floret


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw")
    ap.add_argument("out_prefix")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--bucket", type=int, default=20000)
    ap.add_argument("--epoch", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model = floret.train_unsupervised(
        args.raw, model="cbow", mode="floret", hashCount=2, bucket=args.bucket, minn=3, maxn=6,
        minCount=3, dim=args.dim, epoch=args.epoch, thread=args.threads, verbose=0,
    )  # fmt: skip
    model.save_floret_vectors(args.out_prefix + ".floret")
    print(f"{args.out_prefix}.floret: {args.bucket} x {args.dim}")


if __name__ == "__main__":
    main()
