"""The verdict rule and the ledger engine on hand-made claims and checks (independent of data/rebuilds).

Each test builds a few synthetic claims (ids S9-...) beside the real datasets, writes their checks
in the format of data/rebuilds/README.md, and compares the ledger with a hand calculation.
"""
import json

import numpy as np
import pandas as pd
import pytest

from analysis import load_datasets, load_scenario
from analysis.datasets import with_tables
from analysis.errors import StudyInputError, StudyInputErrors
from analysis.ledger import export
from analysis.ledger.engine import Ledger, decimal_year
from analysis.ledger.rules import (VERDICTS, agrees_numeric, combine, directional_outcome, effective_class,
                                   forecast_due, horizon_date)
from analysis.ledger.specs import load_specs

SEED = "test-seed.txt"
# Published figures used below (data/hardware.csv, AWS Neuron Trainium2 architecture page):
TRN2_BF16 = 667.0          # TFLOPS dense BF16
TRN2_HBM = 2.9e12          # bytes/s
TRN2_TDP_ESTIMATE = 500.0  # W, a third-party estimate (basis estimate)


def _claims(*rows):
    cols = ["claim_id", "seed_file", "quote", "subject", "quantity", "qualifier", "claimed_value", "claimed_high",
            "claimed_date", "unit", "kind", "note"]
    out = []
    for cid, qualifier, value, unit, *rest in rows:
        date = rest[0] if rest else ""
        out.append([cid, SEED, f"quote of {cid}", "x", "y", qualifier, np.nan if value is None else float(value),
                    np.nan, date, unit, "timeline" if date else "spec", ""])
    return pd.DataFrame(out, columns=cols)


def _ledger(tmp_path, yaml_text, claims, facts=(), hardware_basis=None):
    ds = load_datasets()
    tables = {"claims": claims}
    src = ds.sources.copy()
    src.loc[len(src)] = ["test-seed", "A test article", "tests", "2025-06-01", SEED, "seed_article", ""]
    tables["sources"] = src
    if facts:
        f = ds.facts.copy()
        for subject, prop, value in facts:
            f.loc[len(f)] = [f"{subject}.{prop}", subject, prop, value, "", "2026-12-02", "vendor_spec",
                             "aws-neuron-trainium2-arch", ""]
        tables["facts"] = f
    if hardware_basis:
        hw = ds.hardware.copy()
        for (chip, metric), basis in hardware_basis.items():
            hw.loc[(hw.chip_id == chip) & (hw.metric == metric), "basis"] = basis
        tables["hardware"] = hw
    ds2 = with_tables(ds, tables)
    (tmp_path / "S9.yaml").write_text(yaml_text, encoding="utf-8")
    specs = load_specs(claims.claim_id, tmp_path)
    return Ledger(ds2, load_scenario(), specs, n=500)


# --- the pieces of the rule, by hand ---------------------------------------------------------------

def test_agreement_modes_by_hand():
    assert agrees_numeric("within", 800, 800, 667, 667, 0.05)[0] is False   # band [760, 840] misses 667
    assert agrees_numeric("within", 989, 989, 989.5, 989.5, 0.05)[0] is True
    assert agrees_numeric("up_to", 40, 40, 0.5, 5, 0.05)[0] is False        # 'up to 40' unreachable at 5
    assert agrees_numeric("at_least", 96, 96, 154.6, 154.6, 0.05)[0] is True
    assert agrees_numeric("at_most", 5, 5, 8, 12, 0.05)[0] is False


def test_decimal_year_and_horizons():
    assert decimal_year("2018-11") == pytest.approx(2018 + 10 / 12)
    assert decimal_year("2026-Q1", end=True) == pytest.approx(2026.25)
    assert horizon_date("+12 months", "2025-06-01") == "2026-06-01"
    assert horizon_date("+2 years", "2025-12") == "2027-12"
    assert horizon_date("2026-Q1", None) == "2026-Q1"
    # graded only when the whole period has ended by 2026-12-01
    assert forecast_due("2026-Q1") and forecast_due("2026-11")
    assert not forecast_due("2026") and not forecast_due("2026-12")


