"""What-ifs a planner asks, one function each (``python -m analysis predict ...`` and ``compare``).

Every function takes the datasets and the scenario *with the user's overrides applied*
(:func:`analysis.overrides.apply_all`: a scenario file's ``data:`` cells and ``--set`` items), so a
user's price or spec reaches every number, and returns a dict (or a table) with a 90% interval.

**Efficiency assumptions: fitted unless you state yours.** ``training_mfu``,
``decode_bandwidth_efficiency`` and ``prefill_compute_efficiency`` are the user's handles on the
fitted models. While the scenario leaves them at the baseline, the fitted models decide (the
chip-hours model of :mod:`analysis.training`, the serving fit of :mod:`analysis.roofline`) and the
interval is the model's 90% prediction interval. When a scenario file or ``--set`` changes one
(:func:`user_assumption`), it replaces the fitted value: the central value uses it, the interval
is the 5th-95th percentile over seeded uniform draws of its low-high range (the same draws as the
ledger's, :func:`analysis.montecarlo.draw_assumptions`), widened to include the central value (a
bare ``--set`` value sits at the edge of its widened range), and the output says whose value it is.

``flops_per_param_token_training`` (k, 6 for a dense transformer) is the FLOP count that defines
MFU: with a stated MFU, chip-hours = k N D / (3600 x P x 1e12 x MFU); with the fitted model the
chip-hours stay the model's and the implied MFU is k N D / (chip-hours x 3600 x P x 1e12).

Intervals of the network and checkpoint what-ifs come from the same seeded draws of the scenario's
ranges (``network_alpha_us``, ``network_efficiency``; ``checkpoint_write_gb_s``,
``chip_mtbf_hours``, ``restart_minutes``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import checkpoint as ck
from . import cost
from . import inference
from . import interconnect as ic
from . import roofline as rf
from . import training
from . import workloads as wl
from .errors import StudyInputError, nearest
from .montecarlo import DEFAULT_DRAWS, DEFAULT_SEED, draw_assumptions, interval
from .paths import rel

#: The efficiency assumptions a user may state in place of a fitted value, and what they replace.
USER_EFFICIENCIES = {
    "training_mfu": "the chip-hours model's MFU (predict training, the ledger's training rebuilds)",
    "decode_bandwidth_efficiency": "the serving fit's decode memory efficiency (predict decode, the ledger)",
    "prefill_compute_efficiency": "the serving fit's prefill compute efficiency (predict decode, the ledger)",
}


def user_assumption(sc, name: str):
    """The scenario's assumption ``name`` when a scenario file or ``--set`` changed it from the
    baseline (``name in sc.changed``), else None (the fitted model decides)."""
    return sc[name] if name in getattr(sc, "changed", ()) else None


def whose(a) -> str:
    """'yours (data/scenarios/x.yaml)' / 'yours (--set)' for a user's assumption."""
    return f"yours ({a.origin or 'scenario'})"


def _interval_around(draws, central) -> tuple[float, float]:
    """The 90% interval of ``draws``, widened to include ``central``: a bare value a user sets lies at
    the edge of its range (the range widens just enough to hold it), where the 5th-95th percentiles
    would leave it out."""
    lo, hi = interval(draws)
    return min(lo, float(central)), max(hi, float(central))


def _price_provenance(ds, chip_id: str) -> dict:
    try:
        p = cost.listed_chip_hour_price(ds, chip_id)
    except StudyInputError:
        return {}
    return {"price_basis": p["basis"], "price_source": p["source_id"]}


# --- training --------------------------------------------------------------------------------

