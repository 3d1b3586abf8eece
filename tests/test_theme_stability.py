"""Theme ids stay stable across runs: new reports keep old reports on their theme ids (issue 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportminer.themes import ThemeModel, ThemeState, _term_lists, match_themes, theme_drift

from .conftest import CORPUS, shared_path
from .test_themes import TEXTS


def _units(texts: list[str]):
    """Sentence units with theme terms of each text, as the analysis stage makes them (blank pipeline)."""
    import spacy

    from reportminer.pipeline import text_units

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    return [text_units(doc) for doc in nlp.pipe(texts)]


def _run(term_lists: list[list[str]], previous: pd.DataFrame | None, state=None):
    """One run as ``pipeline.fit_themes`` does it: rank-1 theme id per document, the themes table and
    the model's state for the next run."""
    model = ThemeModel(random_state=0).fit(term_lists, previous=state)
    themes = match_themes(model.themes_, previous)
    pred = model.predict(term_lists)
    rows = [
        {"theme_id": t.theme_id, "label": t.label, "top_terms": ", ".join(t.top_terms), "theme_key": t.key,
         "seed": t.seed, "n_docs": int((pred == j).sum())}
        for j, t in enumerate(themes)
    ]  # fmt: skip
    return [themes[p].theme_id if p >= 0 else -1 for p in pred], pd.DataFrame(rows), model.state_


def _kept_share(term_lists: list[list[str]], seed: int = 0) -> tuple[float, pd.DataFrame, pd.DataFrame]:
    """Fit on a random 1/1.1 of the documents, then on all of them with the first run's themes and state (as
    stored in the output folder); the share of the first run's documents whose rank-1 theme id is unchanged."""
    order = np.random.RandomState(seed).permutation(len(term_lists))
    first = sorted(order[: int(round(len(term_lists) / 1.1))])
    before, prev, state = _run([term_lists[i] for i in first], None)
    after, cur, _ = _run(term_lists, prev, ThemeState.from_frame(state.to_frame()))
    kept = np.mean([before[n] == after[i] for n, i in enumerate(first)])
    return float(kept), prev, cur


def test_match_themes_keeps_ids_and_gives_fresh_ones():
    from reportminer.themes import Theme

    previous = pd.DataFrame(
        [
            {"theme_id": 0, "label": "Beteiligung", "top_terms": "beteiligung, bürgerrat", "theme_key": "beteiligung",
             "seed": True, "n_docs": 3},
            {"theme_id": 7, "label": "Radwege / Klima", "top_terms": "radwege, klimaschutz, solaranlagen",
             "theme_key": "radwege-klima", "seed": False, "n_docs": 4},
            {"theme_id": 9, "label": "Schule / Digital", "top_terms": "schule, tablets, digitale",
             "theme_key": "schule-digital", "seed": False, "n_docs": 2},
        ]
    )  # fmt: skip
    new = [
        Theme(0, "Beteiligung", ["beteiligung"], key="beteiligung", seed=True),
        Theme(7, "Friedhof / Gebühren", ["friedhof", "gebühren"], key="friedhof-gebuehren"),
        Theme(8, "Klimaschutz / Radweg", ["klimaschutz", "radweg", "solaranlage", "wärmepumpen"], key="kr"),
    ]
    out = match_themes(new, previous)
    assert [(t.theme_id, t.key, t.label) for t in out] == [
        (0, "beteiligung", "Beteiligung"),
        (10, "friedhof-gebuehren", "Friedhof / Gebühren"),  # fresh id above every id used before
        (7, "radwege-klima", "Radwege / Klima"),  # continues the old theme (stems match: radweg ~ radwege)
    ]
    assert match_themes(new, None) == new

    current = [
        {"theme_id": t.theme_id, "label": t.label, "n_docs": n} for t, n in zip(out, [3, 1, 6], strict=True)
    ]
    drift = {r["theme_id"]: r for r in theme_drift(current, previous)}
    assert {k: r["status"] for k, r in drift.items()} == {0: "stable", 10: "new", 7: "grown", 9: "faded"}
    assert (drift[9]["n_docs_before"], drift[9]["n_docs_after"]) == (2, 0)
    assert drift[10]["n_docs_before"] is None


