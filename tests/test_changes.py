"""What changed: the glued numbers and verdicts of a scenario build that differ from the baseline."""
import csv
import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis import changes
from analysis.book import claim_link
from analysis.paths import REPO

EXAMPLE = REPO / "data" / "scenarios" / "examples" / "cheap-trainium.yaml"


def _glue_output(name, text):
    return new_output("display_data", data={changes.GLUE_MIME: text, "text/plain": text},
                      metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}})


def _notebook(title, glued: dict) -> nbformat.NotebookNode:
    nb = new_notebook()
    cell = new_code_cell("glue(...)")
    cell.outputs = [_glue_output(k, v) for k, v in glued.items()]
    nb.cells = [new_markdown_cell(f"(x)=\n# {title}\n\ntext"), cell]
    return nb


def test_glued_values_read_the_papermill_records():
    nb = _notebook("T", {"a": "1.5", "b": "'cheap-trainium'"})
    nb.cells[1].outputs.append(new_output("stream", name="stdout", text="not a glue"))
    nb.cells[1].outputs.append(_glue_output("a", "2.5"))  # glued twice: the last value counts
    assert changes.glued_values(nb) == {"a": "2.5", "b": "'cheap-trainium'"}


def test_glue_changes_lists_differences_both_values_and_one_sided_names():
    base = {"03_inference": {"usd": "0.35", "same": "7.0", "gone": "1.0"}}
    new = {"03_inference": {"usd": "0.175", "same": "7.0", "new": "2.0"}}
    assert changes.glue_changes(base, new) == [
        {"notebook": "03_inference", "name": "gone", "before": "1.0", "after": "(absent)"},
        {"notebook": "03_inference", "name": "new", "before": "(absent)", "after": "2.0"},
        {"notebook": "03_inference", "name": "usd", "before": "0.35", "after": "0.175"},
    ]
    assert changes.glue_changes(base, base) == []


