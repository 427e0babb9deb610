"""Figures and tables of chapter 10 (where the seeds disagree with each other).

Two sets of ledger rows:

* every claim whose verdict is ``inconsistent`` (it contradicts other figures of the seeds);
* :data:`TOPICS`: places where two or more claims state the same quantity, or two quantities
  that fix each other, in different words or numbers (mostly across seeds). The topic list names
  claim ids only; every number comes from the ledger.

For each row the main reading (the ledger's rebuild) and every alternative reading (``Row.alts``)
are compared with the claim by the ledger's own rule (:func:`analysis.figures.sensitivity.claim_rule`),
which says how much reconciles under another reading.
"""
from __future__ import annotations

import math

import altair as alt
import pandas as pd

from .sensitivity import claim_rule
from . import figure
from .. import fmt

#: (topic, claim ids, what differs). Editorial grouping: which claims speak of the same thing.
TOPICS = [
    ("Trainium3 vs Trainium2 performance", ("S2-002", "S2-008", "S2-018", "S3-001", "S3-003"),
     "seed 002 says about 4x, seed 003 about 2x"),
    ("Trainium2 compute vs H100", ("S0-024", "S0-025", "S4-099", "S4-107"),
     "seed 000's table puts Trainium2 below H100, seed 004 at about 2x H100"),
    ("Trainium2 memory bandwidth", ("S0-027", "S4-098"),
     "seed 000's 3,200 GB/s vs seed 004's 5x Trainium1"),
    ("Trainium3 energy efficiency", ("S2-004", "S2-020", "S2-009", "S2-014"),
     "seed 002 calls the same 40% an efficiency gain and an energy saving"),
    ("Trainium price advantage over GPUs", ("S1-002", "S3-031", "S3-006", "S3-033", "S4-103"),
     "30-50% in different words: cost saving, discount, price-performance"),
    ("Trainium3 process node", ("S2-001", "S3-004"), "3 nm vs '3 nm or 4 nm'"),
    ("UltraCluster size", ("S2-006", "S2-011", "S2-015", "S4-087"),
     "one million chips (seed 002) vs 100,000 (seed 004)"),
    ("Announcement dates", ("S1-028", "S4-027", "S3-009", "S1-030", "S4-041", "S1-034", "S4-006"),
     "the same launches dated by three seeds"),
]
INCONSISTENT_TOPIC = "Inconsistent with its own seed"
AGREES = ("consistent", "plausible")


def _rows_by_id(st):
    return {r.claim_id: r for r in st.ledger_rows()}


def inconsistent_ids(st) -> list[str]:
    return [r.claim_id for r in st.ledger_rows() if r.verdict == "inconsistent"]


def topic_ids(st) -> list[str]:
    """Every claim of the chapter (inconsistent rows first, then the topics), without repeats."""
    ids = list(inconsistent_ids(st))
    for _, cids, _ in TOPICS:
        ids += [c for c in cids if c not in ids]
    return ids


def chapter_rows(st):
    rows = _rows_by_id(st)
    return [rows[c] for c in sorted(topic_ids(st))]


def readings_frame(st) -> pd.DataFrame:
    """One row per (claim, reading): the main rebuild and each alternative, its value, and whether
    the claim agrees with it under the ledger's rule. ``ratio`` = claimed / reading (numeric claims)."""
    rows = _rows_by_id(st)
    out = []
    topics = [(INCONSISTENT_TOPIC, tuple(inconsistent_ids(st)), "")] + TOPICS
    for topic, cids, _ in topics:
        for cid in cids:
            r = rows[cid]
            rule = claim_rule(st, cid)
            readings = [("main reading", r.rebuilt, r.low, r.high)]
            readings += [(a["label"], a["rebuilt"], a["low"], a["high"]) for a in r.alts]
            for label, v, lo, hi in readings:
                numeric = isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None
                # a claim with nothing public to check it (evidence 'none') has a bound, not a rebuild
                checkable = rule is not None and rule.evidence != "none" and numeric and lo is not None
                agrees = rule.agrees(lo, hi) if checkable else None
                ratio = (r.claimed / v) if (numeric and r.claimed is not None and v not in (0, 0.0)) else math.nan
                out.append({"topic": topic, "claim_id": cid, "seed": r.seed_file[:3], "reading": label,
                            "main": label == "main reading", "claimed": r.claimed, "unit": r.unit,
                            "value": v if numeric else math.nan, "ratio": ratio, "agrees": agrees,
                            "verdict": r.verdict, "quote": r.quote})
    return pd.DataFrame(out)


