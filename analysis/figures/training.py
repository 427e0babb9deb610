"""Figures and tables of chapter 4, Training economics.

Helpers (used by the chapter's notebook as well as by its figures, so the prose and the charts
read the same numbers):

* :func:`cost_cases` — the seeds' training-cost claims rebuilt with ``training.predict_training``
  (6ND FLOPs, the chip-hours model's implied MFU, listed chip-hour price), with its 90% prediction interval.
* :func:`mfu_points` — every published run's MFU and the fitted family values with their CIs.
* :func:`sensitivity_frame` / :func:`straddling` — what a chapter's verdicts hang on.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import fmt, training, whatif
from . import figure

#: The seeds' training-cost claims: (claim id, model label, active parameters or a workloads.csv
#: model id, chip). "1T" is the size the claims state (quantity training_cost_1t_30d); the
#: GPT-4-class run is read as a Llama 3.1 405B shape, as in data/rebuilds/S3.yaml.
CASES = [
    ("S0-055", "dense 1T", 1e12, "trainium2"),
    ("S0-059", "dense 1T", 1e12, "tpu-v5p"),
    ("S0-063", "dense 1T", 1e12, "h100-sxm"),
    ("S3-032", "405B (GPT-4 class)", "llama-3.1-405b", "h100-sxm"),
]


def _params(ds, p) -> float:
    if isinstance(p, str):
        return float(ds.workloads.set_index("model_id").params_total[p])
    return float(p)


def family_mfu_ci(ds) -> pd.DataFrame:
    """Partial-pooling MFU per chip family with its 95% CI (training.fit_results)."""
    fr = training.fit_results(ds)
    fr = fr[(fr.model == "mfu_partial_pooling") & (fr.parameter == "mfu")]
    return fr.set_index("scope")[["value", "ci_low", "ci_high", "n_points", "borrowed_from"]]


def cost_cases(st) -> pd.DataFrame:
    """One row per training-cost claim: FLOPs, peak, the MFU the chip-hours model implies (or the
    user's, under a scenario that states one) with its 90% interval (``mfu_ci_*``; ``cost_usd_mfu_ci_*``
    the cost at its ends), listed price, chip-hours, cost."""
    ds, sc = st.ds, st.sc
    claims = ds.claims.set_index("claim_id")
    names = ds.chips.set_index("chip_id").name
    r = sc.value("tokens_per_param_chinchilla")
    rows = []
    for cid, label, p, chip in CASES:
        n = _params(ds, p)
        # as the ledger's rebuild does: the fitted chip-hours model, or the user's MFU where a scenario
        # or --set states one (analysis.whatif), with the 90% interval of whichever speaks
        out = whatif.training_run(ds, sc, n, r * n, chip)
        listed = training._cost.listed_chip_hour_price(ds, chip)
        # the chip-hours model's own 90% prediction interval (fit draws plus leave-one-out error),
        # expressed as the 6ND MFU it implies at each end
        h_lo, h_hi = out["chip_hours_low"], out["chip_hours_high"]
        lo = float(training.mfu_from_chip_hours(out["flops"], h_hi, out["peak_tflops"]))
        hi = float(training.mfu_from_chip_hours(out["flops"], h_lo, out["peak_tflops"]))
        claimed_high = claims.claimed_high[cid]
        rows.append(dict(
            claim_id=cid, case=f"{cid}: {label}: {chip}", model=label, chip_id=chip, chip=names[chip],
            params=n, tokens_per_param=r, tokens=r * n, flops=out["flops"],
            flops_per_param_token=sc.value("flops_per_param_token_training"),
            peak_tflops=out["peak_tflops"], mfu_fitted=out["mfu"], mfu_ci_low=lo, mfu_ci_high=hi,
            mfu_source=out["mfu_source"], usd_per_chip_hour=out["usd_per_chip_hour"],
            pricing=listed["pricing"].replace("_", "-"), price_system=listed["system_id"],
            price_as_of=listed["as_of"], price_source=listed["source_id"],
            chip_hours=out["chip_hours"], cost_usd=out["cost_usd"],
            cost_usd_committed=out["cost_usd_committed"],
            cost_usd_mfu_ci_low=float(out["cost_usd_low"]), cost_usd_mfu_ci_high=float(out["cost_usd_high"]),
            claimed_usd=float(claims.claimed_value[cid]),
            claimed_high_usd=float(claimed_high) if not pd.isna(claimed_high) else np.nan))
    return pd.DataFrame(rows)


def mfu_points(st) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(published runs with an MFU and their leave-one-out errors, fitted family MFUs with 95% CI)."""
    ds = st.ds
    runs = training.run_mfu_table(ds)
    loo = training.loo_table(ds)[["run_id", "predicted_mfu", "mfu_error_pct", "predicted_chip_hours",
                                  "chip_hours_error_pct", "predicted_from"]]
    runs = runs[runs.mfu.notna()].merge(loo, on="run_id", how="left")
    ci = family_mfu_ci(ds).reset_index().rename(columns={"scope": "family"})
    ci = ci[ci.family.isin(set(runs.family))]
    return runs, ci


