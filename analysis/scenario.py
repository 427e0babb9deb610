"""Scenarios: the assumptions every model uses, each with a value, a low-high range and a unit.

``data/scenarios/baseline.yaml`` defines every assumption. A user's scenario file changes some of
them and inherits the rest::

    name: cheap-power
    description: Power at 4 cents and a better PUE.
    assumptions:
      electricity_usd_per_kwh: {value: 0.04, low: 0.03, high: 0.06}
      pue: 1.1            # a bare number sets the value and keeps the baseline range if it fits
    data:                 # optional: dataset cells, as table.row.field (checked when applied)
      system_params.p5.48xlarge.usd_per_hour_on_demand: 40.0

Unknown names, wrong types, values outside their range and malformed YAML are refused with the
file, the line and the nearest valid name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import units
from .errors import StudyInputError, nearest
from .paths import BASELINE_SCENARIO, rel

ASSUMPTION_FIELDS = ("value", "low", "high", "unit", "rationale", "source")
TOP_LEVEL_KEYS = ("name", "description", "assumptions", "data")


@dataclass(frozen=True)
class Assumption:
    """One model assumption. ``low``/``high`` bound the Monte Carlo draws."""

    name: str
    value: float
    low: float
    high: float
    unit: str
    rationale: str
    source: str
    #: who set it, when not the baseline: the scenario file (relative path) or "--set"
    origin: str = ""

    @property
    def basis(self) -> str:
        """'assumption' (the baseline's), 'scenario' (a scenario file's) or 'user' (--set / an option)."""
        return "assumption" if not self.origin else ("user" if self.origin.startswith("--") else "scenario")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path
    assumptions: dict[str, Assumption] = field(repr=False)
    changed: tuple[str, ...] = ()  # assumption names that differ from the baseline
    #: dataset cells the scenario sets, as ("table.row.field", "value") pairs (see analysis.overrides)
    data: tuple[tuple[str, str], ...] = ()

    def __getitem__(self, name: str) -> Assumption:
        try:
            return self.assumptions[name]
        except KeyError:
            raise StudyInputError(rel(self.path), f"unknown assumption '{name}'",
                                  expected=nearest(name, self.assumptions)) from None

    def value(self, name: str) -> float:
        return self[name].value

    def names(self) -> list[str]:
        return sorted(self.assumptions)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    except FileNotFoundError:
        raise StudyInputError(rel(path), "scenario file not found", expected="a YAML file") from None
    except IsADirectoryError:
        raise StudyInputError(rel(path), "is a folder, not a scenario file", expected="a YAML file") from None
    except UnicodeDecodeError as exc:
        raise StudyInputError(rel(path), f"not UTF-8 text (byte at offset {exc.start} cannot be decoded)",
                              expected="a YAML file saved as UTF-8") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise StudyInputError(rel(path), f"malformed YAML: {problem}",
                              line=(mark.line + 1) if mark else None,
                              expected="a YAML mapping with name, description and assumptions") from None
    if not isinstance(doc, dict):
        raise StudyInputError(rel(path), "the file is not a YAML mapping",
                              expected="keys name, description, assumptions")
    return doc


def line_of(path: Path, key: str) -> int | None:
    """The first line of a YAML file that starts the key ``key:`` (None if there is none)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return i
    return None


def _number(path: Path, name: str, fld: str, x: Any) -> float:
    """A finite number from YAML. YAML 1.1 reads ``1e9`` (no dot) as text, so numeric text is read as
    the number it spells; .inf, .nan and overflowing numbers (1.0e+999) are refused."""
    v = None
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        v = float(x) if not isinstance(x, int) or abs(x) < 1e308 else float("inf")
    elif isinstance(x, str):
        try:
            v = float(x.strip().replace("_", ""))
        except ValueError:
            v = None
    if v is None:
        raise StudyInputError(rel(path), f"'{x}' is not a number", line=line_of(path, name),
                              key=name, field=fld, expected="a number")
    if not math.isfinite(v):
        raise StudyInputError(rel(path), f"'{x}' is not a finite number", line=line_of(path, name),
                              key=name, field=fld, expected="a finite number (no .inf, .nan or overflow)")
    return v