def training_run(ds, sc, params, tokens, chip_id: str, chips=None, *, n: int = DEFAULT_DRAWS,
                 seed: int = DEFAULT_SEED) -> dict:
    """Chip-hours, days, cost and energy of training ``params`` active parameters on ``tokens``
    tokens on ``chips`` x ``chip_id`` (:func:`analysis.training.predict_training`), with the user's
    ``training_mfu`` in place of the fitted model when the scenario states one (module docstring).

    Adds ``mfu_basis`` (fitted / scenario / user), ``interval`` (what the low/high keys are) and
    the price's basis and source."""
    a = user_assumption(sc, "training_mfu")
    k = sc.value("flops_per_param_token_training")  # predict_training counts k N D FLOPs
    if a is None:
        r = training.predict_training(ds, params, tokens, chip_id, chips=chips, scenario=sc)
        if user_assumption(sc, "flops_per_param_token_training") is not None:
            r["mfu_source"] += f"; MFU counted at {k:g} FLOPs per parameter per token"
        r["mfu_basis"] = "fitted"
        r["interval"] = "90% prediction interval of the fitted chip-hours model (fit uncertainty + leave-one-out error)"
    else:
        r = training.predict_training(ds, params, tokens, chip_id, chips=chips, mfu=a.value, scenario=sc)
        draws = draw_assumptions(sc, n, seed)["training_mfu"]
        d = training.predict_training(ds, params, tokens, chip_id, chips=chips, mfu=draws, scenario=sc,
                                      intervals=False)
        for key in ("chip_hours", "days", "cost_usd"):
            lo, hi = _interval_around(d[key], r[key]) if d.get(key) is not None else (None, None)
            r[f"{key}_low"], r[f"{key}_high"] = lo, hi
        r["interval_level"] = 0.90
        r["mfu_basis"] = a.basis
        r["mfu_source"] = (f"{whose(a)}: training_mfu {a.value:g} (range {a.low:g}-{a.high:g}) in place of the "
                           f"fitted chip-hours model; {k:g} FLOPs per parameter per token")
        r["interval"] = (f"90%: 5th-95th percentile over {n} seeded uniform draws of your training_mfu range "
                         f"{a.low:g}-{a.high:g} (widened to include the central value)")
    r.update(_price_provenance(ds, chip_id))
    if r.get("price_basis") in ("user", "scenario"):
        r["cost_note"] = f"{r.get('cost_note', '')}; the user's price, set by {r['price_source']}"
    return r


# --- serving ---------------------------------------------------------------------------------

def decode_run(ds, sc, model_id: str, chip_id: str, chips, batch, input_tokens, output_tokens, *,
               precision: str = "bf16", kv_precision: str | None = None, n: int = DEFAULT_DRAWS,
               seed: int = DEFAULT_SEED) -> dict:
    """Throughput, latency, TTFT, cost per million tokens and energy of serving ``model_id``
    (:func:`analysis.inference.predict_decode`), with the user's ``decode_bandwidth_efficiency`` /
    ``prefill_compute_efficiency`` in place of the fitted ones when the scenario states them.
    usd_per_million_tokens = chip-hour price x chips / (tokens/s x 3600 x serving_utilisation) x 1e6."""
    de = user_assumption(sc, "decode_bandwidth_efficiency")
    pe = user_assumption(sc, "prefill_compute_efficiency")
    args = (ds, sc, model_id, chip_id, chips, batch, input_tokens, output_tokens)
    kw = dict(precision=precision, kv_precision=kv_precision)
    if de is None and pe is None:
        r = inference.predict_decode(*args, **kw)
        r["efficiency_basis"] = "fitted"
    else:
        r = inference.predict_decode(*args, **kw, decode_eff=de.value if de else None,
                                     prefill_compute_eff=pe.value if pe else None, intervals=False)
        draws = draw_assumptions(sc, n, seed)
        d = inference.predict_decode(*args, **kw, intervals=False,
                                     decode_eff=draws["decode_bandwidth_efficiency"] if de else None,
                                     prefill_compute_eff=draws["prefill_compute_efficiency"] if pe else None)
        for key in ("tokens_per_s", "ms_per_token", "ttft_ms", "usd_per_million_tokens", "j_per_token"):
            lo, hi = (_interval_around(d[key], r[key]) if d.get(key) is not None and np.size(d[key]) > 1
                      else (r[key], r[key]))
            r[f"{key}_low"], r[f"{key}_high"] = lo, hi
        named = [a for a in (de, pe) if a is not None]
        r["efficiency_basis"] = named[0].basis
        r["interval"] = ("90%: 5th-95th percentile over " + f"{n} seeded uniform draws of your "
                         + " and ".join(f"{a.name} range {a.low:g}-{a.high:g}" for a in named)
                         + " (widened to include the central value; the serving fit's other parameters at their "
                         "fitted values)")
        r["notes"] = list(r.get("notes", [])) + [f"{a.name} = {a.value:g}: {whose(a)}, in place of the fitted value"
                                                 for a in named]
    r.update(_price_provenance(ds, chip_id))
    return r


# --- all-reduce ------------------------------------------------------------------------------

def _system_row(ds, system_id: str):
    sy = ds.systems
    rows = sy[sy.system_id == system_id]
    if rows.empty:
        raise StudyInputError(rel(ds.data_dir / "systems.csv"), f"unknown system '{system_id}'",
                              expected=nearest(system_id, sy.system_id))
    return rows.iloc[0]


def _systems(systems) -> int:
    """--systems: how many systems take part, at least 1."""
    k = int(systems)
    if k < 1:
        raise StudyInputError("command line", f"--systems {systems} must be at least 1", expected="an integer >= 1")
    return k


