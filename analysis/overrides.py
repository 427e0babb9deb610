"""``--set NAME=VALUE``: change a scenario assumption, or any dataset cell as ``table.row.field``.

* ``--set training_mfu=0.5`` sets an assumption's central value (its range widens to include it);
* ``--set hardware.trainium2.bf16_dense_tflops=800`` sets a cell of a long table (row = chip or
  system id, field = metric) in the metric's canonical unit (see data/metrics.csv), or with a unit:
  ``--set "system_params.p5.48xlarge.usd_per_hour_on_demand=6.88 USD/chip/hour"`` is 6.88 x 8 chips
  = 55.04 USD/hour (a per-chip price is multiplied by the system's chips row, never read per system);
* ``--set workloads.llama-2-70b.params_total=69e9`` sets a cell of a wide table (row = its key).

Unknown names, rows or fields and values of the wrong type are refused with the nearest valid names.
"""
from __future__ import annotations

import dataclasses
import math

import pandas as pd

from . import units
from .datasets import (LONG_TABLES, Datasets, NoChipCount, canonical_value, cell_problem, consistency_errors, field_schema,
                       with_tables)
from .errors import StudyInputError, nearest
from .paths import rel
from .scenario import Assumption, Scenario, line_of, physical_problem

KEYS = {"hardware": "chip_id", "system_params": "system_id", "workloads": "model_id", "chips": "chip_id",
        "systems": "system_id", "training_runs": "run_id", "measurements": "measurement_id",
        "timeline": "event_id", "sources": "source_id"}


