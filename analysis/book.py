"""Building the book and running its notebooks.

* :func:`glue_number` — put a computed number into the prose (myst-nb ``glue``), as a plain float.
* :func:`prepare_assets` — place the Vega bundle and MathJax inside the book, so the built pages
  load nothing from the internet.
* :func:`build` — execute every notebook (optionally under a scenario) and build the HTML book.
* :func:`execute_in_place` — re-run the committed notebooks so their stored outputs are current.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .paths import BOOK_DIR, NOTEBOOK_DIR, REPO

VENDOR = BOOK_DIR / "_assets" / "vendor"  # served as _static/vendor (see book/_config.yml)
SCENARIO_ENV = "STUDY_SCENARIO"


def scenario_path(param: str | None = None) -> str | None:
    """The scenario a notebook runs under: its papermill parameter, else $STUDY_SCENARIO, else None."""
    value = param or os.environ.get(SCENARIO_ENV) or None
    return value


def glue_number(name: str, value, display: bool = False) -> float:
    """Glue ``value`` under ``name`` for ``{glue:text}`name:.1f``` in prose; returns the float.

    Always a plain Python float (not a numpy scalar), so the stored output reads ``1.5``
    rather than ``np.float64(1.5)``.
    """
    from myst_nb import glue

    v = float(value)
    glue(name, v, display=display)
    return v


def glue_text(name: str, text: str, display: bool = False) -> str:
    from myst_nb import glue

    glue(name, str(text), display=display)
    return str(text)


def prepare_assets() -> list[Path]:
    """Write vega-bundle.js (vl-convert-python) and MathJax 3 (django-static-mathjax) into the book."""
    import mathjax  # the django-static-mathjax wheel: MathJax 3.2.2's files, no Django needed
    import vl_convert

    VENDOR.mkdir(parents=True, exist_ok=True)
    written = []
    bundle = VENDOR / "vega-bundle.js"
    # The bundle declares top-level names (e.g. `_`) that clash with other scripts on the page
    # when loaded as a classic script; a function scope isolates them. It still sets
    # window.vegaEmbed / window.vega / window.vegaLite.
    text = "(function () {\n" + vl_convert.javascript_bundle() + "\n})();\n"
    if not bundle.exists() or bundle.read_text(encoding="utf-8") != text:
        bundle.write_text(text, encoding="utf-8")
    written.append(bundle)
    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    dst = VENDOR / "mathjax"
    if not (dst / "tex-chtml.js").exists():
        (dst / "output" / "chtml").mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "tex-chtml.js", dst / "tex-chtml.js")
        shutil.copytree(src / "output" / "chtml" / "fonts", dst / "output" / "chtml" / "fonts",
                        dirs_exist_ok=True)
    written.append(dst / "tex-chtml.js")
    return written


def _execute_one(args) -> tuple[str, float]:
    """Execute one notebook into ``dst`` (a worker process; $STUDY_SCENARIO is already set)."""
    import tempfile
    import time

    import nbformat
    from nbclient import NotebookClient

    from .kernels import ipc_config

    src, dst, timeout = args
    t = time.perf_counter()
    nb = nbformat.read(src, as_version=4)
    # IPC sockets in a private folder, not TCP: no open port, no "running over TCP without encryption"
    with tempfile.TemporaryDirectory(prefix="nbk-") as sockets:
        NotebookClient(nb, config=ipc_config(sockets), timeout=timeout, kernel_name="python3",
                       record_timing=False, resources={"metadata": {"path": str(Path(src).parent)}}).execute()
    _normalise_metadata(nb)
    nbformat.write(nb, dst)
    return Path(src).name, time.perf_counter() - t


def _normalise_metadata(nb) -> None:
    """Stable notebook metadata, whatever Python or kernel executed it."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    lang = nb.metadata.get("language_info", {})
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3",
                                    "mimetype": lang.get("mimetype", "text/x-python"), "file_extension": ".py"}


