"""``--set NAME=VALUE``: change a scenario assumption, or any dataset cell as ``table.row.field``.

* ``--set training_mfu=0.5`` sets an assumption's central value (its range widens to include it);
* ``--set hardware.trainium2.bf16_dense_tflops=800`` sets a cell of a long table (row = chip or
  system id, field = metric) in the metric's canonical unit (see data/metrics.csv), or with a unit:
  ``--set "system_params.p5.48xlarge.usd_per_hour_on_demand=6.88 USD/chip/hour"`` is 6.88 x 8 chips
  = 55.04 USD/hour (a per-chip price is multiplied by the system's chips row, never read per system);
* ``--set workloads.llama-2-70b.params_total=69e9`` sets a cell of a wide table (row = its key).

Unknown names, rows or fields and values of the wrong type are refused with the nearest valid names.

Calibration: a what-if changes what the models are applied to, not what they were fitted on. After
overrides of specs, prices or workloads (``hardware``, ``system_params``, ``chips``, ``systems``,
``workloads``, ``sources``, ``timeline``) the fitted models (the chip-hours model, the serving fits
and their error widths) stay those of the published data: Trainium2 at 1334 TFLOPS keeps the
efficiency its measurements show, and runs twice as fast where compute-bound. An override of the
calibration data itself (``measurements``, ``training_runs``) refits them. To correct a published
figure rather than ask a what-if, edit the data file: everything is refitted.

Provenance: a value set this way is the user's, and says so. A dataset cell gets basis ``user``
(``--set``) or ``scenario`` (a scenario file's ``data:`` entry) and that origin as its source id
(``--set`` or the scenario file's path); an assumption records the origin in
:attr:`analysis.scenario.Assumption.origin`. ``explain`` and the ledger's inputs show both.
"""
from __future__ import annotations

import dataclasses
import math

import pandas as pd

from . import units
from .datasets import (CALIBRATION_KEY, LONG_TABLES, Datasets, NoChipCount, canonical_value, cell_problem,
                       consistency_errors, field_schema, system_chip_counts, with_tables)
from .errors import StudyInputError, nearest
from .paths import rel
from .scenario import Assumption, Scenario, line_of, physical_problem

KEYS = {"hardware": "chip_id", "system_params": "system_id", "workloads": "model_id", "chips": "chip_id",
        "systems": "system_id", "training_runs": "run_id", "measurements": "measurement_id",
        "timeline": "event_id", "sources": "source_id"}
#: Tables the models are fitted on: overriding one refits them (any other override keeps the calibration).
REFIT_TABLES = {"measurements", "training_runs"}


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
    try:
        return canonical_value(table, row_id, v, unit.strip(), target, system_chip_counts(ds.system_params))
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


def _label(df: pd.DataFrame, mask, basis: str, origin: str, note: str) -> None:
    """Mark the rows ``mask`` of ``df`` (in place) as holding a user's number."""
    for col, v in (("basis", basis), ("source_id", origin), ("note", note)):
        if col in df.columns:
            if df[col].dtype != object:
                df[col] = df[col].astype(object)
            df.loc[mask, col] = v


def origin_basis(origin: str) -> str:
    """The basis of a user's number: 'user' for a command-line option (``--set``), else 'scenario'."""
    return "user" if origin.startswith("--") else "scenario"


def apply_all(ds: Datasets, scenario: Scenario, sets: list[tuple[str, str]] | None = None
              ) -> tuple[Datasets, Scenario, list[str]]:
    """:func:`apply` of a scenario file's ``data:`` cells (origin: the file), then of ``--set`` items;
    with the changed input keys (assumptions the scenario changes first)."""
    changed = [f"assumption.{n}" for n in scenario.changed]
    if scenario.data:
        from .paths import rel

        ds, scenario, keys = apply(ds, scenario, list(scenario.data), origin=rel(scenario.path))
        changed += keys
    if sets:
        ds, scenario, keys = apply(ds, scenario, list(sets), origin="--set")
        changed += keys
    return ds, scenario, list(dict.fromkeys(changed))


def apply(ds: Datasets, scenario: Scenario, sets: list[tuple[str, str]], *, origin: str = "--set"
          ) -> tuple[Datasets, Scenario, list[str]]:
    """The datasets and scenario with every override applied, and the changed input keys.

    ``origin`` labels the values: ``--set`` (basis ``user``) or a scenario file's path (basis
    ``scenario``); it becomes the cell's source id and the assumption's origin."""
    basis = origin_basis(origin)
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
            new_assumptions[name] = Assumption(name, v, min(a.low, v), max(a.high, v), a.unit, a.rationale, a.source,
                                               origin=origin)
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
            _label(df, mask, basis, origin, f"the user's value, set by {origin}")
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
                if fld == "value" and table == "measurements":  # the models read the canonical value
                    from .datasets import MEASUREMENT_UNITS

                    r = df[mask].iloc[0]
                    df.loc[mask, "value_canonical"] = float(units.convert(v, r.unit, MEASUREMENT_UNITS[r.quantity]))
            else:
                df.loc[mask, fld] = text
            if "basis" in df.columns and fld not in ("basis", "source_id"):  # the row now holds a user's number
                _label(df, mask, basis, origin, f"{fld}: the user's value, set by {origin}")
        tables[table] = df
        changed_keys.append(f"{table}.{row_id}.{fld}")
    new_ds = with_tables(ds, tables) if tables else ds
    if tables:
        _consistent(new_ds, ", ".join(sorted({_source(scenario, n, t) for n, t in sets})))
    if tables and not set(tables) & REFIT_TABLES:  # a what-if: the fits stay calibrated on the published data
        new_ds.cache[CALIBRATION_KEY] = ds.cache.get(CALIBRATION_KEY, ds)
    new_sc = dataclasses.replace(scenario, assumptions=new_assumptions,
                                 changed=tuple(dict.fromkeys(changed_names)))
    return new_ds, new_sc, changed_keys
