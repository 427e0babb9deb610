"""`python -m analysis predict ...`, `fit` and `bench`: numbers against hand calculations, errors as one line."""
import contextlib
import csv
import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from analysis.cli import main
from analysis.fits import write_results
from analysis.paths import DATA_DIR, REPO


def run(*args):
    """Run the command line in-process (data loads once per session); returns rc, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            rc = exc.code
    return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())


def test_module_entry_point_runs():
    r = subprocess.run([sys.executable, "-m", "analysis", "predict", "decode", "--model", "llama-2-7b",
                        "--chip", "inferentia2", "--format", "json"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["tokens_per_s"] > 0


def _system_price(system_id, metric="usd_per_hour_on_demand"):
    with open(DATA_DIR / "system_params.csv", encoding="utf-8") as f:
        rows = {(r["system_id"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}
    return rows[(system_id, metric)], rows[(system_id, "chips")]


def test_predict_training_matches_hand_calculation():
    r = run("predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "a100-sxm-80gb",
            "--chips", "2048", "--mfu", "0.4", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"chip_hours", "days", "cost_usd", "mfu"} <= set(out)
    # 6 * 70e9 * 2e12 = 8.4e23 FLOP; A100 dense BF16 312 TFLOPS at 40% MFU
    chip_hours = 8.4e23 / (312e12 * 0.4) / 3600          # = 1,869,658 chip-hours
    assert out["chip_hours"] == pytest.approx(chip_hours, rel=1e-9)
    assert out["days"] == pytest.approx(chip_hours / 2048 / 24, rel=1e-9)  # 38.04 days
    price, chips = _system_price("p4de.24xlarge")        # 8x A100 80GB, on-demand
    assert out["cost_usd"] == pytest.approx(chip_hours * price / chips, rel=1e-9)
    assert out["mfu"] == 0.4


def test_predict_training_json_has_90pct_intervals():
    r = run("predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "h100-sxm", "--chips", "2048",
            "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for k in ("chip_hours", "days", "cost_usd"):
        assert out[f"{k}_low"] < out[k] < out[f"{k}_high"], k
    # days = chip-hours / 2048 chips / 24 h, bounds included
    assert out["days_high"] == pytest.approx(out["chip_hours_high"] / 2048 / 24, rel=1e-9)
    assert out["interval_level"] == 0.9


def test_validate_prints_model_beside_naive_and_writes_csv(tmp_path):
    r = run("validate", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "median |error|" in r.stdout and "naive 6ND/(peak x 0.4)" in r.stdout and "90% interval" in r.stdout
    v = pd.read_csv(tmp_path / "validation_training.csv")
    assert {"measured_chip_hours", "predicted_chip_hours", "low_chip_hours", "high_chip_hours", "naive_chip_hours",
            "log_residual", "naive_log_residual"} <= set(v.columns)
    assert " s" not in r.stdout.split("wrote")[0][-3:]  # nothing timed in the output
    # the serving section: the same three figures beside the 100%-efficiency roofline, from the same table
    assert "serving throughput: leave-one-out" in r.stdout and "naive roofline at 100%" in r.stdout
    sv = pd.read_csv(tmp_path / "validation_serving.csv")
    line = next(x for x in r.stdout.splitlines() if x.strip().startswith("median |error|") and "%" in x
                and r.stdout.index(x) > r.stdout.index("serving throughput"))
    model_pct, naive_pct = (float(t.rstrip("%")) for t in line.split()[-2:])
    assert model_pct == pytest.approx(sv.pct_error.abs().median(), abs=0.05)
    assert naive_pct == pytest.approx(sv.naive_pct_error.abs().median(), abs=0.05)
    assert model_pct < naive_pct
    inside = next(x for x in r.stdout.splitlines()[::-1] if "inside its 90% interval" in x)
    assert f"{int(sv.in_interval.sum())}/{len(sv)}" in inside


def test_predict_training_uses_fitted_mfu_when_not_given():
    out = json.loads(run("predict", "training", "--params", "7e9", "--tokens", "1e12", "--chip", "h100-sxm",
                         "--format", "json").stdout)
    assert 0.1 < out["mfu"] < 0.7 and out["mfu_source"].startswith("fitted")


def test_predict_decode_keys_and_internal_arithmetic():
    r = run("predict", "decode", "--model", "llama-2-70b", "--chip", "h100-sxm", "--chips", "8", "--batch", "64",
            "--input", "1024", "--output", "1024", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"tokens_per_s", "ms_per_token", "ttft_ms", "usd_per_million_tokens", "tokens_per_s_low",
            "tokens_per_s_high", "ms_per_token_low", "ttft_ms_high", "j_per_token_low"} <= set(out)
    # 64 sequences emit 1024 tokens each: the first after the prefill, then one per step
    assert out["tokens_per_s"] == pytest.approx(64 * 1024 / (out["ttft_ms"] / 1e3 + 1023 * out["ms_per_token"] / 1e3),
                                                rel=1e-9)
    # memory-bound step: 140 GB of BF16 weights + 64 x 1536 x 327,680 B of KV over 8 x 3,350 GB/s at the fitted
    # decode efficiency, plus the all-reduces and the per-step and per-sequence overheads
    step_bytes = 70e9 * 2 + 64 * 1536 * 327_680
    mem_ms = step_bytes / (8 * 3350e9 * out["decode_efficiency"]) * 1e3
    assert out["ms_per_token"] == pytest.approx(mem_ms + out["comm_ms_per_token"] + out["overhead_ms_per_token"],
                                                rel=1e-6)
    price, chips = _system_price("p5.48xlarge")
    util = 0.60  # baseline serving_utilisation
    assert out["usd_per_million_tokens"] == pytest.approx(price / chips * 8 / (3600 * out["tokens_per_s"] * util) * 1e6,
                                                          rel=1e-9)
    assert out["tokens_per_s_low"] < out["tokens_per_s"] < out["tokens_per_s_high"]


@pytest.mark.parametrize("chip, precision", [("h100-sxm", "fp8"), ("h200-sxm", "fp8"), ("b200", "fp4"),
                                             ("trainium2", "bf16")])
def test_predict_decode_batch_max_70b_on_two_chips(chip, precision):
    r = run("predict", "decode", "--model", "llama-3.1-70b", "--chip", chip, "--chips", "2", "--precision", precision,
            "--batch", "max", "--input", "1000", "--output", "1000", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["batch_rule"] == "max" and out["batch"] >= 1 and out["precision"] == precision
    for k in ("tokens_per_s", "ms_per_token", "ttft_ms", "j_per_token"):
        assert out[f"{k}_low"] < out[k] < out[f"{k}_high"], k
    if out["usd_per_million_tokens"] is not None:
        assert out["usd_per_million_tokens_low"] < out["usd_per_million_tokens"] < out["usd_per_million_tokens_high"]


def test_predict_decode_batch_max_refusals_are_one_line():
    # BF16 70B does not fit on 2 Inferentia2 (2 x 32 GiB), whatever the batch
    r = run("predict", "decode", "--model", "llama-3.1-70b", "--chip", "inferentia2", "--chips", "2", "--batch", "max",
            "--input", "1000", "--output", "1000", "--format", "json")
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.strip().splitlines()) == 1
    assert "leave no memory" in r.stderr and "--chips" in r.stderr
    # a precision the chip lacks: one line naming the ones it has
    r = run("predict", "decode", "--model", "llama-3.1-70b", "--chip", "h100-sxm", "--chips", "2", "--precision",
            "fp4", "--batch", "max", "--format", "json")
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no FP4 peak" in lines[0] and "--precision bf16 or fp8" in lines[0]


@pytest.mark.parametrize("args, needle", [
    (["predict", "decode", "--model", "llama-2-70b", "--chip", "trainium9", "--chips", "8"], "'trainium2'"),
    (["predict", "decode", "--model", "llama-2-71b", "--chip", "h100-sxm", "--chips", "8"], "'llama-2-70b'"),
    (["predict", "decode", "--model", "llama-2-70b", "--chip", "h100-sxm", "--chips", "0"], "greater than 0"),
    (["predict", "decode", "--model", "llama-3.1-405b", "--chip", "h100-sxm", "--chips", "1"], "or more"),
    (["predict", "training", "--params", "70e9", "--tokens=-2e12", "--chip", "h100-sxm"], "greater than 0"),
    (["predict", "training", "--params", "lots", "--tokens", "2e12", "--chip", "h100-sxm"], "not a number"),
    (["predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "h100"], "'h100-sxm'"),
    (["predict", "training", "--params", "70e9", "--tokens", "2e12", "--chip", "h100-sxm", "--chips", "0"],
     "greater than 0"),
    (["validate", "--bogus"], "unrecognized arguments"),
])
def test_bad_arguments_are_one_line_exit_2(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], r.stderr


def test_committed_results_are_current(tmp_path):
    """Like nbval for notebooks: results/ must equal a fresh fit (run `python -m analysis fit`)."""
    for path in write_results(tmp_path):
        committed = REPO / "results" / path.name
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"results/{path.name} is stale: run `python -m analysis fit`")


def test_results_table_has_cis_and_borrowing():
    df = pd.read_csv(REPO / "results" / "fitted_parameters.csv")
    assert set(df.family) == {"roofline", "training", "market"}
    fitted = df[df.ci_low.notna()]
    assert (fitted.ci_low <= fitted.value + 1e-12).all() and (fitted.value <= fitted.ci_high + 1e-12).all()


def test_fit_prints_loo_and_bench_meets_target():
    r = run("fit", "--out", str(REPO / "results"))
    assert r.returncode == 0 and "loo_training" in r.stdout and "median |error|" in r.stdout
    b = run("bench", "--draws", "10000")
    assert b.returncode == 0, b.stderr
    assert "total (all families, 10,000 draws each)" in b.stdout