def allreduce_run(ds, sc, system_id: str, message_bytes: float, systems: int = 1, *, n: int = DEFAULT_DRAWS,
                  seed: int = DEFAULT_SEED) -> dict:
    """Time to all-reduce a gradient of ``message_bytes`` bytes over ``systems`` x ``system_id``
    (:func:`analysis.interconnect.hierarchical_all_reduce_s`): inside the system on the chip's
    scale-up links (interconnect_bidir_gb_s / 2 per direction, the system's topology), across
    systems over EFA (efa_gbit_s / 8 / chips per chip); every rate x network_efficiency, alpha =
    network_alpha_us. Central at the scenario's values; 90% interval over seeded draws of both."""
    row = _system_row(ds, system_id)
    chip = str(row.chip_id)
    p = int(ds.system_param(system_id, "chips"))
    k = _systems(systems)
    topology = rf.scaleup_topology(ds, chip)
    ca, cb = rf.allreduce_coefficients(p, topology)
    b_in = ic.chip_link_per_direction_bytes_s(ds, chip) if p > 1 else 1.0
    b_out = ic.efa_per_chip_bytes_s(ds, system_id) if k > 1 else 1.0

    def t(alpha_us, eff):
        return ic.hierarchical_all_reduce_s(message_bytes, p, k, ic.effective_bandwidth_bytes_s(b_in, eff),
                                            ic.effective_bandwidth_bytes_s(b_out, eff), np.asarray(alpha_us) * 1e-6,
                                            ca, cb)

    central = float(t(sc.value("network_alpha_us"), sc.value("network_efficiency")))
    d = draw_assumptions(sc, n, seed)
    lo, hi = interval(t(d["network_alpha_us"], d["network_efficiency"]))
    algo = ("none (one chip)" if p == 1 else {"switch": "recursive halving-doubling",
                                              "torus_2d": f"2D torus rings {ic.balanced_dims(p, 2)}",
                                              "ring": "ring"}[topology])
    return {"system_id": system_id, "chip_id": chip, "systems": k, "chips_per_system": p, "chips": p * k,
            "message_bytes": float(message_bytes), "allreduce_s": central, "allreduce_s_low": lo,
            "allreduce_s_high": hi, "allreduce_ms": central * 1e3, "interval_level": 0.90,
            "topology": topology, "intra_algorithm": algo, "intra_c_alpha": ca, "intra_c_beta": cb,
            "intra_bytes_s_per_chip": b_in if p > 1 else None,
            "inter_bytes_s_per_chip": b_out if k > 1 else None,
            "network_alpha_us": sc.value("network_alpha_us"), "network_efficiency": sc.value("network_efficiency"),
            "interval": f"90%: {n} seeded uniform draws of network_alpha_us and network_efficiency"}


# --- checkpointing -----------------------------------------------------------------------------

