"""Interconnects: collective-communication time (alpha-beta model) and topology metrics.

Notation: p = chips taking part, n = bytes each chip contributes (the gradient buffer of an
all-reduce), alpha = per-step latency in seconds (software, NIC and switch together; the
scenario's ``network_alpha_us``), B = bandwidth in bytes per second.

**Bandwidth convention.** Every time formula takes B as the rate at which ONE chip can SEND while
the collective runs (per direction, egress). Vendor figures are often both directions summed
(``interconnect_bidir_gb_s`` in ``data/hardware.csv``): halve them with
:func:`per_direction_bytes_s`. Scale-out figures (``efa_gbit_s``) are line rates per direction
for a whole instance: divide by 8 and by the chips sharing the NICs
(:func:`efa_per_chip_bytes_s`). Multiply by the scenario's ``network_efficiency`` for the rate a
collective actually reaches.

**Collective costs** follow Thakur, Rabenseifner & Gropp (2005), "Optimization of collective
communication operations in MPICH", IJHPCA 19(1), and Patarasuk & Yuan (2009), "Bandwidth optimal
all-reduce algorithms for clusters of workstations", JPDC 69(2). The bandwidth term
2 (p-1)/p n / B is the lower bound for any all-reduce in which every chip sends at rate B
(Patarasuk & Yuan); algorithms differ in the latency term and in how much of B they can use.

**Topologies** are built as networkx graphs (chips are nodes, links are edges, a two-chip ring
dimension is one link) and described by closed forms that the tests check against networkx:
diameter (most hops between two chips), mean hops (average shortest path over ordered pairs of
DISTINCT chips unless said otherwise) and bisection width (fewest links cut by a split of the
chips into halves, sizes differing by at most one).

Two findings for the study: a 4x4 2D torus (16-chip trn1/trn2 server) has diameter 4 and mean
hops 32/15 = 2.13 (2.0 only if a chip's zero-hop path to itself is averaged in), so it is not
"a fixed two hops between any two chips"; and a 4x4 torus IS a 4-dimensional hypercube (16
nodes), not a 3-dimensional one (8 nodes): see :func:`torus_hypercube_dimension`.
"""
from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd

from . import checks
from .errors import StudyInputError

TOPOLOGIES = ("ring", "mesh_2d", "torus_2d", "torus_3d", "hypercube", "fat_tree")
#: Largest graph bisection_width_exhaustive will try (C(n-1, n/2-1) splits).
EXHAUSTIVE_MAX_CHIPS = 20


# --- argument checks --------------------------------------------------------------------------
_check_nonnegative = checks.nonnegative
_check_positive = checks.positive


def _check_chips(func: str, p, minimum: int = 2) -> np.ndarray:
    a = np.asarray(p, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < minimum) or np.any(a != np.round(a)):
        raise StudyInputError(func, f"chips must be whole numbers >= {minimum}, got {p!r}",
                              expected=f"an integer >= {minimum}")
    return a


def _check_dims(func: str, dims) -> tuple[int, ...]:
    try:
        out = tuple(int(k) for k in dims)
        ok = len(out) > 0 and all(k >= 1 and k == float(kk) for k, kk in zip(out, dims))
    except (TypeError, ValueError):
        ok = False
    if not ok or math.prod(out) < 2:
        raise StudyInputError(func, f"dims must be a non-empty sequence of integers >= 1 with at least "
                                    f"2 chips in all, got {dims!r}", expected="e.g. (4, 4) or (4, 4, 4)")
    return out


def _check_hypercube_dim(func: str, d) -> np.ndarray:
    a = np.asarray(d, dtype=float)
    if np.any(~np.isfinite(a)) or np.any(a < 1) or np.any(a != np.round(a)):
        raise StudyInputError(func, f"hypercube dimension must be a whole number >= 1, got {d!r}",
                              expected="d >= 1 (2^d chips)")
    return a


# --- bandwidth units --------------------------------------------------------------------------

def per_direction_bytes_s(bidir_gb_s):
    """B = bidir GB/s x 1e9 / 2: send rate per chip from a both-directions-summed figure."""
    return _check_nonnegative("per_direction_bytes_s", "bidir_gb_s", bidir_gb_s) * 1e9 / 2.0


def chip_link_per_direction_bytes_s(ds, chip_id: str):
    """A chip's scale-up send rate: interconnect_bidir_gb_s (hardware.csv) x 1e9 / 2 bytes/s."""
    return float(per_direction_bytes_s(ds.spec(chip_id, "interconnect_bidir_gb_s")))