#: Assumptions that are fractions of a physical maximum (efficiencies, utilisation, MFU, shares):
#: 0 < x <= 1. A value above 1 is impossible; 2 to 100 is probably a percent.
FRACTIONS = ("training_mfu", "decode_bandwidth_efficiency", "prefill_compute_efficiency", "serving_utilisation",
             "power_fraction_of_tdp", "network_efficiency")
#: Other physical limits: (lowest allowed, whether the lowest itself is allowed, highest or None, why).
LIMITS = {
    "pue": (1.0, True, None, "a PUE below 1 would mean the facility uses less power than its IT load"),
    "committed_discount": (0.0, True, 1.0, "a discount is a fraction of the on-demand price below 1"),
    "electricity_usd_per_kwh": (0.0, True, None, "a price cannot be negative"),
    "restart_minutes": (0.0, True, None, "a duration cannot be negative"),
    "network_alpha_us": (0.0, True, None, "a latency cannot be negative"),
}


def physical_problem(name: str, v: float) -> tuple[str, str] | None:
    """(problem, expected) when ``v`` is impossible for assumption ``name``, else None.

    Fractions (:data:`FRACTIONS`) need 0 < v <= 1; :data:`LIMITS` holds the others (PUE >= 1, a
    discount in [0, 1]); every other assumption is a size, rate or count and needs v > 0.
    """
    if not math.isfinite(v):
        return f"{v} is not a finite number", "a finite number"
    if name in FRACTIONS:
        if 2 <= v <= 100:
            return (f"{v:g} is above 1: a fraction, not a percent",
                    f"0 < {name} <= 1 (write {v / 100:g} for {v:g}%, or unit: percent)")
        if not 0 < v <= 1:
            return f"{v:g} is impossible for a fraction of the peak", f"0 < {name} <= 1"
        return None
    lo, lo_ok, hi, why = LIMITS.get(name, (0.0, False, None, "it is a size, rate or count"))
    if v < lo or (v == lo and not lo_ok) or (hi is not None and v > hi):
        rng = (f"{name} {'>=' if lo_ok else '>'} {lo:g}" + (f" and <= {hi:g}" if hi is not None else ""))
        return f"{v:g} is impossible ({why})", rng
    return None


def _parse_baseline(path: Path) -> dict[str, Assumption]:
    doc = _read_yaml(path)
    _check_top(path, doc)
    out = {}
    for name, spec in (doc.get("assumptions") or {}).items():
        if not isinstance(spec, dict):
            raise StudyInputError(rel(path), "assumption is not a mapping", line=line_of(path, name),
                                  key=name, expected="value, low, high, unit, rationale, source")
        missing = [f for f in ASSUMPTION_FIELDS if f not in spec]
        extra = [f for f in spec if f not in ASSUMPTION_FIELDS]
        if missing or extra:
            raise StudyInputError(rel(path), f"missing {missing} / unknown {extra}",
                                  line=line_of(path, name), key=name,
                                  expected="exactly " + ", ".join(ASSUMPTION_FIELDS))
        a = Assumption(name=name, value=_number(path, name, "value", spec["value"]),
                       low=_number(path, name, "low", spec["low"]),
                       high=_number(path, name, "high", spec["high"]),
                       unit=str(spec["unit"]), rationale=str(spec["rationale"]).strip(),
                       source=str(spec["source"]))
        _check_assumption(path, a)
        out[name] = a
    if not out:
        raise StudyInputError(rel(path), "no assumptions", expected="an 'assumptions' mapping")
    return out


def _check_top(path: Path, doc: dict) -> None:
    for k in doc:
        if k not in TOP_LEVEL_KEYS:
            raise StudyInputError(rel(path), f"unknown top-level key '{k}'", line=line_of(path, k),
                                  expected=nearest(k, TOP_LEVEL_KEYS))


