"""Figures and tables of chapter 11 (sensitivity): which assumptions the verdicts depend on across
the whole ledger, and which verdicts flip within the assumption ranges.

Inputs are the ledger rows' one-at-a-time swings (``Row.sensitivity``: each assumption the rebuild
used, moved from its low to its high end with the others central) and their 90% intervals. Two
things the ledger does not store are computed here from the existing functions:

* the claim's comparison rule (mode, tolerance, claimed band) as the ledger engine derives it from
  ``data/claims.csv`` and ``data/rebuilds`` (:func:`claim_rule`), so a single rebuilt value can be
  compared with the claim by :func:`analysis.ledger.rules.agrees_numeric`;
* the rebuilt value with one assumption at its low or its high end and every other one central
  (:func:`endpoint_frame`): the ledger is re-evaluated for the claims that use the assumption, under a
  copy of the scenario whose central value is that end.
"""
from __future__ import annotations

import dataclasses
import math

import altair as alt
import pandas as pd

from ..ledger.rules import agrees_numeric, check_outcome, check_verdict, claim_band, directional_outcome
from ..ledger.specs import load_specs
from . import figure
from .. import fmt

#: A swing smaller than this fraction of the rebuilt value is floating-point noise, not a dependence.
REL_EPS = 1e-6
#: Monte Carlo draws for the endpoint re-evaluations (only their central values are used).
ENDPOINT_DRAWS = 200
CLASSES = ("holds across the range", "hangs on the assumptions", "fails across the range")
CLASS_COLOURS = ["#1a9850", "#fdae61", "#d73027"]


# --- the claim's comparison rule -------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Rule:
    """The comparison of the check a row shows (its ``rebuilt`` value): mode, claimed band, tolerance,
    the class it is weighed as and, for a bound or model estimate, which way favours the claimant."""
    mode: str
    c_lo: float
    c_hi: float
    tol: float
    evidence: str
    better: str | None = None

    def agrees(self, low: float, high: float | None = None) -> bool:
        """Does the claim pass against the rebuilt interval [low, high] (or the single value low)?"""
        high = low if high is None else high
        if self.evidence in ("bound", "model") and self.better:
            return directional_outcome(self.evidence, self.better, self.c_lo, self.c_hi, low, high,
                                       self.tol)[0] != "beyond"
        return bool(agrees_numeric(self.mode, self.c_lo, self.c_hi, low, high, self.tol)[0])

    def verdict(self, agrees: bool) -> str:
        return check_verdict(self.evidence, check_outcome(self.evidence, agrees)) or "unverifiable"


def _specs(st):
    cache = st.__dict__.setdefault("_figure_cache", {})
    if "specs" not in cache:
        cache["specs"] = load_specs(st.ds.claims.claim_id)
    return cache["specs"]


def shown_check(row) -> dict | None:
    """The check whose numbers a ledger row shows: the one its verdict rests on, else the first with a value."""
    for c in row.checks:
        if row.rests_on is not None and c["label"] == row.rests_on:
            return c
    return next((c for c in row.checks if c["rebuilt"] is not None), None)


def claim_rule(st, claim_id: str) -> Rule | None:
    """The ledger engine's comparison for the check a numeric or dated claim's row shows
    (None for a qualitative claim or one whose shown check is not graded)."""
    cache = st.__dict__.setdefault("_figure_cache", {})
    if "rows_by_id" not in cache:
        cache["rows_by_id"] = {r.claim_id: r for r in st.ledger_rows()}
    shown = shown_check(cache["rows_by_id"][claim_id])
    if shown is None or shown["effective"] == "info":
        return None
    chk = next(k for k in _specs(st)[claim_id].checks if k.label == shown["label"])
    c = st.ds.claims.set_index("claim_id").loc[claim_id]
    band = claim_band(c.qualifier, None if pd.isna(c.claimed_value) else c.claimed_value,
                      None if pd.isna(c.claimed_high) else c.claimed_high,
                      c.claimed_date if isinstance(c.claimed_date, str) else None, c.unit, chk.compare,
                      chk.tolerance)
    return None if band is None else Rule(*band, shown["effective"], chk.better if c.unit != "date" else None)


def is_numeric(r) -> bool:
    return isinstance(r.rebuilt, (int, float)) and not isinstance(r.rebuilt, bool) and r.low is not None


def has_range(r) -> bool:
    """True when the rebuilt 90% interval is wider than noise (the rebuild depends on assumptions)."""
    return is_numeric(r) and (r.high - r.low) > REL_EPS * max(abs(r.rebuilt), abs(r.low), abs(r.high))


# --- aggregate swings ------------------------------------------------------------------------------

