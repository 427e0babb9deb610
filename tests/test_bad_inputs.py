"""The bad-input battery (issue 8/4): every mistake a user can make in a data file, a scenario file,
``--set``, a command-line argument or the file system ends as exit code 2, no traceback, and one
line naming the file and, where there is one, the line and field. Plus the valid edge cases: a CSV
saved by Excel or on Windows (UTF-8 byte-order mark, CRLF line ends) is the same table, a price
per chip-hour is multiplied by the system's chip count, and a chip added by rows alone works.

Every case runs the real command line (``analysis.cli.main``) with its output captured; data
cases run on an edited copy of ``data/`` named by ``$STUDY_DATA_DIR``.
"""
from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.paths import DATA_DIR, REPO

from conftest import edit_cell, read_rows, write_rows


def run(*args) -> subprocess.CompletedProcess:
    """The command line in-process; (rc, stdout, stderr). argparse usage errors exit via SystemExit."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as exc:
            rc = exc.code
    return subprocess.CompletedProcess(args, rc, out.getvalue(), err.getvalue())


def assert_refused(r: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, no traceback, nothing on stdout, exactly one line on stderr containing every needle."""
    text = r.stdout + r.stderr
    assert r.returncode == 2, text
    assert "Traceback" not in text, text
    assert r.stdout == "", r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], f"{n!r} not in: {lines[0]}"
    return lines[0]


# ---------------------------------------------------------------------------------------------
# data files: each case edits a copy of data/ and runs `data check` on it

def _cell(file, key_col, key, fld, value):
    """Edit one cell; the needles get the edited line number."""
    def mutate(d: Path):
        line = edit_cell(d / file, key_col, key, fld, value)
        return [f"{file}, line {line}", f"field '{fld}'"]
    return mutate


def _text(file, transform, *needles):
    def mutate(d: Path):
        p = d / file
        p.write_bytes(transform(p.read_bytes()))
        return [file, *needles]
    return mutate


def _latin1(d: Path):
    line = edit_cell(d / "chips.csv", "chip_id", "trainium2", "name", "Trainium2 (édition spéciale)")
    p = d / "chips.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("latin-1"))
    return [f"chips.csv, line {line}", "not UTF-8", "latin-1", "expected UTF-8"]


def _delimited(sep, word):
    def mutate(d: Path):
        header, rows = read_rows(d / "hardware.csv")
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=header, delimiter=sep, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        (d / "hardware.csv").write_text(buf.getvalue(), encoding="utf-8")
        return ["hardware.csv, line 1", f"separated by {word}", "comma-separated", "header chip_id,metric,value"]
    return mutate


def _drop_column(file, col):
    def mutate(d: Path):
        header, rows = read_rows(d / file)
        header.remove(col)
        write_rows(d / file, header, [{k: v for k, v in r.items() if k != col} for r in rows])
        return [f"{file}, line 1", f"missing column(s) '{col}'", "expected header"]
    return mutate


def _rename_column(file, col, new):
    def mutate(d: Path):
        header, rows = read_rows(d / file)
        header = [new if h == col else h for h in header]
        write_rows(d / file, header, [{(new if k == col else k): v for k, v in r.items()} for r in rows])
        return [f"{file}, line 1", f"column '{new}' is not in the schema", f"did you mean '{col}'", "expected header"]
    return mutate


