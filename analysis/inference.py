"""LLM inference on the roofline: time to first token, decode latency and throughput, chips needed,
cost per million tokens and energy per token.

Notation: P = dense peak per chip at the serving precision (TFLOPS), W = peak memory bandwidth per
chip (GB/s), n = chips (tensor parallel), B = batch (requests served together), I / O = input /
output tokens per request, e_m = decode memory efficiency, ce = compute efficiency, alpha / eta =
all-reduce latency per collective step / bandwidth efficiency, t0 / t_s = overhead per decode step
/ per sequence and step (the six serving parameters fitted per chip family in
:mod:`analysis.roofline`).

* prefill of the B prompts (= TTFT):
  max(B (2 N I + 2 L d_attn I^2) / (n P 1e12 ce), weights / (n W 1e9 e_stream)) + 2 L all-reduces + t0
* decode step at context c (one token for each of the B sequences; c grows from I + 1 to I + O - 1):
  max((weights + B c KV) / (n W 1e9 e_m), B (2 N + 4 L d_attn c) / (n P 1e12 ce))
  + 2 L (c_alpha alpha + c_beta x B d_model x 2 bytes / (link eta)) + t0 + B t_s
  (c_alpha, c_beta: the all-reduce of :mod:`analysis.interconnect` on the chip's scale-up topology)
* tokens/s = B O / (TTFT + (O - 1) x mean step)  (output throughput, prefill included);
  ms per token = mean step (time between tokens after the first)
* cost = usd_per_chip_hour x n / (3600 x tokens/s x serving_utilisation) x 1e6   USD per 1M tokens
* energy = TDP x power_fraction_of_tdp x n x PUE / tokens/s   J per token

The small model functions below (ttft_ms, ms_per_token, ...) broadcast over numpy arrays;
:func:`predict_decode` puts the serving model together for one configuration from the datasets
and a scenario, with 90% prediction intervals; :func:`validate_serving` checks it against every
measurement it is fitted to, out of sample (leave one out), beside the naive roofline.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import roofline as rf
from . import workloads as wl
from .cost import listed_chip_hour_price
from .errors import StudyInputError, nearest
from .power import energy_per_token_j
from .datasets import memo_on_datasets
from .montecarlo import DEFAULT_SEED
from .paths import rel


# --- model functions --------------------------------------------------------------------------

def ttft_ms(prefill_flops, weight_bytes, chips, peak_tflops, bandwidth_gb_s, compute_eff, memory_eff):
    """Time to first token, ms = 1000 x max(F / (n P 1e12 ce), bytes / (n W 1e9 me)):
    the prefill's FLOPs at the fitted compute rate, or one read of the weights if that is longer."""
    n = np.asarray(chips, dtype=float)
    cmp_s = np.asarray(prefill_flops, dtype=float) / (n * np.asarray(peak_tflops, dtype=float) * 1e12
                                                      * np.asarray(compute_eff, dtype=float))
    mem_s = np.asarray(weight_bytes, dtype=float) / (n * np.asarray(bandwidth_gb_s, dtype=float) * 1e9
                                                     * np.asarray(memory_eff, dtype=float))
    return 1000.0 * np.maximum(cmp_s, mem_s)


def ms_per_token(step_bytes, step_flops, chips, bandwidth_gb_s, peak_tflops, memory_eff, compute_eff):
    """Decode latency per generated token, ms = 1000 x max(bytes / (n W 1e9 me), FLOPs / (n P 1e12 ce))."""
    return 1000.0 * rf.decode_step_time_s(step_bytes, step_flops, chips, bandwidth_gb_s, peak_tflops,
                                          memory_eff, compute_eff)


def tokens_per_s(batch, ms_per_token_ms):
    """Generated tokens per second = B x 1000 / (ms per token)."""
    return np.asarray(batch, dtype=float) * 1000.0 / np.asarray(ms_per_token_ms, dtype=float)


