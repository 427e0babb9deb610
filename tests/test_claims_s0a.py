"""Seed 000, first half (S0-001..S0-052): claims whose verdict changed when their checks were rewritten.

Each test recomputes the rebuilt value (or the fact a statement is checked against) by hand from the
published figure named in its comment and asserts the ledger's verdict. The rules they exercise:
a premise the vendor does not document, a public fact that agrees or disagrees, a reading that
rescues a general statement, and a directional model check whose interval carries the scenario's
serving utilisation.
"""
import pytest

from analysis.ledger import build_ledger


@pytest.fixture(scope="module")
def rows():
    return {r.claim_id: r for r in build_ledger(only="S0")}


def _check(row, label_start):
    hits = [c for c in row.checks if c["label"].startswith(label_start)]
    assert len(hits) == 1, [c["label"] for c in row.checks]
    return hits[0]


def test_h100_cost_per_million_tokens_from_a_measured_throughput(rows):
    # S0-037 "$0.50" per 1M tokens of a 70B model on H100. TensorRT-LLM 0.9 measured 6,428 tokens/s for
    # Llama 2 70B on 2 H100 (FP8, batch 1024, 128 in / 128 out). p5.48xlarge on-demand USD 55.04/h for
    # 8 GPUs = 6.88 per GPU-hour; Capacity Block USD 31.464/h = 3.933. At the scenario's 60% serving
    # utilisation: 6.88 x 2 / (3600 x 6428 x 0.6) x 1e6 = 0.991 and 3.933 x 2 / (...) = 0.5665.
    r = rows["S0-037"]
    chk = _check(r, "measured H100 FP8 throughput")
    on_demand = 6.88 * 2 / (3600 * 6428 * 0.6) * 1e6
    capacity_block = 31.464 / 8 * 2 / (3600 * 6428 * 0.6) * 1e6
    assert on_demand == pytest.approx(0.99103, rel=1e-4)
    assert chk["rebuilt"] == pytest.approx(capacity_block, rel=1e-4)  # the favourable reading
    assert [o["rebuilt"] for o in chk["others"]] == [pytest.approx(on_demand, rel=1e-4)]
    # lower is better for the claim; its 0.50 is above the interval's optimistic end, so it passes
    assert chk["low"] < 0.5 < chk["high"]
    assert r.verdict == "plausible", r.explanation  # was implausible at BF16 and the ridge-point batch


def test_trainium2_cost_is_not_ruled_out_once_the_model_error_is_drawn(rows):
    # S0-036 "$0.35" on Trainium2: 16 chips at the Capacity Block price USD 35.7608/h. To be cheaper than
    # 0.35 per 1M tokens at 60% utilisation a trn2.48xlarge must generate
    # 35.7608 / (0.35 x 3600 x 0.6) x 1e6 = 47,300 tokens/s, a third of its FP8 compute roof
    # (16 x 1,299 TFLOPS / 140 GFLOP per token = 148,500 tokens/s): within reach, not beyond it.
    need = 35.7608 / (0.35 * 3600 * 0.6) * 1e6
    roof = 16 * 1299e12 / (2 * 70e9)
    assert need == pytest.approx(47302, rel=1e-3) and need / roof < 0.35
    r = rows["S0-036"]
    chk = _check(r, "modelled serving cost on trn2.48xlarge")
    assert chk["outcome"] == "passes" and chk["low"] < 0.35 / 0.95
    assert r.verdict == "plausible", r.explanation


def test_tpu_v5p_is_a_3d_torus_not_a_2d_mesh(rows):
    # S0-050 "TPU v5p, which uses a custom 2D mesh topology": Google Cloud's TPU v5p page lists the
    # interconnect topology as "3D torus" (8960 chips per pod).
    r = rows["S0-050"]
    assert r.rebuilt is False
    assert r.verdict == "contradicted", r.explanation


def test_llm_c_has_no_aws_all_reduce(rows):
    # S0-046 "[llm.c] has added support for AWS's custom all-reduce primitives": at commit f1e2ace
    # (2025-05-10) llm.c's all-reduce is ncclAllReduce and no file mentions Neuron, EFA or AWS.
    r = rows["S0-046"]
    assert r.verdict == "contradicted", r.explanation
    assert rows["S0-044"].verdict == "consistent"  # "by Andrej Karpathy": the licence's copyright holder


def test_ultracluster_torus_premise_is_contradicted_in_every_row_that_rests_on_it(rows):
    # AWS documents a 3D torus only inside a 64-chip Trn2 UltraServer; UltraCluster traffic crosses EFA.
    for cid in ("S0-001", "S0-004", "S0-005", "S0-006"):
        r = rows[cid]
        assert ("ultracluster-3d-torus", "no") in r.premise, cid
        assert r.verdict == "contradicted", (cid, r.explanation)
    # the one reading that is true (the UltraServer torus) is shown, not graded
    assert _check(rows["S0-004"], "AWS's Trn2 UltraServer")["outcome"] == "shown"


def test_torus_latency_reading_against_a_ring_clos_passes(rows):
    # S0-005 "up to 40%" lower latency. Latency term (alpha steps) of an all-reduce over 64 chips:
    # 3D torus 4x4x4, ring per dimension: 2 x (3 + 3 + 3) = 18 steps; Clos halving-doubling
    # 2 x log2(64) = 12 steps (torus 50% slower); Clos plain ring 2 x 63 = 126 steps:
    # 1 - 18/126 = 85.7% lower. "Up to 40%" passes under the ring reading.
    chk = _check(rows["S0-005"], "all-reduce latency term")
    assert chk["rebuilt"] == pytest.approx(100 * (1 - 18 / 126), rel=1e-6)
    assert [o["rebuilt"] for o in chk["others"]] == [pytest.approx(100 * (1 - 18 / 12), rel=1e-6)]
    assert chk["outcome"] == "passes"


def test_trainium2_has_collective_engines(rows):
    # S0-022 "a 'Ring All-Reduce' engine on-chip": the NKI Trainium2 architecture guide lists
    # "20 CC-Cores for collective communication".
    r = rows["S0-022"]
    assert r.rebuilt is True and r.verdict == "consistent"
    assert any(i.key == "facts.trainium2.cc_cores" and i.value == 20 for i in r.inputs)


def test_checkpoint_every_few_hours_holds_as_an_upper_limit(rows):
    # S0-008: the Young-Daly interval sqrt(2 x write time x MTBF) of a 1T run is minutes, so "the
    # optimum is a few hours" fails while "at least every few hours" holds: a reading rescues it.
    chk = _check(rows["S0-008"], "Young-Daly interval")
    assert chk["rebuilt"] is True and chk["reading"].startswith("at least every few hours")
    assert [o["rebuilt"] for o in chk["others"]] == [False]
    assert rows["S0-008"].verdict == "plausible"


def test_attention_dominates_only_at_long_context(rows):
    # S0-018 "attention ... the most compute-intensive part": 70B with 80 layers and d_attn 8192. Causal
    # prefill of T tokens costs 2 N T outside attention and 2 L d T^2 in it (QK^T and AV over the causal
    # half), equal at T = N / (L d) = 70e9 / (80 x 8192) = 106,812 tokens: 128 tokens fail, 131,072 pass.
    r = rows["S0-018"]
    thr = _check(r, "context length at which")["rebuilt"]
    assert thr == pytest.approx(70e9 / (80 * 8192), rel=1e-6)
    assert 128 < thr < 131072
    assert r.verdict == "plausible"
