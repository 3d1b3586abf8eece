"""training/scripts/domain_gold.py: stand-off NER gold for our domain, built into CoNLL for eval-ner."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from reportminer.conll import read_conll

from .conftest import ROOT, shared_path

REPORT = (
    "Vernetzungstreffen in Plauen\n"
    "\n"
    "Am Dienstag trafen sich Vertreterinnen des Landratsamtes Vogtlandkreis in Plauen. "
    "Moderiert wurde das Treffen von Martin Ziegenhagen.\n"
    "- Die Stadt Zwickau stellte ihr Projekt vor.\n"
)


def _script():
    if "domain_gold" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "domain_gold", ROOT / "training" / "scripts" / "domain_gold.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["domain_gold"] = module
        spec.loader.exec_module(module)
    return sys.modules["domain_gold"]


@pytest.fixture()
def corpus(tmp_path):
    texts = tmp_path / "corpus" / "texts"
    texts.mkdir(parents=True)
    (texts / "cfg_2020-01-01-treffen.txt").write_text(REPORT, encoding="utf-8")
    return tmp_path / "corpus"


def _annotate(path, tags: dict[str, str]) -> None:
    """Set the tag of each token named in tags (first occurrence per sentence is enough here)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        tok = line.split("\t")[0] if line else ""
        lines.append(f"{tok}\t{tags[tok]}" if tok in tags else line)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_annotations_round_trip_to_conll_with_offsets_only(corpus, tmp_path):
    dg = _script()
    work = tmp_path / "anno"
    dg.template(corpus, work, n_docs=1)  # the one report has under 250 words, so choose() skips it
    assert not list(work.glob("*.conll"))

    nlp = dg._nlp()
    text = REPORT
    sents = dg.sentences(nlp, text)
    # lines are split first: title, two sentences of the paragraph, the bullet line
    assert [" ".join(t for t, _, _ in s) for s in sents][0] == "Vernetzungstreffen in Plauen"
    assert len(sents) == 4
    assert all(text[s:e] == tok for sent in sents for tok, s, e in sent)

    # annotate through the template/collect path, with the report chosen directly
    work.mkdir(exist_ok=True)
    doc_id = "cfg_2020-01-01-treffen"
    assert dg.write_template(nlp, corpus / "texts" / f"{doc_id}.txt", work) == sents
    _annotate(
        work / f"{doc_id}.conll",
        {
            "Plauen": "B-LOC",
            "Landratsamtes": "B-ORG",
            "Vogtlandkreis": "I-ORG",
            "Martin": "B-PER",
            "Ziegenhagen": "I-PER",
            "Zwickau": "B-LOC",
        },
    )
    gold = tmp_path / "okfde_ner.jsonl"
    dg.collect(work, gold)
    record = json.loads(gold.read_text(encoding="utf-8"))
    assert "Plauen" not in gold.read_text(encoding="utf-8")  # offsets and labels only, no text
    assert [text[s:e] + "/" + label for s, e, label in record["entities"]] == [
        "Plauen/LOC",
        "Landratsamtes Vogtlandkreis/ORG",
        "Plauen/LOC",
        "Martin Ziegenhagen/PER",
        "Zwickau/LOC",
    ]

    conll = tmp_path / "gold.conll"
    dg.build(corpus, conll, gold)
    sentences = list(read_conll(conll))
    assert len(sentences) == 4
    assert sentences[1].tokens[6:9] == ["Landratsamtes", "Vogtlandkreis", "in"]
    assert sentences[1].tags[6:10] == ["B-ORG", "I-ORG", "O", "B-LOC"]


def test_build_refuses_a_changed_text(corpus, tmp_path):
    dg = _script()
    path = corpus / "texts" / "cfg_2020-01-01-treffen.txt"
    record = {"doc_id": path.stem, "sha1": dg._sha1(REPORT), "sentences": [], "entities": []}
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps(record) + "\n", encoding="utf-8")
    path.write_text(REPORT.replace("Plauen", "Greiz"), encoding="utf-8")
    with pytest.raises(SystemExit, match="differs from the text that was annotated"):
        dg.build(corpus, tmp_path / "out.conll", gold)


def test_committed_gold_builds_against_shared_corpus(tmp_path):
    corpus = shared_path("data", "corpus", "okfde_civic_blogs")
    dg = _script()
    out = tmp_path / "okfde_gold.conll"
    dg.build(corpus, out, ROOT / "training" / "gold" / "okfde_ner.jsonl")
    sentences = list(read_conll(out))
    assert len(sentences) > 250
    labels = {tag[2:] for s in sentences for tag in s.tags if tag != "O"}
    assert labels == {"PER", "LOC", "ORG", "MISC"}
