"""Thematic summaries of an output folder: per theme its label, terms, key sentences, entities and timeline.

``summarize(out_dir, theme=None, fmt="md")`` reads the output tables (``documents``, ``mentions``,
``themes``, ``doc_themes``, ``segment_themes``) and returns Markdown or a self-contained HTML page (plots
as base64 PNG, every text from a report escaped). Key sentences are extractive: sentences of the theme's
paragraphs (or reports, for outputs without ``segment_themes``) ranked by the weight of the theme terms they
contain, each with doc_id, title, report date and character offsets into ``documents.text``.
Without ``theme`` the summary is a corpus overview: all themes, top entities, dates covered.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reportminer.errors import OutputError, QueryError
from reportminer.store import read_table
from reportminer.themes import _stem_term

log = logging.getLogger(__name__)

__all__ = ["FORMATS", "KeySentence", "ThemeSummary", "sentence_spans", "summarize", "theme_summary"]

FORMATS = ("md", "html")
#: a report or paragraph belongs to a theme holding at least this share of its weight (or its strongest)
MIN_WEIGHT = 0.2
N_SENTENCES = 5
N_ENTITIES = 5
_SENT_BREAK = re.compile(r"\n+|(?<=[.!?…])(?<!\d\.)(?<!\s[A-Za-z]\.)[\"“”»]?\s+(?=[A-ZÄÖÜ0-9„\"«(])")
_WORD = re.compile(r"[^\W\d_][\w\-]*", re.UNICODE)
_ENTITY_LABELS = {"ORG": "Organisations", "PER": "People", "LOC": "Places"}


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans in ``text[start:end]`` (line breaks and . ! ? before a capital), whitespace trimmed."""
    end = len(text) if end is None else end
    spans, pos = [], start
    for m in [*_SENT_BREAK.finditer(text, start, end), None]:
        stop = m.start() if m else end
        if m and text[m.start() : m.start() + 1] in '"“”»':
            stop += 1
        piece = text[pos:stop]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((pos + lead, pos + len(piece.rstrip())))
        if m:
            pos = max(m.end(), stop)
    return spans


# ------------------------------------------------------------------------------------------------ data


@dataclass
class KeySentence:
    text: str
    doc_id: str
    title: str
    report_date: str | None
    start_char: int
    end_char: int
    score: float


@dataclass
class ThemeSummary:
    theme_id: int
    key: str
    label: str
    terms: list[str]
    n_docs: int
    sentences: list[KeySentence] = field(default_factory=list)
    entities: dict[str, list[tuple[str, float, int]]] = field(
        default_factory=dict
    )  # label -> (name, score, docs)
    timeline: list[tuple[str, int]] = field(default_factory=list)  # (YYYY-MM, documents)
    documents: list[tuple[str, str, str | None, float]] = field(
        default_factory=list
    )  # doc_id, title, date, w


@dataclass
class _Outputs:
    documents: pd.DataFrame
    mentions: pd.DataFrame
    themes: pd.DataFrame
    doc_themes: pd.DataFrame
    segment_themes: pd.DataFrame
    boilerplate: frozenset[str] = frozenset()  # unit keys of the corpus' boilerplate

    def in_boilerplate(self, sentence: str) -> bool:
        from reportminer.boilerplate import unit_key

        return bool(self.boilerplate) and unit_key(sentence) in self.boilerplate


def _load(out_dir: Path) -> _Outputs:
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise OutputError(f"output folder {out_dir} not found; run `reportminer run --out {out_dir}` first")
    tables = {n: read_table(out_dir, n) for n in ("documents", "mentions", "themes", "doc_themes")}
    try:
        tables["segment_themes"] = read_table(out_dir, "segment_themes")
    except OutputError:  # outputs written before segments existed
        from reportminer.schema import TABLES

        tables["segment_themes"] = TABLES["segment_themes"].conform(None)
    try:
        keys = frozenset(read_table(out_dir, "boilerplate")["unit_key"].dropna().astype(str))
    except OutputError:  # outputs written before boilerplate was found
        keys = frozenset()
    return _Outputs(**tables, boilerplate=keys)