def efa_per_chip_bytes_s(ds, system_id: str):
    """Scale-out send rate per chip: efa_gbit_s x 1e9 / 8 / chips bytes/s (EFA line rate per direction)."""
    return ds.system_param(system_id, "efa_gbit_s") * 1e9 / 8.0 / ds.system_param(system_id, "chips")


def effective_bandwidth_bytes_s(bandwidth_bytes_s, efficiency):
    """B_eff = B x efficiency (the scenario's network_efficiency: achieved / line rate)."""
    b = _check_nonnegative("effective_bandwidth_bytes_s", "bandwidth_bytes_s", bandwidth_bytes_s)
    e = np.asarray(efficiency, dtype=float)
    if np.any(~np.isfinite(e)) or np.any(e <= 0) or np.any(e > 1):
        raise StudyInputError("effective_bandwidth_bytes_s", f"efficiency must lie in (0, 1], got {efficiency!r}",
                              expected="a fraction such as 0.8")
    return b * e


# --- collective costs (alpha-beta) ------------------------------------------------------------

def _collective_args(func, message_bytes, chips, bandwidth_bytes_s, alpha_s):
    return (_check_nonnegative(func, "message_bytes", message_bytes), _check_chips(func, chips),
            _check_positive(func, "bandwidth_bytes_s", bandwidth_bytes_s),
            _check_nonnegative(func, "alpha_s", alpha_s))


def ring_all_reduce_s(message_bytes, chips, bandwidth_bytes_s, alpha_s):
    """T = 2 (p-1) alpha + 2 (p-1)/p n / B: ring reduce-scatter then ring all-gather.

    Thakur et al. (2005) section 4.4; Patarasuk & Yuan (2009) show the bandwidth term is optimal.
    B is the rate each chip sends to its ring successor: one link's per-direction rate for a
    unidirectional ring, twice that for two counter-rotating rings that each carry half the data
    (a "bidirectional ring"; the latency term is unchanged because each ring still takes p-1 steps).
    """
    n, p, b, a = _collective_args("ring_all_reduce_s", message_bytes, chips, bandwidth_bytes_s, alpha_s)
    return 2.0 * (p - 1.0) * a + 2.0 * (p - 1.0) / p * n / b


def ring_all_gather_s(message_bytes, chips, bandwidth_bytes_s, alpha_s):
    """T = (p-1) alpha + (p-1)/p n / B, n = the gathered (full) buffer; reduce-scatter costs the same.

    Thakur et al. (2005) section 4.1 (ring algorithm); B as in :func:`ring_all_reduce_s`.
    """
    n, p, b, a = _collective_args("ring_all_gather_s", message_bytes, chips, bandwidth_bytes_s, alpha_s)
    return (p - 1.0) * a + (p - 1.0) / p * n / b


def ring_reduce_scatter_s(message_bytes, chips, bandwidth_bytes_s, alpha_s):
    """T = (p-1) alpha + (p-1)/p n / B, n = the full input buffer (the mirror image of all-gather)."""
    n, p, b, a = _collective_args("ring_reduce_scatter_s", message_bytes, chips, bandwidth_bytes_s, alpha_s)
    return (p - 1.0) * a + (p - 1.0) / p * n / b


def halving_doubling_all_reduce_s(message_bytes, chips, bandwidth_bytes_s, alpha_s):
    """T = 2 ceil(log2 p) alpha + 2 (p-1)/p n / B: Rabenseifner's recursive halving (reduce-scatter)
    then recursive doubling (all-gather).

    Thakur et al. (2005) section 4.4. Exact for p a power of two on a network with full bisection
    (fat tree/Clos, or a hypercube stepping one dimension per step); for other p, ceil(log2 p) is
    the usual approximation (MPICH adds a pre/post step).
    """
    n, p, b, a = _collective_args("halving_doubling_all_reduce_s", message_bytes, chips, bandwidth_bytes_s,
                                  alpha_s)
    return 2.0 * np.ceil(np.log2(p)) * a + 2.0 * (p - 1.0) / p * n / b


