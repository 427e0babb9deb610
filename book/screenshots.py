"""Screenshots of the built book at 1366 px, for a reviewer who does not build it (`make screenshots`).

Serves book/_build/html on a local port, opens it in Debian's Chromium (Playwright, offline; every
request to another host is blocked) and writes into book/screenshots/:

* landing.png         the landing page (the findings)
* chapter.png         chapter 8 from the top
* chapter-verdicts.png chapter 8's verdict table (its caption, label and downloads)
* claim-card.png      a claim-card page at one card (notebooks/claims-seed-000.html#s0-024)
* ledger.png          the ledger appendix

Each is the 1366 px wide viewport, 1400 px tall, after charts and MathJax have rendered.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
HTML = HERE / "_build" / "html"
OUT = HERE / "screenshots"
WIDTH, HEIGHT = 1366, 1400
SHOTS = [("landing", "notebooks/00_findings.html", None),
         ("chapter", "notebooks/08_fleet_pricing.html", None),
         ("chapter-verdicts", "notebooks/08_fleet_pricing.html", "#tbl-fleet-pricing-verdicts"),
         ("claim-card", "notebooks/claims-seed-000.html", "#s0-024"),
         ("ledger", "notebooks/A1_ledger.html", None)]
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps"]


def main() -> int:
    if not (HTML / "index.html").exists():
        print(f"{HTML} has no built book: run `make book` first", file=sys.stderr)
        return 2
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("Chromium not installed: `apt-get install chromium`", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}/"
    OUT.mkdir(exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=ARGS)
            for name, rel, anchor in SHOTS:
                if not (HTML / rel).exists():
                    print(f"skipped {name}: the book has no {rel}")
                    continue
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
                page.goto(base + rel, wait_until="load")
                page.wait_for_function("document.querySelectorAll('.study-chart').length === "
                                       "document.querySelectorAll('.study-chart svg.marks').length", timeout=20000)
                page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
                if anchor:
                    page.evaluate(f"() => document.querySelector('{anchor}').scrollIntoView()")
                page.wait_for_timeout(300)
                page.screenshot(path=str(OUT / f"{name}.png"))
                print(f"wrote {OUT / f'{name}.png'}")
                page.close()
            browser.close()
    finally:
        srv.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
