"""``--set NAME=VALUE``: change a scenario assumption, or any dataset cell as ``table.row.field``.

* ``--set training_mfu=0.5`` sets an assumption's central value (its range widens to include it);
* ``--set hardware.trainium2.bf16_dense_tflops=800`` sets a cell of a long table (row = chip or
  system id, field = metric) in the metric's canonical unit (see data/metrics.csv);
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

import pandas as pd

from .datasets import CALIBRATION_KEY, LONG_TABLES, Datasets, with_tables
from .errors import StudyInputError, nearest
from .scenario import Assumption, Scenario

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


def _float(name, text):
    try:
        return float(text)
    except ValueError:
        raise StudyInputError("--set", f"{name}={text}: '{text}' is not a number", expected="a number") from None


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
        if "." not in name:
            if name not in scenario.assumptions:
                raise StudyInputError("--set", f"unknown assumption '{name}'",
                                      expected=nearest(name, scenario.assumptions))
            v = _float(name, text)
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
            raise StudyInputError("--set", f"unknown table '{table}'" if table not in KEYS else f"'{name}' is not table.row.field",
                                  expected=nearest(table, KEYS) if table not in KEYS else "table.row.field=VALUE")
        df = tables.get(table, ds[table]).copy()
        key = KEYS[table]
        if row_id not in set(df[key]):
            raise StudyInputError("--set", f"unknown {key} '{row_id}' in {table}", expected=nearest(row_id, df[key]))
        if table in LONG_TABLES:
            mask = (df[key] == row_id) & (df.metric == fld)
            if not mask.any():
                raise StudyInputError("--set", f"{table} has no metric '{fld}' for {row_id}",
                                      expected=nearest(fld, df[df[key] == row_id].metric))
            v = _float(name, text)
            if not v > 0:
                raise StudyInputError("--set", f"{name}={text} must be greater than 0", expected="a positive number")
            unit = ds.canonical_unit(table, fld)
            df.loc[mask, ["value", "unit", "value_canonical"]] = [v, unit, v]
            _label(df, mask, basis, origin, f"the user's value, set by {origin}")
        else:
            if fld not in df.columns:
                raise StudyInputError("--set", f"{table} has no field '{fld}'", expected=nearest(fld, df.columns))
            mask = df[key] == row_id
            if pd.api.types.is_numeric_dtype(df[fld]):
                v = _float(name, text)
                df.loc[mask, fld] = int(v) if str(df[fld].dtype) == "Int64" else v
                if fld == "value" and table == "measurements":  # the models read the canonical value
                    from . import units
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
    if tables and not set(tables) & REFIT_TABLES:  # a what-if: the fits stay calibrated on the published data
        new_ds.cache[CALIBRATION_KEY] = ds.cache.get(CALIBRATION_KEY, ds)
    new_sc = dataclasses.replace(scenario, assumptions=new_assumptions,
                                 changed=tuple(dict.fromkeys(changed_names)))
    return new_ds, new_sc, changed_keys