def torus_all_reduce_s(message_bytes, dims, chip_bandwidth_bytes_s, alpha_s, *, all_links: bool = True):
    """T = 2 sum_i (k_i - 1) alpha + 2 (1 - 1/p) n / B_eff on a k_1 x ... x k_D torus, p = prod k_i.

    Reduce-scatter along dimension 1 (rings of k_1 chips, whole buffer n), then along dimension 2
    on the n/k_1 shard, ..., then all-gather back in reverse order (Thakur et al. 2005's ring
    steps applied per dimension; the "2D ring" of TPU and Trainium collectives). Per dimension
    the reduce-scatter costs (k_i-1) alpha + (k_i-1)/k_i n_i / B_eff with n_i = n / prod_{j<i} k_j;
    the bandwidth terms telescope to (1 - 1/p) n / B_eff, so a torus pays the same bytes as one
    big ring but only 2 sum (k_i - 1) latency steps instead of 2 (p - 1).

    ``chip_bandwidth_bytes_s`` is the chip's send rate summed over all its 2 x D torus links, two
    per dimension (half of a both-directions figure). Each dimension runs two counter-rotating rings (both directions of
    both links). ``all_links=True``: the buffer is split into D parts that visit the dimensions in
    rotated order, so every link is busy at once and B_eff = B; ``all_links=False``: one dimension
    at a time, B_eff = B / D. A two-chip dimension is taken to have two links like any other.
    """
    func = "torus_all_reduce_s"
    dims = _check_dims(func, dims)
    n = _check_nonnegative(func, "message_bytes", message_bytes)
    b = _check_positive(func, "chip_bandwidth_bytes_s", chip_bandwidth_bytes_s)
    a = _check_nonnegative(func, "alpha_s", alpha_s)
    p = float(math.prod(dims))
    b_eff = b if all_links else b / len(dims)
    return 2.0 * sum(k - 1 for k in dims) * a + 2.0 * (1.0 - 1.0 / p) * n / b_eff


def mesh_all_reduce_s(message_bytes, dims, chip_bandwidth_bytes_s, alpha_s, *, all_links: bool = True):
    """T = 2 sum_i (k_i - 1) alpha + 2 (1 - 1/p) n / (B_eff / 2) on a k_1 x ... x k_D mesh (no wraparound).

    As :func:`torus_all_reduce_s`, but a line of k chips holds only ONE ring per dimension (folded
    0, 2, 4, ..., 5, 3, 1: every directed link used once), where a ring of k holds two
    counter-rotating ones; so the bandwidth per dimension halves. Latency steps are the same
    (the folded ring's two-hop steps are forwarded in hardware).
    """
    func = "mesh_all_reduce_s"
    dims = _check_dims(func, dims)
    b = _check_positive(func, "chip_bandwidth_bytes_s", chip_bandwidth_bytes_s)
    return torus_all_reduce_s(message_bytes, dims, b / 2.0, alpha_s, all_links=all_links)


def hypercube_all_reduce_s(message_bytes, dimension, chip_bandwidth_bytes_s, alpha_s, *, all_links: bool = True):
    """T = 2 d alpha + 2 (1 - 1/p) n / B_eff on a d-dimensional hypercube, p = 2^d.

    Recursive halving then doubling, one dimension per step (Thakur et al. 2005). Each chip has d
    links and ``chip_bandwidth_bytes_s`` is their send rate summed. ``all_links=True``: d parts of
    the buffer step through the dimensions in rotated order, B_eff = B; ``all_links=False``: one
    link per step, B_eff = B / d.
    """
    func = "hypercube_all_reduce_s"
    d = _check_hypercube_dim(func, dimension)
    n = _check_nonnegative(func, "message_bytes", message_bytes)
    b = _check_positive(func, "chip_bandwidth_bytes_s", chip_bandwidth_bytes_s)
    a = _check_nonnegative(func, "alpha_s", alpha_s)
    p = 2.0 ** d
    b_eff = b if all_links else b / d
    return 2.0 * d * a + 2.0 * (1.0 - 1.0 / p) * n / b_eff


FAT_TREE_ALGORITHMS = {"ring": ring_all_reduce_s, "halving_doubling": halving_doubling_all_reduce_s}


def fat_tree_all_reduce_s(message_bytes, chips, bandwidth_bytes_s, alpha_s, *, algorithm: str = "ring"):
    """All-reduce on a full-bisection fat tree / Clos (InfiniBand, EFA), B = each chip's NIC send rate.

    ``ring``: T = 2 (p-1) alpha + 2 (p-1)/p n / B (NCCL's ring over the tree);
    ``halving_doubling``: T = 2 ceil(log2 p) alpha + 2 (p-1)/p n / B. Full bisection means no
    link is shared by two flows, so either algorithm gets the whole of B (Thakur et al. 2005).
    """
    if algorithm not in FAT_TREE_ALGORITHMS:
        raise StudyInputError("fat_tree_all_reduce_s", f"unknown algorithm '{algorithm}'",
                              expected=" or ".join(FAT_TREE_ALGORITHMS))
    return FAT_TREE_ALGORITHMS[algorithm](message_bytes, chips, bandwidth_bytes_s, alpha_s)


