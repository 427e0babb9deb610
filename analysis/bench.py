"""``python -m analysis bench``: time N Monte Carlo draws through every model family.

Each case draws the baseline scenario's assumptions (seeded), looks up its fixed inputs once, and
pushes the draws through the family's vectorised model functions. The figure printed is the wall
time of the draws alone (loading data and fitting are one-off costs, timed separately).
Target (issue 2/4): under 2 s for 10,000 draws through every model on a 2-core machine.
"""
from __future__ import annotations

import time

import numpy as np

from . import checkpoint as ck
from . import cost, inference, interconnect, market, power, roofline, training
from . import workloads as wl
from .montecarlo import draw_assumptions


def _cases(ds, sc):
    """(family, function of the draws) pairs; fixed inputs are bound once, outside the timing."""
    h100 = dict(peak=ds.spec("h100-sxm", "bf16_dense_tflops"), bw=ds.spec("h100-sxm", "mem_bandwidth_gb_s"),
                tdp=ds.spec("h100-sxm", "tdp_w"))
    m70 = wl.transformer(ds, "llama-2-70b")
    price = cost.listed_chip_hour_price(ds, "h100-sxm")["usd_per_chip_hour"]
    aws = market.market_series(ds, "aws-revenue")
    aws_fit = market.fit_exponential(aws.index.to_numpy(float), aws.to_numpy(float))
    # parameter draws from the fit's covariance, one per Monte Carlo draw (what a projection band uses)
    rng = np.random.default_rng(7)

    def roofline_case(d):
        intensity = wl.decode_intensity(m70, 64, 1536, d["bytes_per_param_weights"], d["kv_bytes_per_value"])
        return roofline.attainable_tflops(h100["peak"], h100["bw"], intensity, d["prefill_compute_efficiency"],
                                          d["decode_bandwidth_efficiency"])

    def inference_case(d):
        step_bytes = wl.decode_step_bytes(m70, 64, 1536, d["bytes_per_param_weights"], d["kv_bytes_per_value"])
        step_flops = wl.decode_step_flops(m70, 64, 1536)
        ms = inference.ms_per_token(step_bytes, step_flops, 8, h100["bw"], h100["peak"],
                                    d["decode_bandwidth_efficiency"], d["prefill_compute_efficiency"])
        tps = inference.tokens_per_s(64, ms)
        usd = inference.usd_per_mtoken(price, 8, tps, d["serving_utilisation"])
        joule = inference.energy_per_token_serving_j(h100["tdp"], d["power_fraction_of_tdp"], 8, d["pue"], tps)
        return usd + joule

    def training_case(d):
        flops = wl.training_flops(70e9, d["tokens_per_param_chinchilla"] * 70e9)
        hours = training.training_chip_hours(flops, h100["peak"], d["training_mfu"])
        usd = cost.committed_run_cost_usd(hours, price, d["committed_discount"])
        n, _ = training.compute_optimal(flops, d["tokens_per_param_chinchilla"])
        return usd + n

    def cost_case(d):
        hours = training.training_chip_hours(8.4e23, h100["peak"], d["training_mfu"])
        train_usd = cost.committed_run_cost_usd(hours, price, d["committed_discount"])
        tps = 64 / (inference.ms_per_token(1.4e11, 9e12, 8, h100["bw"], h100["peak"],
                                           d["decode_bandwidth_efficiency"], d["prefill_compute_efficiency"]) / 1e3)
        usd_mtok = inference.usd_per_mtoken(price, 8, tps, d["serving_utilisation"])
        return cost.lifecycle_cost_usd(train_usd, 1e12, usd_mtok)

    def power_case(d):
        hours = training.training_chip_hours(8.4e23, h100["peak"], d["training_mfu"])
        return power.training_electricity_cost_usd(hours, h100["tdp"], d["power_fraction_of_tdp"], d["pue"],
                                                   d["electricity_usd_per_kwh"])

    def interconnect_case(d):
        bw = interconnect.effective_bandwidth_bytes_s(640e9, d["network_efficiency"])
        alpha = d["network_alpha_us"] * 1e-6
        return (interconnect.ring_all_reduce_s(2 * 70e9, 64, bw, alpha)
                + interconnect.torus_all_reduce_s(2 * 70e9, (4, 4, 4), bw, alpha)
                + interconnect.fat_tree_all_reduce_s(2 * 70e9, 64, bw, alpha))

    def checkpoint_case(d):
        size = ck.checkpoint_bytes(1e12, "full")
        write_s = ck.checkpoint_write_s(size, d["checkpoint_write_gb_s"])
        mtbf_s = ck.system_mtbf_hours(d["chip_mtbf_hours"], 16384) * 3600
        tau = ck.young_interval_s(write_s, mtbf_s)
        return ck.goodput_fraction(tau, write_s, mtbf_s, d["restart_minutes"] * 60)

    def market_case(d):
        ln_a, g = rng.multivariate_normal([aws_fit.ln_a, aws_fit.g], aws_fit.cov, size=len(d["pue"])).T
        return market.exponential(2027.0, np.exp(ln_a), g, aws_fit.t0)

    return [("roofline", roofline_case), ("inference", inference_case), ("training", training_case),
            ("power", power_case), ("cost", cost_case), ("interconnect", interconnect_case),
            ("checkpoint", checkpoint_case), ("market", market_case)]


