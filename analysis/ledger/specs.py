"""Reading and checking ``data/rebuilds/S*.yaml``: one entry per claim, each with its checks.

An entry (see ``data/rebuilds/README.md``)::

    S0-020:
      reading: how the claim is read
      premise: [inferentia3]          # optional: subjects whose facts.csv 'exists' the claim presupposes
      checks:                         # optional: none means unverifiable (then 'needs' is required)
        - label: short name
          against: public | seed | model | bound | forecast | info
          expr: a rebuild expression  # optional only for a forecast whose horizon has not passed
          unit: unit of expr          # default: the claim's unit
          better: higher | lower      # required for bound
          compare: within | up_to | at_most | at_least
          tolerance: 0.05
          readings: [{label, expr, unit}, ...]
          horizon: 2026-Q1 | 2026-03 | +12 months
      needs: what would settle it
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import StudyInputError, StudyInputErrors, nearest
from ..paths import DATA_DIR, rel
from .rules import AGAINST, BETTER, COMPARE_MODES

REBUILD_DIR = DATA_DIR / "rebuilds"
FIELDS = {"reading", "premise", "checks", "needs"}
CHECK_FIELDS = {"label", "against", "expr", "unit", "better", "compare", "tolerance", "readings", "horizon", "note"}
READING_FIELDS = {"label", "expr", "unit"}
_HORIZON = re.compile(r"^(\d{4}(-\d{2}(-\d{2})?)?|\d{4}-Q[1-4]|\d{4}-H[12]|\+\d+ (months?|years?))$")


@dataclass(frozen=True)
class Reading:
    label: str
    expr: str
    unit: str | None


@dataclass(frozen=True)
class CheckSpec:
    label: str
    against: str
    expr: str | None
    unit: str | None
    better: str | None = None
    compare: str | None = None
    tolerance: float | None = None
    readings: tuple[Reading, ...] = field(default_factory=tuple)
    horizon: str | None = None
    note: str | None = None

    def all_readings(self) -> tuple[Reading, ...]:
        """The main reading (``expr``, labelled 'main reading') followed by the others."""
        main = (Reading("main reading", self.expr, self.unit),) if self.expr else ()
        return main + self.readings


@dataclass(frozen=True)
class RebuildSpec:
    claim_id: str
    reading: str
    file: str
    line: int
    checks: tuple[CheckSpec, ...] = field(default_factory=tuple)
    premise: tuple[str, ...] = field(default_factory=tuple)
    needs: str | None = None

    # the first check's comparison settings (chapters 10 and 11 compare single values with a claim)
    @property
    def compare(self):
        return self.checks[0].compare if self.checks else None

    @property
    def tolerance(self):
        return self.checks[0].tolerance if self.checks else None


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of each top-level key."""


def _mapping_with_lines(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    if isinstance(mapping, dict):
        mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_lines)


def _check_expr(text: str, path: str, line: int, claim_id: str, fld: str) -> str:
    text = str(text).strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise StudyInputError(path, f"expression does not parse: {exc.msg}", line=line, key=claim_id, field=fld,
                              expected="a Python expression (see data/rebuilds/README.md)") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Lambda, ast.NamedExpr)) or (
                isinstance(node, ast.Attribute) and node.attr.startswith("_")) or (
                isinstance(node, ast.Name) and node.id.startswith("_")):
            raise StudyInputError(path, "expression uses a forbidden construct", line=line, key=claim_id,
                                  field=fld, expected="no lambdas, no names or attributes starting with '_'")
    return text


def load_specs(claim_ids, rebuild_dir: Path = REBUILD_DIR) -> dict[str, RebuildSpec]:
    """Every spec file, validated: known claims, one entry per claim, known fields and values."""
    errors: list[StudyInputError] = []
    specs: dict[str, RebuildSpec] = {}
    known = set(claim_ids)
    for path in sorted(Path(rebuild_dir).glob("S*.yaml")):
        shown = rel(path)
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            errors.append(StudyInputError(shown, f"malformed YAML: {getattr(exc, 'problem', exc)}",
                                          line=mark.line + 1 if mark else None, expected="valid YAML"))
            continue
        if not isinstance(doc, dict):
            errors.append(StudyInputError(shown, "not a mapping of claim ids", expected="S0-001: {reading, checks}"))
            continue
        lines = doc.pop("__lines__", {})
        for cid, entry in doc.items():
            line = lines.get(cid)
            try:
                one = _one(cid, entry, known, shown, line)
            except StudyInputError as exc:
                errors.append(exc)
                continue
            if cid in specs:
                errors.append(StudyInputError(shown, f"claim {cid} has a second entry (first in {specs[cid].file})",
                                              line=line, key=cid, expected="one entry per claim"))
                continue
            specs[cid] = one
    if errors:
        raise StudyInputErrors(errors)
    return specs


def _strip(d):
    return {k: v for k, v in d.items() if k != "__lines__"} if isinstance(d, dict) else d


