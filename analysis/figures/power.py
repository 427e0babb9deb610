"""Figures and frames of chapter 7 (power and efficiency).

The frames use :mod:`analysis.power` only; two inversions the module does not export are written
here from its functions (both stated in the docstrings below):

* :func:`tdp_for_gain` — the Trainium3 TDP at which its perf/W is (1 + g) x Trainium2's;
* :func:`throughput_for_ratio` — the throughput a chip at power p needs for an r x perf/W claim.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import power
from . import figure
from .. import fmt

PRECISIONS = {"bf16_dense_tflops": "BF16 dense", "fp8_dense_tflops": "FP8 dense"}
NEW, OLD = "trainium3", "trainium2"
# the seed's comparison table (000_8441da0fbd4ce03c.txt): tokens/s and watts per chip
TABLE_CLAIMS = {"h100_tok_s": "S0-031", "inf3_tok_s": "S0-032", "h100_w": "S0-034", "inf3_w": "S0-035",
                "ratio_claim": "S0-020", "takeaway_throughput_x": "S0-040", "takeaway_power_x": "S0-042"}
EFFICIENCY_CLAIM, SAVING_CLAIM = "S2-004", "S2-009"


def claimed(st, claim_id: str) -> float:
    c = st.ds.claims.set_index("claim_id")
    return float(c.claimed_value[claim_id])


def _tdp_row(st, chip_id):
    h = st.ds.hardware
    row = h[(h.chip_id == chip_id) & (h.metric == "tdp_w")].iloc[0]
    return row.basis, row.source_id


def perf_per_watt_frame(st) -> pd.DataFrame:
    """Peak dense TFLOPS per watt of TDP for every chip with a TDP (one row per chip and precision)."""
    wide = st.ds.hardware_wide()
    chips = st.ds.chips.set_index("chip_id")
    recs = []
    for chip_id in wide.index[wide.tdp_w.notna()]:
        basis, source = _tdp_row(st, chip_id)
        for metric, label in PRECISIONS.items():
            tflops = wide.at[chip_id, metric]
            if not np.isfinite(tflops):
                continue
            recs.append({"chip_id": chip_id, "vendor": chips.vendor[chip_id], "precision": label,
                         "tflops": float(tflops), "tdp_w": float(wide.at[chip_id, "tdp_w"]),
                         "tflops_per_w": float(power.perf_per_watt_tflops_w(tflops, wide.at[chip_id, "tdp_w"])),
                         "tdp_basis": basis, "tdp_source": source,
                         "chip": f"{chip_id} (TDP {basis})"})
    return pd.DataFrame(recs)


def generation_ratio(st, metric: str = "fp8_dense_tflops", new_tdp_w=None, old_tdp_w=None):
    """Perf/W of Trainium3 over Trainium2 at ``metric``; TDPs from hardware.csv unless given."""
    new_w = st.ds.spec(NEW, "tdp_w") if new_tdp_w is None else new_tdp_w
    old_w = st.ds.spec(OLD, "tdp_w") if old_tdp_w is None else old_tdp_w
    return (power.perf_per_watt_tflops_w(st.ds.spec(NEW, metric), new_w)
            / power.perf_per_watt_tflops_w(st.ds.spec(OLD, metric), old_w))


def tdp_for_gain(st, perf_per_watt_ratio, metric: str = "fp8_dense_tflops") -> float:
    """Trainium3 TDP (W) at which its perf/W is ``perf_per_watt_ratio`` x Trainium2's:
    W3 = TFLOPS3 / (ratio x TFLOPS2 / W2), the inverse of ``power.perf_per_watt_tflops_w``."""
    base = power.perf_per_watt_tflops_w(st.ds.spec(OLD, metric), st.ds.spec(OLD, "tdp_w"))
    return float(st.ds.spec(NEW, metric) / (np.asarray(perf_per_watt_ratio, dtype=float) * base))


def throughput_for_ratio(ratio, ref_tok_s, ref_w, power_w):
    """Throughput (token/s) a chip drawing ``power_w`` needs for ``ratio`` x the reference's tokens/s per W."""
    ref = np.asarray(ref_tok_s, dtype=float) / np.asarray(ref_w, dtype=float)
    return np.asarray(ratio, dtype=float) * ref * np.asarray(power_w, dtype=float)


