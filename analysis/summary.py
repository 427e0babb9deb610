"""The one-screen summary printed by ``python -m analysis data check``."""
from __future__ import annotations

import pandas as pd

from .datasets import Datasets
from .errors import StudyInputError
from .paths import rel
from .scenario import Scenario


def scenario_source_errors(ds: Datasets, sc: Scenario) -> list[StudyInputError]:
    """Every assumption's source must resolve in sources.csv."""
    known = set(ds.sources.source_id)
    return [StudyInputError(rel(sc.path), f"source '{a.source}' is not in data/sources.csv", key=a.name,
                            field="source", expected="a source_id from data/sources.csv")
            for a in sc.assumptions.values() if a.source not in known]


def later_input_errors(ds: Datasets, sc: Scenario) -> list[StudyInputError]:
    """Problems in what later commands read beyond the tables, so that ``data check`` passing means
    they will not fail on them: the scenario's ``data:`` cells (table, row, field, type and
    consistency, applied exactly as ``ledger`` and the book apply them) and the rebuild specs
    (``data/rebuilds/*.yaml``: YAML, fields, expressions that parse, one entry per claim)."""
    from .errors import StudyInputErrors
    from .ledger.specs import load_specs
    from .overrides import apply

    errors: list[StudyInputError] = []
    if sc.data:
        try:
            apply(ds, sc, list(sc.data))
        except StudyInputError as exc:
            errors.append(exc)
    try:
        specs = load_specs(ds.claims.claim_id)
    except StudyInputErrors as exc:
        return errors + list(exc.errors)
    except StudyInputError as exc:
        return errors + [exc]
    missing = [c for c in ds.claims.claim_id if c not in specs]
    if missing:
        errors.append(StudyInputError("data/rebuilds", f"{len(missing)} claim(s) have no rebuild: "
                                      + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""),
                                      expected="one entry per claim of data/claims.csv in data/rebuilds/S*.yaml"))
    return errors


def claim_counts(ds: Datasets) -> pd.DataFrame:
    """Claims per seed file (rows) and kind (columns), with totals."""
    c = ds.claims
    t = pd.crosstab(c.seed_file, c.kind, margins=True, margins_name="total")
    return t


def numeric_inputs(ds: Datasets) -> int:
    """Number of input numbers that carry a source (long-table values + numeric cells of wide tables)."""
    n = len(ds.hardware) + len(ds.system_params) + len(ds.measurements) + len(ds.market)
    for name, skip in (("workloads", ()), ("training_runs", ())):
        df = ds[name]
        num = df.select_dtypes(include="number")
        n += int(num.notna().sum().sum())
    return n


def render(ds: Datasets, sc: Scenario) -> str:
    lines = [f"data: {rel(ds.data_dir)} — all {len(ds.tables)} tables valid "
             f"(datapackage.json: types, keys, foreign keys; units, dates, claims)"]
    rows = "  ".join(f"{n}={len(df)}" for n, df in ds.tables.items())
    lines.append(f"rows: {rows}")
    kinds = ds.sources.kind.value_counts().sort_index()
    lines.append(f"sources: {len(ds.sources)} (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")")
    lines.append(f"sourced input numbers: {numeric_inputs(ds)}; chips {len(ds.chips)}, "
                 f"systems {len(ds.systems)}, workloads {len(ds.workloads)}")
    lines.append(f"scenario: {sc.name} ({rel(sc.path)}), {len(sc.assumptions)} assumptions, all sourced"
                 + (f"; {len(sc.data)} data cell(s) apply cleanly" if sc.data else "")
                 + "; rebuild specs: one per claim")
    counts = claim_counts(ds)
    lines.append(f"claims: {int(counts.loc['total', 'total'])} — per seed and kind:")
    short = counts.rename(index=lambda s: s.split("_")[0] if s != "total" else s)
    short.columns.name = None
    short.index.name = "seed"
    lines.append(short.to_string())
    return "\n".join(lines)
