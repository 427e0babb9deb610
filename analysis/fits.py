"""The fitted parameters of every model family in one results table, plus held-out errors.

``python -m analysis fit`` writes ``results/fitted_parameters.csv`` (model, parameter, scope,
value, 95% CI, unit, points, what a scope borrows from, method), the leave-one-out tables of
the training and decode models and the training validation table (``python -m analysis validate``); the book reads the same functions, and a test checks the committed
files equal a fresh run (stale results fail CI like stale notebooks do).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .paths import REPO

RESULT_COLUMNS = ["family", "model", "parameter", "scope", "value", "ci_low", "ci_high", "unit", "n_points",
                  "borrowed_from", "method", "note"]
FLOAT_FORMAT = "%.6g"


def fitted_parameters(ds=None) -> pd.DataFrame:
    """Every family's fit_results, stacked in a stable order."""
    from . import load_datasets, market, roofline, training

    ds = ds or load_datasets()
    parts = {"roofline": roofline.fit_results(ds), "training": training.fit_results(ds),
             "market": market.fit_results(ds)}
    df = pd.concat([p.assign(family=name)[RESULT_COLUMNS] for name, p in parts.items()], ignore_index=True)
    return df.sort_values(["family", "model", "parameter", "scope"], kind="mergesort").reset_index(drop=True)


def loo_tables(ds=None) -> dict[str, pd.DataFrame]:
    from . import inference, load_datasets, training, validate

    ds = ds or load_datasets()
    return {"loo_training": training.loo_table(ds), "loo_decode": inference.decode_loo(ds),
            "validation_training": validate.training_validation(ds)}


def write_results(out_dir: str | Path = "results") -> dict[Path, pd.DataFrame]:
    out = Path(out_dir)
    if not out.is_absolute():
        out = REPO / out
    out.mkdir(parents=True, exist_ok=True)
    from . import load_datasets

    ds = load_datasets()
    tables = {"fitted_parameters": fitted_parameters(ds), **loo_tables(ds)}
    written = {}
    for name, df in tables.items():
        path = out / f"{name}.csv"
        df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
        written[path] = df
    return written


#: the held-out quantity each LOO table reports, as (column, what it is)
LOO_ERROR_COLUMNS = {"loo_training": ("chip_hours_error_pct", "chip-hours of runs with published chip-hours, "
                                                              "MFU-by-family model"),
                     "validation_training": ("error_pct", "chip-hours of published full runs, chip-hours model"),
                     "loo_decode": ("pct_error", "decode tokens/s")}


def _abs_pct_error(name: str, df: pd.DataFrame) -> pd.Series:
    return df[LOO_ERROR_COLUMNS[name][0]].astype(float).abs()


def loo_summary(ds=None) -> str:
    """One line per model: median and max absolute held-out error."""
    lines = []
    for name, df in loo_tables(ds).items():
        err = _abs_pct_error(name, df).dropna()
        lines.append(f"{name}: {LOO_ERROR_COLUMNS[name][1]}, {len(err)} held-out points, "
                     f"median |error| {np.median(err):.1f}%, max {err.max():.1f}%")
    return "\n".join(lines)
