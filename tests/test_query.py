"""Query interface: the Python API (reportminer.open) and the CLI commands, on the sample corpus' outputs."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

import reportminer
from reportminer.cli import app
from reportminer.errors import OutputError, QueryError, ReportminerError
from reportminer.query import Outputs

SSG = "Sächsischer Städte- und Gemeindetag"
ZWICKAU_WORKSHOP = "12_workshop_vollzugsdienst_zwickau.txt"


@pytest.fixture(scope="module")
def out_dir(corpus_tables):
    return corpus_tables[1]


@pytest.fixture(scope="module")
def tables(corpus_tables):
    return corpus_tables[0]


@pytest.fixture(scope="module")
def outputs(out_dir):
    with reportminer.open(out_dir) as opened:
        yield opened


@pytest.fixture(scope="module")
def workshop_id(tables) -> str:
    docs = tables["documents"]
    return docs.loc[docs["path"] == ZWICKAU_WORKSHOP, "doc_id"].item()


def _cli(*args: str):
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert "Traceback" not in result.output
    return result


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- opening ---------------------------------------------------------------------------------------------


def test_import_reportminer_stays_light():
    code = (
        "import sys, reportminer; assert callable(reportminer.open);"
        "print(sorted(m for m in ('pandas', 'prefect', 'reportminer.query') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_open_returns_outputs_and_missing_folders_name_the_fix(tmp_path, out_dir):
    assert isinstance(reportminer.open(out_dir), Outputs)
    with pytest.raises(OutputError, match="reportminer run"):
        reportminer.open(tmp_path / "nowhere")
    with pytest.raises(OutputError, match="reportminer run"):
        reportminer.open(tmp_path)  # a folder without reportminer.sqlite


def test_sqlite_has_full_text_indexes(out_dir, tables):
    with sqlite3.connect(out_dir / "reportminer.sqlite") as conn:
        n_docs = conn.execute("SELECT count(*) FROM documents_fts_docsize").fetchone()[0]
        hits = conn.execute(
            "SELECT d.path FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid"
            " WHERE documents_fts MATCH 'Vollzugsdienst'"
        ).fetchall()
        n_sentences = conn.execute("SELECT count(*) FROM mentions_fts_docsize").fetchone()[0]
    sentences = tables["mentions"].dropna(subset=["sentence"])[["doc_id", "sentence"]].drop_duplicates()
    assert n_docs == len(tables["documents"]) and n_sentences == len(sentences)
    assert (ZWICKAU_WORKSHOP,) in hits  # trigram index: part of the compound Gemeindevollzugsdienst


# -- entities --------------------------------------------------------------------------------------------


def test_entities_unfiltered_agree_with_the_entities_table(outputs, tables):
    got = outputs.entities().set_index("entity_id")
    want = tables["entities"].set_index("entity_id")
    assert set(got.index) == set(want.index)
    for col in ("label", "name", "n_mentions", "n_docs", "first_date", "last_date"):
        assert got[col].astype(str).to_dict() == want.loc[got.index, col].astype(str).to_dict(), col
    assert list(got["n_docs"]) == sorted(got["n_docs"], reverse=True)


def test_entities_by_label_and_name(outputs):
    orgs = outputs.entities(label="ORG")
    assert SSG in set(orgs["name"]) and set(orgs["label"]) == {"ORG"}
    assert orgs.iloc[0]["name"] == SSG  # the most widespread organisation of the sample corpus
    people = outputs.entities(label="per,org", name="kruger")  # case and accents ignored
    assert list(people["name"]) == ["Anja Krüger"]
    assert outputs.entities(name="SSG")["name"].iloc[0] == SSG  # aliases match too
    assert len(outputs.entities(limit=3)) == 3


def test_organisations_in_meetings_in_landkreis_zwickau_in_2024(outputs, tables):
    # the sample corpus's workshop on a shared Gemeindevollzugsdienst (26.01.2024, Landkreis Zwickau)
    found = outputs.entities(label="ORG", place="Landkreis Zwickau", since="2024-01-01", until="2024-12-31")
    assert SSG in set(found["name"])
    assert found["first_date"].ge("2024-01-01").all() and found["last_date"].le("2024-12-31").all()
    assert (
        found["n_docs"] <= outputs.entities(label="ORG").set_index("name").loc[found["name"], "n_docs"].values
    ).all()
    # every report behind these rows mentions the place
    ms = outputs.mentions(label="ORG", place="Landkreis Zwickau", since="2024", until="2024")
    zwickau = tables["entities"].loc[tables["entities"]["name"] == "Landkreis Zwickau", "entity_id"].item()
    docs_with_place = set(tables["mentions"].loc[tables["mentions"]["entity_id"] == zwickau, "doc_id"])
    assert set(ms["doc_id"]) <= docs_with_place and set(ms["name"]) == set(found["name"])


def test_dates_accept_year_and_month_and_reject_the_rest(outputs):
    assert outputs.entities(since="2022", until="2022").equals(
        outputs.entities(since="2022-01-01", until="2022-12-31")
    )
    feb = outputs.mentions(since="2023-02", until="2023-06")
    assert feb["report_date"].between("2023-02-01", "2023-06-30").all() and len(feb)
    for bad in ("2022-13-01", "13.05.2022", "yesterday", "2022-02-30"):
        with pytest.raises(QueryError, match="YYYY-MM-DD"):
            outputs.entities(since=bad)
    with pytest.raises(QueryError, match="after until"):
        outputs.entities(since="2024-01-01", until="2023-01-01")


def test_unknown_labels_themes_places_and_limits_are_clear_errors(outputs):
    with pytest.raises(QueryError, match="PER, LOC, ORG, MISC"):
        outputs.entities(label="PERSON")
    with pytest.raises(QueryError, match="themes are"):
        outputs.entities(in_theme="no such theme at all")
    with pytest.raises(QueryError, match="themes are"):
        outputs.entities(in_theme=99)
    with pytest.raises(QueryError, match="places often mentioned"):
        outputs.entities(place="Atlantis")
    with pytest.raises(QueryError, match="limit"):
        outputs.entities(limit=0)
    assert issubclass(QueryError, ReportminerError)


def test_in_theme_selects_the_reports_that_have_the_theme(outputs, tables):
    themes, doc_themes = tables["themes"], tables["doc_themes"]
    theme = themes.iloc[0]
    members = doc_themes[(doc_themes["theme_id"] == theme["theme_id"]) & doc_themes["assigned"].astype(bool)]
    by_id = outputs.mentions(in_theme=int(theme["theme_id"]))
    assert set(by_id["doc_id"]) == set(members["doc_id"]) & set(
        tables["mentions"].dropna(subset=["entity_id"])["doc_id"]
    )
    word = theme["label"].split(" / ")[0].lower()  # part of the label, any case
    assert set(outputs.mentions(in_theme=word)["doc_id"]) >= set(by_id["doc_id"])


# -- mentions --------------------------------------------------------------------------------------------


def test_mentions_carry_sentence_title_and_date(outputs, workshop_id):
    ms = outputs.mentions(name="Anja Krüger")
    assert len(ms) >= 3 and set(ms["name"]) == {"Anja Krüger"}
    assert {"sentence", "title", "report_date", "text", "doc_id"} <= set(ms.columns)
    assert all("Krüger" in s for s in ms["sentence"])
    assert list(ms["report_date"]) == sorted(ms["report_date"])
    in_workshop = outputs.mentions(doc_id=workshop_id, label="ORG")
    assert set(in_workshop["doc_id"]) == {workshop_id} and SSG in set(in_workshop["name"])
    assert in_workshop["title"].str.contains("Gemeindevollzugsdienst").all()
    with pytest.raises(QueryError, match="no report with doc_id"):
        outputs.mentions(doc_id="nope")


# -- co-occurrences --------------------------------------------------------------------------------------


def test_anja_krueger_cooccurs_with_the_ssg(outputs):
    pairs = outputs.cooccurrences(name="Krüger")
    assert (pairs["name_a"] == "Anja Krüger").all()
    ssg = pairs[pairs["name_b"] == SSG]
    assert len(ssg) == 1 and ssg["count"].item() >= 2 and ssg["count"].item() == ssg["n_docs"].item()
    assert len(ssg["doc_ids"].item().split(",")) == ssg["count"].item()
    assert (pairs["count"] >= 2).all() and list(pairs["count"]) == sorted(pairs["count"], reverse=True)


def test_cooccurrences_by_label_and_sentence(outputs, tables):
    pairs = outputs.cooccurrences(label="PER,ORG", min_count=1, level="sentence")
    assert set(pairs["label_a"]) | set(pairs["label_b"]) <= {"PER", "ORG"}
    assert (pairs["n_docs"] <= pairs["count"]).all()
    top = pairs.iloc[0]
    m = tables["mentions"]
    sentences_a = set(
        m.loc[m["entity_id"] == top["entity_id_a"], ["doc_id", "sentence"]].itertuples(index=False)
    )
    sentences_b = set(
        m.loc[m["entity_id"] == top["entity_id_b"], ["doc_id", "sentence"]].itertuples(index=False)
    )
    assert len(sentences_a & sentences_b) == top["count"]
    docs = outputs.cooccurrences(label="PER,ORG", min_count=3)
    assert (docs["count"] >= 3).all() and len(docs) < len(pairs)
    with pytest.raises(QueryError, match="document or sentence"):
        outputs.cooccurrences(level="paragraph")


# -- search ----------------------------------------------------------------------------------------------


def test_search_finds_the_zwickau_workshop(outputs, workshop_id):
    hits = outputs.search("Gemeindevollzugsdienst")
    assert list(hits.columns) == ["doc_id", "title", "report_date", "snippet", "score"]
    assert hits.iloc[0]["doc_id"] == workshop_id
    assert "«Gemeindevollzugsdienst»" in hits.iloc[0]["snippet"]
    assert workshop_id in set(outputs.search("vollzugsdienst")["doc_id"])  # inside the compound, any case
    assert len(outputs.search("Zusammenarbeit", limit=2)) == 2


def test_search_sentences_names_the_entities(outputs):
    hits = outputs.search("interkommunale Zusammenarbeit", level="sentence")
    assert len(hits) and hits["snippet"].str.contains("«", regex=False).all()
    assert any("Markus Vollmer" in e for e in hits["entities"])
    phrase = outputs.search('"Servicestelle Interkommunale Zusammenarbeit"')
    assert (
        len(phrase) and phrase["snippet"].str.contains("«Servicestelle Interkommunale Zusammenarbeit»").any()
    )
    with pytest.raises(QueryError, match="nothing to search"):
        outputs.search("a b")


# -- sql -------------------------------------------------------------------------------------------------


def test_sql_select(outputs, tables):
    counts = outputs.sql("SELECT label, count(*) AS n FROM entities GROUP BY label ORDER BY label")
    assert (
        dict(zip(counts["label"], counts["n"], strict=True))
        == tables["entities"]["label"].value_counts().to_dict()
    )
    assert outputs.sql("WITH x AS (SELECT ? AS v) SELECT v + 1 AS w FROM x;", [1])["w"].item() == 2
    assert outputs.sql("SELECT * FROM pragma_table_info('entities')")["name"].iloc[0] == "entity_id"
    with pytest.raises(QueryError, match="no such table"):
        outputs.sql("SELECT * FROM nope")


REFUSED = [
    "INSERT INTO themes (theme_id, label) VALUES (9, 'x')",
    "UPDATE entities SET name = 'x'",
    "DELETE FROM mentions",
    "DROP TABLE runs",
    "ATTACH DATABASE ':memory:' AS other",
    "PRAGMA query_only = OFF",
    "PRAGMA writable_schema = ON",
    "SELECT load_extension('/tmp/nothing')",
    "WITH x AS (SELECT 1) DELETE FROM mentions",
    "SELECT 1; DROP TABLE runs",
    "  /* comment */ CREATE TABLE t (a)",
    "",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_sql_refuses_anything_but_one_select(outputs, out_dir, statement):
    before = _sha(out_dir / "reportminer.sqlite")
    with pytest.raises(QueryError, match="SELECT|statement"):
        outputs.sql(statement)
    assert _sha(out_dir / "reportminer.sqlite") == before


# -- command line ----------------------------------------------------------------------------------------


def test_cli_entities_formats(out_dir):
    csv = _cli("entities", "--out", str(out_dir), "--label", "ORG", "--format", "csv")
    assert csv.exit_code == 0, csv.output
    assert SSG in set(pd.read_csv(io.StringIO(csv.stdout))["name"])
    table = _cli("entities", "-o", str(out_dir), "--label", "ORG", "--place", "Landkreis Zwickau",
                 "--since", "2024-01-01", "--until", "2024-12-31")  # fmt: skip
    assert table.exit_code == 0 and SSG in table.stdout and "entities" in table.stdout
    rows = json.loads(_cli("entities", "-o", str(out_dir), "--name", "Krüger", "-f", "json").stdout)
    assert [r["name"] for r in rows] == ["Anja Krüger"] and rows[0]["label"] == "PER"
    themed = _cli("entities", "-o", str(out_dir), "--in-theme", "0", "--limit", "2", "-f", "json")
    assert themed.exit_code == 0 and len(json.loads(themed.stdout)) == 2


def test_cli_mentions_show_the_sentence(out_dir, tables):
    result = _cli("mentions", "-o", str(out_dir), "--name", "Anja Krüger", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all("Krüger" in r["sentence"] and r["title"] and r["report_date"] for r in rows)
    doc = rows[0]["doc_id"]
    one = _cli("mentions", "-o", str(out_dir), "--doc-id", doc, "--label", "PER")
    assert one.exit_code == 0 and "Krüger" in one.stdout


def test_cli_cooccurrences(out_dir):
    result = _cli("cooccurrences", "-o", str(out_dir), "--name", "Krüger", "--min", "2", "-f", "csv")
    assert result.exit_code == 0, result.output
    pairs = pd.read_csv(io.StringIO(result.stdout))
    assert SSG in set(pairs.loc[pairs["name_a"] == "Anja Krüger", "name_b"])
    sentence = _cli("cooccurrences", "-o", str(out_dir), "--label", "PER,ORG", "--level", "sentence")
    assert sentence.exit_code == 0 and "Markus Vollmer" in sentence.stdout
    assert _cli("cooccurrences", "-o", str(out_dir), "--level", "paragraph").exit_code == 2


def test_cli_search(out_dir, workshop_id):
    result = _cli("search", "Gemeindevollzugsdienst", "-o", str(out_dir), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["doc_id"] == workshop_id
    table = _cli("search", "interkommunale Zusammenarbeit", "-o", str(out_dir), "--level", "sentence")
    assert table.exit_code == 0 and "Markus Vollmer" in table.stdout


def test_cli_sql(out_dir, tables):
    result = _cli("sql", "SELECT count(*) AS n FROM documents", "-o", str(out_dir), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": len(tables["documents"])}]
    table = _cli("sql", "SELECT name FROM entities WHERE name LIKE 'Sächsischer%'", "-o", str(out_dir))
    assert table.exit_code == 0 and SSG in table.stdout


@pytest.mark.parametrize("statement", REFUSED[:-1])
def test_cli_sql_refuses_writes_with_exit_2(out_dir, statement):
    result = _cli("sql", statement, "-o", str(out_dir))
    assert (
        result.exit_code == 2 and "error:" in result.output and len(result.stderr.strip().splitlines()) == 1
    )


# Statements that would reach files beside the outputs: attach or create a database, load a library.
REACHING_OUT = [
    "ATTACH DATABASE '{tmp}/x.db' AS x",
    "attach '{tmp}/x.db' as x",
    "SELECT load_extension('{tmp}/x')",
    "SELECT 1 UNION SELECT load_extension('{tmp}/x', 'sqlite3_x_init')",
    "VALUES (load_extension('{tmp}/x'))",
    "VACUUM INTO '{tmp}/copy.db'",
    "SELECT * FROM pragma_writable_schema",
]


@pytest.mark.parametrize("statement", REACHING_OUT)
def test_sql_refuses_to_attach_or_load_other_files_in_python_and_cli(outputs, out_dir, tmp_path, statement):
    statement = statement.format(tmp=tmp_path)
    (tmp_path / "x").write_bytes(b"\x7fELF not really a library")  # something there to load
    before = _sha(out_dir / "reportminer.sqlite")
    with pytest.raises(QueryError, match="refused|only a single read-only SELECT"):
        outputs.sql(statement)
    result = _cli("sql", statement, "-o", str(out_dir))
    assert result.exit_code == 2 and result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _sha(out_dir / "reportminer.sqlite") == before
    assert [p.name for p in tmp_path.iterdir()] == ["x"]  # nothing attached, created or copied


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["entities", "--since", "2022-13-01"], "not a date"),
        (["mentions", "--until", "31.12.2022"], "not a date"),
        (["entities", "--label", "PERSON"], "valid labels are PER, LOC, ORG, MISC"),
        (["cooccurrences", "--label", "DATE"], "valid labels"),
        (["entities", "--in-theme", "no such theme at all"], "themes are"),
        (["search", "x"], "nothing to search"),
        (["sql", "SELECT * FROM nope"], "no such table"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(out_dir, args, message):
    result = _cli(*args, "--out", str(out_dir))
    assert result.exit_code == 2 and message in result.stderr
    assert result.stderr.startswith("error:") and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "command", [["entities"], ["mentions"], ["cooccurrences"], ["search", "Zwickau"], ["sql", "SELECT 1"]]
)
def test_cli_missing_outputs_folder_exits_2(tmp_path, command):
    result = _cli(*command, "--out", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "reportminer run" in result.stderr


def test_cli_bad_format_is_a_usage_error(out_dir):
    assert _cli("entities", "-o", str(out_dir), "--format", "xml").exit_code == 2
