# ruff: noqa: E501
"""Tests for the German temporal tagger (reportminer.dates)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from reportminer.dates import (
    Timex,
    evaluate_dates,
    extract_dates,
    find_report_date,
    load_gold,
    predict_folder,
    score_predictions,
    tag_dates,
)

REF = date(2022, 11, 3)
WIKIWARS = Path(__file__).resolve().parents[2] / "shared" / "data" / "dates" / "wikiwarsde"


def pairs(text: str, ref: date | None = REF, **kw: str) -> list[tuple[str, str]]:
    return [(t.text, t.value) for t in tag_dates(text, reference_date=ref, **kw)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Das Treffen fand am 3. November 2022 in Leipzig statt.", [("3. November 2022", "2022-11-03")]),
        ("Protokoll vom 3.11.22, erstellt von der Geschäftsstelle.", [("3.11.22", "2022-11-03")]),
        ("Die Sitzung am 03.11.2022 begann pünktlich.", [("03.11.2022", "2022-11-03")]),
        ("Anmeldeschluss ist der 3. Nov. 2022.", [("der 3. Nov. 2022", "2022-11-03")]),
        ("Export erstellt am 2022-11-03 aus dem Wiki.", [("2022-11-03", "2022-11-03")]),
        ("Im November 2022 trafen sich die Beteiligten erneut.", [("November 2022", "2022-11")]),
        ("Die Ergebnisse sollen Mitte November vorliegen.", [("Mitte November", "2022-11")]),
        ("Der Verein wurde 2019 gegründet.", [("2019", "2019")]),
        ("Das Projekt läuft in KW 45 an.", [("KW 45", "2022-W45")]),
        ("Die Auswertung folgt in Kalenderwoche 47.", [("Kalenderwoche 47", "2022-W47")]),
        ("Im Sommer 2022 gab es drei Workshops.", [("Sommer 2022", "2022-SU"), ("drei", None)]),
        (
            "Donnerstag, 3. November 2022: zweites Vernetzungstreffen",
            [("Donnerstag, 3. November 2022", "2022-11-03")],
        ),
    ],
)
def test_absolute_dates(text: str, expected: list[tuple[str, str | None]]) -> None:
    found = pairs(text)
    for exp_text, exp_value in expected:
        if exp_value is None:
            continue
        assert (exp_text, exp_value) in found, found


def test_ordinal_is_not_a_date() -> None:
    assert pairs("Das 3. Vernetzungstreffen war gut besucht.") == []


def test_amounts_and_numbers_are_not_years() -> None:
    text = "Es wurden 2022 Euro gespendet, 1500 Teilnehmende kamen, Tel. 0341 1234567, Version 1.2.3."
    assert pairs(text) == []


def test_relative_days() -> None:
    text = "Gestern wurde der Entwurf verschickt, heute beraten wir, morgen wird abgestimmt."
    assert pairs(text) == [("Gestern", "2022-11-02"), ("heute", "2022-11-03"), ("morgen", "2022-11-04")]
    assert pairs("Vorgestern und übermorgen.") == [("Vorgestern", "2022-11-01"), ("übermorgen", "2022-11-05")]


def test_relative_weeks_years_months() -> None:
    assert ("letzte Woche", "2022-W43") in pairs("Wie letzte Woche besprochen, bleibt es dabei.")
    assert ("nächste Woche", "2022-W45") in pairs("Die Einladung geht nächste Woche raus.")
    assert ("nächsten Jahr", "2023") in pairs("Im nächsten Jahr wollen wir wachsen.")
    assert ("vergangenen Jahr", "2021") in pairs("Im vergangenen Jahr waren es weniger.")
    assert ("dieses Jahr", "2022") in pairs("Dieses Jahr gab es zwei Treffen.") or (
        "Dieses Jahr",
        "2022",
    ) in pairs("Dieses Jahr gab es zwei Treffen.")
    assert ("diesem Jahr", "2022") in pairs("In diesem Jahr lief vieles digital.")
    assert ("Anfang des Jahres", "2022") in pairs("Anfang des Jahres startete das Projekt.")
    assert ("diesen Monat", "2022-11") in pairs("Wir treffen uns diesen Monat noch einmal.")


def test_weekdays_and_offsets() -> None:
    assert ("vergangenen Donnerstag", "2022-10-27") in pairs(
        "Am vergangenen Donnerstag fand die Sitzung statt."
    )
    assert ("kommenden Montag", "2022-11-07") in pairs("Am kommenden Montag geht es weiter.")
    assert ("vor zwei Wochen", "2022-W42") in pairs("Wie vor zwei Wochen vereinbart, liegt der Bericht vor.")
    assert ("in drei Tagen", "2022-11-06") in pairs("Die Frist endet in drei Tagen.")


def test_present_past_refs() -> None:
    found = pairs("Derzeit arbeiten zwölf Ehrenamtliche mit, damals waren es nur drei.")
    assert ("Derzeit", "PRESENT_REF") in found
    assert ("damals", "PAST_REF") in found


def test_tense_past_month() -> None:
    text = (
        "Mit motivierten Teilnehmenden, die sich gerne an das erste Treffen im Juli erinnerten, "
        "starteten wir in die zweite Runde."
    )
    assert ("Juli", "2022-07") in pairs(text)
    assert ("Dezember", "2021-12") in pairs("Das Auftakttreffen fand im Dezember statt.")


def test_tense_future_season_and_month() -> None:
    text = (
        "Die Organisatorinnen konnten die Motivation der Teilnehmenden aufnehmen, "
        "sich im Frühjahr bereits wieder zusammenzufinden."
    )
    assert ("Frühjahr", "2023-SP") in pairs(text)
    assert ("Frühjahr", "2023-SP") in pairs("Die Gruppe will sich im Frühjahr wieder treffen.")
    assert ("Frühjahr", "2022-SP") in pairs("Im Frühjahr wurde der Verein gegründet.")
    assert ("Juli", "2023-07") in pairs("Das nächste Treffen ist im Juli geplant.")
    assert ("3. März", "2023-03-03") in pairs("Die Mitgliederversammlung wird am 3. März stattfinden.")
    assert ("3. März", "2022-03-03") in pairs("Die Mitgliederversammlung hatte am 3. März getagt.")


def test_no_reference_date() -> None:
    assert pairs("Im Juli treffen wir uns.", ref=None) == [("Juli", "XXXX-07")]
    assert pairs("Heute ist Plenum.", ref=None) == []


def test_ranges() -> None:
    assert pairs("Die Tagung findet vom 3. bis 5. November 2022 statt.") == [
        ("3.", "2022-11-03"),
        ("5. November 2022", "2022-11-05"),
    ]
    assert pairs("Workshop 3.–5. November 2022 in Kassel") == [
        ("3.", "2022-11-03"),
        ("5. November 2022", "2022-11-05"),
    ]
    assert pairs("Die Förderung lief von 2019 bis 2021.") == [("2019", "2019"), ("2021", "2021")]
    assert pairs("Im Zweiten Weltkrieg (1939–1945) wurde die Stadt zerstört.") == [
        ("1939", "1939"),
        ("1945", "1945"),
    ]


def test_centuries_and_decades() -> None:
    assert pairs("Das Gebäude stammt aus dem 20. Jahrhundert.") == [("dem 20. Jahrhundert", "19")]
    assert pairs("Bauten des 20. Jahrhunderts prägen das Viertel.") == [("des 20. Jahrhunderts", "19")]
    assert pairs("Die Initiative entstand in den 90er Jahren.") == [("den 90er Jahren", "199")]
    assert pairs("Seit den 1990er Jahren gibt es den Treff.") == [("den 1990er Jahren", "199")]
    assert pairs("Musik der 90er-Jahre lief.") == [("der 90er-Jahre", "199")]


def test_times() -> None:
    assert pairs("Beginn ist um 14 Uhr im Rathaus.") == [("14 Uhr", "2022-11-03T14:00")]
    assert pairs("Wir starten um 9:30 Uhr.") == [("9:30 Uhr", "2022-11-03T09:30")]
    assert pairs("Einlass 9.30 Uhr, Ende gegen 18 Uhr.") == [
        ("9.30 Uhr", "2022-11-03T09:30"),
        ("gegen 18 Uhr", "2022-11-03T18:00"),
    ]
    found = tag_dates("Am 10. November 2022 um 18 Uhr beginnt der Stammtisch.", reference_date=REF)
    assert [(t.text, t.type, t.value) for t in found] == [
        ("10. November 2022", "DATE", "2022-11-10"),
        ("18 Uhr", "TIME", "2022-11-10T18:00"),
    ]


def test_day_month_without_year_uses_reference() -> None:
    assert pairs("Wir sehen uns am 3. November wieder.") == [("3. November", "2022-11-03")]


def test_timex_offsets_match_text() -> None:
    text = "Am 3. November 2022 um 14 Uhr, also gestern vor einer Woche."
    for t in tag_dates(text, reference_date=REF):
        assert isinstance(t, Timex)
        assert text[t.start : t.end] == t.text


def test_narrative_mode_uses_last_date() -> None:
    text = "Am 1. September 1939 begann der Krieg. Zwei Tage später erklärte Großbritannien den Krieg. Im Mai folgte mehr."
    assert pairs(text, ref=date(2011, 2, 16), mode="narrative") == [
        ("1. September 1939", "1939-09-01"),
        ("Zwei Tage später", "1939-09-03"),
        ("Mai", "1939-05"),
    ]


def test_find_report_date() -> None:
    assert find_report_date("Bericht zum Treffen im Juli.\nLeipzig, den 3. November 2022") == date(
        2022, 11, 3
    )
    assert find_report_date("Stand: 03.11.2022 – nächster Termin 5. Dezember 2022") == date(2022, 11, 3)
    assert find_report_date("Kein Datum hier, nur 2022.") is None


def test_spacy_component() -> None:
    import reportminer.dates  # noqa: F401  (registers the factory)

    nlp = spacy.blank("de")
    nlp.add_pipe("reportminer_dates")
    text = "Das zweite Treffen fand am 3. November 2022 statt. Im Frühjahr wollen wir uns wieder treffen."
    doc = nlp.make_doc(text)
    doc._.report_date = date(2022, 11, 3)
    doc = nlp(doc)
    spans = doc.spans["dates"]
    assert [(s.text, s.label_, s._.timex_value) for s in spans] == [
        ("3. November 2022", "DATE", "2022-11-03"),
        ("Frühjahr", "DATE", "2023-SP"),
    ]
    assert [t.value for t in doc._.timexes] == ["2022-11-03", "2023-SP"]
    assert [t.value for t in extract_dates(doc)] == ["2022-11-03", "2023-SP"]
    # what nlp.pipe(n_process=2) does to send a Doc between processes keeps the dates
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert again._.timexes == doc._.timexes and [s.text for s in again.spans["dates"]] == [
        "3. November 2022",
        "Frühjahr",
    ]


def test_missing_gold_dir(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shared/data"):
        evaluate_dates(tmp_path / "nope")


@pytest.mark.shared
@pytest.mark.skipif(
    not WIKIWARS.is_dir(), reason=f"WikiWarsDE not found at {WIKIWARS} (../shared/data missing)"
)
def test_wikiwarsde_quality() -> None:
    result = evaluate_dates(WIKIWARS)
    assert result["relaxed"]["f1"] >= 0.94
    assert result["strict"]["f1"] >= 0.88
    assert result["value_accuracy"] >= 0.88


def test_month_names_inside_hyphenated_names_are_not_dates():
    ref = date(2022, 11, 3)
    assert tag_dates("Das Treffen fand im August-Horch-Museum in Zwickau statt.", reference_date=ref) == []
    assert tag_dates("Die Mai-Kundgebung auf dem Marktplatz war gut besucht.", reference_date=ref) == []
    assert [t.value for t in tag_dates("Die Jahre 1939-1945 prägten die Stadt.", reference_date=ref)] == [
        "1939",
        "1945",
    ]


# --------------------------------------------------------------------------- tense rules and known bugs


def test_deadline_in_dass_clause_is_future() -> None:
    """A cue-less dass-clause is not dominated by the past auxiliary of its main clause (bug 4a)."""
    text = "Vereinbart wurde, dass die drei Verwaltungen bis Ende Mai eine Übersicht erstellen."
    assert pairs(text, ref=date(2023, 4, 19)) == [("Ende Mai", "2023-05")]
    # a deadline in a present-tense sentence lies ahead
    assert pairs("Die Anmeldung ist bis Ende Januar möglich.") == [("Ende Januar", "2023-01")]
    # ... but not in a past sentence
    assert pairs("Die Ausstellung war bis Ende Januar zu sehen.", ref=date(2023, 4, 19)) == [
        ("Ende Januar", "2023-01")
    ]
    assert pairs("Die Ausstellung war bis Ende Mai zu sehen.", ref=date(2023, 4, 19)) == [
        ("Ende Mai", "2022-05")
    ]


def test_future_passive_with_sollen() -> None:
    text = "Im Juli sollen die Gemeinderäte über den Stand informiert werden."
    assert pairs(text, ref=date(2023, 9, 19)) == [("Juli", "2024-07")]
    assert pairs(text, ref=date(2023, 4, 19)) == [("Juli", "2023-07")]


def test_prepositions_that_look_back() -> None:
    ref = date(2024, 9, 5)
    assert ("dem Juli", "2024-07") in pairs(
        "Die Ergebnisse der Umfrage aus dem Juli werden vorgestellt.", ref
    )
    assert ("dem Sommer", "2023-SU") in pairs("Seit dem Sommer arbeiten wir daran.", date(2024, 2, 1))
    assert ("12. Mai", "2024-05-12") in pairs("Die Stellungnahme vom 12. Mai wird umgesetzt.", ref)
    # "vom ... bis" is a range, not a look back
    assert ("10.", "2024-10-10") in pairs("Die Werkstatt ist vom 10. bis 12. Oktober geplant.", ref)


def test_more_past_verbs() -> None:
    ref = date(2024, 3, 4)
    text = "Die Idee entstand im Herbst, im Dezember beschloss der Stadtrat die Finanzierung."
    assert pairs(text, ref) == [("Herbst", "2023-FA"), ("Dezember", "2023-12")]


def test_year_frame_of_the_clause() -> None:
    ref = date(2021, 6, 30)
    assert ("Herbst", "2022-FA") in pairs(
        "Für das Jahr 2022 plant der Beirat eine Fachtagung im Herbst.", ref
    )
    # a year deep inside the clause qualifies a noun, not the sentence
    text = "Der Klimaschutzbericht für das Jahr 2020 wurde im Oktober veröffentlicht."
    assert ("Oktober", "2021-10") in pairs(text, date(2021, 12, 9))
    # a year in another clause does not set the frame
    text = "Die Kasse wurde im März 2022 geprüft, die nächste Prüfung ist im Januar."
    assert ("Januar", "2023-01") in pairs(text, date(2022, 11, 28))


def test_ago_is_a_date_since_is_a_duration() -> None:
    found = tag_dates(
        "Vor zwei Jahren wurde der Beirat gewählt, es gibt ihn seit 21 Jahren.", reference_date=REF
    )
    assert [(t.text, t.type, t.value) for t in found] == [
        ("Vor zwei Jahren", "DATE", "2020"),
        ("21 Jahren", "DURATION", "P21Y"),
    ]
    assert [
        (t.text, t.type, t.value) for t in tag_dates("Das Projekt läuft zwei Jahre.", reference_date=REF)
    ] == [("zwei Jahre", "DURATION", "P2Y")]
    assert pairs("In den nächsten zwei Wochen kommt das Protokoll.") == [("den nächsten zwei Wochen", "P2W")]


def test_time_ranges_and_part_of_day_follow_the_day_talked_about() -> None:
    ref = date(2024, 3, 4)
    text = "Die erste Sitzung ist am Samstag, 16. März, von 10 bis 16 Uhr."
    assert pairs(text, ref)[1:] == [("10", "2024-03-16T10:00"), ("16 Uhr", "2024-03-16T16:00")]
    assert pairs("Die Runde tagte von 9:30 Uhr bis 12 Uhr.", ref) == [
        ("9:30 Uhr", "2024-03-04T09:30"),
        ("12 Uhr", "2024-03-04T12:00"),
    ]
    text = "Am Samstag feierten 200 Gäste. Die Kinder spielten, am Abend trat eine Band auf."
    assert pairs(text, date(2023, 6, 26)) == [("Samstag", "2023-06-24"), ("Abend", "2023-06-24TEV")]


def test_the_determiner_is_part_of_the_span_in_news_not_in_narrative() -> None:
    """News mode follows TimeML as news corpora annotate it (KRAUTS): "den vergangenen Jahren", "das Jahr
    2022"; narrative mode keeps WikiWarsDE's spans without the article. A preposition, contracted or not,
    stays out ("im Sommer", "am 3. Mai")."""
    assert pairs("Für das Jahr 2022 ist eine Tagung geplant.") == [("das Jahr 2022", "2022")]
    assert pairs("Für das Jahr 2022 ist eine Tagung geplant.", mode="narrative") == [("Jahr 2022", "2022")]
    assert pairs("In den vergangenen Jahren wuchs der Verein.")[0][0] == "den vergangenen Jahren"
    assert pairs("Im Sommer und am 3. Mai 2022 trafen wir uns.") == [
        ("Sommer", "2022-SU"),
        ("3. Mai 2022", "2022-05-03"),
    ]
    assert pairs("Seit diesem Sommer gibt es das Forum.")[0][0] == "diesem Sommer"


# --------------------------------------------------------------------------- pre-filter and component reuse


def test_prefilter_finds_the_same_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running each pattern only around its trigger words changes nothing but the speed."""
    import reportminer.dates as dates_module

    texts = [p.read_text(encoding="utf-8") for p in sorted((REPORT_GOLD / "texts").glob("*.txt"))]
    texts += [
        "Nacht vom 16. zum 17. April, Ostern 2023, täglich, montags, 3.–5. Mai, KW 12/2023, kurz darauf, "
        "in der Folge, heutzutage, zweitägige Tagung, jahrelang, Mitte der 80er Jahre, 1914/18, 2019-2021, "
        "İstanbul am 3. März 2020 um 9 Uhr abends, am Morgen des 4. März, im Jahre 1917",
        "Im Jahr 218 v. Chr. zog Hannibal über die Alpen. Im Jahr 216 siegte er bei Cannae, 149 begann "
        "der Dritte Punische Krieg.",
    ]
    full = dates_module._candidates
    for text in texts:
        fast = sorted((s, e, pr) for s, e, pr, _, _ in full(text))
        slow = sorted((s, e, pr) for s, e, pr, _, _ in full(text, prefilter=False))
        assert fast == slow, text[:40]
    for mode in ("news", "narrative"):
        expected = [tag_dates(t, reference_date=REF, mode=mode) for t in texts]
        monkeypatch.setattr(dates_module, "_candidates", lambda t: full(t, prefilter=False))
        assert [tag_dates(t, reference_date=REF, mode=mode) for t in texts] == expected
        monkeypatch.setattr(dates_module, "_candidates", full)