def run(n: int = 10_000, repeats: int = 5) -> str:
    """Best-of-``repeats`` time for n draws through each family; returns the printed report."""
    from . import load_datasets, load_scenario

    t0 = time.perf_counter()
    ds, sc = load_datasets(), load_scenario()
    cases = _cases(ds, sc)
    setup_s = time.perf_counter() - t0
    lines = [f"Monte Carlo benchmark: {n:,} draws of the baseline scenario through every model family "
             f"(best of {repeats})", f"  one-off: load data, fits and lookups  {setup_s:8.3f} s"]
    total = 0.0
    for name, fn in cases:
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            draws = draw_assumptions(sc, n)
            out = np.asarray(fn(draws))
            best = min(best, time.perf_counter() - t)
        if out.shape != (n,) or not np.all(np.isfinite(out)):
            raise RuntimeError(f"bench case {name} did not return {n} finite values")
        total += best
        lines.append(f"  {name:<13} {best * 1e3:9.2f} ms")
    lines.append(f"  total (all families, {n:,} draws each)  {total:.3f} s   target < 2 s: "
                 f"{'met' if total < 2 else 'NOT met'}")
    lines += model_timing(ds, sc, n)
    lines.append(ledger_timing(ds, sc, n))
    lines.append(validate_timing(ds))
    return "\n".join(lines)


def validate_timing(ds) -> str:
    """Wall time of ``python -m analysis validate`` without writing (every section, fresh data)."""
    from . import validate
    from .datasets import with_tables

    fresh = with_tables(ds, {})  # same tables, empty cache: the fits are timed too
    t = time.perf_counter()
    validate.run(fresh, out_dir=None)
    return f"Validate: every section (training: leave-one-out refits and the searched-spec diagnostic): {time.perf_counter() - t:.3f} s"


def model_timing(ds, sc, n: int = 10_000, repeats: int = 3) -> list[str]:
    """Best-of-``repeats`` wall time of the fitted models as ``predict`` and the ledger call them, with
    ``n`` draws of their fitted parameters and out-of-sample error: the serving model
    (inference.predict_decode: 70B on 2 x H100 at FP8, the largest batch that fits, 1,000 in / 1,000
    out) and the chip-hours model (training.predict_training_draws: 70B on 1.4T tokens on H100)."""
    cases = [("predict decode (70B, 2 x H100, fp8, batch max)",
              lambda: inference.predict_decode(ds, sc, "llama-3.1-70b", "h100-sxm", 2, "max", 1000, 1000,
                                               precision="fp8", n_draws=n)),
             ("predict training (70B, 1.4T tokens, H100)",
              lambda: training.predict_training_draws(ds, 70e9, 1.4e12, "h100-sxm", n=n))]
    lines = [f"Fitted models with {n:,} parameter/error draws (best of {repeats}, fits cached):"]
    for name, fn in cases:
        fn()  # the fits, once
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        lines.append(f"  {name:<48} {best * 1e3:9.2f} ms")
    return lines


def ledger_timing(ds, sc, n: int = 10_000) -> str:
    """Wall time of the full claim ledger (every claim, n draws each, with sensitivity)."""
    from .ledger import make_ledger

    ledger, _ = make_ledger(ds, sc, n=n)
    ids = [c for c in ds.claims.claim_id if c in ledger.specs]
    t = time.perf_counter()
    rows = ledger.rows(ids)
    dt = time.perf_counter() - t
    return (f"Ledger: {len(rows)} of {len(ds.claims)} claims rebuilt, {n:,} draws each, sensitivity included: "
            f"{dt:.3f} s   target < 3 s: {'met' if dt < 3 else 'NOT met'}")