def swing_frame(st, rows=None) -> pd.DataFrame:
    """One row per (claim, assumption) with a real swing: swing in claim units, relative swing
    |swing| / |rebuilt|, and its rank within the claim (1 = the assumption that moves it most)."""
    out = []
    for r in rows if rows is not None else st.ledger_rows():
        if not is_numeric(r) or not r.sensitivity:
            continue
        scale = abs(r.rebuilt) if r.rebuilt else max(abs(r.low), abs(r.high), 1.0)
        real = [(a, s) for a, s in r.sensitivity if abs(s) > REL_EPS * scale]
        for k, (a, s) in enumerate(real, start=1):
            out.append({"claim_id": r.claim_id, "assumption": a, "swing": s, "rebuilt": r.rebuilt, "unit": r.unit,
                        "rel_swing": abs(s) / scale, "rank": k, "verdict": r.verdict})
    return pd.DataFrame(out, columns=["claim_id", "assumption", "swing", "rebuilt", "unit", "rel_swing", "rank",
                                      "verdict"])


def assumption_frame(st, rows=None) -> pd.DataFrame:
    """Every assumption of the scenario: value, range, unit, source, and how many claims it moves
    (``claims_moved``), for how many it is the top assumption (``top_for``), and the sum and the
    largest of its relative swings."""
    sw = swing_frame(st, rows)
    out = []
    for name in st.sc.names():
        a = st.sc[name]
        d = sw[sw.assumption == name]
        out.append({"assumption": name, "value": a.value, "low": a.low, "high": a.high, "unit": a.unit,
                    "source": a.source, "claims_moved": int(d.claim_id.nunique()),
                    "top_for": int((d["rank"] == 1).sum()),
                    "sum_rel_swing": float(d.rel_swing.sum()), "max_rel_swing": float(d.rel_swing.max())
                    if len(d) else 0.0, "ranged": a.high > a.low})
    return (pd.DataFrame(out).sort_values(["claims_moved", "sum_rel_swing", "assumption"],
                                          ascending=[False, False, True]).reset_index(drop=True))


# --- interval classification -----------------------------------------------------------------------

def interval_frame(st, rows=None) -> pd.DataFrame:
    """Every claim whose rebuilt 90% interval has width, with its class:

    * holds across the range: the claim agrees with the rebuild at both ends of the interval;
    * hangs on the assumptions: it agrees with the interval but not with both ends (some
      assumption values within the ranges would give the opposite verdict);
    * fails across the range: it agrees with no part of the interval.
    """
    out = []
    for r in rows if rows is not None else st.ledger_rows():
        if not has_range(r):
            continue
        rule = claim_rule(st, r.claim_id)
        if rule is None:
            continue
        whole = rule.agrees(r.low, r.high)
        ends = rule.agrees(r.low) and rule.agrees(r.high)
        cls = CLASSES[0] if ends else (CLASSES[1] if whole else CLASSES[2])
        claimed = r.claimed if r.claimed is not None else rule.c_lo
        top = r.sensitivity[0][0] if r.sensitivity else ""
        out.append({"claim_id": r.claim_id, "verdict": r.verdict, "evidence": rule.evidence, "unit": r.unit,
                    "claimed": claimed, "claimed_high": r.claimed_high if r.claimed_high is not None else claimed,
                    "rebuilt": r.rebuilt, "low": r.low, "high": r.high, "class": cls, "top_assumption": top,
                    "claim_inside": bool(r.low <= claimed <= r.high)})
    df = pd.DataFrame(out)
    if len(df):
        for col in ("claimed", "claimed_high", "low", "high"):
            df[col + "_rel"] = df[col] / df.rebuilt
    return df


# --- one assumption at a time, at its ends -----------------------------------------------------------

def endpoint_frame(st) -> pd.DataFrame:
    """For every (claim, assumption) with a real swing: the rebuilt value with that assumption at its
    low and at its high end (the others central), and the verdict the claim would get against each
    single value; ``flips`` is True when either end gives a verdict other than the ledger's."""
    cache = st.__dict__.setdefault("_figure_cache", {})
    if "endpoints" in cache:
        return cache["endpoints"]
    from ..ledger import make_ledger

    sw = swing_frame(st)
    rows = {r.claim_id: r for r in st.ledger_rows()}
    values: dict[tuple[str, str, str], float] = {}
    for name, d in sw.groupby("assumption", sort=True):
        a = st.sc[name]
        ids = sorted(d.claim_id)
        for end in ("low", "high"):
            sc2 = dataclasses.replace(st.sc, assumptions={**st.sc.assumptions,
                                                           name: dataclasses.replace(a, value=getattr(a, end))},
                                      data=())
            ledger, _ = make_ledger(st.ds, sc2, n=ENDPOINT_DRAWS)
            for r in ledger.rows(ids):
                values[(r.claim_id, name, end)] = float(r.rebuilt)
    out = []
    for s in sw.itertuples():
        r, rule = rows[s.claim_id], claim_rule(st, s.claim_id)
        lo_v, hi_v = values[(s.claim_id, s.assumption, "low")], values[(s.claim_id, s.assumption, "high")]
        v_lo = rule.verdict(rule.agrees(lo_v)) if rule else r.verdict
        v_hi = rule.verdict(rule.agrees(hi_v)) if rule else r.verdict
        out.append({"claim": s.claim_id, "assumption": s.assumption, "unit": r.unit,
                    "claimed": r.claimed, "rebuilt (central)": r.rebuilt,
                    "at low end": lo_v, "at high end": hi_v, "verdict (ledger)": r.verdict,
                    "verdict at central value": rule.verdict(rule.agrees(r.rebuilt)) if rule else r.verdict,
                    "verdict at low end": v_lo, "verdict at high end": v_hi,
                    "flips": (v_lo != r.verdict) or (v_hi != r.verdict)})
    df = pd.DataFrame(out)
    cache["endpoints"] = df
    return df


