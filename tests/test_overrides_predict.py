"""A scenario's data: cells and --set reach predict (issue 8): prices and specs move the outputs by
the hand-computed factor, a user's MFU or efficiency replaces the fitted one, and a user's number
is labelled as the user's (basis user/scenario, the origin as its source)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis import load_datasets, load_scenario
from analysis.cli import main
from analysis.overrides import apply_all
from analysis.whatif import decode_run, training_run

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
P5_ON_DEMAND = "system_params.p5.48xlarge.usd_per_hour_on_demand"
TRN2_BLOCK = "system_params.trn2.48xlarge.usd_per_hour_capacity_block"
PARAMS, TOKENS, CHIPS = 70e9, 2e12, 1024


def _with(sets=(), scenario=None):
    return apply_all(load_datasets(), load_scenario(scenario), list(sets))[:2]


def _yaml(tmp_path, text, name="mine.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _cli_json(capsys, argv):
    assert main(argv + ["--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# --- prices ------------------------------------------------------------------------------------

def test_price_override_scales_usd_per_million_tokens_by_the_price_factor():
    ds0, sc0 = _with()
    listed = ds0.system_param("p5.48xlarge", "usd_per_hour_on_demand")  # 55.04 USD/hour for 8 H100
    base = decode_run(ds0, sc0, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    ds1, sc1 = _with([(P5_ON_DEMAND, "27.52")])
    mine = decode_run(ds1, sc1, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    assert listed == 55.04
    factor = 27.52 / 55.04  # 0.5
    for k in ("usd_per_million_tokens", "usd_per_million_tokens_low", "usd_per_million_tokens_high"):
        assert mine[k] == pytest.approx(base[k] * factor, rel=1e-12), k
    # by hand: 27.52 / 8 USD per chip-hour, 1 chip, tokens/s x 3600 x utilisation 0.6 tokens per hour
    assert mine["usd_per_chip_hour"] == pytest.approx(27.52 / 8)
    assert mine["usd_per_million_tokens"] == pytest.approx(27.52 / 8 / (mine["tokens_per_s"] * 3600 * 0.60) * 1e6)
    assert mine["tokens_per_s"] == base["tokens_per_s"]  # the price moves cost, not speed
    assert (mine["price_basis"], mine["price_source"]) == ("user", "--set")
    assert base["price_basis"] == "vendor_spec"


def test_scenario_price_scales_training_cost_by_the_price_factor(tmp_path):
    sc_file = _yaml(tmp_path, f"name: half-price\ndata:\n  {TRN2_BLOCK}: 17.8804\n")
    ds0, sc0 = _with()
    ds1, sc1 = _with(scenario=sc_file)
    base = training_run(ds0, sc0, PARAMS, TOKENS, "trainium2", CHIPS)
    mine = training_run(ds1, sc1, PARAMS, TOKENS, "trainium2", CHIPS)
    assert ds0.system_param("trn2.48xlarge", "usd_per_hour_capacity_block") == 35.7608
    factor = 17.8804 / 35.7608  # 0.5
    for k in ("cost_usd", "cost_usd_low", "cost_usd_high", "cost_usd_committed"):
        assert mine[k] == pytest.approx(base[k] * factor, rel=1e-12), k
    assert mine["chip_hours"] == base["chip_hours"]
    assert mine["usd_per_chip_hour"] == pytest.approx(17.8804 / 16)
    assert mine["price_basis"] == "scenario" and mine["price_source"].endswith("mine.yaml")
    assert "the user's price, set by" in mine["cost_note"]


def test_predict_cli_takes_scenario_data_and_set(capsys, tmp_path):
    sc_file = _yaml(tmp_path, f"name: cheap-h100\ndata:\n  {P5_ON_DEMAND}: 27.52\n")
    argv = ["predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "h100-sxm", "--chips", "1024"]
    base = _cli_json(capsys, argv)
    by_file = _cli_json(capsys, argv + ["--scenario", str(sc_file)])
    by_set = _cli_json(capsys, argv + ["--set", f"{P5_ON_DEMAND}=27.52"])
    for r in (by_file, by_set):
        assert r["cost_usd"] == pytest.approx(base["cost_usd"] * 0.5, rel=1e-12)
        assert r["chip_hours"] == base["chip_hours"]
    assert by_set["price_basis"] == "user" and by_file["price_basis"] == "scenario"
    # --set comes after the scenario file: it wins
    both = _cli_json(capsys, argv + ["--scenario", str(sc_file), "--set", f"{P5_ON_DEMAND}=13.76"])
    assert both["cost_usd"] == pytest.approx(base["cost_usd"] * 0.25, rel=1e-12)


# --- specs -------------------------------------------------------------------------------------

def test_tflops_override_scales_a_compute_bound_run_by_hand():
    # with a stated MFU, chip-hours = 6 N D / (3600 x P x 1e12 x MFU): doubling P halves them
    ds, sc = _with([("hardware.trainium2.bf16_dense_tflops", "1334"), ("training_mfu", "0.5")])
    r = training_run(ds, sc, PARAMS, TOKENS, "trainium2", CHIPS)
    hand = 6 * PARAMS * TOKENS / (3600 * 1334e12 * 0.5)
    assert r["peak_tflops"] == 1334
    assert r["chip_hours"] == pytest.approx(hand, rel=1e-12)
    assert r["days"] == pytest.approx(hand / CHIPS / 24, rel=1e-12)
    ds0, sc0 = _with([("training_mfu", "0.5")])
    r0 = training_run(ds0, sc0, PARAMS, TOKENS, "trainium2", CHIPS)
    assert r["chip_hours"] == pytest.approx(r0["chip_hours"] * 667 / 1334, rel=1e-12)


def test_tflops_override_reaches_the_fitted_model_too():
    ds0, sc0 = _with()
    ds1, sc1 = _with([("hardware.trainium2.bf16_dense_tflops", "1334")])
    a = training_run(ds0, sc0, PARAMS, TOKENS, "trainium2", CHIPS)
    b = training_run(ds1, sc1, PARAMS, TOKENS, "trainium2", CHIPS)
    assert (a["peak_tflops"], b["peak_tflops"]) == (667, 1334)
    assert b["chip_hours"] < a["chip_hours"]
    assert b["mfu_basis"] == a["mfu_basis"] == "fitted"


# --- a user's MFU and efficiencies ----------------------------------------------------------------

def test_scenario_training_mfu_replaces_the_fitted_model():
    example = REPO_ROOT / "data/scenarios/examples/cheap-trainium.yaml"
    ds, sc = _with(scenario=example)
    r = training_run(ds, sc, PARAMS, TOKENS, "trainium2", CHIPS)
    assert r["mfu"] == 0.5 and r["mfu_basis"] == "scenario"
    assert "cheap-trainium.yaml" in r["mfu_source"]
    hand = 6 * PARAMS * TOKENS / (3600 * 667e12 * 0.50)
    assert r["chip_hours"] == pytest.approx(hand, rel=1e-12)
    # the interval: MFU uniform on [0.4, 0.6]; hours fall with MFU, so the 5th percentile of hours
    # is at MFU's 95th percentile, 0.4 + 0.95 x 0.2 = 0.59 (10,000 draws: within 0.5%)
    assert r["chip_hours_low"] == pytest.approx(6 * PARAMS * TOKENS / (3600 * 667e12 * 0.59), rel=5e-3)
    assert r["chip_hours_high"] == pytest.approx(6 * PARAMS * TOKENS / (3600 * 667e12 * 0.41), rel=5e-3)
    base = training_run(*_with(), PARAMS, TOKENS, "trainium2", CHIPS)
    assert base["mfu_basis"] == "fitted" and base["mfu"] != 0.5


def test_flops_per_param_token_counts_in_the_stated_mfu():
    ds, sc = _with([("training_mfu", "0.4"), ("flops_per_param_token_training", "8")])
    r = training_run(ds, sc, PARAMS, TOKENS, "h100-sxm", CHIPS)
    assert r["chip_hours"] == pytest.approx(8 * PARAMS * TOKENS / (3600 * 989.5e12 * 0.4), rel=1e-12)
    assert r["flops"] == pytest.approx(8 * PARAMS * TOKENS)


def test_mfu_option_is_the_users_and_out_of_range_is_refused(capsys):
    argv = ["predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "h100-sxm", "--chips", "1024"]
    r = _cli_json(capsys, argv + ["--mfu", "0.45"])
    assert r["mfu"] == 0.45 and r["mfu_basis"] == "user" and "--mfu" in r["mfu_source"]
    assert r["chip_hours"] == pytest.approx(6 * 70e9 * 2e12 / (3600 * 989.5e12 * 0.45), rel=1e-12)
    assert r["chip_hours_low"] < r["chip_hours"] < r["chip_hours_high"]
    for bad in ("45", "0", "-0.2"):
        assert main(argv + ["--mfu", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--mfu" in err


def test_decode_efficiency_assumption_replaces_the_fitted_one():
    ds, sc = _with([("decode_bandwidth_efficiency", "0.5")])
    r = decode_run(ds, sc, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    base = decode_run(*_with(), "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    assert r["decode_efficiency"] == 0.5 and base["decode_efficiency"] != 0.5
    assert r["efficiency_basis"] == "user" and base["efficiency_basis"] == "fitted"
    assert r["tokens_per_s"] < base["tokens_per_s"]  # memory-bound at a lower efficiency than fitted
    assert r["tokens_per_s_low"] <= r["tokens_per_s"] <= r["tokens_per_s_high"]
    ds2, sc2 = _with([("prefill_compute_efficiency", "0.2")])
    r2 = decode_run(ds2, sc2, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    assert r2["prefill_compute_efficiency"] == 0.2 and r2["ttft_ms"] > base["ttft_ms"]


# --- the ledger responds too ----------------------------------------------------------------------

def test_ledger_training_checks_use_the_users_mfu():
    from analysis.ledger import make_ledger

    ledger, changed = make_ledger(scenario=load_scenario(), sets=[("training_mfu", "0.5")], n=200)
    row = ledger.evaluate("S1-002")  # Trainium2 vs H200 price-performance at each chip's MFU
    ds = ledger.ds
    trn2 = 667 * 0.5 / (ds.system_param("trn2.48xlarge", "usd_per_hour_capacity_block") / 16)
    h200 = ds.spec("h200-sxm", "bf16_dense_tflops") * 0.5 / (
        ds.system_param("p5en.48xlarge", "usd_per_hour_capacity_block") / 8)
    main_check = row.checks[1]  # 'delivered BF16 FLOPs per Capacity Block dollar', in percent
    assert main_check["rebuilt"] == pytest.approx(100 * (trn2 / h200 - 1), rel=1e-12)
    assert "assumption.training_mfu" in changed
    keys = {i.key: i for i in row.inputs}
    assert keys["assumption.training_mfu"].basis.startswith("user [") and keys["assumption.training_mfu"].source == "--set"
    assert "fit.mfu.trainium2" not in keys
    base = make_ledger(n=200)[0].evaluate("S1-002")
    assert base.checks[1]["rebuilt"] != pytest.approx(main_check["rebuilt"], rel=1e-3)


# --- provenance -----------------------------------------------------------------------------------

def test_explain_labels_the_users_numbers(tmp_path):
    sc_file = _yaml(tmp_path, "name: mine\nassumptions:\n  serving_utilisation: 0.8\n"
                              f"data:\n  {P5_ON_DEMAND}: 40\n")
    env_py = sys.executable
    out = subprocess.run([env_py, "-m", "analysis", "explain", "S0-037", "--scenario", str(sc_file)],
                         capture_output=True, text=True, cwd=REPO_ROOT, check=True).stdout
    price = next(line for line in out.splitlines() if P5_ON_DEMAND in line)
    assert "basis scenario" in price and price.rstrip().endswith("mine.yaml")
    util = next(line for line in out.splitlines() if "assumption.serving_utilisation" in line)
    assert "basis scenario [0.3, 0.9]" in util and util.rstrip().endswith("mine.yaml")
    out2 = subprocess.run([env_py, "-m", "analysis", "explain", "S0-037", "--set", f"{P5_ON_DEMAND}=40"],
                          capture_output=True, text=True, cwd=REPO_ROOT, check=True).stdout
    price2 = next(line for line in out2.splitlines() if P5_ON_DEMAND in line)
    assert "basis user" in price2 and price2.rstrip().endswith("--set")
    base = subprocess.run([env_py, "-m", "analysis", "explain", "S0-037"], capture_output=True, text=True,
                          cwd=REPO_ROOT, check=True).stdout
    assert "basis vendor_spec" in next(line for line in base.splitlines() if P5_ON_DEMAND in line)


def test_apply_labels_cells_and_rows_with_their_origin(tmp_path):
    ds, sc = _with([("hardware.trainium2.bf16_dense_tflops", "700"), ("workloads.llama-3.1-8b.params_total", "8.1e9"),
                    ("pue", "1.3")])
    row = ds.long_row("hardware", "trainium2", "bf16_dense_tflops")
    assert (row["basis"], row["source_id"]) == ("user", "--set")
    w = ds.workloads.set_index("model_id").loc["llama-3.1-8b"]
    assert (w.basis, w.source_id) == ("user", "--set") and w.params_total == 8.1e9
    assert (sc["pue"].basis, sc["pue"].origin) == ("user", "--set")
    assert load_scenario()["pue"].basis == "assumption"


# --- what-ifs keep the models calibrated on the published data -------------------------------------

def test_a_spec_what_if_keeps_the_fitted_efficiency():
    # twice the HBM bandwidth: the same fitted decode efficiency, so memory-bound decode gets faster
    # (not a refit that reads the published H100 measurements as half the efficiency)
    ds0, sc0 = _with()
    ds1, sc1 = _with([("hardware.h100-sxm.mem_bandwidth_gb_s", "6700")])
    a = decode_run(ds0, sc0, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    b = decode_run(ds1, sc1, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    assert a["bound"] == b["bound"] == "memory"
    assert b["decode_efficiency"] == a["decode_efficiency"]
    assert b["serving_parameters"] == a["serving_parameters"]
    assert a["tokens_per_s"] < b["tokens_per_s"] < 2 * a["tokens_per_s"]  # overheads do not scale
    assert b["ms_per_token"] < a["ms_per_token"]


def test_an_override_of_a_measurement_refits():
    ds0, _ = _with()
    hopper = ds0.measurements[(ds0.measurements.chip_id == "h100-sxm")
                              & (ds0.measurements.quantity == "decode_tokens_per_s")]
    mid = hopper.measurement_id.iloc[0]
    value = float(hopper.value.iloc[0])
    ds1, sc1 = _with([(f"measurements.{mid}.value", repr(value * 3))])
    a = decode_run(ds0, load_scenario(), "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    b = decode_run(ds1, sc1, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024)
    row = ds1.measurements.set_index("measurement_id").loc[mid]
    assert row.value == row.value_canonical == pytest.approx(value * 3)  # token/s: the canonical unit
    assert b["serving_parameters"] != a["serving_parameters"]