def hierarchical_all_reduce_s(message_bytes, chips_per_system, systems, intra_bandwidth_bytes_s,
                              inter_bandwidth_bytes_s, alpha_s, intra_c_alpha, intra_c_beta):
    """All-reduce of an n-byte buffer over K systems of p chips each (Thakur et al. 2005's
    hierarchical scheme, as NCCL and the Neuron runtime run it):

        T = [c_alpha alpha + c_beta n / B_in]  +  [2 (K-1) alpha + 2 (K-1)/K (n/p) / B_out]

    The first bracket is the scale-up all-reduce inside a system (reduce-scatter then all-gather;
    (c_alpha, c_beta) of its topology, e.g. (2 ceil(log2 p), 2 (p-1)/p) for a switch, see
    :func:`analysis.roofline.allreduce_coefficients`), at each chip's scale-up send rate B_in. The
    second is a ring all-reduce across the K systems of each chip's 1/p shard, every chip in its own
    ring, at its share of the scale-out (EFA) rate B_out (:func:`efa_per_chip_bytes_s`). K = 1 drops
    it; p = 1 drops the first. Rates in bytes/s per chip per direction, alpha in seconds.
    """
    f = "hierarchical_all_reduce_s"
    n = _check_nonnegative(f, "message_bytes", message_bytes)
    p = _check_chips(f, chips_per_system, minimum=1)
    k = _check_chips(f, systems, minimum=1)
    a = _check_nonnegative(f, "alpha_s", alpha_s)
    ca = _check_nonnegative(f, "intra_c_alpha", intra_c_alpha)
    cb = _check_nonnegative(f, "intra_c_beta", intra_c_beta)
    intra = ca * a + (cb * n / _check_positive(f, "intra_bandwidth_bytes_s", intra_bandwidth_bytes_s)
                      if np.any(cb > 0) else 0.0 * n)
    if np.all(k == 1):
        return intra
    b_out = _check_positive(f, "inter_bandwidth_bytes_s", inter_bandwidth_bytes_s)
    return intra + 2.0 * (k - 1.0) * a + 2.0 * (k - 1.0) / k * (n / p) / b_out


# --- graphs -----------------------------------------------------------------------------------

def ring_graph(chips: int) -> nx.Graph:
    """A ring of p >= 3 chips (nx.cycle_graph)."""
    p = int(_check_chips("ring_graph", chips, minimum=3))
    return nx.cycle_graph(p)


def torus_graph(dims) -> nx.Graph:
    """A k_1 x ... x k_D torus (nx.grid_graph, periodic); a two-chip dimension has one link."""
    dims = tuple(k for k in _check_dims("torus_graph", dims) if k > 1)
    return nx.grid_graph(dim=list(dims), periodic=True)


def mesh_graph(dims) -> nx.Graph:
    """A k_1 x ... x k_D mesh (nx.grid_graph without wraparound links)."""
    dims = tuple(k for k in _check_dims("mesh_graph", dims) if k > 1)
    return nx.grid_graph(dim=list(dims), periodic=False)


def hypercube_graph(dimension: int) -> nx.Graph:
    """The d-dimensional hypercube Q_d: 2^d chips, d links each (nx.hypercube_graph)."""
    return nx.hypercube_graph(int(_check_hypercube_dim("hypercube_graph", dimension)))