def decode_bound(step_bytes, step_flops, chips, bandwidth_gb_s, peak_tflops, memory_eff, compute_eff):
    """'memory' where the step's memory time >= its compute time, else 'compute' (str or array of str)."""
    n = np.asarray(chips, dtype=float)
    mem_s = np.asarray(step_bytes, dtype=float) / (n * np.asarray(bandwidth_gb_s, dtype=float) * 1e9
                                                   * np.asarray(memory_eff, dtype=float))
    cmp_s = np.asarray(step_flops, dtype=float) / (n * np.asarray(peak_tflops, dtype=float) * 1e12
                                                   * np.asarray(compute_eff, dtype=float))
    out = np.where(mem_s >= cmp_s, "memory", "compute")
    return str(out) if out.ndim == 0 else out


def memory_needed_bytes(weight_bytes, kv_bytes_per_token, batch, context):
    """Bytes to hold = weights + B x T x KV bytes per token (T = the longest context, input + output)."""
    return (np.asarray(weight_bytes, dtype=float)
            + np.asarray(batch, dtype=float) * np.asarray(context, dtype=float)
            * np.asarray(kv_bytes_per_token, dtype=float))


def chips_needed(model: wl.Transformer, chip_memory_gb, batch, context, bytes_per_param=2.0,
                 kv_bytes_per_value=2.0, usable_memory_fraction=1.0):
    """Fewest chips whose memory holds weights and KV cache:
    ceil((N_total x bytes/param + B x T x L x kv_dim x bytes/value) / (GB x 1e9 x usable fraction))."""
    weights = wl.weight_bytes(model.params_total, bytes_per_param)
    kv = wl.kv_cache_bytes_per_token(model.n_layers, model.kv_dim, kv_bytes_per_value)
    need = memory_needed_bytes(weights, kv, batch, context)
    per_chip = np.asarray(chip_memory_gb, dtype=float) * 1e9 * np.asarray(usable_memory_fraction, dtype=float)
    return np.ceil(need / per_chip)


def usd_per_mtoken(usd_per_chip_hour, chips, tokens_per_s_, serving_utilisation):
    """USD per million tokens = price x n / (3600 x tokens/s x utilisation) x 1e6."""
    return (np.asarray(usd_per_chip_hour, dtype=float) * np.asarray(chips, dtype=float)
            / (3600.0 * np.asarray(tokens_per_s_, dtype=float) * np.asarray(serving_utilisation, dtype=float))
            * 1e6)


def energy_per_token_serving_j(tdp_w, power_fraction_of_tdp, chips, pue, tokens_per_s_):
    """Facility energy per token, J = TDP x fraction x n x PUE / tokens/s (power.energy_per_token_j)."""
    return energy_per_token_j(np.asarray(tdp_w, dtype=float) * np.asarray(power_fraction_of_tdp, dtype=float),
                              chips, pue, tokens_per_s_)


# --- one configuration from the datasets ------------------------------------------------------

def fits_model(ds, model: wl.Transformer, chips: int, input_tokens: int, output_tokens: int) -> None:
    """Refuse a serving setup the model cannot run: tensor parallelism over more chips than the
    model has attention heads (each chip holds at least one head: chips <= n_heads), or a sequence
    longer than the model's context length (input + output <= context_length, where one is given)."""
    if chips > model.n_heads:
        raise _arg_error("chips", f"{chips} chips of tensor parallelism for {model.model_id}, which has "
                         f"{model.n_heads} attention heads", f"--chips {model.n_heads} or fewer (one head per chip at least)")
    w = ds.workloads
    ctx = w.loc[w.model_id == model.model_id, "context_length"].iloc[0]
    if not pd.isna(ctx) and input_tokens + output_tokens > int(ctx):
        raise _arg_error("input", f"{input_tokens} prompt + {output_tokens} generated tokens exceed "
                         f"{model.model_id}'s context length of {int(ctx)} tokens (data/workloads.csv)",
                         f"--input + --output <= {int(ctx)}")


def _arg_error(arg, problem, expected):
    return StudyInputError(f"argument --{arg}", problem, expected=expected)


def _whole(arg, x, minimum):
    try:
        ok = not isinstance(x, bool) and float(x).is_integer() and float(x) >= minimum
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise _arg_error(arg, f"{arg} is {x!r}", f"a whole number >= {minimum}")
    return int(float(x))


def _chip_spec(ds, chip_id, metric):
    hw = ds.hardware_wide()
    return float(hw.at[chip_id, metric]) if metric in hw and chip_id in hw.index else float("nan")


