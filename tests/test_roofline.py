"""Roofline and fitted efficiencies against hand calculations."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import load_datasets
from analysis import roofline as rf
from analysis.errors import StudyInputError

pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
eff = st.floats(min_value=1e-3, max_value=1.0, allow_nan=False)


@pytest.fixture(scope="module")
def ds():
    return load_datasets()


@pytest.fixture(scope="module")
def fits(ds):
    return rf.fit_results(ds)


def _row(fits, parameter, scope):
    r = fits[(fits.parameter == parameter) & (fits.scope == scope)]
    assert len(r) == 1, (parameter, scope)
    return r.iloc[0]


# --- roofline arithmetic ----------------------------------------------------------------------

def test_h100_ridge_point():
    # 989.5 TFLOPS / 3.35 TB/s = 989.5e12 / 3.35e12 = 295.37 FLOP/byte
    assert rf.ridge_point_flop_per_byte(989.5, 3350) == pytest.approx(295.373, rel=1e-4)
    # with ce 0.8, me 0.9: 989.5*0.8 / (3.35*0.9) = 791.6 / 3.015 = 262.55
    assert rf.ridge_point_flop_per_byte(989.5, 3350, 0.8, 0.9) == pytest.approx(262.554, rel=1e-4)


def test_attainable_h100_both_sides_of_ridge():
    # intensity 100: 100 FLOP/B * 3350 GB/s = 335,000 GFLOP/s = 335 TFLOPS (memory-bound)
    assert rf.attainable_tflops(989.5, 3350, 100) == pytest.approx(335.0)
    # intensity 1000 > ridge: the peak, 989.5
    assert rf.attainable_tflops(989.5, 3350, 1000) == pytest.approx(989.5)
    # with efficiencies: min(989.5*0.8 = 791.6, 100*3350*0.9/1000 = 301.5)
    assert rf.attainable_tflops(989.5, 3350, 100, 0.8, 0.9) == pytest.approx(301.5)
    assert rf.attainable_tflops(989.5, 3350, 1e4, 0.8, 0.9) == pytest.approx(791.6)


def test_attainable_broadcasts_over_draws():
    got = rf.attainable_tflops(989.5, np.array([3350.0, 4800.0]), np.array([[10.0], [1000.0]]))
    # rows: intensity 10 -> 33.5 and 48.0; intensity 1000 -> peak on both
    np.testing.assert_allclose(got, [[33.5, 48.0], [989.5, 989.5]])


def test_bound_label_scalar_and_array():
    # H100 ridge 295.37: 10 and 295 are below, 296 and 1000 above
    assert rf.bound_label(989.5, 3350, 10) == "memory"
    assert rf.bound_label(989.5, 3350, 1000) == "compute"
    assert list(rf.bound_label(989.5, 3350, np.array([10, 295, 296, 1000]))) == [
        "memory", "memory", "compute", "compute"]


@pytest.mark.parametrize("args", [(-1, 3350, 10), (989.5, -5, 10), (989.5, 3350, -1), (989.5, np.nan, 10)])
def test_attainable_refuses_negative_inputs(args):
    with pytest.raises(StudyInputError, match="negative or missing"):
        rf.attainable_tflops(*args)


def test_ridge_refuses_zero_bandwidth():
    with pytest.raises(StudyInputError, match="bandwidth_gb_s"):
        rf.ridge_point_flop_per_byte(989.5, 0)


@given(peak=pos, bw=pos, i=pos, ce=eff, me=eff)
def test_never_above_peak_times_compute_eff(peak, bw, i, ce, me):
    assert rf.attainable_tflops(peak, bw, i, ce, me) <= peak * ce * (1 + 1e-12)


@given(peak=pos, bw=pos, i=pos, ce=eff, me=eff, k=st.floats(min_value=1.0, max_value=100.0))
def test_monotone_in_bandwidth_and_intensity(peak, bw, i, ce, me, k):
    base = rf.attainable_tflops(peak, bw, i, ce, me)
    assert rf.attainable_tflops(peak, bw * k, i, ce, me) >= base
    assert rf.attainable_tflops(peak, bw, i * k, ce, me) >= base


@given(peak=pos, bw=pos, ce=eff, me=eff)
def test_ridge_point_is_where_the_roofs_meet(peak, bw, ce, me):
    ridge = rf.ridge_point_flop_per_byte(peak, bw, ce, me)
    assert rf.attainable_tflops(peak, bw, ridge, ce, me) == pytest.approx(peak * ce, rel=1e-9)
    assert ridge * bw * me / 1000 == pytest.approx(peak * ce, rel=1e-9)


def test_decode_step_time_hand():
    # 140e9 bytes over 8 chips x 3350 GB/s x 0.5 = 140e9 / 1.34e13 = 10.447761 ms; FLOPs far below
    got = rf.decode_step_time_s(140e9, 140e9, 8, 3350, 989.5, 0.5, 0.8)
    assert got == pytest.approx(140e9 / (8 * 3350e9 * 0.5))
    # compute-bound case: 1e15 FLOPs / (2 x 500e12 x 0.5) = 2 s > 1e9 / (2 x 1000e9) = 0.5 ms
    assert rf.decode_step_time_s(1e9, 1e15, 2, 1000, 500, 1.0, 0.5) == pytest.approx(2.0)


# --- conditions parser ------------------------------------------------------------------------

def test_parse_conditions_input_output_form():
    c = rf.parse_decode_conditions("trn1.32xlarge, TP32, batch 4, input 2048 / output 2048, FP16/BF16, "
                                   "transformers-neuronx, Neuron 2.18; TPOT p50 31.8 ms")
    assert c == {"batch": 4, "batch_max": False, "batch_cap": None, "input_tokens": 2048, "output_tokens": 2048,
                 "weight_bytes_per_param": 2.0, "kv_bytes_per_value": None}


def test_parse_conditions_batch_max_cap_and_kv_precision():
    c = rf.parse_decode_conditions("batch max (trtllm-bench max load; cap 4096), input 1000 / output 1000, "
                                   "FP4 weights (NVFP4), FP8 KV cache, TP1")
    assert (c["batch"], c["batch_max"], c["batch_cap"]) == (None, True, 4096)
    assert (c["weight_bytes_per_param"], c["kv_bytes_per_value"]) == (0.5, 1.0)
    c = rf.parse_decode_conditions("batch 64, input 2048 / output 2048, FP8 weights, FP8 KV cache, TP2")
    assert (c["batch"], c["batch_max"], c["weight_bytes_per_param"], c["kv_bytes_per_value"]) == (64, False, 1.0, 1.0)


def test_parse_conditions_reversed_form_with_tilde_and_commas():
    c = rf.parse_decode_conditions("trn2.48xlarge, TP64 LNC=2, batch 1, 10,000 input / ~1500 output (LLMPerf), BF16")
    assert (c["batch"], c["input_tokens"], c["output_tokens"]) == (1, 10000, 1500)


def test_parse_conditions_bs_and_precisions():
    assert rf.parse_decode_conditions("bs8, input 1 / output 2, FP8")["batch"] == 8
    assert rf.parse_decode_conditions("bs8, input 1 / output 2, FP8")["weight_bytes_per_param"] == 1.0
    assert rf.parse_decode_conditions("batch 2, FP4 per NVIDIA")["weight_bytes_per_param"] == 0.5


def test_parse_conditions_mlperf_offline_gives_nothing():
    c = rf.parse_decode_conditions("MLPerf Inference v4.1 closed, Offline, llama2-70b-99, NVIDIA "
                                   "H200-SXM-141GBx8 (700 W config), TensorRT-LLM, FP8")
    assert c["batch"] is None and c["input_tokens"] is None and c["output_tokens"] is None
    assert c["weight_bytes_per_param"] == 1.0
    assert rf.parse_decode_conditions("")["batch"] is None


def test_unparsed_decode_measurements_are_listed(ds):
    exc = rf.decode_exclusions(ds)
    assert "h200x8-mlperf41-llama2-70b-offline" in set(exc.measurement_id)
    assert exc.reason.str.contains("batch").all()
    inc, _ = rf.decode_points(ds)
    assert not set(inc.measurement_id) & set(exc.measurement_id)


# --- estimators -------------------------------------------------------------------------------

def test_mean_ratio_fit_t_interval_by_hand():
    # mean 0.82, s = 0.02, se = 0.02/sqrt(3) = 0.0115470, t(0.975, 2) = 4.302653 -> half 0.0496828
    f = rf.mean_ratio_fit([0.80, 0.82, 0.84])
    assert f["value"] == pytest.approx(0.82)
    assert f["ci_low"] == pytest.approx(0.82 - 0.0496828, abs=1e-6)
    assert f["ci_high"] == pytest.approx(0.82 + 0.0496828, abs=1e-6)
    assert f["n_points"] == 3
    np.testing.assert_allclose(f["residuals"], [-0.02, 0.0, 0.02], atol=1e-12)


def test_mean_ratio_fit_single_point_uses_stated_spread():
    f = rf.mean_ratio_fit([0.8])
    # 0.8 / 1.25 = 0.64; 0.8 * 1.25 = 1.0 (capped at 1)
    assert (f["ci_low"], f["ci_high"]) == (pytest.approx(0.64), pytest.approx(1.0))
    assert "one measurement" in f["note"]


# --- fits on the study's data -----------------------------------------------------------------

def test_hopper_compute_and_memory_fits(fits):
    # BF16: (792.1 + 794.5) / 2 / 989.5 = 793.3 / 989.5 = 0.801718
    bf16 = _row(fits, "compute_efficiency_bf16", "family:nvidia-hopper")
    assert bf16.value == pytest.approx(793.3 / 989.5)
    assert bf16.n_points == 2 and bf16.borrowed_from == "none"
    assert bf16.ci_low < bf16.value < bf16.ci_high
    # STREAM: (2900/3350 + 2970/3350 + 4010/4800 + 4150/4800) / 4
    #       = (0.865672 + 0.886567 + 0.835417 + 0.864583) / 4 = 0.863060
    mem = _row(fits, "memory_efficiency", "family:nvidia-hopper")
    assert mem.value == pytest.approx(0.863060, abs=1e-6)
    assert mem.n_points == 4


def test_blackwell_single_point_and_fp8(fits):
    # 1745 / 2250 = 0.775556; one point -> default spread
    b = _row(fits, "compute_efficiency_bf16", "family:nvidia-blackwell")
    assert b.value == pytest.approx(1745 / 2250)
    assert b.n_points == 1 and "one measurement" in b.note
    # Hopper FP8: (1382.2 + 1366.3 + 1453.4) / 3 / 1979 = 1400.633 / 1979 = 0.707748
    assert _row(fits, "compute_efficiency_fp8", "family:nvidia-hopper").value == pytest.approx(0.707748, abs=1e-6)


# --- serving model ----------------------------------------------------------------------------

def test_allreduce_coefficients_from_interconnect():
    # switch (halving-doubling), 8 chips: 2 ceil(log2 8) = 6 latency steps, 2 x 7/8 = 1.75 of the message
    assert rf.allreduce_coefficients(8, "switch") == (pytest.approx(6.0), pytest.approx(1.75))
    # 16-chip 4x4 torus: 2 x (3 + 3) = 12 steps, 2 (1 - 1/16) = 1.875; 12-chip ring: 22 steps, 22/12
    assert rf.allreduce_coefficients(16, "torus_2d") == (pytest.approx(12.0), pytest.approx(1.875))
    assert rf.allreduce_coefficients(12, "ring") == (pytest.approx(22.0), pytest.approx(22 / 12))
    assert rf.allreduce_coefficients(1, "switch") == (0.0, 0.0)
    assert rf.scaleup_topology(load_datasets(), "trainium2") == "torus_2d"


def test_tp_allreduce_time_per_step_by_hand(ds):
    # Llama-3.1-70B, batch 32, 8 H100 (switch): 2 x 80 = 160 all-reduces of 32 x 8192 x 2 B = 524,288 B;
    # each 6 alpha + 1.75 x 524,288 / (450e9 x eta): alpha 5 us, eta 0.8 -> 30 us + 2.5486 us = 32.5486 us
    m = rf.wl.transformer(ds, "llama-3.1-70b")
    shape = rf.request_shape(m, 32, 1000, 8, 1.0, 1.0)
    ca, cb = rf.allreduce_coefficients(8, "switch")
    t = rf.serving_times_at([0.8, 1.0, 5e-6, 0.8, 0.0, 0.0], shape, 32, 1000, 1000, 8, peak_tflops=1979,
                            bandwidth_gb_s=3350, link_bytes_s=450e9, c_alpha=ca, c_beta=cb, gemm_eff=0.7,
                            stream_eff=0.86)
    per = 6 * 5e-6 + 1.75 * 32 * 8192 * 2 / (450e9 * 0.8)
    assert t["step_comm_s"] == pytest.approx(160 * per)                      # 5.2078 ms per decode step
    # one chip: no communication
    one = rf.serving_times_at([0.8, 1.0, 5e-6, 0.8, 0.0, 0.0], rf.request_shape(m, 32, 1000, 1, 1.0, 1.0), 32,
                              1000, 1000, 1, peak_tflops=1979, bandwidth_gb_s=3350, link_bytes_s=1.0, c_alpha=0.0,
                              c_beta=0.0, gemm_eff=0.7, stream_eff=0.86)
    assert one["step_comm_s"] == 0.0


def test_serving_times_by_hand(ds):
    # Llama-2-70B (80 layers, GQA-8, d 8192), FP8 weights and KV, batch 4, input 100 / output 11, one H100
    m = rf.wl.transformer(ds, "llama-2-70b")
    shape = rf.request_shape(m, 4, 100, 1, 1.0, 1.0)
    kv = 80 * 2 * 8 * 128 * 1                     # 163,840 B per token of context
    t = rf.serving_times(shape, 4, 100, 11, 1, peak_tflops=1979, bandwidth_gb_s=3350, link_bytes_s=1.0,
                         c_alpha=0.0, c_beta=0.0, memory_eff=0.8, compute_eff=0.5, alpha_s=0.0,
                         overhead_s=1e-3, seq_overhead_s=1e-5, prefill_memory_eff=0.8)
    # decode: memory-bound at every context c = 101..110 (mean 105.5), linear, so the mean step is the
    # step at the mean: (70e9 + 4 x 105.5 x 163,840) / (3350e9 x 0.8) + 1 ms + 4 x 10 us
    step = (70e9 + 4 * 105.5 * kv) / (3350e9 * 0.8) + 1e-3 + 4 * 1e-5
    assert t["ms_per_token"] == pytest.approx(1000 * step, rel=1e-9)      # 27.186 ms
    # prefill: 4 x (2 x 70e9 x 100 + 2 x 80 x 8192 x 100^2) / (1979e12 x 0.5) vs 70e9 / (3350e9 x 0.8)
    pre_c = 4 * (2 * 70e9 * 100 + 2 * 80 * 8192 * 100 ** 2) / (1979e12 * 0.5)   # 56.86 ms
    pre_m = 70e9 / (3350e9 * 0.8)                                                 # 26.12 ms
    ttft = max(pre_c, pre_m) + 1e-3
    assert t["ttft_ms"] == pytest.approx(1000 * ttft, rel=1e-9)
    # output throughput over the run: 4 x 11 tokens / (TTFT + 10 steps)
    assert t["tokens_per_s"] == pytest.approx(44 / (ttft + 10 * step), rel=1e-9)


def test_max_batch_memory_budget_by_hand():
    # 2 x 80 GB - 70.6e9 B of FP8 weights = 89.4e9 B; 0.9 of it / (163,840 B x 2000 tokens) = 245.5 -> 245
    assert rf.max_batch(70.6e9, 163_840, 2, 80, 2000) == 245
    assert rf.max_batch(70.6e9, 163_840, 2, 80, 2000, kv_memory_fraction=1.0) == 272   # 272.8
    assert rf.max_batch(70.6e9, 163_840, 2, 80, 2000, cap=100) == 100
    assert rf.max_batch(200e9, 163_840, 2, 80, 2000) == 0                             # weights do not fit


def test_serving_fit_recovers_known_parameters(ds):
    # the Hopper points with their measured throughput replaced by the model's at known parameters:
    # the penalised fit returns those parameters (the priors pull only slightly against 81 exact points)
    inc, _ = rf.decode_points(ds)
    g = inc[inc.family == "nvidia-hopper"]
    truth = np.log([0.75, 0.8, 1.5e-5, 0.7, 4e-4, 1.2e-5])
    pts = rf.ServingPoints(ds, g)
    pts.a["measured_tokens_per_s"] = pts.times(truth)["tokens_per_s"]
    fit = rf.serving_fit(pts, rf.serving_prior(0.86))
    np.testing.assert_allclose(fit["values"][:4], np.exp(truth[:4]), rtol=0.05)
    assert fit["rms_log_residual"] < 0.01
    assert np.all(fit["ci_low"] <= fit["values"]) and np.all(fit["values"] <= fit["ci_high"])


def test_serving_fit_rows(ds, fits):
    hop = _row(fits, "decode_memory_efficiency", "family:nvidia-hopper")
    assert hop.n_points == (rf.decode_points(ds)[0].family == "nvidia-hopper").sum() and hop.borrowed_from == "none"
    assert 0 < hop.ci_low <= hop.value <= hop.ci_high <= 1
    assert rf.efficiency(ds, "h100-sxm", "decode") == pytest.approx(hop.value)
    lat = _row(fits, "allreduce_latency_s", "family:trainium")
    assert lat.unit == "s" and 1e-7 < lat.value < 1e-3


def test_borrowing_rules(ds, fits):
    assert (fits.borrowed_from != "").all() and fits.borrowed_from.notna().all()
    # inferentia1 has no measurements: family fit
    inf1 = _row(fits, "decode_memory_efficiency", "chip:inferentia1")
    assert inf1.borrowed_from == "family:inferentia"
    assert inf1.value == _row(fits, "decode_memory_efficiency", "family:inferentia").value
    # TPU family has none: pooled fit
    pooled = _row(fits, "decode_memory_efficiency", "all:pooled")
    tpu = _row(fits, "decode_memory_efficiency", "family:tpu")
    assert tpu.borrowed_from == "all:pooled" and tpu.value == pooled.value
    assert rf.efficiency(ds, "tpu-v5e", "decode") == pooled.value
    assert rf.efficiency(ds, "maia-100", "memory") == _row(fits, "memory_efficiency", "all:pooled").value
    assert pooled.n_points == len(rf.decode_points(ds)[0])


def test_fit_results_columns_sorted_deterministic(ds, fits):
    assert list(fits.columns) == ["model", "parameter", "scope", "value", "ci_low", "ci_high", "unit",
                                  "n_points", "borrowed_from", "method", "note"]
    assert fits.equals(fits.sort_values(["model", "parameter", "scope"]).reset_index(drop=True))
    again = rf.fit_results(ds)
    assert fits.equals(again)
    ok = fits.dropna(subset=["ci_low"])
    assert ((ok.ci_low <= ok.value) & (ok.value <= ok.ci_high)).all()


def test_residuals_sum_to_zero_for_ratio_fits(ds):
    res = rf.fit_residuals(ds)
    ratio = res[res.model != "roofline_decode"]
    assert ratio.groupby(["parameter", "family"]).residual.sum().abs().max() < 1e-12


def test_efficiency_bad_arguments(ds):
    with pytest.raises(StudyInputError, match="unknown chip 'trainium9'.*trainium"):
        rf.efficiency(ds, "trainium9", "decode")
    with pytest.raises(StudyInputError, match="unknown kind 'mem'.*memory"):
        rf.efficiency(ds, "h100-sxm", "mem")
