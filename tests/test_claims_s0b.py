"""Seed 000, second half (S0-053..S0-109): re-judged verdicts checked against hand calculations.

Each case asserts the ledger's verdict and its rebuilt value (the value of the check the verdict rests
on, or of the check shown for a premise-contradicted claim) against a calculation written here from
the published figures, with the source in a comment. The cases cover the judgement rules of the
re-check: a latency slower than the memory floor is not implausible, a reading can rescue a claim, an
analyst estimate supports or doubts but never contradicts, a vendor's own statement makes a claim
consistent, forecasts are graded only after their horizon, and a claim that rests on a product AWS
does not list is contradicted on its premise.
"""
import pytest

from analysis import load_datasets
from analysis.ledger import build_ledger
from analysis.training import predict_training


@pytest.fixture(scope="module")
def rows():
    return {r.claim_id: r for r in build_ledger(only="S0")}


def check(row, label_start):
    return next(c for c in row.checks if c["label"].startswith(label_start))


def test_latency_slower_than_the_memory_floor_is_plausible(rows):
    # S0-056 "45ms" for a 70B model on AWS's row, read per token on one trn2.48xlarge.
    # AWS Neuron docs (trn2-arch): 16 Trainium2 with 46.4 TB/s of HBM in all (2.9 TB/s each);
    # 70e9 BF16 weights = 140 GB read once per token -> 140e9 / 46.4e12 s = 3.02 ms.
    r = rows["S0-056"]
    assert r.rebuilt == pytest.approx(140e9 / (16 * 2.9e12) * 1e3, rel=1e-3)
    assert r.verdict == "plausible", r.explanation  # was implausible (two-sided model check)
    # the whole 128-token answer in 45 ms is beyond the floor even with FP8 weights: 128 x 1.51 ms
    floor = check(r, "memory-bandwidth floor")
    whole = [o for o in floor["others"] if o["label"].startswith("whole 128-token answer")][0]
    assert whole["rebuilt"] == pytest.approx(128 * 70e9 / (16 * 2.9e12) * 1e3, rel=1e-3)


def test_h100_latency_floor(rows):
    # S0-064 "60ms" on the Azure H100 row: NVIDIA H100 SXM datasheet 3.35 TB/s x 8 GPUs (p5.48xlarge);
    # 140 GB of BF16 weights / 26.8 TB/s = 5.22 ms per token: 60 ms is slower, hence feasible.
    r = rows["S0-064"]
    assert r.rebuilt == pytest.approx(140e9 / (8 * 3.35e12) * 1e3, rel=1e-3)
    assert r.verdict == "plausible", r.explanation  # was implausible


def test_mixture_of_experts_reading_rescues_the_training_cost(rows):
    # S0-055 "$12.5M" to train a 1T model on Trainium2. Dense Chinchilla (20T tokens) costs hundreds of
    # millions; a 1T MoE shaped like Kimi K2 (arXiv 2507.20534: 32B active, 15.5T tokens) needs
    # 6 x 32e9 x 15.5e12 = 2.976e24 FLOPs. At 667 TFLOPS (Neuron docs) and the MFU the fitted chip-hours
    # model implies for that run, at the trn2.48xlarge Capacity Block price ($35.7608/h for 16 chips),
    # that is about $6.3M < $12.5M.
    ds = load_datasets()
    mfu = predict_training(ds, 32e9, 15.5e12, "trainium2")["mfu"]
    assert 0.3 < mfu < 0.6
    chip_hours = 6 * 32e9 * 15.5e12 / (667e12 * float(mfu) * 3600)
    r = rows["S0-055"]
    assert r.rebuilt == pytest.approx(chip_hours * 35.7608 / 16, rel=1e-3)
    assert r.rebuilt < 12.5e6
    assert r.verdict == "plausible", r.explanation  # was implausible under the dense reading only
    assert "mixture-of-experts" in r.explanation


def test_premise_contradicts_burstcache_claim_which_is_also_beyond_its_own_bound(rows):
    # S0-074 "30% more experiments per week" thanks to BurstCache. AWS's service models list no
    # BurstCache (premise). And by the article's own S0-014 ("nearly 20%" of GPU time freed) the
    # throughput can rise by at most 1 / (1 - 0.20) - 1 = 25%.
    r = rows["S0-074"]
    assert r.verdict == "contradicted", r.explanation  # was unverifiable
    assert ("burstcache", "no") in [tuple(p) for p in r.premise]
    bound = check(r, "ceiling from the article's own")
    assert bound["outcome"] == "beyond"
    assert bound["rebuilt"] == pytest.approx(100 * (1 / (1 - 0.20) - 1), rel=1e-9)


