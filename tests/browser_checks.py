"""The rendering checks the browser test runs on every page of the built book (and, in
tests/test_browser.py, on deliberately broken synthetic pages, to show each check can fail).

:func:`page_problems` takes a loaded Playwright page and returns {check name: [offending items]};
an empty list for every check means the page renders right. Names:

* ``glue`` — a MathJax formula, or text outside code, containing "glue" (an unfilled glue slot);
* ``currency_maths`` — a formula that is prose: a currency amount, or words, between two ``$``;
* ``wide`` — an element wider than the content column that is not inside its own scroll box;
* ``e_notation`` — a number like ``8.138e+08`` in prose or a table cell (``× 10²⁶`` is fine);
* ``table_as_fig`` — a table captioned "Fig.";
* ``claim_link`` — a link to a claim card (``claims/seed-*.html#...``) whose page or anchor is missing.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

CHECKS = ("glue", "currency_maths", "wide", "e_notation", "table_as_fig", "claim_link")

E_NOTATION = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")
GLUE = re.compile(r"glue", re.I)
_TEX_COMMAND_ARG = re.compile(r"\\(?:text|mathrm|textrm|mbox|operatorname|mathit|textit|textbf)\s*\{[^{}]*\}")
_TEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_TWO_WORDS = re.compile(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}")
_AMOUNT_THEN_WORD = re.compile(r"^\s*\d[\d,.]*\s*(?:[kKMBT]|bn|million|billion|trillion)?\s+[A-Za-z]{2,}")


def tex_is_prose(tex: str) -> bool:
    """Whether a formula's TeX reads as prose: an amount followed by a word ('0.35 on Trainium2'),
    or two plain words in a row once \\text{...}-like arguments and commands are removed."""
    bare = _TEX_COMMAND.sub(" ", _TEX_COMMAND_ARG.sub(" ", tex))
    return bool(_AMOUNT_THEN_WORD.search(tex) or _TWO_WORDS.search(bare))


_JS = r"""async () => {
  const out = {glue: [], currency: [], wide: [], text: '', table_as_fig: [], claim_links: []};
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    out.tex = Array.from(MathJax.startup.document.math || []).map(m => String(m.math));
  } else { out.tex = []; }
  // any rendered MathJax element whose text or label mentions glue
  for (const m of document.querySelectorAll('mjx-container')) {
    const t = (m.getAttribute('aria-label') || '') + ' ' + m.textContent;
    if (/glue/i.test(t)) out.glue.push(t.slice(0, 80));
  }
  // the visible text outside code, scripts and formulas
  const skip = 'script, style, code, pre, .highlight, mjx-container, .math, noscript, .study-label';
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && !n.parentElement.closest(skip)) parts.push(n.textContent);
  }
  out.text = parts.join(' ');
  // elements wider than the content column, not inside a scroll box that fits the column
  const col = document.querySelector('article') || document.body;
  const colRight = col.getBoundingClientRect().left + col.clientWidth;
  const scrolls = el => { const ox = getComputedStyle(el).overflowX; return ox === 'auto' || ox === 'scroll'; };
  for (const el of col.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= colRight + 1) continue;
    let boxed = false;
    for (let a = el.parentElement; a && a !== col.parentElement; a = a.parentElement) {
      if (scrolls(a) && a.getBoundingClientRect().right <= colRight + 1) { boxed = true; break; }
    }
    if (!boxed && !(scrolls(el) && el.getBoundingClientRect().right <= colRight + 1)) {
      out.wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                    (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') +
                    ' ' + Math.round(r.right - colRight) + 'px');
    }
  }
  // a figure that holds a table (and no chart) captioned as a figure
  for (const f of document.querySelectorAll('figure, div.figure')) {
    const num = f.querySelector('.caption-number');
    if (num && f.querySelector('table') && !f.querySelector('.study-chart') && /^\s*Fig/.test(num.textContent))
      out.table_as_fig.push((f.id || '?') + ': ' + num.textContent.trim());
  }
  for (const a of document.querySelectorAll('a[href*="claims/seed-"]')) out.claim_links.push(a.href);
  return out;
}"""


def page_problems(page, base_url: str, html_dir: Path) -> dict[str, list[str]]:
    """Run every check on a loaded page served from ``html_dir`` at ``base_url``."""
    raw = page.evaluate(_JS)
    problems = {k: [] for k in CHECKS}
    problems["glue"] = raw["glue"] + [t[:80] for t in raw["tex"] if GLUE.search(t)]
    problems["glue"] += [m.group(0) for m in re.finditer(r".{0,30}\{glue(?::\w+)?\}.{0,30}|.{0,30}glue:(?:text|figure|math).{0,30}", raw["text"])]
    problems["currency_maths"] = [t[:80] for t in raw["tex"] if tex_is_prose(t)]
    problems["wide"] = raw["wide"][:10]
    problems["e_notation"] = [raw["text"][max(0, m.start() - 30): m.end() + 10] for m in E_NOTATION.finditer(raw["text"])][:10]
    problems["table_as_fig"] = raw["table_as_fig"]
    problems["claim_link"] = unresolved_claim_links(raw["claim_links"], base_url, html_dir)
    return problems


def unresolved_claim_links(hrefs: list[str], base_url: str, html_dir: Path) -> list[str]:
    """The claim-card links whose page does not exist in ``html_dir`` or has no element with the
    anchor's id."""
    bad, pages = [], {}
    for href in sorted(set(hrefs)):
        u = urlparse(href)
        rel = unquote(u.path)[len(urlparse(base_url).path):] if href.startswith(base_url) else None
        if rel is None:
            bad.append(f"{href} (outside the book)")
            continue
        path = html_dir / rel
        if path not in pages:
            pages[path] = path.read_text(encoding="utf-8") if path.is_file() else None
        text = pages[path]
        if text is None:
            bad.append(f"{href} (no page {rel})")
        elif u.fragment and not re.search(rf'id=["\']{re.escape(u.fragment)}["\']', text):
            bad.append(f"{href} (no anchor #{u.fragment})")
    return bad
