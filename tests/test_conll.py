"""NER gold I/O and entity-level scoring (eval-ner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reportminer.cli import app
from reportminer.conll import Sentence, read_conll, score_ner, write_conll
from reportminer.errors import InputError

GOLD = """Moderator\tO
Martin\tB-PER
Ziegenhagen\tI-PER
sprach\tO
im\tO
Landratsamt\tB-ORG
Vogtlandkreis\tI-ORG
in\tO
Plauen\tB-LOC
.\tO

#\tO
Peter\tB-PER
Schulenkorf\tI-PER
vom\tO
Sächsischen\tB-ORG
Städte-\tI-ORG
und\tI-ORG
Gemeindetag\tI-ORG
.\tO
"""


@pytest.fixture()
def gold_file(tmp_path):
    path = tmp_path / "gold.conll"
    path.write_text(GOLD, encoding="utf-8")
    return path


def test_read_conll_keeps_hash_tokens(gold_file):
    sentences = list(read_conll(gold_file))
    assert len(sentences) == 2
    assert sentences[1].tokens[0] == "#" and sentences[1].tags[0] == "O"


def test_score_ner_known_answer(gold_file):
    gold = list(read_conll(gold_file))
    pred = [
        # PER right, ORG too short (wrong span), LOC right
        Sentence(gold[0].tokens, ["O", "B-PER", "I-PER", "O", "O", "B-ORG", "O", "O", "B-LOC", "O"]),
        # PER right, ORG right, plus a false MISC
        Sentence(gold[1].tokens, ["B-MISC", "B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "O"]),
    ]
    result = score_ner(gold, pred)
    assert result["per_label"]["PER"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "gold": 2,
        "predicted": 2,
    }
    assert result["per_label"]["ORG"]["f1"] == 0.5
    assert result["per_label"]["MISC"]["precision"] == 0.0
    # 4 of 5 gold entities found, 4 of 6 predictions right
    assert result["micro"]["recall"] == 0.8
    assert result["micro"]["precision"] == round(4 / 6, 4)
    assert result["micro"]["f1"] == round(2 * (4 / 6) * 0.8 / (4 / 6 + 0.8), 4)


def test_bad_tag_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("Zwickau\tLOCATION\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.conll:1"):
        list(read_conll(path))


def test_eval_ner_command_scores_and_writes_predictions(gold_file, tmp_path):
    out = tmp_path / "pred.conll"
    result = CliRunner().invoke(app, ["eval-ner", str(gold_file), "--predictions", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["sentences"] == 2 and summary["micro"]["gold"] == 5
    predicted = list(read_conll(out))
    assert [s.tokens for s in predicted] == [s.tokens for s in read_conll(gold_file)]
    # the rules know German authority names; the role word stays outside the person
    assert predicted[0].tags[5:7] == ["B-ORG", "I-ORG"]
    assert predicted[0].tags[0] == "O"


def test_write_conll_round_trip(tmp_path):
    sentences = [Sentence(["Die", "Stadt", "Zwickau"], ["O", "O", "B-LOC"])]
    write_conll(tmp_path / "x.conll", sentences)
    assert list(read_conll(tmp_path / "x.conll")) == sentences
