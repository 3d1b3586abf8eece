# ruff: noqa: E501
"""Tests for the German temporal tagger (reportminer.dates)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import spacy

from reportminer.dates import Timex, evaluate_dates, extract_dates, find_report_date, tag_dates

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
        ("Anmeldeschluss ist der 3. Nov. 2022.", [("3. Nov. 2022", "2022-11-03")]),
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
    assert pairs("Das Gebäude stammt aus dem 20. Jahrhundert.") == [("20. Jahrhundert", "19")]
    assert pairs("Bauten des 20. Jahrhunderts prägen das Viertel.") == [("20. Jahrhunderts", "19")]
    assert pairs("Die Initiative entstand in den 90er Jahren.") == [("90er Jahren", "199")]
    assert pairs("Seit den 1990er Jahren gibt es den Treff.") == [("1990er Jahren", "199")]
    assert pairs("Musik der 90er-Jahre lief.") == [("90er-Jahre", "199")]


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
