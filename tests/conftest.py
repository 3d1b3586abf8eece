"""Shared fixtures: German sample texts, the bundled pipeline, and ../shared data when it is there."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"
SEED = SHARED / "seed" / "000_946e531dff2b79d8.txt"


def bad_corpus_script():
    """scripts/make_bad_corpus.py as a module (the generator of odd inputs, shared by the tests)."""
    import importlib.util
    import sys

    if "make_bad_corpus" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "make_bad_corpus", ROOT / "scripts" / "make_bad_corpus.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_bad_corpus"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_bad_corpus"]


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; the calling test is skipped, with the reason shown, when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared beside the repository is not present on this machine)")
    return path


@pytest.fixture(scope="session")
def nlp():
    from reportminer.nlp import load_pipeline

    return load_pipeline()


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return shared_path("seed", SEED.name)


@pytest.fixture(scope="session")
def seed_analysis(nlp, seed_path):
    from reportminer import pipeline
    from reportminer.nlp import model_name

    reports, errors = pipeline.read_reports([seed_path], seed_path.parent)
    assert not errors
    analysed, errors = pipeline.analyse_reports(reports, nlp, model=model_name(nlp))
    assert not errors
    return analysed[0]


@pytest.fixture(scope="session")
def corpus_tables(nlp, tmp_path_factory):
    """The sample corpus (plus the seed report when ../shared is there) run through every stage, with the
    shipped codebook as `make run` passes it."""
    from reportminer import pipeline, store
    from reportminer.nlp import model_name

    paths = pipeline.list_reports(CORPUS)
    reports, errors = pipeline.read_reports(paths, CORPUS)
    if SEED.exists():
        seed_reports, _ = pipeline.read_reports([SEED], SEED.parent)
        reports += seed_reports
    analysed, nlp_errors = pipeline.analyse_reports(reports, nlp, model=model_name(nlp))
    run = pipeline.RunInfo(
        run_id=pipeline.new_run_id(), started_at=pipeline.utc_now(), corpus=str(CORPUS),
        model=model_name(nlp), model_source="bundled",
    )  # fmt: skip
    tables = pipeline.build_tables(analysed, errors + nlp_errors, run, codebook="municipal-prevention")
    out = tmp_path_factory.mktemp("outputs")
    return store.write_tables(tables, out), out