def test_extract_dates_reuses_component_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import reportminer.dates as dates_module

    nlp = spacy.blank("de")
    nlp.add_pipe("reportminer_dates")
    doc = nlp.make_doc("Im Frühjahr wollen wir uns wieder treffen.")
    doc._.report_date = REF
    doc = nlp(doc)
    calls: list[int] = []
    original = dates_module.tag_dates
    monkeypatch.setattr(dates_module, "tag_dates", lambda *a, **k: calls.append(1) or original(*a, **k))
    assert [t.value for t in extract_dates(doc)] == ["2023-SP"]
    assert calls == []
    # another reference date: tagged again
    assert [t.value for t in extract_dates(doc, reference_date=date(2023, 6, 1))] == ["2024-SP"]
    assert calls == [1]


# --------------------------------------------------------------------------- report-style gold set

REPORT_GOLD = Path(__file__).resolve().parent / "data" / "report_dates"


def test_report_gold_is_built_from_its_annotations() -> None:
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("build_gold", REPORT_GOLD / "build_gold.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert json.loads((REPORT_GOLD / "gold.json").read_text(encoding="utf-8")) == module.build()
    for doc_id, doc in module.DOCS.items():
        assert (REPORT_GOLD / "texts" / f"{doc_id}.txt").read_text(encoding="utf-8") == doc["text"]


def test_report_gold_quality() -> None:
    """Meeting reports, minutes and invitations (tests/data/report_dates), news mode."""
    gold = load_gold(REPORT_GOLD)
    pred = predict_folder(REPORT_GOLD, mode="news")
    result = score_predictions(gold, pred)
    failures = []
    for doc_id, g in gold.items():
        predicted = {(t["start"], t["end"]): t for t in pred[doc_id]["timex"]}
        for t in g["timex"]:
            p = predicted.get((t["start"], t["end"]))
            if p is None or (p["type"], p["value"]) != (t["type"], t["value"]):
                failures.append(f"{doc_id}: {t['text']!r} {t['value']} -> {p and (p['text'], p['value'])}")
    print("\n".join(failures))
    assert result["gold"] == 135
    assert result["relaxed"]["f1"] >= 0.97, failures
    assert result["strict"]["f1"] >= 0.95, failures
    assert result["value_accuracy"] >= 0.96, failures


def test_scheduled_events_in_present_tense_lie_ahead() -> None:
    assert pairs("Am 14. Juni findet die Sitzung statt.") == [("14. Juni", "2023-06-14")]
    assert pairs("Im Januar erscheint die Dokumentation.") == [("Januar", "2023-01")]
    assert pairs("Am 14. Juni fand die Sitzung statt.") == [("14. Juni", "2022-06-14")]


def test_cue_less_weekday_in_a_report_is_the_day_before_it_not_after():
    """A report tells what happened: a bare "Sonntag" in Saturday's report is the Sunday before (issue 20)."""
    from reportminer.dates import tag_dates

    saturday = date(2013, 11, 30)
    found = tag_dates("Sonntag: Frühschoppen des Heimatvereins im Dorfhaus.", reference_date=saturday)
    assert [t.value for t in found if t.type == "DATE"] == ["2013-11-24"]
    same_day = tag_dates("Samstag: Adventsmarkt am Rathaus.", reference_date=saturday)
    assert [t.value for t in same_day if t.type == "DATE"] == ["2013-11-30"]
    ahead = tag_dates("Am Sonntag findet der Adventsmarkt statt.", reference_date=saturday)
    assert [t.value for t in ahead if t.type == "DATE"] == ["2013-12-01"]  # a future cue keeps it ahead


def test_yesterday_evening_is_a_time_of_yesterday():
    """ "gestern Abend", "heute früh": a time of that day, as TIMEX3 marks it (issue 20)."""
    from reportminer.dates import tag_dates

    found = tag_dates(
        "Gestern Abend tagte der Vorstand, heute früh gab es Kaffee. Der Rat tagt morgen.",
        reference_date=date(2014, 2, 21),
    )
    got = [(t.text, t.type, t.value) for t in found]
    assert got[:2] == [("Gestern Abend", "TIME", "2014-02-20TEV"), ("heute früh", "TIME", "2014-02-21TMO")]
    assert ("morgen", "DATE", "2014-02-22") in got  # no part of the day after it: the day


def test_heuer_is_this_year_and_frames_its_sentence():
    """ "heuer" (this year in Austrian and South Tyrolean news, issue 20) is the report's year."""
    from reportminer.dates import tag_dates

    found = tag_dates("Auch heuer im Sommer kamen mehr Gäste.", reference_date=date(2015, 3, 27))
    assert [(t.text, t.value) for t in found] == [("heuer", "2015"), ("Sommer", "2015-SU")]


def test_clock_time_takes_the_day_of_the_sentence_before_else_the_report_day():
    """Issue 20: a bare "20 Uhr" is not tied to a day named several sentences earlier."""
    from reportminer.dates import tag_dates

    ref = date(2022, 11, 7)
    text = (
        "Am 3. November trafen sich die Räte. Die Sitzung begann um 18 Uhr. Danach gab es Gespräche. "
        "Der Verein lud zum Essen. Heute Abend spielt die Kapelle, Beginn 20 Uhr."
    )
    times = [t.value for t in tag_dates(text, reference_date=ref) if t.type == "TIME" and "Uhr" in t.text]
    assert times == ["2022-11-03T18:00", "2022-11-07T20:00"]


def test_every_weekday_and_every_day_are_sets():
    """ "jeden Montag" is a recurrence (TIMEX3 SET), not the Monday of this week (issue 20)."""
    from reportminer.dates import tag_dates

    ref = date(2014, 10, 8)
    got = [
        (t.text, t.type, t.value)
        for text in (
            "Das Training ist jeden Montag.",
            "Treffen an jedem dritten Mittwoch im Monat.",
            "Der Markt ist jeden Tag offen.",
        )  # fmt: skip
        for t in tag_dates(text, reference_date=ref)
    ]
    assert got == [
        ("jeden Montag", "SET", "XXXX-WXX-1"),
        ("jedem dritten Mittwoch im Monat", "SET", "P1M"),
        ("jeden Tag", "SET", "P1D"),
    ]


def test_compound_durations_are_one_expression() -> None:
    assert pairs("Die Sanierung dauerte drei Jahre und vier Monate.") == [
        ("drei Jahre und vier Monate", "P3Y4M")
    ]
    assert pairs("Die Sitzung ging zwei Stunden und 20 Minuten.") == [
        ("zwei Stunden und 20 Minuten", "PT2H20M")
    ]
    # a larger unit after "und" is another expression
    assert [v for _, v in pairs("Sie blieb vier Monate und zwei Jahre.")] == ["P4M", "P2Y"]


def test_heute_as_nowadays_and_as_the_day() -> None:
    ref = date(2023, 5, 10)
    assert pairs("Damals gab es kein Jugendparlament, heute hat jede Gemeinde eins.", ref)[-1] == (
        "heute",
        "PRESENT_REF",
    )
    assert pairs("Wie wir heute wissen, war der Plan zu teuer.", ref) == [("heute", "PRESENT_REF")]
    assert pairs("Heute würde der Beirat anders entscheiden.", ref) == [("Heute", "PRESENT_REF")]
    # tied to the clock or to neighbouring days, it is the report's day
    assert ("heute", "2023-05-10") in pairs("Der Markt ist heute ab 15 Uhr geöffnet.", ref)
    assert ("heute", "2023-05-10") in pairs("Früher war das anders, heute und morgen tagt der Rat.", ref)
    assert pairs("Heute trafen sich die Mitglieder im Rathaus.", ref) == [("Heute", "2023-05-10")]


def test_a_day_within_a_month_of_the_report_is_in_the_nearest_year() -> None:
    """Whatever the tense: the races "vom 18. und 19. Dezember wurden verlegt" in a report of 16 December."""
    ref = date(2014, 12, 16)
    found = pairs("Die Rennen vom 18. und 19. Dezember wurden abgesagt.", ref)
    assert [v for _, v in found] == ["2014-12-18", "2014-12-19"]
    assert pairs("Die Sitzung am 9. Dezember wurde verschoben.", date(2023, 11, 28)) == [
        ("9. Dezember", "2023-12-09")
    ]
    assert pairs("Am 28. Dezember tagte der Rat.", date(2024, 1, 5)) == [("28. Dezember", "2023-12-28")]
    # further away, the tense decides as before
    assert pairs("Am 14. Juni fand die Sitzung statt.") == [("14. Juni", "2022-06-14")]


def test_the_reports_own_weekday_and_a_participle_before_its_auxiliary() -> None:
    ref = date(2011, 4, 30)  # a Saturday
    assert pairs("Am heutigen Samstag beginnt um 11 Uhr der Blumenmarkt.", ref) == [
        ("Samstag", "2011-04-30"), ("11 Uhr", "2011-04-30T11:00"),
    ]  # fmt: skip
    wednesday = date(2014, 10, 8)
    assert pairs("Die Übung, die am Montag im Kommissariat stattgefunden hat, war gut.", wednesday) == [
        ("Montag", "2014-10-06")
    ]


def test_a_day_and_month_in_digits_after_am_at_the_start_of_a_sentence() -> None:
    ref = date(2017, 4, 11)
    assert pairs("Am 3.5. organisieren wir ein Planungstreffen.", ref) == [("3.5.", "2017-05-03")]
    assert pairs("Am 3.5. trafen wir uns.", ref) == [("3.5.", "2016-05-03")]  # three weeks ahead, past tense
    assert pairs("Der Wert stieg um 3.5 Prozent.", ref) == []


def test_month_with_deictic_year_and_vorjahr_count_from_the_report() -> None:
    # news: "vorigen Jahres" and "Vorjahr" are the year before the report's, even after another year is named
    text = (
        "Die Kreisverwaltung legte die Bilanz für 2021 vor. Im Vorjahr kamen 40 Gäste zum Netzwerktreffen. "
        "Die Arbeitsgruppe wurde im August vorigen Jahres gegründet und tagt wieder im Juli dieses Jahres."
    )
    got = pairs(text)
    assert ("Vorjahr", "2021") in got
    assert ("August vorigen Jahres", "2021-08") in got
    assert ("Juli dieses Jahres", "2022-07") in got
    # narrative text keeps the last year named as the anchor
    assert ("Vorjahr", "1938") in pairs(
        "Am 1. September 1939 begann der Krieg. Im Vorjahr war das Sudetenland besetzt worden.",
        ref=date(2011, 2, 16),
        mode="narrative",
    )
