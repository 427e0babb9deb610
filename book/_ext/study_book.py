"""Sphinx extension for the study's book: keep every page offline.

Jupyter Book 1 always loads sphinx-thebe, which injects a script naming an unpkg.com URL (twice,
when notebooks are executed during the build, which breaks the page's JavaScript with a
"THEBE_JS_URL has already been declared" error). The study does not use Thebe, so this extension
drops those scripts, and refuses any other script or stylesheet that would load from the internet.

It also puts a banner on every page when the book is built under a scenario other than the
baseline (``make book SCENARIO=...`` sets $STUDY_SCENARIO), naming it and listing how it differs.
"""
from __future__ import annotations

import html
import os

from sphinx.errors import ExtensionError

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


def setup(app):
    app.connect("builder-inited", _prepare_banner)
    app.connect("html-page-context", _drop_thebe_and_check_offline, priority=900)
    app.connect("html-page-context", _add_banner, priority=901)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
