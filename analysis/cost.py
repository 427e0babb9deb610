"""Cost: chip-hour prices from instance prices, and what runs and fleets cost.

Prices come from ``data/system_params.csv`` (whole-system hourly prices with the date listed);
a chip-hour costs price / chips.
"""
from __future__ import annotations

import numpy as np

from .errors import StudyInputError, nearest
from .paths import rel

PRICING_METRICS = {
    "on_demand": "usd_per_hour_on_demand",
    "1yr": "usd_per_hour_1yr",
    "3yr": "usd_per_hour_3yr",
    "capacity_block": "usd_per_hour_capacity_block",
}


def chip_hour_price_options(ds, chip_id: str, pricing: str = "on_demand"):
    """Every system with ``chip_id`` and a ``pricing`` price: rows of system_id, usd_per_hour, chips, as_of."""
    if pricing not in PRICING_METRICS:
        raise StudyInputError("pricing", f"unknown pricing '{pricing}'", expected=nearest(pricing, PRICING_METRICS))
    if chip_id not in set(ds.chips.chip_id):
        raise StudyInputError(rel(ds.data_dir / "chips.csv"), f"unknown chip '{chip_id}'",
                              expected=nearest(chip_id, ds.chips.chip_id))
    systems = ds.systems[ds.systems.chip_id == chip_id].system_id
    sp = ds.system_params
    price = sp[(sp.metric == PRICING_METRICS[pricing]) & sp.system_id.isin(systems)]
    chips = sp[(sp.metric == "chips")].set_index("system_id").value_canonical
    cols = ["system_id", "value_canonical", "as_of", "source_id"] + (["basis"] if "basis" in price.columns else [])
    out = price[cols].rename(
        columns={"value_canonical": "usd_per_hour"})
    out["chips"] = out.system_id.map(chips)
    out["usd_per_chip_hour"] = out.usd_per_hour / out.chips
    return out.sort_values(["as_of", "system_id"], ascending=[False, True]).reset_index(drop=True)


def chip_hour_price_usd(ds, chip_id: str, pricing: str = "on_demand") -> float:
    """USD per chip-hour = system price per hour / chips in the system, from the most recently
    listed price of any system built on ``chip_id`` (ties: the first system id)."""
    opts = chip_hour_price_options(ds, chip_id, pricing)
    if opts.empty:
        have = sorted(set(ds.systems[ds.systems.system_id.isin(
            ds.system_params[ds.system_params.metric == PRICING_METRICS[pricing]].system_id)].chip_id))
        raise StudyInputError(rel(ds.data_dir / "system_params.csv"),
                              f"no {pricing} price for any system with chip '{chip_id}'",
                              expected="a chip with a listed price: " + ", ".join(have))
    return float(opts.usd_per_chip_hour.iloc[0])


PRICE_PREFERENCE = ("on_demand", "capacity_block")


def listed_chip_hour_price(ds, chip_id: str, preference=PRICE_PREFERENCE) -> dict:
    """The first listed chip-hour price in ``preference`` order, with what it is.

    On-demand where AWS lists one; otherwise an EC2 Capacity Block price (Trainium2 has no
    public on-demand price). Returns usd_per_chip_hour, pricing, system_id, as_of, source_id and
    basis (``user``/``scenario`` for a user's own price, with the origin as source_id).
    """
    key = ("listed_chip_hour_price", chip_id, tuple(preference))
    if key in getattr(ds, "cache", {}):
        return dict(ds.cache[key])
    problems = []
    for pricing in preference:
        opts = chip_hour_price_options(ds, chip_id, pricing)
        if not opts.empty:
            r = opts.iloc[0]
            out = dict(usd_per_chip_hour=float(r.usd_per_chip_hour), pricing=pricing,
                       system_id=str(r.system_id), as_of=str(r.as_of), source_id=str(r.source_id),
                       basis=str(getattr(r, "basis", "")))
            if hasattr(ds, "cache"):
                ds.cache[key] = dict(out)
            return out
        problems.append(pricing)
    raise StudyInputError(rel(ds.data_dir / "system_params.csv"),
                          f"no {' or '.join(problems)} price for any system with chip '{chip_id}'",
                          expected="a system with this chip and a listed price")


def run_cost_usd(chip_hours, usd_per_chip_hour):
    """Cost = chip-hours x price per chip-hour (linear in both)."""
    return np.asarray(chip_hours, dtype=float) * np.asarray(usd_per_chip_hour, dtype=float)


# --- committed prices -----------------------------------------------------------------------------

def _check_discount(discount):
    d = np.asarray(discount, dtype=float)
    bad = ~np.isfinite(d) | (d < 0) | (d >= 1)
    if np.any(bad):
        raise StudyInputError("committed price", f"discount {d[bad].ravel()[0]:g} is not a fraction of the price",
                              field="discount",
                              expected="0 <= discount < 1, e.g. 0.4 for 40% off")
    return d


def committed_price_usd(on_demand_usd, discount):
    """Committed (reserved / negotiated) price = on-demand price x (1 - discount)."""
    return np.asarray(on_demand_usd, dtype=float) * (1.0 - _check_discount(discount))


