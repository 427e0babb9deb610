"""A notebook rerun under a second scenario (papermill parameter) shows the changed numbers and
verdicts exactly where `python -m analysis ledger --diff` says they change, and nowhere else."""
import html
import re
import tempfile

import nbformat
import papermill
import pytest

from analysis.kernels import ipc_config
from analysis.ledger import build_ledger, diff, make_ledger
from analysis.paths import NOTEBOOK_DIR, REPO
from analysis.scenario import load_scenario
from analysis.study import scenario_summary

EXAMPLE = REPO / "data" / "scenarios" / "examples" / "cheap-trainium.yaml"


def _ledger_cells(nb) -> dict[str, list[str]]:
    """claim id -> the cells of its row in the tbl-ledger table (an itables DataTable: its rows are the
    JSON of ``data_json`` in the table's arguments) of an executed A1_ledger notebook."""
    import json

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/html", "")
            m = re.search(r'"data_json": ("(?:[^"\\]|\\.)*")', text)
            if 'id="tbl-ledger-datatable"' in text and m:
                rows = {}
                for raw in json.loads(json.loads(m.group(1))):
                    cells = [html.unescape(re.sub(r"<[^>]+>", "", str(c))).strip() for c in raw]
                    if cells and re.match(r"S\d-\d{3}$", cells[0]):
                        rows[cells[0]] = cells
                return rows
    raise AssertionError("no tbl-ledger table in the notebook's outputs")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("pm")
    nb = {}
    for name, param in (("baseline", None), ("example", str(EXAMPLE))):
        target = out / f"A1_{name}.ipynb"
        with tempfile.TemporaryDirectory(prefix="nbk-") as sockets:  # IPC kernel: no TCP warning
            papermill.execute_notebook(str(NOTEBOOK_DIR / "A1_ledger.ipynb"), str(target),
                                       parameters={"scenario": param}, kernel_name="python3", progress_bar=False,
                                       cwd=str(NOTEBOOK_DIR), config=ipc_config(sockets))
        nb[name] = _ledger_cells(nbformat.read(target, as_version=4))
    return nb


def test_second_scenario_changes_exactly_what_diff_says(runs):
    sc = load_scenario(EXAMPLE)
    base = build_ledger()
    new = build_ledger(scenario=sc)
    _, changed = make_ledger(scenario=sc)
    expected = {c["claim_id"]: c for c in diff(base, new, changed)}
    assert expected, "the example scenario should move some claims"
    verdict_col = 8  # claim, seed, kind, chip, quote, claimed, unit, rebuilt (90% interval), verdict, ...
    moved = {cid for cid in runs["baseline"] if runs["baseline"][cid] != runs["example"][cid]}
    assert moved == set(expected)
    # every moved row shows the verdict the diff gives, before and after (flipped or not)
    for cid, c in expected.items():
        assert runs["baseline"][cid][verdict_col] == c["verdict_before"], cid
        assert runs["example"][cid][verdict_col] == c["verdict_after"], cid


def test_banner_lists_every_difference():
    name, lines = scenario_summary(EXAMPLE)
    assert name == "cheap-trainium"
    text = "\n".join(lines)
    assert "electricity_usd_per_kwh: 0.08 -> 0.04" in text
    assert "system_params.trn2.48xlarge.usd_per_hour_capacity_block = 31.0" in text


def test_the_whole_book_builds_under_the_example_scenario(tmp_path):
    """Every notebook executes under the example scenario (chapter 4 once failed its own check there)
    and the build has its What changed page, linked from the banner, listing the changed verdicts."""
    from analysis.book import build

    proc = build(str(EXAMPLE), path_output=tmp_path, capture=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    page = (tmp_path / "_build" / "html" / "notebooks" / "changes.html").read_text(encoding="utf-8")
    assert "What changed under this scenario" in page and 'id="changes-verdicts"' in page
    chapter = (tmp_path / "_build" / "html" / "notebooks" / "04_training.html").read_text(encoding="utf-8")
    assert 'href="changes.html"' in chapter
