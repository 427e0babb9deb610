"""Inference model (latency, throughput, chips, cost, energy) against hand calculations."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import inference as inf
from analysis import roofline as rf
from analysis import load_datasets, load_scenario
from analysis import workloads as wl
from analysis.errors import StudyInputError

pos = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)

KV70 = 80 * (2 * 8 * 128) * 2            # Llama-2-70B: 327,680 bytes of KV cache per token
H100_PRICE = 55.04 / 8                   # p5.48xlarge on demand, USD per chip-hour = 6.88
# Hopper BF16 GEMM fit: (792.1 + 794.5) / 2 / 989.5
HOPPER_CE = 793.3 / 989.5


@pytest.fixture(scope="module")
def ds():
    return load_datasets()


@pytest.fixture(scope="module")
def sc():
    return load_scenario()


# --- model functions --------------------------------------------------------------------------

def test_ttft_compute_and_memory_sides():
    # 1e15 FLOPs / (2 chips x 500e12 x 0.5) = 2 s -> 2000 ms (weights: 1e9 / 2e12 = 0.5 ms)
    assert inf.ttft_ms(1e15, 1e9, 2, 500, 1000, 0.5, 1.0) == pytest.approx(2000.0)
    # tiny prefill: the weight read dominates, 1e12 B / (2 x 1000e9 x 0.5) = 1 s
    assert inf.ttft_ms(1.0, 1e12, 2, 500, 1000, 0.5, 0.5) == pytest.approx(1000.0)


def test_ms_per_token_and_throughput_by_hand():
    # 140e9 B / (8 x 3350e9 B/s) = 5.2239 ms per step; batch 1 -> 191.43 tokens/s
    ms = inf.ms_per_token(140e9, 140e9, 8, 3350, 989.5, 1.0, 1.0)
    assert ms == pytest.approx(1000 * 140e9 / 2.68e13)
    assert inf.tokens_per_s(1, ms) == pytest.approx(2.68e13 / 140e9)
    assert inf.tokens_per_s(64, 20.0) == pytest.approx(64 * 1000 / 20)


def test_throughput_saturates_at_compute_roof():
    # per-sequence FLOPs 1.4e11, bytes fixed 1.4e11 (no KV): compute time = B x 1.4e11 / (8 x 989.5e12)
    # beyond B* = 989.5/3.35 = 295.4 the step is compute-bound: tokens/s -> 8 x 989.5e12 / 1.4e11 = 56,543
    b = np.array([1, 64, 295, 1000, 4000])
    ms = inf.ms_per_token(140e9, b * 140e9, 8, 3350, 989.5, 1.0, 1.0)
    tps = inf.tokens_per_s(b, ms)
    assert np.all(np.diff(tps) >= 0)
    assert tps[-1] == pytest.approx(8 * 989.5e12 / 140e9)
    assert list(inf.decode_bound(140e9, b * 140e9, 8, 3350, 989.5, 1.0, 1.0)) == [
        "memory", "memory", "memory", "compute", "compute"]


def test_chips_needed_llama2_70b(ds):
    m = wl.transformer(ds, "llama-2-70b")
    # batch 1, 4096 tokens: 140e9 + 4096 x 327,680 = 141.342e9 B / 80e9 = 1.77 -> 2 chips
    assert inf.chips_needed(m, 80, 1, 4096) == 2
    # batch 64, 2048 tokens: 140e9 + 64 x 2048 x 327,680 = 182.95e9 / 80e9 = 2.29 -> 3 chips
    assert inf.chips_needed(m, 80, 64, 2048) == 3
    # broadcasts over batch
    np.testing.assert_array_equal(inf.chips_needed(m, 80, np.array([1, 64]), 2048), [2, 3])
    # 90% usable: 141.342e9 / 72e9 = 1.96 -> still 2; FP8 weights: 70e9 + 1.342e9 -> 1
    assert inf.chips_needed(m, 80, 1, 4096, usable_memory_fraction=0.9) == 2
    assert inf.chips_needed(m, 80, 1, 4096, bytes_per_param=1) == 1


def test_usd_per_mtoken_by_hand():
    # 6.88 $/chip-h x 8 chips = 55.04 $/h; 1000 tokens/s x 0.6 x 3600 s = 2.16e6 tokens/h -> 25.48 $/M
    assert inf.usd_per_mtoken(6.88, 8, 1000, 0.6) == pytest.approx(55.04 / 2.16)


@given(price=pos, chips=st.integers(1, 1024), tps=pos, util=st.floats(0.01, 1.0))
def test_cost_linear_in_price(price, chips, tps, util):
    one = inf.usd_per_mtoken(price, chips, tps, util)
    assert inf.usd_per_mtoken(2 * price, chips, tps, util) == pytest.approx(2 * one, rel=1e-12)
    assert inf.usd_per_mtoken(price, chips, 2 * tps, util) == pytest.approx(one / 2, rel=1e-12)


@given(b=st.integers(1, 4096), k=st.integers(1, 8), bw=pos, peak=pos)
def test_throughput_non_decreasing_in_batch(b, k, bw, peak):
    # weights 1e9 B, KV 1e5 B per sequence, 1e9 FLOPs per sequence
    def tps(batch):
        return inf.tokens_per_s(batch, inf.ms_per_token(1e9 + batch * 1e5, batch * 1e9, 4, bw, peak, 0.8, 0.8))
    assert tps(b + k) >= tps(b) * (1 - 1e-12)


def test_energy_per_token_by_hand():
    # 700 W x 0.8 x 8 chips x PUE 1.15 = 5152 W; / 1000 tokens/s = 5.152 J per token
    assert inf.energy_per_token_serving_j(700, 0.8, 8, 1.15, 1000) == pytest.approx(5.152)


# --- predict_decode ---------------------------------------------------------------------------

def _fixed_fit(values, cov_scale=0.0):
    """A serving fit with given parameter values (SERVING_PARAMS order) and a diagonal covariance."""
    return {"theta": np.log(values), "cov": np.eye(6) * cov_scale, "sigma_loo": 0.0}


#: memory efficiency 1, compute multiplier 1, alpha 5 us, link efficiency 1, 0.1 ms per step, none per sequence
FIT1 = _fixed_fit([1.0, 1.0, 5e-6, 1.0, 1e-4, 1e-12])


def test_predict_llama2_70b_batch1_on_8_h100_by_hand(ds, sc):
    r = inf.predict_decode(ds, sc, "llama-2-70b", "h100-sxm", 8, 1, 1024, 1024, fit=FIT1)
    # decode at the mean context 1024 + 1024/2 = 1536 (memory-bound throughout, so the mean step is exact):
    # bytes 140e9 + 1536 x 327,680 = 140.503e9 over 8 x 3,350 GB/s = 5.2427 ms
    mem = (70e9 * 2 + 1536 * KV70) / (8 * 3350e9)
    # 160 all-reduces of 8192 x 2 B on 8 GPUs (halving-doubling): 6 x 5 us + 1.75 x 16,384 / 450e9 = 30.064 us
    comm = 160 * (6 * 5e-6 + 1.75 * 16384 / 450e9)                      # 4.8102 ms
    step = mem + comm + 1e-4                                             # 10.1529 ms
    assert r["ms_per_token"] == pytest.approx(1000 * step, rel=1e-6)
    assert r["comm_ms_per_token"] == pytest.approx(1000 * comm, rel=1e-9)
    assert r["bound"] == "memory"
    # TTFT: (2 x 70e9 x 1024 + 2 x 80 x 8192 x 1024^2) / (8 x 989.5e12 x 0.8017) = 22.81 ms, plus the
    # prefill all-reduces 160 x (30 us + 1.75 x 1024 x 16,384 / 450e9) = 15.24 ms, plus 0.1 ms
    prefill = 2 * 70e9 * 1024 + 2 * 80 * 8192 * 1024**2
    ttft = prefill / (8 * 989.5e12 * HOPPER_CE) + 160 * (6 * 5e-6 + 1.75 * 1024 * 16384 / 450e9) + 1e-4
    assert r["ttft_ms"] == pytest.approx(1000 * ttft, rel=1e-6)
    # output throughput over the request: 1024 tokens / (TTFT + 1023 steps) = 97.5 tokens/s
    tps = 1024 / (ttft + 1023 * step)
    assert r["tokens_per_s"] == pytest.approx(tps, rel=1e-6)
    # cost: 6.88 x 8 / (3600 x tokens/s x 0.6) x 1e6; energy: 700 x 0.8 x 8 x 1.15 / tokens/s
    assert r["usd_per_chip_hour"] == pytest.approx(H100_PRICE)
    assert r["usd_per_million_tokens"] == pytest.approx(H100_PRICE * 8 / (3600 * tps * 0.6) * 1e6, rel=1e-6)
    assert r["j_per_token"] == pytest.approx(700 * 0.8 * 8 * 1.15 / tps, rel=1e-6)
    # 140e9 + 2048 x 327,680 = 140.67e9 B / 80e9 -> 2 chips
    assert r["chips_needed"] == 2
    # zero covariance and zero held-out spread: the interval collapses onto the estimate
    assert r["tokens_per_s_low"] == pytest.approx(tps, rel=1e-6) == r["tokens_per_s_high"]


def test_predict_uses_fitted_parameters_and_decode_eff_draws(ds, sc):
    r = inf.predict_decode(ds, sc, "llama-2-70b", "h100-sxm", 8, 1, 1024, 1024)
    assert 0 < r["decode_efficiency"] <= 1 and r["fit_scope"] == "family:nvidia-hopper"
    assert r["tokens_per_s_low"] < r["tokens_per_s"] < r["tokens_per_s_high"]
    assert r["ms_per_token_low"] < r["ms_per_token"] < r["ms_per_token_high"]
    draws = inf.predict_decode(ds, sc, "llama-2-70b", "h100-sxm", 8, 1, 1024, 1024,
                               decode_eff=np.array([0.5, 1.0]))
    # memory-bound: only the memory term changes, 140.503e9 B / (8 x 3350e9) x (1/0.5 - 1/1) = 5.2427 ms
    diff = draws["ms_per_token"][0] - draws["ms_per_token"][1]
    assert diff == pytest.approx(1000 * (70e9 * 2 + 1536 * KV70) / (8 * 3350e9), rel=1e-6)
    assert "tokens_per_s_low" not in draws   # no intervals over caller-supplied draws


def test_precision_changes_weight_bytes_and_peak(ds, sc):
    # FIT1 on one H100, Llama-3.1-8B, batch 1, 100 in / 101 out: FP8 halves the weight and KV bytes
    # (8e9 x 1 B + 150 x 32 x 2 x 8 x 128 x 1 B) and uses the 1,979 TFLOPS FP8 peak
    b16 = inf.predict_decode(ds, sc, "llama-3.1-8b", "h100-sxm", 1, 1, 100, 101, fit=FIT1)
    f8 = inf.predict_decode(ds, sc, "llama-3.1-8b", "h100-sxm", 1, 1, 100, 101, fit=FIT1, precision="fp8")
    assert (b16["precision"], b16["kv_precision"], f8["precision"], f8["kv_precision"]) == ("bf16", "bf16",
                                                                                            "fp8", "fp8")
    assert (b16["peak_tflops"], f8["peak_tflops"]) == (989.5, 1979.0)
    kv8 = 32 * 2 * 8 * 128                                              # 65,536 values per token
    mean_ctx = 100 + 101 / 2                                            # 150.5
    assert b16["ms_per_token"] == pytest.approx(1000 * (8e9 * 2 + mean_ctx * kv8 * 2) / 3350e9 + 0.1, rel=1e-6)
    assert f8["ms_per_token"] == pytest.approx(1000 * (8e9 * 1 + mean_ctx * kv8 * 1) / 3350e9 + 0.1, rel=1e-6)
    # FP4 keeps an FP8 KV cache; --kv-precision overrides
    b200 = inf.predict_decode(ds, sc, "llama-3.1-8b", "b200", 1, 1, 100, 101, fit=FIT1, precision="fp4")
    assert (b200["peak_tflops"], b200["kv_precision"]) == (9000.0, "fp8")
    assert b200["ms_per_token"] == pytest.approx(1000 * (8e9 * 0.5 + mean_ctx * kv8) / 8000e9 + 0.1, rel=1e-6)
    kvb = inf.predict_decode(ds, sc, "llama-3.1-8b", "b200", 1, 1, 100, 101, fit=FIT1, precision="fp4",
                             kv_precision="bf16")
    assert kvb["ms_per_token"] == pytest.approx(1000 * (8e9 * 0.5 + mean_ctx * kv8 * 2) / 8000e9 + 0.1, rel=1e-6)


def test_refuses_a_precision_the_chip_lacks(ds, sc):
    # Hopper has no FP4 tensor cores: no fp4_dense_tflops row in data/hardware.csv
    with pytest.raises(StudyInputError, match=r"no FP4 peak \(fp4_dense_tflops\).*--precision bf16 or fp8"):
        inf.predict_decode(ds, sc, "llama-3.1-70b", "h100-sxm", 2, 1, 100, 100, precision="fp4")
    with pytest.raises(StudyInputError, match=r"--precision"):
        inf.predict_decode(ds, sc, "llama-3.1-70b", "h100-sxm", 2, 1, 100, 100, precision="int3")


def test_batch_max_against_the_memory_budget(ds, sc):
    # Llama-3.1-70B FP8 on 2 x H100: weights 70e9 x 1 B; KV 80 x 2 x 8 x 128 x 1 B = 163,840 B per token;
    # 0.9 x (2 x 80e9 - 70e9) / (163,840 x 2000) = 81e9 / 327.68e6 = 247.2 -> 247
    r = inf.predict_decode(ds, sc, "llama-3.1-70b", "h100-sxm", 2, "max", 1000, 1000, precision="fp8")
    assert (r["batch"], r["batch_rule"]) == (247, "max")
    assert any("batch max = 247" in n for n in r["notes"])
    # one more sequence fits in the raw memory (weights + 248 x 2000 x 163,840 = 151.3e9 < 160e9) but not in 0.9
    assert 70e9 + 248 * 2000 * 163_840 > 70e9 + 0.9 * 90e9
    # the weights alone do not fit: BF16 70B on 2 x 32 GiB Inferentia2
    with pytest.raises(StudyInputError, match=r"--batch: max: .*leave no memory"):
        inf.predict_decode(ds, sc, "llama-3.1-70b", "inferentia2", 2, "max", 1000, 1000)


def test_interval_widens_when_a_parameter_ci_widens(ds, sc):
    fit, _ = rf.serving_fit_for(ds, "h200-sxm")
    narrow = dict(fit, sigma_loo=0.0)
    wide = dict(narrow, cov=np.array(fit["cov"]) * 4.0)      # every parameter's sd doubled
    args = (ds, sc, "llama-3.1-70b", "h200-sxm", 2, 64, 1000, 1000)
    a = inf.predict_decode(*args, precision="fp8", fit=narrow)
    b = inf.predict_decode(*args, precision="fp8", fit=wide)
    assert a["tokens_per_s"] == pytest.approx(b["tokens_per_s"])
    for k in ("tokens_per_s", "ms_per_token", "ttft_ms", "usd_per_million_tokens", "j_per_token"):
        assert b[f"{k}_high"] - b[f"{k}_low"] > 1.5 * (a[f"{k}_high"] - a[f"{k}_low"]) > 0, k
    # and the held-out spread widens it too
    c = inf.predict_decode(*args, precision="fp8", fit=dict(narrow, sigma_loo=0.2))
    assert c["tokens_per_s_high"] - c["tokens_per_s_low"] > a["tokens_per_s_high"] - a["tokens_per_s_low"]


def test_predict_without_price_gives_none_and_a_note(ds, sc):
    # Trainium3 has no listed price of any kind (Trainium2 has only a Capacity Block price)
    r = inf.predict_decode(ds, sc, "llama-2-70b", "trainium3", 16, 4, 1024, 1024)
    assert r["usd_per_million_tokens"] is None
    assert any("price" in n for n in r["notes"])
    assert r["tokens_per_s"] > 0


def test_predict_falls_back_to_capacity_block_price_and_says_so(ds, sc):
    r = inf.predict_decode(ds, sc, "llama-2-70b", "trainium2", 16, 4, 1024, 1024)
    assert r["usd_per_chip_hour"] == pytest.approx(35.7608 / 16)  # trn2.48xlarge Capacity Block, 16 chips
    assert any("capacity_block" in n for n in r["notes"])


def test_predict_refuses_model_that_does_not_fit(ds, sc):
    # batch 64, 2048 tokens needs 3 x 80 GB (see test_chips_needed_llama2_70b)
    with pytest.raises(StudyInputError, match=r"does not fit.*--chips 3 or more"):
        inf.predict_decode(ds, sc, "llama-2-70b", "h100-sxm", 1, 64, 1024, 1024)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(chips=0), r"--chips: chips is 0; expected a whole number >= 1"),
    (dict(chips=2.5), r"--chips"),
    (dict(batch=0), r"--batch"),
    (dict(input_tokens=-5), r"--input: input is -5"),
    (dict(output_tokens=0), r"--output"),
    (dict(chip_id="h1000-sxm"), r"unknown chip 'h1000-sxm'.*h100-sxm"),
    (dict(model_id="llama-2-700b"), r"unknown model 'llama-2-700b'.*llama-2-70b"),
    (dict(decode_eff=0.0), r"decode efficiency"),
])
def test_predict_bad_arguments(ds, sc, kwargs, pattern):
    args = dict(model_id="llama-2-70b", chip_id="h100-sxm", chips=8, batch=1, input_tokens=128,
                output_tokens=128)
    args.update(kwargs)
    with pytest.raises(StudyInputError, match=pattern):
        inf.predict_decode(ds, sc, **args)


# --- leave one out and validation ---------------------------------------------------------------

@pytest.fixture(scope="module")
def val(ds):
    return inf.validate_serving(ds)


def test_loo_holds_the_point_out(ds, val):
    # a Trainium2 point: its family refitted on the other five points, then evaluated at it
    mid = "trn2x16-llama33-70b-bs1-in10000-out1500"
    inc, _ = rf.decode_points(ds)
    fam = inc[inc.family == "trainium"].reset_index(drop=True)
    rest = fam[fam.measurement_id != mid]
    full, _ = rf.serving_fit_for(ds, "trainium2")
    fit = rf.serving_fit(rf.ServingPoints(ds, rest), rf.serving_prior(rf.stream_efficiency(ds, "trainium")),
                         start=full["theta"])
    i = int(np.flatnonzero(fam.measurement_id == mid)[0])
    pred = rf.ServingPoints(ds, fam).times(fit["theta"], idx=[i])["tokens_per_s"][0]
    row = val.set_index("measurement_id").loc[mid]
    assert row.predicted == pytest.approx(pred, rel=1e-9)
    assert row.measured == 49.49 and row.borrowed_from == "none"
    assert row.log_error == pytest.approx(np.log(pred / 49.49))
    assert row.pct_error == pytest.approx(100 * (pred / 49.49 - 1))
    assert row.low < row.predicted < row.high


def test_validate_serving_columns_naive_and_summary(ds, val):
    assert list(val.columns) == inf.VALIDATION_COLUMNS
    inc, _ = rf.decode_points(ds)
    assert set(val.measurement_id) == set(inc.measurement_id)
    # naive roofline by hand for the Inferentia2 13B point: batch 1, 128 in / 3968 out, 12 chips at 100%:
    # decode at the mean context 2112: (26e9 + 2112 x 819,200) / (12 x 880.47e9) = 2.6245 ms per step;
    # prefill 2 x 13e9 x 128 + 2 x 40 x 5120 x 128^2 = 3.3951e12 FLOP / (12 x 190e12) = 1.489 ms
    w = 12 * 820 * 1.073741824e9
    step = (13e9 * 2 + 2112 * (40 * 2 * 40 * 128 * 2)) / w
    pre = max((2 * 13e9 * 128 + 2 * 40 * 5120 * 128 ** 2) / (12 * 190e12), 26e9 / w)
    naive = 3968 / (pre + 3967 * step)
    row = val.set_index("measurement_id").loc["inf2x12-llama2-13b-bs1-in128-out3968"]
    assert row.naive == pytest.approx(naive, rel=1e-6)
    assert row.naive_pct_error == pytest.approx(100 * (naive / 112.52 - 1), rel=1e-6)
    s = val.attrs["summary"]
    assert s["n"] == len(val) >= 100
    assert s["median_abs_pct_error"] == pytest.approx(np.median(np.abs(val.pct_error)))
    assert s["worst_abs_pct_error"] == pytest.approx(np.abs(val.pct_error).max())
    assert s["coverage_90"] == pytest.approx(val.in_interval.mean())
    assert s["naive_median_abs_pct_error"] == pytest.approx(np.median(np.abs(val.naive_pct_error)))
    # the fitted model beats the naive roofline by far, and its 90% intervals cover most held-out points
    assert s["median_abs_pct_error"] < 10 < s["naive_median_abs_pct_error"]
    assert 0.75 <= s["coverage_90"] <= 1.0
    assert set(s["by_family"]) == set(inc.family)
    assert inf.decode_loo(ds).equals(val)