def committed_run_cost_usd(chip_hours, on_demand_usd_per_chip_hour, discount):
    """Run cost at a committed price = chip-hours x on-demand price x (1 - discount)."""
    return run_cost_usd(chip_hours, committed_price_usd(on_demand_usd_per_chip_hour, discount))


def discount_of_listed_price(on_demand_usd, committed_usd):
    """Discount a listed committed price implies: 1 - committed / on-demand."""
    return 1.0 - np.asarray(committed_usd, dtype=float) / np.asarray(on_demand_usd, dtype=float)


# --- lifecycle --------------------------------------------------------------------------------------

def inference_cost_usd(tokens_served, usd_per_mtoken):
    """Serving cost = tokens served / 1e6 x USD per million tokens."""
    t = np.asarray(tokens_served, dtype=float)
    if np.any(t < 0):
        raise StudyInputError("inference_cost_usd", "negative tokens served", field="tokens_served",
                              expected="tokens_served >= 0")
    return t / 1e6 * np.asarray(usd_per_mtoken, dtype=float)


def lifecycle_cost_usd(training_cost_usd, tokens_served, usd_per_mtoken):
    """Model lifecycle cost = training cost + tokens served / 1e6 x USD per million tokens."""
    return np.asarray(training_cost_usd, dtype=float) + inference_cost_usd(tokens_served, usd_per_mtoken)


def lifecycle_training_share(training_cost_usd, tokens_served, usd_per_mtoken):
    """Share of the lifecycle cost spent on training = training / (training + serving)."""
    return (np.asarray(training_cost_usd, dtype=float)
            / lifecycle_cost_usd(training_cost_usd, tokens_served, usd_per_mtoken))


def lifecycle_saving_fraction(training_saving, serving_saving, training_share):
    """Lifecycle saving from separate savings on training (fraction s_t) and serving (s_s), with
    training a share w of the lifecycle cost: s = w s_t + (1 - w) s_s."""
    w = np.asarray(training_share, dtype=float)
    return w * np.asarray(training_saving, dtype=float) + (1.0 - w) * np.asarray(serving_saving, dtype=float)


# --- fleet capital ----------------------------------------------------------------------------------

def fleet_capex_usd(units, unit_price_usd):
    """Capital cost of a fleet = units x unit price."""
    u = np.asarray(units, dtype=float)
    if np.any(u < 0):
        raise StudyInputError("fleet_capex_usd", "negative units", field="units", expected="units >= 0")
    return u * np.asarray(unit_price_usd, dtype=float)


def remaining_units(total_units, known_units):
    """Units not accounted for: total - known (refused when known exceeds total)."""
    t, k = np.asarray(total_units, dtype=float), np.asarray(known_units, dtype=float)
    if np.any(k > t):
        raise StudyInputError("remaining_units", "known units exceed the total", field="known_units",
                              expected="known_units <= total_units")
    return t - k


def split_fleet_capex_usd(total_units, known_units, known_unit_price_usd, rest_unit_price_usd):
    """A fleet of T units of which K are priced at p_K and the rest at p_R:
    (K p_K, (T - K) p_R, K p_K + (T - K) p_R).

    Seed 004: K = 70,000 H100 (50,000 in 2023 + 20,000 in 2022) at $30,000 = $2.1B, and the rest of
    the 2,000,000 A100/H100 at $12,500 = 1,930,000 x 12,500 = $24.125B; $26.225B in all.
    """
    known = fleet_capex_usd(known_units, known_unit_price_usd)
    rest = fleet_capex_usd(remaining_units(total_units, known_units), rest_unit_price_usd)
    return known, rest, known + rest


# --- price-performance ------------------------------------------------------------------------------

def tflops_per_usd_hour(peak_tflops, usd_per_chip_hour):
    """Price-performance = peak TFLOPS / USD per chip-hour (TFLOPS per USD/hour)."""
    p = np.asarray(usd_per_chip_hour, dtype=float)
    if np.any(p <= 0):
        raise StudyInputError("tflops_per_usd_hour", "price not positive", field="usd_per_chip_hour",
                              expected="a price > 0")
    return np.asarray(peak_tflops, dtype=float) / p


def relative_price_performance(tflops_a, usd_per_hour_a, tflops_b, usd_per_hour_b):
    """Price-performance of A relative to B = (T_A / p_A) / (T_B / p_B); 1.3 means A buys 30% more."""
    return tflops_per_usd_hour(tflops_a, usd_per_hour_a) / tflops_per_usd_hour(tflops_b, usd_per_hour_b)


def price_performance_gain_to_cost_saving(gain):
    """A claimed price-performance gain g (0.3 = "30% better") cuts the cost of fixed work by
    1 - 1 / (1 + g) (0.3 -> 23%), not by g."""
    return 1.0 - 1.0 / (1.0 + np.asarray(gain, dtype=float))


def chip_price_performance(ds, chip_id: str, metric: str = "bf16_dense_tflops", pricing: str = "on_demand") -> float:
    """A chip's ``metric`` (e.g. peak BF16 TFLOPS) per USD per chip-hour at its current ``pricing``."""
    return float(tflops_per_usd_hour(ds.spec(chip_id, metric), chip_hour_price_usd(ds, chip_id, pricing)))
