"""Figures and frames of chapter 5, Interconnect and topology.

Everything here is computed from :mod:`analysis.interconnect` (alpha-beta collectives, networkx
graphs and their closed forms) with the study's datasets and scenario; the notebook
``05_interconnect`` displays the figures and glues the numbers.
"""
from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from .. import interconnect as ic
from . import figure
from .. import fmt

#: Chip counts of the hop-count comparison (powers of two, so the hypercube is defined).
HOP_SIZES = (8, 16, 32, 64, 128, 256)
#: Chip counts of the latency-term comparison (3D tori of balanced shape).
LATENCY_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
#: Hosts per leaf switch of the two-level Clos (the 8 GPUs/NICs of one server).
HOSTS_PER_LEAF = 8
#: The 64-chip Trn2 UltraServer the '40% lower latency' claim is rebuilt on.
ULTRASERVER = "trn2-ultraserver"
TOPOLOGY_NAMES = {"ring": "ring", "mesh_2d": "2D mesh", "torus_2d": "2D torus", "torus_3d": "3D torus",
                  "hypercube": "hypercube", "fat_tree": "Clos (fat tree)"}


# --- hop counts: networkx against the closed forms --------------------------------------------

def _graph_and_forms(topology: str, p: int):
    """(shape text, networkx graph, closed-form diameter, closed-form mean hops) of one topology."""
    if topology == "ring":
        return f"{p}", ic.ring_graph(p), float(ic.ring_diameter_hops(p)), float(ic.ring_mean_hops(p))
    if topology in ("mesh_2d", "torus_2d", "torus_3d"):
        dims = ic.balanced_dims(p, 3 if topology == "torus_3d" else 2)
        shape = "x".join(map(str, dims))
        if topology == "mesh_2d":
            return shape, ic.mesh_graph(dims), float(ic.mesh_diameter_hops(dims)), float(ic.mesh_mean_hops(dims))
        return shape, ic.torus_graph(dims), float(ic.torus_diameter_hops(dims)), float(ic.torus_mean_hops(dims))
    if topology == "hypercube":
        d = p.bit_length() - 1
        return (f"Q{d}", ic.hypercube_graph(d), float(ic.hypercube_diameter_hops(d)),
                float(ic.hypercube_mean_hops(d)))
    h = min(HOSTS_PER_LEAF, p)
    return (f"{p // h} leaves x {h}", ic.fat_tree_graph(p, h), float(ic.fat_tree_diameter_hops(p, h)),
            float(ic.fat_tree_mean_hops(p, h)))


def hop_frame(sizes=HOP_SIZES) -> pd.DataFrame:
    """Diameter and mean hops (distinct chips) of each topology: measured on the networkx graph
    (breadth-first search from every chip) and from the closed form, one row per metric."""
    rows = []
    for p in sizes:
        for topology in TOPOLOGY_NAMES:
            if topology == "hypercube" and p & (p - 1):
                continue
            shape, g, diam, mean = _graph_and_forms(topology, p)
            hops = ic.pairwise_hop_counts(g)
            for metric, measured, closed in (("diameter", hops.max(), diam), ("mean hops", hops.mean(), mean)):
                rows.append({"topology": TOPOLOGY_NAMES[topology], "chips": p, "shape": shape, "metric": metric,
                             "networkx_hops": float(measured), "closed_form_hops": float(closed)})
    return pd.DataFrame(rows)


# --- all-reduce times (alpha-beta) ------------------------------------------------------------

def allreduce_inputs(st) -> dict:
    """The per-chip send rates and latency the all-reduce figures use (canonical units)."""
    eff = st.sc.value("network_efficiency")
    return {
        "chips": int(round(st.ds.system_param(ULTRASERVER, "chips"))),
        "neuronlink_bytes_s": ic.chip_link_per_direction_bytes_s(st.ds, "trainium2") * eff,
        "efa_bytes_s": float(ic.efa_per_chip_bytes_s(st.ds, "trn2.48xlarge")) * eff,
        "alpha_s": st.sc.value("network_alpha_us") * 1e-6,
        "efficiency": eff,
    }


