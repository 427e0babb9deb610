"""``python -m analysis validate``: how well the fitted models predict what they were not fitted to.

Each model family is one *section*: a function ``section(ds) -> Section`` registered in
:data:`SECTIONS` (name, function). The command runs every section in order, prints its lines and
writes its tables under ``results/``. The training and serving sections are below; more can be added with
:func:`register_section`.

Training chip-hours (:func:`training_validation`): every published full run (training.hours_run_table)
is left out with its group (model@chip), the chip-hours model is refitted on the rest with the
fixed specification, and the run is predicted at its own features: point (median), 90% prediction
interval (seeded draws of the fold's parameters plus the fold's own leave-one-out residuals, as
``predict_training`` does), and, beside it, the naive 6ND / (peak x 0.4) with an interval from the
other runs' spread of measured / naive. A second prediction re-runs the feature selection inside the
fold ("re-selected"): the error a data-driven search of the specification would have, shown beside the
fixed specification the model uses (training.HOURS_SPEC). Timing of this command is in
``python -m analysis bench``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import training as tr

FLOAT_FORMAT = "%.6g"


@dataclass
class Section:
    """What one validation section reports: printed lines and tables (file stem -> frame)."""

    name: str
    lines: list[str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def _pct(x) -> np.ndarray:
    return 100.0 * np.asarray(x, dtype=float)


def training_validation(ds) -> pd.DataFrame:
    """One row per published full run, predicted with its group left out (see the module docstring).

    Columns: run_id, model_id, chip_id, family, measured_chip_hours, predicted_chip_hours,
    low_chip_hours, high_chip_hours (90% PI), inside_interval, error_pct (100 (predicted / measured -
    1)), log_residual (ln measured - ln predicted), naive_chip_hours, naive_low, naive_high,
    naive_inside, naive_error_pct, naive_log_residual, predicted_chip_hours_reselected,
    error_pct_reselected.
    """
    runs = tr.hours_run_table(ds)
    fit = tr.hours_fit(ds)
    naive_ratio = np.log(runs.chip_hours / runs.naive_chip_hours).to_numpy()
    a = (1 - tr.PI_LEVEL) / 2
    rows = []
    for g in pd.unique(runs.group):
        out = (runs.group == g).to_numpy()
        train = runs[~out].reset_index(drop=True)
        fold = tr.fit_hours(train, fit.attention_coef, fit.recompute, fit.features)
        refit = tr.fit_hours(train, select=True)
        q_lo, q_hi = np.quantile(naive_ratio[~out], [a, 1 - a])
        for _, r in runs[out].iterrows():
            args = (r.params_active, r.tokens, r.peak_tflops, r.n_layers, r.d_attn, r.seq_len, r.recompute == "full",
                    r.year, r.announced)
            point = float(tr.hours_point(fold, *args, clip=False))
            lo, hi = tr.interval(tr.hours_draws(fold, *args, clip=False))
            again = float(tr.hours_point(refit, *args, clip=False))
            naive = r.naive_chip_hours
            nlo, nhi = naive * np.exp(q_lo), naive * np.exp(q_hi)
            m = r.chip_hours
            rows.append(dict(
                run_id=r.run_id, model_id=r.model_id, chip_id=r.chip_id, family=r.family, measured_chip_hours=m,
                predicted_chip_hours=point, low_chip_hours=lo, high_chip_hours=hi, inside_interval=bool(lo <= m <= hi),
                error_pct=100 * (point / m - 1), log_residual=float(np.log(m / point)),
                naive_chip_hours=naive, naive_low=nlo, naive_high=nhi, naive_inside=bool(nlo <= m <= nhi),
                naive_error_pct=100 * (naive / m - 1), naive_log_residual=float(np.log(m / naive)),
                predicted_chip_hours_reselected=again, error_pct_reselected=100 * (again / m - 1)))
    return pd.DataFrame(rows)


def training_summary(v: pd.DataFrame) -> dict:
    """Median and worst |error| and interval coverage, for the model and the naive baseline."""
    v = v.reset_index() if "run_id" not in v.columns else v

    def worst(col):
        i = v[col].abs().idxmax()
        return float(abs(v.loc[i, col])), v.loc[i, "run_id"]

    return dict(n_runs=len(v),
                median_abs_error_pct=float(v.error_pct.abs().median()),
                worst_abs_error_pct=worst("error_pct"),
                coverage=(int(v.inside_interval.sum()), len(v)),
                naive_median_abs_error_pct=float(v.naive_error_pct.abs().median()),
                naive_worst_abs_error_pct=worst("naive_error_pct"),
                naive_coverage=(int(v.naive_inside.sum()), len(v)),
                reselected_median_abs_error_pct=float(v.error_pct_reselected.abs().median()))


def training_section(ds) -> Section:
    v = training_validation(ds)
    s = training_summary(v)
    fit = tr.hours_fit(ds)
    fams = ", ".join(f"{n} {f}" for f, n in v.family.value_counts().sort_index().items())
    (k, n), (nk, nn) = s["coverage"], s["naive_coverage"]
    w, wr = s["worst_abs_error_pct"]
    nw, nwr = s["naive_worst_abs_error_pct"]
    left = 36
    lines = [f"training chip-hours: leave-one-out over {s['n_runs']} published full runs ({fams})",
             f"  model: {fit.describe().split('; ' + str(fit.n_runs))[0]}",
             f"  {'':<{left}}{'fitted model':>22}  {'naive 6ND/(peak x 0.4)':>24}",
             f"  {'median |error|':<{left}}{s['median_abs_error_pct']:>21.1f}%  {s['naive_median_abs_error_pct']:>23.1f}%",
             f"  {'worst |error|':<{left}}{f'{w:.0f}% ({wr})':>22}  {f'{nw:.0f}% ({nwr})':>24}",
             f"  {'inside its 90% interval':<{left}}{f'{k}/{n} ({100 * k / n:.0f}%)':>22}  "
             f"{f'{nk}/{nn} ({100 * nk / nn:.0f}%)':>24}",
             f"  {'median |error|, searched spec':<{left}}{s['reselected_median_abs_error_pct']:>21.1f}%",
             "  (naive interval: the other runs' 5-95% spread of measured / naive; searched spec: a forward search "
             "over FLOP accountings and five features, redone without the held-out run - the reason the model's "
             "specification is fixed instead)"]
    return Section("training", lines, {"validation_training": v}, s)


def serving_section(ds) -> Section:
    """Serving throughput: every measurement the serving model is fitted to, predicted by its family's
    fit refitted without it (:func:`analysis.inference.validate_serving`), beside the naive roofline
    at 100% efficiency."""
    from . import inference

    v = inference.validate_serving(ds)
    s = v.attrs["summary"]
    left = 36
    fams = ", ".join(f"{g['n']} {f}" for f, g in sorted(s.get("by_family", {}).items()))
    worst = v.loc[v.pct_error.abs().idxmax()]
    nworst = v.loc[v.naive_pct_error.abs().idxmax()]
    cover = f"{int(v.in_interval.sum())}/{len(v)} ({100 * s['coverage_90']:.0f}%)"
    lines = [f"serving throughput: leave-one-out over {s['n']} published measurements ({fams})",
             f"  {'':<{left}}{'fitted model':>22}  {'naive roofline at 100%':>24}",
             f"  {'median |error|':<{left}}{s['median_abs_pct_error']:>21.1f}%  {s['naive_median_abs_pct_error']:>23.1f}%",
             f"  {'worst |error|':<{left}}{f'{abs(worst.pct_error):.0f}% ({worst.measurement_id})':>22}  "
             f"{f'{abs(nworst.naive_pct_error):.0f}%':>24}",
             f"  {'inside its 90% interval':<{left}}{cover:>22}",
             f"  {'within 10%':<{left}}{100 * s['share_within_10pct']:>21.0f}%",
             "  (each measurement predicted by its chip family's fit without it; interval: draws of that fit x "
             "exp(N(0, s^2)), s the family's other held-out errors)"]
    return Section("serving", lines, {"validation_serving": v}, s)


#: (name, section function) in print order.
SECTIONS: list[tuple[str, callable]] = [("training", training_section), ("serving", serving_section)]


def register_section(name: str, fn) -> None:
    """Add (or replace) a validation section: ``fn(ds) -> Section``."""
    for i, (n, _) in enumerate(SECTIONS):
        if n == name:
            SECTIONS[i] = (name, fn)
            return
    SECTIONS.append((name, fn))


def run(ds=None, out_dir: str | Path | None = "results", only: list[str] | None = None) -> tuple[str, list[Path]]:
    """Run every section (or those named in ``only``); write their tables to ``out_dir`` (None: write
    nothing). Returns (printed text, written paths)."""
    from . import load_datasets
    from .paths import REPO

    ds = ds or load_datasets()
    lines, written = [], []
    out = None
    if out_dir is not None:
        out = Path(out_dir)
        out = out if out.is_absolute() else REPO / out
        out.mkdir(parents=True, exist_ok=True)
    for name, fn in SECTIONS:
        if only and name not in only:
            continue
        sec = fn(ds)
        lines.extend(sec.lines)
        if out is not None:
            for stem, df in sec.tables.items():
                path = out / f"{stem}.csv"
                df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
                written.append(path)
                lines.append(f"  wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} ({len(df)} rows)")
    return "\n".join(lines), written