def _header_only(d: Path):
    p = d / "timeline.csv"
    p.write_text(p.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")
    return ["timeline.csv, line 2", "the table has no rows"]


def _delete(file):
    def mutate(d: Path):
        (d / file).unlink()
        return [file, "file not found"]
    return mutate


def _per_chip_without_count(d: Path):
    header, rows = read_rows(d / "system_params.csv")
    rows = [r for r in rows if not (r["system_id"] == "p5.48xlarge" and r["metric"] == "chips")]
    write_rows(d / "system_params.csv", header, rows)
    line = edit_cell(d / "system_params.csv", "system_id", "p5.48xlarge", "unit", "USD/chip/hour")
    return [f"system_params.csv, line {line}", "field 'unit'", "per chip", "without a 'chips' row"]


def _measurement_above_peak(d: Path):
    line = edit_cell(d / "measurements.csv", "measurement_id", "h100-gemm-bf16-mamf", "value", "1200")
    return [f"measurements.csv, line {line}", "field 'value'", "exceeds h100-sxm's peak bf16_dense_tflops 989.5"]


def _unknown_chip_in(file, key_col, key):
    def mutate(d: Path):
        line = edit_cell(d / file, key_col, key, "chip_id", "my-new-chip")
        return [f"{file}, line {line}", "field 'chip_id'", "'my-new-chip' is not declared in", "chips.csv",
                "Add your own chip"]
    return mutate


def _bad_json(d: Path):
    p = d / "datapackage.json"
    p.write_text(p.read_text(encoding="utf-8").replace('"resources": [', '"resources": [,', 1), encoding="utf-8")
    return ["datapackage.json", "malformed JSON", "line "]


def _invalid_descriptor(d: Path):
    import json

    p = d / "datapackage.json"
    desc = json.loads(p.read_text(encoding="utf-8"))
    desc["resources"][3]["schema"]["fields"][0].setdefault("constraints", {})["minimum"] = "x"
    p.write_text(json.dumps(desc, indent=2), encoding="utf-8")
    return ["datapackage.json", "not a valid data package"]


def _resource_without_schema(d: Path):
    import json

    p = d / "datapackage.json"
    desc = json.loads(p.read_text(encoding="utf-8"))
    del desc["resources"][4]["schema"]
    p.write_text(json.dumps(desc, indent=2), encoding="utf-8")
    return ["datapackage.json", "resource 5 (hardware) lacks", "schema"]


DATA_CASES = {
    "number-not-a-number": _cell("hardware.csv", "metric", "bf16_dense_tflops", "value", "abc"),
    "number-inf": _cell("hardware.csv", "metric", "tdp_w", "value", "inf"),
    "number-overflow-1e999": _cell("hardware.csv", "metric", "mem_bandwidth_gb_s", "value", "1e999"),
    "number-nan": _cell("system_params.csv", "metric", "usd_per_hour_on_demand", "value", "nan"),
    "market-inf-where-minimum-0": _cell("market.csv", "series_id", "aws-revenue", "value", "Infinity"),
    "negative-price": _cell("system_params.csv", "metric", "usd_per_hour_on_demand", "value", "-3"),
    "mfu-as-percent": _cell("training_runs.csv", "run_id", "llama-3.1-405b-paper", "reported_mfu", "41"),
    "whole-number-field": _cell("workloads.csv", "model_id", "llama-2-7b", "n_layers", "32.5"),
    "unknown-unit": _cell("hardware.csv", "metric", "mem_bandwidth_gb_s", "unit", "GBps"),
    "unit-of-wrong-dimension": _cell("system_params.csv", "metric", "usd_per_hour_on_demand", "unit", "USD"),
    "per-chip-price-without-chip-count": _per_chip_without_count,
    "measurement-above-peak": _measurement_above_peak,
    "unknown-chip-in-systems": _unknown_chip_in("systems.csv", "system_id", "p5.48xlarge"),
    "unknown-chip-in-measurements": _unknown_chip_in("measurements.csv", "measurement_id", "h100-gemm-bf16-mamf"),
    "unknown-chip-in-training-runs": _unknown_chip_in("training_runs.csv", "run_id", "llama-3.1-405b-paper"),
    "more-kv-heads-than-heads": _cell("workloads.csv", "model_id", "generic-70b", "n_kv_heads", "128"),
    "more-experts-per-token-than-experts": _cell("workloads.csv", "model_id", "mixtral-8x7b", "experts_per_token", "9"),
    "impossible-date": _cell("timeline.csv", "event_id", "trn1-ga", "date", "2022-02-30"),
    "latin-1-file": _latin1,
    "semicolon-separated": _delimited(";", "semicolons"),
    "tab-separated": _delimited("\t", "tabs"),
    "missing-column": _drop_column("chips.csv", "note"),
    "renamed-column": _rename_column("systems.csv", "chip_id", "chip"),
    "empty-file": _text("workloads.csv", lambda b: b"", "line 1", "the file is empty", "expected header model_id,"),
    "header-only-table": _header_only,
    "missing-data-file": _delete("facts.csv"),
    "carriage-return-inside-a-line": _text("chips.csv", lambda b: b.replace(b"Trainium2,", b"Train\rium2,", 1),
                                           "carriage return inside a line", "line "),
    "malformed-datapackage-json": _bad_json,
    "invalid-datapackage-constraint": _invalid_descriptor,
    "datapackage-resource-without-schema": _resource_without_schema,
}


@pytest.fixture
def data_env(data_copy, monkeypatch):
    """A copy of data/ that every command of the test reads ($STUDY_DATA_DIR)."""
    monkeypatch.setenv("STUDY_DATA_DIR", str(data_copy))
    return data_copy


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_file(case, data_env):
    needles = DATA_CASES[case](data_env)
    assert_refused(run("data", "check"), *needles)


def test_the_edited_cells_exist():
    """The battery's row keys are real rows (a renamed row must not turn a case into a no-op)."""
    from analysis import load_datasets

    ds = load_datasets(DATA_DIR)
    assert "aws-revenue" in set(ds.market.series_id) and "llama-3.1-405b-paper" in set(ds.training_runs.run_id)
    assert "trn1-ga" in set(ds.timeline.event_id) and "h100-gemm-bf16-mamf" in set(ds.measurements.measurement_id)
    assert "Trainium2," in (DATA_DIR / "chips.csv").read_text(encoding="utf-8")


def test_a_bad_file_blames_only_itself(data_env):
    """A semicolon file is one problem: not one per row, not a foreign-key error in every table."""
    _delimited(";", "semicolons")(data_env)
    r = run("data", "check")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "hardware.csv" in r.stderr


# rebuild specs are read from $STUDY_DATA_DIR/rebuilds when the process starts: run as a subprocess
REBUILD_CASES = {
    "rebuild-malformed-yaml": (lambda t: t.replace("\n  reading:", "\n  reading: [", 1), ["S1.yaml", "malformed YAML"]),
    "rebuild-unknown-field": (lambda t: t.replace("\n  reading:", "\n  readin: x\n  reading:", 1),
                              ["S1.yaml", "unknown field 'readin'"]),
    "rebuild-expression-does-not-parse": (lambda t: t.replace("expr: ", "expr: 1 +* ", 1),
                                          ["S1.yaml", "expression does not parse"]),
}


@pytest.mark.parametrize("case", sorted(REBUILD_CASES))
def test_bad_rebuild_spec_is_caught_by_data_check(case, data_copy):
    edit, needles = REBUILD_CASES[case]
    p = data_copy / "rebuilds" / "S1.yaml"
    p.write_text(edit(p.read_text(encoding="utf-8")), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "analysis", "data", "check"], capture_output=True, text=True,
                       cwd=REPO, env={**os.environ, "STUDY_DATA_DIR": str(data_copy)})
    assert_refused(r, *needles)


