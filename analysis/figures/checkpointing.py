"""Figures and frames of chapter 6, Checkpointing and goodput.

Everything here is computed from :mod:`analysis.checkpoint` (checkpoint size by state, write time,
Young-Daly interval, first-order goodput, idle time saved) and :func:`analysis.training.predict_training`,
with the study's datasets and scenario; the notebook ``06_checkpointing`` displays the figures
and glues the numbers.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import checkpoint as ck
from ..training import predict_training
from . import figure
from .. import fmt

#: The readings of data/rebuilds/S0.yaml (S0-008, S0-015): 'a few hours' as 1-4 h, its middle 3 h,
#: the checkpoint periods of the alternative readings (2 h and 4 h), and the article's 30-day 1T run.
FEW_HOURS = (1.0, 4.0)
FEW_HOURS_MIDDLE_H = 3.0
PERIODS_SHOWN_H = (2.0, 3.0, 4.0)
RUN_DAYS = 30.0
#: Checkpoint states of chapter 6 (analysis.checkpoint.CHECKPOINT_CONTENTS), in display order.
STATES = ("weights", "optimizer", "full")
#: Models whose checkpoint sizes the chapter tabulates (data/workloads.csv).
MODELS = ("generic-70b", "llama-3.1-405b", "generic-1t")


def claim_value(st, claim_id: str, high: bool = False) -> float:
    """A claim's claimed value (or its high end) in its own unit, from data/claims.csv."""
    row = st.ds.claims.set_index("claim_id").loc[claim_id]
    return float(row.claimed_high if high else row.claimed_value)


def _bytes_kw(st) -> dict:
    return {"bytes_per_param_weights": st.sc.value("bytes_per_param_weights"),
            "bytes_per_param_master_weights": st.sc.value("bytes_per_param_master_weights"),
            "bytes_per_param_optimizer": st.sc.value("bytes_per_param_optimizer")}


def checkpoint_tb(st, params, state: str = "full") -> float:
    """Checkpoint size in TB (1e12 bytes) of ``params`` parameters under the scenario's bytes/param."""
    return float(ck.checkpoint_bytes(params, state, **_bytes_kw(st))) / 1e12


def size_frame(st) -> pd.DataFrame:
    """Checkpoint size (TB) and blocking write time (minutes, at the scenario's write bandwidth and at
    the ends of its range) for each model and checkpoint state."""
    bw = st.sc["checkpoint_write_gb_s"]
    models = st.ds.workloads.set_index("model_id")
    rows = []
    for m in MODELS:
        n = float(models.params_total[m])
        for state in STATES:
            size = float(ck.checkpoint_bytes(n, state, **_bytes_kw(st)))
            rows.append({"model": m, "parameters": n, "state": state, "size_tb": size / 1e12,
                         "write_min": float(ck.checkpoint_write_s(size, bw.value)) / 60,
                         "write_min_slow": float(ck.checkpoint_write_s(size, bw.low)) / 60,
                         "write_min_fast": float(ck.checkpoint_write_s(size, bw.high)) / 60})
    return pd.DataFrame(rows)


def run_chips(st, params: float, days: float = RUN_DAYS, tokens_per_param=None, mfu=None) -> float:
    """Trainium2 chips that finish a compute-optimal run of ``params`` in ``days`` (fitted MFU unless
    given): chip-hours of predict_training / (24 x days), as in the rebuild of S0-008."""
    tpp = st.sc.value("tokens_per_param_chinchilla") if tokens_per_param is None else tokens_per_param
    r = predict_training(st.ds, params, params * tpp, "trainium2", mfu=mfu, scenario=st.sc)
    return float(r["chip_hours"]) / (24.0 * days)


