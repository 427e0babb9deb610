"""Training: time, chip-hours and cost of a run; Chinchilla sizing; an MFU model fitted to published runs.

Notation: N = active parameters per token, D = training tokens, C = training FLOPs (6 N D, see
:func:`analysis.workloads.training_flops`), n = chips, P = peak dense BF16 TFLOPS per chip
(``bf16_dense_tflops`` in hardware.csv), MFU = model FLOPs utilisation (C / (time x n x P)).

The model functions are pure and broadcast over numpy arrays, so Monte Carlo draws pass straight
through. The fitting functions take a :class:`~analysis.datasets.Datasets` (or the run table derived
from it) and do no I/O.

Chip-hours model (used by :func:`predict_training` and :func:`fitted_mfu`; see the block comment
above :func:`decimal_year`): chip-hours = F D / (3600 P 1e12 eta) with F the executed FLOPs per token
(6 N, plus attention matmuls at the run's sequence length and a 4/3 factor for full activation
recompute, counted as PaLM's MFU counts them) and ln eta linear in chip generation and software
era (:data:`HOURS_SPEC`, a fixed specification), capped at the best efficiency of any published run,
fitted to published full runs (:func:`hours_run_table`).
Predictions carry 90% intervals from seeded draws of the fit's parameters plus the model's
leave-one-out residuals (:func:`predict_training_draws`); ``python -m analysis validate`` reports the
held-out errors beside the naive 6ND / (peak x 0.4).

MFU model (see :func:`fit_mfu`, kept for chapter 4's MFU-by-family figure): logit(MFU) of every
published run that has enough data (:func:`run_mfu_table`) is fitted three ways: pooled (one mean),
family (one mean per chip family, OLS) and partial pooling (family means shrunk towards the pooled
mean by the empirical-Bayes weight tau^2 / (tau^2 + s^2 / n_family)). A scale term b log10(chips) is
fitted too and enters its predictions only if its 95% CI excludes zero (see :func:`fit_results`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .datasets import memo_on_datasets
from . import cost as _cost
from . import power as _power
from .errors import StudyInputError
from .workloads import training_flops

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
PEAK_METRIC = "bf16_dense_tflops"
#: Chips assumed by :func:`predict_training` when the caller gives none.
DEFAULT_CHIPS = 1024
#: Runs whose published utilisation counts activation recomputation (hardware FLOPs, 8ND) rather
#: than model FLOPs (6ND); MFU = reported x 6/8. Megatron's 163 TFLOP/s per A100 uses the formula
#: 96 B s l h^2 (...) of Narayanan et al. (2021), i.e. 4 forward passes' worth with recomputation
#: against 3 without (72 B s l h^2), so MFU ~ 0.52 x 72/96 = 0.39.
HFU_TO_MFU = {"megatron-1t-benchmark": 72.0 / 96.0}
CI_LEVEL = 0.95


# --- argument checks ----------------------------------------------------------------------------

def _check_positive(where: str, name: str, x, *, integer: bool = False):
    a = np.asarray(x, dtype=float)
    bad = ~np.isfinite(a) | (a <= 0)
    if integer:
        bad |= (a < 1)
    if np.any(bad):
        shown = a[bad].ravel()[0]
        raise StudyInputError(where, f"{name} must be positive, got {shown:g}", field=name,
                              expected="a whole number >= 1" if integer else f"{name} > 0")
    return a


def _check_fraction(where: str, name: str, x):
    a = np.asarray(x, dtype=float)
    bad = ~np.isfinite(a) | (a <= 0) | (a > 1)
    if np.any(bad):
        raise StudyInputError(where, f"{name} {a[bad].ravel()[0]:g} is not a utilisation",
                              field=name, expected="a fraction in (0, 1], e.g. 0.4")
    return a


def _scalar_or_array(x):
    a = np.asarray(x, dtype=float)
    return float(a) if a.ndim == 0 else a


# --- time, chip-hours, cost ---------------------------------------------------------------------

def training_time_s(flops, chips, peak_tflops, mfu):
    """Wall time, s = C / (n x P x 1e12 x MFU)."""
    f = np.asarray(flops, dtype=float)
    if np.any(f < 0):
        raise StudyInputError("training_time_s", "negative FLOPs", field="flops", expected="flops >= 0")
    n = _check_positive("training_time_s", "chips", chips)
    p = _check_positive("training_time_s", "peak_tflops", peak_tflops)
    u = _check_fraction("training_time_s", "mfu", mfu)
    return f / (n * p * 1e12 * u)


def training_days(flops, chips, peak_tflops, mfu):
    """Wall time in days = training_time_s / 86,400."""
    return training_time_s(flops, chips, peak_tflops, mfu) / SECONDS_PER_DAY


def training_chip_hours(flops, peak_tflops, mfu):
    """Chip-hours = C / (P x 1e12 x MFU x 3600); independent of the chip count."""
    return training_time_s(flops, 1.0, peak_tflops, mfu) / SECONDS_PER_HOUR


def chip_hours_from_wall_days(wall_days, chips):
    """Chip-hours = wall days x 24 x chips."""
    return np.asarray(wall_days, dtype=float) * 24.0 * np.asarray(chips, dtype=float)


def mfu_from_chip_hours(flops, chip_hours, peak_tflops):
    """MFU = C / (chip-hours x 3600 x P x 1e12)."""
    h = _check_positive("mfu_from_chip_hours", "chip_hours", chip_hours)
    p = _check_positive("mfu_from_chip_hours", "peak_tflops", peak_tflops)
    return np.asarray(flops, dtype=float) / (h * SECONDS_PER_HOUR * p * 1e12)


def flops_in_time(chips, peak_tflops, mfu, time_s):
    """FLOPs a cluster delivers: n x P x 1e12 x MFU x time (the inverse of training_time_s)."""
    return (np.asarray(chips, dtype=float) * np.asarray(peak_tflops, dtype=float) * 1e12
            * np.asarray(mfu, dtype=float) * np.asarray(time_s, dtype=float))


def flops_per_usd(peak_tflops, mfu, usd_per_chip_hour):
    """Model FLOPs bought per dollar: P x 1e12 x MFU x 3600 / price per chip-hour."""
    return (np.asarray(peak_tflops, dtype=float) * 1e12 * np.asarray(mfu, dtype=float) * SECONDS_PER_HOUR
            / np.asarray(usd_per_chip_hour, dtype=float))


def training_cost_usd(flops, peak_tflops, mfu, usd_per_chip_hour):
    """Cost = chip-hours x price = C / (P x 1e12 x MFU x 3600) x USD per chip-hour."""
    return _cost.run_cost_usd(training_chip_hours(flops, peak_tflops, mfu), usd_per_chip_hour)


# --- Chinchilla -----------------------------------------------------------------------------------

def compute_optimal_params(budget_flops, tokens_per_param):
    """Compute-optimal parameters for a budget: with C = 6 N D and D = r N, N = sqrt(C / (6 r))."""
    c = np.asarray(budget_flops, dtype=float)
    if np.any(c < 0):
        raise StudyInputError("compute_optimal", "negative FLOP budget", field="budget_flops",
                              expected="budget_flops >= 0")
    r = _check_positive("compute_optimal", "tokens_per_param", tokens_per_param)
    return np.sqrt(c / (6.0 * r))


def compute_optimal(budget_flops, tokens_per_param):
    """(N, D) for a budget: N = sqrt(C / (6 r)), D = r N (Hoffmann et al. 2022, r ~ 20)."""
    n = compute_optimal_params(budget_flops, tokens_per_param)
    return n, np.asarray(tokens_per_param, dtype=float) * n


def compute_optimal_budget_flops(params, tokens_per_param):
    """The inverse: the budget for which N parameters are compute-optimal, C = 6 N (r N) = 6 r N^2."""
    n = _check_positive("compute_optimal_budget_flops", "params", params)
    r = _check_positive("compute_optimal_budget_flops", "tokens_per_param", tokens_per_param)
    return 6.0 * r * n**2


# --- MFU of published runs ------------------------------------------------------------------------

def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p / (1.0 - p))


def _inv_logit(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _active_params(ds, run) -> float:
    """Active parameters per token: workloads.csv's params_active for MoE models, else the run's N."""
    w = ds.workloads[ds.workloads.model_id == run.model_id]
    if not w.empty and w.arch.iloc[0] == "moe":
        return float(w.params_active.iloc[0])
    return float(run.params)


def run_mfu_table(ds) -> pd.DataFrame:
    """MFU of every published run, and how it was obtained (``mfu_path``).

    Paths, in order of preference: ``reported`` (the publication's MFU; x 6/8 where it counts
    recomputation, see HFU_TO_MFU), ``chip_hours`` (MFU = 6 N D / (chip-hours x 3600 x P)),
    ``wall_days_x_chips`` (chip-hours = wall days x 24 x chips). Runs with none of these keep a
    NaN MFU and ``mfu_path`` saying what is missing. N is the active parameter count (MoE).
    ``published_chip_hours`` is the chip-hour figure the run states or implies (NaN if none).
    """
    fam = ds.chips.set_index("chip_id").family
    rows = []
    for _, r in ds.training_runs.iterrows():
        n_act = _active_params(ds, r)
        peak = ds.spec(r.chip_id, PEAK_METRIC)
        chips = float(r.chips) if not pd.isna(r.chips) else np.nan
        tokens = float(r.tokens) if not pd.isna(r.tokens) else np.nan
        flops = float(training_flops(n_act, tokens)) if not np.isnan(tokens) else np.nan
        hours, hours_basis = np.nan, ""
        if not pd.isna(r.chip_hours):
            hours, hours_basis = float(r.chip_hours), "chip_hours"
        elif not pd.isna(r.wall_days) and not np.isnan(chips):
            hours, hours_basis = float(chip_hours_from_wall_days(r.wall_days, chips)), "wall_days_x_chips"
        if not pd.isna(r.reported_mfu):
            factor = HFU_TO_MFU.get(r.run_id, 1.0)
            mfu = float(r.reported_mfu) * factor
            path = "reported" if factor == 1.0 else f"reported_hfu_x_{factor:.2f}"
        elif not np.isnan(hours) and not np.isnan(flops):
            mfu, path = float(mfu_from_chip_hours(flops, hours, peak)), hours_basis
        else:
            missing = "tokens" if np.isnan(flops) else "reported MFU, chip-hours or wall days x chips"
            mfu, path = np.nan, f"none: no {missing}"
        rows.append(dict(run_id=r.run_id, model_id=r.model_id, chip_id=r.chip_id, family=fam[r.chip_id],
                         chips=chips, params_active=n_act, tokens=tokens, flops=flops, peak_tflops=peak,
                         mfu=mfu, mfu_path=path, published_chip_hours=hours,
                         chip_hours_basis=hours_basis, basis=r.basis))
    return pd.DataFrame(rows)


# --- MFU fit --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Coef:
    """One fitted coefficient on the logit scale: estimate, standard error, points behind it."""

    est: float
    se: float
    n: int


@dataclass(frozen=True)
class MfuFit:
    """logit(MFU) = a_family (family model), a_pooled (pooled model), shrunk family means (partial
    pooling, ``shrunk``; between-family variance ``tau2``), a'_family + b log10(chips) (scale model).
    ``t`` values are the two-sided 95% t quantiles at each model's residual dof."""

    family: dict[str, Coef]
    shrunk: dict[str, Coef]
    shrink_weight: dict[str, float]
    tau2: float
    pooled: Coef
    resid_sd: float
    dof: int
    t_family: float
    pooled_sd: float
    t_pooled: float
    family_effect_p: float
    scale_family: dict[str, Coef] = field(default_factory=dict)
    slope: Coef | None = None
    scale_resid_sd: float = float("nan")
    t_scale: float = float("nan")
    family_chips: dict[str, str] = field(default_factory=dict)

    @property
    def slope_used(self) -> bool:
        """The scale term is used only where its 95% CI excludes zero."""
        if self.slope is None or not np.isfinite(self.slope.se):
            return False
        half = self.t_scale * self.slope.se
        return bool(self.slope.est - half > 0 or self.slope.est + half < 0)