# ---------------------------------------------------------------------------------------------
# scenario files: `data check --scenario F` (and every command that takes --scenario reads it the same way)

SCENARIO_CASES = {
    "pue-below-1": ("assumptions:\n  pue: 0.9\n", ["line 3 (pue)", "field 'value'", "pue >= 1"]),
    "mfu-as-percent": ("assumptions:\n  training_mfu: 50\n", ["line 3 (training_mfu)", "not a percent", "0.5"]),
    "efficiency-above-1": ("assumptions:\n  decode_bandwidth_efficiency: 1.3\n",
                           ["line 3 (decode_bandwidth_efficiency)", "<= 1"]),
    "low-above-high": ("assumptions:\n  training_mfu: {value: 0.4, low: 0.5, high: 0.3}\n",
                       ["line 3 (training_mfu)", "field 'low'", "low <= high"]),
    "value-outside-own-range": ("assumptions:\n  training_mfu: {value: 0.6, low: 0.3, high: 0.5}\n",
                                ["line 3 (training_mfu)", "outside its range", "low <= value <= high"]),
    "high-above-physical-limit": ("assumptions:\n  serving_utilisation: {value: 0.6, low: 0.3, high: 1.5}\n",
                                  ["line 3 (serving_utilisation)", "field 'high'"]),
    "inf": ("assumptions:\n  chip_mtbf_hours: .inf\n", ["line 3 (chip_mtbf_hours)", "not a finite number"]),
    "nan": ("assumptions:\n  pue: .nan\n", ["line 3 (pue)", "not a finite number"]),
    "overflow": ("assumptions:\n  checkpoint_write_gb_s: 1.0e+999\n", ["line 3 (checkpoint_write_gb_s)", "finite"]),
    "negative-price": ("assumptions:\n  electricity_usd_per_kwh: -0.05\n",
                       ["line 3 (electricity_usd_per_kwh)", "cannot be negative"]),
    "discount-above-1": ("assumptions:\n  committed_discount: 1.5\n", ["line 3 (committed_discount)", "<= 1"]),
    "zero-mtbf": ("assumptions:\n  chip_mtbf_hours: 0\n", ["line 3 (chip_mtbf_hours)", "> 0"]),
    "not-a-number": ("assumptions:\n  pue: high\n", ["line 3 (pue)", "'high' is not a number"]),
    "unknown-assumption": ("assumptions:\n  training_mfuu: 0.5\n", ["line 3 (training_mfuu)", "'training_mfu'"]),
    "unknown-top-level-key": ("asumptions: {}\n", ["line 2", "unknown top-level key", "'assumptions'"]),
    "malformed-yaml": ("assumptions:\n  pue: [1.2\n  training_mfu: 0.3\n", ["malformed YAML", "line "]),
    "wrong-unit": ("assumptions:\n  restart_minutes: {value: 5, unit: GB}\n",
                   ["line 3 (restart_minutes)", "field 'unit'", "convertible to minute"]),
    "data-not-a-mapping": ("data: [1, 2]\n", ["line 2", "'data' is not a mapping"]),
    "data-unknown-table": ("data:\n  hardwar.h100-sxm.bf16_dense_tflops: 900\n", ["line 3", "'hardware'"]),
    "data-unknown-row": ("data:\n  hardware.h100-sx.bf16_dense_tflops: 900\n", ["line 3", "'h100-sxm'"]),
    "data-unknown-field": ("data:\n  hardware.h100-sxm.bf16_dense_tflop: 900\n", ["line 3", "'bf16_dense_tflops'"]),
    "data-not-a-number": ("data:\n  system_params.p5.48xlarge.usd_per_hour_on_demand: cheap\n",
                          ["line 3", "'cheap' is not a number"]),
    "data-inf": ("data:\n  system_params.p5.48xlarge.usd_per_hour_on_demand: .inf\n", ["line 3", "finite"]),
    "data-negative": ("data:\n  system_params.p5.48xlarge.usd_per_hour_on_demand: -10\n", ["line 3", "greater than 0"]),
    "data-wide-cell-below-minimum": ("data:\n  workloads.llama-2-7b.n_heads: 0\n", ["line 3", "below the minimum 1"]),
    "data-peak-below-measurement": ("data:\n  hardware.h100-sxm.bf16_dense_tflops: 100\n",
                                    ["line 3", "inconsistent", "measurements.csv, line", "exceeds h100-sxm's peak"]),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_file(case, tmp_path):
    body, needles = SCENARIO_CASES[case]
    p = tmp_path / "my.yaml"
    p.write_text("name: mine\n" + body, encoding="utf-8")
    assert_refused(run("data", "check", "--scenario", p), "my.yaml", *needles)


def test_book_refuses_a_bad_scenario_data_cell_before_building(tmp_path):
    # the book executes nothing when a scenario's data: cell names no metric (line 5 of the file)
    p = tmp_path / "my.yaml"
    p.write_text("name: mine\ndescription: x\nassumptions: {}\ndata:\n  hardware.trainium2.bf16_dense_tflop: 800\n",
                 encoding="utf-8")
    assert_refused(run("book", "--scenario", p), "my.yaml, line 5", "no metric 'bf16_dense_tflop'", "bf16_dense_tflops")


def test_scenario_file_in_latin1(tmp_path):
    p = tmp_path / "my.yaml"
    p.write_bytes("name: mine\ndescription: électricité\n".encode("latin-1"))
    assert_refused(run("data", "check", "--scenario", p), "my.yaml", "not UTF-8")


def test_scenario_file_missing_or_a_folder(tmp_path):
    assert_refused(run("data", "check", "--scenario", tmp_path / "none.yaml"), "none.yaml", "not found")
    assert_refused(run("ledger", "--scenario", tmp_path, "--only", "S0-001"), str(tmp_path.name), "folder")


def test_yaml_number_without_a_dot_is_read_as_a_number(tmp_path):
    """YAML 1.1 reads 1e5 as text; a scenario means the number."""
    from analysis import load_scenario

    p = tmp_path / "s.yaml"
    p.write_text("name: s\nassumptions:\n  chip_mtbf_hours: 1e5\n", encoding="utf-8")
    assert load_scenario(p).value("chip_mtbf_hours") == 100000.0


# ---------------------------------------------------------------------------------------------
# --set NAME=VALUE (ledger, explain)

SET_CASES = {
    "no-equals": ("pue", ["'pue' has no '='"]),
    "unknown-assumption": ("pue_value=1.2", ["unknown assumption 'pue_value'", "'pue'"]),
    "pue-below-1": ("pue=0.95", ["pue=0.95", "pue >= 1"]),
    "mfu-as-percent": ("training_mfu=45", ["training_mfu=45", "not a percent", "0.45"]),
    "efficiency-zero": ("network_efficiency=0", ["network_efficiency=0", "0 < network_efficiency <= 1"]),
    "assumption-nan": ("training_mfu=nan", ["not a finite number"]),
    "cell-not-a-number": ("hardware.h100-sxm.bf16_dense_tflops=abc", ["'abc' is not a number"]),
    "cell-inf": ("hardware.h100-sxm.bf16_dense_tflops=inf", ["not a finite number"]),
    "cell-overflow": ("system_params.p5.48xlarge.usd_per_hour_on_demand=1e999", ["not a finite number"]),
    "cell-negative": ("system_params.p5.48xlarge.usd_per_hour_on_demand=-5", ["greater than 0"]),
    "cell-unit-of-wrong-dimension": ("system_params.p5.48xlarge.usd_per_hour_on_demand=6.88 USD",
                                     ["6.88 USD", "not that of 'USD/hour'"]),
    "unknown-table": ("hardwre.h100-sxm.tdp_w=700", ["unknown table 'hardwre'", "'hardware'"]),
    "unknown-row": ("hardware.h100.tdp_w=700", ["unknown chip_id 'h100'", "'h100-sxm'"]),
    "unknown-metric": ("hardware.h100-sxm.tdp=700", ["no metric 'tdp'", "'tdp_w'"]),
    "not-table-row-field": ("hardware.tdp_w=700", ["not table.row.field"]),
    "wide-not-whole": ("workloads.llama-2-7b.n_layers=2.5", ["not a whole number", "workloads.n_layers"]),
    "wide-not-in-enum": ("workloads.llama-2-7b.arch=rnn", ["'rnn' is not one of dense, moe"]),
    "wide-key-field": ("workloads.llama-2-7b.model_id=x", ["row's key and cannot be set"]),
    "wide-inconsistent": ("workloads.llama-2-7b.params_active=1e12", ["inconsistent", "workloads.csv, line",
                                                                       "field 'params_active'"]),
    "peak-below-measurement": ("hardware.h100-sxm.bf16_dense_tflops=100", ["inconsistent", "exceeds h100-sxm's peak"]),
}


@pytest.mark.parametrize("case", sorted(SET_CASES))
def test_bad_set(case):
    item, needles = SET_CASES[case]
    assert_refused(run("ledger", "--only", "S0-001", "--draws", "10", "--set", item), "--set", *needles)


def test_bad_set_on_explain():
    assert_refused(run("explain", "S0-001", "--set", "pue=0.5"), "--set", "pue >= 1")


# ---------------------------------------------------------------------------------------------
# command-line arguments

TRAIN = ["predict", "training", "--params", "7e9", "--tokens", "1e12", "--chip", "h100-sxm"]
DECODE = ["predict", "decode", "--model", "llama-2-7b", "--chip", "h100-sxm"]
ARG_CASES = {
    "params-inf": (["predict", "training", "--params", "inf", "--tokens", "1e12", "--chip", "h100-sxm"],
                   ["--params inf", "finite"]),
    "tokens-nan": (["predict", "training", "--params", "7e9", "--tokens", "nan", "--chip", "h100-sxm"],
                   ["--tokens nan", "finite"]),
    "params-overflow": (["predict", "training", "--params", "1e999", "--tokens", "1e12", "--chip", "h100-sxm"],
                        ["--params 1e999", "finite"]),
    "mfu-as-percent": (TRAIN + ["--mfu", "50"], ["--mfu 50", "not a fraction", "0 < mfu <= 1"]),
    "mfu-zero": (TRAIN + ["--mfu", "0"], ["--mfu 0", "greater than 0"]),
    "chips-fraction": (TRAIN + ["--chips", "2.5"], ["--chips 2.5", "whole number"]),
    "unknown-chip": (["predict", "training", "--params", "7e9", "--tokens", "1e12", "--chip", "h100"],
                     ["unknown chip 'h100'", "'h100-sxm'", "declared in data/chips.csv"]),
    "tensor-parallel-beyond-heads": (DECODE + ["--chips", "64"], ["--chips", "32 attention heads", "32 or fewer"]),
    "prompt-beyond-context": (DECODE + ["--input", "4000", "--output", "200"],
                              ["--input", "context length of 4096", "data/workloads.csv"]),
    "batch-negative": (DECODE + ["--batch", "-1"], ["--batch"]),
    "batch-text": (DECODE + ["--batch", "many"], ["--batch 'many' is not a number"]),
    "unknown-model": (["predict", "decode", "--model", "llama-9", "--chip", "h100-sxm"], ["workloads.csv",
                                                                                         "unknown model 'llama-9'"]),
    "precision-choice": (DECODE + ["--precision", "fp16"], ["invalid choice: 'fp16'"]),
    "ledger-draws-zero": (["ledger", "--only", "S0-001", "--draws", "0"], ["--draws 0", "greater than 0"]),
    "ledger-draws-text": (["ledger", "--draws", "lots"], ["--draws 'lots' is not a number"]),
    "ledger-format": (["ledger", "--format", "xml"], ["invalid choice: 'xml'"]),
    "ledger-only-matches-nothing": (["ledger", "--only", "S9", "--draws", "10"], ["--only S9", "no claim id"]),
    "ledger-diff-from-missing": (["ledger", "--only", "S0-001", "--draws", "10", "--diff-from", "nope.csv"],
                                 ["nope.csv", "no such file"]),
    "explain-unknown-claim": (["explain", "S9-999"], ["S9-999"]),
    "bench-draws-negative": (["bench", "--draws", "-5"], ["--draws -5", "greater than 0"]),
    "unknown-command": (["ledgr"], ["invalid choice: 'ledgr'"]),
}


@pytest.mark.parametrize("case", sorted(ARG_CASES))
def test_bad_argument(case):
    args, needles = ARG_CASES[case]
    assert_refused(run(*args), *needles)


# ---------------------------------------------------------------------------------------------
# the file system

def test_output_into_a_missing_folder(tmp_path):
    assert_refused(run("ledger", "--only", "S0-001", "--draws", "10", "--output", tmp_path / "no" / "l.csv"),
                   "--output", "does not exist", "mkdir")


def test_output_naming_a_folder(tmp_path):
    assert_refused(run("ledger", "--only", "S0-001", "--draws", "10", "--output", tmp_path), "--output", "is a folder")


@pytest.mark.parametrize("command", ["figures", "fit", "validate"])
def test_out_naming_a_file(command, tmp_path):
    f = tmp_path / "afile.txt"
    f.write_text("x", encoding="utf-8")
    assert_refused(run(command, "--out", f), "--out", "is a file", "expected a folder")


def test_read_only_results_folder(tmp_path, monkeypatch):
    """Writing into a folder the user may not write: one line naming the file. Root ignores file
    modes, so as root the write is made to fail as the kernel would fail it for another user."""
    ro = tmp_path / "results"
    ro.mkdir()
    target = ro / "ledger.csv"
    if os.geteuid() == 0:
        def denied(self, *a, **k):
            raise PermissionError(13, "Permission denied", str(self))
        monkeypatch.setattr(Path, "write_text", denied)
    else:
        ro.chmod(0o500)
    try:
        assert_refused(run("ledger", "--only", "S0-001", "--draws", "10", "--output", target),
                       "ledger.csv", "Permission denied", "permissions")
    finally:
        ro.chmod(0o700)


def test_data_folder_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDY_DATA_DIR", str(tmp_path / "nowhere"))
    assert_refused(run("data", "check"), "nowhere", "no datapackage.json", "STUDY_DATA_DIR")


def test_outside_the_environment_says_how_to_get_it():
    """`python -S` hides the virtual environment's packages, as a system Python without pandas would."""
    r = subprocess.run([sys.executable, "-S", "-m", "analysis", "data", "check"], capture_output=True,
                       text=True, cwd=REPO)
    line = assert_refused(r, "lacks the study's dependencies", "make venv", ".venv/bin/python")
    assert "activate" in line


# ---------------------------------------------------------------------------------------------
# valid edge cases: the same table, the same ledger

def _excel_copy(src: Path, dst: Path) -> Path:
    """data/ as Excel on Windows saves it: every CSV with a UTF-8 byte-order mark and CRLF line ends."""
    shutil.copytree(src, dst)
    for p in dst.glob("*.csv"):
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes().replace(b"\n", b"\r\n"))
    return dst