# --- sensitivity, shared with the other chapters' notebooks ------------------------------------------

from ..chapters import chapter_rows  # noqa: E402  (one definition, re-exported here)


def _numeric(x) -> bool:
    return isinstance(x, (int, float, np.floating)) and not isinstance(x, bool) and np.isfinite(x)


#: Swings below this share of the rebuilt value (percent) are rounding noise, not sensitivity.
NEGLIGIBLE_PCT = 1e-6


def sensitivity_frame(st, chapter: str) -> pd.DataFrame:
    """Per scenario assumption, over the chapter's rows with a sensitivity: how often it is the
    largest swing, and the median and largest |swing| / |rebuilt| (percent). Assumptions that move
    no row (swing 0, or below NEGLIGIBLE_PCT of the rebuilt value) are left out."""
    rows = [r for r in chapter_rows(st, chapter) if r.sensitivity and _numeric(r.rebuilt) and r.rebuilt != 0]
    recs = []
    for r in rows:
        top = max(r.sensitivity, key=lambda s: abs(s[1]))[0]
        for name, swing in r.sensitivity:
            rel = 100 * abs(swing) / abs(r.rebuilt)
            if rel > NEGLIGIBLE_PCT:
                recs.append(dict(assumption=name, claim_id=r.claim_id, top=name == top, rel=rel))
    if not recs:
        return pd.DataFrame(columns=["assumption", "range", "claims where largest", "median swing (% of rebuilt)",
                                     "largest swing (% of rebuilt)", "claims"])
    df = pd.DataFrame(recs)
    out = []
    for name, g in df.groupby("assumption", sort=True):
        a = st.sc[name]
        out.append({"assumption": name, "range": f"{fmt.general(a.low)}–{fmt.general(a.high)} {a.unit} (central {fmt.general(a.value)})",
                    "claims where largest": int(g.top.sum()),
                    "median swing (% of rebuilt)": float(g.rel.median()),
                    "largest swing (% of rebuilt)": float(g.rel.max()),
                    "claims": ", ".join(sorted(g.claim_id))})
    return (pd.DataFrame(out).sort_values(["claims where largest", "largest swing (% of rebuilt)"],
                                          ascending=False).reset_index(drop=True))


def straddling(st, chapter: str) -> tuple[list, list]:
    """(rows with a numeric claim and a rebuilt interval, those whose interval reaches the claimed value)."""
    from ..chapters import straddling as _straddling

    have = [r for r in chapter_rows(st, chapter)
            if r.claimed is not None and _numeric(r.low) and _numeric(r.high) and r.low < r.high]
    return have, _straddling(have)


def _decade(x: float, up: bool = False) -> float:
    e = np.log10(x)
    return float(10 ** (np.ceil(e) if up else np.floor(e)))


def _cost_high(df) -> float:
    return float(np.nanmax([df.cost_usd_mfu_ci_high.max(), df.claimed_usd.max(), df.claimed_high_usd.max()]))


# --- figures --------------------------------------------------------------------------------------

@figure("fig-training-mfu-fit", "MFU of published runs, fitted by chip family, and held-out errors",
        "Left: model FLOPs utilisation of every published run with one (points) and the partial-pooling "
        "fit per chip family (diamond, 95% CI bar). Right: leave-one-out error of the chip-hours predicted "
        "for each run with a published chip-hour figure (data/training_runs.csv).")
