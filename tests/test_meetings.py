"""The meetings table: which reports describe a meeting, and its date, place, organisations and people."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from reportminer.meetings import build_meetings, find_cues
from reportminer.schema import TABLES
from reportminer.store import SQLITE_NAME

from .conftest import SEED


def _doc(doc_id: str, title: str, text: str, report_date: str = "2023-03-15") -> dict:
    return {
        "doc_id": doc_id,
        "path": f"{doc_id}.txt",
        "title": title,
        "text": text,
        "report_date": report_date,
    }


def _mention(doc_id: str, text: str, body: str, label: str, value: str | None = None, n: int = 0) -> dict:
    start = body.index(text)
    entity = None if label == "DATE" else f"{label}-{text}"
    return {
        "mention_id": f"{doc_id}-{n:04d}", "doc_id": doc_id, "label": label, "text": text,
        "start_char": start, "end_char": start + len(text), "value": value or text, "entity_id": entity,
    }  # fmt: skip


PLAUEN = (
    "15.03.2023\n\nFrühjahrstreffen der Präventionsakteure im Vogtland\n\n"
    "Rund 30 Fachleute kamen am 14. März 2023 im Rathaus Plauen zum ersten Vernetzungstreffen des Jahres "
    "zusammen. Eingeladen hatte das Landratsamt Vogtlandkreis.\n\n"
    "Moderatorin Katrin Seifert führte durch den Vormittag. Das nächste Treffen ist am 30. Juni 2023 in Reichenbach."
)
BUDGET = "Haushalt 2023\n\nDie Stadt Plauen legt ihren Haushalt vor. Er wurde am 2. Februar 2023 beschlossen."


def _small_tables():
    documents = pd.DataFrame(
        [
            _doc("a", "Frühjahrstreffen der Präventionsakteure im Vogtland", PLAUEN),
            _doc("b", "Haushalt 2023", BUDGET, "2023-02-10"),
        ]
    )
    found = [
        ("a", "15.03.2023", PLAUEN, "DATE", "2023-03-15"),
        ("a", "14. März 2023", PLAUEN, "DATE", "2023-03-14"),
        ("a", "Plauen", PLAUEN, "LOC", None),
        ("a", "Landratsamt Vogtlandkreis", PLAUEN, "ORG", None),
        ("a", "Katrin Seifert", PLAUEN, "PER", None),
        ("a", "30. Juni 2023", PLAUEN, "DATE", "2023-06-30"),
        ("a", "Reichenbach", PLAUEN, "LOC", None),
        ("b", "Plauen", BUDGET, "LOC", None),
        ("b", "2. Februar 2023", BUDGET, "DATE", "2023-02-02"),
    ]
    mentions = pd.DataFrame(
        [_mention(d, t, body, label, value, n) for n, (d, t, body, label, value) in enumerate(found)]
    )
    entities = pd.DataFrame(
        [
            {"entity_id": e, "label": e.split("-", 1)[0], "name": e.split("-", 1)[1],
             "place_kind": "place" if e.startswith("LOC") else None}
            for e in sorted(set(mentions["entity_id"].dropna()))
        ]
    )  # fmt: skip
    themes = pd.DataFrame(
        [{"theme_id": 0, "label": "Prävention / Beteiligung"}, {"theme_id": 1, "label": "Haushalt"}]
    )
    doc_themes = pd.DataFrame(
        [
            {"doc_id": "a", "theme_id": 0, "weight": 0.8, "rank": 1},
            {"doc_id": "a", "theme_id": 1, "weight": 0.2, "rank": 2},
        ]
    )
    return documents, mentions, entities, doc_themes, themes


def test_meeting_row_has_date_place_organisations_people_themes():
    meetings = build_meetings(*_small_tables())
    assert list(meetings.columns) == TABLES["meetings"].column_names
    assert list(meetings["doc_id"]) == ["a"]  # the budget report names no meeting
    row = meetings.iloc[0]
    assert row["meeting_id"] == "a-meeting"
    assert row["start"] == "2023-03-14"  # next to "kamen … zusammen", not the date line or the next meeting
    assert row["start_source"] == "meeting_cue"
    assert row["place"] == "Plauen"  # "im Rathaus Plauen"
    assert row["organisations"] == "Landratsamt Vogtlandkreis"
    assert row["people"] == "Katrin Seifert"
    assert row["themes"] == "Prävention / Beteiligung"  # the weak second theme is left out
    assert row["name"] == "Frühjahrstreffen der Präventionsakteure im Vogtland"
    assert row["path"] == "a.txt"


def test_row_does_not_depend_on_the_order_of_mentions_and_themes():
    documents, mentions, entities, doc_themes, themes = _small_tables()
    expected = build_meetings(documents, mentions, entities, doc_themes, themes)
    # a mention without offsets (sorted last, in no paragraph) changes nothing either
    extra = pd.DataFrame([{"mention_id": "a-9999", "doc_id": "a", "label": "LOC", "text": "Zwickau"}])
    mentions = pd.concat([mentions.iloc[::-1], extra], ignore_index=True)
    meetings = build_meetings(documents, mentions, entities, doc_themes.iloc[::-1], themes)
    pd.testing.assert_frame_equal(meetings, expected)


def test_without_a_dated_cue_the_report_date_is_the_start():
    text = "Sitzung des Jugendhilfeausschusses\n\nDer Ausschuss beriet über die Förderrichtlinie."
    documents = pd.DataFrame([_doc("c", "Sitzung des Jugendhilfeausschusses", text, "2022-05-04")])
    meetings = build_meetings(documents, None, None, None, None)
    assert meetings.loc[0, "start"] == "2022-05-04"
    assert meetings.loc[0, "start_source"] == "report_date"
    assert pd.isna(meetings.loc[0, "place"]) and pd.isna(meetings.loc[0, "people"])


def test_a_council_named_in_passing_is_no_meeting():
    text = "München Transparent\n\nWir machen die Arbeit des Stadtrats sichtbar. Die Gruppe trifft sich jeden Dienstag."
    documents = pd.DataFrame([_doc("d", "München Transparent", text, "2015-02-01")])
    assert build_meetings(documents, None, None, None, None).empty


def test_empty_inputs_give_an_empty_table():
    meetings = build_meetings(None, None, None, None, None)
    assert meetings.empty and list(meetings.columns) == TABLES["meetings"].column_names


@pytest.mark.parametrize(
    "text, cue",
    [
        ("Die Präventionsschaffenden trafen sich am 3. November 2022.", "trafen sich"),
        ("Der Kreistag tagte im Landratsamt.", "Kreistag"),
        ("Zur Kreistagssitzung kamen 82 Kreisräte.", "Kreistagssitzung"),
        ("Beim Fachtag Bürgerbeteiligung ging es um Beteiligung.", "Fachtag"),
        ("Die Gesprächsrunde war lebhaft.", "Gesprächsrunde"),
    ],
)
def test_meeting_cues(text, cue):
    assert cue in [c.text for c in find_cues(text)]


def test_no_cues_in_ordinary_prose():
    assert find_cues("Im Grunde muss die Stadt Entscheidungen treffen und Maßnahmen umsetzen.") == []


def test_corpus_meetings(corpus_tables):
    tables, _ = corpus_tables
    meetings = tables["meetings"].set_index("path")
    assert len(meetings) >= 15  # nearly every sample report describes a meeting
    plauen = meetings.loc["01_vernetzungstreffen_plauen.txt"]
    assert (plauen["start"], plauen["place"]) == ("2023-03-14", "Plauen")
    assert "Katrin Seifert" in plauen["people"].split(" | ")
    assert "Landratsamt Vogtlandkreis" in plauen["organisations"].split(" | ")
    kreistag = meetings.loc["13_kreistag_erzgebirgskreis_jugendarbeit.txt"]
    assert (kreistag["start"], kreistag["place"]) == ("2022-12-07", "Annaberg-Buchholz")
    niederschrift = meetings.loc["03_niederschrift_gemeinderat_neukirchen.txt"]  # "Ort: …" line
    assert (niederschrift["start"], niederschrift["place"]) == ("2023-06-13", "Neukirchen/Pleiße")
    assert meetings["themes"].notna().all()


def test_seed_meeting(corpus_tables):
    if not SEED.exists():
        pytest.skip(f"needs {SEED} (../shared beside the repository is not present on this machine)")
    tables, _ = corpus_tables
    seed = tables["meetings"].set_index("path").loc[SEED.name]
    assert seed["start"] == "2022-11-03"
    assert seed["place"] in ("Zwickau", "August-Horch-Museum")
    assert "Martin Ziegenhagen" in seed["people"].split(" | ")
    assert "Sächsischer Städte- und Gemeindetag" in seed["organisations"].split(" | ")


def test_who_met_where_when_is_one_query(corpus_tables):
    _, out = corpus_tables
    with sqlite3.connect(out / SQLITE_NAME) as conn:
        rows = conn.execute(
            "SELECT start, place, organisations, people FROM meetings ORDER BY start"
        ).fetchall()
    assert ("2023-03-14", "Plauen") in [(start, place) for start, place, _, _ in rows]
    assert (out / "parquet" / "meetings.parquet").exists() and (out / "csv" / "meetings.csv").exists()


def _meetings_of(nlp, tmp_path, reports: dict[str, str]) -> pd.DataFrame:
    """The meetings table of reports (file name -> text) run through reading, analysis and the build."""
    from reportminer import pipeline, store
    from reportminer.nlp import model_name

    for name, text in reports.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    read, errors = pipeline.read_reports(sorted(tmp_path.glob("*.txt")), tmp_path)
    analysed, nlp_errors = pipeline.analyse_reports(read, nlp, model=model_name(nlp))
    assert not errors and not nlp_errors
    run = pipeline.RunInfo(
        run_id="r", started_at="2026-01-01T00:00:00Z", corpus=str(tmp_path), model="m", model_source="bundled"
    )
    tables = pipeline.build_tables(analysed, [], run)
    try:
        store.write_tables(tables, tmp_path / "out")
    finally:
        tables.close()
    return store.read_table(tmp_path / "out", "meetings").set_index("path")


def test_meeting_start_when_the_report_names_only_a_weekday_or_comes_days_later(nlp, tmp_path):
    meetings = _meetings_of(nlp, tmp_path, {
        # published on a Tuesday: "am Samstag" is the Saturday before
        "weekday.txt": "Datum: 09.05.2023\n\nFachtag Jugendbeteiligung in Borna\n\n"
                       "Am Samstag trafen sich rund 40 Fachkräfte im Kulturhaus Borna zum Fachtag "
                       "Jugendbeteiligung. Eingeladen hatte der Landkreis Leipzig.",
        # published a week after the meeting
        "later.txt": "Datum: 10.11.2022\n\nVernetzungstreffen in Zwickau\n\n"
                     "Am 3. November 2022 kamen die Präventionsakteure des Landkreises im Rathaus Zwickau "
                     "zum Vernetzungstreffen zusammen. Das nächste Treffen ist am 2. Februar 2023.",
        # a meeting over two days starts on the first
        "range.txt": "Datum: 20.06.2018\n\nWorkshop in Frankfurt\n\n"
                     "Am Wochenende des 15.-17. Juni 2018 fand unser Workshop in Frankfurt am Main statt.",
    })  # fmt: skip
    assert meetings.loc["weekday.txt", "start"] == "2023-05-06"
    assert meetings.loc["later.txt", "start"] == "2022-11-03"
    assert meetings.loc["range.txt", "start"] == "2018-06-15"
    assert set(meetings["start_source"]) == {"meeting_cue"}


def test_an_invitation_dates_the_meeting_ahead_not_a_weekday_before(nlp, tmp_path):
    """An invitation's meeting lies after its date; a title that the first sentence repeats does not cut
    that sentence (and its date) off."""
    meetings = _meetings_of(nlp, tmp_path, {
        "invitation.txt": "Datum: 15.02.2017\n\nOffenes Vernetzungstreffen\n\n"
                          "Am 4. März laden wir alle Aktiven zum Offenes Vernetzungstreffen ein.\n\n"
                          "Schon am Freitag gibt es zum Auftakt ein Forum im Rathaus.",
    })  # fmt: skip
    assert meetings.loc["invitation.txt", "start"] == "2017-03-04"


def test_a_meeting_named_in_the_title_takes_the_first_date_of_the_opening(nlp, tmp_path):
    meetings = _meetings_of(nlp, tmp_path, {
        "hackathon.txt": "Datum: 21.05.2015\n\nHackathon zu Verkehr und Mobilität\n\n"
                         "In Köln kommen am 10. Juni Planerinnen, Programmierer und Bürger zusammen, um die "
                         "Mobilität in der Stadt neu zu denken.\n\nMitbringen sollte man nur Ideen.",
        "planung.txt": "Datum: 11.04.2017\n\nPlanungstreffen Bildung\n\n"
                       "Am 3.5. organisieren wir ein erstes Planungstreffen im Supermarkt Berlin.",
    })  # fmt: skip
    assert tuple(meetings.loc["hackathon.txt", ["start", "start_source"]]) == ("2015-06-10", "lead_date")
    assert meetings.loc["planung.txt", "start"] == "2017-05-03"