def interval_case(st, params: float, chips: float, *, write_gb_s=None, chip_mtbf_hours=None,
                  restart_minutes=None) -> dict:
    """Full checkpoint of ``params`` on ``chips``: size, write time delta, job MTBF M, Young and Daly
    intervals and the first-order goodput at the Daly interval (scenario values unless given)."""
    bw = st.sc.value("checkpoint_write_gb_s") if write_gb_s is None else write_gb_s
    mtbf_chip = st.sc.value("chip_mtbf_hours") if chip_mtbf_hours is None else chip_mtbf_hours
    restart = st.sc.value("restart_minutes") if restart_minutes is None else restart_minutes
    size = float(ck.checkpoint_bytes(params, "full", **_bytes_kw(st)))
    delta = float(ck.checkpoint_write_s(size, bw))
    m = 3600.0 * float(ck.system_mtbf_hours(mtbf_chip, chips))
    tau = float(ck.daly_interval_s(delta, m))
    return {"size_tb": size / 1e12, "write_s": delta, "mtbf_s": m, "young_s": float(ck.young_interval_s(delta, m)),
            "daly_s": tau, "goodput": float(ck.goodput_fraction(tau, delta, m, 60.0 * restart)),
            "waste_restart": 60.0 * restart / m}


def goodput_frame(st, params: float) -> pd.DataFrame:
    """Daly interval and goodput of a full checkpoint of ``params`` against fleet size, at the
    scenario's low, central and high chip MTBF (write bandwidth and restart time at their values)."""
    a = st.sc["chip_mtbf_hours"]
    chips = np.unique(np.round(np.logspace(8, 19, 45, base=2)))
    rows = []
    for label, mtbf in (("low", a.low), ("central", a.value), ("high", a.high)):
        for p in chips:
            c = interval_case(st, params, p, chip_mtbf_hours=mtbf)
            rows.append({"chip_mtbf": f"{mtbf:,.0f} h ({label})", "chips": float(p),
                         "job_mtbf_min": c["mtbf_s"] / 60, "write_min": c["write_s"] / 60,
                         "young_min": c["young_s"] / 60, "daly_min": c["daly_s"] / 60,
                         "goodput_pct": 100 * c["goodput"], "restart_share_pct": 100 * c["waste_restart"]})
    return pd.DataFrame(rows)


def idle_frame(st, hours=None) -> pd.DataFrame:
    """Share of wall-clock time freed when a blocking checkpoint taken every P hours drops from the
    article's 30 to 5 minutes, (delta_1 - delta_2) / P, against P."""
    before, after = 60 * claim_value(st, "S0-012"), 60 * claim_value(st, "S0-013")
    p_h = np.linspace(1.0, 8.0, 57) if hours is None else np.asarray(hours, dtype=float)
    saved = ck.idle_share_saved(before, after, 3600 * p_h)
    return pd.DataFrame({"period_h": p_h, "saved_pct": 100 * np.asarray(saved, dtype=float)})


def inputs_frame(st) -> pd.DataFrame:
    """The dataset cells, seed figures and assumptions the chapter uses: value, unit, basis, source."""
    rows = []
    models = st.ds.workloads.set_index("model_id")
    for m in MODELS:
        rows.append({"input": f"{m}: parameters", "value": fmt.exact(models.params_total[m]), "unit": "parameter",
                     "basis": models.basis[m], "source": models.source_id[m]})
    claims = st.ds.claims.set_index("claim_id")
    for cid, what in (("S0-007", "model size"), ("S0-009", "checkpoint size"), ("S0-012", "checkpoint time before"),
                      ("S0-013", "checkpoint time after"), ("S0-014", "idle time saved")):
        c = claims.loc[cid]
        v = fmt.general(c.claimed_value) + (f"-{fmt.general(c.claimed_high)}" if pd.notna(c.claimed_high) else "")
        rows.append({"input": f"seed claim {cid}: {what}", "value": v, "unit": c.unit, "basis": "claimed",
                     "source": "seed-000"})
    r = st.ds.long_row("hardware", "trainium2", "bf16_dense_tflops")
    rows.append({"input": "trainium2: dense BF16 (fleet size of the 30-day run)", "value": fmt.general(r['value']),
                 "unit": r["unit"], "basis": r["basis"], "source": r["source_id"]})
    for name in ("bytes_per_param_weights", "bytes_per_param_master_weights", "bytes_per_param_optimizer",
                 "checkpoint_write_gb_s", "chip_mtbf_hours", "restart_minutes", "tokens_per_param_chinchilla"):
        a = st.sc[name]
        rows.append({"input": f"assumption {name} (range {fmt.general(a.low)}-{fmt.general(a.high)})", "value": fmt.general(a.value),
                     "unit": a.unit, "basis": "assumption", "source": a.source})
    return pd.DataFrame(rows).set_index("input")