# --- figures -------------------------------------------------------------------------------------------

@figure("fig-sensitivity-ranking", "Assumptions ranked by how many claims they move",
        "Each ranged assumption of the scenario: the number of claims whose rebuild it moves (one at a time, "
        "low to high end, others central), split into claims where it is the largest swing and claims where "
        "another assumption moves them more.")
def ranking(st):
    af = assumption_frame(st)
    af = af[af.ranged]
    long = pd.concat([
        af.assign(role="largest swing for the claim", claims=af.top_for),
        af.assign(role="a smaller swing", claims=af.claims_moved - af.top_for)], ignore_index=True)
    long["range"] = [f"{fmt.general(lo)} to {fmt.general(hi)} {u}" for lo, hi, u in zip(long.low, long.high, long.unit)]
    order = list(af.assumption)
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("assumption:N", sort=order, title="Assumption"),
        x=alt.X("claims:Q", title="Claims moved (count)", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("role:N", title="Role", scale=alt.Scale(
            domain=["largest swing for the claim", "a smaller swing"], range=["#4c78a8", "#9ecae9"])),
        order=alt.Order("role:N", sort="descending"),
        tooltip=["assumption:N", "role:N", alt.Tooltip("claims:Q", title="claims"), "range:N",
                 alt.Tooltip("claims_moved:Q", title="claims moved (all)"),
                 alt.Tooltip("sum_rel_swing:Q", title="sum of |swing| / rebuilt", format=".3f"),
                 alt.Tooltip("max_rel_swing:Q", title="largest |swing| / rebuilt", format=".3f")],
    ).properties(width=440, height=alt.Step(20))


@figure("fig-sensitivity-intervals", "Claims against their rebuilt ranges",
        "Every claim whose rebuild depends on an assumption: the rebuilt 90% interval (bar) and the claimed "
        "value (point), both divided by the central rebuilt value (log scale); colour says whether the claim "
        "holds across the interval, hangs on the assumptions or fails across it.")
def intervals(st):
    df = interval_frame(st)
    y = alt.Y("claim_id:N", title="Claim", sort=alt.EncodingSortField("claimed_rel", order="descending"))
    colour = alt.Color("class:N", title="Claim against the range",
                       scale=alt.Scale(domain=list(CLASSES), range=CLASS_COLOURS))
    tips = ["claim_id:N", "verdict:N", "evidence:N", "class:N", "top_assumption:N", "unit:N",
            alt.Tooltip("claimed:Q", format=".4g"), alt.Tooltip("claimed_high:Q", title="claimed (upper)", format=".4g"), alt.Tooltip("rebuilt:Q", title="rebuilt (central)", format=".4g"),
            alt.Tooltip("low:Q", title="90% low", format=".4g"), alt.Tooltip("high:Q", title="90% high", format=".4g")]
    xs = alt.Scale(type="log")
    bar = alt.Chart(df).mark_rule(strokeWidth=6, opacity=0.5).encode(
        x=alt.X("low_rel:Q", title="Value / central rebuilt value (log scale)", scale=xs), x2="high_rel:Q", y=y,
        color=colour, tooltip=tips)
    pt = alt.Chart(df).mark_point(filled=True, size=70, shape="diamond").encode(
        x=alt.X("claimed_rel:Q", scale=xs), y=y, color=colour, tooltip=tips)
    span = alt.Chart(df[df.claimed_high > df.claimed]).mark_rule(strokeWidth=2).encode(
        x=alt.X("claimed_rel:Q", scale=xs), x2="claimed_high_rel:Q", y=y, color=colour, tooltip=tips)
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#555").encode(x="x:Q")
    return (bar + span + pt + one).properties(width=460, height=alt.Step(18))


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return fmt.exact(x)


def endpoint_table_frame(st, only_flips: bool = False) -> pd.DataFrame:
    df = endpoint_frame(st)
    if only_flips:
        df = df[df.flips]
    df = df.copy()
    for col in ("claimed", "rebuilt (central)", "at low end", "at high end"):
        df[col] = [_fmt(v) for v in df[col]]
    return df.set_index(["claim", "assumption"])