def _ols(X: np.ndarray, y: np.ndarray):
    """Least squares: (beta, covariance s^2 (X'X)^-1, residual SD s, residual dof)."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    dof = len(y) - X.shape[1]
    s = float(np.sqrt(resid @ resid / dof)) if dof > 0 else float("nan")
    cov = s**2 * np.linalg.pinv(X.T @ X)
    return beta, cov, s, dof


def _t(dof: int) -> float:
    return float(stats.t.ppf(0.5 + CI_LEVEL / 2, dof)) if dof > 0 else float("nan")


def _partial_pooling(family: dict[str, Coef], pooled: Coef, s: float, k: int):
    """Empirical-Bayes shrinkage of family means m_f towards the pooled mean m (one-way random effects).

    Between-family variance by moments: tau^2 = max(0, (MSB - s^2) / n0) with
    MSB = sum n_f (m_f - m)^2 / k, n0 = (N - sum n_f^2 / N) / k (k + 1 families, N runs). Weight
    B_f = tau^2 / (tau^2 + s^2 / n_f); shrunk mean = m + B_f (m_f - m); its variance, approximately,
    B_f s^2 / n_f + (1 - B_f)^2 se(m)^2 (ignoring the uncertainty of tau^2).
    Returns (shrunk coefficients, weights B_f, tau^2).
    """
    if k < 1 or not np.isfinite(s):
        return ({f: Coef(pooled.est, pooled.se, c.n) for f, c in family.items()},
                {f: 0.0 for f in family}, 0.0)
    n = np.array([c.n for c in family.values()], dtype=float)
    m = np.array([c.est for c in family.values()])
    big_n = n.sum()
    msb = float((n * (m - pooled.est) ** 2).sum() / k)
    n0 = (big_n - (n**2).sum() / big_n) / k
    tau2 = max(0.0, (msb - s**2) / n0)
    shrunk, weight = {}, {}
    for f, c in family.items():
        b = tau2 / (tau2 + s**2 / c.n) if tau2 > 0 else 0.0
        var = b * s**2 / c.n + (1 - b) ** 2 * pooled.se**2
        shrunk[f] = Coef(pooled.est + b * (c.est - pooled.est), float(np.sqrt(var)), c.n)
        weight[f] = b
    return shrunk, weight, tau2


def fit_mfu(runs: pd.DataFrame) -> MfuFit:
    """Fit the MFU models to a run table (columns family, chips, mfu; rows with NaN MFU ignored).

    Family model: logit(MFU_i) = a_f(i) + e_i, e ~ N(0, s^2) with s shared by all families (so a
    family with one run still gets a CI, from the others' spread). Pooled: logit(MFU) = a + e.
    Partial pooling: family means shrunk towards the pooled mean (:func:`_partial_pooling`).
    Scale model (runs with a chip count): logit(MFU) = a'_f + b log10(chips) + e.
    """
    d = runs[runs.mfu.notna()]
    if len(d) < 2:
        raise StudyInputError("fit_mfu", f"{len(d)} run(s) with an MFU", expected="at least 2 runs")
    y = _logit(d.mfu.to_numpy())
    fams = sorted(d.family.unique())
    X = np.column_stack([(d.family == f).to_numpy(float) for f in fams])
    beta, cov, s, dof = _ols(X, y)
    family = {f: Coef(float(beta[i]), float(np.sqrt(cov[i, i])), int((d.family == f).sum()))
              for i, f in enumerate(fams)}
    pb, pcov, ps, pdof = _ols(np.ones((len(y), 1)), y)
    # F test: family indicators against the pooled mean
    rss_f = s**2 * dof if dof > 0 else 0.0
    rss_p = ps**2 * pdof
    k = len(fams) - 1
    p_fam = (float(stats.f.sf(((rss_p - rss_f) / k) / (rss_f / dof), k, dof))
             if k > 0 and dof > 0 and rss_f > 0 else float("nan"))
    pooled = Coef(float(pb[0]), float(np.sqrt(pcov[0, 0])), len(y))
    shrunk, weight, tau2 = _partial_pooling(family, pooled, s, k)
    chips_of = ({f: ", ".join(sorted(d[d.family == f].chip_id.unique())) for f in fams}
                if "chip_id" in d else {})
    fit = dict(family=family, shrunk=shrunk, shrink_weight=weight, tau2=tau2, pooled=pooled,
               resid_sd=s, dof=dof, t_family=_t(dof), pooled_sd=ps, t_pooled=_t(pdof), family_effect_p=p_fam,
               family_chips=chips_of)
    dc = d[d.chips.notna()]
    sfams = sorted(dc.family.unique())
    if len(dc) >= len(sfams) + 2 and dc.chips.nunique() > 1:
        Xs = np.column_stack([(dc.family == f).to_numpy(float) for f in sfams]
                             + [np.log10(dc.chips.to_numpy(float))])
        b, c, ss, sdof = _ols(Xs, _logit(dc.mfu.to_numpy()))
        fit.update(scale_family={f: Coef(float(b[i]), float(np.sqrt(c[i, i])), int((dc.family == f).sum()))
                                 for i, f in enumerate(sfams)},
                   slope=Coef(float(b[-1]), float(np.sqrt(c[-1, -1])), len(dc)),
                   scale_resid_sd=ss, t_scale=_t(sdof))
    return MfuFit(**fit)


@memo_on_datasets
def mfu_fit(ds) -> MfuFit:
    """:func:`fit_mfu` over every published run with an MFU (:func:`run_mfu_table`)."""
    return fit_mfu(run_mfu_table(ds))


MFU_MODELS = ("partial_pooling", "family", "pooled")


def predict_mfu(fit: MfuFit, family: str, chips=None, model: str = "partial_pooling"):
    """Fitted MFU for a chip family, inv_logit of the model's logit mean: the shrunk family mean
    (``partial_pooling``, default), the family's own mean (``family``) or the pooled mean
    (``pooled``). If the scale term is supported (:attr:`MfuFit.slope_used`) and the family has runs
    with chip counts, inv_logit(a'_family + b log10(chips)) instead. Families without a run take the
    pooled mean. Returns (MFU, description of the source)."""
    if model not in MFU_MODELS:
        raise StudyInputError("predict_mfu", f"unknown MFU model '{model}'", field="model",
                              expected="one of " + ", ".join(MFU_MODELS))
    on = f" on {fit.family_chips[family]}" if family in fit.family_chips else ""
    if model == "pooled":
        return _inv_logit(fit.pooled.est), f"fitted: pooled mean of {fit.pooled.n} runs"
    if fit.slope_used and family in fit.scale_family and chips is not None:
        a = fit.scale_family[family]
        x = a.est + fit.slope.est * np.log10(np.asarray(chips, dtype=float))
        return _inv_logit(x), f"fitted: {family} family with log10(chips) term ({a.n} run(s){on})"
    if family in fit.family:
        if model == "family":
            a = fit.family[family]
            return _inv_logit(a.est), f"fitted: {family} family mean of logit MFU ({a.n} run(s){on})"
        a, b = fit.shrunk[family], fit.shrink_weight[family]
        return (_inv_logit(a.est), f"fitted: {family} family mean ({a.n} run(s){on}) shrunk "
                f"{1 - b:.0%} towards the pooled mean of {fit.pooled.n} runs")
    return _inv_logit(fit.pooled.est), f"fitted: pooled mean of {fit.pooled.n} runs (no {family} run)"


def fitted_mfu(ds, chip_id: str, chips=None, params=None):
    """Fitted 6ND MFU of ``chip_id`` for a dense model of ``params`` parameters (default 70B) on
    DEFAULT_SEQ_LEN-token sequences in the latest year of the data, from the chip-hours model
    (:func:`hours_fit`): MFU = 6 N D / (chip-hours x 3600 x P). ``chips`` is accepted for the old
    signature and unused (cluster size is not a model feature). Returns (MFU, source)."""
    peak = ds.spec(chip_id, PEAK_METRIC)  # unknown chip -> StudyInputError naming valid ids
    params = REF_MFU_PARAMS if params is None else params
    fit = hours_fit(ds)
    layers, d = default_shape(params)
    hours = hours_point(fit, params, 1.0, peak, layers, d, DEFAULT_SEQ_LEN, announced=chip_announced(ds, chip_id))
    mfu = mfu_from_chip_hours(training_flops(params, 1.0), hours, peak)
    return _scalar_or_array(mfu), (f"fitted: chip-hours model at {float(np.max(params)) / 1e9:g}B dense, "
                                   f"{DEFAULT_SEQ_LEN}-token sequences ({fit.describe()})")


def fit_results(ds) -> pd.DataFrame:
    """The fitted MFU models: one row per parameter with a 95% CI.

    Columns: model, parameter, scope, value, ci_low, ci_high, unit, n_points, borrowed_from, method,
    note. MFU values are inv_logit of the fitted logit mean (a median MFU); their CIs are t intervals
    on the logit scale transformed back. ``borrowed_from`` names what a row relies on beyond its own
    runs.
    """
    runs = run_mfu_table(ds)
    fit = fit_mfu(runs)
    fam_of = ds.chips.set_index("chip_id").family
    rows = []
    m_family = "OLS of logit(MFU) on family indicators; t 95% CI with residual SD pooled over families"

    def mfu_row(model, scope, coef, t, method, borrowed="", note=""):
        lo, hi = coef.est - t * coef.se, coef.est + t * coef.se
        rows.append(dict(model=model, parameter="mfu", scope=scope, value=float(_inv_logit(coef.est)),
                         ci_low=float(_inv_logit(lo)), ci_high=float(_inv_logit(hi)), unit="fraction",
                         n_points=coef.n, borrowed_from=borrowed, method=method, note=note))

    m_pp = ("partial pooling: family mean of logit(MFU) shrunk towards the pooled mean, weight "
            "tau^2/(tau^2 + s^2/n); approximate t 95% CI")
    for f, coef in fit.shrunk.items():
        b = fit.shrink_weight[f]
        mfu_row("mfu_partial_pooling", f, coef, fit.t_family, m_pp,
                f"pooled mean ({1 - b:.0%} weight)" if b < 1 else "",
                f"runs on {fit.family_chips.get(f, '')}; used for predictions")
    for f in sorted(set(fam_of) - set(fit.family)):
        chips = ", ".join(sorted(fam_of[fam_of == f].index))
        mfu_row("mfu_partial_pooling", f, fit.pooled, fit.t_pooled, "pooled mean (no run on this family)",
                "pooled (all families)", f"no published run on {chips}; used for predictions")
    rows.append(dict(model="mfu_partial_pooling", parameter="between_family_sd_logit", scope="all",
                     value=float(np.sqrt(fit.tau2)), ci_low=np.nan, ci_high=np.nan, unit="logit",
                     n_points=fit.pooled.n, borrowed_from="", method="one-way random effects, method of moments",
                     note="tau; 0 would mean no family effect beyond run-to-run spread"))
    for f, coef in fit.family.items():
        borrowed = "residual SD of the other families" if coef.n == 1 else ""
        mfu_row("mfu_family", f, coef, fit.t_family, m_family, borrowed, f"runs on {fit.family_chips.get(f, '')}")
    for f in sorted(set(fam_of) - set(fit.family)):
        chips = ", ".join(sorted(fam_of[fam_of == f].index))
        mfu_row("mfu_family", f, fit.pooled, fit.t_pooled, "pooled mean (no run on this family)",
                "pooled (all families)", f"no published run on {chips}")
    rows.append(dict(model="mfu_family", parameter="residual_sd_logit", scope="all", value=fit.resid_sd,
                     ci_low=np.nan, ci_high=np.nan, unit="logit", n_points=fit.pooled.n, borrowed_from="",
                     method=m_family, note=f"{fit.dof} residual dof"))
    rows.append(dict(model="mfu_family", parameter="family_effect_p_value", scope="all",
                     value=fit.family_effect_p, ci_low=np.nan, ci_high=np.nan, unit="probability",
                     n_points=fit.pooled.n, borrowed_from="", method="F test: family indicators vs pooled mean",
                     note="small p: families differ beyond run-to-run spread"))
    mfu_row("mfu_pooled", "all", fit.pooled, fit.t_pooled, "mean of logit(MFU) over all runs; t 95% CI")
    rows.append(dict(model="mfu_pooled", parameter="residual_sd_logit", scope="all", value=fit.pooled_sd,
                     ci_low=np.nan, ci_high=np.nan, unit="logit", n_points=fit.pooled.n, borrowed_from="",
                     method="SD of logit(MFU)", note=""))
    if fit.slope is not None:
        b, t = fit.slope, fit.t_scale
        used = ("used in predictions: CI excludes 0" if fit.slope_used
                else "not used in predictions: CI includes 0 (no scale effect resolved)")
        rows.append(dict(model="mfu_scale", parameter="slope_logit_per_decade_of_chips",
                         scope="within family", value=b.est, ci_low=b.est - t * b.se, ci_high=b.est + t * b.se,
                         unit="logit per log10(chips)", n_points=b.n, borrowed_from="",
                         method="OLS of logit(MFU) on family indicators + log10(chips); t 95% CI",
                         note=f"runs with a chip count only; {used}"))
        rows.append(dict(model="mfu_scale", parameter="residual_sd_logit", scope="all", value=fit.scale_resid_sd,
                         ci_low=np.nan, ci_high=np.nan, unit="logit", n_points=b.n, borrowed_from="",
                         method="OLS of logit(MFU) on family indicators + log10(chips)", note=""))
    rows.extend(hours_fit_results(ds))
    return pd.DataFrame(rows, columns=["model", "parameter", "scope", "value", "ci_low", "ci_high", "unit",
                                       "n_points", "borrowed_from", "method", "note"])


def loo_table(ds) -> pd.DataFrame:
    """Leave-one-out check of the family model: refit without each run and predict it.

    Runs of the same model on the same chip (e.g. Llama 3.1 405B's model card and paper) are left
    out together, so a duplicate cannot predict itself. Predicted chip-hours = 6 N D / (P x 3600 x
    predicted MFU), compared with the published (or wall days x chips) figure where one exists.
    Errors are signed percentages: 100 (predicted / published - 1). Main columns: partial pooling
    (the prediction model); ``*_family`` and ``*_pooled``: the same check for the unshrunk family
    means and for one MFU for every chip, to show what family offsets add.
    """
    return loo_from_runs(run_mfu_table(ds))


def loo_from_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """:func:`loo_table` over a run table with the columns of :func:`run_mfu_table`."""
    have = runs[runs.mfu.notna()]
    group = have.model_id + "@" + have.chip_id
    rows = []
    for i, r in have.iterrows():
        fit = fit_mfu(have[group != group[i]])
        chips = r.chips if not np.isnan(r.chips) else None
        row = dict(run_id=r.run_id, chip_id=r.chip_id, family=r.family, chips=r.chips, mfu_path=r.mfu_path,
                   published_mfu=r.mfu, published_chip_hours=r.published_chip_hours)
        for model, suffix in (("partial_pooling", ""), ("family", "_family"), ("pooled", "_pooled")):
            pred, source = predict_mfu(fit, r.family, chips, model)
            pred = float(pred)
            hours = float(training_chip_hours(r.flops, r.peak_tflops, pred)) if not np.isnan(r.flops) else np.nan
            row.update({f"predicted_mfu{suffix}": pred, f"mfu_error_pct{suffix}": 100 * (pred / r.mfu - 1),
                        f"predicted_chip_hours{suffix}": hours,
                        f"chip_hours_error_pct{suffix}": 100 * (hours / r.published_chip_hours - 1)})
            if not suffix:
                row["predicted_from"] = source
        rows.append(row)
    return pd.DataFrame(rows)


def loo_summary(ds) -> dict:
    """Median absolute % error of the leave-one-out predictions (MFU over every run with one;
    chip-hours over runs with a published figure) for partial pooling (no suffix), family means
    (``_family``) and the pooled mean (``_pooled``)."""
    t = loo_table(ds)
    out = dict(n_runs=len(t), n_chip_hours=int(t.chip_hours_error_pct.notna().sum()))
    for suffix in ("", "_family", "_pooled"):
        out[f"median_abs_mfu_error_pct{suffix}"] = float(t[f"mfu_error_pct{suffix}"].abs().median())
        out[f"median_abs_chip_hours_error_pct{suffix}"] = float(
            t[f"chip_hours_error_pct{suffix}"].dropna().abs().median())
    return out


# --- chip-hours model -----------------------------------------------------------------------------
#
# ln(eta) = x . beta,  chip-hours = F D / (3600 P 1e12 eta),  F = (6 N + c L d_attn T) (1 + r / 3)
#
# F is the FLOPs per token the chips execute: 6 N for the weight matmuls (forward 2 + backward 4),
# c L d_attn T for the attention score and value matmuls at sequence length T (c = 12 counts the full
# T x T square as PaLM's MFU does, c = 6 only the causal half a fused kernel computes, c = 0 ignores
# them), and a factor 4/3 when the run recomputes every layer's forward pass (r = 1, training_setups.csv
# says ``full``). eta is the share of peak the run achieved on those FLOPs, whole run (restarts,
# evaluation and idle time included, since published chip-hours include them). x holds the candidate
# features, each with a physical reading:
#
# * ``generation`` g = ln(P / 312 TFLOPS): how far the chip's peak is from an A100's. A faster chip
#   spends a larger share of each step on the parts that do not speed up with the tensor cores
#   (memory-bound element-wise work, communication), so eta falls with g.
# * ``generation_x_size`` g ln(N / 10B): the same, for the size of the matmuls: a small model's matmuls
#   are too small to keep a fast chip busy, a large one's are not.
# * ``size`` ln(N / 10B): matmul size on any chip.
# * ``era`` (year - 2023), the year of the run's first publication (training_setups.csv): software
#   (kernels, parallelism, fault handling) improves.
# * ``maturity`` (year - the chip's announcement, chips.csv): software for a given chip matures over
#   its life.
#
# Predictions do not extrapolate: peak, size, year and maturity are clipped to the span of the runs
# (HoursFit.ranges), and the year defaults to the latest in the data.
#
# The specification is fixed, not searched (:data:`HOURS_SPEC`): c = 12 and no recompute factor, which
# is how PaLM defines MFU (model FLOPs, rematerialisation excluded; Chowdhery et al. 2022, Table 3 and
# Appendix B), and the two effects every MFU report names, hardware generation and software era. A
# forward search over the accountings and all five features (:func:`select_hours_model`) reaches a
# lower in-sample leave-one-out error, but redone inside each fold it errs more than the fixed
# specification (``python -m analysis validate`` prints both), so the search is kept as a diagnostic.
# eta is capped at the best efficiency of any run in the fit (``ranges["efficiency"]``): the model
# never credits a run with a better share of peak than a published full run achieved.
# Cluster size is checked on the runs that publish a chip count (:func:`cluster_size_check`); MoE
# routing enters through N = active parameters per token (workloads.csv params_active).

REF_PEAK_TFLOPS = 312.0
#: hardware.csv metric of the peak a run's matmuls run at, by training_setups.csv precision.
PRECISION_PEAK = {"bf16": PEAK_METRIC, "fp8": "fp8_dense_tflops"}
REF_PARAMS = 1e10
REF_YEAR = 2023.0
ATTENTION_COEFS = (0.0, 6.0, 12.0)
RECOMPUTE_OPTIONS = (False, True)
HOURS_FEATURES = ("generation", "generation_x_size", "size", "era", "maturity")
#: A feature enters only if it lowers the leave-one-out median |error| by at least this (points).
MIN_GAIN_PP = 0.5
#: The chip-hours model's fixed specification (see the block comment above): PaLM's MFU accounting
#: (c = 12, no recompute factor) and ln eta linear in hardware generation and software era.
HOURS_SPEC = dict(attention_coef=12.0, recompute=False, features=("generation", "era"))
PI_LEVEL = 0.90
N_DRAWS = 4000
DRAW_SEED = 20240601
NAIVE_MFU = 0.4
#: Shape assumed for a dense model given only its parameter count: N = 12 L d^2 with d = 128 L.
SHAPE_ASPECT = 128.0
DEFAULT_SEQ_LEN = 4096
#: Reference run for :func:`fitted_mfu` (the MFU the ledger's mfu(chip) reads): 70B dense, 4096 tokens.
REF_MFU_PARAMS = 70e9


def decimal_year(text: str) -> float:
    """'2023-02-27' -> 2023.16, '2023-07' -> 2023.54 (mid-month), '2023' -> 2023.5."""
    parts = [int(p) for p in str(text).split("-")]
    if len(parts) == 1:
        return parts[0] + 0.5
    if len(parts) == 2:
        return parts[0] + (parts[1] - 0.5) / 12
    import datetime as _dt

    d = _dt.date(*parts)
    return parts[0] + (d.timetuple().tm_yday - 0.5) / (366 if d.year % 4 == 0 else 365)


def default_shape(params):
    """(layers, d_attn) of a dense model of N parameters with N = 12 L d^2 and d = 128 L:
    L = (N / (12 x 128^2))^(1/3), d = 128 L. 70e9 -> L = 70.9, d = 9,075 (Llama 2 70B: 80, 8,192)."""
    n = np.asarray(params, dtype=float)
    layers = (n / (12.0 * SHAPE_ASPECT**2)) ** (1.0 / 3.0)
    return layers, SHAPE_ASPECT * layers


def flops_per_token(params_active, n_layers, d_attn, seq_len, attention_coef=12.0, recompute=False):
    """Executed FLOPs per training token: (6 N + c L d_attn T) (1 + r / 3)."""
    f = (6.0 * np.asarray(params_active, dtype=float)
         + attention_coef * np.asarray(n_layers, dtype=float) * np.asarray(d_attn, dtype=float)
         * np.asarray(seq_len, dtype=float))
    return f * (1.0 + np.asarray(recompute, dtype=float) / 3.0)


def hours_features(names, peak_tflops, params_active, year, announced):
    """Design matrix [1, features...] for the chip-hours model (see the block comment above);
    ``announced`` is the decimal year of the chip's announcement."""
    g = np.log(np.asarray(peak_tflops, dtype=float) / REF_PEAK_TFLOPS)
    s = np.log(np.asarray(params_active, dtype=float) / REF_PARAMS)
    y = np.asarray(year, dtype=float)
    g, s, y, a = np.broadcast_arrays(g, s, y, np.asarray(announced, dtype=float))
    cols = {"generation": g, "generation_x_size": g * s, "size": s, "era": y - REF_YEAR, "maturity": y - a}
    return np.column_stack([np.ones(g.shape).ravel()] + [cols[k].ravel() for k in names])


def naive_chip_hours(params_active, tokens, peak_tflops, mfu=NAIVE_MFU):
    """The baseline: 6 N D / (P x 1e12 x 0.4 x 3600)."""
    return training_chip_hours(training_flops(params_active, tokens), peak_tflops, mfu)


def hours_run_table(ds) -> pd.DataFrame:
    """Published full runs the chip-hours model is fitted to: tokens, chip-hours (published, or wall
    days x 24 x chips), active parameters, peak (at the run's precision: FP8 runs use the FP8 peak,
    ``peak_bf16_tflops`` keeps the BF16 one), model shape (workloads.csv), sequence length and
    recompute (training_setups.csv), year (first publication, training_setups.csv), the chip's
    announcement (decimal year, chips.csv), chips, naive chip-hours.
    ``group`` = model@chip: rows of one training run are left out together."""
    fam = ds.chips.set_index("chip_id").family
    announced = ds.chips.set_index("chip_id").announced
    wl = ds.workloads.set_index("model_id")
    setups = ds.training_setups.set_index("run_id")
    rows = []
    for _, r in ds.training_runs.iterrows():
        if pd.isna(r.tokens) or r.run_id not in setups.index:
            continue
        if not pd.isna(r.chip_hours):
            hours, basis = float(r.chip_hours), "chip_hours"
        elif not pd.isna(r.wall_days) and not pd.isna(r.chips):
            hours, basis = float(chip_hours_from_wall_days(r.wall_days, r.chips)), "wall_days_x_chips"
        else:
            continue
        w, s = wl.loc[r.model_id], setups.loc[r.run_id]
        n_act = _active_params(ds, r)
        peak = ds.spec(r.chip_id, PRECISION_PEAK[s.precision])
        rows.append(dict(
            run_id=r.run_id, model_id=r.model_id, chip_id=r.chip_id, family=fam[r.chip_id],
            group=f"{r.model_id}@{r.chip_id}", params_active=n_act, tokens=float(r.tokens), peak_tflops=peak,
            n_layers=float(w.n_layers), d_attn=float(w.n_heads * w.d_head), seq_len=float(s.seq_len),
            recompute=s.recompute, year=decimal_year(s.published), announced=decimal_year(announced[r.chip_id]),
            chips=float(r.chips) if not pd.isna(r.chips) else np.nan, chip_hours=hours, hours_basis=basis,
            precision=s.precision, peak_bf16_tflops=ds.spec(r.chip_id, PEAK_METRIC),
            naive_chip_hours=float(naive_chip_hours(n_act, float(r.tokens), ds.spec(r.chip_id, PEAK_METRIC))),
            basis=r.basis))
    return pd.DataFrame(rows)


def _efficiency(runs: pd.DataFrame, attention_coef: float, recompute: bool) -> np.ndarray:
    """ln eta of each run = ln(F D / (3600 P 1e12 chip-hours))."""
    f = flops_per_token(runs.params_active, runs.n_layers, runs.d_attn, runs.seq_len, attention_coef,
                        (runs.recompute == "full").to_numpy() & recompute)
    return np.log(f * runs.tokens.to_numpy() / (SECONDS_PER_HOUR * runs.peak_tflops.to_numpy() * 1e12
                                                 * runs.chip_hours.to_numpy()))


def _design(runs: pd.DataFrame, features) -> np.ndarray:
    return hours_features(features, runs.peak_tflops.to_numpy(), runs.params_active.to_numpy(),
                          runs.year.to_numpy(), runs.announced.to_numpy())


def loo_log_residuals(runs: pd.DataFrame, attention_coef: float, recompute: bool, features) -> np.ndarray:
    """Leave-one-group-out residuals r = ln(measured chip-hours) - ln(predicted), each run predicted
    by the model fitted without its group (model@chip). Predicted / measured = exp(-r)."""
    z = _efficiency(runs, attention_coef, recompute)
    X = _design(runs, features)
    groups = runs.group.to_numpy()
    r = np.full(len(z), np.nan)
    for g in pd.unique(groups):
        out = groups == g
        if (~out).sum() <= X.shape[1]:
            continue
        beta, *_ = np.linalg.lstsq(X[~out], z[~out], rcond=None)
        r[out] = X[out] @ beta - z[out]
    return r


def _median_abs_pct(r) -> float:
    r = np.asarray(r, dtype=float)
    return float(np.nanmedian(np.abs(np.expm1(-r)))) * 100


@dataclass(frozen=True)
class HoursFit:
    """The fitted chip-hours model: ln eta = X beta (OLS), its covariance, the FLOP accounting (c, r),
    the features kept, the leave-one-out residuals (the model's own out-of-sample error, used in the
    prediction intervals) and the selection log (config, features, LOO median |error| %)."""

    attention_coef: float
    recompute: bool
    features: tuple
    beta: np.ndarray
    cov: np.ndarray
    resid_sd: float
    dof: int
    n_runs: int
    run_ids: tuple
    loo_resid: np.ndarray
    ranges: dict
    selection: tuple = ()

    @property
    def loo_median_abs_pct(self) -> float:
        return _median_abs_pct(self.loo_resid)

    def describe(self) -> str:
        acc = (f"attention {self.attention_coef:g} L d_attn T" if self.attention_coef else "no attention term")
        rec = ", 4/3 for full recompute" if self.recompute else ""
        feats = ", ".join(self.features) or "intercept only"
        return (f"ln(efficiency) on {feats}; FLOPs 6N + {acc}{rec}; {self.n_runs} runs, "
                f"leave-one-out median |error| {self.loo_median_abs_pct:.1f}%")


def _fit_config(runs, attention_coef, recompute, features, selection=()) -> HoursFit:
    z = _efficiency(runs, attention_coef, recompute)
    X = _design(runs, features)
    beta, cov, s, dof = _ols(X, z)
    resid = loo_log_residuals(runs, attention_coef, recompute, features)
    return HoursFit(attention_coef=float(attention_coef), recompute=bool(recompute), features=tuple(features),
                    beta=beta, cov=cov, resid_sd=s, dof=dof, n_runs=len(runs), run_ids=tuple(runs.run_id),
                    loo_resid=resid, ranges={
                        "efficiency": (float(np.exp(z.min())), float(np.exp(z.max()))),
                        "peak_tflops": (float(runs.peak_tflops.min()), float(runs.peak_tflops.max())),
                        "params_active": (float(runs.params_active.min()), float(runs.params_active.max())),
                        "year": (float(runs.year.min()), float(runs.year.max())),
                        "maturity": (float((runs.year - runs.announced).min()),
                                     float((runs.year - runs.announced).max()))},
                    selection=tuple(selection))


def select_hours_model(runs: pd.DataFrame):
    """Forward selection by leave-one-out error, for each FLOP accounting (c in ATTENTION_COEFS, recompute
    on/off): start from the intercept, add the candidate feature that lowers the LOO median |error| of
    chip-hours most, stop when no candidate lowers it by MIN_GAIN_PP points. The accounting with the
    lowest error wins (ties: fewer features, then the simpler accounting). Returns (c, r, features, log)."""
    log, best = [], None
    for c in ATTENTION_COEFS:
        for rec in RECOMPUTE_OPTIONS:
            feats = []
            cur = _median_abs_pct(loo_log_residuals(runs, c, rec, feats))
            log.append((c, rec, tuple(feats), cur))
            while True:
                trials = [(_median_abs_pct(loo_log_residuals(runs, c, rec, feats + [f])), f)
                          for f in HOURS_FEATURES if f not in feats and len(runs) > len(feats) + 3]
                if not trials:
                    break
                err, f = min(trials)
                if cur - err < MIN_GAIN_PP:
                    break
                feats, cur = feats + [f], err
                log.append((c, rec, tuple(feats), cur))
            key = (round(cur, 6), len(feats), c, rec)
            if best is None or key < best[0]:
                best = (key, c, rec, tuple(feats))
    return best[1], best[2], best[3], tuple(log)


def fit_hours(runs: pd.DataFrame, attention_coef=None, recompute=None, features=None, *,
              select: bool = False) -> HoursFit:
    """Fit the chip-hours model to a run table (:func:`hours_run_table` columns): the fixed
    specification :data:`HOURS_SPEC` unless ``features`` (and c, r) are given; ``select=True`` runs
    the forward search instead (:func:`select_hours_model`, a diagnostic)."""
    if len(runs) < 3:
        raise StudyInputError("fit_hours", f"{len(runs)} run(s) with chip-hours", expected="at least 3 runs")
    log = ()
    if select:
        attention_coef, recompute, features, log = select_hours_model(runs)
    elif features is None:
        attention_coef, recompute, features = (HOURS_SPEC["attention_coef"], HOURS_SPEC["recompute"],
                                               HOURS_SPEC["features"])
    else:
        attention_coef = 12.0 if attention_coef is None else attention_coef
        recompute = bool(recompute)
    return _fit_config(runs, attention_coef, recompute, list(features), log)


@memo_on_datasets
def hours_fit(ds) -> HoursFit:
    """:func:`fit_hours` over every published full run (:func:`hours_run_table`)."""
    return fit_hours(hours_run_table(ds))


def chip_announced(ds, chip_id: str) -> float:
    """Decimal year of the chip's announcement (chips.csv); NaN when not known (maturity is then
    taken as the smallest in the data)."""
    a = ds.chips.set_index("chip_id").announced.get(chip_id, "")
    return decimal_year(a) if isinstance(a, str) and a else float("nan")


def _clipped_x(fit: HoursFit, peak_tflops, params_active, year, announced, clip: bool = True):
    """Feature rows with every input clipped to the span of the fit's runs (no extrapolation);
    year None = the latest run year. ``clip=False`` evaluates the linear model as it stands (used to
    predict held-out runs at their own features)."""
    if not clip:
        return hours_features(fit.features, peak_tflops, params_active, year, announced)
    y, a = _clipped_year(fit, year, announced)
    clip = lambda v, k: np.clip(np.asarray(v, dtype=float), *fit.ranges[k])  # noqa: E731
    return hours_features(fit.features, clip(peak_tflops, "peak_tflops"), clip(params_active, "params_active"),
                          y, a)


def _clipped_year(fit: HoursFit, year, announced):
    """(year, announcement) used for the era and maturity features: the year (default the latest in
    the data) is clipped to the data's span and to the chip's window of maturity seen in the data
    (announcement + the smallest to the largest maturity), so that neither era nor maturity is
    extrapolated (an A100 is not credited with 2025 software: no A100 run is that recent). A chip
    without an announcement date, or one whose window lies after the data, takes the smallest
    maturity."""
    ylo, yhi = fit.ranges["year"]
    mlo, mhi = fit.ranges["maturity"]
    y = np.asarray(yhi if year is None else year, dtype=float)
    a = np.asarray(announced, dtype=float)
    known = ~np.isnan(a)
    lo = np.where(known, np.maximum(ylo, a + mlo), ylo)
    hi = np.where(known, np.minimum(yhi, a + mhi), yhi)
    hi = np.maximum(hi, lo)
    y = np.clip(y, lo, hi)
    m = np.clip(np.where(known, y - a, mlo), mlo, mhi)
    return y, y - m


def clipped_inputs(fit: HoursFit, peak_tflops, params_active, year=None, announced=None) -> list[str]:
    """What :func:`_clipped_x` clipped, in words (empty if nothing)."""
    out = []
    for name, v in (("peak_tflops", peak_tflops), ("params_active", params_active)):
        lo, hi = fit.ranges[name]
        v = np.asarray(v, dtype=float)
        if np.any(v < lo) or np.any(v > hi):
            out.append(f"{name} outside the fitted span {lo:g}-{hi:g}")
    if announced is not None and ("maturity" in fit.features or "era" in fit.features):
        y_req = fit.ranges["year"][1] if year is None else float(np.max(year))
        y_used, _ = _clipped_year(fit, y_req, announced)
        if abs(float(np.max(y_used)) - y_req) > 1e-9:
            out.append(f"year {y_req:.1f} taken as {float(np.max(y_used)):.1f} (the chip's maturity window in the data)")
    return out


def hours_point(fit: HoursFit, params_active, tokens, peak_tflops, n_layers, d_attn, seq_len,
                recompute=False, year=None, announced=2022.0, clip: bool = True):
    """Median chip-hours = F D / (3600 P 1e12 eta), eta = min(eta_max, exp(x beta)) with eta_max the
    best efficiency of the fit's runs (pure, broadcasts); feature inputs clipped to the fit's span
    (:func:`_clipped_x`)."""
    x = _clipped_x(fit, peak_tflops, params_active, year, announced, clip)
    shape = np.broadcast(np.asarray(params_active, dtype=float), np.asarray(peak_tflops, dtype=float)).shape
    eta = np.minimum(fit.ranges["efficiency"][1], np.exp(x @ fit.beta)).reshape(shape)
    f = flops_per_token(params_active, n_layers, d_attn, seq_len, fit.attention_coef,
                        np.asarray(recompute, dtype=bool) & fit.recompute)
    return f * np.asarray(tokens, dtype=float) / (SECONDS_PER_HOUR * np.asarray(peak_tflops, dtype=float)
                                                  * 1e12 * eta)


def hours_draws(fit: HoursFit, params_active: float, tokens: float, peak_tflops: float, n_layers: float,
                d_attn: float, seq_len: float, recompute=False, year=None, announced=2022.0,
                n: int = N_DRAWS, seed: int = DRAW_SEED, clip: bool = True) -> np.ndarray:
    """n draws of one run's chip-hours: beta ~ Normal(beta_hat, cov) (fit uncertainty) and, added on
    the log scale, a leave-one-out residual drawn at random (the model's own out-of-sample error):
    eta = min(eta_max, exp(x beta - r)), eta_max the best efficiency of the fit's runs, so no draw
    beats a published full run. Seeded, so the same inputs give the same draws."""
    rng = np.random.default_rng(seed)
    betas = rng.multivariate_normal(fit.beta, fit.cov, size=n, method="cholesky" if np.all(
        np.linalg.eigvalsh(fit.cov) > 0) else "svd")
    pool = fit.loo_resid[np.isfinite(fit.loo_resid)]
    resid = rng.choice(pool, size=n, replace=True) if len(pool) else np.zeros(n)
    x = _clipped_x(fit, peak_tflops, params_active, year, announced, clip)[0]
    eta = np.exp(betas @ x - resid)
    eta = np.minimum(fit.ranges["efficiency"][1], eta)
    f = float(flops_per_token(params_active, n_layers, d_attn, seq_len, fit.attention_coef,
                              bool(recompute) and fit.recompute))
    return f * float(tokens) / (SECONDS_PER_HOUR * float(peak_tflops) * 1e12 * eta)


def interval(draws, level: float = PI_LEVEL):
    """(low, high) quantiles of the draws for a central interval of ``level``."""
    a = (1 - level) / 2
    lo, hi = np.quantile(np.asarray(draws, dtype=float), [a, 1 - a])
    return float(lo), float(hi)


def cluster_size_check(runs: pd.DataFrame, fit: HoursFit) -> dict:
    """Does log(chips) help? On the runs that publish a chip count: LOO median |error| of the fitted
    model's features with and without ln(chips / 1024), and the slope with its 95% CI."""
    d = runs[runs.chips.notna()].reset_index(drop=True)
    out = dict(n_runs=len(d), loo_without=np.nan, loo_with=np.nan, slope=np.nan, ci_low=np.nan, ci_high=np.nan)
    if len(d) < len(fit.features) + 4:
        return out
    z = _efficiency(d, fit.attention_coef, fit.recompute)
    X0 = _design(d, fit.features)
    X1 = np.column_stack([X0, np.log(d.chips.to_numpy() / 1024.0)])
    groups = d.group.to_numpy()

    def loo(X):
        r = np.full(len(z), np.nan)
        for g in pd.unique(groups):
            o = groups == g
            b, *_ = np.linalg.lstsq(X[~o], z[~o], rcond=None)
            r[o] = X[o] @ b - z[o]
        return _median_abs_pct(r)

    beta, cov, s, dof = _ols(X1, z)
    half = _t(dof) * np.sqrt(cov[-1, -1])
    out.update(loo_without=loo(X0), loo_with=loo(X1), slope=float(beta[-1]), ci_low=float(beta[-1] - half),
               ci_high=float(beta[-1] + half))
    return out


def hours_fit_results(ds) -> list[dict]:
    """fit_results rows of the chip-hours model (model ``chip_hours``)."""
    runs = hours_run_table(ds)
    fit = hours_fit(ds)
    t = _t(fit.dof)
    method = "OLS of ln(efficiency) on the fixed features (HOURS_SPEC); t 95% CI"
    rows = []
    base = dict(model="chip_hours", n_points=fit.n_runs, borrowed_from="")
    for name, b, v in zip(("intercept",) + fit.features, fit.beta, np.diag(fit.cov)):
        half = t * np.sqrt(v)
        rows.append(dict(base, parameter=f"coef_{name}", scope="all", value=float(b), ci_low=float(b - half),
                         ci_high=float(b + half), unit="ln efficiency per unit of the feature", method=method,
                         note="intercept: ln efficiency of an A100 run of a 10B model in 2023" if name == "intercept"
                         else f"feature {name} (see analysis.training)"))
    rows.append(dict(base, parameter="attention_flops_coef", scope="all", value=fit.attention_coef, ci_low=np.nan,
                     ci_high=np.nan, unit="FLOPs per (layer x d_attn x token of context)",
                     method="fixed (HOURS_SPEC): PaLM's MFU accounting",
                     note="12: full T x T attention matmuls (PaLM MFU convention); 6: causal half; 0: none"))
    rows.append(dict(base, parameter="full_recompute_factor", scope="all", value=4 / 3 if fit.recompute else 1.0,
                     ci_low=np.nan, ci_high=np.nan, unit="x",
                     method="fixed (HOURS_SPEC): MFU counts model FLOPs, not recomputed ones",
                     note="would apply to runs whose training_setups row says full"))
    rows.append(dict(base, parameter="efficiency_cap", scope="all", value=fit.ranges["efficiency"][1],
                     ci_low=np.nan, ci_high=np.nan, unit="fraction of peak",
                     method="the best efficiency of any run in the fit",
                     note="no prediction or draw is credited with a higher share of peak"))
    rows.append(dict(base, parameter="residual_sd_ln", scope="all", value=fit.resid_sd, ci_low=np.nan,
                     ci_high=np.nan, unit="ln", method=method, note=f"{fit.dof} residual dof"))
    naive = np.log(runs.chip_hours / runs.naive_chip_hours)
    rows.append(dict(base, parameter="loo_median_abs_error_pct", scope="all", value=fit.loo_median_abs_pct,
                     ci_low=np.nan, ci_high=np.nan, unit="percent", method="leave one run (model@chip) out",
                     note=f"naive 6ND/(peak x 0.4): {_median_abs_pct(naive.to_numpy()):.1f}% on the same runs"))
    chk = cluster_size_check(runs, fit)
    rows.append(dict(base, parameter="cluster_size_slope", scope="runs with a chip count", value=chk["slope"],
                     ci_low=chk["ci_low"], ci_high=chk["ci_high"], unit="ln efficiency per ln(chips)",
                     n_points=chk["n_runs"], method="selected features + ln(chips/1024), OLS; t 95% CI",
                     note=f"not used: leave-one-out median |error| {chk['loo_with']:.1f}% with it, "
                          f"{chk['loo_without']:.1f}% without (same runs)"
                     if not (chk["loo_with"] < chk["loo_without"] - MIN_GAIN_PP) else
                     f"lowers leave-one-out error ({chk['loo_with']:.1f}% vs {chk['loo_without']:.1f}%) but chip "
                     f"counts are missing for {fit.n_runs - chk['n_runs']} runs, so not used"))
    for chip in sorted(ds.chips.chip_id):
        try:
            peak = ds.spec(chip, PEAK_METRIC)
        except StudyInputError:
            continue
        layers, d = default_shape(REF_MFU_PARAMS)
        flops = training_flops(REF_MFU_PARAMS, 1.0)
        ann = chip_announced(ds, chip)
        draws = hours_draws(fit, REF_MFU_PARAMS, 1.0, peak, layers, d, DEFAULT_SEQ_LEN, announced=ann)
        point = float(hours_point(fit, REF_MFU_PARAMS, 1.0, peak, layers, d, DEFAULT_SEQ_LEN, announced=ann))
        clipped = clipped_inputs(fit, peak, REF_MFU_PARAMS, None, ann)
        mfu = lambda h: float(mfu_from_chip_hours(flops, h, peak))  # noqa: E731
        lo, hi = interval(draws)
        own = ds.chips.set_index("chip_id").family[chip]
        have = set(runs.family)
        rows.append(dict(base, parameter="mfu_6nd_70b", scope=f"chip:{chip}", value=mfu(point), ci_low=mfu(hi),
                         ci_high=mfu(lo), unit="fraction",
                         borrowed_from="" if own in have else "runs on other chips (through the generation feature)",
                         method=f"chip-hours model at 70B dense, {DEFAULT_SEQ_LEN}-token sequences, "
                                f"{fit.ranges['year'][1]:.1f}; 90% prediction interval",
                         note=f"6ND / (chip-hours x peak); peak {peak:g} TFLOPS"
                              + (f"; clipped: {'; '.join(clipped)}" if clipped else "")))
    return rows


# --- one prediction -------------------------------------------------------------------------------

def _shape_inputs(where, params, n_layers, d_attn, seq_len):
    if n_layers is None or d_attn is None:
        layers, d = default_shape(params)
        n_layers = layers if n_layers is None else n_layers
        d_attn = d if d_attn is None else d_attn
    seq = DEFAULT_SEQ_LEN if seq_len is None else seq_len
    return (_check_positive(where, "n_layers", n_layers), _check_positive(where, "d_attn", d_attn),
            _check_positive(where, "seq_len", seq))


def predict_training_draws(ds, params, tokens, chip_id: str, chips=None, n: int = N_DRAWS, seed: int = DRAW_SEED,
                           *, seq_len=None, n_layers=None, d_attn=None, recompute=False, year=None,
                           scenario=None) -> dict:
    """Seeded Monte Carlo draws of one training run from the fitted chip-hours model, for the ledger.

    Each of the ``n`` draws takes the model's parameters from Normal(beta_hat, covariance of the fit)
    and adds, on the log scale, one of the model's leave-one-out residuals drawn at random (its own
    out-of-sample error); same inputs and ``seed``, same draws. Inputs are scalars (one run): N active
    parameters ``params``, D ``tokens``, ``chip_id``, ``chips`` (for days; default DEFAULT_CHIPS) and
    the optional shape (``seq_len`` default 4096; ``n_layers``/``d_attn`` default to
    :func:`default_shape`; ``recompute`` True for a full-recompute run; ``year`` defaults to the
    latest year in the fit data and is clipped to its span).

    Returns a dict of numpy arrays of length n: ``chip_hours``, ``days`` (chip-hours / chips / 24),
    ``mfu`` (6ND / (chip-hours x 3600 x peak)) and ``cost_usd`` (chip-hours x listed on-demand price;
    None when the chip has no price), plus ``chips`` and ``usd_per_chip_hour``. A 90% prediction
    interval is ``interval(out["chip_hours"])``.
    """
    where = "predict_training_draws"
    n_act = float(_check_positive(where, "params", params))
    d = float(_check_positive(where, "tokens", tokens))
    peak = ds.spec(chip_id, PEAK_METRIC)
    chips = DEFAULT_CHIPS if chips is None else chips
    c = float(_check_positive(where, "chips", chips, integer=True))
    n = int(_check_positive(where, "n", n, integer=True))
    layers, da, seq = (float(v) for v in _shape_inputs(where, n_act, n_layers, d_attn, seq_len))
    hours = hours_draws(hours_fit(ds), n_act, d, peak, layers, da, seq, recompute, year,
                        announced=chip_announced(ds, chip_id), n=n, seed=seed)
    out = dict(chip_hours=hours, days=hours / c / 24.0,
               mfu=np.asarray(mfu_from_chip_hours(training_flops(n_act, d), hours, peak)), chips=c)
    try:
        price = _cost.listed_chip_hour_price(ds, chip_id)["usd_per_chip_hour"]
        out.update(cost_usd=np.asarray(_cost.run_cost_usd(hours, price)), usd_per_chip_hour=price)
    except StudyInputError:
        out.update(cost_usd=None, usd_per_chip_hour=None)
    return out


def predict_training(ds, params, tokens, chip_id: str, chips=None, mfu=None, scenario=None, *, seq_len=None,
                     n_layers=None, d_attn=None, recompute=False, year=None, intervals=True) -> dict:
    """Time, chip-hours, cost and energy of training N active parameters on D tokens.

    Without ``mfu``: chip-hours from the fitted chip-hours model (:func:`hours_fit`, see the block
    comment above :func:`decimal_year`): F D / (3600 P 1e12 eta) with F = (6 N + c L d_attn T)(1 + r/3)
    and eta from the chip's generation, the model size and the year; the returned ``mfu`` is the
    implied MFU, k N D / (chip-hours x 3600 x P). With ``mfu``: chip-hours = k N D / (P x 1e12 x
    MFU x 3600). k is the scenario's ``flops_per_param_token_training``, the FLOP count that defines
    MFU (6 in the baseline, :func:`analysis.workloads.training_flops`). days = chip-hours / chips / 24; cost = chip-hours x on-demand USD per
    chip-hour (cost.chip_hour_price_usd); committed cost = cost x (1 - committed_discount); energy =
    chip-hours x TDP x power_fraction_of_tdp x PUE. Chips default to DEFAULT_CHIPS (1024). Shape
    keywords as in :func:`predict_training_draws`. Assumptions come from ``scenario`` (the baseline if
    None). Arrays broadcast (Monte Carlo).

    ``chip_hours_low``/``chip_hours_high`` (and ``days_*``, ``cost_usd_*``) bound the 90% prediction
    interval from :func:`predict_training_draws` (fit uncertainty plus the model's leave-one-out
    error); they are None when ``mfu`` is given, when inputs are arrays or with ``intervals=False``.
    A chip without a price gives cost_usd None and says so in ``cost_note``; likewise energy.
    """
    from .scenario import load_scenario

    where = "predict_training"
    n_act = _check_positive(where, "params", params)
    d = _check_positive(where, "tokens", tokens)
    peak = ds.spec(chip_id, PEAK_METRIC)
    chips_source = "given"
    if chips is None:
        chips, chips_source = DEFAULT_CHIPS, f"default {DEFAULT_CHIPS}"
    n = _check_positive(where, "chips", chips, integer=True)
    sc = scenario if scenario is not None else load_scenario()
    flops = sc.value("flops_per_param_token_training") * n_act * d  # k N D: the FLOPs that define MFU
    scalar = n_act.ndim == 0 and d.ndim == 0 and n.ndim == 0
    draws = None
    if mfu is None:
        fit = hours_fit(ds)
        layers, da, seq = _shape_inputs(where, n_act, n_layers, d_attn, seq_len)
        ann = chip_announced(ds, chip_id)
        hours = hours_point(fit, n_act, d, peak, layers, da, seq, recompute, year, announced=ann)
        u = mfu_from_chip_hours(flops, hours, peak)
        clipped = clipped_inputs(fit, peak, n_act, year, ann)
        mfu_source = (f"fitted: chip-hours model ({fit.describe()})"
                      + (f"; inputs clipped to the fitted span: {'; '.join(clipped)}" if clipped else ""))
        if intervals and scalar and np.ndim(layers) == 0 and np.ndim(seq) == 0:
            draws = predict_training_draws(ds, n_act, d, chip_id, n, seq_len=seq, n_layers=layers, d_attn=da,
                                           recompute=recompute, year=year)
    else:
        mfu_source = "given"
        u = _check_fraction(where, "mfu", mfu)
        hours = training_chip_hours(flops, peak, u)
    u = _check_fraction(where, "mfu", u)
    days = hours / n / 24.0
    out = dict(chip_id=chip_id, flops=_scalar_or_array(flops), peak_tflops=peak, chips=_scalar_or_array(n),
               chips_source=chips_source, mfu=_scalar_or_array(u), mfu_source=mfu_source,
               chip_hours=_scalar_or_array(hours), days=_scalar_or_array(days))
    lo_hi = interval(draws["chip_hours"]) if draws is not None else (None, None)
    out.update(chip_hours_low=lo_hi[0], chip_hours_high=lo_hi[1],
               days_low=None if draws is None else lo_hi[0] / float(n) / 24.0,
               days_high=None if draws is None else lo_hi[1] / float(n) / 24.0,
               interval_level=PI_LEVEL if draws is not None else None)
    try:
        listed = _cost.listed_chip_hour_price(ds, chip_id)
        price = listed["usd_per_chip_hour"]
        discount = sc.value("committed_discount")
        out.update(usd_per_chip_hour=price, cost_usd=_scalar_or_array(_cost.run_cost_usd(hours, price)),
                   cost_usd_low=None if draws is None else lo_hi[0] * price,
                   cost_usd_high=None if draws is None else lo_hi[1] * price,
                   committed_discount=discount,
                   cost_usd_committed=_scalar_or_array(_cost.committed_run_cost_usd(hours, price, discount)),
                   cost_note=f"{listed['pricing'].replace('_', '-')} price of {listed['system_id']} "
                             f"as of {listed['as_of']}")
    except StudyInputError as exc:
        out.update(usd_per_chip_hour=None, cost_usd=None, cost_usd_low=None, cost_usd_high=None,
                   committed_discount=None, cost_usd_committed=None, cost_note=f"no price: {exc.problem}")
    try:
        tdp = ds.spec(chip_id, "tdp_w")
        energy = _power.training_energy_j(hours, tdp, sc.value("power_fraction_of_tdp"), sc.value("pue"))
        out.update(energy_j=_scalar_or_array(energy),
                   electricity_usd=_scalar_or_array(_power.electricity_cost_usd(
                       energy, sc.value("electricity_usd_per_kwh"))),
                   energy_note="TDP x power_fraction_of_tdp x PUE")
    except StudyInputError as exc:
        out.update(energy_j=None, electricity_usd=None, energy_note=f"no power figure: {exc.problem}")
    return out