def _resolve_theme(themes: pd.DataFrame, theme: str | int) -> pd.Series:
    text = str(theme).strip()
    known = "; ".join(
        f"{r.theme_id} {r.theme_key or ''} {r.label}".replace("  ", " ") for r in themes.itertuples()
    )
    if text.lstrip("-").isdigit():
        hit = themes[themes["theme_id"] == int(text)]
    else:
        low = text.casefold()
        hit = themes[themes["theme_key"].fillna("").str.casefold() == low]
        if hit.empty:
            hit = themes[themes["label"].fillna("").str.casefold() == low]
        if hit.empty:
            hit = themes[themes["label"].fillna("").str.casefold().str.contains(low, regex=False)]
        if len(hit) > 1:
            raise QueryError(f"theme {text!r} is ambiguous ({', '.join(hit['label'])}); give its id or key")
    if hit.empty:
        raise QueryError(f"no theme {text!r}; themes are: {known or 'none'}")
    return hit.iloc[0]


def _members(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of a theme-weight table that belong to their theme: the assigned ones (outputs written before
    ``assigned`` existed: weight >= MIN_WEIGHT or rank 1)."""
    if rows.empty:
        return rows
    if rows["assigned"].notna().any():
        return rows[rows["assigned"].fillna(False).astype(bool)]
    return rows[(rows["weight"] >= MIN_WEIGHT) | (rows["rank"] == 1)]


def _term_weights(terms: list[str]) -> dict[tuple[str, ...], float]:
    """Stem key (tuple of word stems) -> weight falling with the term's rank (1.0 for the first)."""
    n = len(terms)
    return {tuple(_stem_term(t.lower()).split(" ")): (n - i) / n for i, t in enumerate(terms)}


def _score(sentence: str, weights: dict[tuple[str, ...], float]) -> float:
    stems = [_stem_term(w.lower()) for w in _WORD.findall(sentence)]
    found = set(stems) | set(zip(stems[:-1], stems[1:], strict=True))
    score = 0.0
    for key, w in weights.items():
        if (key[0] if len(key) == 1 else key) in found:
            score += w
    return score


def theme_summary(data: _Outputs, row: pd.Series) -> ThemeSummary:
    theme_id = int(row["theme_id"])
    terms = [t for t in str(row["top_terms"] or "").split(", ") if t]
    docs = data.documents.set_index("doc_id")
    dt = _members(data.doc_themes[data.doc_themes["theme_id"] == theme_id])
    st = _members(data.segment_themes[data.segment_themes["theme_id"] == theme_id])
    dt = dt[dt["doc_id"].isin(docs.index)]
    summary = ThemeSummary(theme_id, str(row["theme_key"] or theme_id), str(row["label"]), terms, len(dt))

    # regions to draw sentences from: the theme's paragraphs, else its whole reports
    regions: list[tuple[str, int, int, float]] = [
        (r.doc_id, int(r.start_char), int(r.end_char), float(r.weight))
        for r in st.itertuples()
        if r.doc_id in docs.index
    ]
    if not regions:
        regions = [
            (r.doc_id, 0, len(docs.at[r.doc_id, "text"] or ""), float(r.weight)) for r in dt.itertuples()
        ]
    weights = _term_weights(terms)
    candidates: list[KeySentence] = []
    for doc_id, start, end, w in regions:
        text = docs.at[doc_id, "text"] or ""
        for s, e in sentence_spans(text, start, end):
            if data.in_boilerplate(text[s:e]):
                continue  # a disclaimer or footer says nothing about the theme
            score = _score(text[s:e], weights) * w
            if score > 0:
                candidates.append(
                    KeySentence(text[s:e], doc_id, str(docs.at[doc_id, "title"] or ""),
                                _str(docs.at[doc_id, "report_date"]), s, e, round(score, 4))
                )  # fmt: skip
    candidates.sort(key=lambda k: (-k.score, k.doc_id, k.start_char))
    per_doc: dict[str, int] = {}
    for k in candidates:
        if per_doc.get(k.doc_id, 0) < 2:
            summary.sentences.append(k)
            per_doc[k.doc_id] = per_doc.get(k.doc_id, 0) + 1
        if len(summary.sentences) == N_SENTENCES:
            break

    # entities: mentions in the theme's reports, weighted by the report's theme weight
    weight_of = dict(zip(dt["doc_id"], dt["weight"].astype(float), strict=True))
    m = data.mentions[data.mentions["doc_id"].isin(weight_of) & data.mentions["label"].isin(_ENTITY_LABELS)]
    m = m[
        ~m["in_boilerplate"].fillna(False).astype(bool)
    ]  # a venue in every newsletter's footer is not the theme's
    if not m.empty:
        m = m.assign(w=m["doc_id"].map(weight_of).astype(float), name=m["value"].fillna(m["text"]))
        per_doc_entity = m.groupby(["label", "name", "doc_id"], as_index=False)["w"].first()
        agg = per_doc_entity.groupby(["label", "name"], as_index=False).agg(
            score=("w", "sum"), n=("doc_id", "size")
        )
        for label in _ENTITY_LABELS:
            top = (
                agg[agg["label"] == label]
                .sort_values(["score", "name"], ascending=[False, True])
                .head(N_ENTITIES)
            )
            summary.entities[label] = [
                (str(r.name), round(float(r.score), 3), int(r.n)) for r in top.itertuples()
            ]

    months = (
        docs.loc[list(weight_of), "report_date"].dropna().astype(str).str[:7] if weight_of else pd.Series()
    )
    summary.timeline = sorted(months.value_counts().items()) if len(months) else []
    summary.documents = sorted(
        (
            (d, str(docs.at[d, "title"] or ""), _str(docs.at[d, "report_date"]), round(w, 3))
            for d, w in weight_of.items()
        ),
        key=lambda x: -x[3],
    )
    return summary


def _str(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


# ---------------------------------------------------------------------------------------------- render


def summarize(out_dir: str | Path = "outputs", theme: str | int | None = None, fmt: str = "md") -> str:
    """Summary of one theme (id, key or label) or, without ``theme``, a corpus overview; Markdown or HTML.

    Raises :class:`~reportminer.errors.QueryError` for an unknown theme or format and
    :class:`~reportminer.errors.OutputError` when the output folder lacks the tables.
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; use md or html")
    data = _load(Path(out_dir))
    if theme is not None and str(theme).strip():
        summaries = [theme_summary(data, _resolve_theme(data.themes, theme))]
        overview = None
    else:
        summaries = [theme_summary(data, r) for _, r in data.themes.sort_values("theme_id").iterrows()]
        overview = _overview(data, summaries)
    if fmt == "md":
        return _markdown(summaries, overview)
    return _html(
        summaries, overview, _maps(Path(out_dir), None if overview is not None else summaries[0].theme_id)
    )


def _maps(out_dir: Path, theme_id: int | None) -> list[tuple[str, str]]:
    """The maps of :mod:`reportminer.maps` for the HTML summary (none when they cannot be drawn)."""
    try:
        from reportminer.maps import map_figures

        return map_figures(out_dir, theme_id=theme_id)
    except ImportError:  # matplotlib missing: the text summary stands alone
        log.warning("matplotlib is not installed; the HTML summary has no maps")
        return []


def _overview(data: _Outputs, summaries: list[ThemeSummary]) -> dict:
    dates = data.documents["report_date"].dropna().astype(str)
    m = data.mentions[data.mentions["label"].isin(_ENTITY_LABELS)]
    m = m.assign(name=m["value"].fillna(m["text"]))
    top = {
        label: [
            (str(name), int(n))
            for name, n in m[m["label"] == label].groupby("name")["doc_id"].nunique()
            .sort_values(ascending=False, kind="stable").head(N_ENTITIES).items()
        ]
        for label in _ENTITY_LABELS
    }  # fmt: skip
    return {
        "n_documents": len(data.documents),
        "first_date": dates.min() if len(dates) else None,
        "last_date": dates.max() if len(dates) else None,
        "n_undated": int(data.documents["report_date"].isna().sum()),
        "entities": top,
        "themes": summaries,
    }


def _md_escape(text: str) -> str:
    """Report text inside Markdown: no raw HTML, no line breaks, table pipes escaped."""
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _markdown(summaries: list[ThemeSummary], overview: dict | None) -> str:
    lines: list[str] = []
    if overview is not None:
        lines += [
            "# Themes of the corpus",
            "",
            f"{overview['n_documents']} reports, dated {overview['first_date'] or '?'} to "
            f"{overview['last_date'] or '?'} ({overview['n_undated']} undated).",
            "",
            "| id | key | theme | reports | top terms |",
            "|---|---|---|---|---|",
        ]
        for s in summaries:
            lines.append(
                f"| {s.theme_id} | {s.key} | {_md_escape(s.label)} | {s.n_docs} | {_md_escape(', '.join(s.terms[:6]))} |"
            )
        lines += ["", "## Most mentioned entities", ""]
        for label, title in _ENTITY_LABELS.items():
            names = ", ".join(f"{_md_escape(n)} ({k})" for n, k in overview["entities"].get(label, []))
            lines.append(f"- **{title}:** {names or '–'}")
        lines.append("")
    for s in summaries:
        lines += [
            f"{'##' if overview is not None else '#'} {_md_escape(s.label)} (theme {s.theme_id}, `{s.key}`)",
            "",
        ]
        lines += [f"**Terms:** {_md_escape(', '.join(s.terms))}", "", f"**Reports:** {len(s.documents)}", ""]
        if s.sentences:
            lines += ["**Key sentences:**", ""]
            for k in s.sentences:
                lines.append(
                    f"- „{_md_escape(k.text)}“ — *{_md_escape(k.title)}* ({k.report_date or 'undated'}; "
                    f"doc_id `{k.doc_id}`, chars {k.start_char}–{k.end_char})"
                )
            lines.append("")
        for label, title in _ENTITY_LABELS.items():
            ents = s.entities.get(label) or []
            if ents:
                lines.append(
                    f"- **{title}:** " + ", ".join(f"{_md_escape(n)} ({k} reports)" for n, _, k in ents)
                )
        if s.timeline:
            lines += ["", "**Timeline:** " + ", ".join(f"{m}: {n}" for m, n in s.timeline)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _png(fig, dpi: int = 90) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def theme_periods(summaries: list[ThemeSummary]) -> tuple[np.ndarray, list[str], str] | None:
    """Reports per theme (rows) and period (columns) from the themes' monthly timelines: quarters when the
    reports span up to three years, else years (so 1 to 20 years stay readable). None without dates."""
    months = sorted({m for s in summaries for m, _ in s.timeline if len(m) == 7})
    if not months:
        return None
    years = sorted({int(m[:4]) for m in months})
    by_quarter = years[-1] - years[0] < 3

    def period(month: str) -> str:
        return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}" if by_quarter else month[:4]

    if by_quarter:
        periods = [f"{y}-Q{q}" for y in range(years[0], years[-1] + 1) for q in range(1, 5)]
        first, last = period(months[0]), period(months[-1])
        periods = periods[periods.index(first) : periods.index(last) + 1]
    else:
        periods = [str(y) for y in range(years[0], years[-1] + 1)]
    column = {p: j for j, p in enumerate(periods)}
    counts = np.zeros((len(summaries), len(periods)), dtype=int)
    for i, s in enumerate(summaries):
        for month, n in s.timeline:
            if len(month) == 7:
                counts[i, column[period(month)]] += n
    return counts, periods, "quarter" if by_quarter else "year"


def _plots(summaries: list[ThemeSummary]) -> list[tuple[str, str]]:
    """(alt text, base64 PNG) of the theme-frequency-over-time and entity-theme plots."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # plots are optional; the text summary stands alone
        log.warning("matplotlib is not installed; the HTML summary has no plots")
        return []
    out = []
    heat = theme_periods(summaries)
    if heat is not None:
        counts, periods, unit = heat
        labels = [s.label for s in summaries]
        fig, ax = plt.subplots(figsize=(min(2.5 + 0.45 * len(periods), 12), 0.9 + 0.38 * len(labels)))
        image = ax.imshow(counts, aspect="auto", cmap="Blues", vmin=0)
        ax.set_xticks(range(len(periods)), periods, rotation=45 if len(periods) > 8 else 0, ha="right"
                      if len(periods) > 8 else "center", fontsize=8)  # fmt: skip
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        if counts.size <= 400:  # the number in each cell while it stays legible
            top = counts.max() or 1
            for (i, j), n in np.ndenumerate(counts):
                if n:
                    ax.text(j, i, str(int(n)), ha="center", va="center", fontsize=7,
                            color="white" if n > top / 2 else "black")  # fmt: skip
        ax.set_title(f"Reports per theme and {unit}")
        fig.colorbar(image, ax=ax, label="reports", fraction=0.03)
        out.append((f"Themes over time: reports per theme and {unit}", _png(fig)))
    bars = [
        (f"{n} · {s.label}" if len(summaries) > 1 else n, score)
        for s in summaries
        for label in ("ORG", "PER", "LOC")
        for n, score, _ in (s.entities.get(label) or [])[:3]
    ]
    if bars:
        bars = sorted(bars, key=lambda b: b[1])[-15:]
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(bars) + 1))
        ax.barh([b[0] for b in bars], [b[1] for b in bars], color="#4c72b0")
        ax.set_xlabel("association (sum of report theme weights)")
        ax.set_title(
            "Entities most associated with " + ("the themes" if len(summaries) > 1 else summaries[0].label)
        )
        ax.tick_params(axis="y", labelsize=7)
        out.append(("Entity–theme association", _png(fig)))
    return out


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
    "blockquote{margin:.3rem 0 .8rem 1rem;color:#333}.src{color:#666;font-size:.9em}img{max-width:100%}"
)


