"""Claim cards: one card per claim on its seed's page, under the seed's own headings, with a unique
stable anchor, and saying what `explain` says (checked against the ledger export)."""
import html
import re

import nbformat
import pandas as pd
import pytest

from analysis import cards
from analysis.book import card_href, claim_link, ledger_table_frame
from analysis.ledger import explain
from analysis.paths import NOTEBOOK_DIR, REPO
from analysis.study import load_study


@pytest.fixture(scope="module")
def st():
    return load_study(None)


@pytest.fixture(scope="module")
def ledger_csv():
    return pd.read_csv(REPO / "results" / "ledger.csv", keep_default_na=False).set_index("claim_id")


def test_card_urls_are_built_from_the_claim_id():
    assert card_href("S0-024") == "claims-seed-000.html#s0-024"
    assert card_href("S4-106") == "claims-seed-004.html#s4-106"
    assert claim_link("S2-007") == '<a class="claim-link" href="claims-seed-002.html#s2-007">S2-007</a>'


def test_every_table_built_from_ledger_rows_links_its_claims(st):
    rows = st.ledger_rows()[:3]
    frame = ledger_table_frame(rows)
    assert list(frame.claim) == [claim_link(r.claim_id) for r in rows]


@pytest.mark.seeds
def test_headings_are_lines_of_their_seed_and_sections_file_is_current(st, seeds):
    heads = pd.read_csv(cards.HEADINGS_CSV, keep_default_na=False)
    for r in heads.itertuples():
        lines = (seeds / r.seed_file).read_text(encoding="utf-8").split("\n")
        assert lines.count(r.heading) == 1, (r.seed_file, r.heading)
    fresh = cards.claim_sections(st.ds.claims, heads, seeds)
    committed = cards.load_claim_sections()
    pd.testing.assert_frame_equal(fresh.reset_index(drop=True), committed, check_dtype=False)
    # a quote's offset is where it occurs: seed 000's first claim opens its second paragraph
    s0 = (seeds / "000_8441da0fbd4ce03c.txt").read_text(encoding="utf-8")
    row = committed.set_index("claim_id").loc["S0-001"]
    assert s0[row.offset:].startswith("The core innovation lies in three tightly integrated layers")
    assert row.section == "Technical Deep Dive"


def test_claims_under_a_heading_follow_the_article_order(st):
    sec = cards.load_claim_sections()
    assert sorted(sec.claim_id) == sorted(st.ds.claims.claim_id)
    rows = [r for r in st.ledger_rows() if r.seed_file.startswith("000_")]
    blocks = cards.article_order(rows, sec)
    # the seed's headings in its own order, each once (no heading splits into two blocks)
    heads = pd.read_csv(cards.HEADINGS_CSV, keep_default_na=False)
    order = list(heads[heads.seed_file == "000_8441da0fbd4ce03c.txt"].heading)
    names = [h for h, _ in blocks]
    assert len(names) == len(set(names))
    assert names == [h for h in order if h in names]
    assert names[:3] == ["Technical Deep Dive", "Network Topology: The Elimination of the 'Tail Latency' Bottleneck",
                         "Storage Hierarchy: The 'Checkpointing Tax' Solved"]
    offsets = dict(zip(sec.claim_id, sec.offset))
    flat = [r.claim_id for _, part in blocks for r in part]
    assert [offsets[c] for c in flat] == sorted(offsets[c] for c in flat)


def test_missing_section_row_is_one_clear_error(st):
    from analysis.errors import StudyInputError

    sec = cards.load_claim_sections()
    with pytest.raises(StudyInputError, match=r"results/claim_sections.csv: no row for S0-001"):
        cards.article_order(st.ledger_rows()[:2], sec[sec.claim_id != "S0-001"])


@pytest.mark.parametrize("seed", ["000", "001", "002", "003", "004"])
def test_each_page_has_one_card_per_claim_with_a_unique_anchor(st, seed):
    page = cards.seed_cards(seed, st)
    html_ = "\n".join(c for _, c in page.blocks)
    ids = re.findall(r'<section class="claim-card" id="([^"]+)"', html_)
    expected = sorted(c.lower() for c in st.ds.claims.claim_id if c[1] == seed[2])
    assert len(ids) == len(set(ids)) == len(expected) == int((st.ds.claims.seed_file.str[:3] == seed).sum())
    assert sorted(ids) == expected


def test_committed_card_notebooks_show_every_card(st):
    counts = st.ds.claims.seed_file.str[:3].value_counts()
    for seed, n in counts.items():
        nb = nbformat.read(NOTEBOOK_DIR / f"claims-seed-{seed}.ipynb", as_version=4)
        text = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
        ids = re.findall(r'<section class="claim-card" id="(s\d-\d{3})"', text)
        assert len(ids) == len(set(ids)) == n, seed


def _card(st, claim_id):
    page = cards.seed_cards(f"00{claim_id[1]}", st)
    text = "\n".join(c for _, c in page.blocks)
    m = re.search(rf'<section class="claim-card" id="{claim_id.lower()}".*?</section>', text, flags=re.S)
    assert m, claim_id
    return m.group(0)