def _toc_notebooks() -> list[Path]:
    import yaml

    toc = yaml.safe_load((BOOK_DIR / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    files += [c["file"] for c in toc.get("chapters", [])]
    return [BOOK_DIR / f"{f}.ipynb" for f in files if (BOOK_DIR / f"{f}.ipynb").exists()]


def build(scenario: str | None = None, *, builder: str = "html", path_output: Path | None = None,
          capture: bool = False, workers: int | None = None):
    """Execute every notebook (in parallel, under ``scenario``) and build the HTML book.

    The committed notebooks are never touched: executed copies go to a staging source tree in
    ``<output>/_build/.src`` together with the book's configuration, and Jupyter Book renders that
    tree with execution off and warnings as errors (``-W -n --keep-going``). ``path_output`` puts
    ``_build`` elsewhere (tests build into a temporary folder); with ``capture`` the return value is
    the CompletedProcess (stdout+stderr), else the exit code.
    """
    import yaml
    from concurrent.futures import ProcessPoolExecutor

    prepare_assets()
    env = dict(os.environ)
    env.pop(SCENARIO_ENV, None)
    saved = os.environ.pop(SCENARIO_ENV, None)
    if scenario:
        path = Path(scenario).resolve()
        from .scenario import load_scenario

        load_scenario(path)  # refuse a bad scenario before a long build
        env[SCENARIO_ENV] = os.environ[SCENARIO_ENV] = str(path)
    out_root = Path(path_output) if path_output is not None else BOOK_DIR
    src = out_root / "_build" / ".src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(BOOK_DIR, src, ignore=shutil.ignore_patterns("_build", "notebooks"), symlinks=False)
    (src / "notebooks").mkdir()
    cfg = yaml.safe_load((BOOK_DIR / "_config.yml").read_text(encoding="utf-8"))
    cfg["execute"]["execute_notebooks"] = "off"
    (src / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    jobs = [(str(nb), str(src / "notebooks" / nb.name), 600) for nb in _toc_notebooks()]
    log = []
    try:
        with ProcessPoolExecutor(max_workers=workers or max(2, os.cpu_count() or 2)) as pool:
            for name, seconds in pool.map(_execute_one, jobs):
                log.append(f"executed {name} in {seconds:.1f} s")
    except Exception as exc:  # a failing notebook fails the build, naming it
        msg = f"notebook execution failed: {type(exc).__name__}: {str(exc)[-3000:]}"
        if capture:
            return subprocess.CompletedProcess([], 1, "\n".join(log + [msg]), None)
        print(msg, file=sys.stderr)
        return 1
    finally:
        if saved is not None:
            os.environ[SCENARIO_ENV] = saved
        else:
            os.environ.pop(SCENARIO_ENV, None)
    from .changes import stage  # the ledger downloads and, under a scenario, the 'What changed' page

    stage(src, str(Path(scenario).resolve()) if scenario else None)
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe), "build", str(src), "--builder", builder, "-W", "-n", "--keep-going",
           "--path-output", str(out_root)]
    if capture:
        proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        proc.stdout = "\n".join(log) + "\n" + proc.stdout
        return proc
    print("\n".join(log))
    return subprocess.call(cmd, env=env, cwd=REPO)


def notebooks() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def execute_in_place(paths: list[Path] | None = None, timeout: int = 600, workers: int | None = None) -> list[Path]:
    """Re-execute notebooks under the baseline (in parallel) and save them with their outputs."""
    from concurrent.futures import ProcessPoolExecutor

    paths = list(paths or notebooks())
    saved = os.environ.pop(SCENARIO_ENV, None)
    try:
        jobs = [(str(p), str(p), timeout) for p in paths]
        with ProcessPoolExecutor(max_workers=workers or max(2, os.cpu_count() or 2)) as pool:
            list(pool.map(_execute_one, jobs))
    finally:
        if saved is not None:
            os.environ[SCENARIO_ENV] = saved
    return paths


VERDICT_COLOURS = {"consistent": "#d9f0d3", "plausible": "#eef6e4", "inconsistent": "#fde0c5",
                   "contradicted": "#f4c7c3", "implausible": "#f4c7c3", "unverifiable": "#eeeeee"}


def _interval_text(r) -> str:
    import math

    def f(x):
        return f"{x:.4g}"
    if r.rebuilt is None or (isinstance(r.rebuilt, float) and math.isnan(r.rebuilt)):
        return ""
    if isinstance(r.rebuilt, bool):
        return "true" if r.rebuilt else "false"
    if r.low is None or r.low == r.high:
        return f(r.rebuilt)
    return f"{f(r.rebuilt)} ({f(r.low)}–{f(r.high)})"


def _claimed_text(r) -> str:
    if r.claimed is None:
        return r.claimed_date or "(statement)"
    s = f"{r.claimed:.4g}"
    if r.claimed_high is not None:
        s += f"–{r.claimed_high:.4g}"
    return s


def card_page(claim_id: str) -> str:
    """The docname (under notebooks/) of the claim-card page of a claim's seed: S0-024 -> claims-seed-000.

    A claim id's digit is its seed's number (tests/test_claims.py checks it against the seed file)."""
    return f"claims-seed-{int(claim_id[1]):03d}"


def card_anchor(claim_id: str) -> str:
    """The HTML id of a claim's card on its page: S0-024 -> s0-024 (stable across builds)."""
    return claim_id.lower()


def card_href(claim_id: str) -> str:
    """A claim card's URL relative to any page in notebooks/: claims-seed-000.html#s0-024."""
    return f"{card_page(claim_id)}.html#{card_anchor(claim_id)}"


def claim_link(claim_id: str) -> str:
    """The claim id as an HTML link to its card (every page of the book lives in notebooks/)."""
    import html

    return f'<a class="claim-link" href="{card_href(claim_id)}">{html.escape(claim_id)}</a>'


def ledger_table_frame(rows):
    """One line per claim for the book's tables; the ``claim`` column links each id to its card."""
    import pandas as pd

    return pd.DataFrame([{"claim": claim_link(r.claim_id), "quote": r.quote, "claimed": _claimed_text(r), "unit": r.unit,
                          "rebuilt (90% interval)": _interval_text(r), "verdict": r.verdict,
                          "why": r.explanation} for r in rows])


def verdict_table(st, chapter: str, label: str):
    """The chapter's claims with claimed vs rebuilt values and computed verdicts (a styled table)."""
    from .chapters import claim_chapters
    from .charts import Table

    chapters = claim_chapters(st.ds.claims)
    rows = [r for r in st.ledger_rows() if chapters[r.claim_id] == chapter]
    df = ledger_table_frame(rows).set_index("claim")
    styler = (df.style.set_uuid(label)
              .set_table_attributes(f'class="study-table verdict-table" data-table-label="{label}"')
              .map(lambda v: f"background-color: {VERDICT_COLOURS.get(v, '')}", subset=["verdict"]))
    return Table(styler, label)


def verdict_counts(st, chapter: str | None = None) -> dict[str, int]:
    from .chapters import claim_chapters
    from .ledger.rules import VERDICTS

    chapters = claim_chapters(st.ds.claims)
    counts = {v: 0 for v in VERDICTS}
    for r in st.ledger_rows():
        if chapter is None or chapters[r.claim_id] == chapter:
            counts[r.verdict] += 1
    return counts


def reading_value(row, text: str):
    """The rebuilt value of a claim's check or reading whose label contains ``text`` (chapters quote them).

    Searches the checks' labels first, then each check's chosen reading, then its other readings; a miss
    names the labels.
    """
    for c in row.checks:
        if text in c["label"]:
            return c["rebuilt"]
    for c in row.checks:
        if c.get("reading") and text in c["reading"]:
            return c["rebuilt"]
        for o in c.get("others", []):
            if text in o["label"]:
                return o["rebuilt"]
    labels = ([c["label"] for c in row.checks] + [c["reading"] for c in row.checks if c.get("reading")]
              + [o["label"] for c in row.checks for o in c.get("others", [])])
    raise KeyError(f"{row.claim_id}: no check or reading labelled like '{text}' (have: {labels})")