def tdp_sweep_frame(st, watts=None) -> pd.DataFrame:
    """Trainium3 vs Trainium2 efficiency readings as Trainium3's TDP varies (Trainium2 TDP fixed)."""
    w = np.arange(400.0, 1001.0, 10.0) if watts is None else np.asarray(watts, dtype=float)
    recs = []
    for metric, label in PRECISIONS.items():
        ratio = generation_ratio(st, metric, new_tdp_w=w)
        saving = 100 * (1 - power.energy_ratio_from_perf_per_watt_ratio(ratio))
        for reading, vals in ((f"{label} perf/W gain (%)", 100 * (ratio - 1)),
                              (f"{label} energy saving per operation (%)", saving)):
            recs += [{"trainium3_tdp_w": float(x), "reading": reading, "percent": float(v)} for x, v in zip(w, vals)]
    return pd.DataFrame(recs)


def table_frame(st, powers=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The seed's tokens/s-per-watt claim: the throughput Inferentia3 needs for the claimed ratio at each
    power, with the points the seed's figures give, and facility energy per token under the scenario."""
    v = {k: claimed(st, cid) for k, cid in TABLE_CLAIMS.items()}
    p = np.arange(100.0, 901.0, 25.0) if powers is None else np.asarray(powers, dtype=float)
    line = pd.DataFrame({"power_w": p, "tok_s": throughput_for_ratio(v["ratio_claim"], v["h100_tok_s"],
                                                                     v["h100_w"], p),
                         "what": f"needed for the claimed {fmt.general(v['ratio_claim'])}x tokens/s per W"})
    pts = pd.DataFrame([
        {"power_w": v["h100_w"], "tok_s": v["h100_tok_s"], "what": "H100 (seed table)"},
        {"power_w": v["inf3_w"], "tok_s": v["inf3_tok_s"], "what": "Inferentia3 (seed table)"},
        {"power_w": v["h100_w"] * v["takeaway_power_x"], "tok_s": v["h100_tok_s"] * v["takeaway_throughput_x"],
         "what": "Inferentia3 (Data Takeaway: throughput x, power x)"},
    ])
    pue, frac = st.sc.value("pue"), st.sc.value("power_fraction_of_tdp")
    for df in (line, pts):
        df["tok_s_per_w"] = df.tok_s / df.power_w
        df["ratio_vs_h100"] = df.tok_s_per_w / (v["h100_tok_s"] / v["h100_w"])
        df["j_per_token"] = power.energy_per_token_j(df.power_w * frac, 1, pue, df.tok_s)
    return line, pts


SAVING_WORDS = ("saving", "reduction")  # a quantity read as less energy per operation, not more perf/W


def hinge_frame(st) -> pd.DataFrame:
    """The power chapter's numeric claims: weakest input basis, flip factor and, for the Trainium3
    generation claims, the Trainium3 TDP range (Trainium2 TDP fixed) over which the claim agrees."""
    from .specs import numeric_frame

    df = numeric_frame(st, "power")
    lo_w, hi_w = [], []
    for q, subject, b_lo, b_hi, unit in zip(df.quantity, df.subject, df.band_lo, df.band_hi, df.unit):
        if subject != NEW or unit != "percent":
            lo_w.append(np.nan)
            hi_w.append(np.nan)
            continue
        if any(w in q for w in SAVING_WORDS):
            r_lo, r_hi = (power.perf_per_watt_ratio_from_energy_saving(b / 100) for b in (b_lo, b_hi))
        else:
            r_lo, r_hi = 1 + b_lo / 100, 1 + b_hi / 100
        lo_w.append(tdp_for_gain(st, r_hi))
        hi_w.append(tdp_for_gain(st, r_lo))
    df["tdp_lo_w"], df["tdp_hi_w"] = lo_w, hi_w
    return df


@figure("fig-power-perf-per-watt", "Peak compute per watt of TDP",
        "Peak dense TFLOPS per watt of TDP by chip and precision (data/hardware.csv); each label says whether "
        "the TDP is a vendor figure, a measurement, a third-party estimate or the seed's own claim.")
def perf_per_watt(st):
    df = perf_per_watt_frame(st)
    order = (df[df.precision == "BF16 dense"].sort_values("tflops_per_w", ascending=False, kind="stable").chip.tolist()
             + sorted(set(df.chip) - set(df[df.precision == "BF16 dense"].chip)))
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("chip:N", sort=order, title="Chip (basis of its TDP)"),
        yOffset=alt.YOffset("precision:N"),
        x=alt.X("tflops_per_w:Q", title="Peak dense throughput per watt (TFLOPS/W)"),
        color=alt.Color("precision:N", title="Precision"),
        tooltip=["chip_id:N", "vendor:N", "precision:N", alt.Tooltip("tflops:Q", format=",.1f", title="TFLOPS"),
                 alt.Tooltip("tdp_w:Q", format=",.0f", title="TDP (W)"), "tdp_basis:N", "tdp_source:N",
                 alt.Tooltip("tflops_per_w:Q", format=".3f", title="TFLOPS/W")],
    ).properties(width=420, height=max(240, 26 * df.chip_id.nunique()))


