"""Evaluate reportminer's German temporal tagger on a texts/ + gold.json folder (e.g. WikiWarsDE).

Usage: python scripts/eval_dates.py DIR [--predictions OUT.json] [--mode narrative|news] [--split N]
Prints a small table; the last line is a JSON object with all numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

try:
    from reportminer.dates import _load_gold, predict_folder, score_predictions
except ImportError:  # running from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from reportminer.dates import _load_gold, predict_folder, score_predictions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold_dir", type=Path)
    ap.add_argument("--predictions", type=Path, help="write predictions (gold schema) as JSON here")
    ap.add_argument("--mode", default="narrative", choices=["narrative", "news"])
    ap.add_argument("--split", type=int, default=16,
                    help="first N sorted docs = tuning set, rest = held-out (0: no split)")
    args = ap.parse_args(argv)

    gold = _load_gold(args.gold_dir)
    pred = predict_folder(args.gold_dir, mode=args.mode)
    ids = sorted(pred)
    parts = {"all": ids}
    if 0 < args.split < len(ids):
        parts = {"tuning": ids[: args.split], "held_out": ids[args.split :], "all": ids}
    results = {name: score_predictions(gold, {k: pred[k] for k in sub}) for name, sub in parts.items()}

    print(f"{'set':<10}{'docs':>5}{'gold':>6}{'pred':>6}{'strict P':>10}{'R':>7}{'F1':>7}"
          f"{'relax P':>9}{'R':>7}{'F1':>7}{'value acc':>11}")
    for name, r in results.items():
        s, x = r["strict"], r["relaxed"]
        print(f"{name:<10}{r['docs']:>5}{r['gold']:>6}{r['predicted']:>6}{s['precision']:>10.3f}{s['recall']:>7.3f}"
              f"{s['f1']:>7.3f}{x['precision']:>9.3f}{x['recall']:>7.3f}{x['f1']:>7.3f}{r['value_accuracy']:>11.3f}")
    if args.predictions:
        args.predictions.parent.mkdir(parents=True, exist_ok=True)
        args.predictions.write_text(json.dumps(pred, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({"mode": args.mode, **results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