def _check_assumption(path: Path, a: Assumption) -> None:
    if a.low > a.high:
        raise StudyInputError(rel(path), f"range low {a.low:g} is above high {a.high:g}",
                              line=line_of(path, a.name), key=a.name, field="low", expected="low <= high")
    for fld, v in (("value", a.value), ("low", a.low), ("high", a.high)):
        why = physical_problem(a.name, v)
        if why:
            raise StudyInputError(rel(path), f"{fld} {why[0]}", line=line_of(path, a.name), key=a.name,
                                  field=fld, expected=why[1])
    if not (a.low <= a.value <= a.high):
        raise StudyInputError(rel(path), f"value {a.value} lies outside its range [{a.low}, {a.high}]",
                              line=line_of(path, a.name), key=a.name, field="value",
                              expected="low <= value <= high")
    try:
        units.parse_unit(a.unit)
    except units.UnitProblem as exc:
        raise StudyInputError(rel(path), str(exc), line=line_of(path, a.name), key=a.name,
                              field="unit", expected="a unit pint can parse") from None


def load_scenario(path: Path | str | None = None, *, baseline: Path | str = BASELINE_SCENARIO) -> Scenario:
    """The baseline, or a scenario file layered over it (see module docstring)."""
    baseline = Path(baseline)
    base = _parse_baseline(baseline)
    if path is None or Path(path).resolve() == baseline.resolve():
        doc = _read_yaml(baseline)
        return Scenario(name=str(doc.get("name", "baseline")), description=str(doc.get("description", "")),
                        path=baseline, assumptions=base)
    path = Path(path)
    doc = _read_yaml(path)
    _check_top(path, doc)
    if "name" not in doc:
        raise StudyInputError(rel(path), "scenario without a name", expected="name: <short-name>")
    merged = dict(base)
    changed = []
    for name, spec in (doc.get("assumptions") or {}).items():
        if name not in base:
            raise StudyInputError(rel(path), f"unknown assumption '{name}'", line=line_of(path, name),
                                  key=name, expected=nearest(name, base))
        b = base[name]
        if isinstance(spec, dict):
            extra = [f for f in spec if f not in ("value", "low", "high", "unit", "rationale", "source")]
            if extra:
                raise StudyInputError(rel(path), f"unknown field(s) {extra}", line=line_of(path, name),
                                      key=name, expected="value, low, high, unit, rationale, source")
            factor = 1.0
            if "unit" in spec:
                try:
                    factor = units.factor(str(spec["unit"]), b.unit)
                except units.UnitProblem as exc:
                    raise StudyInputError(rel(path), str(exc), line=line_of(path, name), key=name,
                                          field="unit", expected=f"a unit convertible to {b.unit}") from None
            value = _number(path, name, "value", spec.get("value", b.value)) * factor
            low = _number(path, name, "low", spec["low"]) * factor if "low" in spec else min(b.low, value)
            high = _number(path, name, "high", spec["high"]) * factor if "high" in spec else max(b.high, value)
            rationale = str(spec.get("rationale", b.rationale))
            source = str(spec.get("source", b.source))
        else:
            value = _number(path, name, "value", spec)
            low, high = min(b.low, value), max(b.high, value)
            rationale, source = b.rationale, b.source
        a = Assumption(name, value, low, high, b.unit, rationale, source)
        _check_assumption(path, a)
        if (a.value, a.low, a.high) != (b.value, b.low, b.high):
            changed.append(name)
            a = Assumption(name, value, low, high, b.unit, rationale, source, origin=rel(path))
        merged[name] = a
    data = doc.get("data") or {}
    if not isinstance(data, dict):
        raise StudyInputError(rel(path), "'data' is not a mapping", line=line_of(path, "data"),
                              expected="table.row.field: value entries")
    cells = tuple((str(k), str(v)) for k, v in data.items())
    return Scenario(name=str(doc["name"]), description=str(doc.get("description", "")), path=path,
                    assumptions=merged, changed=tuple(changed), data=cells)


def diff_from_baseline(s: Scenario) -> list[tuple[str, Assumption, Assumption]]:
    """(name, baseline assumption, scenario assumption) for every assumption the scenario changes."""
    base = load_scenario(None)
    return [(n, base.assumptions[n], s.assumptions[n]) for n in s.changed]