def mfu_fit(st):
    runs, ci = mfu_points(st)
    runs = runs.assign(mfu_pct=100 * runs.mfu, predicted_mfu_pct=100 * runs.predicted_mfu)
    ci = ci.assign(value_pct=100 * ci.value, lo_pct=100 * ci.ci_low, hi_pct=100 * ci.ci_high)
    order = sorted(set(runs.family))
    y = alt.Y("family:N", title="Chip family", sort=order)
    pts = alt.Chart(runs).mark_circle(size=70, opacity=0.75).encode(
        x=alt.X("mfu_pct:Q", title="MFU (% of peak dense BF16)", scale=alt.Scale(domain=[0, 60])),
        y=y, color=alt.Color("family:N", title="Chip family", sort=order),
        tooltip=["run_id:N", "chip_id:N", alt.Tooltip("mfu_pct:Q", format=".1f", title="MFU (%)"),
                 alt.Tooltip("mfu_path:N", title="how obtained"),
                 alt.Tooltip("predicted_mfu_pct:Q", format=".1f", title="leave-one-out MFU (%)")])
    bars = alt.Chart(ci).mark_rule(strokeWidth=2, color="black").encode(
        x="lo_pct:Q", x2="hi_pct:Q", y=y,
        tooltip=["family:N", alt.Tooltip("value_pct:Q", format=".1f", title="fitted MFU (%)"),
                 alt.Tooltip("lo_pct:Q", format=".1f", title="95% CI low (%)"),
                 alt.Tooltip("hi_pct:Q", format=".1f", title="95% CI high (%)"),
                 alt.Tooltip("n_points:Q", title="runs behind the fit (own or pooled)")])
    dia = alt.Chart(ci).mark_point(shape="diamond", size=140, filled=True, color="black").encode(
        x="value_pct:Q", y=y, tooltip=["family:N", alt.Tooltip("value_pct:Q", format=".1f", title="fitted MFU (%)")])
    left = (bars + dia + pts).properties(width=330, height=200, title="Published and fitted MFU")
    held = runs[runs.chip_hours_error_pct.notna()]
    right = alt.Chart(held).mark_bar().encode(
        y=alt.Y("run_id:N", title="Run", sort=alt.EncodingSortField("chip_hours_error_pct", order="ascending")),
        x=alt.X("chip_hours_error_pct:Q", title="Held-out chip-hours error (% of published)"),
        color=alt.Color("family:N", title="Chip family", sort=order),
        tooltip=["run_id:N", "chip_id:N",
                 alt.Tooltip("published_chip_hours:Q", format=",.0f", title="published chip-hours"),
                 alt.Tooltip("predicted_chip_hours:Q", format=",.0f", title="predicted chip-hours (left out)"),
                 alt.Tooltip("chip_hours_error_pct:Q", format="+.1f", title="error (%)"),
                 alt.Tooltip("predicted_from:N", title="predicted from")],
    ).properties(width=260, height=200, title="Leave-one-out check")
    return alt.hconcat(left, right).resolve_scale(color="shared")


@figure("fig-training-cost", "Cost of the seeds' training runs: rebuilt vs claimed",
        "Compute cost of each training run the seeds price (6ND FLOPs, Chinchilla-sized data, listed chip-hour "
        "price): rebuilt (circle, bar = 90% prediction interval of the chip-hours model) against the seed's figure (red cross). Sliders "
        "change MFU, tokens per parameter and the price; the defaults reproduce the ledger.")