def _one(cid, entry, known, path, line) -> RebuildSpec:
    if cid not in known:
        raise StudyInputError(path, f"unknown claim id '{cid}'", line=line, key=cid,
                              expected=nearest(str(cid), known))
    if not isinstance(entry, dict):
        raise StudyInputError(path, "entry is not a mapping", line=line, key=cid, expected="reading, checks, needs")
    entry = _strip(entry)
    extra = set(entry) - FIELDS
    if extra:
        bad = sorted(extra)[0]
        raise StudyInputError(path, f"unknown field '{bad}'", line=line, key=cid, field=bad,
                              expected=nearest(bad, FIELDS))
    if "reading" not in entry or not str(entry["reading"]).strip():
        raise StudyInputError(path, "no reading", line=line, key=cid, field="reading",
                              expected="one line saying how the claim is read")
    premise = entry.get("premise") or []
    if isinstance(premise, str):
        premise = [premise]
    if not isinstance(premise, list) or not all(isinstance(p, str) and p for p in premise):
        raise StudyInputError(path, "malformed premise", line=line, key=cid, field="premise",
                              expected="a list of subject ids with an 'exists' fact in data/facts.csv")
    raw = entry.get("checks") or []
    if not isinstance(raw, list):
        raise StudyInputError(path, "checks is not a list", line=line, key=cid, field="checks",
                              expected="a list of {label, against, expr, ...}")
    checks = tuple(_check(cid, c, path, line, i) for i, c in enumerate(raw))
    deciding = [c for c in checks if c.against != "info"]
    needs = " ".join(str(entry["needs"]).split()) if entry.get("needs") else None
    gradable = [c for c in deciding if not (c.against == "forecast" and not c.expr)]
    if not gradable and not needs and not premise:
        raise StudyInputError(path, "no check can decide the claim and there is no 'needs'", line=line, key=cid,
                              field="needs", expected="what public figure or fact would settle it")
    return RebuildSpec(claim_id=cid, reading=" ".join(str(entry["reading"]).split()), file=path, line=line or 0,
                       checks=checks, premise=tuple(premise), needs=needs)


def _check(cid, c, path, line, i) -> CheckSpec:
    fld = f"checks[{i}]"
    if not isinstance(c, dict):
        raise StudyInputError(path, f"{fld} is not a mapping", line=line, key=cid, field=fld,
                              expected="{label, against, expr, ...}")
    c = _strip(c)
    extra = set(c) - CHECK_FIELDS
    if extra:
        bad = sorted(extra)[0]
        raise StudyInputError(path, f"{fld}: unknown field '{bad}'", line=line, key=cid, field=bad,
                              expected=nearest(bad, CHECK_FIELDS))
    against = c.get("against")
    if against not in AGAINST:
        raise StudyInputError(path, f"{fld}: against '{against}'", line=line, key=cid, field="against",
                              expected="one of " + ", ".join(AGAINST))
    label = str(c.get("label") or "").strip()
    if not label:
        raise StudyInputError(path, f"{fld}: no label", line=line, key=cid, field="label",
                              expected="a short name for the check")
    better = c.get("better")
    if better is not None and better not in BETTER:
        raise StudyInputError(path, f"{fld}: better '{better}'", line=line, key=cid, field="better",
                              expected="one of " + ", ".join(BETTER))
    if against == "bound" and better is None:
        raise StudyInputError(path, f"{fld}: a bound without a direction", line=line, key=cid, field="better",
                              expected="better: higher (a ceiling) or lower (a floor)")
    horizon = c.get("horizon")
    if horizon is not None:
        horizon = str(horizon).strip()
        if against != "forecast":
            raise StudyInputError(path, f"{fld}: horizon on a check that is not a forecast", line=line, key=cid,
                                  field="horizon", expected="against: forecast")
        if not _HORIZON.match(horizon):
            raise StudyInputError(path, f"{fld}: horizon '{horizon}'", line=line, key=cid, field="horizon",
                                  expected="YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Q1..Q4, YYYY-H1/H2 or '+N months'/'+N years'")
    elif against == "forecast":
        raise StudyInputError(path, f"{fld}: a forecast without a horizon", line=line, key=cid, field="horizon",
                              expected="the date by which the forecast resolves")
    expr = c.get("expr")
    if not expr and against != "forecast":
        raise StudyInputError(path, f"{fld}: no expr", line=line, key=cid, field="expr",
                              expected="an expression (only a forecast not yet due may omit it)")
    compare = c.get("compare")
    if compare is not None and compare not in COMPARE_MODES:
        raise StudyInputError(path, f"{fld}: compare '{compare}'", line=line, key=cid, field="compare",
                              expected="one of " + ", ".join(COMPARE_MODES))
    tol = c.get("tolerance")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < 1):
        raise StudyInputError(path, f"{fld}: tolerance '{tol}'", line=line, key=cid, field="tolerance",
                              expected="a fraction between 0 and 1")
    readings = []
    for a in c.get("readings") or []:
        a = _strip(a)
        if not isinstance(a, dict) or set(a) - READING_FIELDS or "expr" not in a or not a.get("label"):
            raise StudyInputError(path, f"{fld}: malformed reading", line=line, key=cid, field="readings",
                                  expected="a list of {label, expr, unit}")
        readings.append(Reading(str(a["label"]), _check_expr(a["expr"], path, line, cid, "readings"), a.get("unit")))
    if readings and not expr:
        raise StudyInputError(path, f"{fld}: readings without a main expr", line=line, key=cid, field="expr",
                              expected="expr (the main reading) before other readings")
    return CheckSpec(label=label, against=against, expr=_check_expr(expr, path, line, cid, "expr") if expr else None,
                     unit=c.get("unit"), better=better, compare=compare,
                     tolerance=float(tol) if tol is not None else None, readings=tuple(readings), horizon=horizon,
                     note=" ".join(str(c["note"]).split()) if c.get("note") else None)
