"""The whole pipeline on real German text: the seed report, the sample corpus, and broken inputs."""

from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest

from reportminer import pipeline
from reportminer.nlp import model_name
from reportminer.records import Report

from .conftest import CORPUS, SEED


def _found(analysed, label):
    return {m.value for m in analysed.mentions if m.label == label}


def test_seed_report_people_organisations_places_and_dates(seed_analysis):
    a = seed_analysis
    assert a.report.report_date.isoformat() == "2022-11-03"
    people = {m.text for m in a.mentions if m.label == "PER"}
    assert {"Martin Ziegenhagen", "Peter Schulenkorf"} <= people
    orgs = _found(a, "ORG")
    assert "Landratsamt Vogtlandkreis" in orgs
    assert "Partnerschaft für Demokratie Zwickau" in orgs
    assert any(o.startswith("Sächsische") and "Gemeindetag" in o for o in orgs), orgs
    # the programme the meeting belongs to and the office of the talk (issue 19)
    assert {"ASSKomm", "Servicestelle Interkommunale Zusammenarbeit"} <= orgs, orgs
    places = _found(a, "LOC")
    assert {"Zwickau", "Vogtlandkreis", "Westsachsen"} <= places, places
    dates = _found(a, "DATE")
    assert {"2022-11-03", "2022-07"} <= dates
    # "die Präventionsschaffenden der Landkreise Zwickau und Vogtlandkreis": the district, not the city
    assert "Landkreis Zwickau" in places
    roles = {m.text: m.role for m in a.mentions if m.label == "PER"}
    assert roles["Martin Ziegenhagen"] == "Moderator"


def test_mention_offsets_point_into_the_analysed_text(corpus_tables):
    tables, _ = corpus_tables
    texts = tables["documents"].set_index("doc_id")["text"]
    m = tables["mentions"]
    assert len(m) > 100
    for row in m.itertuples():
        assert texts[row.doc_id][row.start_char : row.end_char] == row.text


def test_sample_corpus_tables(corpus_tables):
    tables, out = corpus_tables
    docs = tables["documents"]
    assert len(docs) >= 16 and docs["report_date"].notna().all()
    assert len(tables["errors"]) == 0
    mentions = tables["mentions"]
    assert set(mentions["label"]) >= {"PER", "LOC", "ORG", "DATE"}
    dates = mentions[mentions["label"] == "DATE"]
    assert (
        dates["value"]
        .str.match(r"^(\d{2,4}|\d{4}-(\d{2}|W\d{2}|SP|SU|FA|WI)(-\d{2})?|PRESENT_REF|PAST_REF|FUTURE_REF)")
        .all()
    )
    names = mentions[mentions["label"].isin(["PER", "LOC", "ORG", "MISC"])]
    assert names["entity_id"].notna().all()

    entities = tables["entities"].set_index("name")
    # people recurring across reports of the sample corpus are one entity each
    assert entities.loc["Anja Krüger", "n_docs"] >= 2
    assert entities.loc["Anja Krüger", "label"] == "PER"
    assert entities["n_mentions"].sum() == len(names)

    themes, doc_themes = tables["themes"], tables["doc_themes"]
    assert len(themes) >= 2 and themes["label"].str.len().gt(0).all()
    sums = doc_themes.groupby("doc_id")["weight"].sum()
    assert ((sums - 1).abs() < 0.01).all()
    # a report's themes are those of at least the model's minimum weight (0.25): several, one or none
    assigned = doc_themes["assigned"].astype(bool)
    assert (assigned == doc_themes["weight"].ge(0.25)).all() and assigned.sum() >= 0.8 * len(docs)

    with sqlite3.connect(out / "reportminer.sqlite") as conn:
        for name, df in tables.items():
            assert pd.read_sql(f"select count(*) as n from {name}", conn)["n"][0] == len(df)
    runs = tables["runs"]
    assert runs.iloc[-1]["n_documents"] == len(docs) and runs.iloc[-1]["model"].startswith("de_")


def test_broken_documents_become_error_rows(nlp, tmp_path):
    shutil.copy(CORPUS / "01_vernetzungstreffen_plauen.txt", tmp_path)
    (tmp_path / "leer.txt").write_bytes(b"")
    (tmp_path / "kaputt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    (tmp_path / "binaer.txt").write_bytes(bytes(range(256)) * 10)
    reports, errors = pipeline.read_reports(pipeline.list_reports(tmp_path), tmp_path)
    assert [r.path for r in reports] == ["01_vernetzungstreffen_plauen.txt"]
    assert sorted(e.path for e in errors) == ["binaer.txt", "kaputt.pdf", "leer.txt"]
    assert all(e.stage == "ingest" and e.path in e.message for e in errors)


def test_long_report_is_chunked_with_correct_offsets(nlp):
    paragraph = (
        "Bürgermeisterin Anja Krüger eröffnete am 14. März 2023 die Sitzung des Gemeinderates in Plauen. "
        "Die Polizeidirektion Zwickau berichtete über die Kriminalprävention im Vogtlandkreis.\n\n"
    )
    text = paragraph * (pipeline.MAX_CHUNK_CHARS // len(paragraph) + 20)
    assert len(pipeline.chunk_spans(text)) >= 2
    report = Report("x", "x.txt", "0" * 64, "txt", "Lang", None, None, "utf-8", text)
    [a], errors = pipeline.analyse_reports([report], nlp, model=model_name(nlp))
    assert not errors
    dates = [m for m in a.mentions if m.label == "DATE"]
    assert len(dates) == text.count("14. März 2023")
    for m in a.mentions:
        assert text[m.start_char : m.end_char] == m.text
        assert m.text in m.sentence and m.sentence in text


def test_words_are_tokens_other_than_spaces_and_punctuation(nlp):
    doc = nlp("Am 3. Mai trafen sich  die Bürgermeister – in Zwickau.\n\nDann ging es weiter!")
    assert pipeline.count_words(doc) == 13
    assert pipeline.count_words(doc) == sum(1 for t in doc if not t.is_space and not t.is_punct)
    assert pipeline.count_words(nlp("")) == 0


@pytest.mark.parametrize("max_chars", [50, 400])
def test_chunk_spans_cover_text_exactly(max_chars):
    text = ("Erster Absatz über Beteiligung. Zweiter Satz.\n\n" * 30).strip()
    spans = pipeline.chunk_spans(text, max_chars)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert all(e - s <= max_chars for s, e in spans)


def test_seed_places_carry_official_keys(corpus_tables):
    tables, _ = corpus_tables
    entities = tables["entities"]
    if not SEED.exists():
        pytest.skip(f"needs {SEED} (../shared beside the repository is not present on this machine)")
    places = entities[entities["label"] == "LOC"].set_index("name")
    assert places.loc["Landkreis Zwickau", "district_key"] == "14524"
    assert places.loc["Vogtlandkreis", "district_key"] == "14523"
    assert places.loc["Vogtlandkreis", "nuts3"].startswith("DED")
    city = places.loc["Zwickau"]
    assert city["place_kind"] == "place" and city["state"] == "Sachsen" and city["geonames_id"] > 0
    assert pd.isna(city["district_key"])
    assert places.loc["Westsachsen", "place_kind"] == "unlinked"


def test_theme_labels_are_unique_on_the_sample_corpus(corpus_tables):
    tables, _ = corpus_tables
    labels = list(tables["themes"]["label"])
    assert len(labels) == len(set(labels)), labels