PRECISION_CHOICES = tuple(rf.PEAK_METRICS)
KV_PRECISION_CHOICES = tuple(rf.KV_BYTES)
#: Central interval reported as <key>_low / <key>_high, from this many seeded draws.
INTERVAL_LEVEL = 0.90
INTERVAL_DRAWS = 2000


def _precision_bytes(scenario, precision, kv_precision):
    """(weight bytes, KV bytes, KV precision name): BF16 takes the scenario's byte sizes (so
    rebuilds keep their Monte Carlo ranges), FP8/FP4 the fixed sizes of roofline.WEIGHT_BYTES; the
    KV cache follows the weights (FP4 weights keep an FP8 cache) unless ``kv_precision`` is given."""
    if precision not in rf.PEAK_METRICS:
        raise _arg_error("precision", f"precision is {precision!r}", " or ".join(rf.PEAK_METRICS))
    if kv_precision is not None and kv_precision not in rf.KV_BYTES:
        raise _arg_error("kv-precision", f"kv-precision is {kv_precision!r}", " or ".join(rf.KV_BYTES))
    kvp = kv_precision or rf.DEFAULT_KV_PRECISION[precision]
    wb = scenario.value("bytes_per_param_weights") if precision == "bf16" else rf.WEIGHT_BYTES[precision]
    kvb = scenario.value("kv_bytes_per_value") if (kvp == "bf16" and kv_precision is None) else rf.KV_BYTES[kvp]
    return wb, kvb, kvp


def _peak_at(ds, chip_id, precision):
    metric = rf.PEAK_METRICS[precision]
    peak = _chip_spec(ds, chip_id, metric)
    if not peak > 0:
        have = [p for p, m in rf.PEAK_METRICS.items() if _chip_spec(ds, chip_id, m) > 0]
        raise StudyInputError(rel(ds.data_dir / "hardware.csv"),
                              f"chip '{chip_id}' has no {precision.upper()} peak ({metric}): it does not offer "
                              f"{precision.upper()}",
                              expected="--precision " + " or ".join(have) if have else "another chip")
    return peak


def _draw_thetas(fit: dict, n: int, seed: int) -> np.ndarray:
    """n draws of the log parameters from N(theta, cov), clipped to the fit's bounds."""
    rng = np.random.default_rng(seed)
    th = rng.multivariate_normal(np.asarray(fit["theta"], float), np.asarray(fit["cov"], float), size=n,
                                 method="eigh")
    return np.clip(th, rf._LOG_LOWER, rf._LOG_UPPER)


def interval_of(draws, level=INTERVAL_LEVEL):
    lo, hi = np.percentile(np.asarray(draws, dtype=float), [50 * (1 - level), 50 * (1 + level)], axis=-1)
    return lo, hi


