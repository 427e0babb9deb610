"""Sphinx extension for the study's book: keep every page offline.

Jupyter Book 1 always loads sphinx-thebe, which injects a script naming an unpkg.com URL (twice,
when notebooks are executed during the build, which breaks the page's JavaScript with a
"THEBE_JS_URL has already been declared" error). The study does not use Thebe, so this extension
drops those scripts, and refuses any other script or stylesheet that would load from the internet.

It also puts a banner on every page when the book is built under a scenario other than the
baseline (``make book SCENARIO=...`` sets $STUDY_SCENARIO), naming it and listing how it differs.

Captions that cite: a notebook cell captioned under a ``tbl-`` name (myst-nb ``mystnb.figure``)
becomes a :class:`study_table`, numbered as a table ("Table N", and ``{numref}`` says so), with its
caption above it; figures stay "Fig. N". Every ``fig-``/``tbl-`` caption ends with its stable label
(the name A4 tells readers to cite) and links to the downloads that ``python -m analysis book``
wrote into ``_static/downloads/`` (PNG and SVG for a figure, CSV for both).
"""
from __future__ import annotations

import html
import os
import re

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.osutil import relative_uri

_BANNER = {"html": ""}


def _prepare_banner(app):
    path = os.environ.get("STUDY_SCENARIO")
    if not path:
        _BANNER["html"] = ""
        return
    from analysis.study import scenario_summary

    name, lines = scenario_summary(path)
    items = "".join(f"<li><code>{html.escape(x)}</code></li>" for x in lines) or "<li>no differences</li>"
    _BANNER["html"] = (f'<div class="study-scenario-banner" role="note"><strong>Scenario: '
                       f'{html.escape(name)}</strong> ({html.escape(os.path.basename(path))}). '
                       f'Every number on this page was computed under it. It differs from the baseline in:'
                       f"<ul>{items}</ul></div>")


def _add_banner(app, pagename, templatename, context, doctree):
    if _BANNER["html"] and "body" in context:
        banner = _BANNER["html"]
        if "notebooks/changes" in app.env.found_docs:  # written by analysis.changes.stage under a scenario
            banner = banner[:-len("</div>")] + (f'<p><a class="study-changes-link" href="{context["pathto"]("notebooks/changes")}">'
                                                "What changed: every verdict and number that differs from the baseline</a></p></div>")
        context["body"] = banner + context["body"]


def _is_external(url) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://", "//"))


def _drop_thebe_and_check_offline(app, pagename, templatename, context, doctree):
    kept = []
    for js in context.get("script_files", []):
        name = getattr(js, "filename", js)
        body = getattr(js, "attributes", {}).get("body", "") if hasattr(js, "attributes") else ""
        if (isinstance(name, str) and "thebe" in name) or "THEBE_JS_URL" in (body or ""):
            continue
        if _is_external(name):
            raise ExtensionError(f"page {pagename} would load a script from the internet: {name}")
        kept.append(js)
    context["script_files"] = kept
    for css in context.get("css_files", []):
        name = getattr(css, "filename", css)
        if _is_external(name):
            raise ExtensionError(f"page {pagename} would load a stylesheet from the internet: {name}")


class study_table(nodes.figure):  # noqa: N801 (docutils names node classes in lower case)
    """A captioned notebook output that is a table: numbered with the tables, drawn as a figure."""


def _visit_study_table(self, node):
    self.visit_figure(node)


def _depart_study_table(self, node):
    # docutils closes <figcaption> at the end of a figure (its caption comes last); a table's caption
    # comes first and is closed right after it (_tables_as_tables), so only the figure is closed here
    self.body.append("</figure>\n")


def _tables_as_tables(app, doctree):
    """doctree-read: every figure whose id starts with 'tbl-' becomes a study_table, caption first."""
    for fig in list(doctree.findall(nodes.figure)):
        if type(fig) is not nodes.figure or not any(i.startswith("tbl-") for i in fig["ids"]):
            continue
        new = study_table(fig.rawsource, **fig.attributes)
        caps = [c for c in fig.children if isinstance(c, nodes.caption)]
        close = [nodes.raw("", "</figcaption>\n", format="html")] if caps else []
        new.extend([c.deepcopy() for c in caps] + close + [c.deepcopy() for c in fig.children if c not in caps])
        new["classes"].append("study-table-figure")
        fig.replace_self(new)
        for i in new["ids"]:
            doctree.ids[i] = new