def test_directional_outcomes_by_hand():
    # a ceiling of 20.7 tokens/s: 100 is beyond it, 15 is on the feasible side
    assert directional_outcome("bound", "higher", 100, 100, 20.7, 20.7, 0.05)[0] == "beyond"
    assert directional_outcome("bound", "higher", 15, 15, 20.7, 20.7, 0.05)[0] == "passes"
    # a floor of 48.3 ms: 200 ms is slower (possible), 10 ms is beyond; 47 ms is within the 5% tolerance
    assert directional_outcome("bound", "lower", 200, 200, 48.3, 48.3, 0.05)[0] == "passes"
    assert directional_outcome("bound", "lower", 10, 10, 48.3, 48.3, 0.05)[0] == "beyond"
    assert directional_outcome("bound", "lower", 47, 47, 48.3, 48.3, 0.05)[0] == "passes"   # 47 >= 48.3 x 0.95
    outcome, text = directional_outcome("model", "lower", 90, 90, 40, 60, 0.05)
    assert outcome == "passes" and "slower/costlier than modelled" in text


def test_effective_class_weakens_only():
    assert effective_class("public", [("hardware.trainium2.tdp_w", "estimate")]) == "estimate"
    assert effective_class("public", [("claim.S0-001", "claimed"), ("hardware.h100-sxm.tdp_w", "vendor_spec")]) \
        == "public"
    assert effective_class("seed", [("assumption.training_mfu", "assumption [0.3, 0.5]")]) == "model"
    assert effective_class("bound", [("hardware.trainium2.tdp_w", "estimate")]) == "bound"


def test_precedence():
    r = lambda label, eff, outcome, verdict: {"label": label, "effective": eff, "outcome": outcome,  # noqa: E731
                                              "verdict": verdict}
    agree = r("vendor spec", "public", "agrees", "consistent")
    own = r("own table", "seed", "disagrees", "inconsistent")
    cap = r("roofline", "bound", "beyond", "implausible")
    assert combine([agree, own], [])[:2] == ("inconsistent", 1)       # inconsistency outweighs agreement
    assert combine([agree, own, cap], [])[:2] == ("implausible", 2)   # a broken bound outweighs both
    assert combine([cap], ["widget"])[0] == "contradicted"            # a contradicted premise comes first
    assert combine([r("est", "estimate", "doubts", None)], [])[0] == "unverifiable"


# --- the rules on the engine ---------------------------------------------------------------------------

def test_latency_slower_than_the_floor_is_not_implausible(tmp_path):
    # floor of one decode step of a 70B BF16 model on one Trainium2: 140e9 bytes / 2.9e12 B/s = 48.28 ms
    floor_ms = 140e9 / TRN2_HBM * 1e3
    spec = """
S9-001: &c
  reading: per-token latency against the HBM floor
  checks:
    - label: HBM floor
      against: bound
      better: lower
      expr: "140e9 / (spec('trainium2', 'mem_bandwidth_gb_s') * 1e9) * 1e3"
S9-002: *c
"""
    L = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 200, "ms"), ("S9-002", "exact", 10, "ms")))
    slow, fast = L.evaluate("S9-001"), L.evaluate("S9-002")
    assert slow.rebuilt == pytest.approx(floor_ms, rel=1e-9)
    assert slow.verdict == "plausible" and slow.checks[0]["outcome"] == "passes"
    assert fast.verdict == "implausible" and fast.checks[0]["outcome"] == "beyond"


def test_throughput_above_the_roofline_ceiling_is_implausible(tmp_path):
    # batch-1 decode ceiling: 2.9e12 B/s / 140e9 bytes per token = 20.71 tokens/s
    ceiling = TRN2_HBM / 140e9
    spec = """
S9-001: &c
  reading: tokens/s of a 70B BF16 model on one chip
  checks:
    - label: bandwidth ceiling
      against: bound
      better: higher
      expr: "spec('trainium2', 'mem_bandwidth_gb_s') * 1e9 / 140e9"
S9-002: *c
"""
    L = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 100, "token/s"), ("S9-002", "exact", 15, "token/s")))
    hi, lo = L.evaluate("S9-001"), L.evaluate("S9-002")
    assert hi.rebuilt == pytest.approx(ceiling) and hi.verdict == "implausible"
    assert lo.verdict == "plausible" and "does not confirm" in lo.checks[0]["text"]