@figure("fig-power-what-claims-need", "What the efficiency claims would need",
        "Left: Trainium3's FP8 and BF16 perf/W gain and energy saving over Trainium2 as Trainium3's TDP varies "
        "(Trainium2 TDP from hardware.csv); the dashed lines mark the claimed 40% and the TDP in hardware.csv. "
        "Right: the throughput Inferentia3 would need at each power for the claimed 3x tokens/s per watt over "
        "H100, against the points the seed's own figures give.")
def what_claims_need(st):
    sweep = tdp_sweep_frame(st)
    claim_pct = claimed(st, EFFICIENCY_CLAIM)
    left_lines = alt.Chart(sweep).mark_line().encode(
        x=alt.X("trainium3_tdp_w:Q", title="Trainium3 TDP (W)"),
        y=alt.Y("percent:Q", title="Trainium3 over Trainium2 (%)"),
        color=alt.Color("reading:N", title="Reading of '40% better'", legend=alt.Legend(labelLimit=320)),
        tooltip=[alt.Tooltip("trainium3_tdp_w:Q", title="Trainium3 TDP (W)"), "reading:N",
                 alt.Tooltip("percent:Q", format=".1f", title="percent")])
    hrule = alt.Chart(pd.DataFrame({"percent": [claim_pct], "what": ["claimed (S2-004, S2-009)"]})).mark_rule(
        strokeDash=[5, 3], color="#444444").encode(y="percent:Q", tooltip=["what:N", "percent:Q"])
    vrule = alt.Chart(pd.DataFrame({"w": [st.ds.spec(NEW, "tdp_w")], "what": ["Trainium3 TDP in hardware.csv"]})
                      ).mark_rule(strokeDash=[2, 2], color="#888888").encode(
        x="w:Q", tooltip=["what:N", alt.Tooltip("w:Q", title="W")])
    left = (left_lines + hrule + vrule).properties(width=300, height=280,
                                                   title="'40% better energy efficiency' (Trainium3)")
    line, pts = table_frame(st)
    tips = [alt.Tooltip("what:N"), alt.Tooltip("power_w:Q", format=",.0f", title="power (W)"),
            alt.Tooltip("tok_s:Q", format=",.0f", title="tokens/s"),
            alt.Tooltip("ratio_vs_h100:Q", format=".2f", title="tokens/s per W vs H100 (x)"),
            alt.Tooltip("j_per_token:Q", format=".3f", title="facility J per token (scenario PUE, power fraction)")]
    x = alt.X("power_w:Q", title="Chip power (W)")
    y = alt.Y("tok_s:Q", title="Sparse-attention throughput (token/s)")
    right = (alt.Chart(line).mark_line(color="#444444", strokeDash=[5, 3]).encode(x=x, y=y, tooltip=tips)
             + alt.Chart(pts).mark_point(filled=True, size=110).encode(
                 x=x, y=y, color=alt.Color("what:N", title="Point", legend=alt.Legend(labelLimit=320)), shape=alt.Shape("what:N", title="Point"),
                 tooltip=tips)).properties(width=300, height=280, title="'3x throughput per watt' (Inferentia3)")
    return alt.hconcat(left, right).resolve_scale(color="independent", shape="independent")
