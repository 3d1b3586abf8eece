"""The web UI: Datasette metadata from the schema, the server over HTTP, and a headless Chromium session."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportminer.cli import app
from reportminer.schema import TABLES
from reportminer.web import CANNED_QUERIES, DATABASE, datasette_args, datasette_metadata

ORGANISATION = "Sächsischer Städte- und Gemeindetag"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1000",
]  # fmt: skip


# -- metadata (no server) --------------------------------------------------------------------------------


def test_metadata_describes_every_table_and_column():
    tables = datasette_metadata()["databases"][DATABASE]["tables"]
    for name, table in TABLES.items():
        assert tables[name]["description"] == table.description
        assert set(tables[name]["columns"]) == set(table.column_names)
        assert all(tables[name]["columns"].values()), f"{name}: a column without description"
    assert tables["documents"]["fts_table"] == "documents_fts"
    assert tables["mentions"]["fts_table"] == "mentions_fts"
    assert "label" in tables["mentions"]["facets"]
    assert {"label", "state", "place_kind"} <= set(tables["entities"]["facets"])


def test_canned_queries_are_read_only():
    queries = datasette_metadata()["databases"][DATABASE]["queries"]
    assert set(queries) == set(CANNED_QUERIES)
    for name, query in queries.items():
        assert not query.get("write"), name
        assert query["sql"].lstrip().upper().startswith(("SELECT", "WITH")), name
        assert query["title"] and query["description"]


def test_datasette_is_immutable_and_local_by_default():
    args = datasette_args(Path("out/reportminer.sqlite"), Path("metadata.json"))
    assert args[:3] == ["serve", "--immutable", "out/reportminer.sqlite"]
    assert args[args.index("--host") + 1] == "127.0.0.1"


def test_web_without_outputs_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["web", "--out", str(tmp_path / "missing")], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert "not found; run `reportminer run" in result.output
    assert "Traceback" not in result.output


# -- the server ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture(scope="module")
def web_port(corpus_tables, tmp_path_factory):
    """``reportminer web`` on the sample corpus' outputs (default host), on a free port, in a subprocess.

    Its output goes to a file, not a pipe: Datasette prints a long traceback for each refused query, and a
    pipe nobody reads would fill up and stall the server."""
    _, out = corpus_tables
    port = _free_port()
    log = tmp_path_factory.mktemp("web") / "server.log"
    with open(log, "w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reportminer", "web", "--out", str(out), "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy 2-core machine starts Datasette slowly
        while True:
            if proc.poll() is not None:
                pytest.fail(f"reportminer web exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if _get(f"{base}/-/versions.json", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("reportminer web did not answer within 120 s")
            time.sleep(0.5)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def web_url(web_port):
    return f"http://127.0.0.1:{web_port}"


def _json(url: str) -> object:
    status, body = _get(url)
    assert status == 200, body[:500]
    return json.loads(body)


def test_entities_json_filtered_by_label(web_url):
    rows = _json(f"{web_url}/{DATABASE}/entities.json?label=ORG&_shape=array&_size=max")
    assert rows and {r["label"] for r in rows} == {"ORG"}
    assert ORGANISATION in {r["name"] for r in rows}


def test_metadata_served(web_url):
    served = _json(f"{web_url}/-/metadata.json")
    assert served["databases"][DATABASE]["tables"]["entities"]["columns"]["place_kind"]


def test_full_text_search_over_json(web_url):
    query = urllib.parse.urlencode({"_search": "Gemeindetag", "_shape": "array", "_size": "max"})
    rows = _json(f"{web_url}/{DATABASE}/mentions.json?{query}")
    assert any(r["value"] == ORGANISATION for r in rows)


def test_who_met_where_when_canned_query(web_url):
    rows = _json(f"{web_url}/{DATABASE}/who_met_where_when.json?_shape=array&place=Plauen")
    assert [(r["start"], r["place"]) for r in rows] == [("2023-03-14", "Plauen")]
    query = urllib.parse.urlencode({"place": "Zwickau", "year": "", "_shape": "array"})
    orgs = _json(f"{web_url}/{DATABASE}/organisations_in_meetings.json?{query}")
    assert ORGANISATION in {r["organisation"] for r in orgs}


def test_writes_are_refused(web_url):
    query = urllib.parse.urlencode({"sql": "DELETE FROM entities"})
    status, body = _get(f"{web_url}/{DATABASE}.json?{query}")
    assert status == 400 and b"must be a SELECT" in body
    assert _json(f"{web_url}/-/databases.json")[0]["is_mutable"] is False


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Writes, and statements that reach beyond the database: other files, shared libraries, the schema itself.
ATTACKS = {
    "insert": "INSERT INTO themes (theme_id, label) VALUES (99, 'x')",
    "update": "UPDATE entities SET name = 'x'",
    "delete_in_with": "WITH x AS (SELECT 1) DELETE FROM mentions",
    "second_statement": "SELECT 1; DROP TABLE runs",
    "attach": "ATTACH DATABASE '{tmp}/x.db' AS x",
    "attach_short": "attach '{tmp}/x.db' as x",
    "vacuum_into": "VACUUM INTO '{tmp}/copy.db'",
    "load_extension": "SELECT load_extension('{tmp}/x')",
    "load_extension_in_union": "SELECT 1 UNION SELECT load_extension('{tmp}/x', 'sqlite3_x_init')",
    "writable_schema": "PRAGMA writable_schema = 1",
    "writable_schema_function": "SELECT * FROM pragma_writable_schema",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_sql_endpoint_refuses_writes_attach_extensions_and_pragmas(web_url, corpus_tables, tmp_path, attack):
    db = corpus_tables[1] / "reportminer.sqlite"
    statement = ATTACKS[attack].format(tmp=tmp_path)
    (tmp_path / "x").write_bytes(b"\x7fELF not really a library")  # something there to load
    before = _sha(db)
    query = urllib.parse.urlencode({"sql": statement})
    status, body = _get(f"{web_url}/{DATABASE}.json?{query}")
    assert status == 400, body[:500]
    answer = json.loads(body)
    assert answer["ok"] is False and not answer.get("rows")
    if "load_extension" in attack:  # refused before SQLite looks for the file, not merely not found
        assert answer["error"] == "not authorized"
    assert _get(f"{web_url}/{DATABASE}?{query}")[0] == 400  # the HTML page refuses it too
    assert _sha(db) == before
    assert [p.name for p in tmp_path.iterdir()] == ["x"]  # nothing attached, created or copied
    assert _json(f"{web_url}/{DATABASE}.json?sql=SELECT+count(*)+AS+n+FROM+themes&_shape=array") == [
        {"n": len(corpus_tables[0]["themes"])}
    ]


def test_posted_sql_is_refused(web_url, corpus_tables):
    db = corpus_tables[1] / "reportminer.sqlite"
    before = _sha(db)
    data = urllib.parse.urlencode({"sql": "DELETE FROM entities"}).encode()
    # the SQL endpoints do not take POST; a canned query does, but runs only its own SELECT and ignores the
    # posted sql (Datasette 0.65 then fails with 500 for read-only canned queries: refused all the same)
    for path, refused in (
        (f"/{DATABASE}", (405,)),
        (f"/{DATABASE}.json", (405,)),
        (f"/{DATABASE}/who_met_where_when", (403, 405, 500)),
    ):
        request = urllib.request.Request(f"{web_url}{path}", data=data, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status in refused, (path, status)
    assert _sha(db) == before
    assert len(_json(f"{web_url}/{DATABASE}/entities.json?_shape=array&_size=max")) == len(
        corpus_tables[0]["entities"]
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="127.0.0.2 is this machine only on Linux")
def test_server_answers_on_127_0_0_1_only(web_port):
    """Bound to 127.0.0.1, not to every address: another loopback address of this machine is refused, as
    is any other interface (a server bound to 0.0.0.0 would answer on 127.0.0.2)."""
    socket.create_connection(("127.0.0.1", web_port), timeout=10).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", web_port), timeout=10).close()


def test_web_command_binds_127_0_0_1_by_default(tmp_path, monkeypatch):
    import datasette.cli

    (tmp_path / "reportminer.sqlite").write_bytes(b"")
    started = {}

    def datasette_main(*, args, **kwargs):  # instead of starting the server
        started["args"] = args

    monkeypatch.setattr(datasette.cli.cli, "main", datasette_main)
    result = CliRunner().invoke(app, ["web", "--out", str(tmp_path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    args = started["args"]
    assert args[args.index("--host") + 1] == "127.0.0.1" and "0.0.0.0" not in args
    assert "--immutable" in args and "--load-extension" not in args
    assert "http://127.0.0.1:8001/reportminer" in result.output


# -- headless Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "needs Chromium and chromedriver (Debian: apt-get install chromium chromium-driver); "
            ".ci/run installs them in CI"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.slow
def test_browse_facet_and_search_in_chromium(web_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 30)
    # the entities table, with its label facet from the metadata
    browser.get(f"{web_url}/{DATABASE}/entities")
    assert "entities" in browser.title
    assert "distinct person, place, organisation" in browser.page_source  # table description
    facet = wait.until(
        ec.element_to_be_clickable((By.XPATH, "//div[@id='facet-label']//a[normalize-space()='ORG']"))
    )
    facet.click()
    wait.until(ec.url_contains("label=ORG"))
    names = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-name")}
    assert ORGANISATION in names
    labels = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-label")}
    assert labels == {"ORG"}

    # full-text search over the sentences that name entities, then narrowed to organisations
    browser.get(f"{web_url}/{DATABASE}/mentions")
    box = wait.until(ec.presence_of_element_located((By.ID, "_search")))
    box.send_keys("Gemeindetag", Keys.RETURN)
    wait.until(ec.url_contains("_search=Gemeindetag"))
    assert 'search matches "Gemeindetag"' in browser.page_source
    values = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-value")}
    assert ORGANISATION in values

    # and over the report texts
    browser.get(f"{web_url}/{DATABASE}/documents")
    box = wait.until(ec.presence_of_element_located((By.ID, "_search")))
    box.send_keys("Vollzugsdienst", Keys.RETURN)
    wait.until(ec.url_contains("_search=Vollzugsdienst"))
    titles = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-title")]
    assert any("Gemeindevollzugsdienst" in t for t in titles)