def fat_tree_graph(chips: int, hosts_per_leaf: int, spines: int | None = None) -> nx.Graph:
    """Two-level leaf-spine Clos: chips ("chip", i) -> leaf switch ("leaf", i // h) -> every spine.

    One link per chip; every leaf links once to each of ``spines`` spine switches (default h, which
    gives full bisection). Node attribute ``kind`` is "chip", "leaf" or "spine".
    """
    p, h = _fat_tree_args("fat_tree_graph", chips, hosts_per_leaf)
    s = h if spines is None else int(_check_chips("fat_tree_graph", spines, minimum=1))
    leaves = p // h
    g = nx.Graph()
    g.add_nodes_from((("chip", i) for i in range(p)), kind="chip")
    g.add_nodes_from((("leaf", j) for j in range(leaves)), kind="leaf")
    g.add_nodes_from((("spine", k) for k in range(s)), kind="spine")
    g.add_edges_from((("chip", i), ("leaf", i // h)) for i in range(p))
    g.add_edges_from((("leaf", j), ("spine", k)) for j in range(leaves) for k in range(s))
    return g


def chip_nodes(g: nx.Graph) -> list:
    """The chip nodes of a graph: those with kind "chip", or every node when no kind is set."""
    kinds = nx.get_node_attributes(g, "kind")
    return [v for v in g if kinds.get(v, "chip") == "chip"]


# --- metrics measured on a graph --------------------------------------------------------------

def pairwise_hop_counts(g: nx.Graph, chips=None) -> np.ndarray:
    """Shortest-path hops for every ordered pair of distinct chips (BFS from each chip)."""
    chips = chip_nodes(g) if chips is None else list(chips)
    if len(chips) < 2:
        raise StudyInputError("pairwise_hop_counts", f"need at least 2 chips, got {len(chips)}",
                              expected="a graph with 2 or more chip nodes")
    index = set(chips)
    out = []
    for c in chips:
        dist = nx.single_source_shortest_path_length(g, c)
        if not index <= dist.keys():
            raise StudyInputError("pairwise_hop_counts", "the graph is not connected", expected="a connected graph")
        out.extend(d for v, d in dist.items() if v in index and v != c)
    return np.asarray(out, dtype=int)


def graph_diameter_hops(g: nx.Graph, chips=None) -> int:
    """Most hops between two chips: max over pairs of the shortest-path length."""
    return int(pairwise_hop_counts(g, chips).max())


def graph_mean_hops(g: nx.Graph, chips=None) -> float:
    """Mean shortest-path hops over ordered pairs of distinct chips."""
    return float(pairwise_hop_counts(g, chips).mean())


def bisection_width_exhaustive(g: nx.Graph, chips=None) -> int:
    """Fewest links cut by any split of the chips into halves (sizes floor(p/2), ceil(p/2)), by trying them all.

    When every node is a chip the cut is counted directly for all C(p-1, floor(p/2)-1) splits
    (chip 0 fixed on one side, vectorised). When the graph has switches, they may fall on either
    side, so each split's cut is a unit-capacity minimum cut (max flow). Limited to
    EXHAUSTIVE_MAX_CHIPS chips.
    """
    chips = chip_nodes(g) if chips is None else list(chips)
    p = len(chips)
    if not 2 <= p <= EXHAUSTIVE_MAX_CHIPS:
        raise StudyInputError("bisection_width_exhaustive", f"{p} chips is outside 2..{EXHAUSTIVE_MAX_CHIPS}",
                              expected="a small graph (use bisection_width_kernighan_lin for larger)")
    half = p // 2
    if set(chips) == set(g):
        pos = {v: i for i, v in enumerate(chips)}
        u = np.array([pos[a] for a, _ in g.edges()])
        v = np.array([pos[b] for _, b in g.edges()])
        combos = list(itertools.combinations(range(1, p), half - 1))
        combos = np.array(combos, dtype=int).reshape(len(combos), half - 1)
        side = np.zeros((len(combos), p), dtype=bool)
        side[:, 0] = True
        np.put_along_axis(side, combos, True, axis=1)
        return int((side[:, u] != side[:, v]).sum(axis=1).min())
    h = nx.DiGraph()
    for a, b in g.edges():
        h.add_edge(a, b, capacity=1)
        h.add_edge(b, a, capacity=1)
    best = math.inf
    for rest in itertools.combinations(chips[1:], half - 1):
        left = {chips[0], *rest}
        f = h.copy()
        f.add_edges_from((("_src",), c) for c in left)
        f.add_edges_from((c, ("_sink",)) for c in chips if c not in left)
        best = min(best, nx.maximum_flow_value(f, ("_src",), ("_sink",)))
    return int(best)


def bisection_width_kernighan_lin(g: nx.Graph, seed: int = 0) -> int:
    """Links cut by networkx's Kernighan-Lin balanced bisection (fixed seed): an UPPER bound on the
    bisection width, for graphs too large to try every split (chip-only graphs)."""
    a, _ = nx.algorithms.community.kernighan_lin_bisection(g, seed=seed, max_iter=50)
    return int(nx.cut_size(g, a))


def torus_hypercube_dimension(dims) -> int | None:
    """d such that the k_1 x ... x k_D torus is the hypercube Q_d, else None.

    A ring of 4 is Q_2 and a ring of 2 (one link) is Q_1, and products of hypercubes are
    hypercubes, so the torus is Q_d with d = sum log2 k_i exactly when every k_i is 2 or 4
    (4x4 -> Q_4, 2x4 -> Q_3, 4x4x4 -> Q_6). Checked with nx.is_isomorphic in the tests.
    """
    dims = tuple(k for k in _check_dims("torus_hypercube_dimension", dims) if k > 1)
    if all(k in (2, 4) for k in dims):
        return sum(1 if k == 2 else 2 for k in dims)
    return None


# --- closed forms -----------------------------------------------------------------------------

def ring_diameter_hops(chips):
    """D = floor(p / 2)."""
    return np.floor_divide(_check_chips("ring_diameter_hops", chips), 2)


def ring_total_hops(chips):
    """Sum of hops over ordered pairs: p floor(p^2 / 4) (from one chip: 1,1,2,2,...; p/2 once if p even)."""
    p = _check_chips("ring_total_hops", chips, minimum=1)
    return p * np.floor(p * p / 4.0)


def ring_mean_hops(chips):
    """Mean hops between distinct chips: floor(p^2/4) / (p - 1) (p/4 per chip incl. itself for even p)."""
    p = _check_chips("ring_mean_hops", chips)
    return np.floor(p * p / 4.0) / (p - 1.0)


def ring_bisection_links(chips):
    """B_w = 2 for any ring of p >= 3 (cut it into two arcs)."""
    p = _check_chips("ring_bisection_links", chips, minimum=3)
    return 2.0 + 0.0 * p


def _line_total_hops(k: int) -> int:
    """Sum of |i - j| over ordered pairs of a line of k chips: k (k^2 - 1) / 3."""
    return k * (k * k - 1) // 3


def _product_total_hops(dims, per_dim_total) -> int:
    """W = sum_d W_d prod_{e != d} k_e^2 for a product graph (hops add over dimensions)."""
    sq = [k * k for k in dims]
    return sum(per_dim_total(k) * math.prod(sq[:i] + sq[i + 1:]) for i, k in enumerate(dims))


def torus_diameter_hops(dims) -> int:
    """D = sum_i floor(k_i / 2): 2 floor(k/2) for k x k, 3 floor(k/2) for k x k x k."""
    return sum(k // 2 for k in _check_dims("torus_diameter_hops", dims))


def torus_total_hops(dims) -> int:
    """W = sum_d k_d floor(k_d^2/4) prod_{e != d} k_e^2: hops summed over ordered pairs (exact integer)."""
    return _product_total_hops(_check_dims("torus_total_hops", dims), lambda k: k * (k * k // 4))


def torus_mean_hops(dims, *, include_self: bool = False) -> float:
    """Mean hops = W / (p (p - 1)) over distinct chips, or W / p^2 with each chip's zero-hop path to itself.

    For k x k with k even: W = k^5 / 2, so the mean is k^3 / (2 (k^2 - 1)) between distinct chips
    (32/15 = 2.133 for 4x4) and exactly k/2 with self pairs (k/4 per dimension).
    """
    dims = _check_dims("torus_mean_hops", dims)
    p = math.prod(dims)
    return torus_total_hops(dims) / (p * p if include_self else p * (p - 1))


def torus_hop_distribution(dims) -> np.ndarray:
    """Chips at each hop count 0, 1, ..., D from any one chip: the convolution over dimensions of a
    ring's counts (1, 2, 2, ..., 2, and 1 at k/2 when k is even)."""
    out = np.array([1], dtype=int)
    for k in _check_dims("torus_hop_distribution", dims):
        ring = np.zeros(k // 2 + 1, dtype=int)
        for j in range(k):
            ring[min(j, k - j)] += 1
        out = np.convolve(out, ring)
    return out


def _split_links(dims, wrap: bool) -> float:
    """Straight cut across the longest dimension when it is even: min over even k_d of (p / k_d) x
    links per line cut (2 on a ring of k >= 3, else 1). One dimension: a ring 2, a line 1.
    NaN when the longest dimension is odd (a staircase cut can then beat every straight cut)."""
    dims = tuple(k for k in dims if k > 1)
    if len(dims) == 1:
        return 2.0 if wrap and dims[0] >= 3 else 1.0
    if max(dims) % 2:
        return math.nan
    p = math.prod(dims)
    return float(min(p // k * (2 if wrap and k >= 3 else 1) for k in dims if k % 2 == 0))


def torus_bisection_links(dims) -> float:
    """B_w = 2 p / k_max when the longest dimension is even: cutting across it severs p/k_max lines,
    each ring twice (2k for k x k, 2k^2 for k x k x k). A two-chip dimension counts one link.

    NaN when the longest dimension is odd (the exact value then needs a search; see
    :func:`bisection_width_exhaustive`).
    """
    return _split_links(_check_dims("torus_bisection_links", dims), wrap=True)


def mesh_diameter_hops(dims) -> int:
    """D = sum_i (k_i - 1): 2 (k - 1) for k x k."""
    return sum(k - 1 for k in _check_dims("mesh_diameter_hops", dims))


def mesh_total_hops(dims) -> int:
    """W = sum_d k_d (k_d^2 - 1)/3 prod_{e != d} k_e^2: hops summed over ordered pairs (exact integer)."""
    return _product_total_hops(_check_dims("mesh_total_hops", dims), _line_total_hops)


def mesh_mean_hops(dims) -> float:
    """Mean hops between distinct chips = W / (p (p - 1)); exactly 2k/3 for k x k (W = 2 k^3 (k^2 - 1) / 3)."""
    dims = _check_dims("mesh_mean_hops", dims)
    p = math.prod(dims)
    return mesh_total_hops(dims) / (p * (p - 1))


def mesh_bisection_links(dims) -> float:
    """B_w = p / k_max when the longest dimension is even (k for k x k); NaN when it is odd (a 2 x 5 mesh
    is cut by 3 links by a staircase, fewer than the 5 of any straight cut)."""
    return _split_links(_check_dims("mesh_bisection_links", dims), wrap=False)


def hypercube_diameter_hops(dimension):
    """D = d."""
    return _check_hypercube_dim("hypercube_diameter_hops", dimension)


def hypercube_mean_hops(dimension):
    """Mean hops between distinct chips = (d/2) 2^d / (2^d - 1) (from one chip: C(d, j) chips at j hops)."""
    d = _check_hypercube_dim("hypercube_mean_hops", dimension)
    return d / 2.0 * 2.0 ** d / (2.0 ** d - 1.0)


def hypercube_bisection_links(dimension):
    """B_w = 2^(d-1): one link per chip pair across any dimension."""
    return 2.0 ** (_check_hypercube_dim("hypercube_bisection_links", dimension) - 1.0)


def _fat_tree_args(func, chips, hosts_per_leaf) -> tuple[int, int]:
    p = int(_check_chips(func, chips))
    h = int(_check_chips(func, hosts_per_leaf, minimum=1))
    if p % h:
        raise StudyInputError(func, f"{p} chips do not fill leaves of {h} hosts",
                              expected="chips a multiple of hosts_per_leaf")
    return p, h


def fat_tree_diameter_hops(chips, hosts_per_leaf) -> int:
    """D = 4 links (chip-leaf-spine-leaf-chip), or 2 when all chips share one leaf."""
    p, h = _fat_tree_args("fat_tree_diameter_hops", chips, hosts_per_leaf)
    return 2 if p == h else 4


def fat_tree_mean_hops(chips, hosts_per_leaf) -> float:
    """Mean links between distinct chips = [2 (h - 1) + 4 (p - h)] / (p - 1) (same leaf: 2, else 4)."""
    p, h = _fat_tree_args("fat_tree_mean_hops", chips, hosts_per_leaf)
    return (2.0 * (h - 1) + 4.0 * (p - h)) / (p - 1)


def fat_tree_bisection_links(chips, hosts_per_leaf) -> float:
    """B_w = p / 2 for a full-bisection Clos (spines >= hosts per leaf): the chips' own links on one side."""
    p, _ = _fat_tree_args("fat_tree_bisection_links", chips, hosts_per_leaf)
    return p / 2.0


# --- comparison table -------------------------------------------------------------------------

def balanced_dims(chips: int, ndim: int) -> tuple[int, ...]:
    """The factorisation of p into ``ndim`` factors with the smallest largest factor (then the
    smallest spread), ascending: 16 -> (4, 4) or (2, 2, 4); 144 -> (12, 12) or (4, 6, 6)."""
    p = int(_check_chips("balanced_dims", chips))
    if ndim < 1:
        raise StudyInputError("balanced_dims", f"ndim must be >= 1, got {ndim}", expected="1, 2 or 3")

    def factorisations(n, parts, lo):
        if parts == 1:
            return [(n,)] if n >= lo else []
        return [(f, *rest) for f in range(lo, int(round(n ** (1 / parts))) + 2) if n % f == 0
                for rest in factorisations(n // f, parts - 1, f)]

    return min(factorisations(p, ndim, 1), key=lambda t: (max(t), max(t) - min(t)))


def _row(topology, chips, shape, diameter, mean, bisection, latency_s, bandwidth_s):
    return {"topology": topology, "chips": chips, "shape": shape, "diameter_hops": float(diameter),
            "mean_hops": float(mean), "bisection_links": float(bisection),
            "all_reduce_latency_s": float(latency_s), "all_reduce_bandwidth_s": float(bandwidth_s),
            "all_reduce_s": float(latency_s + bandwidth_s)}


def topology_table(sizes, message_bytes: float = 1e9, chip_bandwidth_bytes_s: float = 100e9,
                   alpha_s: float = 10e-6, hosts_per_leaf: int = 8) -> pd.DataFrame:
    """Ring, 2D mesh, 2D torus, 3D torus, hypercube and fat tree at each chip count, from the closed forms.

    Every chip gets the same send rate B = ``chip_bandwidth_bytes_s`` spread over its links, so the
    all-reduce column compares topologies, not link speeds: ring = bidirectional ring
    (:func:`ring_all_reduce_s` at B); mesh/torus = dimension-by-dimension rings using all links
    (:func:`mesh_all_reduce_s`, :func:`torus_all_reduce_s`); hypercube = halving-doubling over all
    links; fat tree = Rabenseifner halving-doubling (same bandwidth term as its ring, fewer
    latency steps). Columns split T into its alpha and bandwidth terms.
    Hypercube rows appear only for powers of two; fat trees need p a multiple of ``hosts_per_leaf``
    (or p <= hosts_per_leaf, one leaf). Hop counts of the fat tree count switch links.
    """
    rows = []
    zero = 0.0
    for p in sizes:
        p = int(_check_chips("topology_table", p, minimum=3))
        t = ring_all_reduce_s(message_bytes, p, chip_bandwidth_bytes_s, alpha_s)
        lat = ring_all_reduce_s(zero, p, chip_bandwidth_bytes_s, alpha_s)
        rows.append(_row("ring", p, f"{p}", ring_diameter_hops(p), ring_mean_hops(p), ring_bisection_links(p),
                         lat, t - lat))
        for name, ndim, diam, mean, bis, allr in (
                ("mesh_2d", 2, mesh_diameter_hops, mesh_mean_hops, mesh_bisection_links, mesh_all_reduce_s),
                ("torus_2d", 2, torus_diameter_hops, torus_mean_hops, torus_bisection_links, torus_all_reduce_s),
                ("torus_3d", 3, torus_diameter_hops, torus_mean_hops, torus_bisection_links, torus_all_reduce_s)):
            dims = balanced_dims(p, ndim)
            t = allr(message_bytes, dims, chip_bandwidth_bytes_s, alpha_s)
            lat = allr(zero, dims, chip_bandwidth_bytes_s, alpha_s)
            rows.append(_row(name, p, "x".join(map(str, dims)), diam(dims), mean(dims), bis(dims), lat, t - lat))
        if p & (p - 1) == 0:
            d = p.bit_length() - 1
            t = hypercube_all_reduce_s(message_bytes, d, chip_bandwidth_bytes_s, alpha_s)
            lat = hypercube_all_reduce_s(zero, d, chip_bandwidth_bytes_s, alpha_s)
            rows.append(_row("hypercube", p, f"Q{d}", hypercube_diameter_hops(d), hypercube_mean_hops(d),
                             hypercube_bisection_links(d), lat, t - lat))
        h = min(hosts_per_leaf, p)
        t = fat_tree_all_reduce_s(message_bytes, p, chip_bandwidth_bytes_s, alpha_s, algorithm="halving_doubling")
        lat = fat_tree_all_reduce_s(zero, p, chip_bandwidth_bytes_s, alpha_s, algorithm="halving_doubling")
        rows.append(_row("fat_tree", p, f"{p // h} leaves x {h}", fat_tree_diameter_hops(p, h),
                         fat_tree_mean_hops(p, h), fat_tree_bisection_links(p, h), lat, t - lat))
    return pd.DataFrame(rows)