def test_a_claim_failing_one_reading_but_passing_another_is_not_failed(tmp_path):
    # 1,300 TFLOPS: dense BF16 667 misses [1235, 1365]; 2:4-sparse BF16 2 x 667 = 1,334 is inside
    spec = """
S9-001:
  reading: peak TFLOPS
  checks:
    - label: AWS peak
      against: public
      expr: "spec('trainium2', 'bf16_dense_tflops')"
      readings:
        - label: sparse BF16
          expr: "2 * spec('trainium2', 'bf16_dense_tflops')"
S9-002:
  reading: peak TFLOPS, one reading only
  checks:
    - label: AWS peak
      against: public
      expr: "spec('trainium2', 'bf16_dense_tflops')"
"""
    L = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 1300, "TFLOPS"), ("S9-002", "exact", 1300, "TFLOPS")))
    two, one = L.evaluate("S9-001"), L.evaluate("S9-002")
    assert two.verdict == "consistent" and two.checks[0]["reading"] == "sparse BF16"
    assert two.rebuilt == pytest.approx(2 * TRN2_BF16)
    assert one.verdict == "contradicted" and one.rebuilt == TRN2_BF16


def test_an_estimate_cannot_contradict(tmp_path):
    # 600 W against the third-party 500 W estimate: band [570, 630] misses 500, yet only doubts
    spec = """
S9-001:
  reading: TDP
  checks:
    - label: TDP
      against: public
      expr: "spec('trainium2', 'tdp_w')"
  needs: AWS's published TDP
"""
    claims = _claims(("S9-001", "exact", 600, "W"))
    row = _ledger(tmp_path, spec, claims).evaluate("S9-001")
    assert row.rebuilt == TRN2_TDP_ESTIMATE
    assert row.verdict == "unverifiable" and row.checks[0]["outcome"] == "doubts"
    assert "estimate" in row.rule and "needs: AWS's published TDP" in row.explanation
    # the same cell as a vendor figure does contradict
    row2 = _ledger(tmp_path, spec, claims, hardware_basis={("trainium2", "tdp_w"): "vendor_spec"}).evaluate("S9-001")
    assert row2.verdict == "contradicted"
    # and an estimate that agrees supports: 500 W claimed -> plausible, not consistent
    row3 = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 500, "W"))).evaluate("S9-001")
    assert row3.verdict == "plausible"


def test_a_matching_vendor_claim_makes_the_seed_consistent_and_says_so(tmp_path):
    spec = """
S9-001:
  reading: peak
  checks:
    - label: AWS's published figure
      against: public
      expr: "spec('trainium2', 'bf16_dense_tflops')"
"""
    row = _ledger(tmp_path, spec, _claims(("S9-001", "approx", 667, "TFLOPS")),
                  hardware_basis={("trainium2", "bf16_dense_tflops"): "vendor_claim"}).evaluate("S9-001")
    assert row.verdict == "consistent"
    assert "vendor's published claim" in row.rule and "not a measurement" in row.explanation


def test_a_passed_forecast_is_graded_and_a_future_one_is_not(tmp_path):
    # the test seed is dated 2025-06-01: '+12 months' ends 2026-06-01, before the as-of date 2026-12-01
    spec = """
S9-001: &f
  reading: a forecast that Trainium2 would reach 667 TFLOPS
  checks:
    - label: what happened
      against: forecast
      horizon: "+12 months"
      expr: "spec('trainium2', 'bf16_dense_tflops')"
  needs: nothing
S9-002:
  reading: a forecast for 2027
  checks:
    - label: what happened
      against: forecast
      horizon: "2027"
  needs: the 2027 outcome
S9-003:
  reading: a forecast that Trainium2 would reach 800 TFLOPS by Q1 2026
  checks:
    - label: what happened
      against: forecast
      horizon: 2026-Q1
      expr: "spec('trainium2', 'bf16_dense_tflops')"
"""
    L = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 667, "TFLOPS"), ("S9-002", "exact", 1, "x"),
                                        ("S9-003", "exact", 800, "TFLOPS")))
    due, later, missed = L.evaluate("S9-001"), L.evaluate("S9-002"), L.evaluate("S9-003")
    assert due.checks[0]["horizon"] == "2026-06-01" and due.verdict == "consistent"
    assert later.verdict == "unverifiable" and later.checks[0]["outcome"] == "pending"
    assert "2027" in later.checks[0]["text"] and "the 2027 outcome" in later.explanation
    assert missed.verdict == "contradicted"   # 667 misses [760, 840]


