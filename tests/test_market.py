"""Market model against hand calculations, synthetic data with known parameters, and properties."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import load_datasets
from analysis import market as mk
from analysis.errors import StudyInputError


@pytest.fixture(scope="module")
def ds():
    return load_datasets()


# --- rates --------------------------------------------------------------------------------------

def test_cagr_seed_ai_cloud_revenue():
    # (95 / 45)^(1/2) - 1 = sqrt(2.1111) - 1 = 1.452966 - 1
    assert mk.cagr(45e9, 95e9, 2) == pytest.approx(0.452966, abs=1e-6)


def test_cagr_broadcasts():
    got = mk.cagr([100.0, 100.0], [[121.0, 200.0], [110.0, 400.0]], [2, 2])
    # 121 over 2y -> 10%; 200 -> sqrt(2) - 1 = 41.42%; 110 -> sqrt(1.1) - 1 = 4.881%; 400 -> 100%
    np.testing.assert_allclose(got, [[0.10, 0.414214], [0.048809, 1.0]], atol=1e-6)


def test_implied_growth_rates_seed_table():
    rates = mk.implied_growth_rates(pd.Series([45.0, 68.0, 95.0], index=[2024, 2025, 2026]))
    assert list(rates.kind) == ["yoy", "yoy", "cagr"]
    # 68/45 = 1.51111; 95/68 = 1.39706
    np.testing.assert_allclose(rates.rate, [0.511111, 0.397059, 0.452966], atol=1e-6)
    # (95 - 45) / 2 = 25 per year
    assert rates.points_per_year.iloc[-1] == 25.0


def test_implied_growth_rates_annualises_skipped_years():
    rates = mk.implied_growth_rates([100.0, 121.0, 133.1], years=[2020, 2022, 2023])
    # 100 -> 121 over two years is 10% a year; 121 -> 133.1 in one year is 10%
    np.testing.assert_allclose(rates.rate, [0.10, 0.10, 0.10], atol=1e-12)
    assert list(rates.years) == [2, 1, 3]


def test_implied_growth_rates_needs_years_and_two_points():
    with pytest.raises(StudyInputError, match="years"):
        mk.implied_growth_rates(np.array([1.0, 2.0]))
    with pytest.raises(StudyInputError, match="at least two"):
        mk.implied_growth_rates(pd.Series([1.0], index=[2024]))
    with pytest.raises(StudyInputError, match="increasing"):
        mk.implied_growth_rates([1.0, 2.0], years=[2025, 2024])


def test_share_points_per_year_aws_claim():
    # 30% -> 40% from mid-Q4 2024 (2024.875) to mid-Q1 2026 (2026.125): 10 / 1.25 = 8 points a year
    assert mk.share_points_per_year(30, 40, 2026.125 - 2024.875) == pytest.approx(8.0)


def test_years_to_reach():
    # doubling at 41.42% a year takes 2 years; ln 2 / ln 1.1 = 7.2725 years at 10%
    assert mk.years_to_reach(1, 2, 2 ** 0.5 - 1) == pytest.approx(2.0)
    assert mk.years_to_reach(1, 2, 0.10) == pytest.approx(7.272541, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(v0=st.floats(1e-3, 1e12), g=st.floats(-0.9, 5.0), n=st.integers(1, 30))
def test_cagr_inverts_compounding(v0, g, n):
    assert mk.cagr(v0, v0 * (1 + g) ** n, n) == pytest.approx(g, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(v0=st.floats(1e-3, 1e9), g=st.floats(-2.0, 2.0), n=st.floats(0.5, 20))
def test_continuous_rate_matches_cagr(v0, g, n):
    v1 = v0 * math.exp(g * n)
    assert mk.continuous_rate(v0, v1, n) == pytest.approx(g, abs=1e-9)
    assert mk.cagr(v0, v1, n) == pytest.approx(math.expm1(g), rel=1e-9, abs=1e-9)


# --- exponential fit --------------------------------------------------------------------------

def test_exponential_fit_recovers_exact_growth():
    t = np.arange(2018, 2025)
    v = 2.5e9 * np.exp(0.4 * (t - 2018))
    fit = mk.fit_exponential(t, v)
    assert fit.g == pytest.approx(0.4, abs=1e-10)
    assert fit.a == pytest.approx(2.5e9, rel=1e-10)
    assert fit.annual_growth == pytest.approx(math.exp(0.4) - 1, rel=1e-10)
    np.testing.assert_allclose(fit.residuals, 0, atol=1e-10)
    lo, hi = fit.g_ci()
    assert lo == pytest.approx(0.4, abs=1e-8) and hi == pytest.approx(0.4, abs=1e-8)


def test_exponential_fit_matches_hand_ols_and_t_interval():
    t = np.array([2019, 2020, 2021, 2022, 2023, 2024], dtype=float)
    y = np.array([0.00, 0.31, 0.55, 0.98, 1.22, 1.48])  # ln values, not on a line
    fit = mk.fit_exponential(t, np.exp(y))
    x = t - t.mean()
    slope = (x * (y - y.mean())).sum() / (x ** 2).sum()  # Sxy / Sxx, Sxx = 17.5
    resid = y - (y.mean() + slope * x)
    se = math.sqrt((resid ** 2).sum() / 4 / (x ** 2).sum())
    t_975_4 = 2.7764451  # Student t, 4 dof, two-sided 95% (printed tables)
    assert fit.g == pytest.approx(slope, abs=1e-10)
    lo, hi = fit.g_ci()
    assert lo == pytest.approx(slope - t_975_4 * se, abs=1e-6)
    assert hi == pytest.approx(slope + t_975_4 * se, abs=1e-6)
    np.testing.assert_allclose(fit.residuals, resid, atol=1e-10)


def test_exponential_fit_on_aws_revenue_matches_hand_log_ols(ds):
    fit = mk.fit_series(ds, "aws-revenue")
    t = np.arange(2019, 2025, dtype=float)
    y = np.log([35.026e9, 45.370e9, 62.202e9, 80.096e9, 90.757e9, 107.556e9])
    x = t - t.mean()
    assert isinstance(fit, mk.ExponentialFit)
    assert fit.g == pytest.approx((x * y).sum() / (x ** 2).sum(), abs=1e-10)
    assert fit.n == 6 and fit.dof == 4


def test_four_equally_spaced_points_fit_matches_hand_slope(ds):
    # Synergy's cloud infrastructure market, 2022-2025: 228.4, 270.4, 330.4, 419.0 USD bn. Centred years
    # x = -1.5, -0.5, 0.5, 1.5 (sum of squares 5), so the OLS slope of ln(y) is
    # (-1.5 ln 228.4 - 0.5 ln 270.4 + 0.5 ln 330.4 + 1.5 ln 419.0) / 5 = 0.202072.
    fit = mk.fit_series(ds, "cloud-infra-market")
    hand = (-1.5 * math.log(228.4) - 0.5 * math.log(270.4) + 0.5 * math.log(330.4) + 1.5 * math.log(419.0)) / 5
    assert fit.g == pytest.approx(hand, abs=1e-10)
    assert fit.g == pytest.approx(0.202072, abs=1e-6)
    assert fit.n == 4


def test_exponential_fit_rejects_bad_input():
    with pytest.raises(StudyInputError, match="at least 3"):
        mk.fit_exponential([2020, 2021], [1.0, 2.0])
    with pytest.raises(StudyInputError, match="positive"):
        mk.fit_exponential([2020, 2021, 2022], [1.0, 0.0, 2.0])


# --- logistic fit -----------------------------------------------------------------------------

def test_logistic_fit_recovers_known_parameters():
    rng = np.random.default_rng(7)
    t = np.arange(2019, 2041, dtype=float)  # lowest true share 0.012, four noise sd above zero
    s = 0.8 / (1 + np.exp(-0.6 * (t - 2026))) + rng.normal(0, 0.003, t.size)
    fit = mk.fit_logistic(t, s)
    assert fit.K == pytest.approx(0.8, abs=0.01)
    assert fit.r == pytest.approx(0.6, abs=0.03)
    assert fit.t_mid == pytest.approx(2026, abs=0.2)


def test_logistic_confidence_intervals_cover_about_95_percent():
    # 100 synthetic data sets (seeds 0..99): a calibrated 95% interval covers the truth about
    # 95 times (binomial sd 2.2), so 88..100 would fail only for a miscalibrated interval
    t = np.arange(2019, 2041, dtype=float)
    true = {"K": 0.8, "r": 0.6, "t_mid": 2026.0}
    hits = dict.fromkeys(true, 0)
    for seed in range(100):
        rng = np.random.default_rng(seed)
        ci = mk.fit_logistic(t, 0.8 / (1 + np.exp(-0.6 * (t - 2026))) + rng.normal(0, 0.003, t.size)).ci()
        for p, v in true.items():
            hits[p] += ci[p][0] < v < ci[p][1]
    assert all(88 <= h <= 100 for h in hits.values()), hits


def test_logistic_fit_keeps_K_at_most_one():
    # saturating at 100%: true K = 1 sits on the bound, the fit may not exceed it
    rng = np.random.default_rng(3)
    t = np.arange(2000, 2031, dtype=float)
    s = np.clip(1 / (1 + np.exp(-0.5 * (t - 2012))) + rng.normal(0, 0.01, t.size), 0.001, 0.999)
    fit = mk.fit_logistic(t, s)
    assert 0.95 < fit.K <= 1.0
    assert fit.ci()["K"][1] <= 1.0


def test_logistic_through_seed_custom_infra_share_is_exact():
    # 15, 35, 55% in 2024-26 lie on a line, so the logistic's inflection is the middle point:
    # t_mid = 2025, K = 2 * 0.35 = 0.70; 0.15 = 0.70 / (1 + e^r) -> r = ln(0.70/0.15 - 1) = ln(11/3)
    fit = mk.fit_logistic([2024, 2025, 2026], [0.15, 0.35, 0.55])
    assert fit.K == pytest.approx(0.70, abs=1e-6)
    assert fit.r == pytest.approx(math.log(11 / 3), abs=1e-5)
    assert fit.t_mid == pytest.approx(2025.0, abs=1e-6)
    assert fit.dof == 0 and all(math.isnan(lo) for lo, _ in fit.ci().values())


def test_logistic_rejects_percent_values():
    with pytest.raises(StudyInputError, match="fractions"):
        mk.fit_logistic([2024, 2025, 2026], [15, 35, 55])
    with pytest.raises(StudyInputError, match="fractions"):
        mk.fit_logistic([2024, 2025, 2026], [-0.1, 0.35, 0.55])


# --- projections ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def noisy_fit():
    rng = np.random.default_rng(11)
    t = np.arange(2015, 2025, dtype=float)
    return mk.fit_exponential(t, 10 * np.exp(0.3 * (t - 2015) + rng.normal(0, 0.05, t.size)))


def test_projection_band_contains_central_and_widens(noisy_fit):
    p = mk.project_exponential(noisy_fit, [2020, 2025, 2030])
    assert (p.low < p.central).all() and (p.central < p.high).all()
    width = np.log(p.high / p.low)
    assert width.iloc[0] < width.iloc[1] < width.iloc[2]  # further from the data, wider


def test_projection_band_matches_t_prediction_interval_of_the_mean(noisy_fit):
    # ln band = ln central -/+ t_{0.95, dof} * sqrt(x' C x), x = (1, t - t0): exact for a linear
    # model with multivariate-t parameters; 8 dof -> t_{0.95} = 1.859548
    p = mk.project_exponential(noisy_fit, [2028.0]).iloc[0]
    x = np.array([1.0, 2028.0 - noisy_fit.t0])
    half = 1.859548 * math.sqrt(x @ noisy_fit.cov @ x)
    assert noisy_fit.dof == 8
    assert math.log(p.high / p.central) == pytest.approx(half, rel=0.03)
    assert math.log(p.central / p.low) == pytest.approx(half, rel=0.03)


def test_projection_is_deterministic(noisy_fit):
    a = mk.project_exponential(noisy_fit, [2026, 2027])
    b = mk.project_exponential(noisy_fit, [2026, 2027])
    pd.testing.assert_frame_equal(a, b)
    c = mk.project_exponential(noisy_fit, [2026, 2027], seed=1)
    assert not np.allclose(a.high, c.high, rtol=0, atol=0)


def test_logistic_projection_band_contains_central():
    rng = np.random.default_rng(5)
    t = np.arange(2012, 2025, dtype=float)
    s = 0.6 / (1 + np.exp(-0.7 * (t - 2019))) * np.exp(rng.normal(0, 0.03, t.size))  # stays in (0, 1)
    fit = mk.fit_logistic(t, s)
    p = mk.project_logistic(fit, [2020, 2026, 2030])
    assert (p.low <= p.central).all() and (p.central <= p.high).all()
    assert (p.high <= 1.0).all() and (p.low >= 0.0).all()


def test_projection_needs_degrees_of_freedom():
    fit = mk.fit_logistic([2024, 2025, 2026], [0.15, 0.35, 0.55])
    with pytest.raises(StudyInputError, match="degrees of freedom"):
        mk.project_logistic(fit, [2027])


# --- datasets ---------------------------------------------------------------------------------

def test_unknown_series_names_the_valid_ones(ds):
    with pytest.raises(StudyInputError) as exc:
        mk.market_series(ds, "aws-revenu")
    assert "market.csv" in str(exc.value) and "'aws-revenue'" in str(exc.value)
    with pytest.raises(StudyInputError, match="nvidia-datacenter-revenue"):
        mk.fit_series(ds, "zzz")


def test_fit_results_table(ds):
    fr = mk.fit_results(ds)
    assert list(fr.columns) == mk.FIT_COLUMNS
    fitted = fr[fr.model == "exponential"]
    assert set(fitted.scope) == {"aws-revenue", "cloud-infra-market", "nvidia-datacenter-revenue"}
    assert "aws-cloud-share" not in set(fr.scope)  # one point: nothing to fit
    g = fitted[fitted.parameter == "g"]
    assert (g.ci_low < g.value).all() and (g.value < g.ci_high).all()
    # seed series: implied rates only, never a fit with a confidence interval
    seed = fr[fr.scope.str.startswith("seed0-")]
    assert set(seed.model) <= {"implied", "logistic"} and seed.ci_low.isna().all()
    cg = seed[(seed.scope == "seed0-ai-cloud-revenue") & (seed.parameter == "cagr")].value.iloc[0]
    assert cg == pytest.approx((95 / 45) ** 0.5 - 1)
    K = seed[(seed.scope == "seed0-tco-reduction") & (seed.parameter == "K")].value.iloc[0]
    assert K == pytest.approx(2 * 0.25, abs=1e-6)  # linear 10, 25, 40% -> K = 2 x middle
    nv = fr[(fr.scope == "nvidia-datacenter-revenue") & (fr.parameter == "cagr")].value.iloc[0]
    assert nv == pytest.approx((115.186 / 2.983) ** (1 / 5) - 1)
    pd.testing.assert_frame_equal(fr, mk.fit_results(ds))


def test_consistency_checks_numbers(ds):
    cc = mk.consistency_checks(ds)
    row = cc[(cc.comparator_scope == "aws-revenue") & (cc.comparator_quantity == "cagr_2022_2024")].iloc[0]
    assert row.value == pytest.approx(0.452966, abs=1e-6)
    assert row.comparator_value == pytest.approx((107.556 / 80.096) ** 0.5 - 1)  # 15.88%
    assert row.ratio == pytest.approx(row.value / row.comparator_value)
    size = cc[(cc.check == "size") & (cc.comparator_scope == "cloud-infra-market")].iloc[0]
    assert size.ratio == pytest.approx(45 / 330.4)
    nv_size = cc[(cc.check == "size") & (cc.comparator_scope == "nvidia-datacenter-revenue")].iloc[0]
    assert nv_size.comparator_value == 115.186e9  # FY2025 is calendar 2024
    pts = cc[cc.quantity == "points_per_year"].value.iloc[0]
    assert pts == pytest.approx(8.0)
    need = cc[cc.quantity == "cagr_needed_from_nvidia_dc"].value.iloc[0]
    assert need == pytest.approx((150 / 115.186) ** (1 / 3) - 1)  # 9.20%
    aws_ai = cc[cc.quantity == "aws_ai_revenue_2024"].iloc[0]
    assert aws_ai.value == pytest.approx(0.30 * 45e9) and aws_ai.ratio == pytest.approx(13.5 / 107.556)
    band = cc[cc.comparator_quantity.str.startswith("trend_projection")]
    assert (band.comparator_ci_low < band.comparator_value).all()
    assert (band.comparator_value < band.comparator_ci_high).all()
    text = cc.select_dtypes([object, "string"])
    assert not text.isin(["consistent", "inconsistent", "plausible"]).any().any()  # numbers, not verdicts
    pd.testing.assert_frame_equal(cc, mk.consistency_checks(ds))
