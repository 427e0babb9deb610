"""Every assumption of data/scenarios/baseline.yaml moves at least one output when changed (issue 8):
a predict result (training, decode, allreduce, checkpoint) or a rebuilt claim of the ledger. An
assumption that moves nothing would be a what-if silently ignored; this test fails on it."""
from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import load_datasets, load_scenario
from analysis.ledger import make_ledger
from analysis.overrides import apply_all
from analysis.whatif import allreduce_run, checkpoint_run, decode_run, training_run

BASE = load_scenario()
DRAWS = 200


def _changed_value(a) -> float:
    """A different value for the assumption: the other end of its range, or 1.5 x a fixed one."""
    if a.high > a.low:
        return a.high if a.value != a.high else a.low
    return a.value * 1.5


def _outputs(sets) -> dict:
    ds, sc, _ = apply_all(load_datasets(), load_scenario(), sets)
    runs = {
        "training": training_run(ds, sc, 70e9, 2e12, "trainium2", 1024, n=DRAWS),
        "decode": decode_run(ds, sc, "llama-3.1-8b", "h100-sxm", 1, 32, 1024, 1024, n=DRAWS),
        "allreduce": allreduce_run(ds, sc, "p5.48xlarge", 140e9, systems=4, n=DRAWS),
        "checkpoint": checkpoint_run(ds, sc, "trn2.48xlarge", model_id="llama-3.1-70b", systems=64, n=DRAWS),
    }
    return {f"{cmd}.{k}": float(v) for cmd, r in runs.items() for k, v in r.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in (
                "network_alpha_us", "network_efficiency", "checkpoint_write_gb_s", "chip_mtbf_hours",
                "restart_minutes", "committed_discount")}  # echoes of the inputs are not outputs


@pytest.fixture(scope="module")
def baseline_outputs():
    return _outputs([])


@pytest.fixture(scope="module")
def claims_using():
    """assumption name -> claim ids whose baseline rebuild reads it."""
    ledger, _ = make_ledger(n=DRAWS)
    out: dict[str, list[str]] = {}
    for row in ledger.rows():
        for i in row.inputs:
            if i.key.startswith("assumption."):
                out.setdefault(i.key.split(".", 1)[1], []).append(row.claim_id)
    return out


def _moved(a: dict, b: dict) -> list[str]:
    return [k for k in a if k in b and not math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=0.0)]


def _ledger_moved(name: str, value: float, claim_ids: list[str]) -> list[str]:
    base, _ = make_ledger(n=DRAWS)
    new, _ = make_ledger(sets=[(name, repr(value))], n=DRAWS)
    moved = []
    for cid in claim_ids:
        a, b = base.evaluate(cid), new.evaluate(cid)
        vals = [(a.rebuilt, b.rebuilt), (a.low, b.low), (a.high, b.high)] + \
            [(ca.get(k), cb.get(k)) for ca, cb in zip(a.checks, b.checks) for k in ("rebuilt", "low", "high")]
        if a.verdict != b.verdict or any(
                isinstance(x, float) and isinstance(y, float) and not np.isclose(x, y, rtol=1e-9, atol=0)
                for x, y in vals):
            moved.append(cid)
    return moved


@pytest.mark.parametrize("name", BASE.names())
def test_assumption_moves_an_output(name, baseline_outputs, claims_using):
    value = _changed_value(BASE[name])
    moved = _moved(baseline_outputs, _outputs([(name, repr(value))]))
    if not moved:
        moved = _ledger_moved(name, value, claims_using.get(name, []))
    assert moved, (f"assumption '{name}' changed {BASE[name].value:g} -> {value:g} moves no predict output and "
                   "no claim: wire it into a model or remove it from baseline.yaml")