LONG_CELL = 240      # characters: a table cell longer than this is folded (rows stay short)
WIDE_CELL = 100      # characters: a cell this long gets a column wide enough to read (not one word a line)
# a cell of plain text: no tags inside ('<' only as text, e.g. 'rebuilt low 3 <= claimed')
_TD = re.compile(r'(<td\b[^>]*>)((?:[^<]|<(?![A-Za-z/!?])){%d,})(</td>)' % (WIDE_CELL + 1))


def fold_text(text: str, keep: int = 160) -> str:
    """A long cell as <details>: the summary is its first sentence (or first ``keep`` characters, cut
    at a space), the rest opens below it, so the opened cell reads as the original text."""
    cut = text.find(". ", 40)
    if cut < 0 or cut > keep:
        cut = text.rfind(" ", 0, keep)
    cut = cut + 1 if cut > 0 else keep
    head, rest = text[:cut].rstrip(), text[cut:].lstrip()
    return (f'<details class="study-more"><summary>{head} <span class="study-more-hint">more</span>'
            f"</summary>{rest}</details>")


def fold_long_cells(markup: str) -> str:
    """In a study table, every plain-text <td> longer than WIDE_CELL characters is wrapped in a
    ``div.study-long`` (a readable minimum width), and folded (fold_text) past LONG_CELL."""
    if "study-table" not in markup:
        return markup

    def one(m):
        text = m.group(2)
        body = fold_text(text) if len(text) > LONG_CELL else text
        return f'{m.group(1)}<div class="study-long">{body}</div>{m.group(3)}'
    return _TD.sub(one, markup)


def _fold_tables(app, doctree):
    """doctree-read: fold the long cells of every study table's HTML output (chapter 8's 'why')."""
    for raw in list(doctree.findall(nodes.raw)):
        if raw.get("format") == "html" and "study-table" in raw.astext():
            new = fold_long_cells(raw.astext())
            if new != raw.astext():
                raw.replace_self(nodes.raw(new, new, format="html", classes=raw.get("classes", [])))


DOWNLOADS = "_static/downloads"
KINDS = {"fig-": ("png", "svg", "csv"), "tbl-": ("csv",)}


def _cite_and_download(app, doctree, docname):
    """doctree-resolved: append 'Cite as <label> · Download PNG · SVG · CSV' to each caption."""
    if app.builder.format != "html":
        return
    folder = os.path.join(app.srcdir, "_assets", "downloads")
    here = app.builder.get_target_uri(docname)
    for fig in doctree.findall(nodes.figure):
        label = next((i for i in fig["ids"] if i.startswith(tuple(KINDS))), None)
        cap = next((c for c in fig.children if isinstance(c, nodes.caption)), None)
        if label is None or cap is None:
            continue
        exts = [e for e in KINDS[label[:4]] if os.path.exists(os.path.join(folder, f"{label}.{e}"))]
        cite = nodes.inline(classes=["study-cite"])
        cite += nodes.Text("Cite as ")
        cite += nodes.literal(label, label, classes=["study-label"])
        if exts:
            cite += nodes.Text(" · Download ")
            for k, e in enumerate(exts):
                if k:
                    cite += nodes.Text(" · ")
                uri = relative_uri(here, f"{DOWNLOADS}/{label}.{e}")
                cite += nodes.reference(e.upper(), e.upper(), refuri=uri, classes=["study-download"])
        cap += nodes.Text(" ")
        cap += cite


def setup(app):
    # set by `python -m analysis book` to a hash of this file: changing it re-reads every page ("env")
    app.add_config_value("study_ext_digest", "", "env")
    app.add_enumerable_node(study_table, "table", html=(_visit_study_table, _depart_study_table))
    app.connect("doctree-read", _tables_as_tables)
    app.connect("doctree-read", _fold_tables)
    app.connect("doctree-resolved", _cite_and_download)
    app.connect("builder-inited", _prepare_banner)
    app.connect("html-page-context", _drop_thebe_and_check_offline, priority=900)
    app.connect("html-page-context", _add_banner, priority=901)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