def reconcile_frame(st) -> pd.DataFrame:
    """Per topic: claims, seeds, how many agree under the main reading, how many under some reading
    (main or alternative), and the spread of claimed / main rebuilt (largest over smallest)."""
    rf = readings_frame(st)
    out = []
    for topic, d in rf.groupby("topic", sort=False):
        main = d[d.main]
        any_ok = d.groupby("claim_id").agrees.apply(lambda s: bool(s.fillna(False).any()))
        ratios = main.ratio.dropna()
        ratios = ratios[ratios > 0]
        checked = main.agrees.notna()
        out.append({"topic": topic, "claims": int(main.claim_id.nunique()),
                    "seeds": ", ".join(sorted(set(main.seed))),
                    "checkable": int(checked.sum()),
                    "agree (main reading)": int(main.agrees.fillna(False).astype(bool).sum()),
                    "agree (some reading)": int(any_ok.sum()),
                    "alternative readings": int((~d.main).sum()),
                    "claimed / rebuilt, max over min": float(ratios.max() / ratios.min()) if len(ratios) else math.nan})
    return pd.DataFrame(out).set_index("topic")


def inputs_frame(st) -> pd.DataFrame:
    """The public inputs the chapter's rebuilds read (basis other than 'claimed'): key, value, unit,
    basis, source id."""
    seen = {}
    for r in chapter_rows(st):
        for i in r.inputs:
            if i.basis == "claimed" or i.key in seen:
                continue
            v = fmt.exact(i.value) if isinstance(i.value, (int, float)) and not isinstance(i.value, bool) else str(i.value)
            seen[i.key] = {"input": i.key, "value": v, "unit": i.unit, "basis": i.basis, "source": i.source}
    return pd.DataFrame(sorted(seen.values(), key=lambda d: d["input"])).set_index("input")


def _chart(df: pd.DataFrame, height_step: int = 16):
    df = df.dropna(subset=["ratio"])
    df = df[df.ratio > 0].copy()
    df["agreement"] = df.agrees.map({True: "claim agrees", False: "claim disagrees"}).fillna("no comparison")
    df["kind"] = df.main.map({True: "main reading", False: "alternative reading"})
    y = alt.Y("claim_id:N", title="Claim")
    tips = ["topic:N", "claim_id:N", "seed:N", "reading:N", "agreement:N", "verdict:N", "unit:N",
            alt.Tooltip("claimed:Q", format=".4g"), alt.Tooltip("value:Q", title="rebuilt under this reading", format=".4g"),
            alt.Tooltip("ratio:Q", title="claimed / rebuilt", format=".3f")]
    pts = alt.Chart().mark_point(size=90, filled=True, opacity=0.85).encode(
        x=alt.X("ratio:Q", title="Claimed / rebuilt value (log scale; 1 = agreement)", scale=alt.Scale(type="log")),
        y=y,
        color=alt.Color("agreement:N", title="Under the ledger's rule",
                        scale=alt.Scale(domain=["claim agrees", "claim disagrees", "no comparison"],
                                        range=["#1a9850", "#d73027", "#969696"])),
        shape=alt.Shape("kind:N", title="Reading", scale=alt.Scale(domain=["main reading", "alternative reading"],
                                                                    range=["circle", "triangle-up"])),
        tooltip=tips)
    one = alt.Chart().mark_rule(strokeDash=[4, 3], color="#555").encode(x=alt.datum(1.0))
    return alt.layer(one, pts, data=df).properties(width=420, height=alt.Step(height_step)).facet(
        row=alt.Row("topic:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
                    sort=[t for t, _, _ in TOPICS] + [INCONSISTENT_TOPIC])
    ).resolve_scale(y="independent")


@figure("fig-disagreements-cross-seed", "Same quantity, different numbers: every reading",
        "Claims that state the same quantity (mostly in different seeds): claimed value over the rebuilt value "
        "under the ledger's main reading (circles) and each alternative reading (triangles); green where the "
        "claim agrees under the ledger's rule, grey where nothing public checks it. Log scale; dates (which all "
        "agree) and negative readings are left out.")
def cross_seed(st):
    rf = readings_frame(st)
    return _chart(rf[(rf.topic != INCONSISTENT_TOPIC) & (rf.unit != "date")])


@figure("fig-disagreements-inconsistent", "Claims the seeds' own figures contradict",
        "Each claim whose verdict is inconsistent: claimed value over the value rebuilt from the seed's own "
        "figures (circles) and over each alternative reading (triangles); green where a reading reconciles it.")
def inconsistent(st):
    rf = readings_frame(st)
    return _chart(rf[rf.topic == INCONSISTENT_TOPIC], height_step=22)
