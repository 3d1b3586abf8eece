"""Assemble the trained NER model into reportminer's bundled pipeline folder.

Usage: python scripts/package_model.py MODEL_DIR DEST [--name N] [--version V] [--metrics test.json]

Adds a rule-based sentencizer (the model has no parser), writes metadata with the data source and
licence, and copies the attribution. The result loads with plain ``spacy.load(DEST)``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import spacy

ATTRIBUTION = """\
This German NER model was trained by reportminer's training recipe (training/project.yml) on the
GermEval 2014 NER data: D. Benikova, C. Biemann, M. Reznicek (2014). NoSta-D Named Entity Annotation for
German: Guidelines and Dataset. Proc. LREC 2014, Reykjavik. Licensed CC BY 4.0
(https://creativecommons.org/licenses/by/4.0/). Labels: PER, LOC, ORG, MISC (outer level; OTH and *deriv
mapped to MISC, *part to O).

It was also trained on 96 German civic reports annotated by the reportminer project (training/gold/
okfde_ner_train.jsonl, the same labels): posts of codefor.de, demokratielabore.de and edulabs.de (CC BY
4.0) and datenschule.de (CC BY 3.0 DE) by Open Knowledge Foundation Deutschland e.V., see
../shared/data/corpus/okfde_civic_blogs/SOURCE.txt in the training setup.

Its static vectors (floret, 50,000 x 200) and, where the model says so in meta.json, its pretrained
token-to-vector layer were learned from unannotated text (labels ignored) of: German federal laws and
ordinances as of March 2022 (repository bundestag/gesetze; official works, not protected by copyright,
§ 5 Abs. 1 UrhG; Unlicense) and speeches in the plenary sessions of the 20th German Bundestag 2021-2025
(repository mathias-goebel/plenarsitzungsprotokolle; official works, § 5 UrhG); GermEval 2014 train; German
Legal Entity Recognition, E. Leitner, G. Rehm, J. Moreno-Schneider (2019), CC BY 4.0; MobIE, L. Hennig,
P. T. Truong, A. Gabryszak (2021), CC BY 4.0; and the same OKFDE civic blogs.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--name", default="reportminer_ner")
    parser.add_argument("--version", default="0.1.0")
    parser.add_argument("--metrics", type=Path)
    parser.add_argument("--pretrained", help="the pretraining checkpoint the tok2vec started from (recorded)")
    args = parser.parse_args()

    nlp = spacy.load(args.model_dir)
    if "sentencizer" not in nlp.pipe_names:
        # after the NER: spaCy's NER keeps entities inside sentences, and the sentencizer's splits at stray
        # full stops would cut names the model finds whole (GermEval dev +0.45 micro-F1 through eval-ner)
        nlp.add_pipe("sentencizer")
    nlp.meta.update(
        {
            "name": args.name,
            "version": args.version,
            "description": "German NER (PER, LOC, ORG, MISC) bundled with reportminer, trained on GermEval 2014 "
            "and annotated German civic reports",
            "license": "CC BY 4.0 (training data: GermEval 2014)",
            "author": "reportminer authors",
            "sources": [
                {
                    "name": "GermEval 2014 NER (NoSta-D)",
                    "url": "https://sites.google.com/site/germeval2014ner/",
                    "license": "CC BY 4.0",
                    "author": "D. Benikova, C. Biemann, M. Reznicek",
                },
                {
                    "name": "96 OKFDE civic reports (codefor.de, demokratielabore.de, edulabs.de, datenschule.de), "
                    "annotated by the reportminer project",
                    "license": "texts CC BY 4.0 / CC BY 3.0 DE (Open Knowledge Foundation Deutschland e.V.)",
                },
                {
                    "name": "Unannotated text for the static vectors (and pretraining): German federal laws "
                    "(bundestag/gesetze, 2022) and Bundestag plenary speeches 2021-2025 "
                    "(mathias-goebel/plenarsitzungsprotokolle)",
                    "license": "official works, § 5 UrhG (public domain)",
                },
                {
                    "name": "Further unannotated text for the static vectors: GermEval 2014 train, German "
                    "LER (CC BY 4.0), MobIE (CC BY 4.0), OKFDE civic blogs (CC BY)",
                    "license": "CC BY 4.0 / CC BY 3.0 DE",
                },
            ],
        }
    )
    nlp.meta["training"] = {
        "vectors": "floret 50,000 x 200, training/scripts/train_vectors.py on training/scripts/raw_text.py's text",
        "init_tok2vec": args.pretrained or None,
    }
    if args.metrics and args.metrics.exists():
        scores = json.loads(args.metrics.read_text())
        nlp.meta["performance"] = {
            "germeval2014_test": {k: scores[k] for k in ("ents_p", "ents_r", "ents_f") if k in scores}
            | {"ents_per_type": scores.get("ents_per_type", {})}
        }
    if args.dest.exists():
        shutil.rmtree(args.dest)
    args.dest.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.dest)
    # the training machine's paths (pretraining checkpoint, raw text) mean nothing where the model is loaded
    config = args.dest / "config.cfg"
    lines = [
        f"{line.split('=')[0].strip()} = null" if line.startswith(("init_tok2vec = ", "raw_text = ")) and "${" not in line
        else line
        for line in config.read_text(encoding="utf-8").splitlines()
    ]  # fmt: skip
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (args.dest / "ATTRIBUTION.txt").write_text(ATTRIBUTION, encoding="utf-8")
    size = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"packaged {args.model_dir} -> {args.dest} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
