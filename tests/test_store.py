"""Store: the three output formats hold the same tables, writes are atomic, run history is kept."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from reportminer.errors import OutputError
from reportminer.schema import TABLES
from reportminer.store import read_runs, read_table, write_tables


def _tables(run_id: str) -> dict[str, pd.DataFrame]:
    return {
        "documents": pd.DataFrame(
            [{"doc_id": "d1", "path": "a.txt", "title": "Sitzung des Kreistags", "report_date": "2022-12-07",
              "n_chars": 10, "text": "Der Kreistag tagte in Annaberg-Buchholz."}]
        ),
        "entities": pd.DataFrame([{"entity_id": "LOC-1", "label": "LOC", "name": "Annaberg-Buchholz", "n_mentions": 1}]),
        "runs": pd.DataFrame([{"run_id": run_id, "n_documents": 1, "seconds": 1.5}]),
    }  # fmt: skip


def test_parquet_csv_and_sqlite_hold_the_same_tables(tmp_path):
    written = write_tables(_tables("r1"), tmp_path)
    for name, table in TABLES.items():
        parquet = pd.read_parquet(tmp_path / "parquet" / f"{name}.parquet")
        csv = pd.read_csv(tmp_path / "csv" / f"{name}.csv")
        with sqlite3.connect(tmp_path / "reportminer.sqlite") as conn:
            sql = pd.read_sql(f"select * from {name}", conn)
        assert list(parquet.columns) == list(csv.columns) == list(sql.columns) == table.column_names
        assert len(parquet) == len(csv) == len(sql) == len(written[name])
    docs = read_table(tmp_path, "documents")
    assert docs.loc[0, "title"] == "Sitzung des Kreistags" and docs.loc[0, "n_chars"] == 10
    assert not list(tmp_path.rglob("*.tmp")), "temporary files must not be left behind"


def test_sqlite_holds_the_values_sqlite_utils_insert_all_stores(tmp_path):
    """The rows go in with ``executemany``; they must be what sqlite-utils' ``insert_all`` stored before:
    ints as INTEGER, floats as REAL, booleans as 0/1, missing values (NA, NaN) as NULL."""
    import sqlite_utils

    tables = _tables("r1")
    tables["themes"] = pd.DataFrame(
        {"theme_id": [0, 1, 2], "label": ["Schule", None, "Verkehr"], "weight": [0.5, float("nan"), None],
         "seed": [True, False, None], "n_docs": [3, None, 0]}
    )  # fmt: skip
    written = write_tables(tables, tmp_path)
    expected = sqlite_utils.Database(memory=True)
    for name, df in written.items():
        expected[name].create({c.name: {"str": str, "int": int, "float": float, "bool": int}[c.type]
                               for c in TABLES[name].columns})  # fmt: skip
        records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
        if records:
            expected[name].insert_all(records)
    with sqlite3.connect(tmp_path / "reportminer.sqlite") as conn:
        for name, table in TABLES.items():
            typed = ", ".join(f"[{c}], typeof([{c}])" for c in table.column_names)
            query = f"SELECT {typed} FROM [{name}] ORDER BY rowid"
            assert conn.execute(query).fetchall() == expected.execute(query).fetchall(), name
        themes = conn.execute("SELECT weight, seed, n_docs FROM themes ORDER BY theme_id").fetchall()
    assert themes == [(0.5, 1, 3), (None, 0, None), (None, None, 0)]


def test_runs_history_is_appended_and_reruns_are_idempotent(tmp_path):
    write_tables(_tables("r1"), tmp_path)
    write_tables(_tables("r2"), tmp_path)
    write_tables(_tables("r2"), tmp_path)
    assert list(read_runs(tmp_path)["run_id"]) == ["r1", "r2"]
    assert len(read_table(tmp_path, "documents")) == 1


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="not writable"):
        write_tables(_tables("r1"), blocker / "out")


def test_missing_outputs_name_the_fix(tmp_path):
    with pytest.raises(OutputError, match="reportminer run"):
        read_table(tmp_path, "entities")
