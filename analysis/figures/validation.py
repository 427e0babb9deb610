"""Figures and tables of chapter 12 (validation): how well the two fitted models predict the
published measurements they were not fitted to.

Everything comes from :mod:`analysis.validate` (the tables ``python -m analysis validate`` prints and
writes): training chip-hours of published full runs and serving throughput of published benchmark
measurements, each predicted with the point left out, with its 90% prediction interval, beside the
naive baseline of the same run.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import validate as val
from . import figure
from .. import fmt


def _cache(st) -> dict:
    return st.__dict__.setdefault("_figure_cache", {})


def sections(st) -> dict:
    """{'training': Section, 'serving': Section} for the study's datasets (computed once per study)."""
    c = _cache(st)
    if "validation" not in c:
        c["validation"] = {"training": val.training_section(st.ds), "serving": val.serving_section(st.ds)}
    return c["validation"]


def validation_numbers(st) -> dict:
    """The chapter's numbers, named: for each model the points, the median and worst leave-one-out
    |error| (percent), the share inside the 90% prediction interval (percent), and the naive
    baseline's median |error| in the same run."""
    s = sections(st)
    t, v = s["training"].summary, s["serving"].summary
    tv = s["training"].tables["validation_training"]
    sv = s["serving"].tables["validation_serving"]
    return {
        "val_train_n": t["n_runs"], "val_train_median": t["median_abs_error_pct"],
        "val_train_worst": t["worst_abs_error_pct"][0], "val_train_worst_id": t["worst_abs_error_pct"][1],
        "val_train_cover": 100 * t["coverage"][0] / t["coverage"][1],
        "val_train_naive": t["naive_median_abs_error_pct"],
        "val_train_naive_cover": 100 * t["naive_coverage"][0] / t["naive_coverage"][1],
        "val_train_reselected": t["reselected_median_abs_error_pct"],
        "val_train_families": int(tv.family.nunique()),
        "val_serve_n": v["n"], "val_serve_median": v["median_abs_pct_error"],
        "val_serve_worst": v["worst_abs_pct_error"], "val_serve_cover": 100 * v["coverage_90"],
        "val_serve_within10": 100 * v["share_within_10pct"], "val_serve_naive": v["naive_median_abs_pct_error"],
        "val_serve_families": int(sv.family.nunique()),
    }


SMALL_MODEL_PARAMS = 15e9


def validation_misses(st) -> dict:
    """Where the models miss, named for the chapter's prose: training runs outside their 90% interval
    (ids), median |error| (percent) of runs below and above SMALL_MODEL_PARAMS active parameters, the
    share of runs the model over-predicts; serving's median |error| by precision (bf16 vs fp8/fp4), the
    chip family with the largest median |error| and its value, and the measurements outside their
    interval (count; predicted too high, too low)."""
    s = sections(st)
    tv = s["training"].tables["validation_training"]
    size = tv.run_id.map(_run_params(st))
    sv = s["serving"].tables["validation_serving"]
    by_fam = sv.groupby("family").pct_error.apply(lambda e: float(e.abs().median()))
    low_prec = sv.precision.isin(["fp8", "fp4"])
    return {
        "val_miss_train_outside": ", ".join(sorted(tv.run_id[~tv.inside_interval])),
        "val_miss_train_small": float(tv.error_pct[size < SMALL_MODEL_PARAMS].abs().median()),
        "val_miss_train_large": float(tv.error_pct[size >= SMALL_MODEL_PARAMS].abs().median()),
        "val_miss_train_over_pct": 100 * float((tv.error_pct > 0).mean()),
        "val_miss_serve_bf16": float(sv.pct_error[sv.precision == "bf16"].abs().median()),
        "val_miss_serve_lowprec": float(sv.pct_error[low_prec].abs().median()),
        "val_miss_serve_n_bf16": int((sv.precision == "bf16").sum()),
        "val_miss_serve_worst_family": str(by_fam.idxmax()),
        "val_miss_serve_worst_family_err": float(by_fam.max()),
        "val_miss_serve_worst_family_n": int((sv.family == by_fam.idxmax()).sum()),
        "val_miss_serve_outside": int((~sv.in_interval).sum()),
        "val_miss_serve_outside_high": int(((~sv.in_interval) & (sv.pct_error > 0)).sum()),
        "val_miss_serve_outside_low": int(((~sv.in_interval) & (sv.pct_error < 0)).sum()),
    }


def _run_params(st) -> pd.Series:
    """Active parameters of every published full run, by run id (training.hours_run_table)."""
    from .. import training

    return training.hours_run_table(st.ds).set_index("run_id").params_active