def test_stability_sample_corpus_and_synthetic_texts():
    from reportminer.pipeline import list_reports, read_reports

    reports, _ = read_reports(list_reports(CORPUS), CORPUS)
    term_lists = _term_lists([r.text for r in reports] + TEXTS, None)
    runs = [_kept_share(term_lists, seed=split) for split in range(5)]
    shares = [kept for kept, _, _ in runs]
    # measured 0.80, 0.96, 0.96, 1.0, 1.0 on these 28 texts (0.76 on split 0 before the model continued its
    # previous state); a handful of added texts weighs more in a small corpus than in a large one
    assert np.mean(shares) >= 0.9, shares
    for _, prev, cur in runs:
        seeds = prev[prev["seed"]]
        assert set(seeds["theme_id"]) <= set(cur["theme_id"])  # seed themes keep their seed ids


def test_pipeline_keeps_theme_ids_and_writes_drift(tmp_path):
    """Two build_tables runs over the same output folder: the second keeps ids and writes theme_drift."""
    from reportminer import store
    from reportminer.pipeline import AnalysedReport, RunInfo, build_tables, list_reports, read_reports

    reports, _ = read_reports(list_reports(CORPUS), CORPUS)
    analysed = [AnalysedReport(report=r, mentions=[], units=units, n_words=len(units), model="blank")
                for r, units in zip(reports, _units([r.text for r in reports]), strict=True)]  # fmt: skip
    first = store.write_tables(build_tables(analysed[:-2], [], RunInfo("r1", "t", "c", "m", "b")), tmp_path)
    assert set(first["theme_drift"]["status"]) == {"new"}
    previous = store.read_previous_table(tmp_path, "themes")
    state = store.read_theme_state(tmp_path)  # written with the tables
    assert state is not None and state["component"].nunique() >= len(previous)
    second = build_tables(
        analysed, [], RunInfo("r2", "t", "c", "m", "b"), previous_themes=previous, previous_state=state
    )
    drift = second["theme_drift"]
    assert set(drift["run_id"]) == {"r2"} and set(drift["status"]) <= {
        "new",
        "grown",
        "shrunk",
        "stable",
        "faded",
    }
    old = first["doc_themes"].query("rank == 1").set_index("doc_id")["theme_id"]
    new = second["doc_themes"].query("rank == 1").set_index("doc_id")["theme_id"]
    assert (old == new.reindex(old.index)).mean() >= 0.9
    assert store.read_previous_table(tmp_path / "nothing", "themes") is None


#: share of OKFDE reports that must keep their theme id when 10 % more reports arrive (issue 5), on each of
#: six random splits. Measured 0.954, 0.985, 0.931, 0.981, 0.977, 0.942 (splits 0-5; split 7 of 0-11 is the
#: only one below, 0.88); before the model continued its stored state: 0.89, 0.58, 0.94, 0.84, 0.92, 0.51.
OKFDE_KEPT = 0.90


@pytest.mark.shared
@pytest.mark.slow
def test_stability_okfde_ten_percent_more_reports():
    texts = sorted(shared_path("data", "corpus", "okfde_civic_blogs", "texts").glob("*.txt"))
    term_lists = _term_lists([p.read_text(encoding="utf-8") for p in texts], None)
    runs = [_kept_share(term_lists, seed=split) for split in range(6)]
    shares = [kept for kept, _, _ in runs]
    worst = runs[int(np.argmin(shares))]
    assert min(shares) >= OKFDE_KEPT, (shares, worst[1], worst[2])


def test_theme_state_round_trip_and_when_k_is_chosen_afresh():
    from reportminer.pipeline import list_reports, read_reports

    reports, _ = read_reports(list_reports(CORPUS), CORPUS)
    term_lists = _term_lists([r.text for r in reports] + TEXTS, None)
    first = ThemeModel(random_state=0).fit(term_lists[:20])
    state = ThemeState.from_frame(first.state_.to_frame())
    assert state.base_docs == 20 and len(state.components) == len(first.nmf_.components_)
    assert state.seed_keys == first.state_.seed_keys and state.merged == first.state_.merged
    assert set(state.keys) <= set(first.vectorizer_.get_feature_names_out())

    grown = ThemeModel(random_state=0).fit(term_lists[:24], previous=state)  # 1.2 x: continue
    assert grown.warm_started_ and grown.base_docs_ == 20
    assert len(grown.nmf_.components_) == len(first.nmf_.components_)
    doubled = ThemeModel(random_state=0).fit(term_lists + term_lists[:12], previous=state)  # 2 x: afresh
    assert not doubled.warm_started_ and doubled.base_docs_ == 40
    assert ThemeState.from_frame(None) is None
    assert ThemeState.from_frame(pd.DataFrame({"x": [1]})) is None  # a damaged state: fit afresh