def allreduce_frame(st, message_bytes=None) -> pd.DataFrame:
    """All-reduce time of a buffer over the Trn2 UltraServer's chip count on each topology, every chip
    sending at Trainium2's NeuronLink rate (per direction x network_efficiency); one row per topology
    and buffer size, with the time split into its latency and bandwidth terms."""
    x = allreduce_inputs(st)
    p, b, a = x["chips"], x["neuronlink_bytes_s"], x["alpha_s"]
    n = np.logspace(3, 11, 33) if message_bytes is None else np.asarray(message_bytes, dtype=float)
    d2, d3 = ic.balanced_dims(p, 2), ic.balanced_dims(p, 3)
    cases = [
        (f"3D torus {'x'.join(map(str, d3))}", "NeuronLink", lambda m: ic.torus_all_reduce_s(m, d3, b, a)),
        (f"2D torus {'x'.join(map(str, d2))}", "NeuronLink", lambda m: ic.torus_all_reduce_s(m, d2, b, a)),
        (f"2D mesh {'x'.join(map(str, d2))}", "NeuronLink", lambda m: ic.mesh_all_reduce_s(m, d2, b, a)),
        ("Clos, ring", "NeuronLink", lambda m: ic.fat_tree_all_reduce_s(m, p, b, a, algorithm="ring")),
        ("Clos, halving-doubling", "NeuronLink",
         lambda m: ic.fat_tree_all_reduce_s(m, p, b, a, algorithm="halving_doubling")),
        ("Clos over EFA, halving-doubling", "EFA",
         lambda m: ic.fat_tree_all_reduce_s(m, p, x["efa_bytes_s"], a, algorithm="halving_doubling")),
    ]
    if p & (p - 1) == 0:
        d = p.bit_length() - 1
        cases.insert(3, (f"hypercube Q{d}", "NeuronLink", lambda m: ic.hypercube_all_reduce_s(m, d, b, a)))
    rows = []
    for name, link, fn in cases:
        total = np.asarray(fn(n), dtype=float)
        latency = float(fn(0.0))
        for m, t in zip(n, total):
            rows.append({"topology": name, "link": link, "chips": p, "message_bytes": float(m),
                         "message_mb": float(m) / 1e6, "all_reduce_ms": float(t) * 1e3,
                         "latency_term_ms": latency * 1e3, "bandwidth_term_ms": (float(t) - latency) * 1e3})
    return pd.DataFrame(rows)


def latency_steps(p: int) -> dict:
    """Alpha steps of an all-reduce over p chips: 3D torus 2 sum(k_i - 1), Clos halving-doubling
    2 ceil(log2 p), Clos ring 2 (p - 1) (the latency terms of the model divided by alpha)."""
    dims = ic.balanced_dims(p, 3)
    one = 1.0  # alpha = 1 s and an empty buffer give the step count
    return {"shape": "x".join(map(str, dims)),
            "torus_3d": float(ic.torus_all_reduce_s(0.0, dims, 1.0, one)),
            "halving_doubling": float(ic.fat_tree_all_reduce_s(0.0, p, 1.0, one, algorithm="halving_doubling")),
            "ring": float(ic.fat_tree_all_reduce_s(0.0, p, 1.0, one, algorithm="ring"))}


def latency_reduction_frame(sizes=LATENCY_SIZES) -> pd.DataFrame:
    """1 - T_alpha(3D torus) / T_alpha(Clos) in percent, at equal per-step latency alpha, against
    both Clos collectives; and the torus/Clos ratio of per-step latency that a 40% cut would need."""
    rows = []
    for p in sizes:
        s = latency_steps(p)
        for base, label in (("halving_doubling", "Clos, halving-doubling"), ("ring", "Clos, ring")):
            rows.append({"chips": p, "torus_shape": s["shape"], "baseline": label, "torus_steps": s["torus_3d"],
                         "clos_steps": s[base], "reduction_pct": 100.0 * (1.0 - s["torus_3d"] / s[base])})
    return pd.DataFrame(rows)


def alpha_ratio_needed(p: int, reduction: float) -> float:
    """Per-step latency of the torus over that of a halving-doubling Clos that makes the torus's
    latency term ``reduction`` (a fraction) lower: (1 - reduction) x steps_Clos / steps_torus."""
    s = latency_steps(p)
    return (1.0 - reduction) * s["halving_doubling"] / s["torus_3d"]


def largest_torus_within_hops(hops: int, ndim: int = 2, k_max: int = 64) -> int:
    """Most chips in a k x ... x k torus (ndim dimensions) whose diameter is at most ``hops``."""
    best = 0
    for k in range(2, k_max + 1):
        dims = (k,) * ndim
        if ic.torus_diameter_hops(dims) <= hops:
            best = max(best, math.prod(dims))
    return best


# --- inputs and sensitivity tables -------------------------------------------------------------

