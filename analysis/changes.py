"""What changed: every verdict and every glued number of a scenario build that differs from the baseline.

The baseline is what is committed: the glued numbers stored in the outputs of ``notebooks/*.ipynb``
(myst-nb ``glue`` records, mime type ``application/papermill.record/text/plain``) and the verdicts of
``results/ledger.csv``. The scenario's side is the notebooks the build has just executed and the
scenario's ledger. The page also lists the claims whose rebuilt value moved with an unchanged verdict
(``analysis.ledger.diff``), so a scenario that flips no verdict still shows what it moved. :func:`stage` is the one call ``analysis.book.build`` makes: it writes the page
``notebooks/changes.md`` into the build's staging tree (linked from the scenario banner) and, for every
build, the ledger exports the ledger appendix offers for download.

    >>> glue_changes({"03_inference": {"x": "1.0"}}, {"03_inference": {"x": "2.0"}})
    [{'notebook': '03_inference', 'name': 'x', 'before': '1.0', 'after': '2.0'}]
"""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from .paths import NOTEBOOK_DIR, REPO

GLUE_MIME = "application/papermill.record/text/plain"
CHANGES_DOC = "notebooks/changes"   # the page's docname (book/_ext/study_book.py links the banner to it)
BASELINE_LEDGER = REPO / "results" / "ledger.csv"
ABSENT = "(absent)"


def glued_values(nb) -> dict[str, str]:
    """name -> stored text of every value glued in an executed notebook (a name glued twice: the last)."""
    out = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []) or []:
            name = (o.get("metadata") or {}).get("scrapbook", {}).get("name")
            data = o.get("data") or {}
            if name and GLUE_MIME in data:
                text = data[GLUE_MIME]
                out[name] = "".join(text) if isinstance(text, list) else str(text)
    return out


def notebooks_glue(folder: Path, names: list[str] | None = None) -> dict[str, dict[str, str]]:
    """notebook stem -> its glued values, for every (or the named) .ipynb in ``folder``."""
    import nbformat

    paths = sorted(Path(folder).glob("*.ipynb")) if names is None else [Path(folder) / f"{n}.ipynb" for n in names]
    return {p.stem: glued_values(nbformat.read(p, as_version=4)) for p in paths if p.is_file()}


