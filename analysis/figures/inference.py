"""Figures of chapter 3 (Inference economics) and the frame behind them.

:func:`serving_grid` runs the decode model of :mod:`analysis.inference` (vectorised over batch)
for a 70B model on the systems the seeds compare, at the scenario's byte sizes, utilisation,
power fraction and PUE and each chip's fitted efficiencies; the notebook ``03_inference`` reads
the same frame. The cost chart recomputes USD per million tokens in the browser from the base
quantities (tokens/s, chips, price) with sliders for the price multiplier and the utilisation.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import inference as inf
from .. import roofline as rf
from .. import workloads as wl
from ..cost import listed_chip_hour_price
from . import figure

MODEL_ID = "generic-70b"
INPUT_TOKENS, OUTPUT_TOKENS = 128, 128
#: (label, chip, system whose chip count is used); TPU v5p on as many chips as the 8-GPU server,
#: as the ledger rebuilds the seed's TPU row (like-for-like)
SYSTEMS = (("trn1.32xlarge (16 Trainium1)", "trainium1", "trn1.32xlarge"),
           ("trn2.48xlarge (16 Trainium2)", "trainium2", "trn2.48xlarge"),
           ("inf2.48xlarge (12 Inferentia2)", "inferentia2", "inf2.48xlarge"),
           ("p5.48xlarge (8 H100)", "h100-sxm", "p5.48xlarge"),
           ("8 x TPU v5p", "tpu-v5p", "p5.48xlarge"))
BATCHES = tuple(2 ** k for k in range(0, 11))
#: seed claims drawn on the charts: claim id -> system label
LATENCY_CLAIMS = {"S0-056": "trn2.48xlarge (16 Trainium2)", "S0-064": "p5.48xlarge (8 H100)",
                  "S0-060": "8 x TPU v5p"}
COST_CLAIMS = {"S0-036": "Trainium2 (seed)", "S0-037": "H100 (seed)", "S0-038": "Inferentia3 (seed)"}


def system_frame(st) -> pd.DataFrame:
    """Per system: chips, chip specs, fitted efficiencies, listed price per chip-hour, ridge batch,
    and chips needed to hold the weights and the KV cache at the ridge batch."""
    ds, sc = st.ds, st.sc
    m = wl.transformer(ds, MODEL_ID)
    recs = []
    for label, chip, system in SYSTEMS:  # five systems; the model functions are vectorised
        price = listed_chip_hour_price(ds, chip)
        peak, bw = ds.spec(chip, "bf16_dense_tflops"), ds.spec(chip, "mem_bandwidth_gb_s")
        ce, me = rf.efficiency(ds, chip, "compute"), rf.efficiency(ds, chip, "decode")
        ridge_batch = round(float(rf.ridge_point_flop_per_byte(peak, bw, ce, me)))
        hw = ds.hardware_wide()
        recs.append({"system": label, "chip_id": chip, "chips": ds.system_param(system, "chips"),
                     "peak_tflops": peak, "bandwidth_gb_s": bw, "mem_capacity_gb": ds.spec(chip, "mem_capacity_gb"),
                     "tdp_w": float(hw.at[chip, "tdp_w"]) if "tdp_w" in hw and hw.at[chip, "tdp_w"] > 0 else np.nan,
                     "ce": ce, "me_decode": me, "ridge_batch": ridge_batch,
                     "usd_per_chip_hour": price["usd_per_chip_hour"], "pricing": price["pricing"],
                     "price_system": price["system_id"], "price_as_of": price["as_of"],
                     "price_source": price["source_id"],
                     "chips_needed_ridge": float(inf.chips_needed(
                         m, ds.spec(chip, "mem_capacity_gb"), ridge_batch, INPUT_TOKENS + OUTPUT_TOKENS,
                         sc.value("bytes_per_param_weights"), sc.value("kv_bytes_per_value")))})
    return pd.DataFrame(recs)


def serving_grid(st) -> pd.DataFrame:
    """Each system at each batch (powers of two and its ridge batch) that fits in its memory:
    ms per token, tokens/s (system and per chip), bound, USD per million tokens, J per token, from
    :func:`analysis.inference.predict_decode` (BF16, the scenario's byte sizes; no intervals)."""
    from ..errors import StudyInputError

    recs = []
    for s in system_frame(st).itertuples():  # five systems x a dozen batches of the one model function
        for b in sorted(set(BATCHES) | {s.ridge_batch}):
            try:
                r = inf.predict_decode(st.ds, st.sc, MODEL_ID, s.chip_id, int(s.chips), int(b), INPUT_TOKENS,
                                       OUTPUT_TOKENS, intervals=False)
            except StudyInputError:  # does not fit in the system's memory
                continue
            recs.append({"system": s.system, "chip_id": s.chip_id, "batch": int(b), "chips": s.chips,
                         "is_ridge_batch": b == s.ridge_batch, "ms_per_token": r["ms_per_token"],
                         "tokens_per_s": r["tokens_per_s"], "tokens_per_s_per_chip": r["tokens_per_s"] / s.chips,
                         "bound": r["bound"], "usd_per_chip_hour": s.usd_per_chip_hour, "pricing": s.pricing,
                         "usd_per_mtoken": r["usd_per_million_tokens"], "j_per_token": r["j_per_token"]})
    g = pd.DataFrame(recs)
    g["j_per_token"] = g.j_per_token.astype(float)
    return g


def _claims(st, ids: dict, value_name: str) -> pd.DataFrame:
    c = st.ds.claims.set_index("claim_id")
    return pd.DataFrame([{"claim": k, "who": v, value_name: float(c.at[k, "claimed_value"]),
                          "quote": c.at[k, "quote"]} for k, v in ids.items()])


@figure("fig-inference-latency-throughput", "Decode latency and throughput of a 70B model vs batch",
        "Per-token decode latency (left) and generated tokens per second per chip (right) of a 70B model "
        "(BF16, 128 in / 128 out) against batch, for batches that fit in each system's memory; triangles "
        "are seed 000's latency claims, larger points each system's ridge-point batch.")
def latency_throughput(st):
    g = serving_grid(st)
    order = [s[0] for s in SYSTEMS]
    color = alt.Color("system:N", title="System", scale=alt.Scale(domain=order))
    x = alt.X("batch:Q", title="Batch (sequences decoded together)", scale=alt.Scale(type="log", base=2))
    tips = ["system:N", "batch:Q", alt.Tooltip("ms_per_token:Q", format=".2f", title="ms per token"),
            alt.Tooltip("tokens_per_s:Q", format=",.0f", title="tokens/s (system)"),
            alt.Tooltip("tokens_per_s_per_chip:Q", format=",.0f", title="tokens/s per chip"), "bound:N",
            alt.Tooltip("is_ridge_batch:N", title="ridge-point batch")]
    base = alt.Chart(g).encode(x=x, color=color, tooltip=tips)
    size = alt.Size("is_ridge_batch:N", title="Ridge-point batch", scale=alt.Scale(range=[25, 110]))
    lat = alt.layer(
        base.mark_line().encode(y=alt.Y("ms_per_token:Q", title="Decode latency (ms per token)",
                                        scale=alt.Scale(type="log"))),
        base.mark_point(filled=True).encode(y="ms_per_token:Q", size=size),
        alt.Chart(_claims(st, LATENCY_CLAIMS, "claimed_ms").assign(batch=1)).mark_point(
            shape="triangle-up", size=140, filled=True).encode(
            x="batch:Q", y="claimed_ms:Q", color=alt.Color("who:N", scale=alt.Scale(domain=order)),
            tooltip=["claim:N", "who:N", alt.Tooltip("claimed_ms:Q", title="claimed ms"), "quote:N"]),
    ).properties(width=300, height=280)
    thr = alt.layer(
        base.mark_line().encode(y=alt.Y("tokens_per_s_per_chip:Q", title="Generated tokens/s per chip",
                                        scale=alt.Scale(type="log"))),
        base.mark_point(filled=True).encode(y="tokens_per_s_per_chip:Q", size=size),
    ).properties(width=300, height=280)
    return alt.hconcat(lat, thr)


@figure("fig-inference-cost-per-token", "Cost and energy per million generated tokens",
        "USD per million generated tokens (left; move the sliders to change the chip-hour price and the "
        "serving utilisation) and facility energy per token (right; chips with a TDP in data/hardware.csv) "
        "of a 70B model against batch; dashed lines are seed 000's cost claims.")
def cost_per_token(st):
    g = serving_grid(st)
    util = st.sc["serving_utilisation"]
    order = [s[0] for s in SYSTEMS]
    price_mult = alt.param(name="price_multiplier", value=1.0,
                           bind=alt.binding_range(min=0.25, max=3.0, step=0.05,
                                                  name="Chip-hour price x (1 = listed) "))
    utilisation = alt.param(name="utilisation", value=util.value,
                            bind=alt.binding_range(min=util.low, max=util.high, step=0.01,
                                                   name="Serving utilisation "))
    x = alt.X("batch:Q", title="Batch (sequences decoded together)", scale=alt.Scale(type="log", base=2))
    color = alt.Color("system:N", title="System", scale=alt.Scale(domain=order))
    usd = alt.Chart(g).transform_calculate(
        usd_per_mtoken_live="datum.usd_per_chip_hour * price_multiplier * datum.chips"
                            " / (3600 * datum.tokens_per_s * utilisation) * 1e6",
        usd_per_chip_hour_live="datum.usd_per_chip_hour * price_multiplier",
    ).encode(
        x=x, color=color,
        y=alt.Y("usd_per_mtoken_live:Q", title="Cost (USD per million generated tokens)",
                scale=alt.Scale(type="log")),
        tooltip=["system:N", "batch:Q", "pricing:N",
                 alt.Tooltip("usd_per_chip_hour_live:Q", format=".3f", title="USD per chip-hour"),
                 alt.Tooltip("tokens_per_s:Q", format=",.0f", title="tokens/s (system)"),
                 alt.Tooltip("usd_per_mtoken_live:Q", format=".3f", title="USD per M tokens"), "bound:N"])
    cost = alt.layer(
        usd.mark_line(), usd.mark_point(filled=True, size=30),
        alt.Chart(_claims(st, COST_CLAIMS, "claimed_usd")).mark_rule(strokeDash=[5, 4], color="gray").encode(
            y="claimed_usd:Q",
            tooltip=["claim:N", "who:N", alt.Tooltip("claimed_usd:Q", title="claimed USD/Mtoken"), "quote:N"]),
        alt.Chart(_claims(st, COST_CLAIMS, "claimed_usd")).mark_text(
            align="right", baseline="bottom", dy=-2, fontSize=10, color="gray").encode(
            y="claimed_usd:Q", x=alt.value(318),
            text=alt.Text("label:N")).transform_calculate(
            label="datum.claim + ': ' + datum.who + ' claim'"),
    ).add_params(price_mult, utilisation).properties(width=320, height=300)
    energy = alt.Chart(g.dropna(subset=["j_per_token"])).mark_line(point=True).encode(
        x=x, color=color,
        y=alt.Y("j_per_token:Q", title="Facility energy (J per generated token)", scale=alt.Scale(type="log")),
        tooltip=["system:N", "batch:Q", alt.Tooltip("j_per_token:Q", format=".3f", title="J per token"),
                 alt.Tooltip("tokens_per_s:Q", format=",.0f", title="tokens/s (system)")],
    ).properties(width=280, height=300)
    return alt.hconcat(cost, energy)
