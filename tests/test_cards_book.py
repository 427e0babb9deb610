"""The built book: every claim link resolves to a card, the ledger's downloads are the ledger, and in
Debian's Chromium the ledger table sorts, searches, pages and filters with no request leaving the machine."""
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.paths import REPO
from test_browser import browser, server  # noqa: F401  (the browser test's fixtures: Chromium, local server)

LINK = re.compile(r'href=\\*"((?:\.\./)*)(?:notebooks/)?(claims-seed-\d{3}\.html)#(s\d-[^"\\]+)\\*"')  # card anchors only


@pytest.fixture(scope="module")
def html(built_book) -> Path:
    return built_book[0]


def _card_ids(html_dir: Path) -> dict[str, set]:
    return {p.name: set(re.findall(r'<section class="claim-card" id="([^"]+)"', p.read_text(encoding="utf-8")))
            for p in (html_dir / "notebooks").glob("claims-seed-*.html")}


def test_every_claim_link_in_the_book_resolves_to_a_card(html):
    cards = _card_ids(html)
    claims = pd.read_csv(REPO / "data" / "claims.csv")
    assert sum(len(v) for v in cards.values()) == len(claims)
    links, broken, per_page = 0, [], {}
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for m in LINK.finditer(text):
            links += 1
            per_page[page.name] = per_page.get(page.name, 0) + 1
            if m.group(3) not in cards.get(m.group(2), set()):
                broken.append(f"{page.relative_to(html)}: {m.group(0)}")
    assert not broken, broken[:10]
    # the ledger links every claim (its rows are in the DataTable's JSON), the landing page its top failures,
    # and each chapter with a verdict table its claims
    assert per_page["A1_ledger.html"] >= len(claims)
    assert per_page["00_findings.html"] >= 12
    for chapter in ("01_chip_specs.html", "03_inference.html", "04_training.html", "09_market.html"):
        assert per_page.get(chapter, 0) > 0, chapter


def test_a_broken_claim_link_is_caught():
    """The link pattern sees a link to a card that does not exist (a test of the test above)."""
    text = '<a href="claims-seed-000.html#s0-999">S0-999</a> and in JSON: <a href=\\"claims-seed-004.html#s4-001\\">'
    found = [(m.group(2), m.group(3)) for m in LINK.finditer(text)]
    assert found == [("claims-seed-000.html", "s0-999"), ("claims-seed-004.html", "s4-001")]


def test_ledger_downloads_are_the_ledger_exports(html):
    for name in ("ledger.csv", "ledger.json"):
        assert (html / "_static" / "downloads" / name).read_bytes() == (REPO / "results" / name).read_bytes()
    page = (html / "notebooks" / "A1_ledger.html").read_text(encoding="utf-8")
    assert 'href="../_static/downloads/ledger.csv"' in page and 'href="../_static/downloads/ledger.json"' in page


def test_ledger_table_sorts_searches_filters_offline(browser, server):  # noqa: F811
    html_dir, base = server
    ledger = pd.read_csv(REPO / "results" / "ledger.csv", keep_default_na=False)
    n, n_contradicted = len(ledger), int((ledger.verdict == "contradicted").sum())
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    outside, errors = [], []

    def route(r):
        url = r.request.url
        if url.startswith(base) or url.startswith(("data:", "blob:", "about:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "notebooks/A1_ledger.html", wait_until="load")
    page.wait_for_selector("#tbl-ledger-datatable_wrapper .dt-info", timeout=20000)
    info = lambda: page.inner_text("#tbl-ledger-datatable_wrapper .dt-info")  # noqa: E731
    first = lambda: page.inner_text("#tbl-ledger-datatable > tbody > tr:first-child > td:first-child")  # noqa: E731
    shown = lambda: page.eval_on_selector_all("#tbl-ledger-datatable > tbody > tr", "els => els.length")  # noqa: E731
    assert info() == f"Showing 1 to 25 of {n} entries" and shown() == 25  # paged
    assert first() == "S0-001"
    # sort: the claim column, descending
    head = page.locator("#tbl-ledger-datatable_wrapper > .dt-layout-table .dt-scroll-head th").first
    assert head.inner_text().strip() == "claim"
    order = head.locator(".dt-column-order")  # the sort arrows (the heading's text stays selectable)
    sorted_as = ("s => document.querySelector('#tbl-ledger-datatable_wrapper > .dt-layout-table .dt-scroll-head th')"
                 ".getAttribute('aria-sort') === s")
    order.click()
    page.wait_for_function(sorted_as, arg="ascending")
    assert first() == "S0-001"
    order.click()
    page.wait_for_function(sorted_as, arg="descending")
    assert first() == sorted(ledger.claim_id)[-1]
    # search: one claim id
    page.fill("#tbl-ledger-datatable_wrapper .dt-search input", "S0-024")
    page.wait_for_function("document.querySelectorAll('#tbl-ledger-datatable > tbody > tr').length === 1")
    assert first() == "S0-024" and "filtered from" in info()
    page.fill("#tbl-ledger-datatable_wrapper .dt-search input", "")
    # filter: the verdict pane's 'contradicted'
    pane = page.locator("#tbl-ledger-datatable_wrapper .dtsp-searchPane").first
    assert pane.locator(".dtsp-paneInputButton").first.get_attribute("placeholder") == "verdict"
    pane.locator(".dtsp-name", has_text=re.compile(r"^contradicted$")).first.click()
    page.wait_for_function(f"document.querySelector('#tbl-ledger-datatable_wrapper .dt-info').innerText"
                           f".startsWith('Showing 1 to 25 of {n_contradicted} entries')")
    verdicts = page.eval_on_selector_all("#tbl-ledger-datatable > tbody > tr > td:nth-child(9)",
                                         "els => els.map(e => e.innerText)")
    assert set(verdicts) == {"contradicted"}
    # every column visible or scrollable inside its box
    box = page.evaluate("""() => { const t = document.querySelector('#tbl-ledger-datatable');
        const s = t.closest('.dt-scroll-body'); const a = document.querySelector('article');
        return [getComputedStyle(s).overflowX, s.clientWidth <= a.clientWidth + 1, t.scrollWidth >= s.clientWidth]; }""")
    assert box == ["auto", True, True]
    # a claim link opens its card
    page.click("#tbl-ledger-datatable > tbody > tr:first-child a.claim-link")
    page.wait_for_load_state("load")
    assert re.search(r"notebooks/claims-seed-00\d\.html#s\d-\d{3}$", page.url)
    anchor = page.url.split("#")[1]
    assert page.eval_on_selector(f"section.claim-card#{anchor}", "e => e.matches(':target')")
    page.close()
    assert not outside, outside[:5]
    assert not errors, errors[:3]


def test_changes_link_is_absent_from_a_baseline_build(html):
    page = (html / "notebooks" / "00_findings.html").read_text(encoding="utf-8")
    assert "study-changes-link" not in page and not (html / "notebooks" / "changes.html").exists()