def predict_decode(ds, scenario, model_id: str, chip_id: str, chips, batch, input_tokens, output_tokens,
                   decode_eff=None, *, precision: str = "bf16", kv_precision: str | None = None,
                   intervals: bool = True, fit: dict | None = None,
                   kv_memory_fraction: float = rf.KV_MEMORY_FRACTION, batch_cap=None,
                   n_draws: int = INTERVAL_DRAWS, seed: int = DEFAULT_SEED, prefill_compute_eff=None) -> dict:
    """Throughput, latency, first-token time, cost and energy of ``model_id`` on ``chips`` x
    ``chip_id`` (tensor parallel) serving ``batch`` requests of ``input_tokens`` in and
    ``output_tokens`` out (:func:`analysis.roofline.serving_times`).

    ``batch`` may be 'max': the largest batch whose KV cache fits in ``kv_memory_fraction`` of the
    memory the weights leave (:func:`analysis.roofline.max_batch`, optionally capped). ``precision``
    (bf16, fp8, fp4) sets the weight bytes, the peak (the chip's ``<precision>_dense_tflops``; a
    chip without one refuses) and the default KV precision. The serving parameters are the chip
    family's fit (``fit`` overrides it; ``decode_eff`` overrides its memory efficiency, arrays
    allowed for Monte Carlo draws; ``prefill_compute_eff`` likewise the prefill's compute
    efficiency, a fraction of the peak at ``precision``). tokens_per_s is generated tokens per second over the whole run,
    prefill included; ms_per_token the mean time between tokens after the first. With
    ``intervals`` (and scalar inputs), each of tokens_per_s, ms_per_token, ttft_ms,
    usd_per_million_tokens and j_per_token gets a 90% prediction interval <key>_low/<key>_high:
    seeded draws of the fitted parameters from their covariance, times exp(e) with e ~ N(0, s^2)
    and s the family's leave-one-out log error (rms). Serving utilisation, power fraction of TDP
    and PUE come from ``scenario`` at their central (or drawn) values.
    """
    chip_ids = set(ds.chips.chip_id)
    if chip_id not in chip_ids:
        raise StudyInputError(rel(ds.data_dir / "chips.csv"), f"unknown chip '{chip_id}'",
                              expected=nearest(chip_id, chip_ids))
    model = wl.transformer(ds, model_id)
    chips = _whole("chips", chips, 1)
    batch_is_max = isinstance(batch, str) and batch.strip().lower() == "max"
    if not batch_is_max:
        batch = _whole("batch", batch, 1)
    input_tokens = _whole("input", input_tokens, 1)
    output_tokens = _whole("output", output_tokens, 1)
    fits_model(ds, model, chips, input_tokens, output_tokens)
    bw, mem_gb = (_chip_spec(ds, chip_id, m) for m in ("mem_bandwidth_gb_s", "mem_capacity_gb"))
    for name, v in (("mem_bandwidth_gb_s", bw), ("mem_capacity_gb", mem_gb)):
        if not v > 0:
            have = sorted(c for c in chip_ids if _chip_spec(ds, c, name) > 0)
            raise StudyInputError(rel(ds.data_dir / "hardware.csv"), f"chip '{chip_id}' has no {name}",
                                  expected="a chip with one: " + ", ".join(have))
    wb, kvb, kvp = _precision_bytes(scenario, precision, kv_precision)
    peak = _peak_at(ds, chip_id, precision)
    context = input_tokens + output_tokens
    notes = []
    if batch_is_max:
        shape1 = rf.request_shape(model, 1, input_tokens, chips, np.max(wb), np.max(kvb))
        b = int(rf.max_batch(shape1["weight_resident_bytes"], shape1["kv_bytes_per_token"], chips, mem_gb, context,
                             kv_memory_fraction, batch_cap))
        if b < 1:
            need = int(np.ceil(shape1["weight_resident_bytes"] / (mem_gb * 1e9)))
            raise _arg_error("batch", f"max: {model_id} weights ({precision}) leave no memory for a KV cache of "
                             f"{context} tokens on {chips} x {mem_gb:g} GB ({chip_id})",
                             f"--chips {need + 1} or more (or a lower precision or shorter context)")
        batch = b
        notes.append(f"batch max = {b}: KV cache in {kv_memory_fraction:g} of the memory the weights leave, "
                     f"{context} tokens per sequence" + (f", capped at {batch_cap}" if batch_cap else ""))
    # with Monte Carlo draws of the byte sizes, the replica must hold the largest draw
    need = int(np.max(chips_needed(model, mem_gb, batch, context, wb, kvb)))
    if need > chips:
        raise _arg_error("chips", f"{model_id} with batch {batch} x {context} tokens of "
                         f"KV cache does not fit in {chips} x {mem_gb:g} GB ({chip_id})",
                         f"--chips {need} or more (or a smaller batch or context)")
    family = dict(zip(ds.chips.chip_id, ds.chips.family))[chip_id]
    if fit is None:
        fit, scope = rf.serving_fit_for(ds, chip_id)
    else:
        scope = "given"
    vals = np.exp(np.asarray(fit["theta"], float))
    if decode_eff is not None:
        me_decode = np.asarray(decode_eff, float)
        if np.any(~(me_decode > 0)):
            raise _arg_error("decode-eff", f"decode efficiency {decode_eff}", "a number > 0")
    else:
        me_decode = vals[0]
    gemm = rf.gemm_efficiency(ds, family, precision)
    ce = float(min(vals[1] * gemm, 1.0))
    me_stream = rf.efficiency(ds, chip_id, "memory")
    topology = rf.scaleup_topology(ds, chip_id)
    link = rf.link_bytes_s(ds, chip_id) if chips > 1 else 1.0
    c_alpha, c_beta = rf.allreduce_coefficients(chips, topology)
    if not link > 0:
        link, c_alpha, c_beta = 1.0, 0.0, 0.0
        notes.append(f"no tensor-parallel communication: chip '{chip_id}' has no interconnect_bidir_gb_s")
    shape = rf.request_shape(model, batch, input_tokens, chips, wb, kvb)
    spec = dict(peak_tflops=peak, bandwidth_gb_s=bw, link_bytes_s=link, c_alpha=c_alpha, c_beta=c_beta)

    if prefill_compute_eff is not None and np.any(~(np.asarray(prefill_compute_eff, float) > 0)):
        raise _arg_error("prefill-eff", f"prefill compute efficiency {prefill_compute_eff}", "a number > 0")

    def run(values, memory_eff=None):
        return rf.serving_times_at(values, shape, batch, input_tokens, output_tokens, chips, **spec, gemm_eff=gemm,
                                   stream_eff=me_stream, memory_eff=memory_eff, prefill_compute_eff=prefill_compute_eff)

    t = run(vals, memory_eff=me_decode)
    tps, ms_tok, first = t["tokens_per_s"], t["ms_per_token"], t["ttft_ms"]
    try:
        listed = listed_chip_hour_price(ds, chip_id)
        price = listed["usd_per_chip_hour"]
        if listed["pricing"] != "on_demand":
            notes.append(f"price: {listed['pricing']} rate of {listed['system_id']} as of {listed['as_of']} "
                         "(no on-demand price listed)")
    except StudyInputError as exc:
        price = None
        notes.append(f"no usd_per_million_tokens: {exc.problem}")
    util = scenario.value("serving_utilisation")
    tdp = _chip_spec(ds, chip_id, "tdp_w")
    if not tdp > 0:
        notes.append(f"no j_per_token: chip '{chip_id}' has no tdp_w in hardware.csv")

    def usd_of(x):
        return None if price is None else usd_per_mtoken(price, chips, x, util)

    def joules_of(x):
        return energy_per_token_serving_j(tdp, scenario.value("power_fraction_of_tdp"), chips,
                                          scenario.value("pue"), x) if tdp > 0 else None

    def out(x):
        if x is None:
            return None
        a = np.asarray(x, dtype=float)
        return float(a) if a.ndim == 0 else a

    step_s = t["ms_per_token"] / 1000.0
    res = {"model_id": model_id, "chip_id": chip_id, "chips": chips, "batch": batch,
           "batch_rule": "max" if batch_is_max else "stated",
           "input_tokens": input_tokens, "output_tokens": output_tokens,
           "precision": precision, "kv_precision": kvp,
           "tokens_per_s": out(tps), "ms_per_token": out(ms_tok), "ttft_ms": out(first),
           "usd_per_million_tokens": out(usd_of(tps)), "usd_per_chip_hour": price, "j_per_token": out(joules_of(tps)),
           "chips_needed": need,
           "bound": rf_bound(t["memory_s_mid"], t["compute_s_mid"]),
           "decode_efficiency": out(me_decode), "compute_efficiency": ce, "peak_tflops": peak,
           "memory_efficiency_prefill": me_stream, "average_context": float(rf.average_decode_context(
               input_tokens, output_tokens)),
           "comm_ms_per_token": out(1000.0 * t["step_comm_s"]),
           "overhead_ms_per_token": out(1000.0 * (t["step_overhead_s"] + batch * vals[5])),
           "serving_parameters": {k: float(v) for k, v in zip(rf.SERVING_PARAMS, vals)},
           "topology": topology, "fit_scope": scope, "notes": notes}
    scalar_inputs = all(np.size(v) == 1 for v in (wb, kvb, util, me_decode))
    if prefill_compute_eff is not None:
        res["prefill_compute_efficiency"] = out(prefill_compute_eff)
    if intervals and decode_eff is None and prefill_compute_eff is None and scalar_inputs:
        td = run(list(np.exp(_draw_thetas(fit, n_draws, seed)).T))
        s = fit.get("sigma_loo", sigma_loo(ds, scope))
        eps = np.random.default_rng(seed + 1).normal(0.0, s, n_draws)
        draws = {"tokens_per_s": td["tokens_per_s"] * np.exp(eps), "ms_per_token": td["ms_per_token"] * np.exp(-eps),
                 "ttft_ms": td["ttft_ms"] * np.exp(-eps)}
        draws["usd_per_million_tokens"] = usd_of(draws["tokens_per_s"])
        draws["j_per_token"] = joules_of(draws["tokens_per_s"])
        for k, d in draws.items():
            lo, hi = (None, None) if d is None else (float(x) for x in interval_of(d))
            res[f"{k}_low"], res[f"{k}_high"] = lo, hi
        res["interval"] = (f"{int(100 * INTERVAL_LEVEL)}%: {n_draws} seeded draws of the {scope} serving fit "
                           f"(covariance) x exp(N(0, {s:.3f}^2)), {s:.3f} = its leave-one-out rms log error")
    return res


