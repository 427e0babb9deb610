"""The book build's cache of executed notebooks: which edits re-execute what (pure functions, no build)."""
import hashlib

from analysis.book import code_cells_digest, merge_executed, notebook_cache_key, notebooks_to_execute


def _nb(*cells, kernel="python3"):
    out = []
    for kind, src, *outputs in cells:
        c = {"cell_type": kind, "source": src, "metadata": {}}
        if kind == "code":
            c |= {"outputs": list(outputs), "execution_count": None}
        out.append(c)
    return {"cells": out, "metadata": {"kernelspec": {"name": kernel}}, "nbformat": 4, "nbformat_minor": 5}


BASE = _nb(("markdown", "# Chapter\nSome prose."), ("code", "x = 1"), ("markdown", "More prose."), ("code", "x"))


def test_key_is_sha256_of_code_digest_and_inputs():
    assert notebook_cache_key("abc", "def") == hashlib.sha256(b"abc:def").hexdigest()[:32]


def test_editing_prose_or_outputs_keeps_the_key():
    prose = _nb(("markdown", "# Chapter\nOther prose."), ("code", "x = 1"), ("markdown", "New."), ("code", "x"))
    ran = _nb(("markdown", "# Chapter\nSome prose."), ("code", "x = 1", {"output_type": "stream", "text": "1"}),
              ("markdown", "More prose."), ("code", "x"))
    assert code_cells_digest(prose) == code_cells_digest(BASE) == code_cells_digest(ran)


def test_editing_code_or_cell_metadata_or_kernel_changes_the_key():
    code = _nb(("markdown", "# Chapter\nSome prose."), ("code", "x = 2"), ("markdown", "More prose."), ("code", "x"))
    swapped = _nb(("code", "x"), ("code", "x = 1"))
    tagged = _nb(("code", "x = 1"), ("code", "x"))
    tagged["cells"][0]["metadata"] = {"tags": ["remove-cell"]}
    kernel = _nb(("markdown", "# Chapter\nSome prose."), ("code", "x = 1"), ("markdown", "More prose."),
                 ("code", "x"), kernel="other")
    digests = {code_cells_digest(n) for n in (BASE, code, swapped, tagged, kernel)}
    assert len(digests) == 5


def test_only_notebooks_without_a_copy_under_their_key_are_executed():
    keys = {"01.ipynb": "k1", "02.ipynb": "k2", "03.ipynb": "k3"}
    cached = {"01.ipynb": {"k1", "old"}, "02.ipynb": {"old"}}
    assert notebooks_to_execute(keys, cached) == ["02.ipynb", "03.ipynb"]
    assert notebooks_to_execute(keys, {n: {k} for n, k in keys.items()}) == []


def test_a_change_to_inputs_reexecutes_every_notebook_and_a_prose_edit_none():
    nbs = {"01.ipynb": BASE, "02.ipynb": _nb(("code", "y = 2"))}
    digests = {n: code_cells_digest(nb) for n, nb in nbs.items()}
    before = {n: notebook_cache_key(d, "inputs-A") for n, d in digests.items()}
    cached = {n: {k} for n, k in before.items()}
    # data/, analysis/, results/ or the scenario changed: every key moves
    after_inputs = {n: notebook_cache_key(d, "inputs-B") for n, d in digests.items()}
    assert notebooks_to_execute(after_inputs, cached) == ["01.ipynb", "02.ipynb"]
    # one chapter's prose edited: its code-cell digest, hence its key, is unchanged
    edited = _nb(("markdown", "# Chapter\nRewritten."), ("code", "x = 1"), ("markdown", "More prose."), ("code", "x"))
    after_prose = {"01.ipynb": notebook_cache_key(code_cells_digest(edited), "inputs-A"),
                   "02.ipynb": before["02.ipynb"]}
    assert notebooks_to_execute(after_prose, cached) == []


def test_merge_takes_prose_from_the_current_notebook_and_outputs_from_the_executed_copy():
    out1, out2 = {"output_type": "stream", "text": "1"}, {"output_type": "stream", "text": "2"}
    executed = _nb(("markdown", "# Chapter\nSome prose."), ("code", "x = 1", out1), ("markdown", "More prose."),
                   ("code", "x", out2))
    executed["metadata"]["language_info"] = {"name": "python"}
    current = _nb(("markdown", "# Chapter\nRewritten."), ("code", "x = 1"), ("markdown", "Added."),
                  ("markdown", "More prose."), ("code", "x"))
    merged = merge_executed(current, executed)
    assert [c["source"] for c in merged["cells"]] == ["# Chapter\nRewritten.", "x = 1", "Added.", "More prose.", "x"]
    assert merged["cells"][1]["outputs"] == [out1] and merged["cells"][4]["outputs"] == [out2]
    assert merged["metadata"]["language_info"] == {"name": "python"}
    assert current["cells"][1]["outputs"] == []  # inputs untouched
