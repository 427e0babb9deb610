"""The planner's what-ifs, one command each (issue 8): hand calculations for predict allreduce,
predict checkpoint and compare, and one-line refusals (exit 2) of impossible arguments."""
from __future__ import annotations

import json
import math

import pytest

from analysis import load_datasets, load_scenario
from analysis.cli import main
from analysis.whatif import allreduce_run, checkpoint_run, compare_training, training_run

S = 140e9  # a 70B gradient in BF16


def _json(capsys, argv):
    assert main(argv + ["--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# --- all-reduce ----------------------------------------------------------------------------------

def test_allreduce_inside_a_trn2_server_is_the_2d_torus_formula(capsys):
    r = _json(capsys, ["predict", "allreduce", "--system", "trn2.48xlarge", "--bytes", "140e9"])
    # 16 Trainium2 as a 4x4 torus: 2 sum(k_i - 1) = 12 latency steps, 2 (1 - 1/16) S / B bytes;
    # B = 1280 GB/s both directions / 2 = 640e9 B/s per direction, x network_efficiency 0.8; alpha 10 us
    hand = 12 * 10e-6 + 2 * (1 - 1 / 16) * S / (640e9 * 0.8)
    assert r["allreduce_s"] == pytest.approx(hand, rel=1e-12)
    assert r["chips"] == 16 and r["topology"] == "torus_2d"
    assert r["allreduce_s_low"] < r["allreduce_s"] < r["allreduce_s_high"]


def test_allreduce_across_p5_instances_adds_the_efa_ring(capsys):
    r = _json(capsys, ["predict", "allreduce", "--system", "p5.48xlarge", "--bytes", "140e9", "--systems", "16"])
    # inside: 8 H100 behind NVSwitch, halving-doubling: 2 ceil(log2 8) = 6 steps, 2 (7/8) S / B_in,
    # B_in = 900 / 2 GB/s x 0.8; across 16 instances: ring of each chip's S/8 shard, 2 x 15 steps,
    # 2 (15/16) (S/8) / B_out with B_out = 3200 Gbit/s / 8 / 8 chips = 50e9 B/s x 0.8
    intra = 6 * 10e-6 + 2 * (7 / 8) * S / (450e9 * 0.8)
    inter = 2 * 15 * 10e-6 + 2 * (15 / 16) * (S / 8) / (50e9 * 0.8)
    assert r["allreduce_s"] == pytest.approx(intra + inter, rel=1e-12)
    assert r["chips"] == 128


def test_allreduce_on_a_ring_system_and_its_scenario_dependence():
    ds, sc = load_datasets(), load_scenario()
    r = allreduce_run(ds, sc, "inf2.48xlarge", 1e9)
    # 12 Inferentia2 on a NeuronLink ring: 2 (p-1) alpha + 2 (p-1)/p n / B, B = 192 GiB/s / 2 x 0.8
    b = 192 * 2**30 / 2 * 0.8
    assert r["allreduce_s"] == pytest.approx(2 * 11 * 10e-6 + 2 * 11 / 12 * 1e9 / b, rel=1e-9)
    from analysis.overrides import apply_all
    ds2, sc2, _ = apply_all(ds, sc, [("network_efficiency", "0.4")])
    r2 = allreduce_run(ds2, sc2, "inf2.48xlarge", 1e9)
    assert r2["allreduce_s"] == pytest.approx(2 * 11 * 10e-6 + 2 * 11 / 12 * 1e9 / (b / 2), rel=1e-9)


# --- checkpoint ----------------------------------------------------------------------------------

def test_checkpoint_of_llama_70b_on_64_trn2_servers(capsys):
    r = _json(capsys, ["predict", "checkpoint", "--system", "trn2.48xlarge", "--systems", "64",
                       "--model", "llama-3.1-70b"])
    size = 70e9 * (2 + 4 + 8)              # BF16 weights + FP32 master + Adam moments
    write = size / 100e9                    # checkpoint_write_gb_s 100
    mtbf = 50_000 / 1024 * 3600             # chip MTBF / chips, in seconds
    young = math.sqrt(2 * write * mtbf)
    x = write / (2 * mtbf)
    daly = math.sqrt(2 * write * mtbf) * (1 + math.sqrt(x) / 3 + x / 9) - write
    assert r["checkpoint_bytes"] == pytest.approx(size)
    assert r["write_s"] == pytest.approx(write)
    assert r["job_mtbf_h"] == pytest.approx(mtbf / 3600)
    assert r["young_interval_min"] == pytest.approx(young / 60)
    assert r["daly_interval_min"] == pytest.approx(daly / 60)
    assert r["wasted_fraction"] == pytest.approx(math.sqrt(2 * write / mtbf) + 10 * 60 / mtbf)
    assert r["young_interval_min_low"] < r["young_interval_min"] < r["young_interval_min_high"]
    assert r["chips"] == 1024


def test_checkpoint_weights_only_and_params():
    r = checkpoint_run(load_datasets(), load_scenario(), "p5.48xlarge", params=8e9, contents="weights")
    assert r["checkpoint_bytes"] == pytest.approx(16e9) and r["write_s"] == pytest.approx(0.16)
    assert r["chips"] == 8


# --- training with your MFU --------------------------------------------------------------------------

def test_predict_training_interval_and_cost_by_hand(capsys):
    r = _json(capsys, ["predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "trainium2",
                       "--chips", "1024", "--set", "training_mfu=0.45"])
    hours = 6 * 70e9 * 2e12 / (3600 * 667e12 * 0.45)
    price = 35.7608 / 16  # trn2.48xlarge Capacity Block, per chip
    assert r["chip_hours"] == pytest.approx(hours, rel=1e-12)
    assert r["cost_usd"] == pytest.approx(hours * price, rel=1e-12)
    assert r["days"] == pytest.approx(hours / 1024 / 24, rel=1e-12)
    assert r["cost_usd_low"] < r["cost_usd"] < r["cost_usd_high"]
    assert r["interval_level"] == 0.9


# --- which chip is cheapest ------------------------------------------------------------------------

def test_compare_training_ranks_every_chip_or_says_why_not():
    ds, sc = load_datasets(), load_scenario()
    table, skipped = compare_training(ds, sc, 70e9, 2e12, 1024)
    assert list(table.cost_usd) == sorted(table.cost_usd)
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert set(table.chip_id) | set(skipped.chip_id) == set(ds.chips.chip_id)  # nothing dropped silently
    assert not set(table.chip_id) & set(skipped.chip_id)
    assert all(skipped.why.str.len() > 0)
    top = table.iloc[0]
    assert top.cost_usd == pytest.approx(training_run(ds, sc, 70e9, 2e12, top.chip_id, 1024)["cost_usd"])


def test_compare_decode_cli_ranks_by_usd_per_million_tokens(capsys):
    out = _json(capsys, ["compare", "decode", "--model", "llama-3.1-8b", "--chips", "1", "--batch", "32",
                         "--input", "1024", "--output", "1024"])
    costs = [r["usd_per_mtok"] for r in out["ranked"]]
    assert costs == sorted(costs) and len(costs) >= 5
    for r in out["ranked"]:
        assert r["usd_per_mtok_low"] <= r["usd_per_mtok"] <= r["usd_per_mtok_high"]
    ids = {r["chip_id"] for r in out["ranked"]} | {r["chip_id"] for r in out["skipped"]}
    assert ids == set(load_datasets().chips.chip_id)


def test_compare_moves_with_a_users_price(capsys):
    argv = ["compare", "training", "--params", "70e9", "--tokens", "2e12", "--chips", "1024"]
    base = {r["chip_id"]: r for r in _json(capsys, argv)["ranked"]}
    mine = {r["chip_id"]: r for r in _json(capsys, argv + ["--set",
                                                           "system_params.p5.48xlarge.usd_per_hour_on_demand=5.504"])["ranked"]}
    assert mine["h100-sxm"]["cost_usd"] == pytest.approx(base["h100-sxm"]["cost_usd"] / 10, rel=1e-12)
    assert mine["h100-sxm"]["price"] == "user: --set"


# --- impossible arguments: one line, exit 2 ----------------------------------------------------------

BAD = [
    (["predict", "allreduce", "--system", "trn2.48xlarg", "--bytes", "1e9"], "did you mean 'trn2.48xlarge'"),
    (["predict", "allreduce", "--system", "trn2.48xlarge", "--bytes", "-5"], "--bytes -5 must be greater than 0"),
    (["predict", "allreduce", "--system", "trn2.48xlarge", "--bytes", "lots"], "is not a number"),
    (["predict", "allreduce", "--system", "trn2.48xlarge", "--bytes", "1e9", "--systems", "0"], "--systems 0"),
    (["predict", "allreduce", "--system", "trn2.48xlarge", "--bytes", "1e9", "--systems", "2.5"], "not a whole number"),
    (["predict", "allreduce", "--system", "gcp-tpu-v5e-chip", "--bytes", "1e9", "--systems", "4"], "efa_gbit_s"),
    (["predict", "checkpoint", "--system", "trn2.48xlarge"], "give one of --params or --model"),
    (["predict", "checkpoint", "--system", "trn2.48xlarge", "--params", "7e10", "--model", "llama-3.1-70b"],
     "give one of --params or --model"),
    (["predict", "checkpoint", "--system", "trn2.48xlarge", "--model", "llama-70b"], "did you mean"),
    (["predict", "checkpoint", "--system", "trn2.48xlarge", "--params", "0"], "must be greater than 0"),
    (["predict", "training", "--params", "7e10", "--tokens", "2e12", "--chip", "trainium2", "--set", "training_mfu"],
     "has no '='"),
    (["predict", "training", "--params", "7e10", "--tokens", "2e12", "--chip", "trainium2", "--set", "trainig_mfu=0.5"],
     "did you mean 'training_mfu'"),
    (["predict", "training", "--params", "7e10", "--tokens", "2e12", "--chip", "trainium2", "--set",
      "training_mfu=1.5"], "impossible for a fraction"),
    (["predict", "decode", "--model", "llama-3.1-8b", "--chip", "h100-sxm", "--set",
      "system_params.p5.48xlarge.usd_per_hour_on_demond=3"], "did you mean"),
    (["predict", "decode", "--model", "llama-3.1-8b", "--chip", "h100-sxm", "--set",
      "decode_bandwidth_efficiency=1.2"], "impossible for a fraction"),
    (["compare", "decode", "--chips", "1"], "compare decode needs --model"),
    (["compare", "training", "--params", "7e10"], "compare training needs --tokens and one of --params or --model"),
    (["compare", "training", "--params", "7e10", "--model", "llama-3.1-70b", "--tokens", "2e12"],
     "one of --params or --model"),
    (["predict", "allreduce", "--system", "trn2.48xlarge", "--bytes", "inf"], "--bytes inf is not a finite number"),
    (["predict", "checkpoint", "--system", "trn2.48xlarge", "--params", "nan"], "--params nan is not a finite number"),
    (["compare", "decode", "--model", "llama-3.1-8b", "--chips", "0"], "--chips 0 must be greater than 0"),
    (["compare", "decode", "--model", "nope-7b", "--chips", "1"], "unknown"),
]


@pytest.mark.parametrize("argv,expected", BAD, ids=[" ".join(a[:2] + a[-2:]) for a, _ in BAD])
def test_impossible_arguments_are_refused_in_one_line(capsys, argv, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert err.count("\n") == 1 and "Traceback" not in err



def test_compare_training_takes_a_model(capsys):
    by_model = _json(capsys, ["compare", "training", "--model", "llama-3.1-70b", "--tokens", "2e12", "--chips", "1024"])
    by_params = _json(capsys, ["compare", "training", "--params", "70e9", "--tokens", "2e12", "--chips", "1024"])
    assert by_model == by_params  # Llama 3.1 70B: 70e9 active parameters in data/workloads.csv