def cost_chart(st):
    df = cost_cases(st)
    full = df
    df = df[["claim_id", "case", "chip", "pricing", "price_system", "params", "flops_per_param_token",
             "peak_tflops", "mfu_fitted", "mfu_ci_low", "mfu_ci_high", "usd_per_chip_hour", "claimed_usd",
             "claimed_high_usd"]]
    tpp = st.sc["tokens_per_param_chinchilla"]
    mfu_a = st.sc["training_mfu"]
    mode = alt.param(name="mfu_mode", value="fitted per chip",
                     bind=alt.binding_radio(options=["fitted per chip", "slider"], name="MFU from: "))
    mfu = alt.param(name="mfu", value=mfu_a.value,
                    bind=alt.binding_range(min=0.05, max=0.8, step=0.01, name="MFU (when 'slider') "))
    tokens = alt.param(name="tokens_per_param", value=tpp.value,
                       bind=alt.binding_range(min=1, max=100, step=1, name="tokens per parameter "))
    price = alt.param(name="price_mult", value=1.0,
                      bind=alt.binding_range(min=0.1, max=2.0, step=0.05, name="price per chip-hour (x listed) "))
    base = alt.Chart(df).transform_calculate(
        mfu_used="mfu_mode == 'slider' ? mfu : datum.mfu_fitted",
        mfu_lo="mfu_mode == 'slider' ? mfu : datum.mfu_ci_low",
        mfu_hi="mfu_mode == 'slider' ? mfu : datum.mfu_ci_high",
        tokens="tokens_per_param * datum.params",
        flops="datum.flops_per_param_token * datum.params * datum.tokens",
        price_used="price_mult * datum.usd_per_chip_hour",
        chip_hours="datum.flops / (datum.peak_tflops * 1e12 * datum.mfu_used * 3600)",
        cost="datum.chip_hours * datum.price_used",
        cost_low="datum.flops / (datum.peak_tflops * 1e12 * datum.mfu_hi * 3600) * datum.price_used",
        cost_high="datum.flops / (datum.peak_tflops * 1e12 * datum.mfu_lo * 3600) * datum.price_used",
        claimed_over_rebuilt="datum.claimed_usd / datum.cost",
    )
    x = alt.X("case:N", title=None, axis=alt.Axis(labelAngle=0, labelLimit=200,
                                                  labelExpr="split(datum.label, ': ')"))
    lo = min(full.claimed_usd.min(), full.cost_usd_mfu_ci_low.min())
    dom = [_decade(lo / 3), _decade(_cost_high(full) * 3, up=True)]
    ys = alt.Scale(type="log", clamp=True, nice=False, domain=dom)
    decades = [10.0 ** k for k in range(int(np.log10(dom[0])), int(np.log10(dom[1])) + 1)]
    tips = [alt.Tooltip("case:N", title="claim"), alt.Tooltip("cost:Q", format="$,.3s", title="rebuilt cost"),
            alt.Tooltip("claimed_usd:Q", format="$,.3s", title="claimed cost"),
            alt.Tooltip("claimed_over_rebuilt:Q", format=".3f", title="claimed / rebuilt"),
            alt.Tooltip("flops:Q", format=".3e", title="training FLOPs (6ND)"),
            alt.Tooltip("tokens:Q", format=".3e", title="tokens D"),
            alt.Tooltip("mfu_used:Q", format=".3f", title="MFU"),
            alt.Tooltip("chip_hours:Q", format=",.3s", title="chip-hours"),
            alt.Tooltip("price_used:Q", format="$.3f", title="USD per chip-hour"),
            alt.Tooltip("pricing:N", title="price basis"), alt.Tooltip("price_system:N", title="priced system")]
    ci = base.mark_rule(strokeWidth=3, color="#4c78a8", opacity=0.6).encode(
        x=x, y=alt.Y("cost_low:Q", scale=ys, title="Compute cost of the run (USD, log scale)",
                                 axis=alt.Axis(format="$.2s", values=decades)), y2="cost_high:Q",
        tooltip=tips)
    legend = alt.Scale(domain=["rebuilt (bar: 90% prediction interval)", "claimed by the seed"],
                       range=["#4c78a8", "#d62728"])
    pt = base.transform_calculate(series="'rebuilt (bar: 90% prediction interval)'").mark_circle(size=150).encode(
        x=x, y=alt.Y("cost:Q", scale=ys), tooltip=tips,
        color=alt.Color("series:N", scale=legend, title=None, legend=alt.Legend(orient="top")))
    claimed = base.transform_calculate(series="'claimed by the seed'").mark_point(
        shape="cross", size=180, filled=True).encode(
        x=x, y=alt.Y("claimed_usd:Q", scale=ys), tooltip=tips,
        color=alt.Color("series:N", scale=legend, title=None))
    rng = base.transform_filter("isValid(datum.claimed_high_usd)").mark_rule(color="#d62728", strokeDash=[4, 3]).encode(
        x=x, y=alt.Y("claimed_usd:Q", scale=ys), y2="claimed_high_usd:Q", tooltip=tips)
    return (ci + rng + pt + claimed).add_params(mode, mfu, tokens, price).properties(width=560, height=320)