def rf_bound(memory_s, compute_s):
    """'memory' where the decode roofline's memory time >= its compute time (at the mean context)."""
    o = np.where(np.asarray(memory_s) >= np.asarray(compute_s), "memory", "compute")
    return str(o) if o.ndim == 0 else o


# --- validation: leave one out ----------------------------------------------------------------

VALIDATION_COLUMNS = ["measurement_id", "chip_id", "family", "model_id", "chips", "batch", "batch_rule",
                      "input_tokens", "output_tokens", "precision", "measured", "predicted", "low", "high", "naive",
                      "log_error", "pct_error", "naive_pct_error", "in_interval", "borrowed_from"]
#: the LOO table written to results/loo_decode.csv is the validation table
LOO_COLUMNS = VALIDATION_COLUMNS
#: draws per held-out point for its interval
VALIDATION_DRAWS = 400
#: the brief's target: 8B-405B models on these chips, within TARGET_PCT of the published figure
TARGET_CHIPS = ("h100-sxm", "h200-sxm", "b200", "trainium1", "trainium2")
TARGET_PCT = 10.0


def _loo_core(ds) -> pd.DataFrame:
    """Held-out prediction of every serving point: its family refitted without it (from the full
    fit), or the pooled fit without it where the family has no other point."""
    fits = rf._all_fits(ds)
    inc, _ = fits["_decode_points"]
    fam_full, pooled_full, _ = fits["_serving"]
    rows = []
    for f, g in inc.groupby("family"):
        g = g.reset_index(drop=True)
        pts_all = rf.ServingPoints(ds, g)
        naive = pts_all.naive()
        for i, r in g.iterrows():  # n refits of five parameters each; the model itself is vectorised
            rest = g.drop(index=i)
            if len(rest):
                prior = rf.serving_prior(rf.stream_efficiency(ds, f))
                fit = rf.serving_fit(rf.ServingPoints(ds, rest), prior, start=fam_full[f]["theta"])
                src = "none"
            else:
                others = inc[inc.measurement_id != r.measurement_id]
                _, _, pool_stream = rf._ratio_parameter_fits(ds, "memory", None, None)
                fit = rf.serving_fit(rf.ServingPoints(ds, others), rf.serving_prior(pool_stream["value"]),
                                     start=pooled_full["theta"])
                src = rf.POOLED
            pred = float(pts_all.times(fit["theta"], idx=[i])["tokens_per_s"][0])
            draws = pts_all.times(_draw_thetas(fit, VALIDATION_DRAWS, DEFAULT_SEED), idx=[i])["tokens_per_s"][:, 0]
            rows.append({"measurement_id": r.measurement_id, "chip_id": r.chip_id, "family": f,
                         "model_id": r.model_id, "chips": int(r.chips), "batch": int(r.batch),
                         "batch_rule": r.batch_rule, "input_tokens": int(r.input_tokens),
                         "output_tokens": int(r.output_tokens), "precision": r.precision,
                         "measured": float(r.measured_tokens_per_s), "predicted": pred,
                         "naive": float(naive[i]), "borrowed_from": src, "_draws": draws})
    return pd.DataFrame(rows)