def training_table(st) -> pd.DataFrame:
    """One row per published run: measured and predicted chip-hours, the 90% interval, the errors."""
    d = sections(st)["training"].tables["validation_training"]
    return pd.DataFrame({
        "run": d.run_id, "chip": d.chip_id,
        "measured (M chip-hours)": d.measured_chip_hours / 1e6,
        "predicted (M chip-hours)": d.predicted_chip_hours / 1e6,
        "90% interval (M)": [f"{fmt.exact(lo / 1e6, max_sig=3)}–{fmt.exact(hi / 1e6, max_sig=3)}" for lo, hi in zip(d.low_chip_hours, d.high_chip_hours)],
        "inside": np.where(d.inside_interval, "yes", "no"),
        "error (%)": d.error_pct, "naive error (%)": d.naive_error_pct,
    }).sort_values("run").set_index("run")


def serving_table(st) -> pd.DataFrame:
    """Per chip family: measurements, median and worst |error|, coverage, naive median |error|."""
    d = sections(st)["serving"].tables["validation_serving"]
    rows = []
    for fam, g in d.groupby("family", sort=True):
        rows.append({"chip family": fam, "measurements": len(g),
                     "median |error| (%)": float(g.pct_error.abs().median()),
                     "worst |error| (%)": float(g.pct_error.abs().max()),
                     "inside 90% interval (%)": 100 * float(g.in_interval.mean()),
                     "naive median |error| (%)": float(g.naive_pct_error.abs().median())})
    return pd.DataFrame(rows).set_index("chip family")


@figure("fig-validation-held-out", "Held-out predictions against published measurements",
        "Each published measurement against the model's prediction with that point left out (log scales; "
        "the diagonal is a perfect prediction, the band ±10%). Left: training chip-hours of full runs. "
        "Right: serving throughput (tokens/s), coloured by chip family.")
def held_out_figure(st):
    s = sections(st)
    tv = s["training"].tables["validation_training"]
    sv = s["serving"].tables["validation_serving"]
    frames = [
        pd.DataFrame({"model": "training chip-hours", "point": tv.run_id, "family": tv.family,
                      "measured": tv.measured_chip_hours, "predicted": tv.predicted_chip_hours,
                      "low": tv.low_chip_hours, "high": tv.high_chip_hours}),
        pd.DataFrame({"model": "serving tokens/s", "point": sv.measurement_id, "family": sv.family,
                      "measured": sv.measured, "predicted": sv.predicted, "low": sv.low, "high": sv.high}),
    ]
    charts = []
    for df in frames:
        lo, hi = float(min(df.measured.min(), df.predicted.min())) / 1.5, float(max(df.measured.max(),
                                                                                   df.predicted.max())) * 1.5
        line = pd.DataFrame({"measured": [lo, hi], "predicted": [lo, hi]})
        band = pd.DataFrame({"measured": [lo, hi], "lo": [lo * 0.9, hi * 0.9], "hi": [lo * 1.1, hi * 1.1]})
        scale = alt.Scale(type="log", domain=[lo, hi], nice=False)
        x = alt.X("measured:Q", scale=scale, title=f"measured ({df.model.iloc[0]})")
        pts = alt.Chart(df).mark_circle(size=45, opacity=0.8).encode(
            x=x, y=alt.Y("predicted:Q", scale=scale, title="predicted, point left out"),
            color=alt.Color("family:N", title="chip family"),
            tooltip=["point:N", "family:N", alt.Tooltip("measured:Q", format=",.4g"),
                     alt.Tooltip("predicted:Q", format=",.4g"), alt.Tooltip("low:Q", format=",.4g", title="90% low"),
                     alt.Tooltip("high:Q", format=",.4g", title="90% high")])
        bars = alt.Chart(df).mark_rule(opacity=0.35).encode(x=x, y=alt.Y("low:Q", scale=scale), y2="high:Q",
                                                            color="family:N")
        diag = alt.Chart(line).mark_line(color="#555", strokeDash=[4, 3]).encode(x=x, y=alt.Y("predicted:Q",
                                                                                            scale=scale))
        b = alt.Chart(band).mark_area(opacity=0.12, color="#888").encode(x=x, y=alt.Y("lo:Q", scale=scale),
                                                                         y2="hi:Q")
        charts.append((b + diag + bars + pts).properties(width=230, height=230))
    return alt.hconcat(*charts, spacing=20).resolve_scale(color="independent").configure_legend(orient="bottom", columns=2)
