"""Claim cards: one book page per seed article, one card per claim, each with a stable anchor.

A card says in the reader's words what ``python -m analysis explain CLAIM_ID`` prints: the quote,
the verdict (colour and word), claimed vs rebuilt with the 90% interval, every check with its result
(the one the verdict rests on marked), the reading, the inputs with value, unit, basis and source, the
rule, the assumption that moves the result most, and a line to cite the card. Both read the same
:class:`analysis.ledger.engine.Row` (``Study.ledger_rows()``), so they cannot disagree.

The cards follow the article: claims in the order their quotes occur in the seed, under the seed's
own section headings (``data/seed_headings.csv``, each a whole line of its seed). The seeds are not
part of the repository, so where each quote sits is committed as ``results/claim_sections.csv``,
written by :func:`write_claim_sections` (``python -m analysis.cards`` with the seeds at hand) and
checked against the seeds by ``tests/test_cards.py``.

URL of a card: ``notebooks/claims-seed-000.html#s0-024`` (see :func:`analysis.book.card_href`).

    >>> from analysis.cards import seed_cards
    >>> seed_cards("000")          # in notebooks/claims-seed-000.ipynb: the whole page's cards
"""
from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd

from .book import DOWNLOADS, VERDICT_COLOURS, _claimed_text, _interval_text, card_anchor, card_href, card_page
from .ledger import check_summary
from .ledger.engine import _fmt
from .paths import DATA_DIR, REPO

HEADINGS_CSV = DATA_DIR / "seed_headings.csv"
SECTIONS_CSV = REPO / "results" / "claim_sections.csv"
SECTION_COLUMNS = ["claim_id", "seed_file", "offset", "section"]
#: what a claim before the seed's first heading is filed under
NO_HEADING = "(before the first heading)"


# --------------------------------------------------------------------------------------------
# where each claim sits in its article

def claim_sections(claims: pd.DataFrame, headings: pd.DataFrame, seeds: Path) -> pd.DataFrame:
    """claim_id, seed_file, offset, section: the character offset of each quote's first occurrence in
    its seed, and the last heading line (of ``headings``) that starts before it.

    A heading must be a whole line of its seed and a quote must occur verbatim; either missing is a
    StudyInputError naming the row.
    """
    from .errors import StudyInputError

    texts, starts = {}, {}
    for seed in sorted(set(claims.seed_file)):
        text = (Path(seeds) / seed).read_text(encoding="utf-8")
        texts[seed] = text
        pos = []
        for k, h in enumerate(headings[headings.seed_file == seed].heading):
            at = ("\n" + text).find("\n" + h + "\n")
            if at < 0 and text.endswith("\n" + h):
                at = len(text) - len(h) - 1
            if at < 0:
                raise StudyInputError(str(HEADINGS_CSV.relative_to(REPO)), f"heading {h!r} is not a whole line of {seed}",
                                      expected="a heading line copied verbatim from the seed")
            pos.append((at, h))
        starts[seed] = sorted(pos)
    out = []
    for r in claims.itertuples(index=False):
        at = texts[r.seed_file].find(r.quote)
        if at < 0:
            raise StudyInputError("data/claims.csv", f"quote not found verbatim in {r.seed_file}", key=r.claim_id,
                                  field="quote", expected="the seed's exact words")
        section = NO_HEADING
        for h_at, h in starts[r.seed_file]:
            if h_at <= at:
                section = h
        out.append({"claim_id": r.claim_id, "seed_file": r.seed_file, "offset": at, "section": section})
    return pd.DataFrame(out, columns=SECTION_COLUMNS)