def test_bom_and_crlf_give_the_same_tables_and_ledger(tmp_path):
    from analysis import load_datasets
    from analysis.ledger import build_ledger, export

    excel = _excel_copy(DATA_DIR, tmp_path / "excel")
    assert (excel / "chips.csv").read_bytes().startswith(b"\xef\xbb\xbfchip_id,") and b"\r\n" in (
        excel / "chips.csv").read_bytes()
    base, ex = load_datasets(DATA_DIR), load_datasets(excel)
    assert list(ex.tables) == list(base.tables)
    for name in base.tables:
        assert ex[name].equals(base[name]), name
    # the ledger of one seed (31 claims) exported byte for byte
    a = export(build_ledger(ds=base, only="S1", n=500), "csv")
    b = export(build_ledger(ds=ex, only="S1", n=500), "csv")
    assert a == b and a.count("\n") == 32


def test_crlf_only_and_bom_only_pass_data_check(tmp_path, monkeypatch):
    d = tmp_path / "d"
    shutil.copytree(DATA_DIR, d)
    for p in d.glob("*.csv"):
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n") if p.name < "m" else b"\xef\xbb\xbf" + p.read_bytes())
    monkeypatch.setenv("STUDY_DATA_DIR", str(d))
    r = run("data", "check")
    assert r.returncode == 0 and "all 14 tables valid" in r.stdout, r.stderr


