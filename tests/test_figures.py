"""Figures and tables: stable unique labels, captions that match the registry, export by label."""
import glob

import nbformat

from analysis import figures
from analysis.paths import NOTEBOOK_DIR


def _labelled_cells():
    for path in sorted(glob.glob(str(NOTEBOOK_DIR / "*.ipynb"))):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            fig = cell.metadata.get("mystnb", {}).get("figure")
            if fig:
                yield path, fig["name"], fig.get("caption", "")


def test_every_label_is_unique_across_the_book():
    names = [name for _, name, _ in _labelled_cells()]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    assert all(n.startswith(("fig-", "tbl-")) for n in names)


def test_every_book_figure_is_registered_with_the_same_caption():
    shown = {name: (path, caption) for path, name, caption in _labelled_cells() if name.startswith("fig-")}
    registered = set(figures.labels())
    assert set(shown) <= registered, set(shown) - registered
    for name, (path, caption) in shown.items():
        assert caption == figures.get(name).caption, f"{path}: caption of {name} differs from the registry"
    # every registered figure appears in the book
    assert registered <= set(shown), registered - set(shown)


def test_figures_export_as_png_and_svg(tmp_path):
    from analysis.study import load_study

    st = load_study(None)
    label = "fig-claims-by-kind"
    chart = figures.show(label, st)
    for fmt in ("svg", "png"):
        out = tmp_path / f"{label}.{fmt}"
        chart.save(str(out), format=fmt)
        assert out.stat().st_size > 1000
    assert (tmp_path / f"{label}.svg").read_text(encoding="utf-8").lstrip().startswith("<svg")


def test_training_cost_cases_follow_the_ledger_under_a_scenario_with_an_mfu():
    # chapter 4 asserts that each cost case is one of the ledger's readings; under the example scenario
    # (training_mfu 0.50, range 0.40-0.60) both use the user's MFU: S0-055 (1T dense, 20 tokens per
    # parameter on Trainium2, 667 TFLOPS) = 6 x 1e12 x 2e13 / (3600 x 667e12 x 0.5) = 99.95M chip-hours
    import numpy as np
    import pytest

    from analysis.figures.training import cost_cases
    from analysis.paths import REPO
    from analysis.study import load_study

    st = load_study(REPO / "data" / "scenarios" / "examples" / "cheap-trainium.yaml")
    cases = cost_cases(st).set_index("claim_id")
    rows = {r.claim_id: r for r in st.ledger_rows()}
    for cid, c in cases.iterrows():
        vals = [k["rebuilt"] for k in rows[cid].checks] + [o["rebuilt"] for k in rows[cid].checks
                                                           for o in k.get("others", [])]
        assert any(np.isclose(c.cost_usd, v, rtol=1e-9) for v in vals if isinstance(v, float)), cid
    s = cases.loc["S0-055"]
    assert s.mfu_fitted == 0.5 and s.chip_hours == pytest.approx(6 * 1e12 * 2e13 / (3600 * 667e12 * 0.5), rel=1e-9)
    assert s.mfu_ci_low < 0.5 < s.mfu_ci_high