@memo_on_datasets
def _loo_cached(ds) -> pd.DataFrame:
    from . import diskcache

    key = diskcache.files_digest(p for p in ds.data_dir.glob("*") if p.is_file())
    hit = diskcache.get("serving-loo", key)
    if hit is not None:
        return hit
    df = _loo_core(ds)
    diskcache.put("serving-loo", key, df)
    return df


def _family_sigma(loo: pd.DataFrame) -> dict:
    """rms held-out log error per family (families with < 3 points take the pooled rms)."""
    le = np.log(loo.predicted / loo.measured)
    pooled = float(np.sqrt(np.mean(le ** 2))) if len(le) else float("nan")
    out = {rf.POOLED: pooled}
    for f, g in le.groupby(loo.family):
        out[f"family:{f}"] = float(np.sqrt(np.mean(g ** 2))) if len(g) >= 3 else pooled
    return out


def sigma_loo(ds, scope: str) -> float:
    """The leave-one-out rms log error of a fit scope ('family:<f>' or 'all:pooled')."""
    sig = _family_sigma(_loo_cached(ds))
    return sig.get(scope, sig[rf.POOLED])


def validate_serving(ds) -> pd.DataFrame:
    """The serving model against every measurement it is fitted to, out of sample.

    Per measurement: measured, predicted (its family refitted without it), the 90% prediction
    interval low..high (draws of that refit's parameters x exp(N(0, s^2)), s = the rms held-out log
    error of the family's other points), naive (the bandwidth/compute roofline at 100% efficiency,
    no communication or overhead), log_error = ln(predicted / measured), pct_error, naive_pct_error
    and in_interval. ``attrs['summary']``: :func:`summary`.
    """
    core = _loo_cached(ds)
    rows = []
    for f, g in core.groupby("family", sort=False):
        le = np.log(g.predicted / g.measured).to_numpy()
        for k, (_, r) in enumerate(g.iterrows()):
            others = np.delete(le, k)
            s = float(np.sqrt(np.mean(others ** 2))) if len(others) >= 2 else _family_sigma(core)[rf.POOLED]
            eps = np.random.default_rng(DEFAULT_SEED + k).normal(0.0, s, len(r["_draws"]))
            lo, hi = interval_of(r["_draws"] * np.exp(eps))
            rows.append({**{c: r[c] for c in VALIDATION_COLUMNS if c in r.index}, "low": float(lo), "high": float(hi)})
    df = pd.DataFrame(rows)
    df["log_error"] = np.log(df.predicted / df.measured)
    df["pct_error"] = 100.0 * (df.predicted / df.measured - 1.0)
    df["naive_pct_error"] = 100.0 * (df.naive / df.measured - 1.0)
    df["in_interval"] = (df.low <= df.measured) & (df.measured <= df.high)
    df = df[VALIDATION_COLUMNS].sort_values("measurement_id").reset_index(drop=True)
    df.attrs["summary"] = summary(df)
    return df