def test_price_per_chip_hour_is_multiplied_by_the_chip_count(data_copy):
    """p5.48xlarge (8 H100) listed at 55.04 USD/hour; the same price given per chip-hour is
    55.04 / 8 = 6.88 USD/chip/hour, which must load as 6.88 x 8 = 55.04 USD/hour, not 6.88."""
    from analysis import load_datasets

    base = load_datasets(DATA_DIR)
    assert base.system_param("p5.48xlarge", "chips") == 8
    assert base.system_param("p5.48xlarge", "usd_per_hour_on_demand") == pytest.approx(55.04)
    header, rows = read_rows(data_copy / "system_params.csv")
    for r in rows:
        if r["system_id"] == "p5.48xlarge" and r["metric"] == "usd_per_hour_on_demand":
            r["value"], r["unit"] = "6.88", "USD/chip/hour"
    write_rows(data_copy / "system_params.csv", header, rows)
    ds = load_datasets(data_copy)
    assert ds.system_param("p5.48xlarge", "usd_per_hour_on_demand") == pytest.approx(6.88 * 8)


def test_price_per_chip_hour_in_set_and_scenario_data_is_multiplied_too(tmp_path):
    """--set / data: 'VALUE UNIT' is converted like a data file's cell: 6.88 USD/chip/hour on the
    8-chip p5.48xlarge is 55.04 USD/hour; 3 TB/s is 3000 GB/s."""
    from analysis import load_datasets, load_scenario
    from analysis.overrides import apply

    ds, sc = load_datasets(DATA_DIR), load_scenario()
    new, _, keys = apply(ds, sc, [("system_params.p5.48xlarge.usd_per_hour_on_demand", "6.88 USD/chip/hour"),
                                  ("hardware.h100-sxm.mem_bandwidth_gb_s", "3 TB/s")])
    assert new.system_param("p5.48xlarge", "usd_per_hour_on_demand") == pytest.approx(6.88 * 8)
    assert new.spec("h100-sxm", "mem_bandwidth_gb_s") == pytest.approx(3000)
    p = tmp_path / "s.yaml"
    p.write_text("name: s\ndata:\n  system_params.p5.48xlarge.usd_per_hour_on_demand: 6.88 USD/chip/hour\n",
                 encoding="utf-8")
    sc2 = load_scenario(p)
    new2, _, _ = apply(ds, sc2, list(sc2.data))
    assert new2.system_param("p5.48xlarge", "usd_per_hour_on_demand") == pytest.approx(55.04)


