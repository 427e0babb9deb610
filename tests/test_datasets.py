"""The tables load, and each kind of bad input gets a clear error naming file, line, field, expectation."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import load_datasets
from analysis.errors import StudyInputErrors

from conftest import edit_cell, read_rows, write_rows


def test_all_tables_load_and_have_rows():
    ds = load_datasets()
    for name in ("sources", "claims", "chips", "hardware", "systems", "system_params", "workloads",
                 "measurements", "training_runs", "market", "timeline", "metrics"):
        assert len(ds[name]) > 0, name


def test_canonical_units_match_hand_conversion():
    ds = load_datasets()
    hw = ds.hardware.set_index(["chip_id", "metric"])
    # Trainium2 memory is published as 96 GiB: 96 * 2**30 bytes = 103.079 GB
    row = hw.loc[("trainium2", "mem_capacity_gb")]
    assert row.unit == "GiB" and row.value == 96
    assert ds.spec("trainium2", "mem_capacity_gb") == pytest.approx(96 * 2**30 / 1e9)
    # H100 SXM dense BF16: datasheet 1,979 TFLOPS with sparsity -> 989.5 dense (989.4 in some tables)
    assert ds.spec("h100-sxm", "bf16_dense_tflops") == pytest.approx(989.5, abs=0.2)
    # every long-table value converted (no NaN slipped through)
    assert ds.hardware.value_canonical.notna().all()
    assert ds.system_params.value_canonical.notna().all()


def test_every_chip_the_issue_names_is_present():
    ids = set(load_datasets().chips.chip_id)
    required = ("trainium1 trainium2 trainium3 inferentia1 inferentia2 a100-sxm-80gb h100-sxm "
                "h200-sxm b200 tpu-v4 tpu-v5e tpu-v5p tpu-v6e").split()
    assert set(required) <= ids


def test_core_specs_present_for_baseline_chips():
    wide = load_datasets().hardware_wide()
    for chip in ("trainium1", "trainium2", "trainium3", "inferentia2", "a100-sxm-80gb", "h100-sxm",
                 "h200-sxm", "b200", "tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e"):
        for metric in ("bf16_dense_tflops", "mem_capacity_gb", "mem_bandwidth_gb_s"):
            assert wide.loc[chip, metric] > 0, (chip, metric)


def _errors(data_dir: Path) -> str:
    with pytest.raises(StudyInputErrors) as exc:
        load_datasets(data_dir)
    return str(exc.value)


def test_non_numeric_value(data_copy):
    line = edit_cell(data_copy / "hardware.csv", "metric", "bf16_dense_tflops", "value", "abc")
    msg = _errors(data_copy)
    assert re.search(rf"hardware\.csv, line {line} \(chip_id=\w[\w-]*, metric=bf16_dense_tflops\), "
                     r"field 'value': value 'abc' is not allowed; expected a number", msg), msg


@pytest.mark.parametrize("bad", ["0", "-5"])
def test_zero_or_negative_where_positive_required(data_copy, bad):
    line = edit_cell(data_copy / "hardware.csv", "metric", "tdp_w", "value", bad)
    msg = _errors(data_copy)
    assert f"line {line}" in msg and "field 'value'" in msg and "greater than 0" in msg, msg


def test_unknown_unit(data_copy):
    line = edit_cell(data_copy / "hardware.csv", "metric", "mem_bandwidth_gb_s", "unit", "GBps")
    msg = _errors(data_copy)
    assert f"hardware.csv, line {line}" in msg and "field 'unit'" in msg
    assert "unknown unit 'GBps'" in msg and "convertible to GB/s" in msg, msg


def test_unit_of_wrong_dimension(data_copy):
    line = edit_cell(data_copy / "hardware.csv", "metric", "mem_capacity_gb", "unit", "GB/s")
    msg = _errors(data_copy)
    assert f"line {line}" in msg and "field 'unit'" in msg and "dimension" in msg, msg


def test_missing_source_id(data_copy):
    line = edit_cell(data_copy / "hardware.csv", "metric", "tdp_w", "source_id", "")
    msg = _errors(data_copy)
    assert f"hardware.csv, line {line}" in msg and "field 'source_id'" in msg and "not empty" in msg, msg


def test_dangling_source_id(data_copy):
    line = edit_cell(data_copy / "workloads.csv", "model_id", "llama-2-70b", "source_id", "no-such-paper")
    msg = _errors(data_copy)
    assert f"workloads.csv, line {line}" in msg and "dangling reference" in msg
    assert "no-such-paper" in msg, msg


def test_duplicate_key(data_copy):
    header, rows = read_rows(data_copy / "chips.csv")
    rows.append(dict(rows[0]))
    write_rows(data_copy / "chips.csv", header, rows)
    msg = _errors(data_copy)
    assert f"chips.csv, line {len(rows) + 1}" in msg and "duplicate key" in msg, msg


def test_unknown_chip_id(data_copy):
    line = edit_cell(data_copy / "hardware.csv", "metric", "bf16_dense_tflops", "chip_id", "trainium9")
    msg = _errors(data_copy)
    assert f"hardware.csv, line {line}" in msg and "field 'chip_id'" in msg
    # the chip list lives in chips.csv, not in datapackage.json: the error says where chips are declared
    assert "chip_id 'trainium9' is not declared in" in msg and "chips.csv" in msg and "Add your own chip" in msg, msg
    assert msg.count("\n") == 0, msg  # one problem, not an enum error beside the foreign-key error


def test_unknown_metric_suggests_nearest(data_copy):
    line = edit_cell(data_copy / "hardware.csv", "metric", "tdp_w", "metric", "tdp_watts")
    msg = _errors(data_copy)
    assert f"line {line}" in msg and "unknown metric 'tdp_watts'" in msg and "'tdp_w'" in msg, msg


def test_price_without_date(data_copy):
    line = edit_cell(data_copy / "system_params.csv", "metric", "usd_per_hour_on_demand", "as_of", "")
    msg = _errors(data_copy)
    assert f"system_params.csv, line {line}" in msg and "field 'as_of'" in msg, msg


def test_impossible_date(data_copy):
    line = edit_cell(data_copy / "timeline.csv", "event_id", load_datasets().timeline.event_id.iloc[0],
                     "date", "2023-13-40")
    msg = _errors(data_copy)
    assert f"timeline.csv, line {line}" in msg and "not a calendar date" in msg, msg


def test_bad_header(data_copy):
    text = (data_copy / "chips.csv").read_text(encoding="utf-8")
    (data_copy / "chips.csv").write_text(text.replace("chip_id,", "chip,", 1), encoding="utf-8")
    msg = _errors(data_copy)
    assert "chips.csv, line 1" in msg and "bad header" in msg and "expected header chip_id," in msg, msg


def test_range_claim_without_high_end(data_copy):
    claims = load_datasets().claims
    cid = claims[claims.qualifier == "range"].claim_id.iloc[0]
    line = edit_cell(data_copy / "claims.csv", "claim_id", cid, "claimed_high", "")
    msg = _errors(data_copy)
    assert f"claims.csv, line {line} (claim_id={cid}), field 'claimed_high'" in msg, msg


def test_several_problems_reported_together(data_copy):
    edit_cell(data_copy / "hardware.csv", "metric", "tdp_w", "value", "x")
    edit_cell(data_copy / "chips.csv", "chip_id", "trainium1", "family", "GPU family")
    msg = _errors(data_copy)
    assert "2 problem(s)" in msg and "hardware.csv" in msg and "chips.csv" in msg, msg


def test_nothing_silently_dropped():
    """Every CSV row becomes exactly one DataFrame row."""
    ds = load_datasets()
    for name, df in ds.tables.items():
        _, rows = read_rows(Path(df.attrs["path"]))
        assert len(rows) == len(df), name


def _facts_dir(tmp_path, rows):
    import shutil
    from analysis.paths import DATA_DIR
    d = tmp_path / "data"
    shutil.copytree(DATA_DIR, d, ignore=shutil.ignore_patterns("rebuilds", "scenarios"))
    with open(d / "facts.csv", "a", encoding="utf-8") as f:
        for r in rows:
            f.write(r + "\n")
    return d


@pytest.mark.parametrize("row, message", [
    ("widget.exists,widget,exists,maybe,,2026-12-02,vendor_spec,aws-neuron-trainium2-arch,", "'maybe' for an 'exists' fact.*yes or no"),
    ("widget.size,widget,exists,no,,2026-12-02,vendor_spec,aws-neuron-trainium2-arch,", "fact_id 'widget.size' is not subject.property"),
    ("widget.cores,widget,cores,eight,core,2026-12-02,vendor_spec,aws-neuron-trainium2-arch,", "'eight' is not a finite number"),
    ("widget.cores,widget,cores,inf,core,2026-12-02,vendor_spec,aws-neuron-trainium2-arch,", "'inf' is not a finite number"),
    ("widget.exists,widget,exists,no,,2026-02-30,vendor_spec,aws-neuron-trainium2-arch,", "'2026-02-30' is not a calendar date"),
    ("widget.exists,widget,exists,no,,2026-12-02,vendor_spec,no-such-source,", "no-such-source"),
])
def test_bad_facts_are_refused_with_file_line_and_field(tmp_path, row, message):
    from analysis.datasets import load_datasets as _load
    d = _facts_dir(tmp_path, [row])
    with pytest.raises(StudyInputErrors, match=message) as exc:
        _load(d)
    assert "facts.csv" in str(exc.value)
