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


def glue_number(name: str, value, display: bool = False, unit: str | None = None, sig: int = 3) -> float:
    """Glue ``value`` under ``name`` for ``{glue:text}`name:.1f``` in prose; returns the float.

    Always a plain Python float (not a numpy scalar), so the stored output reads ``1.5``
    rather than ``np.float64(1.5)``. With ``unit`` it also glues ``<name>_fmt``, the value written
    for readers by :func:`analysis.fmt.quantity` (``USD 25,000``, ``1.2 GW``, ``45%``), so prose
    needs neither a format spec nor a ``$`` next to the role.
    """
    from myst_nb import glue

    v = float(value)
    glue(name, v, display=display)
    if unit is not None:
        from . import fmt

        glue(f"{name}_fmt", fmt.quantity(v, unit, sig), display=display)
    return v


def glue_text(name: str, text, display: bool = False) -> str:
    """Glue ``text`` under ``name`` for ``{glue:text}`name``` in prose; returns the string.

    Booleans are glued as yes/no and dates as ISO dates (:func:`analysis.fmt.cell`); other values as
    ``str(text)``.
    """
    from myst_nb import glue

    from . import fmt

    s = text if isinstance(text, str) else fmt.cell(text)
    glue(name, s, display=display)
    return s


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


DOWNLOADS = "downloads"   # under the book's _assets, so served as _static/downloads/<label>.<ext>
CACHE_KEEP = 3            # executed copies kept per notebook (e.g. baseline and two scenarios)


def code_cells_digest(nb: dict) -> str:
    """sha256 of what executing a notebook depends on inside it: its code cells' sources and metadata
    (in order) and the kernel. Markdown cells and stored outputs are left out, so editing a chapter's
    prose, or re-executing it in place, keeps its key."""
    import hashlib
    import json

    h = hashlib.sha256()
    h.update(json.dumps(nb.get("metadata", {}).get("kernelspec", {}).get("name", ""), sort_keys=True).encode())
    for c in nb.get("cells", []):
        if c.get("cell_type") == "code":
            src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            h.update(json.dumps([src, c.get("metadata", {})], sort_keys=True).encode())
    return h.hexdigest()