def test_per_chip_units_never_convert_to_per_system_by_a_factor():
    from analysis import units

    with pytest.raises(units.UnitProblem, match="per chip"):
        units.convert(6.88, "USD/chip/hour", "USD/hour")
    assert units.per_chip("USD/chip/hour", "USD/hour") and not units.per_chip("USD/hour", "USD/hour")
    assert units.convert(8, "chip", "count") == 8  # a count of chips is a count


def readme_chip_rows() -> dict[str, list[str]]:
    """The rows of README 'Add your own chip' (its csv block), per data file named in its # lines."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Add your own chip"):]
    block = section[section.index("```csv\n") + 7:]
    block = block[:block.index("```")]
    rows: dict[str, list[str]] = {}
    current = None
    for line in block.splitlines():
        if line.startswith("# data/"):
            current = line[len("# data/"):].split(":")[0].strip()
            rows[current] = []
        elif line.strip():
            rows[current].append(line)
    return rows


def add_my_chip(d: Path) -> None:
    """Append the README's rows: a source, a chip, its specs, an 8-chip server and its price."""
    for name, lines in readme_chip_rows().items():
        with open(d / name, "a", encoding="utf-8") as f:
            f.write("".join(ln + "\n" for ln in lines))


def test_readme_example_is_the_tested_one():
    rows = readme_chip_rows()
    assert sorted(rows) == ["chips.csv", "hardware.csv", "sources.csv", "system_params.csv", "systems.csv"]
    assert rows["system_params.csv"][-1].startswith("my-accel-box,usd_per_hour_on_demand,3.5,USD/chip/hour,")
    assert len(rows["hardware.csv"]) == 6