def decode_loo(ds) -> pd.DataFrame:
    """The held-out table of the serving (decode) model: :func:`validate_serving`."""
    return validate_serving(ds)


def _stats(d: pd.DataFrame) -> dict:
    if d.empty:
        return {"n": 0}
    a = d.pct_error.abs()
    return {"n": int(len(d)), "median_abs_pct_error": float(np.median(a)), "worst_abs_pct_error": float(a.max()),
            "share_within_10pct": float(np.mean(a <= TARGET_PCT)), "coverage_90": float(d.in_interval.mean()),
            "naive_median_abs_pct_error": float(np.median(d.naive_pct_error.abs())),
            "naive_worst_abs_pct_error": float(d.naive_pct_error.abs().max())}


def summary(loo: pd.DataFrame) -> dict:
    """Held-out error of :func:`validate_serving`: n, median and worst |pct error|, share within
    10%, coverage of the 90% intervals, the same for the naive roofline, median |log error| and the
    geometric-mean ratio exp(mean log error) (> 1: the model over-predicts); per family and for the
    target (8B-405B models on H100/H200/B200/Trainium)."""
    if loo.empty:
        return {"n": 0, "median_abs_pct_error": float("nan"), "median_abs_log_error": float("nan"),
                "geometric_mean_ratio": float("nan")}
    out = _stats(loo)
    out["median_abs_log_error"] = float(np.median(np.abs(loo.log_error)))
    out["geometric_mean_ratio"] = float(np.exp(np.mean(loo.log_error)))
    out["by_family"] = {f: _stats(g) for f, g in loo.groupby("family")}
    target = loo[loo.chip_id.isin(TARGET_CHIPS) & ~loo.model_id.isin(["llama-2-7b", "llama-2-13b"])]
    out["target"] = _stats(target)
    return out