# --- figures -----------------------------------------------------------------------------------

@figure("fig-checkpointing-write-time", "Checkpoint write time, and what 30 -> 5 minutes frees",
        "Left: blocking write time of a 1T-parameter checkpoint by saved state against the file "
        "system's aggregate write bandwidth (shaded: the scenario's range); dashed rules at the "
        "article's 30 and 5 minutes. Right: share of wall-clock time freed when a checkpoint taken "
        "every P hours drops from 30 to 5 minutes; dashed rule at the claimed 20%.")
def write_time_figure(st):
    params = claim_value(st, "S0-007")
    bw = st.sc["checkpoint_write_gb_s"]
    gbs = np.logspace(0, 3, 49)
    rows = []
    cases = [(f"{s} ({fmt.general(checkpoint_tb(st, params, s))} TB)", checkpoint_tb(st, params, s)) for s in STATES]
    cases.append((f"the article's {fmt.general(claim_value(st, 'S0-009', high=True))} TB", claim_value(st, "S0-009", high=True)))
    for label, tb in cases:
        for g in gbs:
            rows.append({"checkpoint": label, "size_tb": tb, "write_gb_s": float(g),
                         "write_min": float(ck.checkpoint_write_s(tb * 1e12, g)) / 60})
    df = pd.DataFrame(rows)
    sel = alt.selection_point(name="ch6_write_checkpoint", fields=["checkpoint"], bind="legend")
    band = alt.Chart(pd.DataFrame({"lo": [bw.low], "hi": [bw.high], "central": [bw.value]})).mark_rect(
        opacity=0.12, color="#4575b4").encode(
        x="lo:Q", x2="hi:Q",
        tooltip=[alt.Tooltip("lo:Q", title="scenario low (GB/s)"), alt.Tooltip("central:Q", title="central (GB/s)"),
                 alt.Tooltip("hi:Q", title="scenario high (GB/s)")])
    lines = alt.Chart(df).mark_line().encode(
        x=alt.X("write_gb_s:Q", title="Aggregate write bandwidth (GB/s, log scale)", scale=alt.Scale(type="log")),
        y=alt.Y("write_min:Q", title="Checkpoint write time (minutes, log scale)", scale=alt.Scale(type="log")),
        color=alt.Color("checkpoint:N", title="1T checkpoint (size)"),
        opacity=alt.condition(sel, alt.value(1.0), alt.value(0.15)),
        tooltip=["checkpoint:N", alt.Tooltip("write_gb_s:Q", format=".3g", title="bandwidth (GB/s)"),
                 alt.Tooltip("write_min:Q", format=".3g", title="write time (min)")])
    claims = pd.DataFrame({"minutes": [claim_value(st, "S0-012"), claim_value(st, "S0-013")],
                           "label": ["claimed before (S0-012)", "claimed after (S0-013)"]})
    rules = alt.Chart(claims).mark_rule(strokeDash=[5, 4], color="black").encode(
        y="minutes:Q", tooltip=["label:N", alt.Tooltip("minutes:Q", title="minutes")])
    left = (band + lines.add_params(sel) + rules).properties(width=320, height=280, name="ch6_write_time")

    idle = idle_frame(st)
    pts = idle_frame(st, PERIODS_SHOWN_H)
    curve = alt.Chart(idle).mark_line(color="#d73027").encode(
        x=alt.X("period_h:Q", title="Checkpoint period P (hours)"),
        y=alt.Y("saved_pct:Q", title="Wall-clock time freed (%)"),
        tooltip=[alt.Tooltip("period_h:Q", format=".2f", title="period (h)"),
                 alt.Tooltip("saved_pct:Q", format=".1f", title="freed (%)")])
    marks = alt.Chart(pts).mark_point(size=70, filled=True, color="#d73027").encode(
        x="period_h:Q", y="saved_pct:Q",
        tooltip=[alt.Tooltip("period_h:Q", format=".0f", title="period (h)"),
                 alt.Tooltip("saved_pct:Q", format=".1f", title="freed (%)")])
    claim = alt.Chart(pd.DataFrame({"pct": [claim_value(st, "S0-014")], "label": ["claimed: nearly 20%"]})).mark_rule(
        strokeDash=[5, 4], color="black").encode(y="pct:Q", tooltip=["label:N", alt.Tooltip("pct:Q", title="%")])
    right = (curve + marks + claim).properties(width=280, height=280, name="ch6_idle_saved")
    return alt.hconcat(left, right).resolve_scale(color="independent")


