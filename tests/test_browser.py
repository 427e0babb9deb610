"""A real browser opens the built book: every page, every chart rendered, no console errors, and no
request leaves the machine (anything but the book's own server is blocked and recorded).

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


@pytest.fixture(scope="module")
def server(built_book):
    html_dir, _ = built_book

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield html_dir, f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()


def test_every_page_renders_its_charts_offline_without_console_errors(browser, server):
    html_dir, base = server
    pages = sorted(str(p.relative_to(html_dir)) for p in html_dir.rglob("*.html")
                   if p.name not in SKIP_PAGES and "_static" not in p.parts
                   and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")[:2000])  # redirect stubs
    assert len(pages) >= 3
    outside, problems, charts_seen = [], [], 0
    for rel in pages:
        page = browser.new_page()
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
        if errors:
            problems.append(f"{rel}: console errors {errors[:3]}")
        page.close()
    assert not outside, f"requests to outside hosts: {outside[:5]}"
    assert not problems, "\n".join(problems)
    assert charts_seen >= 2