def test_changes_page_from_a_hand_made_pair_of_notebooks(tmp_path):
    """Two notebooks, baseline and 'scenario', one glued number moved; a staged toc gets the page."""
    base_dir, src = tmp_path / "base", tmp_path / "src"
    (base_dir).mkdir()
    (src / "notebooks").mkdir(parents=True)
    nbformat.write(_notebook("Chapter one", {"x": "10.0", "y": "3.0"}), base_dir / "c1.ipynb")
    nbformat.write(_notebook("Chapter one", {"x": "12.5", "y": "3.0"}), src / "notebooks" / "c1.ipynb")
    (src / "_toc.yml").write_text(yaml.safe_dump({"format": "jb-book", "root": "notebooks/c1"}), encoding="utf-8")
    # a baseline ledger of two claims; the scenario moves one verdict
    ledger = tmp_path / "ledger.csv"
    pd.DataFrame({"claim_id": ["S0-024", "S0-025"], "verdict": ["contradicted", "consistent"],
                  "rule": ["r0", "r1"]}).to_csv(ledger, index=False)

    class Row:
        def __init__(self, cid, verdict):
            self.claim_id, self.verdict, self.rule = cid, verdict, "new rule"

    claims = pd.DataFrame({"claim_id": ["S0-024", "S0-025"], "note": ["", ""]})
    page = changes.write_changes_page(src, "my-scenario", [Row("S0-024", "consistent"), Row("S0-025", "consistent")],
                                      claims, baseline_notebooks=base_dir, baseline_ledger=ledger)
    text = page.read_text(encoding="utf-8")
    assert page == src / "notebooks" / "changes.md"
    assert "**my-scenario**" in text and "## Verdicts that changed (1)" in text
    assert (f"<tr><td>{claim_link('S0-024')}</td><td>contradicted</td><td>consistent</td>"
            "<td>new rule (was: r0)</td></tr>") in text
    assert "S0-025" not in text
    assert "## Glued numbers that changed (1)" in text
    assert '<tr><td><a href="c1.html">Chapter one</a></td><td><code>x</code></td><td>10</td><td>12.5</td></tr>' in text  # 10.0 written 10
    # the chapter is marked: a note after its title cell, with both values
    staged = nbformat.read(src / "notebooks" / "c1.ipynb", as_version=4)
    assert staged.cells[1].source == (":::{note}\nUnder this scenario 1 number(s) on this page differ from the baseline "
                                      "(baseline → this scenario): `x` 10 → 12.5. See {ref}`what changed <what-changed>`.\n:::")
    assert len(nbformat.read(base_dir / "c1.ipynb", as_version=4).cells) == 2  # the baseline is untouched
    toc = yaml.safe_load((src / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["parts"][0] == {"caption": "This build", "chapters": [{"file": "notebooks/changes"}]}


def test_string_glue_is_shown_without_its_quotes():
    md = changes.changes_markdown("s", [], [{"notebook": "n", "name": "scenario_name", "before": "'baseline'",
                                             "after": "'cheap-trainium'"}], {})
    assert "<td>baseline</td><td>cheap-trainium</td>" in md
    assert "No verdict differs from the baseline." in md


def test_example_scenario_lists_what_it_moves():
    """The example scenario's changed verdicts are exactly those that differ between the two ledgers, and
    the page lists the claims whose rebuilt value moved, as ledger --diff does."""
    from analysis.ledger import read_baseline
    from analysis.study import load_study

    st = load_study(EXAMPLE)
    base = read_baseline(changes.BASELINE_LEDGER)
    # the verdicts that differ, found here by comparing the two ledgers row by row: under the example
    # the stated 50% MFU applies to every chip, so S4-100's training ratio is Trainium2's peak ratio
    before = {r["claim_id"]: r["verdict"] for r in csv.DictReader(open(changes.BASELINE_LEDGER, encoding="utf-8"))}
    flipped = sorted(r.claim_id for r in st.ledger_rows() if before[r.claim_id] != r.verdict)
    listed = changes.verdict_changes(base, st.ledger_rows(), st.ds.claims)
    assert sorted(c["claim_id"] for c in listed) == flipped
    for c in listed:
        assert c["verdict_before"] == before[c["claim_id"]]
    moved = changes.moved_claims(load_study(None).ledger_rows(), st.ledger_rows(), st.changed)
    ids = [m["claim_id"] for m in moved]
    assert "S0-036" in ids and "S0-055" in ids
    s0_036 = next(m for m in moved if m["claim_id"] == "S0-036")
    # cost per Mtoken falls with the trn2 price, 35.76 -> 31 USD/hour: less than the baseline
    assert s0_036["rebuilt_after"] < s0_036["rebuilt_before"]
    md = changes.changes_markdown(st.sc.name, [], [], {}, moved)
    assert "No verdict differs from the baseline." in md  # no verdict change passed in
    assert f"## Claims whose rebuilt value moved, verdict unchanged ({len(moved)})" in md
    assert (f"<tr><td>{claim_link('S0-036')}</td><td>plausible</td><td>{s0_036['rebuilt_before']:.6g} USD/Mtoken</td>"
            f"<td>{s0_036['rebuilt_after']:.6g} USD/Mtoken</td>") in md


def test_a_scenario_that_flips_a_verdict_lists_it(tmp_path):
    """Trainium2 at the seed's 800 dense TFLOPS (a dataset cell) turns S0-024 from contradicted to
    consistent: the page lists that change with both verdicts."""
    from analysis.ledger import read_baseline
    from analysis.study import load_study

    sc = tmp_path / "tflops.yaml"
    sc.write_text("name: trn2-800\ndescription: the seed's figure\nassumptions: {}\n"
                  "data:\n  hardware.trainium2.bf16_dense_tflops: 800\n", encoding="utf-8")
    st = load_study(sc)
    moved = changes.verdict_changes(read_baseline(changes.BASELINE_LEDGER), st.ledger_rows(), st.ds.claims)
    s0_024 = next(m for m in moved if m["claim_id"] == "S0-024")
    assert (s0_024["verdict_before"], s0_024["verdict_after"]) == ("contradicted", "consistent")
    md = changes.changes_markdown(st.sc.name, moved, [], {})
    assert f"<tr><td>{claim_link('S0-024')}</td><td>contradicted</td><td>consistent</td>" in md
    assert f"## Verdicts that changed ({len(moved)})" in md


def test_downloads_are_the_ledger_exports(tmp_path):
    from analysis.study import load_study

    paths = changes.write_downloads(tmp_path, load_study(None).ledger_rows())
    assert [p.name for p in paths] == ["ledger.csv", "ledger.json"]
    for p in paths:
        assert p.parent == tmp_path / "_assets" / "downloads"
        assert p.read_bytes() == (REPO / "results" / p.name).read_bytes()


@pytest.mark.parametrize("text,plain", [("'a'", "a"), ('"b"', "b"), ("1.5", "1.5"), ("'", "'")])
def test_plain(text, plain):
    assert changes._plain(text) == plain


def test_chapter_note_writes_numbers_for_readers():
    # 6,468,750 written with a scale word (no e-notation), a string without its quotes
    note = changes.chapter_note([{"name": "ch4_cost", "before": "6468750.0", "after": "4802600.0"},
                                 {"name": "ch4_system", "before": "'trn2.48xlarge'", "after": "'trn2u.48xlarge'"}])
    assert "`ch4_cost` 6.46875 million → 4.8026 million" in note and "`ch4_system` trn2.48xlarge → trn2u.48xlarge" in note
    assert "e+" not in note and note.startswith(":::{note}\nUnder this scenario 2 number(s)")
