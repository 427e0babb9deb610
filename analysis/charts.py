"""Altair charts that render in JupyterLab and, with no internet, in the built book.

``enable()`` registers an Altair renderer that emits two representations of every chart:

* the Vega-Lite JSON mimetype, which JupyterLab renders natively, and
* an HTML snippet that calls ``vegaEmbed`` from the bundle the book serves itself
  (``_static/vendor/vega-bundle.js`` in the built book, written from vl-convert-python's bundle by
  ``python -m analysis book``). No CDN, no ``require.js``.

Chart element ids are derived from the chart's content and a per-kernel counter, so re-executing a
notebook gives byte-identical outputs (nbval compares them).
"""
from __future__ import annotations

import hashlib
import html
import itertools
import json

import altair as alt

from . import fmt

RENDERER = "study"
_counter = itertools.count(1)

_HTML = """<div class="study-chart" id="{id}" data-chart-label="{label}"></div>
<script type="text/javascript">
(function() {{
  var spec = {spec};
  function show() {{ window.vegaEmbed("#{id}", spec, {{"actions": false, "renderer": "svg"}})
      .catch(function(err) {{ document.getElementById("{id}").textContent = "Chart failed: " + err; }}); }}
  if (window.vegaEmbed) {{ show(); }}
  else {{ window.addEventListener("load", function() {{
      if (window.vegaEmbed) {{ show(); }}
      else {{ document.getElementById("{id}").textContent =
          "This chart needs vega-bundle.js (build the book with `make book`)."; }} }}); }}
}})();
</script>"""


def _renderer(spec: dict, **metadata):
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    label = spec.get("usermeta", {}).get("label", "")
    div_id = f"vis-{label or 'chart'}-{digest}-{next(_counter)}"
    snippet = _HTML.format(id=html.escape(div_id), label=html.escape(label),
                           spec=text.replace("</", "<\\/"))
    mimetype = f"application/vnd.vegalite.{alt.SCHEMA_VERSION.split('.')[0]}+json"
    return {mimetype: spec, "text/html": snippet, "text/plain": f"<Chart {label or digest}>"}


def enable() -> None:
    """Use the study's renderer for every chart displayed from now on."""
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, _renderer)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()


def labelled(chart: alt.TopLevelMixin, label: str, title: str) -> alt.TopLevelMixin:
    """Attach the stable label (used for citation and for ``figures --out``) and a title."""
    return chart.properties(title=title, usermeta={"label": label})


TABLE_CSV_MIMETYPE = "application/vnd.study.table+csv"  # the data behind a table, for its download


def table_csv(df) -> str:
    """The data behind a table as CSV (index included, unformatted numbers, ``\\n`` line ends)."""
    return df.to_csv(lineterminator="\n")


class Table:
    """A styled table whose HTML and text representations are both reproducible.

    Besides its HTML it carries its data as CSV (:data:`TABLE_CSV_MIMETYPE`), which the book build
    writes next to the page as ``<label>.csv`` for the caption's download link.
    """

    def __init__(self, styler, label: str):
        self.styler, self.label = styler, label

    def _repr_html_(self) -> str:
        return self.styler.to_html()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {TABLE_CSV_MIMETYPE: table_csv(self.styler.data)}

    def __repr__(self) -> str:
        return f"<Table {self.label}: {self.styler.data.shape[0]} rows>"


def _guarded(spec):
    """A column format for Styler.format that never shows e-notation or True/False.

    A format string ('{:g}', '{:.3f}') is applied as given unless its result would be e-notation, or
    the value is a boolean or missing; then the cell is written by :func:`analysis.fmt.cell`.
    Callables pass unchanged.
    """
    if callable(spec):
        return spec

    def f(v):
        if fmt.cell(v) == "":  # missing stays blank, never 'nan'
            return ""
        if isinstance(v, (bool, str)) or type(v).__name__ in ("bool_", "bool"):
            return fmt.cell(v)
        try:
            text = spec.format(v)
        except (TypeError, ValueError):
            return fmt.cell(v)
        return fmt.cell(v) if fmt.has_e_notation(text) else text
    return f


def table(df, label: str, formats: dict | None = None, classes: str = "") -> Table:
    """A sparingly styled table with a stable HTML id (its label), so outputs are reproducible.

    Every cell is written for readers by :func:`analysis.fmt.cell` (yes/no, ISO dates, no
    e-notation, thousands separators); ``formats`` overrides chosen columns (see :func:`_guarded`).
    ``classes`` adds CSS classes (``"verdict-table"`` lays out a ledger frame like the chapters'
    verdict tables, book/_assets/study.css).
    """
    cls = " ".join(["study-table"] + classes.split())
    styler = df.style.set_uuid(label).set_table_attributes(f'class="{cls}" data-table-label="{label}"')
    styler = styler.format(fmt.cell).format_index(fmt.cell)
    if formats:
        styler = styler.format({k: _guarded(v) for k, v in formats.items()}, subset=list(formats))
    return Table(styler, label)


class FilterableTable:
    """An HTML table with a text box that filters its rows in the browser (no kernel, no network)."""

    def __init__(self, df, label: str):
        self.df, self.label = df, label

    def _repr_html_(self) -> str:
        body = self.df.astype(object).map(fmt.cell).to_html(index=False, escape=True, border=0, classes=["study-table", "filterable"],
                               table_id=self.label, na_rep="")
        return (f'<div class="study-filter"><label>Filter rows: <input type="search" '
                f'data-filter-for="{self.label}" placeholder="e.g. contradicted, S4-, trainium2"></label></div>'
                f"{body}"
                "<script>(function(){var box=document.querySelector('input[data-filter-for=\"" + self.label + "\"]');"
                "var rows=document.querySelectorAll('#" + self.label + " tbody tr');"
                "box.addEventListener('input',function(){var q=box.value.toLowerCase();"
                "rows.forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});});"
                "})();</script>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {TABLE_CSV_MIMETYPE: self.df.to_csv(index=False, lineterminator="\n")}

    def __repr__(self) -> str:
        return f"<FilterableTable {self.label}: {len(self.df)} rows>"