def test_premise_contradicted_products(rows):
    # Neuron hardware index: Trainium, Trainium2, Trainium3, Inferentia, Inferentia2, no Inferentia3.
    for cid in ("S0-053", "S0-071", "S0-072", "S0-089", "S0-109"):
        assert rows[cid].verdict == "contradicted", cid
        assert ("inferentia3", "no") in [tuple(p) for p in rows[cid].premise], cid
    # S0-072's table figure is still shown: 1 - 0.12 / 0.50 = 76% per-token saving, not 35%
    assert rows["S0-072"].rebuilt == pytest.approx(100 * (1 - 0.12 / 0.50))


def test_tpu_v5p_is_not_a_2d_mesh(rows):
    # S0-058: Google Cloud TPU v5p docs: pods are a 3D torus (ICI, OCS) of 8,960 chips.
    r = rows["S0-058"]
    assert r.rebuilt is False or r.rebuilt == 0
    assert r.verdict == "contradicted", r.explanation  # was unverifiable


def test_aws_torus_read_as_the_trn2_ultraserver(rows):
    # S0-054: Neuron collectives page: "For an UltraServer configuration, we extend this to a 3D Torus".
    r = rows["S0-054"]
    assert r.rebuilt is True or r.rebuilt == 1
    assert r.verdict == "consistent", r.explanation  # was unverifiable


def test_vendor_statement_makes_anthropic_an_aws_customer(rows):
    # S0-068: About Amazon: "AWS customer AI safety and research company Anthropic ..." (vendor claim)
    r = rows["S0-068"]
    assert r.verdict == "consistent", r.explanation  # was unverifiable
    assert r.inputs and any("vendor_claim" in str(i) for i in r.inputs)


def test_coreweave_growth_contradicts_struggling(rows):
    # S0-075: CoreWeave Q2 2025 results release: revenue $1,212,788k vs $395,371k a year earlier,
    # a 3.07x rise; "struggling" read as revenue flat (under +10%) is false.
    assert 1212788 / 395371 == pytest.approx(3.0675, rel=1e-4)
    r = rows["S0-075"]
    assert r.rebuilt is False or r.rebuilt == 0
    assert r.verdict == "contradicted", r.explanation  # was unverifiable


def test_cross_row_share_and_tco_rows_are_consistent(rows):
    # S0-083 (55% on custom infrastructure, 2026) vs S0-086 (40% average TCO cut): with no saving on
    # generic infrastructure a 40% average needs 40% / 76% = 52.6% of workloads on custom infrastructure,
    # 76% being the table's best per-token saving (1 - $0.12 / $0.50).
    best = 1 - 0.12 / 0.50
    assert rows["S0-083"].rebuilt == pytest.approx(40 / best, rel=1e-4)
    assert rows["S0-083"].verdict == "consistent"  # was unverifiable
    # S0-086: 55% x 76% = 41.8% >= 40%
    assert rows["S0-086"].rebuilt == pytest.approx(55 * best, rel=1e-4)
    assert rows["S0-086"].verdict == "consistent"  # was unverifiable


def test_graded_2025_forecast_only_supported_by_an_estimate(rows):
    # S0-079 "$68B" AI cloud revenue in 2025: Synergy (estimate, via Lightwave 2026-02-17) puts the whole
    # 2025 cloud infrastructure market at $419B; the graded forecast check can only support.
    r = rows["S0-079"]
    assert r.rebuilt == pytest.approx(419e9)
    assert r.verdict == "plausible", r.explanation  # was unverifiable
    assert check(r, "what happened in 2025")["outcome"] == "supports"


def test_estimate_doubts_but_cannot_contradict_the_q1_2026_share(rows):
    # S0-099 "40% by Q1 2026": Synergy's Q1 2026 estimate of AWS's cloud share is 28% -> doubt only.
    r = rows["S0-099"]
    assert r.rebuilt == pytest.approx(28.0)
    assert r.verdict == "unverifiable"
    assert check(r, "AWS's Q1 2026")["outcome"] == "doubts"


def test_aws_revenue_bounds_the_2026_ai_cloud_market(rows):
    # S0-080 "$95B" (2026) with Prediction 1's 40% AWS share: AWS's 2024 segment sales (10-K) $107,556M
    # / 0.40 = $268.9B is the largest market such a share fits in; $95B is on the feasible side.
    r = rows["S0-080"]
    assert r.rebuilt == pytest.approx(107_556e6 / 0.40, rel=1e-6)
    assert r.verdict == "plausible", r.explanation  # was unverifiable


def test_merged_and_not_yet_due_forecasts(rows):
    assert "S0-100" not in rows  # merged into S0-099 (same sentence)
    for cid in ("S0-097", "S0-102", "S0-107", "S0-108"):
        assert rows[cid].verdict == "unverifiable", cid
        assert "needs" in rows[cid].explanation, cid