def _html(
    summaries: list[ThemeSummary], overview: dict | None, maps: list[tuple[str, str]] | None = None
) -> str:
    e = html.escape
    title = "Themes of the corpus" if overview is not None else f"Theme: {summaries[0].label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="de"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if overview is not None:
        parts.append(
            f"<p>{overview['n_documents']} reports, dated {e(overview['first_date'] or '?')} to "
            f"{e(overview['last_date'] or '?')} ({overview['n_undated']} undated).</p>"
        )
        parts.append(
            "<table><tr><th>id</th><th>key</th><th>theme</th><th>reports</th><th>top terms</th></tr>"
        )
        for s in summaries:
            parts.append(
                f'<tr><td>{s.theme_id}</td><td>{e(s.key)}</td><td><a href="#theme-{s.theme_id}">{e(s.label)}</a></td>'
                f"<td>{s.n_docs}</td><td>{e(', '.join(s.terms[:6]))}</td></tr>"
            )
        parts.append("</table><h2>Most mentioned entities</h2><ul>")
        for label, name in _ENTITY_LABELS.items():
            items = ", ".join(f"{e(n)} ({k})" for n, k in overview["entities"].get(label, []))
            parts.append(f"<li><b>{name}:</b> {items or '–'}</li>")
        parts.append("</ul>")
    for alt, png in _plots(summaries):
        parts.append(
            f'<figure><img alt="{e(alt)}" src="data:image/png;base64,{png}"><figcaption>{e(alt)}</figcaption></figure>'
        )
    if maps:
        from reportminer.maps import figure_html

        parts.extend(figure_html(alt, png) for alt, png in maps)
    for s in summaries:
        parts.append(
            f'<section id="theme-{s.theme_id}"><h2>{e(s.label)} <small>(theme {s.theme_id}, {e(s.key)})</small></h2>'
        )
        parts.append(f"<p><b>Terms:</b> {e(', '.join(s.terms))}</p><p><b>Reports:</b> {len(s.documents)}</p>")
        if s.sentences:
            parts.append("<h3>Key sentences</h3>")
            for k in s.sentences:
                parts.append(
                    f'<blockquote data-doc-id="{e(k.doc_id)}" data-start="{k.start_char}" data-end="{k.end_char}">'
                    f'„{e(k.text)}“<br><span class="src">{e(k.title)} ({e(k.report_date or "undated")}; '
                    f"doc_id {e(k.doc_id)}, chars {k.start_char}–{k.end_char})</span></blockquote>"
                )
        items = [
            f"<li><b>{title}:</b> "
            + ", ".join(f"{e(n)} ({k} reports)" for n, _, k in s.entities[label])
            + "</li>"
            for label, title in _ENTITY_LABELS.items()
            if s.entities.get(label)
        ]
        if items:
            parts.append("<h3>Entities</h3><ul>" + "".join(items) + "</ul>")
        if s.timeline:
            parts.append("<p><b>Timeline:</b> " + ", ".join(f"{e(m)}: {n}" for m, n in s.timeline) + "</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