def test_card_of_S0_024_matches_its_ledger_row(st, ledger_csv):
    card = _card(st, "S0-024")
    row = ledger_csv.loc["S0-024"]
    text = html.unescape(re.sub(r"<[^>]+>", " ", card))
    # the verdict word and its colour
    assert row.verdict == "contradicted"
    assert '<span class="claim-verdict" style="background-color: #f4c7c3">contradicted</span>' in card
    # the quote, escaped, and nothing but it
    assert html.escape(row.quote, quote=True) in card
    # claimed 800 TFLOPS vs rebuilt 667 (the Neuron docs' dense BF16), ratio 800/667 = 1.199
    assert float(row.claimed) == 800 and float(row.rebuilt) == 667
    assert re.search(r"Claimed\s+800 TFLOPS\s+Rebuilt", text)  # the unit once, not "800 TFLOPS TFLOPS"
    assert re.search(r"Rebuilt \(90% interval\)\s+667 TFLOPS; claimed / rebuilt = 1.199", text)
    # every check, the one the verdict rests on marked, and the rule
    assert len(re.findall(r'<li class="claim-check[ "]', card)) == 1 and 'class="claim-check rests-on"' in card
    assert "published figures (data/hardware.csv) [public]: disagrees -&gt; contradicted" in card
    assert html.escape(row.rule, quote=True) in card
    # inputs with value, unit, basis and a link to the source's own URL
    src = st.ds.sources.set_index("source_id").location["aws-neuron-trainium2-arch"]
    assert src.startswith("https://")
    assert ("<tr><td><code>hardware.trainium2.bf16_dense_tflops</code></td><td>667</td><td>TFLOPS</td>"
            f'<td>vendor_spec</td><td><a href="{src}"><code>aws-neuron-trainium2-arch</code></a></td></tr>') in card
    assert "no scenario assumption" in card and row.top_assumption == ""
    assert ('Cite this claim: <code>&quot;AWS AI chips: the claims, rebuilt&quot;, v0.1.0, claim S0-024, '
            "notebooks/claims-seed-000.html#s0-024</code>") in card


def test_exact_figures_keep_their_digits_and_units_show_once(st):
    # S0-025: H100's dense BF16 is 989.5 TFLOPS (1,979 with sparsity / 2), an exact published figure:
    # written 989.5, not rounded to 990; a unit the formatter leaves out (chips) is added once
    text = html.unescape(re.sub(r"<[^>]+>", " ", _card(st, "S0-025")))
    assert re.search(r"Rebuilt \(90% interval\)\s+989.5 TFLOPS;", text)
    from analysis import cards
    assert cards._unit_left_out("chip") and not cards._unit_left_out("TFLOPS") and not cards._unit_left_out("USD")


def test_the_swing_of_the_assumption_that_moves_it_most_carries_the_unit(st, ledger_csv):
    # S0-036 (USD per million tokens): serving_utilisation's low-to-high swing, in the claim's unit
    swing = ledger_csv.loc["S0-036"].sensitivity.split(";")[0].split(": ")[1].replace("-", "\u2212")  # fmt's minus
    text = html.unescape(re.sub(r"<[^>]+>", " ", _card(st, "S0-036")))
    assert re.search(rf"Moves it most:\s+serving_utilisation\s+\(low to high swings the result by {swing} USD/Mtoken\)",
                     text), text[-600:]


def test_card_says_what_explain_prints(st):
    """For a claim with several inputs and a sensitivity: the same input keys, units, bases, sources, rule
    and top assumption as `python -m analysis explain`."""
    row = next(r for r in st.ledger_rows() if r.claim_id == "S0-037")
    out = explain(row)
    card = html.unescape(_card(st, "S0-037"))
    assert row.inputs and row.sensitivity
    for i in row.inputs:
        assert i.key in out and i.key in card
        assert f"<td>{i.unit}</td><td>{i.basis}</td>" in card
        assert i.source in card
    assert f"rule:      {row.rule}" in out and row.rule in card
    top = out.split("moves it most: ")[1].split(" ")[0]
    assert top == row.sensitivity[0][0] and f"Moves it most: <code>{top}</code>" in card


def test_an_input_that_is_another_claim_links_to_its_card(st):
    card = _card(st, "S4-016")
    assert '<code>claim.</code><a href="claims-seed-004.html#s4-009"><code>S4-009</code></a></td>' in card
    card = _card(st, "S0-012")  # an input that is the upper end of another claim's range (S0-009)
    assert '<a href="claims-seed-000.html#s0-009"><code>S0-009</code></a><code>.high</code>' in card


def test_ledger_frame_has_the_filter_columns(st):
    t = cards.ledger_table(st)
    f = t.frame
    assert list(f.columns[:4]) == ["claim", "seed", "kind", "chip"] and "verdict" in f and "moves it most" in f
    assert len(f) == len(st.ds.claims)
    s0_024 = f[f.claim == claim_link("S0-024")].iloc[0]
    assert (s0_024.seed, s0_024.kind, s0_024.chip) == ("000", "spec", "trainium2")
    # a subject that is not a chip of data/chips.csv
    s0_001 = f[f.claim == claim_link("S0-001")].iloc[0]
    assert s0_001.chip == "(not a chip)"
    opts = t.options()
    assert opts["connected"] is False and opts["maxBytes"] == 0 and opts["scrollX"] is True
    assert [list(f.columns)[i] for i in opts["searchPanes"]["columns"]] == ["verdict", "seed", "kind", "chip"]


def test_ledger_table_html_is_offline_and_deterministic(st):
    a, b = cards.ledger_table(st)._repr_html_(), cards.ledger_table(st)._repr_html_()
    assert a == b
    assert "unpkg.com" not in a and "cdn.jsdelivr" not in a and "<script src=" not in a
    assert 'href="../_static/downloads/ledger.csv" download' in a
    assert 'href="../_static/downloads/ledger.json" download' in a