def glue_changes(base: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[dict]:
    """Every glued value whose stored text differs (or that exists on one side only), notebook by
    notebook in the order of ``new`` then name order."""
    out = []
    for nb_name, values in new.items():
        before = base.get(nb_name, {})
        for name in sorted(set(values) | set(before)):
            b, a = before.get(name, ABSENT), values.get(name, ABSENT)
            if a != b:
                out.append({"notebook": nb_name, "name": name, "before": b, "after": a})
    return out


def verdict_changes(base: pd.DataFrame, rows, claims: pd.DataFrame) -> list[dict]:
    """Every claim whose verdict differs from a baseline ledger export (see analysis.ledger.diff_from)."""
    from .ledger import diff_from

    return diff_from(base, rows, claims)[0]


def _plain(text: str) -> str:
    """A stored glue text as a reader sees it: a string's repr without its quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _value(v, unit: str = "") -> str:
    """A rebuilt value for readers (:func:`analysis.fmt.exact`, to 6 significant figures so that a
    small move shows): yes/no for a statement, '' for none."""
    from . import fmt

    if isinstance(v, bool) or v is None:
        return "" if v is None else fmt.yes_no(v)
    return fmt.exact(v, unit or "", max_sig=6) if isinstance(v, (int, float)) else str(v)


def _glued(text: str) -> str:
    """A stored glue value for readers: a number written by :func:`_value` (no e-notation), a string
    without its quotes."""
    try:
        return _value(float(text))
    except ValueError:
        return _plain(text)


def _title(nb_path: Path) -> str:
    """A notebook's first '# ' heading (its page title), else its file stem."""
    import nbformat

    if nb_path.is_file():
        for cell in nbformat.read(nb_path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
    return nb_path.stem


def moved_claims(base_rows, rows, changed_keys: list[str]) -> list[dict]:
    """Claims whose rebuilt value, interval or a check moved but whose verdict did not (analysis.ledger.diff)."""
    from .ledger import diff

    return [d for d in diff(base_rows, rows, changed_keys) if d["verdict_before"] == d["verdict_after"]]


def _html_table(name: str, headers: list[str], cells: list[list[str]]) -> str:
    """One of the page's tables: ``cells`` are already-escaped HTML, one list per row."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in cells)
    return (f'<div class="study-changes"><table class="study-table changes-{name}" id="changes-{name}">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def changes_markdown(scenario_name: str, verdicts: list[dict], glue: list[dict], titles: dict[str, str],
                     moved: list[dict] | None = None) -> str:
    """The 'What changed' page (MyST Markdown with HTML tables; links relative to notebooks/)."""
    from .book import claim_link

    e = html.escape
    lines = ["(what-changed)=", "# What changed under this scenario", "",
             f"This book was built under the scenario **{e(scenario_name)}**. The first table lists every "
             "claim whose verdict differs from the baseline (`results/ledger.csv`); the second every number "
             "glued into the prose or tables whose value differs from the committed (baseline) notebooks, "
             "with both values to six significant figures. Claim ids link to their cards.", "",
             f"## Verdicts that changed ({len(verdicts)})", ""]
    if verdicts:
        lines += [_html_table("verdicts", ["claim", "baseline verdict", "this scenario", "why"], [
            [claim_link(v["claim_id"]) if v["verdict_after"] else e(v["claim_id"]), e(v["verdict_before"] or ABSENT),
             e(v["verdict_after"] or ABSENT), e(v["why"])] for v in verdicts]), ""]
    else:
        lines += ["No verdict differs from the baseline.", ""]
    if moved is not None:
        lines += [f"## Claims whose rebuilt value moved, verdict unchanged ({len(moved)})", ""]
        if moved:
            lines += [_html_table("moved", ["claim", "verdict (both)", "baseline rebuilt", "this scenario",
                                            "moved by"], [
                [claim_link(m["claim_id"]), e(m["verdict_after"]), e(_value(m["rebuilt_before"], m["unit"])),
                 e(_value(m["rebuilt_after"], m["unit"])), "<br>".join(e(w) for w in m["why"].split(", "))]
                for m in moved]), ""]
        else:
            lines += ["No rebuilt value moved.", ""]
    lines += [f"## Glued numbers that changed ({len(glue)})", ""]
    if glue:
        lines += [_html_table("glue", ["page", "glued name", "baseline", "this scenario"], [
            [f'<a href="{e(g["notebook"])}.html">{e(titles.get(g["notebook"], g["notebook"]))}</a>',
             f"<code>{e(g['name'])}</code>", e(_glued(g["before"])), e(_glued(g["after"]))] for g in glue]), ""]
    else:
        lines += ["No glued number differs from the baseline.", ""]
    return "\n".join(lines)


def chapter_note(glue: list[dict]) -> str:
    """A MyST note for the top of a chapter: its glued numbers that differ from the baseline, both values."""
    items = "; ".join(f"`{g['name']}` {_glued(g['before'])} → {_glued(g['after'])}" for g in glue)
    return (":::{note}\n"
            f"Under this scenario {len(glue)} number(s) on this page differ from the baseline (baseline → this "
            f"scenario): {items}. See {{ref}}`what changed <what-changed>`.\n:::")


def mark_chapters(notebook_dir: Path, glue: list[dict]) -> list[Path]:
    """Insert :func:`chapter_note` after the title cell of every staged notebook with a changed glued number."""
    import nbformat

    by_nb: dict[str, list[dict]] = {}
    for g in glue:
        by_nb.setdefault(g["notebook"], []).append(g)
    out = []
    for name, items in by_nb.items():
        path = Path(notebook_dir) / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(chapter_note(items)))
        nbformat.write(nb, path)
        out.append(path)
    return out


def write_downloads(src: Path, rows) -> list[Path]:
    """The ledger appendix's downloads: this build's ledger as CSV and JSON in ``<src>/_assets/downloads``
    (served as ``_static/downloads``; byte-identical to results/ledger.* under the baseline)."""
    from .book import _write_if_changed  # unchanged bytes keep their mtime: Sphinx copies nothing anew
    from .cards import DOWNLOADS
    from .ledger import export

    d = Path(src) / "_assets" / DOWNLOADS
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in ("csv", "json"):
        out.append(_write_if_changed(d / f"ledger.{fmt}", export(rows, fmt).encode("utf-8")))
    return out


def write_changes_page(src: Path, scenario_name: str, rows, claims: pd.DataFrame, moved: list[dict] | None = None,
                       baseline_notebooks: Path = NOTEBOOK_DIR, baseline_ledger: Path = BASELINE_LEDGER) -> Path:
    """Compare the executed notebooks in ``<src>/notebooks`` with ``baseline_notebooks`` and the rows with
    ``baseline_ledger``; write ``<src>/notebooks/changes.md``, add it to ``<src>/_toc.yml`` (first part) and put a
    note listing its changed numbers at the top of every staged chapter that has some."""
    import yaml

    from .ledger import read_baseline

    src = Path(src)
    toc_path = src / "_toc.yml"
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    order = [toc["root"]] + [c["file"] for p in toc.get("parts", []) for c in p.get("chapters", [])]
    stems = [Path(f).name for f in order]
    new = notebooks_glue(src / "notebooks", stems)
    base = notebooks_glue(baseline_notebooks, stems)
    glue = glue_changes(base, new)
    verdicts = verdict_changes(read_baseline(baseline_ledger), rows, claims)
    titles = {s: _title(Path(baseline_notebooks) / f"{s}.ipynb") for s in new}
    mark_chapters(src / "notebooks", glue)
    page = src / f"{CHANGES_DOC}.md"
    page.write_text(changes_markdown(scenario_name, verdicts, glue, titles, moved), encoding="utf-8")
    if CHANGES_DOC not in order:
        toc.setdefault("parts", []).insert(0, {"caption": "This build", "chapters": [{"file": CHANGES_DOC}]})
        toc_path.write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return page


def stage(src: Path, scenario: str | None) -> list[Path]:
    """What ``build`` adds to its staging tree after executing the notebooks: the ledger downloads and,
    under a scenario, the 'What changed' page."""
    from .study import load_study

    st = load_study(scenario)
    rows = st.ledger_rows()
    out = write_downloads(src, rows)
    if scenario:
        moved = moved_claims(load_study(None).ledger_rows(), rows, st.changed)
        out.append(write_changes_page(src, st.sc.name, rows, st.ds.claims, moved))
    return out