def checkpoint_run(ds, sc, system_id: str, *, params=None, model_id: str | None = None, systems: int = 1,
                   contents: str = "full", n: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> dict:
    """Checkpoint size, write time and the Young-Daly interval of a job on ``systems`` x ``system_id``
    (:mod:`analysis.checkpoint`): S = N x bytes per parameter of ``contents``; delta = S /
    (checkpoint_write_gb_s x 1e9); M = chip_mtbf_hours x 3600 / chips; Young tau = sqrt(2 delta M),
    Daly's higher-order tau; wasted fraction at Young = sqrt(2 delta / M) + R / M with R =
    restart_minutes x 60. N = ``params`` or the model's total parameters. 90% intervals over
    seeded draws of the scenario's ranges."""
    if (params is None) == (model_id is None):
        raise StudyInputError("command line", "give one of --params or --model", expected="--params 70e9 or --model ID")
    if model_id is not None:
        params = wl.transformer(ds, model_id).params_total
    _system_row(ds, system_id)
    k = _systems(systems)
    chips = int(ds.system_param(system_id, "chips")) * k

    def compute(v):
        size = ck.checkpoint_bytes(params, contents, bytes_per_param_weights=v["bytes_per_param_weights"],
                                   bytes_per_param_master_weights=v["bytes_per_param_master_weights"],
                                   bytes_per_param_optimizer=v["bytes_per_param_optimizer"])
        write = ck.checkpoint_write_s(size, v["checkpoint_write_gb_s"])
        mtbf = ck.system_mtbf_hours(v["chip_mtbf_hours"], chips) * 3600.0
        young = ck.young_interval_s(write, mtbf)
        return {"checkpoint_bytes": size, "write_s": write, "job_mtbf_h": mtbf / 3600.0,
                "young_interval_min": young / 60.0, "daly_interval_min": ck.daly_interval_s(write, mtbf) / 60.0,
                "wasted_fraction": ck.young_wasted_fraction(write, mtbf, v["restart_minutes"] * 60.0)}

    central = compute({name: a.value for name, a in sc.assumptions.items()})
    drawn = compute(draw_assumptions(sc, n, seed))
    out = {"system_id": system_id, "systems": k, "chips": chips, "params": float(params), "model_id": model_id,
           "contents": contents}
    for key, v in central.items():
        out[key] = float(v)
        out[f"{key}_low"], out[f"{key}_high"] = interval(drawn[key])
    out.update(interval_level=0.90, checkpoint_write_gb_s=sc.value("checkpoint_write_gb_s"),
               chip_mtbf_hours=sc.value("chip_mtbf_hours"), restart_minutes=sc.value("restart_minutes"),
               interval=f"90%: {n} seeded uniform draws of checkpoint_write_gb_s, chip_mtbf_hours, restart_minutes "
                        "and the bytes per parameter")
    return out


# --- which chip is cheapest --------------------------------------------------------------------

COMPARE_KINDS = ("decode", "training")


def _ranked(rows: list[dict], skipped: list[dict], key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = pd.DataFrame(rows)
    if not df.empty:
        df = df.sort_values([key, "chip_id"], kind="mergesort").reset_index(drop=True)
        df.insert(0, "rank", range(1, len(df) + 1))
    return df, pd.DataFrame(skipped, columns=["chip_id", "why"])


def compare_decode(ds, sc, model_id: str, chips, batch, input_tokens, output_tokens, *, precision: str = "bf16",
                   chip_ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every chip (or ``chip_ids``) serving ``model_id`` on ``chips`` chips, ranked by USD per million
    generated tokens (:func:`decode_run`), and the chips that cannot, each with the reason."""
    wl.transformer(ds, model_id)  # an unknown model fails once, not per chip
    rows, skipped = [], []
    for chip in chip_ids or sorted(ds.chips.chip_id):
        try:
            r = decode_run(ds, sc, model_id, chip, chips, batch, input_tokens, output_tokens, precision=precision)
        except StudyInputError as exc:
            skipped.append({"chip_id": chip, "why": exc.problem})
            continue
        if r.get("usd_per_million_tokens") is None:
            skipped.append({"chip_id": chip, "why": "no listed price"})
            continue
        rows.append({"chip_id": chip, "chips": r["chips"], "batch": r["batch"],
                     "tokens_per_s": r["tokens_per_s"], "usd_per_mtok": r["usd_per_million_tokens"],
                     "usd_per_mtok_low": r.get("usd_per_million_tokens_low"),
                     "usd_per_mtok_high": r.get("usd_per_million_tokens_high"),
                     "usd_per_chip_hour": r["usd_per_chip_hour"], "price": f"{r.get('price_basis')}: {r.get('price_source')}"})
    return _ranked(rows, skipped, "usd_per_mtok")


def compare_training(ds, sc, params, tokens, chips=None, *, chip_ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every chip (or ``chip_ids``) training ``params`` on ``tokens`` on ``chips`` chips, ranked by
    cost (:func:`training_run`), and the chips that cannot be priced, each with the reason. Column
    ``mfu_from`` says whose MFU it is, and flags a chip whose peak lies outside the span of the
    runs the chip-hours model was fitted to (its MFU is an extrapolation)."""
    rows, skipped = [], []
    for chip in chip_ids or sorted(ds.chips.chip_id):
        try:
            r = training_run(ds, sc, params, tokens, chip, chips)
        except StudyInputError as exc:
            skipped.append({"chip_id": chip, "why": exc.problem})
            continue
        if r.get("cost_usd") is None:
            skipped.append({"chip_id": chip, "why": r.get("cost_note", "no listed price")})
            continue
        extrapolated = "clipped to the fitted span" in r.get("mfu_source", "")
        rows.append({"chip_id": chip, "chips": r["chips"], "mfu": r["mfu"],
                     "mfu_from": r["mfu_basis"] + (" (outside the fitted span)" if extrapolated else ""),
                     "days": r["days"],
                     "cost_usd": r["cost_usd"], "cost_usd_low": r.get("cost_usd_low"),
                     "cost_usd_high": r.get("cost_usd_high"), "usd_per_chip_hour": r["usd_per_chip_hour"],
                     "price": f"{r.get('price_basis')}: {r.get('price_source')}"})
    return _ranked(rows, skipped, "cost_usd")