def parse_sets(items: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in items or []:
        if "=" not in item:
            raise StudyInputError("--set", f"'{item}' has no '='", expected="NAME=VALUE or table.row.field=VALUE")
        name, value = item.split("=", 1)
        out.append((name.strip(), value.strip()))
    return out


def _float(name, text, source="--set"):
    """The number a --set (or scenario data:) value spells; finite only (no inf, nan, 1e999)."""
    try:
        v = float(text)
    except ValueError:
        raise StudyInputError(source, f"{name}={text}: '{text}' is not a number", expected="a number") from None
    if not math.isfinite(v):
        raise StudyInputError(source, f"{name}={text}: not a finite number",
                              expected="a finite number (no inf, nan or overflow such as 1e999)")
    return v


def _source(scenario: Scenario, name: str, text: str) -> str:
    """Where an override came from, for messages: the scenario file and line of its data: cells,
    else --set."""
    if (name, text) not in scenario.data:
        return "--set"
    line = line_of(scenario.path, name)
    return rel(scenario.path) + (f", line {line}" if line else "")


def _assumption_value(source: str, name: str, text: str) -> float:
    """An assumption's new central value, refused when physically impossible (PUE < 1, MFU > 1...)."""
    v = _float(name, text, source)
    why = physical_problem(name, v)
    if why:
        raise StudyInputError(source, f"{name}={text}: {why[0]}", expected=why[1])
    return v


def _long_value(ds: Datasets, source: str, name: str, table: str, row_id: str, fld: str, text: str) -> float:
    """A long-table cell's new value in the metric's canonical unit. ``VALUE`` is in that unit
    (data/metrics.csv); ``VALUE UNIT`` is converted, and a per-chip price on a system
    (``6.88 USD/chip/hour``) is multiplied by the system's chips row, as in the data files."""
    number, _, unit = text.strip().partition(" ")
    v = _float(name, number if unit else text, source)
    if not unit.strip():
        return v
    target = ds.canonical_unit(table, fld)
    sp = ds.system_params
    chips_of = dict(zip(sp[sp.metric == "chips"].system_id, sp[sp.metric == "chips"].value))
    try:
        return canonical_value(table, row_id, v, unit.strip(), target, chips_of)
    except units.UnitProblem as exc:
        raise StudyInputError(source, f"{name}={text}: {exc}", expected=f"a unit convertible to {target}") from None
    except NoChipCount:
        raise StudyInputError(source, f"{name}={text}: a per-chip value for {row_id}, which has no 'chips' row",
                              expected=f"a value in {target} for the whole system") from None


def _cell_value(ds: Datasets, source: str, name: str, table: str, fld: str, text: str):
    """A wide-table cell's new value, checked against the field's datapackage.json constraints."""
    why = cell_problem(ds, table, fld, text)
    if why:
        f = field_schema(ds, table, fld) or {}
        raise StudyInputError(source, f"{name}={text}: {why}",
                              expected=f"a value datapackage.json allows for {table}.{fld} ({f.get('type', 'text')})")
    return text


def _consistent(ds: Datasets, sets_shown: str) -> None:
    """Refuse overrides that leave the tables inconsistent (a GEMM measurement above a lowered peak,
    more active than total parameters...): the load's meaning checks run again."""
    errors = consistency_errors(ds)
    if errors:
        raise StudyInputError(sets_shown, f"the override leaves the data inconsistent: {errors[0]}")


def apply(ds: Datasets, scenario: Scenario, sets: list[tuple[str, str]]) -> tuple[Datasets, Scenario, list[str]]:
    """The datasets and scenario with every override applied, and the changed input keys."""
    changed_keys = []
    new_assumptions = dict(scenario.assumptions)
    changed_names = list(scenario.changed)
    tables = {}
    for name, text in sets:
        source = _source(scenario, name, text)
        if "." not in name:
            if name not in scenario.assumptions:
                raise StudyInputError(source, f"unknown assumption '{name}'",
                                      expected=nearest(name, scenario.assumptions))
            v = _assumption_value(source, name, text)
            a = scenario.assumptions[name]
            new_assumptions[name] = Assumption(name, v, min(a.low, v), max(a.high, v), a.unit, a.rationale, a.source)
            changed_names.append(name)
            changed_keys.append(f"assumption.{name}")
            continue
        parts = name.split(".")
        table, fld = parts[0], parts[-1]
        row_id = ".".join(parts[1:-1])
        if table not in KEYS or len(parts) < 3:
            raise StudyInputError(source, f"unknown table '{table}'" if table not in KEYS else f"'{name}' is not table.row.field",
                                  expected=nearest(table, KEYS) if table not in KEYS else "table.row.field=VALUE")
        df = tables.get(table, ds[table]).copy()
        key = KEYS[table]
        if row_id not in set(df[key]):
            raise StudyInputError(source, f"unknown {key} '{row_id}' in {table}", expected=nearest(row_id, df[key]))
        if table in LONG_TABLES:
            mask = (df[key] == row_id) & (df.metric == fld)
            if not mask.any():
                raise StudyInputError(source, f"{table} has no metric '{fld}' for {row_id}",
                                      expected=nearest(fld, df[df[key] == row_id].metric))
            v = _long_value(ds, source, name, table, row_id, fld, text)
            if not v > 0:
                raise StudyInputError(source, f"{name}={text} must be greater than 0", expected="a positive number")
            unit = ds.canonical_unit(table, fld)
            df.loc[mask, ["value", "unit", "value_canonical"]] = [v, unit, v]
            df.loc[mask, "basis"] = "derived"
            df.loc[mask, "note"] = "set on the command line (--set)"
        else:
            if fld not in df.columns:
                raise StudyInputError(source, f"{table} has no field '{fld}'", expected=nearest(fld, df.columns))
            if fld == key:
                raise StudyInputError(source, f"{name}: {key} is the row's key and cannot be set",
                                      expected=f"a field of {table} other than {key}")
            mask = df[key] == row_id
            _cell_value(ds, source, name, table, fld, text)
            if pd.api.types.is_numeric_dtype(df[fld]):
                v = _float(name, text, source)
                df.loc[mask, fld] = int(v) if str(df[fld].dtype) == "Int64" else v
            else:
                df.loc[mask, fld] = text
        tables[table] = df
        changed_keys.append(f"{table}.{row_id}.{fld}")
    new_ds = with_tables(ds, tables) if tables else ds
    if tables:
        _consistent(new_ds, ", ".join(sorted({_source(scenario, n, t) for n, t in sets})))
    new_sc = dataclasses.replace(scenario, assumptions=new_assumptions,
                                 changed=tuple(dict.fromkeys(changed_names)))
    return new_ds, new_sc, changed_keys
