"""Exports: OParl objects read back, validated against the standard's schemas, stable between exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportminer import export
from reportminer.cli import app

from .conftest import SEED, shared_path


def _objects(dest: Path, folder: str) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((dest / folder).glob("*.json"))]


def _meeting_of(dest: Path, file_name: str) -> dict:
    (meeting,) = [m for m in _objects(dest, "meeting") if m["resultsProtocol"]["fileName"] == file_name]
    return meeting


def _resolve(dest: Path, base: str, url: str) -> dict:
    return json.loads((dest / url.removeprefix(base + "/")).read_text(encoding="utf-8"))


def test_oparl_export_of_the_sample_corpus(corpus_tables, tmp_path):
    _, out = corpus_tables
    dest, base = tmp_path / "oparl", "https://daten.example.org/oparl"
    counts = export.export_oparl(out, dest, base_url=base, source_url="https://daten.example.org/berichte")
    assert counts["Meeting"] >= 14 and counts["Organization"] > 10 and counts["Person"] > 10
    system = json.loads((dest / "system.json").read_text(encoding="utf-8"))
    assert system["oparlVersion"] == "https://schema.oparl.org/1.1/" and system["id"] == f"{base}/system.json"
    (body,) = _resolve(dest, base, system["body"])["data"]
    meetings = _resolve(dest, base, body["meeting"])
    assert meetings["pagination"]["totalElements"] == counts["Meeting"] == len(meetings["data"])

    plauen = _meeting_of(dest, "01_vernetzungstreffen_plauen.txt")
    assert plauen["start"] == "2023-03-14T00:00:00+01:00" and plauen["location"]["description"] == "Plauen"
    assert plauen["location"]["geojson"]["geometry"]["type"] == "Point"
    people = [_resolve(dest, base, url)["name"] for url in plauen["participant"]]
    orgs = [_resolve(dest, base, url)["name"] for url in plauen["organization"]]
    assert people[:2] == ["Rainer Hofmann", "Katrin Seifert"] and "Landratsamt Vogtlandkreis" in orgs
    protocol = plauen["resultsProtocol"]  # the meeting links back to its report
    assert protocol["accessUrl"] == "https://daten.example.org/berichte/01_vernetzungstreffen_plauen.txt"
    assert protocol["mimeType"] == "text/plain" and protocol["meeting"] == [plauen["id"]]


def test_oparl_lists_are_paginated_and_ids_stable(corpus_tables, tmp_path, monkeypatch):
    _, out = corpus_tables
    monkeypatch.setattr(export, "PAGE_SIZE", 5)
    dest = tmp_path / "oparl"
    counts = export.export_oparl(out, dest, base_url="https://x.example/o")
    first = json.loads((dest / "list" / "person.json").read_text(encoding="utf-8"))
    pages = -(-counts["Person"] // 5)
    assert first["pagination"] == {"totalElements": counts["Person"], "elementsPerPage": 5, "currentPage": 1,
                                   "totalPages": pages}  # fmt: skip
    assert first["links"]["next"] == "https://x.example/o/list/person-2.json" and "prev" not in first["links"]
    last = json.loads((dest / "list" / f"person-{pages}.json").read_text(encoding="utf-8"))
    assert "next" not in last["links"] and last["links"]["last"] == last["links"]["self"]
    before = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*.json")}
    export.export_oparl(out, dest, base_url="https://x.example/o")  # again: the same files, same bytes
    assert {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*.json")} == before


@pytest.mark.shared
def test_oparl_objects_validate_and_the_seed_meeting_is_there(corpus_tables, tmp_path):
    schemas = shared_path("data", "oparl", "schema")
    if not SEED.exists():
        pytest.skip(f"needs {SEED} (../shared beside the repository is not present on this machine)")
    _, out = corpus_tables
    dest, base = tmp_path / "oparl", "https://daten.example.org/oparl"
    export.export_oparl(out, dest, base_url=base)
    assert export.validate_oparl(dest, schemas) == []
    seed = _meeting_of(dest, SEED.name)  # the ASSKomm networking meeting in Zwickau, 3 November 2022
    assert seed["start"] == "2022-11-03T00:00:00+01:00"
    assert seed["location"]["description"] in ("Zwickau", "August-Horch-Museum")
    people = {_resolve(dest, base, url)["name"] for url in seed["participant"]}
    orgs = {_resolve(dest, base, url)["name"] for url in seed["organization"]}
    assert "Martin Ziegenhagen" in people
    assert {"ASSKomm", "Sächsischer Städte- und Gemeindetag"} <= orgs


@pytest.mark.shared
def test_validation_finds_a_broken_object(corpus_tables, tmp_path):
    schemas = shared_path("data", "oparl", "schema")
    _, out = corpus_tables
    dest = tmp_path / "oparl"
    export.export_oparl(out, dest)
    path = sorted((dest / "meeting").glob("*.json"))[0]
    meeting = json.loads(path.read_text(encoding="utf-8"))
    meeting["type"] = "https://schema.oparl.org/1.1/Meetin"
    meeting["location"]["description"] = 7
    path.write_text(json.dumps(meeting), encoding="utf-8")
    problems = export.validate_oparl(dest, schemas)
    assert len(problems) == 1 and problems[0].startswith(f"meeting/{path.name}: unknown type")
    del meeting["type"]
    meeting["type"] = "https://schema.oparl.org/1.1/Meeting"
    path.write_text(json.dumps(meeting), encoding="utf-8")
    (problem,) = export.validate_oparl(dest, schemas)
    assert problem == f"meeting/{path.name} location: description: 7 is not of type 'string'"


def test_cli_export_without_outputs_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(
        app, ["export", "oparl", str(tmp_path / "dest"), "--out", str(tmp_path / "none")]
    )
    assert result.exit_code == 2
    assert "no reportminer outputs to export" in result.output and "reportminer run" in result.output


def _ftm_entities(path: Path) -> dict[str, dict]:
    return {e["id"]: e for e in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_ftm_export_validates_with_the_model_and_the_ftm_tool(corpus_tables, tmp_path):
    pytest.importorskip("followthemoney", reason="needs followthemoney (pip install -e '.[ftm]')")
    import shutil
    import subprocess
    import sys

    from followthemoney import model

    _, out = corpus_tables
    dest = tmp_path / "reports.ftm.json"
    counts = export.export_ftm(out, dest, source_url="https://daten.example.org/berichte")
    entities = _ftm_entities(dest)
    assert len(entities) == sum(counts.values()) and counts["Event"] >= 14 and counts["Mention"] > 100
    for data in entities.values():
        model.get(data["schema"]).validate(data)  # raises InvalidData on a bad property
    ftm = shutil.which("ftm", path=str(Path(sys.executable).parent))
    if ftm:  # the command-line tool re-parses every entity; a broken one fails it
        done = subprocess.run(
            [ftm, "validate", "-i", str(dest), "-o", str(tmp_path / "v.json")], capture_output=True
        )
        assert done.returncode == 0, done.stderr
        assert len((tmp_path / "v.json").read_text().splitlines()) == len(entities)

    by_schema: dict[str, list[dict]] = {}
    for e in entities.values():
        by_schema.setdefault(e["schema"], []).append(e)
    (plauen,) = [e for e in by_schema["Event"] if e["properties"]["startDate"] == ["2023-03-14"]]
    involved = {entities[i]["properties"]["name"][0] for i in plauen["properties"]["involved"]}
    assert {"Katrin Seifert", "Landratsamt Vogtlandkreis"} <= involved
    (proof,) = plauen["properties"]["proof"]
    assert entities[proof]["properties"]["sourceUrl"] == [
        "https://daten.example.org/berichte/01_vernetzungstreffen_plauen.txt"
    ]
    assert entities[plauen["properties"]["addressEntity"][0]]["properties"]["full"] == ["Plauen"]
    # each Mention ties a report to an entity it names
    seifert = [e for e in by_schema["Mention"] if "Katrin Seifert" in e["properties"]["name"]]
    assert seifert and all(entities[m["properties"]["document"][0]]["schema"] in ("PlainText", "HyperText")
                           for m in seifert)  # fmt: skip
    again = tmp_path / "again.ftm.json"
    export.export_ftm(out, again, source_url="https://daten.example.org/berichte")
    assert again.read_bytes() == dest.read_bytes()  # stable ids, same order


@pytest.mark.shared
def test_ftm_seed_meeting_with_its_people_and_organisations(corpus_tables, tmp_path):
    pytest.importorskip("followthemoney", reason="needs followthemoney (pip install -e '.[ftm]')")
    if not SEED.exists():
        pytest.skip(f"needs {SEED} (../shared beside the repository is not present on this machine)")
    _, out = corpus_tables
    dest = tmp_path / "reports.ftm.json"
    export.export_ftm(out, dest)
    entities = _ftm_entities(dest)
    events = [e for e in entities.values() if e["schema"] == "Event"]
    # without --source-url the reports have no sourceUrl (FtM keeps only http(s) addresses): their file name
    (seed,) = [
        e for e in events if entities[e["properties"]["proof"][0]]["properties"]["fileName"] == [SEED.name]
    ]
    assert seed["properties"]["startDate"] == ["2022-11-03"]
    involved = {entities[i]["properties"]["name"][0] for i in seed["properties"]["involved"]}
    assert {"Martin Ziegenhagen", "ASSKomm", "Sächsischer Städte- und Gemeindetag"} <= involved