@figure("fig-checkpointing-goodput", "Checkpoint interval and goodput against fleet size",
        "Daly-optimal checkpoint interval (left) and first-order goodput at that interval (right) of a "
        "full 1T-parameter checkpoint against the number of chips, at the scenario's low, central and "
        "high chip MTBF (write bandwidth and restart time at their central values). Shaded: 'every few "
        "hours' read as 1-4 h; dashed rule: the Trainium2 fleet that finishes a compute-optimal 1T run "
        "in 30 days.")
def goodput_figure(st):
    params = claim_value(st, "S0-007")
    df = goodput_frame(st, params)
    fleet = run_chips(st, params)
    sel = alt.selection_point(name="ch6_goodput_mtbf", fields=["chip_mtbf"], bind="legend")
    tooltip = ["chip_mtbf:N", alt.Tooltip("chips:Q", format=",.0f", title="chips"),
               alt.Tooltip("job_mtbf_min:Q", format=".3g", title="job MTBF (min)"),
               alt.Tooltip("write_min:Q", format=".3g", title="write time (min)"),
               alt.Tooltip("young_min:Q", format=".3g", title="Young interval (min)"),
               alt.Tooltip("daly_min:Q", format=".3g", title="Daly interval (min)"),
               alt.Tooltip("goodput_pct:Q", format=".1f", title="goodput (%)"),
               alt.Tooltip("restart_share_pct:Q", format=".1f", title="lost to restarts (%)")]
    x = alt.X("chips:Q", title="Chips in the job (count, log scale)", scale=alt.Scale(type="log", base=2),
              axis=alt.Axis(format=",.0f", labelOverlap="greedy"))
    order = list(dict.fromkeys(df.chip_mtbf))
    base = alt.Chart(df).encode(x=x, color=alt.Color("chip_mtbf:N", title="Chip MTBF", sort=order),
                                opacity=alt.condition(sel, alt.value(1.0), alt.value(0.15)), tooltip=tooltip)
    fleet_rule = alt.Chart(pd.DataFrame({"chips": [fleet], "label": ["30-day 1T run on Trainium2"]})).mark_rule(
        strokeDash=[5, 4], color="black").encode(
        x="chips:Q", tooltip=["label:N", alt.Tooltip("chips:Q", format=",.0f", title="chips")])
    few = alt.Chart(pd.DataFrame({"lo": [60 * FEW_HOURS[0]], "hi": [60 * FEW_HOURS[1]],
                                  "label": ["'every few hours' (1-4 h)"]})).mark_rect(
        opacity=0.12, color="#4575b4").encode(y="lo:Q", y2="hi:Q", tooltip=["label:N"])
    left = (few + base.mark_line().encode(
        y=alt.Y("daly_min:Q", title="Daly checkpoint interval (minutes, log scale)", scale=alt.Scale(type="log")))
        .add_params(sel) + fleet_rule).properties(width=300, height=280, name="ch6_interval")
    right = (base.mark_line().encode(y=alt.Y("goodput_pct:Q", title="Goodput at the Daly interval (%)"))
             + fleet_rule).properties(width=300, height=280, name="ch6_goodput")
    return alt.hconcat(left, right)
