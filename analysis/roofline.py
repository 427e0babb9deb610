"""Roofline model and the efficiencies fitted to the published measurements.

Roofline (Williams, Waterman and Patterson 2009): a kernel of arithmetic intensity I (FLOP per byte
moved) on a chip with peak P (TFLOPS) and memory bandwidth W (GB/s) attains

    attainable = min(P * compute_eff, I * W * memory_eff / 1000)   TFLOPS

(GB/s x FLOP/B = GFLOP/s; / 1000 -> TFLOPS). The ridge point I* = P ce * 1000 / (W me) separates
memory-bound (I < I*) from compute-bound (I >= I*) kernels.

Three kinds of parameters are fitted from ``data/measurements.csv``, each per chip family
(``chips.family``), deterministically:

* **compute** - achieved GEMM TFLOPS / dense peak (``gemm_bf16_tflops`` vs ``bf16_dense_tflops``,
  ``gemm_fp8_tflops`` vs ``fp8_dense_tflops``): mean ratio with a 95% t-interval.
* **memory** - achieved STREAM-style bandwidth / peak ``mem_bandwidth_gb_s``: same estimator.
* **serving** - six parameters per family (decode memory efficiency, a multiplier on the GEMM
  compute efficiency, all-reduce latency and bandwidth efficiency, per-step and per-sequence
  overheads) that make the serving model (:func:`serving_times`: prefill, decode with the KV
  cache growing, tensor-parallel all-reduces per layer) reproduce published serving throughputs
  at their stated batch (or the largest that fits), lengths and precision; penalised least
  squares on log(predicted / measured) with weak priors (:data:`SERVING_PARAMS`), covariance from
  the Jacobian.

A ratio fit from one point cannot show its spread: its interval is the estimate x/÷ ``N1_SPREAD``
(stated in the row's note). Chips with no measurements borrow their family's fit; families with
none borrow the fit pooled over every chip. Every row of :func:`fit_results` says what it
borrows from.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .datasets import memo_on_datasets
from . import interconnect as ic
from . import workloads as wl
from .errors import StudyInputError, nearest
from .paths import rel

#: Interval for a fit from one point: estimate / N1_SPREAD .. estimate * N1_SPREAD (then <= 1 for ratios).
N1_SPREAD = 1.25
#: Bytes per weight and per KV value assumed for a decode measurement whose conditions name no precision.
DEFAULT_WEIGHT_BYTES = 2.0
DEFAULT_KV_BYTES = 2.0
KINDS = ("compute", "memory", "decode")
PRECISIONS = {"bf16": ("gemm_bf16_tflops", "bf16_dense_tflops"),
              "fp8": ("gemm_fp8_tflops", "fp8_dense_tflops")}
DECODE_QUANTITIES = ("decode_tokens_per_s", "offline_tokens_per_s")
POOLED = "all:pooled"
FIT_COLUMNS = ["model", "parameter", "scope", "value", "ci_low", "ci_high", "unit", "n_points",
               "borrowed_from", "method", "note"]


# --- the roofline -----------------------------------------------------------------------------

def _nonnegative(name, x):
    a = np.asarray(x, dtype=float)
    if np.any(~(a >= 0)):
        raise StudyInputError("roofline argument", f"{name} has a negative or missing value",
                              expected=f"{name} >= 0")
    return a


def _positive(name, x):
    a = np.asarray(x, dtype=float)
    if np.any(~(a > 0)):
        raise StudyInputError("roofline argument", f"{name} has a zero, negative or missing value",
                              expected=f"{name} > 0")
    return a


def attainable_tflops(peak_tflops, bandwidth_gb_s, intensity_flop_per_byte, compute_eff=1.0, memory_eff=1.0):
    """Attainable TFLOPS = min(P * ce, I * W * me / 1000) with P in TFLOPS, W in GB/s, I in FLOP/byte."""
    p = _nonnegative("peak_tflops", peak_tflops)
    w = _nonnegative("bandwidth_gb_s", bandwidth_gb_s)
    i = _nonnegative("intensity_flop_per_byte", intensity_flop_per_byte)
    ce = _nonnegative("compute_eff", compute_eff)
    me = _nonnegative("memory_eff", memory_eff)
    return np.minimum(p * ce, i * w * me / 1000.0)


def ridge_point_flop_per_byte(peak_tflops, bandwidth_gb_s, compute_eff=1.0, memory_eff=1.0):
    """Ridge point I* = P * ce * 1000 / (W * me) FLOP/byte (P in TFLOPS, W in GB/s)."""
    p = _nonnegative("peak_tflops", peak_tflops)
    w = _positive("bandwidth_gb_s", bandwidth_gb_s)
    ce = _nonnegative("compute_eff", compute_eff)
    me = _positive("memory_eff", memory_eff)
    return p * ce * 1000.0 / (w * me)


def bound_label(peak_tflops, bandwidth_gb_s, intensity_flop_per_byte, compute_eff=1.0, memory_eff=1.0):
    """'compute' where I >= I* (the ridge point), 'memory' where I < I*; an array of str for arrays."""
    i = _nonnegative("intensity_flop_per_byte", intensity_flop_per_byte)
    ridge = ridge_point_flop_per_byte(peak_tflops, bandwidth_gb_s, compute_eff, memory_eff)
    out = np.where(i >= ridge, "compute", "memory")
    return str(out) if out.ndim == 0 else out


# --- decode on the roofline -------------------------------------------------------------------

def decode_step_time_s(step_bytes, step_flops, chips, bandwidth_gb_s, peak_tflops, memory_eff, compute_eff):
    """Seconds per decode step, tensor parallel over ``chips``:
    max(bytes / (chips * W * 1e9 * me), FLOPs / (chips * P * 1e12 * ce))."""
    n = np.asarray(chips, dtype=float)
    mem_s = np.asarray(step_bytes, dtype=float) / (n * np.asarray(bandwidth_gb_s, dtype=float) * 1e9
                                                   * np.asarray(memory_eff, dtype=float))
    cmp_s = np.asarray(step_flops, dtype=float) / (n * np.asarray(peak_tflops, dtype=float) * 1e12
                                                   * np.asarray(compute_eff, dtype=float))
    return np.maximum(mem_s, cmp_s)


def decode_tokens_per_s_model(batch, step_bytes, step_flops, chips, bandwidth_gb_s, peak_tflops,
                              memory_eff, compute_eff):
    """Generated tokens per second = batch / decode_step_time_s (one token per sequence per step)."""
    return np.asarray(batch, dtype=float) / decode_step_time_s(step_bytes, step_flops, chips, bandwidth_gb_s,
                                                                peak_tflops, memory_eff, compute_eff)


def average_decode_context(input_tokens, output_tokens):
    """Mean context over generation: T = input + output / 2 (the cache grows by one token per step)."""
    return np.asarray(input_tokens, dtype=float) + np.asarray(output_tokens, dtype=float) / 2.0


# --- serving: one request on the roofline, with tensor-parallel communication ---------------

#: Peak metric (data/hardware.csv) and bytes per weight of each serving precision; a chip without
#: the metric does not offer that precision.
PEAK_METRICS = {"bf16": "bf16_dense_tflops", "fp8": "fp8_dense_tflops", "fp4": "fp4_dense_tflops"}
WEIGHT_BYTES = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5}
#: Bytes per KV-cache value, and the KV precision each weight precision implies unless stated
#: (TensorRT-LLM forces an FP8 KV cache with NVFP4 or FP8 weights: trtllm-bench-tuning / build.py).
KV_BYTES = {"bf16": 2.0, "fp8": 1.0}
DEFAULT_KV_PRECISION = {"bf16": "bf16", "fp8": "fp8", "fp4": "fp8"}
#: Bytes per activation value in the tensor-parallel all-reduces (BF16/FP16 in the stacks read).
ACTIVATION_BYTES = 2.0
#: Share of the memory the weights leave that the KV cache may take at ``batch max`` (TensorRT-LLM's
#: default kv_cache_free_gpu_mem_fraction 0.90, trtllm-perf-overview-v1.0; vLLM's default
#: gpu_memory_utilization is also 0.9): activations and runtime buffers take the rest.
KV_MEMORY_FRACTION = 0.90
#: Decode steps are evaluated at the midpoints of this many equal bins of the growing context
#: (exact for a step time linear in the context, within 1e-3 where it turns compute-bound).
DECODE_BINS = 64
#: Serving parameters fitted per chip family, their units for the results table and their priors
#: (centre, log-space sd). The priors are the study's weak estimates that keep a family whose
#: points cannot separate the parameters (all at batch 1, say) near physical values; the data
#: dominate wherever they vary: memory efficiency centred on the family's STREAM fit x/÷ e^0.25;
#: compute multiplier (on the GEMM fit at the point's precision) 1 x/÷ e^0.3; all-reduce latency
#: per collective step 5 us x/÷ e^1 (NCCL and NeuronLink small-message latencies are microseconds);
#: all-reduce bandwidth efficiency (achieved / per-direction link rate) 0.8 x/÷ e^0.5 (nccl-tests
#: bus bandwidth is 0.77 of the link on 8 A100 and 1.06 on 8 H100 with NVLS, data/measurements.csv);
#: fixed per-step overhead (launch, scheduling) 0.3 ms x/÷ e^1.5; per-sequence per-step overhead
#: (sampling, logits, per-sequence attention work) 2 us x/÷ e^2.
SERVING_PARAMS = ("decode_memory_efficiency", "serving_compute_multiplier", "allreduce_latency_s",
                  "allreduce_bandwidth_efficiency", "step_overhead_s", "sequence_overhead_s")
SERVING_UNITS = {"decode_memory_efficiency": "dimensionless", "serving_compute_multiplier": "dimensionless",
                 "allreduce_latency_s": "s", "allreduce_bandwidth_efficiency": "dimensionless",
                 "step_overhead_s": "s", "sequence_overhead_s": "s"}
PRIOR_SD = np.array([0.25, 0.3, 1.0, 0.5, 1.5, 2.0])
PRIOR_ALPHA_S, PRIOR_LINK_EFF, PRIOR_OVERHEAD_S, PRIOR_SEQ_OVERHEAD_S = 5e-6, 0.8, 3e-4, 2e-6
_LOG_LOWER = np.log([0.02, 0.05, 1e-8, 0.02, 1e-7, 1e-9])
_LOG_UPPER = np.log([1.0, 1.3, 1e-3, 1.5, 0.2, 1e-3])
#: Floor on the residual sd used to weight the data against the priors (log units).
SIGMA_FLOOR = 0.05
#: Starts of the full fits (the prior centre, then seeded jitter of sd 0.7 in log space): the best is kept.
FIT_STARTS = 4


def scaleup_topology(ds, chip_id: str) -> str:
    """How a chip's tensor-parallel group is wired (data/systems.csv topologies): 'switch' (NVSwitch,
    NeuronSwitch of Trn3, Maia), 'torus_2d' (Trn1/Trn2 4x4 torus, TPU ICI) or 'ring' (inf2's
    NeuronLink-v2 ring)."""
    fam = _family_of(ds)[chip_id]
    if fam.startswith("nvidia") or fam == "maia" or chip_id == "trainium3":
        return "switch"
    if fam in ("trainium", "tpu"):
        return "torus_2d"
    return "ring"


def allreduce_coefficients(chips: int, topology: str) -> tuple[float, float]:
    """(c_alpha, c_beta) with all-reduce time = c_alpha alpha + c_beta n / B over ``chips`` chips,
    read off :mod:`analysis.interconnect`: switch = halving-doubling (2 ceil(log2 p), 2 (p-1)/p),
    torus_2d = dimension-by-dimension rings on balanced_dims(p, 2) (2 sum(k_i - 1), 2 (1 - 1/p)),
    ring = 2 (p-1), 2 (p-1)/p. One chip: (0, 0)."""
    p = int(chips)
    if p == 1:
        return 0.0, 0.0
    if topology == "switch":
        f = lambda n, b, a: ic.halving_doubling_all_reduce_s(n, p, b, a)  # noqa: E731
    elif topology == "torus_2d":
        dims = ic.balanced_dims(p, 2)
        f = lambda n, b, a: ic.torus_all_reduce_s(n, dims, b, a)  # noqa: E731
    elif topology == "ring":
        f = lambda n, b, a: ic.ring_all_reduce_s(n, p, b, a)  # noqa: E731
    else:
        raise StudyInputError("allreduce_coefficients", f"unknown topology '{topology}'",
                              expected="switch, torus_2d or ring")
    return float(f(0.0, 1.0, 1.0)), float(f(1.0, 1.0, 0.0))


def kv_replication(n_kv_heads: int, chips) -> np.ndarray:
    """KV heads are replicated when the tensor-parallel group is wider than the model's KV heads
    (each chip holds at least one): factor max(1, chips / n_kv_heads)."""
    return np.maximum(1.0, np.asarray(chips, dtype=float) / float(n_kv_heads))


def request_shape(m: wl.Transformer, batch, input_tokens, chips, weight_bytes, kv_bytes) -> dict:
    """Per-request quantities of ``m`` the serving model needs (arrays broadcast over batch/bytes):
    weights read per decode step (MoE: the experts a batch touches) and resident, KV bytes per
    token of context over the whole group (with replication), FLOPs per generated token (2 N_act)
    and per token of context (4 L d_attn), prefill FLOPs per sequence (2 N_act I + 2 L d_attn I^2),
    all-reduces per step (2 L: after attention and after the MLP) and their bytes per token
    (d_model x ACTIVATION_BYTES)."""
    b = np.asarray(batch, dtype=float)
    touched = wl.moe_params_touched(m.params_total, m.params_active, m.n_experts, m.experts_per_token, b)
    rep = 1.0 if m.kv_cache_dim else kv_replication(m.n_kv_heads, chips)
    return {"weight_read_bytes": touched * np.asarray(weight_bytes, dtype=float),
            "weight_resident_bytes": m.params_total * np.asarray(weight_bytes, dtype=float),
            "kv_bytes_per_token": wl.kv_cache_bytes_per_token(m.n_layers, m.kv_dim, kv_bytes) * rep,
            "flops_per_token": 2.0 * m.params_active, "flops_per_context_token": 4.0 * m.n_layers * m.d_attn,
            "prefill_flops_per_seq": wl.prefill_flops(m.params_active, input_tokens, m.n_layers, m.d_attn),
            "allreduces_per_step": 2.0 * m.n_layers, "allreduce_bytes_per_token": m.d_model * ACTIVATION_BYTES}


def max_batch(weight_resident_bytes, kv_bytes_per_token, chips, mem_capacity_gb, context,
              kv_memory_fraction=KV_MEMORY_FRACTION, cap=None):
    """Largest batch whose KV cache fits: floor(f (n M 1e9 - weights) / (KV bytes per token x (I + O))),
    at most ``cap`` (e.g. trtllm-bench's 4096); 0 where the weights alone do not fit."""
    free = np.asarray(chips, dtype=float) * np.asarray(mem_capacity_gb, dtype=float) * 1e9 \
        - np.asarray(weight_resident_bytes, dtype=float)
    b = np.floor(np.maximum(free, 0.0) * kv_memory_fraction
                 / (np.asarray(kv_bytes_per_token, dtype=float) * np.asarray(context, dtype=float)))
    return b if cap is None else np.minimum(b, cap)


def serving_times(shape: dict, batch, input_tokens, output_tokens, chips, *, peak_tflops, bandwidth_gb_s,
                  link_bytes_s, c_alpha, c_beta, memory_eff, compute_eff, alpha_s, overhead_s,
                  prefill_memory_eff=None, prefill_compute_eff=None, kv_memory_eff=None, seq_overhead_s=0.0,
                  bins: int = DECODE_BINS) -> dict:
    """Time of one batch of B requests, I tokens in and O out, tensor parallel over n chips.

    Decode step at context c (every sequence emits one token):
        step(c) = max(bytes(c) / (n W 1e9 e_m), FLOPs(c) / (n P 1e12 ce)) + comm + t0
        bytes(c) = weights read + B c KV,   FLOPs(c) = B (2 N_act + 4 L d_attn c)
        comm = 2 L x (c_alpha alpha + c_beta B d_model a / link)   (one all-reduce per half-layer)
    Prefill of the B prompts: max(B F_prefill / (n P 1e12 ce), weights / (n W 1e9 e_p)) + the same
    all-reduces on B I tokens + t0 = TTFT. Decode runs O - 1 steps after the first token with the
    cache growing from I + 1 to I + O - 1 (mean I + O / 2), evaluated at ``bins`` bin midpoints.
    tokens/s = B O / (TTFT + decode time) (output throughput, prefill included); ms per token =
    mean step. Everything broadcasts (points, batches, Monte Carlo draws).
    """
    B = np.asarray(batch, dtype=float)
    I = np.asarray(input_tokens, dtype=float)
    O = np.asarray(output_tokens, dtype=float)
    n = np.asarray(chips, dtype=float)
    mem_rate = n * np.asarray(bandwidth_gb_s, dtype=float) * 1e9 * np.asarray(memory_eff, dtype=float)
    cmp_rate = n * np.asarray(peak_tflops, dtype=float) * 1e12 * np.asarray(compute_eff, dtype=float)
    pm_eff = memory_eff if prefill_memory_eff is None else prefill_memory_eff
    pc_eff = compute_eff if prefill_compute_eff is None else prefill_compute_eff
    pcmp_rate = n * np.asarray(peak_tflops, dtype=float) * 1e12 * np.asarray(pc_eff, dtype=float)
    pmem_rate = n * np.asarray(bandwidth_gb_s, dtype=float) * 1e9 * np.asarray(pm_eff, dtype=float)
    alpha = np.asarray(alpha_s, dtype=float)
    t0 = np.asarray(overhead_s, dtype=float)
    n_ar, ar_tok = shape["allreduces_per_step"], shape["allreduce_bytes_per_token"]
    link = np.asarray(link_bytes_s, dtype=float)
    ca, cb = np.asarray(c_alpha, dtype=float), np.asarray(c_beta, dtype=float)
    beta = np.divide(cb, link, out=np.zeros(np.broadcast(cb, link).shape), where=cb > 0)
    comm_step = n_ar * (ca * alpha + beta * B * ar_tok)
    comm_prefill = n_ar * (ca * alpha + beta * B * I * ar_tok)
    # decode: contexts at bin midpoints, on a trailing axis
    u = (np.arange(bins) + 0.5) / bins
    ctx = (I + 0.5)[..., None] + u * np.maximum(O - 1.0, 0.0)[..., None]
    x = lambda a: np.asarray(a, dtype=float)[..., None]  # noqa: E731
    kv_rate = mem_rate if kv_memory_eff is None else (
        n * np.asarray(bandwidth_gb_s, dtype=float) * 1e9 * np.asarray(kv_memory_eff, dtype=float))
    mem_s = x(shape["weight_read_bytes"]) / x(mem_rate) + x(B) * ctx * x(shape["kv_bytes_per_token"]) / x(kv_rate)
    cmp_s = x(B) * (x(shape["flops_per_token"]) + x(shape["flops_per_context_token"]) * ctx) / x(cmp_rate)
    roof = np.maximum(mem_s, cmp_s).mean(axis=-1)
    step_s = roof + comm_step + t0 + B * np.asarray(seq_overhead_s, dtype=float)
    decode_s = np.maximum(O - 1.0, 0.0) * step_s
    pre_cmp = B * np.asarray(shape["prefill_flops_per_seq"], dtype=float) / pcmp_rate
    pre_mem = np.asarray(shape["weight_resident_bytes"], dtype=float) / pmem_rate
    ttft_s = np.maximum(pre_cmp, pre_mem) + comm_prefill + t0
    total_s = ttft_s + decode_s
    mid = ((I + O / 2.0))
    mem_mid = (np.asarray(shape["weight_read_bytes"]) + B * mid * np.asarray(shape["kv_bytes_per_token"])) / mem_rate
    cmp_mid = B * (shape["flops_per_token"] + shape["flops_per_context_token"] * mid) / cmp_rate
    return {"tokens_per_s": B * O / total_s, "ms_per_token": 1000.0 * step_s, "ttft_ms": 1000.0 * ttft_s,
            "total_s": total_s, "decode_s": decode_s, "step_roofline_s": roof, "step_comm_s": comm_step,
            "step_overhead_s": t0 + 0.0 * roof, "memory_s_mid": mem_mid, "compute_s_mid": cmp_mid}


def naive_tokens_per_s(shape: dict, batch, input_tokens, output_tokens, chips, peak_tflops, bandwidth_gb_s):
    """The roofline at 100% efficiency with no communication or overhead (the 'naive' baseline)."""
    return serving_times(shape, batch, input_tokens, output_tokens, chips, peak_tflops=peak_tflops,
                         bandwidth_gb_s=bandwidth_gb_s, link_bytes_s=1.0, c_alpha=0.0, c_beta=0.0,
                         memory_eff=1.0, compute_eff=1.0, alpha_s=0.0, overhead_s=0.0)["tokens_per_s"]


# --- conditions parser ------------------------------------------------------------------------

_NUM = r"~?(\d[\d,]*)"
_BATCH_RE = re.compile(r"\b(?:batch(?:\s+size)?|bs)\s*[=:]?\s*(\d+)\b", re.I)
_BATCH_MAX_RE = re.compile(r"\bbatch\s+max\b(?:\s*\([^)]*?\bcap\s+(\d+)[^)]*\))?", re.I)
_IN_OUT_RE = (re.compile(rf"\binput\s+{_NUM}\s*/\s*output\s+{_NUM}", re.I),
              re.compile(rf"{_NUM}\s+input\s*/\s*{_NUM}\s+output", re.I))
_PRECISION_BYTES = (("fp4", 0.5), ("int4", 0.5), ("fp8", 1.0), ("int8", 1.0),
                    ("bf16", 2.0), ("fp16", 2.0))
_KV_RE = re.compile(r"\b(fp8|int8|bf16|fp16)\s+kv\b", re.I)


def parse_decode_conditions(text: str) -> dict:
    """Batch, input and output tokens and weight bytes per parameter read from a ``conditions`` text.

    Recognises 'batch 4' / 'bs4', 'batch max' (the largest batch that fits, optionally followed
    by a parenthesis naming '... cap 4096'), 'input 128 / output 128' and '10000 input / ~1500 output' (commas and '~' allowed), the
    first weight precision named among FP4/INT4 (0.5 byte), FP8/INT8 (1), BF16/FP16 (2), and a KV
    precision written 'FP8 KV cache'. Anything not found is None (batch_max False).
    """
    text = text or ""
    out = {"batch": None, "batch_max": False, "batch_cap": None, "input_tokens": None, "output_tokens": None,
           "weight_bytes_per_param": None, "kv_bytes_per_value": None}
    m = _BATCH_MAX_RE.search(text)
    if m:
        out["batch_max"] = True
        out["batch_cap"] = int(m.group(1)) if m.group(1) else None
    else:
        m = _BATCH_RE.search(text)
        if m:
            out["batch"] = int(m.group(1))
    for rx in _IN_OUT_RE:
        m = rx.search(text)
        if m:
            out["input_tokens"] = int(m.group(1).replace(",", ""))
            out["output_tokens"] = int(m.group(2).replace(",", ""))
            break
    low = text.lower()
    found = [(low.find(tag), b) for tag, b in _PRECISION_BYTES if re.search(rf"\b{tag}\b", low)]
    if found:
        out["weight_bytes_per_param"] = min(found)[1]
    m = _KV_RE.search(text)
    if m:
        out["kv_bytes_per_value"] = 1.0 if m.group(1).lower() in ("fp8", "int8") else 2.0
    return out


# --- data preparation -------------------------------------------------------------------------

def _family_of(ds) -> dict[str, str]:
    return dict(zip(ds.chips.chip_id, ds.chips.family))


def ratio_points(ds, kind: str, precision: str = "bf16") -> pd.DataFrame:
    """Achieved / peak for each GEMM (kind 'compute') or bandwidth (kind 'memory') measurement:
    columns measurement_id, chip_id, family, achieved, peak, ratio."""
    if kind == "compute":
        quantity, metric = PRECISIONS[precision]
    else:
        quantity, metric = "mem_bandwidth_gb_s", "mem_bandwidth_gb_s"
    m = ds.measurements[ds.measurements.quantity == quantity]
    hw = ds.hardware_wide()
    peak = m.chip_id.map(hw[metric]) if metric in hw else np.nan
    out = pd.DataFrame({"measurement_id": m.measurement_id.values, "chip_id": m.chip_id.values,
                        "family": m.chip_id.map(_family_of(ds)).values,
                        "achieved": m.value_canonical.values / m.chips.astype(float).values,
                        "peak": np.asarray(peak, dtype=float)})
    out = out[out.peak > 0]
    out["ratio"] = out.achieved / out.peak
    return out.sort_values("measurement_id").reset_index(drop=True)



#: precision name of a weight byte size
_PRECISION_OF_BYTES = {0.5: "fp4", 1.0: "fp8", 2.0: "bf16"}
POINT_COLUMNS = ["measurement_id", "chip_id", "family", "model_id", "quantity", "chips", "batch", "batch_rule",
                 "input_tokens", "output_tokens", "context", "precision", "weight_bytes_per_param",
                 "kv_bytes_per_value", "topology", "peak_tflops", "bandwidth_gb_s", "link_bytes_s",
                 "c_alpha", "c_beta", "gemm_eff", "stream_eff", "step_bytes", "step_flops",
                 "measured_tokens_per_s"]


def gemm_efficiency(ds, family: str, precision: str) -> float:
    """GEMM efficiency of ``family`` at ``precision`` (family fit, else pooled; FP4 has no GEMM
    measurement and borrows FP8's)."""
    _, fam_fits, pooled = _ratio_parameter_fits(ds, "compute", "fp8" if precision == "fp4" else precision, None)
    return float(fam_fits.get(family, pooled)["value"])


def stream_efficiency(ds, family: str) -> float:
    _, fam_fits, pooled = _ratio_parameter_fits(ds, "memory", None, None)
    return float(fam_fits.get(family, pooled)["value"])


def link_bytes_s(ds, chip_id: str) -> float:
    """Per-direction scale-up send rate of a chip (interconnect_bidir_gb_s / 2); NaN without one."""
    hw = ds.hardware_wide()
    v = hw.at[chip_id, "interconnect_bidir_gb_s"] if "interconnect_bidir_gb_s" in hw else np.nan
    return float(ic.per_direction_bytes_s(v)) if v > 0 else float("nan")


def decode_points(ds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decode/offline throughput measurements ready for the serving fit, and those left out.

    Included rows carry the conditions (chips, batch - stated, or 'max': the largest that fits
    (:func:`max_batch`, the stated cap applied) - input/output tokens, weight and KV precision),
    the chip's peak at that precision, bandwidth, link rate and all-reduce coefficients, the
    family's GEMM (at the precision) and STREAM efficiencies, and the bytes and FLOPs of a decode
    step at the mean context. Excluded rows carry the reason.
    """
    m = ds.measurements[ds.measurements.quantity.isin(DECODE_QUANTITIES)].sort_values("measurement_id")
    hw = ds.hardware_wide()
    fam = _family_of(ds)
    rows, skipped = [], []

    def skip(r, reason):
        skipped.append({"measurement_id": r.measurement_id, "chip_id": r.chip_id, "reason": reason})

    for r in m.itertuples():  # one pass over the table's rows (data preparation, not a model)
        c = parse_decode_conditions(r.conditions)
        missing = [k for k in ("input_tokens", "output_tokens") if c[k] is None]
        if c["batch"] is None and not c["batch_max"]:
            missing.insert(0, "batch")
        if missing:
            skip(r, "conditions do not state " + ", ".join(missing))
            continue
        wbytes = c["weight_bytes_per_param"] or DEFAULT_WEIGHT_BYTES
        precision = _PRECISION_OF_BYTES[wbytes]
        kvb = c["kv_bytes_per_value"] or DEFAULT_KV_BYTES
        metric = PEAK_METRICS[precision]
        bw = hw.at[r.chip_id, "mem_bandwidth_gb_s"] if "mem_bandwidth_gb_s" in hw else np.nan
        peak = hw.at[r.chip_id, metric] if metric in hw else np.nan
        if not (bw > 0 and peak > 0):
            skip(r, f"chip has no mem_bandwidth_gb_s or {metric}")
            continue
        model = wl.transformer(ds, r.model_id)
        chips = int(r.chips)
        topo = scaleup_topology(ds, r.chip_id)
        link = link_bytes_s(ds, r.chip_id) if chips > 1 else 1.0
        if not link > 0:
            skip(r, "chip has no interconnect_bidir_gb_s for its tensor-parallel group")
            continue
        if c["batch_max"]:
            shape0 = request_shape(model, 1, c["input_tokens"], chips, wbytes, kvb)
            batch = int(max_batch(shape0["weight_resident_bytes"], shape0["kv_bytes_per_token"], chips,
                                  hw.at[r.chip_id, "mem_capacity_gb"], c["input_tokens"] + c["output_tokens"],
                                  cap=c["batch_cap"]))
            if batch < 1:
                skip(r, "batch max: the weights leave no room for a KV cache")
                continue
        else:
            batch = c["batch"]
        ca, cb = allreduce_coefficients(chips, topo)
        ctx = float(average_decode_context(c["input_tokens"], c["output_tokens"]))
        rows.append({"measurement_id": r.measurement_id, "chip_id": r.chip_id, "family": fam[r.chip_id],
                     "model_id": r.model_id, "quantity": r.quantity, "chips": chips, "batch": batch,
                     "batch_rule": "max" if c["batch_max"] else "stated",
                     "input_tokens": c["input_tokens"], "output_tokens": c["output_tokens"], "context": ctx,
                     "precision": precision, "weight_bytes_per_param": wbytes, "kv_bytes_per_value": kvb,
                     "topology": topo, "peak_tflops": float(peak), "bandwidth_gb_s": float(bw),
                     "link_bytes_s": link, "c_alpha": ca, "c_beta": cb,
                     "gemm_eff": gemm_efficiency(ds, fam[r.chip_id], precision),
                     "stream_eff": stream_efficiency(ds, fam[r.chip_id]),
                     "step_bytes": float(wl.decode_step_bytes(model, batch, ctx, wbytes, kvb)),
                     "step_flops": float(wl.decode_step_flops(model, batch, ctx)),
                     "measured_tokens_per_s": float(r.value_canonical)})
    inc = pd.DataFrame(rows, columns=POINT_COLUMNS)
    exc = pd.DataFrame(skipped, columns=["measurement_id", "chip_id", "reason"])
    return inc.reset_index(drop=True), exc.reset_index(drop=True)


def _point_shapes(ds, pts: pd.DataFrame) -> dict:
    """The request shapes of the points, stacked into arrays (one element per point)."""
    shapes = [request_shape(wl.transformer(ds, p.model_id), p.batch, p.input_tokens, p.chips,
                            p.weight_bytes_per_param, p.kv_bytes_per_value) for p in pts.itertuples()]
    keys = shapes[0].keys() if shapes else request_shape(wl.transformer(ds, ds.workloads.model_id.iloc[0]),
                                                        1, 1, 1, 2, 2).keys()
    return {k: np.array([float(np.asarray(s[k])) for s in shapes]) for k in keys}


# --- estimators -------------------------------------------------------------------------------

def _fit(value, lo, hi, n, method, note="", residuals=None):
    return {"value": float(value), "ci_low": float(lo), "ci_high": float(hi), "n_points": int(n),
            "method": method, "note": note, "residuals": residuals if residuals is not None else np.array([])}


def mean_ratio_fit(ratios) -> dict:
    """Mean of achieved/peak ratios r_i with a 95% t-interval mean +/- t(0.975, n-1) s / sqrt(n),
    clipped to (0, 1]; one point: r / N1_SPREAD .. min(1, r * N1_SPREAD)."""
    r = np.asarray(ratios, dtype=float)
    n = r.size
    if n == 0:
        raise ValueError("no points to fit")
    est = float(r.mean())
    if n == 1:
        return _fit(est, est / N1_SPREAD, min(1.0, est * N1_SPREAD), 1, "single point",
                    f"one measurement: interval is a stated default of x/÷ {N1_SPREAD}", r - est)
    half = stats.t.ppf(0.975, n - 1) * r.std(ddof=1) / np.sqrt(n)
    lo, hi = est - half, est + half
    note = "t-interval clipped to (0, 1]" if (lo <= 0 or hi > 1) else ""
    return _fit(est, max(lo, 1e-6), min(hi, 1.0), n, "mean ratio, 95% t-interval", note, r - est)



def serving_prior(stream_eff: float) -> np.ndarray:
    """Prior centres in log space, in SERVING_PARAMS order (memory efficiency at the STREAM fit)."""
    return np.log([min(stream_eff, 1.0), 1.0, PRIOR_ALPHA_S, PRIOR_LINK_EFF, PRIOR_OVERHEAD_S,
                   PRIOR_SEQ_OVERHEAD_S])


def serving_times_at(values, shape: dict, batch, input_tokens, output_tokens, chips, *, peak_tflops,
                     bandwidth_gb_s, link_bytes_s, c_alpha, c_beta, gemm_eff, stream_eff, memory_eff=None,
                     prefill_compute_eff=None) -> dict:
    """:func:`serving_times` at fitted parameter values (SERVING_PARAMS order; arrays of draws
    broadcast): compute efficiency = min(kappa x GEMM efficiency, 1), link rate x the all-reduce
    bandwidth efficiency, prefill weight read at the STREAM efficiency. ``memory_eff`` overrides
    the decode memory efficiency, ``prefill_compute_eff`` the prefill's compute efficiency."""
    e_m, kappa, alpha, eta, t0, ts = values
    return serving_times(shape, batch, input_tokens, output_tokens, chips, peak_tflops=peak_tflops,
                         bandwidth_gb_s=bandwidth_gb_s, link_bytes_s=np.asarray(link_bytes_s, dtype=float) * eta,
                         c_alpha=c_alpha, c_beta=c_beta, memory_eff=e_m if memory_eff is None else memory_eff,
                         compute_eff=np.minimum(kappa * np.asarray(gemm_eff, dtype=float), 1.0), alpha_s=alpha,
                         overhead_s=t0, seq_overhead_s=ts, prefill_memory_eff=stream_eff,
                         prefill_compute_eff=prefill_compute_eff)


class ServingPoints:
    """The points of one fit as arrays, with the model evaluated at log parameters theta."""

    def __init__(self, ds, pts: pd.DataFrame):
        self.pts = pts.reset_index(drop=True)
        self.shape = _point_shapes(ds, self.pts)
        self.a = {c: self.pts[c].to_numpy(dtype=float) for c in
                  ("batch", "input_tokens", "output_tokens", "chips", "peak_tflops", "bandwidth_gb_s",
                   "link_bytes_s", "c_alpha", "c_beta", "gemm_eff", "stream_eff", "measured_tokens_per_s")}

    def __len__(self):
        return len(self.pts)

    def times(self, theta, idx=None) -> dict:
        """serving_times of every point (or those in ``idx``) at log parameters ``theta`` (6,) or
        draws (D, 6): results shaped (points,) or (D, points)."""
        th = np.asarray(theta, dtype=float)
        sel = slice(None) if idx is None else idx
        a = {k: v[sel] for k, v in self.a.items()}
        sh = {k: (v[sel] if np.ndim(v) else v) for k, v in self.shape.items()}
        values = [np.exp(th[..., j])[..., None] if th.ndim > 1 else np.exp(th[j]) for j in range(len(SERVING_PARAMS))]
        return serving_times_at(values, sh, a["batch"], a["input_tokens"], a["output_tokens"], a["chips"],
                                peak_tflops=a["peak_tflops"], bandwidth_gb_s=a["bandwidth_gb_s"],
                                link_bytes_s=a["link_bytes_s"], c_alpha=a["c_alpha"], c_beta=a["c_beta"],
                                gemm_eff=a["gemm_eff"], stream_eff=a["stream_eff"])

    def log_residuals(self, theta) -> np.ndarray:
        return np.log(self.times(theta)["tokens_per_s"]) - np.log(self.a["measured_tokens_per_s"])

    def naive(self) -> np.ndarray:
        a = self.a
        return naive_tokens_per_s(self.shape, a["batch"], a["input_tokens"], a["output_tokens"], a["chips"],
                                  a["peak_tflops"], a["bandwidth_gb_s"])


def serving_fit(points: ServingPoints, prior_mu: np.ndarray, start=None) -> dict:
    """Penalised least squares for the six serving parameters of one family.

    Minimises sum_i (log(pred_i / measured_i) / s)^2 + sum_j ((theta_j - mu_j) / sd_j)^2 over
    theta = log(e_m, kappa, alpha, eta, t0, t_seq) (scipy least_squares, trf, within physical bounds),
    with s the residual sd (floored at SIGMA_FLOOR) re-estimated twice; FIT_STARTS starts (prior
    centre, then seeded jitter), the lowest cost kept; ``start`` (e.g. the full-data fit, for
    leave-one-out refits) replaces them by one start. Covariance (J^T J)^-1 of the weighted problem;
    95% intervals exp(theta +/- 1.96 sd). Returns theta, cov, values, ci, residuals, s and n.
    """
    n = len(points)
    if n == 0:
        raise ValueError("no points to fit")
    mu = np.clip(np.asarray(prior_mu, dtype=float), _LOG_LOWER + 1e-9, _LOG_UPPER - 1e-9)

    def resid(th, s):
        return np.concatenate([points.log_residuals(th) / s, (th - mu) / PRIOR_SD])

    def solve(x0):
        s, x = 0.15, np.clip(x0, _LOG_LOWER + 1e-6, _LOG_UPPER - 1e-6)
        for _ in range(3):
            res = optimize.least_squares(resid, x0=x, args=(s,), bounds=(_LOG_LOWER, _LOG_UPPER), method="trf",
                                         xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=500)
            x = res.x
            r = points.log_residuals(x)
            s = max(SIGMA_FLOOR, float(np.sqrt(r @ r / max(n - 1, 1))))
        return res, s

    if start is None:
        rng = np.random.default_rng(20261122)
        starts = [mu] + [mu + rng.normal(0.0, 0.7, mu.size) for _ in range(FIT_STARTS - 1)]
    else:
        starts = [np.asarray(start, dtype=float)]
    res, s = min((solve(x0) for x0 in starts), key=lambda rs: rs[0].cost)
    theta = res.x
    cov = np.linalg.pinv(res.jac.T @ res.jac)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    r = points.log_residuals(theta)
    return {"theta": theta, "cov": cov, "values": np.exp(theta),
            "ci_low": np.exp(np.maximum(theta - 1.96 * sd, _LOG_LOWER)),
            "ci_high": np.exp(np.minimum(theta + 1.96 * sd, _LOG_UPPER)),
            "residuals": r, "sigma": s, "n_points": n, "prior": mu,
            "rms_log_residual": float(np.sqrt(np.mean(r ** 2)))}


# --- fits per family, borrowed per chip -------------------------------------------------------

def _ratio_parameter_fits(ds, kind, precision, families):
    pts = ratio_points(ds, kind, precision)
    fam_fits = {f: mean_ratio_fit(g.ratio.values) for f, g in pts.groupby("family")}
    pooled = mean_ratio_fit(pts.ratio.values) if len(pts) else None
    return pts, fam_fits, pooled



def _serving_family_fits(ds, pts: pd.DataFrame):
    """{family: fit} over the points of each family, and the fit pooled over all points."""
    fam_fits = {}
    for f, g in pts.groupby("family"):
        fam_fits[f] = serving_fit(ServingPoints(ds, g), serving_prior(stream_efficiency(ds, f)))
    pooled = None
    if len(pts):
        _, _, pool_stream = _ratio_parameter_fits(ds, "memory", None, None)
        pooled = serving_fit(ServingPoints(ds, pts), serving_prior(pool_stream["value"]))
    return fam_fits, pooled


_SPECS = (  # model, parameter, kind, precision, peak metric a chip needs for the row to apply
    ("roofline_gemm", "compute_efficiency_bf16", "compute", "bf16", "bf16_dense_tflops"),
    ("roofline_gemm", "compute_efficiency_fp8", "compute", "fp8", "fp8_dense_tflops"),
    ("roofline_stream", "memory_efficiency", "memory", None, "mem_bandwidth_gb_s"),
)
_CACHE: dict[int, tuple] = {}


@memo_on_datasets
def _all_fits(ds):
    """{(parameter): (model, metric, family fits, pooled fit, chip -> own point count)} for the ratio
    fits, '_serving' for the serving fits and '_decode_points' (cached per ds)."""
    hit = _CACHE.get(id(ds))
    if hit is not None and hit[0] is ds:
        return hit[1]
    out = {}
    for model, param, kind, precision, metric in _SPECS:
        pts, fam_fits, pooled = _ratio_parameter_fits(ds, kind, precision, None)
        out[param] = (model, metric, fam_fits, pooled, pts.chip_id.value_counts().to_dict())
    inc, exc = decode_points(ds)
    out["_decode_points"] = (inc, exc)
    fam_fits, pooled = _serving_family_fits(ds, inc)
    out["_serving"] = (fam_fits, pooled, inc.chip_id.value_counts().to_dict())
    _CACHE[id(ds)] = (ds, out)
    return out


def _row(model, param, scope, fit, borrowed, note):
    return {"model": model, "parameter": param, "scope": scope, "value": fit["value"],
            "ci_low": fit["ci_low"], "ci_high": fit["ci_high"], "unit": "dimensionless",
            "n_points": fit["n_points"], "borrowed_from": borrowed, "method": fit["method"],
            "note": "; ".join(x for x in (note, fit["note"]) if x)}



def _serving_row(param, scope, fit, borrowed, note):
    j = SERVING_PARAMS.index(param)
    sub = {"value": fit["values"][j], "ci_low": fit["ci_low"][j], "ci_high": fit["ci_high"][j],
           "n_points": fit["n_points"], "method": "penalised least_squares on log throughput, 95% (Jacobian)",
           "note": f"rms log residual {fit['rms_log_residual']:.3f}; prior centre {np.exp(fit['prior'][j]):.3g}"
                   f" x/÷ e^{PRIOR_SD[j]:g}"}
    row = _row("roofline_decode", param, scope, sub, borrowed, note)
    row["unit"] = SERVING_UNITS[param]
    return row


def fit_results(ds) -> pd.DataFrame:
    """Every fitted parameter: per family, per chip and pooled, each row saying what it borrows from.

    scope is 'family:<family>', 'chip:<chip_id>' or 'all:pooled'; borrowed_from is 'none' for a fit
    on the scope's own data, else the scope whose fit it reuses. Chip rows are written only for
    chips that have the peak figure the parameter multiplies. n_points counts the points behind the
    value; for a chip row, the note says how many of them are the chip's own.
    """
    fits = _all_fits(ds)
    hw = ds.hardware_wide()
    fam = _family_of(ds)
    rows = []

    def emit(make, fam_fits, pooled, counts, metric):
        rows.append(make(POOLED, pooled, "none", "fit over every chip's points"))
        for f in sorted(set(fam.values())):
            if f in fam_fits:
                rows.append(make(f"family:{f}", fam_fits[f], "none", ""))
            else:
                rows.append(make(f"family:{f}", pooled, POOLED, "no measurements for this family"))
        for chip in sorted(fam):
            if metric not in hw or not hw.at[chip, metric] > 0:
                continue
            f = fam[chip]
            own = int(counts.get(chip, 0))
            src = fam_fits.get(f)
            if src is None:
                rows.append(make(f"chip:{chip}", pooled, POOLED, f"no measurements for this chip or its family ({f})"))
            elif own == 0:
                rows.append(make(f"chip:{chip}", src, f"family:{f}", "no measurements for this chip"))
            else:
                rows.append(make(f"chip:{chip}", src, "none",
                                 f"family {f} fit; {own} of its {src['n_points']} points are this chip's"))

    for model, param, *_ in _SPECS:
        _, metric, fam_fits, pooled, counts = fits[param]
        emit(lambda scope, fit, b, note, m=model, p=param: _row(m, p, scope, fit, b, note),
             fam_fits, pooled, counts, metric)
    fam_fits, pooled, counts = fits["_serving"]
    for param in SERVING_PARAMS:
        emit(lambda scope, fit, b, note, p=param: _serving_row(p, scope, fit, b, note),
             fam_fits, pooled, counts, "mem_bandwidth_gb_s")
    df = pd.DataFrame(rows, columns=FIT_COLUMNS)
    return df.sort_values(["model", "parameter", "scope"]).reset_index(drop=True)


def fit_residuals(ds) -> pd.DataFrame:
    """Residual of every point in its family fit: ratio - mean (compute, memory) or
    log(predicted / measured) (decode). Columns model, parameter, family, measurement_id, residual."""
    fits = _all_fits(ds)
    inc, _ = fits["_decode_points"]
    rows = []
    for model, param, kind, precision, _ in _SPECS:
        fam_fits = fits[param][2]
        for f, g in ratio_points(ds, kind, precision).groupby("family"):
            for mid, res in zip(g.measurement_id, fam_fits[f]["residuals"]):
                rows.append({"model": model, "parameter": param, "family": f, "measurement_id": mid,
                             "residual": float(res)})
    fam_fits = fits["_serving"][0]
    for f, g in inc.groupby("family"):
        for mid, res in zip(g.reset_index(drop=True).measurement_id, fam_fits[f]["residuals"]):
            rows.append({"model": "roofline_decode", "parameter": "tokens_per_s", "family": f,
                         "measurement_id": mid, "residual": float(res)})
    return pd.DataFrame(rows).sort_values(["model", "parameter", "measurement_id"]).reset_index(drop=True)


def decode_exclusions(ds) -> pd.DataFrame:
    """Decode/offline measurements left out of the serving fit, with the reason."""
    return _all_fits(ds)["_decode_points"][1].copy()


def serving_fit_for(ds, chip_id: str) -> tuple[dict, str]:
    """The serving fit a chip uses and where it comes from ('family:<f>' or 'all:pooled')."""
    fam = _family_of(ds)
    if chip_id not in fam:
        raise StudyInputError(rel(ds.data_dir / "chips.csv"), f"unknown chip '{chip_id}'",
                              expected=nearest(chip_id, fam))
    fam_fits, pooled, _ = _all_fits(ds)["_serving"]
    f = fam[chip_id]
    return (fam_fits[f], f"family:{f}") if f in fam_fits else (pooled, POOLED)


def efficiency(ds, chip_id: str, kind: str, precision: str = "bf16") -> float:
    """Fitted (or borrowed) efficiency of ``chip_id``: kind 'compute' (GEMM / peak at ``precision``),
    'memory' (STREAM bandwidth / peak) or 'decode' (the serving fit's decode memory efficiency)."""
    if kind not in KINDS:
        raise StudyInputError("efficiency kind", f"unknown kind '{kind}'", expected=nearest(kind, KINDS))
    if precision not in PRECISIONS:
        raise StudyInputError("efficiency precision", f"unknown precision '{precision}'",
                              expected=nearest(precision, PRECISIONS))
    fam = _family_of(ds)
    if chip_id not in fam:
        raise StudyInputError(rel(ds.data_dir / "chips.csv"), f"unknown chip '{chip_id}'",
                              expected=nearest(chip_id, fam))
    if kind == "decode":
        return float(serving_fit_for(ds, chip_id)[0]["values"][0])
    param = {"compute": f"compute_efficiency_{precision}", "memory": "memory_efficiency"}[kind]
    _, _, fam_fits, pooled, _ = _all_fits(ds)[param]
    return float(fam_fits.get(fam[chip_id], pooled)["value"])


def refit_decode_without(ds, measurement_id: str) -> tuple[dict, dict]:
    """Serving fits (family fits, pooled fit) with one measurement held out."""
    inc, _ = _all_fits(ds)["_decode_points"]
    return _serving_family_fits(ds, inc[inc.measurement_id != measurement_id])