def inputs_frame(st) -> pd.DataFrame:
    """The dataset cells and assumptions the chapter's computations use: value, unit, basis, source."""
    rows = []
    for chip in ("trainium1", "trainium2", "trainium3", "h100-sxm", "tpu-v5p"):
        r = st.ds.long_row("hardware", chip, "interconnect_bidir_gb_s")
        rows.append({"input": f"{chip}: chip-to-chip bandwidth (both directions)", "value": fmt.general(r['value']),
                     "unit": r["unit"], "basis": r["basis"], "source": r["source_id"]})
    for system, metric, what in (("trn1.32xlarge", "chips", "chips"), ("trn2.48xlarge", "chips", "chips"),
                                 ("trn2.48xlarge", "efa_gbit_s", "EFA line rate"),
                                 ("trn2-ultraserver", "chips", "chips"), ("tpu-v5p-pod", "chips", "chips")):
        r = st.ds.long_row("system_params", system, metric)
        rows.append({"input": f"{system}: {what}", "value": fmt.general(r['value']), "unit": r["unit"],
                     "basis": r["basis"], "source": r["source_id"]})
    for name in ("network_alpha_us", "network_efficiency"):
        a = st.sc[name]
        rows.append({"input": f"assumption {name} (range {fmt.general(a.low)}-{fmt.general(a.high)})", "value": fmt.general(a.value),
                     "unit": a.unit, "basis": "assumption", "source": a.source})
    return pd.DataFrame(rows).set_index("input")


def _num(x):
    """A float for numeric rebuilt values; None for booleans, None and NaN."""
    if x is None or isinstance(x, (bool, np.bool_)):
        return None
    x = float(x)
    return None if math.isnan(x) else x


def _moving(r, rel: float = 1e-9) -> list:
    """The (assumption, swing) pairs of a row whose swing is not numerically zero."""
    reb = _num(r.rebuilt)
    scale = abs(reb) if reb else 1.0
    return [(n, float(w)) for n, w in r.sensitivity if abs(float(w)) > rel * scale]


def sensitivity_summary(rows) -> pd.DataFrame:
    """Per assumption over the given ledger rows: claims whose rebuild reads it, claims it moves at all
    (swing not numerically zero), claims where it is the top mover, and the summed |swing| / |rebuilt|
    (the swing is the change of the rebuilt value from the assumption's low to its high end)."""
    out: dict[str, dict] = {}
    for r in rows:
        moving = dict(_moving(r))
        top = max(moving, key=lambda n: abs(moving[n])) if moving else None
        reb = _num(r.rebuilt)
        for name, swing in r.sensitivity:
            d = out.setdefault(name, {"assumption": name, "claims_reading_it": 0, "claims_moved": 0,
                                      "top_mover": 0, "sum_rel_swing": 0.0})
            d["claims_reading_it"] += 1
            d["claims_moved"] += int(name in moving)
            d["top_mover"] += int(name == top)
            if name in moving and reb:
                d["sum_rel_swing"] += abs(moving[name]) / abs(reb)
    cols = ["assumption", "claims_reading_it", "claims_moved", "top_mover", "sum_rel_swing"]
    df = pd.DataFrame(list(out.values()), columns=cols)
    return df.sort_values(["sum_rel_swing", "claims_moved", "claims_reading_it", "assumption"],
                          ascending=[False, False, False, True]).reset_index(drop=True)


def hangs_on_frame(rows) -> pd.DataFrame:
    """Numeric claims with an assumption that moves them or another reading in the ledger: claimed,
    rebuilt (90% interval), the top assumption and its low-to-high swing, and each other reading."""
    def f(x):
        return "" if x is None else fmt.exact(x)

    out = []
    for r in rows:
        if r.claimed is None or _num(r.rebuilt) is None:
            continue
        moving = _moving(r)
        if not moving and not r.alts:
            continue
        top = max(moving, key=lambda nw: abs(nw[1])) if moving else None
        interval = f(_num(r.rebuilt)) if r.low == r.high else f"{f(_num(r.rebuilt))} ({f(r.low)}-{f(r.high)})"
        out.append({"claim": r.claim_id, "unit": r.unit,
                    "claimed": f(r.claimed) + (f"-{f(r.claimed_high)}" if r.claimed_high is not None else ""),
                    "rebuilt (90% interval)": interval, "verdict": r.verdict,
                    "top assumption (swing)": f"{top[0]} ({fmt.signed(top[1], max_sig=3)})" if top else "none moves it",
                    "other readings: rebuilt": "; ".join(f"{a['label']}: {f(_num(a['rebuilt']))}"
                                                       for a in r.alts) or "none"})
    return pd.DataFrame(out).set_index("claim") if out else pd.DataFrame(
        columns=["claim", "unit", "claimed", "rebuilt (90% interval)", "verdict", "top assumption (swing)",
                 "other readings: rebuilt"]).set_index("claim")


from ..chapters import straddling  # noqa: E402,F401  (one definition, re-exported here)


# --- figures -----------------------------------------------------------------------------------

@figure("fig-interconnect-hops", "Hops between chips: networkx against the closed forms",
        "Diameter (most hops between two chips, left) and mean hops between distinct chips (right) of "
        "six topologies against chip count: points measured on networkx graphs, lines from the closed "
        "forms; the dashed rule marks the claimed 'fixed two hops'.")