def test_a_chip_added_by_rows_alone_works(data_env):
    """No edit of datapackage.json or of the code: data check, predict decode and predict training
    accept the new chip, and its per-chip price (3.5 USD/chip/hour) is 3.5 x 8 = 28 USD/hour."""
    import json

    add_my_chip(data_env)
    r = run("data", "check")
    assert r.returncode == 0 and "chips=19" in r.stdout, r.stderr
    from analysis import load_datasets

    assert load_datasets().system_param("my-accel-box", "usd_per_hour_on_demand") == pytest.approx(28.0)
    r = run("predict", "decode", "--model", "llama-2-7b", "--chip", "my-accel", "--batch", "8", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["chip_id"] == "my-accel" and out["peak_tflops"] == 800 and out["usd_per_chip_hour"] == pytest.approx(3.5)
    r = run("predict", "training", "--params", "7e9", "--tokens", "1e12", "--chip", "my-accel", "--chips", "64",
            "--mfu", "0.4", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # chip-hours = 6 N D / (peak x MFU) / 3600 = 6 x 7e9 x 1e12 / (800e12 x 0.4) / 3600 = 36,458.3
    assert out["chip_hours"] == pytest.approx(6 * 7e9 * 1e12 / (800e12 * 0.4) / 3600, rel=0.05)
    assert out["usd_per_chip_hour"] == pytest.approx(3.5)


def battery_size() -> dict[str, int]:
    """Bad inputs in this battery, per kind (the README's reliability section quotes the total).
    Besides the parametrised tables: 3 scenario tests (latin-1, missing, a folder), --set on
    explain, and 8 file-system cases (--output into a missing folder / onto a folder, --out naming a
    file for figures, fit and validate, a read-only results/, a missing data folder, no environment)."""
    return {"data files": len(DATA_CASES) + len(REBUILD_CASES), "scenario files": len(SCENARIO_CASES) + 3,
            "--set": len(SET_CASES) + 1, "command-line arguments": len(ARG_CASES), "file system": 8}


def test_battery_has_at_least_60_bad_inputs():
    sizes = battery_size()
    assert sizes == {"data files": 33, "scenario files": 29, "--set": 21, "command-line arguments": 21,
                     "file system": 8}
    assert sum(sizes.values()) == 112 >= 60
