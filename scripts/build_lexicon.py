"""Build the list of German words that are only common nouns, used by the entity rules to drop a model's
person or place that is nothing but such words ("Imbiss und Getränke" tagged PER by the model), and the
list of German first names that lets them find a person's full name.

Sources (nothing in the output is typed by hand):

* PyPI package ``german-nouns`` 1.2.5 (CC BY-SA 4.0; Gregor Weichbrodt, compiled from the German Wiktionary):
  ``german_nouns/nouns.csv``, ~100,000 nouns with all their case and number forms, each with its Wiktionary
  parts of speech. A form is kept when it is capitalised, has three letters or more and no space, and no entry
  that has it is a name (Toponym, Vorname, Nachname, Eigenname, Straßenname): "Müller" (also a surname),
  "Essen" (also a city) and "Thomas" are not kept.
* GermEval 2014 train (``../shared/data/ner/germeval2014/conll/train.conll``, CC BY 4.0): a word that its
  annotators tagged inside any name at least once is not kept ("Bild" the newspaper, "Sonne" in a hotel's name).
* reportminer's gazetteer (``src/reportminer/data/gazetteer_places.csv``): place names and their aliases are
  not kept.

How to rebuild (network only to the package registry)::

    .venv/bin/python scripts/build_lexicon.py                    # pip-downloads german-nouns==1.2.5 into a temp folder
    .venv/bin/python scripts/build_lexicon.py --nouns german_nouns-1.2.5-py3-none-any.whl

Output (in src/reportminer/data/): common_nouns_de.txt.gz (one word a line, sorted), first_names_de.txt (the
lemmas of the entries tagged Vorname) and LEXICON_SOURCES.txt. The word lists are CC BY-SA 4.0 like their
source; the rest of reportminer keeps its own licence.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "reportminer" / "data"
PACKAGE = "german-nouns==1.2.5"
NAME_POS = {"Toponym", "Vorname", "Nachname", "Eigenname", "Straßenname"}
NOT_FORMS = {"lemma", "pos"}


def _nouns_csv(path: Path | None) -> str:
    if path is None:
        tmp = Path(tempfile.mkdtemp())
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp), PACKAGE]
        subprocess.run(cmd, check=True)
        [path] = tmp.glob("german_nouns-*.whl")
    if path.suffix == ".csv":
        return path.read_text(encoding="utf-8")
    with zipfile.ZipFile(path) as wheel:
        return wheel.read("german_nouns/nouns.csv").decode("utf-8")


def common_only(nouns_csv: str) -> tuple[set[str], set[str], int]:
    """Forms known only as common nouns, and the lemmas of first names (Vorname)."""
    common: set[str] = set()
    names: set[str] = set()
    first: set[str] = set()
    rows = 0
    for row in csv.DictReader(io.StringIO(nouns_csv)):
        rows += 1
        forms = {v for k, v in row.items() if k not in NOT_FORMS and not k.startswith("genus") and v}
        forms.add(row["lemma"])
        pos = set(row["pos"].split(","))
        (names if NAME_POS & pos else common).update(forms)
        if "Vorname" in pos and " " not in row["lemma"]:
            first.add(row["lemma"])
    return {w for w in common - names if len(w) >= 3 and w[0].isupper() and " " not in w}, first, rows


def name_words(conll: Path) -> set[str]:
    """The words that the gold file tags inside a name at least once."""
    from reportminer.conll import read_conll

    return {
        tok
        for sent in read_conll(conll)
        for tok, tag in zip(sent.tokens, sent.tags, strict=True)
        if tag != "O"
    }


def place_words() -> set[str]:
    words = set()
    with (OUT_DIR / "gazetteer_places.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for name in [row["name"], *row["aliases"].split("|")]:
                words.update(name.split())
    return words


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--nouns", type=Path, help="german-nouns wheel or its nouns.csv (default: pip download)"
    )
    parser.add_argument(
        "--germeval",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "ner" / "germeval2014" / "conll" / "train.conll",
    )
    args = parser.parse_args()
    if not args.germeval.exists():
        sys.exit(
            f"{args.germeval} not found: GermEval 2014 lives in ../shared/data/ner beside the repository"
        )
    words, first, rows = common_only(_nouns_csv(args.nouns))
    in_names = name_words(args.germeval)
    places = place_words()
    kept = sorted(words - in_names - places)
    out = OUT_DIR / "common_nouns_de.txt.gz"
    tmp = out.with_suffix(".tmp")
    # mtime=0: the same input gives the same bytes
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(kept) + "\n").encode("utf-8"))
    tmp.replace(out)
    (OUT_DIR / "first_names_de.txt").write_text("\n".join(sorted(first)) + "\n", encoding="utf-8")
    (OUT_DIR / "LEXICON_SOURCES.txt").write_text(
        f"""Common-noun word list of reportminer.entities (src/reportminer/data/common_nouns_de.txt.gz)
====================================================================================

Generated by scripts/build_lexicon.py; nothing is typed by hand. Rebuild: see the script's docstring.
Licence of the word list: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/), as its source.

Source: german-nouns 1.2.5, PyPI package by Gregor Weichbrodt, https://github.com/gambolputty/german-nouns,
CC BY-SA 4.0, compiled from the German Wiktionary (https://de.wiktionary.org, CC BY-SA 4.0).
Used: german_nouns/nouns.csv ({rows:,} entries): every form (lemma and case/number forms) that is capitalised,
has three letters or more and no space, and belongs to no entry tagged Toponym, Vorname, Nachname, Eigenname
or Straßenname ({len(words):,} forms).
Changed: left out are {len(words & in_names):,} forms that GermEval 2014 train (CC BY 4.0; Benikova, Biemann,
Reznicek 2014) tags inside a name at least once and {len((words - in_names) & places):,} that are words of
place names in reportminer's gazetteer (GAZETTEER_SOURCES.txt). Kept: {len(kept):,} forms.

First names (src/reportminer/data/first_names_de.txt): the lemmas of the {len(first):,} one-word entries
of the same file tagged Vorname; same source and licence.
""",
        encoding="utf-8",
    )
    print(f"{out}: {len(kept):,} words ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