def write_claim_sections(seeds: Path, path: Path = SECTIONS_CSV) -> Path:
    """Write results/claim_sections.csv from the seeds (byte-identical for the same inputs)."""
    from . import load_datasets

    df = claim_sections(load_datasets().claims, pd.read_csv(HEADINGS_CSV, keep_default_na=False), seeds)
    Path(path).write_text(df.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return Path(path)


def load_claim_sections(path: Path = SECTIONS_CSV) -> pd.DataFrame:
    from .errors import StudyInputError

    p = Path(path)
    if not p.is_file():
        raise StudyInputError(str(p), "no such file", expected="results/claim_sections.csv "
                              "(python -m analysis.cards with SEEDS_DIR set writes it)")
    return pd.read_csv(p, keep_default_na=False)


def article_order(rows, sections: pd.DataFrame) -> list[tuple[str, list]]:
    """[(section heading, [rows])] in the article's order: by each quote's offset, ties by claim id.

    A claim missing from ``sections`` is an error (the committed file is stale)."""
    from .errors import StudyInputError

    where = {r.claim_id: (r.offset, r.section) for r in sections.itertuples(index=False)}
    missing = [r.claim_id for r in rows if r.claim_id not in where]
    if missing:
        raise StudyInputError(str(SECTIONS_CSV.relative_to(REPO)), f"no row for {', '.join(missing[:5])}",
                              expected="one row per claim (rerun python -m analysis.cards with SEEDS_DIR set)")
    ordered = sorted(rows, key=lambda r: (where[r.claim_id][0], r.claim_id))
    out: list[tuple[str, list]] = []
    for r in ordered:
        sec = where[r.claim_id][1]
        if not out or out[-1][0] != sec:
            out.append((sec, []))
        out[-1][1].append(r)
    return out


# --------------------------------------------------------------------------------------------
# one card

def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _value_text(v) -> str:
    """A value as explain prints it (numbers via the ledger's formatter)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _fmt(v)
    return str(v)


def _source_html(source: str, sources: dict[str, str]) -> str:
    """A source id or seed file as a link: its URL, the bibliography, or the card of a quoted claim."""
    loc = sources.get(source, source)
    if loc.startswith(("http://", "https://")):
        return f'<a href="{_e(loc)}"><code>{_e(source)}</code></a>'
    if source in sources or source.endswith(".txt"):
        return f'<a href="A3_bibliography.html"><code>{_e(source)}</code></a>'
    return f"<code>{_e(source)}</code>"


def _input_key_html(key: str) -> str:
    if key.startswith("claim.S"):  # a number the seed states elsewhere (claim.S0-009[.high]): its own card
        cid, *rest = key.split(".")[1:]
        tail = f"<code>{''.join('.' + _e(x) for x in rest)}</code>" if rest else ""
        return f'<code>claim.</code><a href="{card_href(cid)}"><code>{_e(cid)}</code></a>{tail}'
    return f"<code>{_e(key)}</code>"


def cite_line(claim_id: str, citation: dict) -> str:
    """'"<title>", v<version>, claim S0-024, notebooks/claims-seed-000.html#s0-024'."""
    return (f'"{citation["title"]}", v{citation["version"]}, claim {claim_id}, '
            f"notebooks/{card_page(claim_id)}.html#{card_anchor(claim_id)}")


def citation_meta() -> dict:
    """Title (before any dash subtitle) and version of the study, from CITATION.cff."""
    import yaml

    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    return {"title": str(cff["title"]).split(" — ")[0], "version": str(cff["version"])}


def _unit_left_out(unit) -> bool:
    """True when :mod:`analysis.fmt` writes a number of this unit without it (chip, year, count...)."""
    from . import fmt

    return bool(unit) and unit != "date" and fmt.quantity(1.0, unit) == fmt.quantity(1.0, "")


def card_html(row, *, kind: str, subject: str, sources: dict[str, str], citation: dict) -> str:
    """One claim's card (deterministic HTML; every value escaped)."""
    cid, verdict = row.claim_id, row.verdict
    colour = VERDICT_COLOURS.get(verdict, "#ffffff")
    parts = [f'<section class="claim-card" id="{card_anchor(cid)}" data-claim="{_e(cid)}" data-verdict="{_e(verdict)}">',
             f'<div class="claim-card-head"><a class="claim-card-id" href="#{card_anchor(cid)}">{_e(cid)}</a> '
             f'<span class="claim-verdict" style="background-color: {colour}">{_e(verdict)}</span> '
             f'<span class="claim-kind">{_e(kind)} · {_e(subject)}</span></div>',
             f'<blockquote class="claim-quote">{_e(row.quote)}</blockquote>']
    claimed = _claimed_text(row)
    rebuilt = _interval_text(row)
    ratio = "" if row.ratio is None or (isinstance(row.ratio, float) and math.isnan(row.ratio)) \
        else f"; claimed / rebuilt = {_e(_fmt(row.ratio))}"
    # the formatter writes most units itself (and rescales them: 1,299 TFLOPS -> 1.299 PFLOPS); only a
    # unit it leaves out (chip, year, count...) is added after the number
    unit = f" {_e(row.unit)}" if _unit_left_out(row.unit) else ""
    parts.append('<dl class="claim-facts">'
                 f"<dt>Claimed</dt><dd>{_e(claimed)}{unit if row.claimed is not None else ''}</dd>"
                 f"<dt>Rebuilt (90% interval)</dt><dd>{_e(rebuilt) or 'nothing to rebuild'}"
                 f"{unit if rebuilt and not isinstance(row.rebuilt, bool) and row.unit != 'date' else ''}{ratio}</dd>"
                 f"<dt>Reading</dt><dd>{_e(row.reading)}</dd>"
                 f"<dt>Model</dt><dd><code>{_e(row.model)}</code> (evidence: {_e(row.evidence)})</dd>"
                 "</dl>")
    for subject_, exists in row.premise:
        parts.append(f'<p class="claim-premise">Premise: <code>{_e(subject_)}</code> exists: {_e(_value_text(exists))}</p>')
    rests = row.rests_on or ("the premise" if row.evidence == "premise" else "none")
    items = []
    for c in row.checks:
        mark = c["label"] == row.rests_on
        others = "".join(
            f"<li>other reading <em>{_e(o['label'])}</em>: {_e(_value_text(o['rebuilt']))}"
            + (f" ({_e(_fmt(o['low']))} – {_e(_fmt(o['high']))})" if o.get("low") is not None else "")
            + f" {_e(o['outcome'])}</li>" for o in c.get("others", []))
        items.append(f'<li class="claim-check{" rests-on" if mark else ""}">'
                     + ("<strong>the verdict rests on this check:</strong> " if mark else "")
                     + f"{_e(check_summary(c))}<br><span class=\"claim-check-text\">{_e(c['text'])}</span>"
                     + (f"<ul>{others}</ul>" if others else "") + "</li>")
    parts.append(f'<p class="claim-checks-head">Checks ({len(row.checks)}); the verdict rests on: {_e(rests)}</p>'
                 f'<ol class="claim-checks">{"".join(items)}</ol>')
    parts.append(f'<p class="claim-rule">Rule: {_e(row.rule)} — verdict <strong>{_e(verdict)}</strong>.</p>')
    if row.inputs:
        trs = "".join(f"<tr><td>{_input_key_html(i.key)}</td><td>{_e(_value_text(i.value))}</td><td>{_e(i.unit)}</td>"
                      f"<td>{_e(i.basis)}</td><td>{_source_html(i.source, sources)}</td></tr>" for i in row.inputs)
        parts.append('<div class="claim-inputs"><table class="claim-inputs-table"><thead><tr><th>input</th>'
                     "<th>value</th><th>unit</th><th>basis</th><th>source</th></tr></thead>"
                     f"<tbody>{trs}</tbody></table></div>")
    else:
        parts.append('<p class="claim-inputs-none">Inputs: none (constants of the claim\'s own statement).</p>')
    if row.sensitivity:
        a, s = row.sensitivity[0]
        more = ", ".join(f"<code>{_e(a2)}</code> ({_e(_fmt(s2))})" for a2, s2 in row.sensitivity[1:4])
        parts.append(f'<p class="claim-moves">Moves it most: <code>{_e(a)}</code> (low to high swings the result by '
                     f"{_e(_fmt(s))}{f' {_e(row.unit)}' if row.unit else ''})" + (f"; then {more}" if more else "")
                     + ".</p>")
    else:
        parts.append('<p class="claim-moves">Moves it most: no scenario assumption (the result rests on data '
                     "and the claim alone).</p>")
    parts.append(f'<p class="claim-cite">Cite this claim: <code>{_e(cite_line(cid, citation))}</code></p>')
    parts.append("</section>")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# one page

class CardsPage:
    """The cards of one seed, section by section; displays as Markdown headings plus HTML cards."""

    def __init__(self, seed: str, blocks: list[tuple[str, str]]):
        self.seed, self.blocks = seed, blocks  # [(section heading, cards html)]

    def display(self) -> None:
        from IPython.display import HTML, Markdown, display

        for heading, cards in self.blocks:
            display(Markdown("## " + _markdown_heading(heading)))
            display(HTML(f'<div class="claim-cards">{cards}</div>'))

    def __repr__(self) -> str:
        n = sum(c.count('class="claim-card"') for _, c in self.blocks)
        return f"<CardsPage seed {self.seed}: {n} cards in {len(self.blocks)} sections>"


def _markdown_heading(text: str) -> str:
    """A seed heading as literal Markdown heading text (no emphasis, roles or links)."""
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_{}[]<>()#+!|$" else ch)
    return "".join(out)


def seed_cards(seed: str, st) -> CardsPage:
    """Every claim of seed ``seed`` ("000".."004") as cards under the article's headings."""
    rows = [r for r in st.ledger_rows() if r.seed_file.startswith(seed + "_")]
    claims = st.ds.claims.set_index("claim_id")
    sources = dict(zip(st.ds.sources.source_id, st.ds.sources.location))
    citation = citation_meta()
    blocks = []
    for heading, part in article_order(rows, load_claim_sections()):
        cards = "\n".join(card_html(r, kind=claims.loc[r.claim_id, "kind"], subject=claims.loc[r.claim_id, "subject"],
                                    sources=sources, citation=citation) for r in part)
        blocks.append((heading, cards))
    return CardsPage(seed, blocks)


def seed_summary(seed: str, st) -> dict:
    """Title, publisher, date and verdict counts of one seed, for its page's opening lines."""
    from .ledger.rules import VERDICTS

    src = st.ds.sources
    s = src[(src.kind == "seed_article") & src.location.str.startswith(seed + "_")].iloc[0]
    rows = [r for r in st.ledger_rows() if r.seed_file.startswith(seed + "_")]
    counts = {v: sum(r.verdict == v for r in rows) for v in VERDICTS}
    return {"source_id": s.source_id, "title": s.title, "publisher": s.publisher, "date": s.date or "undated",
            "file": s.location, "n_claims": len(rows), "counts": counts}


def seed_intro_markdown(seed: str, st) -> str:
    """The page's opening paragraph (Markdown; the counts are computed, never typed)."""
    d = seed_summary(seed, st)
    counts = ", ".join(f"{n} {v}" for v, n in d["counts"].items() if n)
    return (f"*{d['title']}* ({d['publisher']}, {d['date']}; `{d['file']}`, source `{d['source_id']}` in the "
            f"bibliography). The study registers {d['n_claims']} claims in it: {counts}. "
            "Each card below quotes one claim (never the article whole), gives its verdict and how it was "
            "reached; its id is a stable link.")


def show_seed(seed: str, scenario: str | None = None) -> None:
    """What a card notebook runs: the seed's intro and its cards, under ``scenario`` (None = baseline)."""
    from IPython.display import Markdown, display

    from .book import scenario_path
    from .study import load_study

    st = load_study(scenario_path(scenario))
    display(Markdown(seed_intro_markdown(seed, st)))
    seed_cards(seed, st).display()


if __name__ == "__main__":  # python -m analysis.cards: rewrite results/claim_sections.csv from the seeds
    import sys

    from .paths import seeds_dir

    d = seeds_dir()
    if d is None:
        print("error: seed articles not found; set SEEDS_DIR or place them at ../shared/seeds", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {write_claim_sections(d).relative_to(REPO)}")


# --------------------------------------------------------------------------------------------
# the ledger appendix: an interactive table that works offline

LEDGER_FILTERS = ["verdict", "seed", "kind", "chip"]


def ledger_frame(rows, claims: pd.DataFrame, chips) -> pd.DataFrame:
    """The appendix's columns: the book's ledger table plus seed, kind, chip (the subject when it is a
    chip of data/chips.csv, else '(not a chip)') and the assumption that moves the result most."""
    from .book import ledger_table_frame

    by_id = claims.set_index("claim_id")
    chips = set(chips)
    frame = ledger_table_frame(rows)
    frame.insert(1, "seed", [r.seed_file[:3] for r in rows])
    frame.insert(2, "kind", [by_id.loc[r.claim_id, "kind"] for r in rows])
    subj = [by_id.loc[r.claim_id, "subject"] for r in rows]
    frame.insert(3, "chip", [s if s in chips else "(not a chip)" for s in subj])
    frame["moves it most"] = [r.sensitivity[0][0] if r.sensitivity else "" for r in rows]
    return frame


class LedgerTable:
    """The ledger as a DataTables table (itables, its JavaScript bundle embedded: nothing is loaded
    from the internet): sortable, searchable, paged, with filter panes for verdict, seed, kind and
    chip, scrolling inside its own box, and links to the page's CSV and JSON exports."""

    #: columns shown clamped to three lines (the whole text on hover, and on the claim's card)
    LONG = ("quote", "why")

    def __init__(self, frame: pd.DataFrame, label: str = "tbl-ledger"):
        self.frame, self.label = frame, label

    def display_frame(self) -> pd.DataFrame:
        """The frame as the table shows it: every cell HTML-escaped except the claim links, long texts
        wrapped to be clamped."""
        out = self.frame.copy()
        for col in out.columns:
            if col == "claim":
                continue
            out[col] = [_e("" if v is None else v) for v in out[col]]
            if col in self.LONG:
                out[col] = [f'<span class="ledger-clamp">{v}</span>' for v in out[col]]
        return out

    def options(self) -> dict:
        from itables import JavascriptFunction

        cols = list(self.frame.columns)
        colours = ", ".join(f'"{k}": "{v}"' for k, v in sorted(VERDICT_COLOURS.items()))
        return dict(
            table_id=f"{self.label}-datatable", connected=False, allow_html=True, maxBytes=0, scrollX=True,
            classes="display compact nowrap study-ledger-table", pageLength=25, lengthMenu=[10, 25, 50, 100, 500],
            order=[], showIndex=False, display_logo_when_loading=False,
            layout={"top1": "searchPanes", "topStart": "pageLength", "topEnd": "search",
                    "bottomStart": "info", "bottomEnd": "paging"},
            searchPanes={"columns": [cols.index(c) for c in LEDGER_FILTERS], "layout": "columns-4",
                         "cascadePanes": True, "initCollapsed": False, "threshold": 1},
            columnDefs=[{"targets": cols.index("verdict"), "createdCell": JavascriptFunction(
                "function (td, cellData) { var c = {" + colours + "}[cellData]; "
                "if (c) { td.style.backgroundColor = c; } }")}],
        )

    def _repr_html_(self) -> str:
        from itables import to_html_datatable
        from itables.javascript import generate_init_offline_itables_html
        from itables.options import dt_bundle

        downloads = (f'<p class="study-downloads">Download this ledger: '
                     f'<a href="../_static/{DOWNLOADS}/ledger.csv" download>ledger.csv</a> · '
                     f'<a href="../_static/{DOWNLOADS}/ledger.json" download>ledger.json</a></p>')
        return (downloads + generate_init_offline_itables_html(dt_bundle)
                + f'<div class="study-ledger">{to_html_datatable(self.display_frame(), **self.options())}</div>')

    def __repr__(self) -> str:
        return f"<LedgerTable {self.label}: {len(self.frame)} rows>"


def ledger_table(st, label: str = "tbl-ledger") -> LedgerTable:
    return LedgerTable(ledger_frame(st.ledger_rows(), st.ds.claims, st.ds.chips.chip_id), label)
