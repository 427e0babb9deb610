"""The claim register: every quote is verbatim in its seed, every seed is covered."""
import pandas as pd
import pytest

from analysis import load_datasets


@pytest.fixture(scope="module")
def claims() -> pd.DataFrame:
    return load_datasets().claims


@pytest.mark.seeds
def test_every_quote_occurs_verbatim_in_its_seed(claims, seeds):
    texts = {}
    missing = []
    for row in claims.itertuples():
        if row.seed_file not in texts:
            texts[row.seed_file] = (seeds / row.seed_file).read_text(encoding="utf-8")
        if row.quote not in texts[row.seed_file]:
            missing.append(f"{row.claim_id}: {row.quote!r}")
    assert not missing, "quotes not found verbatim:\n" + "\n".join(missing)


@pytest.mark.seeds
def test_every_seed_file_is_registered(claims, seeds):
    files = sorted(p.name for p in seeds.glob("*.txt"))
    assert files == sorted(claims.seed_file.unique())
    sources = load_datasets().sources
    assert sorted(sources[sources.kind == "seed_article"].location) == files


def test_register_is_large_and_numbered_in_order(claims):
    assert len(claims) > 200
    for seed, group in claims.groupby(claims.claim_id.str[:2]):
        numbers = group.claim_id.str[3:].astype(int).tolist()
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), seed
        # ids are stable: a gap is a merged claim, and the claim it was merged into says so
        gaps = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        notes = " ".join(group.note.fillna(""))
        for g in gaps:
            assert f"{seed}-{g:03d}" in notes, f"{seed}-{g:03d} is gone but no note says where it was merged"
    # claim ids' seed digit matches the seed file
    assert (claims.claim_id.str[1] == claims.seed_file.str[2]).all()


def test_register_covers_every_kind_and_the_untraceable_products(claims):
    assert {"spec", "performance", "power", "cost", "market", "network", "storage", "reliability",
            "timeline", "arithmetic", "qualitative"} <= set(claims.kind)
    for subject in ("inferentia3", "burstcache"):
        assert (claims.subject == subject).sum() >= 2, subject
    assert claims.quote.str.contains("Sparse Attention Unit").any()


def test_table_cells_are_claims(claims):
    """Seed 000's spec table: each chip's peak FP16, bandwidth and power cell is a claim."""
    row = claims[claims.quote.str.startswith("| Peak FP16 TFLOPS")]
    assert sorted(row.claimed_value) == [400, 800, 989]
    bw = claims[claims.quote.str.startswith("| Memory Bandwidth (GB/s)")]
    assert sorted(bw.claimed_value) == [2400, 3200, 3350]


def test_no_claim_is_registered_twice(claims):
    """Two rows may share a quote only when they state different quantities (a table row's cells)."""
    key = claims[["seed_file", "quote", "claimed_value", "unit", "claimed_date"]].astype(str)
    dup = claims[key.duplicated(keep=False)]
    assert dup.empty, "same quote, number, unit and date: " + ", ".join(dup.claim_id)


def test_the_duplicate_check_catches_a_second_row_of_one_sentence(claims):
    # the test above on a register with one row copied under a new id must fail
    import pandas as pd
    row = claims.iloc[[0]].copy()
    row["claim_id"] = "S0-999"
    bad = pd.concat([claims, row])
    key = bad[["seed_file", "quote", "claimed_value", "unit", "claimed_date"]].astype(str)
    assert key.duplicated(keep=False).sum() == 2