def hops_figure(st):
    df = hop_frame()
    sel = alt.selection_point(name="ch5_hops_topology", fields=["topology"], bind="legend")
    tooltip = ["topology:N", "shape:N", alt.Tooltip("chips:Q", title="chips"),
               alt.Tooltip("networkx_hops:Q", format=".3f", title="networkx (hops)"),
               alt.Tooltip("closed_form_hops:Q", format=".3f", title="closed form (hops)")]
    panels = []
    for metric, title in (("diameter", "Diameter (hops)"), ("mean hops", "Mean hops between distinct chips")):
        base = alt.Chart(df[df.metric == metric]).encode(
            x=alt.X("chips:Q", title="Chips (count, log scale)", scale=alt.Scale(type="log", base=2)),
            color=alt.Color("topology:N", title="Topology"),
            opacity=alt.condition(sel, alt.value(1.0), alt.value(0.15)),
            tooltip=tooltip)
        lines = base.mark_line().encode(y=alt.Y("closed_form_hops:Q", title=f"{title}, log scale",
                                                scale=alt.Scale(type="log")))
        points = base.mark_point(size=60, filled=True).encode(y="networkx_hops:Q")
        rule = alt.Chart(pd.DataFrame({"hops": [2.0], "label": ["claimed: two hops"]})).mark_rule(
            strokeDash=[5, 4], color="black").encode(y="hops:Q", tooltip=["label:N", "hops:Q"])
        panels.append((lines + points + rule).properties(width=300, height=260,
                                                         name=f"ch5_hops_{metric.replace(' ', '_')}"))
    panels[0] = panels[0].add_params(sel)
    return alt.hconcat(*panels).resolve_scale(y="independent")


@figure("fig-interconnect-allreduce", "All-reduce time by topology, and the torus's latency term",
        "Left: all-reduce time against buffer size over the 64 chips of a Trn2 UltraServer on each "
        "topology (alpha-beta model; Trainium2 NeuronLink per direction, or EFA per chip, times the "
        "scenario's network efficiency). Right: how much lower a 3D torus's latency term is than a "
        "Clos's, at equal per-step latency, against chip count; the dashed rule is the claimed 40%.")
def allreduce_figure(st):
    df = allreduce_frame(st)
    sel = alt.selection_point(name="ch5_allreduce_topology", fields=["topology"], bind="legend")
    left = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=18)).encode(
        x=alt.X("message_mb:Q", title="Buffer per chip (MB, log scale)", scale=alt.Scale(type="log")),
        y=alt.Y("all_reduce_ms:Q", title="All-reduce time (ms, log scale)", scale=alt.Scale(type="log")),
        color=alt.Color("topology:N", title="Topology (64 chips)"),
        strokeDash=alt.StrokeDash("link:N", title="Link"),
        opacity=alt.condition(sel, alt.value(1.0), alt.value(0.15)),
        tooltip=["topology:N", "link:N", alt.Tooltip("message_mb:Q", format=".3g", title="buffer (MB)"),
                 alt.Tooltip("all_reduce_ms:Q", format=".4g", title="all-reduce (ms)"),
                 alt.Tooltip("latency_term_ms:Q", format=".4g", title="latency term (ms)"),
                 alt.Tooltip("bandwidth_term_ms:Q", format=".4g", title="bandwidth term (ms)")],
    ).add_params(sel).properties(width=330, height=280, name="ch5_allreduce_time")
    lat = latency_reduction_frame()
    right_lines = alt.Chart(lat).mark_line(point=True).encode(
        x=alt.X("chips:Q", title="Chips (count, log scale)", scale=alt.Scale(type="log", base=2)),
        y=alt.Y("reduction_pct:Q", title="Latency term lower than the Clos's (%)"),
        color=alt.Color("baseline:N", title="3D torus against",
                        scale=alt.Scale(range=["#7b3294", "#008837"])),
        tooltip=["baseline:N", alt.Tooltip("chips:Q", title="chips"), alt.Tooltip("torus_shape:N", title="torus"),
                 alt.Tooltip("torus_steps:Q", title="torus alpha steps"),
                 alt.Tooltip("clos_steps:Q", title="Clos alpha steps"),
                 alt.Tooltip("reduction_pct:Q", format=".1f", title="lower by (%)")])
    rules = alt.Chart(pd.DataFrame({"pct": [40.0, 0.0], "label": ["claimed: 40% lower", "no change"]})).mark_rule(
        color="black").encode(y="pct:Q", strokeDash=alt.condition("datum.pct > 0", alt.value([5, 4]), alt.value([1, 0])),
                              tooltip=["label:N", alt.Tooltip("pct:Q", title="%")])
    right = (right_lines + rules).properties(width=300, height=280, name="ch5_latency_reduction")
    return alt.hconcat(left, right).resolve_scale(color="independent", strokeDash="independent")
