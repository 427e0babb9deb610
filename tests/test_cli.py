"""python -m analysis data check: prints the summary; bad data -> one clear message, exit 2."""
import subprocess
import sys

from analysis import load_datasets
from analysis.cli import main

from conftest import edit_cell


def test_data_check_prints_summary(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    ds = load_datasets()
    assert "all 14 tables valid" in out
    assert f"claims={len(ds.claims)}" in out and f"sources: {len(ds.sources)}" in out
    for seed in ("000", "001", "002", "003", "004"):
        assert f"\n{seed} " in out
    assert len(out.splitlines()) <= 25  # one screen


def test_data_check_as_a_module_runs():
    r = subprocess.run([sys.executable, "-m", "analysis", "data", "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "claims:" in r.stdout


def test_bad_scenario_exits_2(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_text("name: s\nassumptions:\n  pue_value: 1.2\n", encoding="utf-8")
    assert main(["data", "check", "--scenario", str(p)]) == 2
    err = capsys.readouterr().err
    assert "unknown assumption 'pue_value'" in err and "did you mean" in err and "'pue'" in err


def test_bad_data_exits_2(data_copy, monkeypatch, capsys):
    edit_cell(data_copy / "chips.csv", "chip_id", "trainium2", "family", "GPU family")
    monkeypatch.setenv("STUDY_DATA_DIR", str(data_copy))
    assert main(["data", "check"]) == 2
    err = capsys.readouterr().err
    assert "chips.csv" in err and "field 'family'" in err
