"""A real browser opens the built book: every page, every chart rendered, no console errors, and no
request leaves the machine (anything but the book's own server is blocked and recorded). Every page
also passes the rendering checks of tests/browser_checks.py (no unfilled glue, no currency typeset
as maths, nothing cut off at the right, no e-notation, no table captioned "Fig.", every claim link
resolves), and each of those checks is shown to fail on a deliberately broken synthetic page.

Uses Debian's Chromium (/usr/bin/chromium, installed by `make test` when run as root) driven by
Playwright; Playwright never downloads a browser here. Skipped, saying why, only outside CI when
Chromium is absent; in CI (CI=true) a missing browser fails the test.
"""
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from browser_checks import CHECKS, page_problems, tex_is_prose

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps"]
SKIP_PAGES = {"genindex.html", "search.html"}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed (make test installs Debian's chromium package as root)")
        pytest.skip("Chromium not installed: `apt-get install chromium` (make test does this as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _serve(folder: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


@pytest.fixture(scope="module")
def server(built_book):
    html_dir, _ = built_book
    srv, url = _serve(html_dir)
    yield html_dir, url
    srv.shutdown()


def test_every_page_renders_its_charts_offline_without_console_errors(browser, server):
    html_dir, base = server
    pages = sorted(str(p.relative_to(html_dir)) for p in html_dir.rglob("*.html")
                   if p.name not in SKIP_PAGES and "_static" not in p.parts
                   and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")[:2000])  # redirect stubs
    assert len(pages) >= 3
    outside, problems, charts_seen = [], [], 0
    for rel in pages:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors = []

        def route(r, errors=errors):
            url = r.request.url
            if url.startswith(base) or url.startswith(("data:", "blob:", "about:")):
                r.continue_()
            else:
                outside.append((rel, url))
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto(base + rel, wait_until="load")
        n = page.eval_on_selector_all(".study-chart", "els => els.length")
        if n:
            try:
                page.wait_for_function(
                    "document.querySelectorAll('.study-chart').length === "
                    "document.querySelectorAll('.study-chart svg.marks, .study-chart canvas').length", timeout=15000)
            except Exception:
                rendered = page.eval_on_selector_all(".study-chart svg.marks", "els => els.length")
                problems.append(f"{rel}: {rendered} of {n} charts rendered")
        charts_seen += n
        # a table wider than the content column must scroll inside its own box, not be cut off
        cut = page.evaluate("""() => Array.from(document.querySelectorAll('table.study-table')).filter(t => {
                const col = t.closest('article') || document.body;
                if (t.getBoundingClientRect().width <= col.clientWidth + 1) return false;
                for (let el = t; el && el !== col; el = el.parentElement) {
                    const ox = getComputedStyle(el).overflowX;
                    if ((ox === 'auto' || ox === 'scroll') && el.clientWidth <= col.clientWidth + 1) return false;
                }
                return true;
            }).map(t => t.id)""")
        if cut:
            problems.append(f"{rel}: tables cut off without a scroll box: {cut[:3]}")
        for check, found in page_problems(page, base, html_dir).items():
            if found:
                problems.append(f"{rel}: {check}: {found[:3]}")
        if errors:
            problems.append(f"{rel}: console errors {errors[:3]}")
        page.close()
    assert not outside, f"requests to outside hosts: {outside[:5]}"
    assert not problems, "\n".join(problems)
    assert charts_seen >= 2


# --- the test of the test: each check fails on a page broken in exactly its way ----------------------

_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<script>window.MathJax = {tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]]}};</script>
<script defer src="mathjax/tex-chtml.js"></script>
<style>body { margin: 0; } article { width: 700px; margin: 0 auto; } .box { overflow-x: auto; }</style>
</head><body><article class="bd-article">
<h1>A chapter</h1>
<p>A chip-hour costs USD 1.25 and a fleet USD 812M; training took 1.2 × 10²⁶ FLOPs.</p>
<p>The capex is \\(K\\,p_K + (T - K)\\,p_R\\) with \\(\\text{peak compute}\\) P.</p>
<figure id="tbl-ok"><figcaption><span class="caption-number">Table 1 </span>A table.</figcaption>
<div class="box"><table class="study-table"><tr><td>USD 14.2M</td><td>yes</td></tr></table></div></figure>
<p>See <a href="claims/seed-000.html#s0-021">S0-021</a>.</p>
{broken}
</article></body></html>"""

BROKEN = {
    "glue": '<p>The price is \\(\\text{glue:text}`ch3_price:.2f`\\) per hour.</p>',
    "currency_maths": '<p>It costs \\(0.35 on Trainium2, against \\) on an H100.</p>',
    "wide": '<div style="width: 1400px">a table cut off at the right</div>',
    "e_notation": '<table class="study-table"><tr><td>8.138e+08 (6.313e+08\u20139.985e+08)</td></tr></table>',
    "table_as_fig": '<figure id="tbl-bad"><figcaption><span class="caption-number">Fig. 3 </span>A table.'
                    '</figcaption><table><tr><td>1</td></tr></table></figure>',
    "claim_link": '<p>See <a href="claims/seed-000.html#s0-999">S0-999</a> and '
                  '<a href="claims/seed-009.html#s9-001">S9-001</a>.</p>',
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A folder of synthetic pages (one clean, one per broken check) with the book's MathJax and a
    claim-card page holding #s0-021; served like the book."""
    from analysis.book import VENDOR, prepare_assets

    prepare_assets()
    d = tmp_path_factory.mktemp("synthetic")
    shutil.copytree(VENDOR / "mathjax", d / "mathjax")
    (d / "claims").mkdir()
    (d / "claims" / "seed-000.html").write_text('<html><body><div id="s0-021">card</div></body></html>')
    (d / "clean.html").write_text(_PAGE.replace("{broken}", ""), encoding="utf-8")
    for check, html in BROKEN.items():
        (d / f"{check}.html").write_text(_PAGE.replace("{broken}", html), encoding="utf-8")
    srv, base = _serve(d)
    yield d, base
    srv.shutdown()


def _problems(browser, folder, base, name):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(base + name, wait_until="load")
    found = page_problems(page, base, folder)
    page.close()
    return found


def test_every_check_passes_a_clean_synthetic_page(browser, synthetic):
    folder, base = synthetic
    found = _problems(browser, folder, base, "clean.html")
    assert found == {c: [] for c in CHECKS}


@pytest.mark.parametrize("check", CHECKS)
def test_each_check_fails_on_a_page_broken_its_way(browser, synthetic, check):
    folder, base = synthetic
    found = _problems(browser, folder, base, f"{check}.html")
    assert found[check], f"{check} did not notice: {BROKEN[check]}"
    others = {c: v for c, v in found.items() if v and c != check}
    assert not others, f"{check}'s page also tripped {others}"


def test_claim_link_check_names_both_missing_anchor_and_missing_page(browser, synthetic):
    folder, base = synthetic
    found = _problems(browser, folder, base, "claim_link.html")["claim_link"]
    assert any("no anchor #s0-999" in f for f in found) and any("no page claims/seed-009.html" in f for f in found)


@pytest.mark.parametrize("tex, prose", [("0.35 on Trainium2, against ", True), ("14.2M in capex", True),
                                        (r"K\,p_K + (T - K)\,p_R", False), (r"\text{peak compute}\,P", False),
                                        (r"\frac{p_\text{inst}}{n}", False), ("2 \\times 10^{26}", False)])
def test_tex_is_prose(tex, prose):
    assert tex_is_prose(tex) is prose