def test_a_premise_contradicted_product_gets_the_same_verdict_wherever_it_appears(tmp_path):
    # widget does not exist; one claim agrees with its own article, one breaks a bound, one has no check
    spec = """
S9-001:
  reading: agrees with its own table
  premise: [widget]
  checks:
    - label: own table
      against: seed
      expr: "2 * 2"
S9-002:
  reading: beyond the bandwidth ceiling
  premise: [widget]
  checks:
    - label: ceiling
      against: bound
      better: higher
      expr: "spec('trainium2', 'mem_bandwidth_gb_s') * 1e9 / 140e9"
S9-003:
  reading: a statement about widget
  premise: [widget]
"""
    L = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 4, "x"), ("S9-002", "exact", 100, "token/s"),
                                        ("S9-003", "none", None, "")), facts=[("widget", "exists", "no")])
    rows = [L.evaluate(c) for c in ("S9-001", "S9-002", "S9-003")]
    assert {r.verdict for r in rows} == {"contradicted"}
    assert all(r.evidence == "premise" and r.premise == [("widget", "no")] for r in rows)
    # the other checks are still evaluated and shown
    assert rows[0].checks[0]["verdict"] == "consistent" and rows[1].checks[0]["verdict"] == "implausible"
    assert "premise contradicted" in rows[1].explanation.lower()


def test_a_model_check_reading_an_assumption_is_weighed_as_model(tmp_path):
    spec = """
S9-001:
  reading: declared public, reads an assumption
  checks:
    - label: cost
      against: public
      expr: "a('training_mfu') * 0 + 5"
"""
    row = _ledger(tmp_path, spec, _claims(("S9-001", "exact", 9, "x"))).evaluate("S9-001")
    assert row.evidence == "model" and row.verdict == "implausible"   # two-sided model check: 9 misses 5


def test_bad_specs_are_refused_with_file_line_and_nearest(tmp_path):
    ds = load_datasets()
    cases = [
        ("S0-001:\n  readin: x\n", r"line 1 \(S0-001\), field 'readin'.*'reading'"),
        ("S0-999:\n  reading: x\n  needs: y\n", "unknown claim id 'S0-999'"),
        ("S0-001:\n  reading: x\n  checks:\n    - {label: a, against: maybe, expr: '1'}\n", "against 'maybe'.*one of public"),
        ("S0-001:\n  reading: x\n  checks:\n    - {label: a, against: public, expr: __import__('os')}\n", "forbidden construct"),
        ("S0-001:\n  reading: x\n  checks:\n    - {label: a, against: bound, expr: '1'}\n", "bound without a direction"),
        ("S0-001:\n  reading: x\n  checks:\n    - {label: a, against: forecast, expr: '1'}\n", "forecast without a horizon"),
        ("S0-001:\n  reading: x\n  checks:\n    - {label: a, against: forecast, horizon: soon}\n", "horizon 'soon'"),
        ("S0-001:\n  reading: x\n", "no check can decide the claim and there is no 'needs'"),
        ("S0-001:\n  reading: x\n  checks:\n    - {label: a, against: public, expr: '1', better: up}\n", "better 'up'"),
    ]
    for text, pattern in cases:
        (tmp_path / "S0.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(StudyInputErrors, match=pattern):
            load_specs(ds.claims.claim_id, tmp_path)


def test_unknown_fact_names_the_nearest(tmp_path):
    spec = "S9-001:\n  reading: x\n  premise: [widgt]\n"
    L = _ledger(tmp_path, spec, _claims(("S9-001", "none", None, "")), facts=[("widget", "exists", "no")])
    with pytest.raises(StudyInputError, match="no fact 'exists' for 'widgt'.*widget"):
        L.evaluate("S9-001")


def test_export_is_deterministic_and_lists_checks(tmp_path):
    spec = """
S9-001:
  reading: peak
  checks:
    - {label: AWS peak, against: public, expr: "spec('trainium2', 'bf16_dense_tflops')"}
    - {label: own figure, against: seed, expr: "667"}
"""
    claims = _claims(("S9-001", "exact", 667, "TFLOPS"))
    a = export(_ledger(tmp_path, spec, claims).rows(["S9-001"]), "json")
    b = export(_ledger(tmp_path, spec, claims).rows(["S9-001"]), "json")
    assert a == b
    row = json.loads(a)[0]
    assert list(row)[:12] == ["claim_id", "seed_file", "quote", "claimed", "claimed_high", "unit", "rebuilt", "low",
                              "high", "verdict", "model", "explanation"]
    assert [c["label"] for c in row["checks"]] == ["AWS peak", "own figure"] and row["rests_on"] == "AWS peak"
    assert row["verdict"] in VERDICTS