def inputs_digest(scenario: str | None) -> str:
    """sha256 of everything outside a notebook its outputs depend on: every file of the data folder
    (data/, or $STUDY_DATA_DIR) and results/, the analysis package's code (:func:`analysis.diskcache.code_digest`) and the scenario
    file's path and contents (none for the baseline)."""
    from .diskcache import files_digest
    from .paths import data_dir

    files = [p for d in (data_dir(), REPO / "results") for p in d.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    if scenario:
        files.append(Path(scenario))
    return files_digest(files) + ("" if not scenario else "|" + str(Path(scenario).resolve()))


def notebook_cache_key(code_digest: str, inputs: str) -> str:
    """The key of one executed notebook: sha256(code-cells digest + ':' + inputs digest)."""
    import hashlib

    return hashlib.sha256(f"{code_digest}:{inputs}".encode()).hexdigest()[:32]


def notebooks_to_execute(keys: dict[str, str], cached: dict[str, set[str]]) -> list[str]:
    """The notebooks (by name) whose key has no executed copy in the cache, in the order given.

    ``keys`` maps a notebook to its current :func:`notebook_cache_key`; ``cached`` maps a notebook to
    the keys it has executed copies for.
    """
    return [name for name, key in keys.items() if key not in cached.get(name, set())]


def merge_executed(current: dict, executed: dict) -> dict:
    """The current notebook with each code cell's outputs (and execution count) taken, in order, from
    an executed copy of the same code cells; markdown comes from ``current``, metadata from the
    executed copy. The caller guarantees the code cells match (same :func:`code_cells_digest`)."""
    import copy

    out = copy.deepcopy(executed)
    done = iter([c for c in executed["cells"] if c.get("cell_type") == "code"])
    cells = []
    for c in current["cells"]:
        if c.get("cell_type") == "code":
            cells.append(copy.deepcopy(next(done)))
        else:
            cells.append(copy.deepcopy(c))
    out["cells"] = cells
    return out


def export_downloads(nb: dict, out_dir: Path) -> list[Path]:
    """Write the data behind each captioned figure and table of an executed notebook into ``out_dir``.

    A cell captioned as ``fig-*`` or ``tbl-*`` (myst-nb ``mystnb.figure.name``) gives
    ``<label>.csv``: a table's data (:data:`analysis.charts.TABLE_CSV_MIMETYPE`) or a chart's
    inline datasets (a ``dataset`` column names each when there are several); a chart also gives
    ``<label>.svg`` and ``<label>.png`` (vl-convert; the PNG rasterised from the SVG at scale 2; no
    browser, no network).
    Files are only rewritten when their bytes change.
    """
    import csv
    import io

    from .charts import TABLE_CSV_MIMETYPE

    written = []
    for c in nb.get("cells", []):
        label = (c.get("metadata", {}).get("mystnb", {}).get("figure", {}) or {}).get("name", "")
        if c.get("cell_type") != "code" or not label.startswith(("fig-", "tbl-")):
            continue
        for o in c.get("outputs", []):
            data = o.get("data", {})
            files = {}
            if TABLE_CSV_MIMETYPE in data:
                text = data[TABLE_CSV_MIMETYPE]
                files["csv"] = (text if isinstance(text, str) else "".join(text)).encode()
            spec = next((v for k, v in data.items() if k.startswith("application/vnd.vegalite")), None)
            if spec is not None:
                import vl_convert

                svg = vl_convert.vegalite_to_svg(spec)
                files["svg"] = svg.encode()
                files["png"] = bytes(vl_convert.svg_to_png(svg, scale=2))  # from the SVG: half the time
                sets = spec.get("datasets", {})
                rows = [({"dataset": k} if len(sets) > 1 else {}) | r for k in sorted(sets) for r in sets[k]]
                cols = list(dict.fromkeys(k for r in rows for k in r))
                buf = io.StringIO()
                w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
                w.writeheader()
                w.writerows(rows)
                files["csv"] = buf.getvalue().encode()
            for ext, blob in files.items():
                written.append(_write_if_changed(out_dir / f"{label}.{ext}", blob))
    return written


def _write_if_changed(path: Path, blob: bytes) -> Path:
    """Write ``blob`` to ``path`` unless it already holds exactly that (keeps mtimes for Sphinx)."""
    if not path.exists() or path.read_bytes() != blob:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return path


def _files_under(root: Path, skip: set[str]) -> set[Path]:
    """Every file under ``root`` (relative paths), not descending into top-level names in ``skip``."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        found.update(rel / f for f in filenames)
    return found


def _sync_tree(src: Path, dst: Path, skip: set[str]) -> None:
    """Make ``dst`` a copy of ``src`` (top-level names in ``skip`` left alone), touching only files
    whose bytes differ, so Sphinx re-reads only what changed."""
    wanted = _files_under(src, skip)
    for rel in sorted(wanted):
        _write_if_changed(dst / rel, (src / rel).read_bytes())
    for rel in sorted(_files_under(dst, skip) - wanted):
        (dst / rel).unlink()


def _extension_digest() -> str:
    """sha256 of the book's Sphinx extension sources (book/_ext/*.py)."""
    import hashlib

    h = hashlib.sha256()
    for p in sorted((BOOK_DIR / "_ext").glob("*.py")):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()[:16]


def _execute_and_export(args) -> tuple[str, float]:
    """Worker: execute one notebook into the cache (:func:`_execute_one`), then write its downloads."""
    import json

    src, dst, timeout = args
    name, seconds = _execute_one((src, dst, timeout))
    export_downloads(json.loads(Path(dst).read_text(encoding="utf-8")), Path(dst).with_suffix(".downloads"))
    return name, seconds


def _prune_cache(folder: Path, keep: int = CACHE_KEEP) -> None:
    """Keep the ``keep`` most recently used executed copies of one notebook."""
    entries = sorted(folder.glob("*.ipynb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink()
        shutil.rmtree(old.with_suffix(".downloads"), ignore_errors=True)


def build(scenario: str | None = None, *, builder: str = "html", path_output: Path | None = None,
          capture: bool = False, workers: int | None = None):
    """Execute every notebook (in parallel, under ``scenario``) and build the HTML book.

    The committed notebooks are never touched: executed copies go to a staging source tree in
    ``<output>/_build/.src`` together with the book's configuration, and Jupyter Book renders that
    tree with execution off and warnings as errors (``-W -n --keep-going``). ``path_output`` puts
    ``_build`` elsewhere (tests build into a temporary folder); with ``capture`` the return value is
    the CompletedProcess (stdout+stderr), else the exit code.

    Executed notebooks are cached in ``<output>/_build/.cache/<notebook>/<key>.ipynb`` under
    :func:`notebook_cache_key` (the notebook's code cells, data/, results/, analysis/ and the
    scenario), with the downloads of their figures and tables beside them; a notebook is executed
    only when no copy has its key, and a cached copy takes the current markdown
    (:func:`merge_executed`). The staging tree is updated in place, file by file, so Sphinx re-reads
    only the pages that changed.
    """
    import json
    import multiprocessing
    import time

    import nbformat
    import yaml
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    prepare_assets()
    env = dict(os.environ)
    env.pop(SCENARIO_ENV, None)
    saved = os.environ.pop(SCENARIO_ENV, None)
    if scenario:
        path = Path(scenario).resolve()
        from .scenario import load_scenario

        from . import load_datasets
        from .summary import later_input_errors

        errors = later_input_errors(load_datasets(), load_scenario(path))  # refuse a bad scenario (its data:
        if errors:                                                           # cells too) before a long build
            raise errors[0]
        env[SCENARIO_ENV] = os.environ[SCENARIO_ENV] = str(path)
        scenario = str(path)
    out_root = Path(path_output) if path_output is not None else BOOK_DIR
    src = out_root / "_build" / ".src"
    cache = out_root / "_build" / ".cache"
    src.mkdir(parents=True, exist_ok=True)
    _sync_tree(BOOK_DIR, src, skip={"_build", "notebooks", "_config.yml", "screenshots", "screenshots.py"})
    (src / "notebooks").mkdir(exist_ok=True)
    cfg = yaml.safe_load((BOOK_DIR / "_config.yml").read_text(encoding="utf-8"))
    cfg["execute"]["execute_notebooks"] = "off"
    # the book's own extension shapes doctrees at read time: a change to it must re-read every page
    cfg["sphinx"]["config"]["study_ext_digest"] = _extension_digest()
    _write_if_changed(src / "_config.yml", yaml.safe_dump(cfg, sort_keys=False).encode())
    inputs = inputs_digest(scenario)
    current = {nb.name: json.loads(nb.read_text(encoding="utf-8")) for nb in _toc_notebooks()}
    paths = {nb.name: nb for nb in _toc_notebooks()}
    keys = {name: notebook_cache_key(code_cells_digest(nb), inputs) for name, nb in current.items()}
    cached = {name: {p.stem for p in (cache / name).glob("*.ipynb")} for name in keys}
    stale = notebooks_to_execute(keys, cached)
    jobs = [(str(paths[n]), str(cache / n / f"{keys[n]}.ipynb"), 600) for n in stale]
    for n in stale:
        (cache / n).mkdir(parents=True, exist_ok=True)
    log = [f"{len(keys) - len(stale)} of {len(keys)} notebooks unchanged (cached executions reused)"]
    try:
        if jobs:
            # spawn, not fork: the parent has started vl-convert's runtime (prepare_assets), and a
            # forked copy of it deadlocks when a worker renders a figure
            with ProcessPoolExecutor(max_workers=min(len(jobs), workers or max(2, os.cpu_count() or 2)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                for name, seconds in pool.map(_execute_and_export, jobs):
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
    downloads = src / "_assets" / DOWNLOADS
    for name, key in keys.items():
        entry = cache / name / f"{key}.ipynb"
        os.utime(entry)  # most recently used, for _prune_cache
        merged = merge_executed(current[name], json.loads(entry.read_text(encoding="utf-8")))
        _write_if_changed(src / "notebooks" / name, nbformat.writes(nbformat.from_dict(merged)).encode())
        for f in sorted(entry.with_suffix(".downloads").glob("*")):
            _write_if_changed(downloads / f.name, f.read_bytes())
        _prune_cache(cache / name)
    for stray in (src / "notebooks").glob("*.ipynb"):
        if stray.name not in keys:
            stray.unlink()
    from .changes import stage  # the ledger downloads and, under a scenario, the 'What changed' page

    stage(src, str(Path(scenario).resolve()) if scenario else None)
    log.append(f"notebooks ready in {time.perf_counter() - t0:.1f} s")
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe), "build", str(src), "--builder", builder, "-W", "-n", "--keep-going",
           "--path-output", str(out_root)]
    if capture:
        proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        proc.stdout = "\n".join(log) + "\n" + proc.stdout
        if proc.returncode == 0:
            _sync_static(src, out_root / "_build" / builder)
        return proc
    print("\n".join(log))
    code = subprocess.call(cmd, env=env, cwd=REPO)
    if code == 0:
        _sync_static(src, out_root / "_build" / builder)
    return code


def _sync_static(src: Path, html: Path) -> None:
    """Bring the built book's _static up to date with the staged _assets (Sphinx skips copying static
    files when no page is out of date, so a CSS or download change alone would not arrive), and drop
    downloads whose figure or table is gone."""
    if not (html / "_static").is_dir():
        return
    for rel in sorted(_files_under(src / "_assets", set())):
        _write_if_changed(html / "_static" / rel, (src / "_assets" / rel).read_bytes())
    for rel in _files_under(html / "_static" / DOWNLOADS, set()) if (html / "_static" / DOWNLOADS).is_dir() else ():
        if not (src / "_assets" / DOWNLOADS / rel).exists():
            (html / "_static" / DOWNLOADS / rel).unlink()


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
    """A claim's rebuilt value for readers (:func:`analysis.fmt.interval`): value in its unit and its
    90% interval rounded where the interval's width resolves (a zero-width one, an exact figure, keeps
    its digits: :func:`analysis.fmt.exact`); yes/no for statements; a year-month for dates. '' when
    nothing was rebuilt."""
    import math

    from . import fmt

    if r.rebuilt is None or (isinstance(r.rebuilt, float) and math.isnan(r.rebuilt)):
        return ""
    if isinstance(r.rebuilt, bool):
        return fmt.yes_no(r.rebuilt)
    if r.unit == "date":
        return fmt.decimal_year(r.rebuilt)
    if r.low is None or r.low == r.high:  # an exact figure (a published spec): its own digits, up to 4
        return fmt.exact(r.rebuilt, r.unit)
    return fmt.interval(r.rebuilt, r.low, r.high, r.unit)


def _claimed_text(r) -> str:
    """A claim's stated value as the article gives it (:func:`analysis.fmt.exact`), a range 'lo–hi',
    its date, or '(statement)'."""
    from . import fmt

    if r.claimed is None:
        return r.claimed_date or "(statement)"
    if r.claimed_high is not None:
        return fmt.exact_range(r.claimed, r.claimed_high, r.unit)
    return fmt.exact(r.claimed, r.unit)


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
