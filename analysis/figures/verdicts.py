"""Figures about the ledger as a whole: verdicts by seed and kind, and by chapter."""
from __future__ import annotations

import altair as alt
import pandas as pd

from ..chapters import CHAPTERS, claim_chapters
from ..ledger.rules import VERDICTS
from . import figure

VERDICT_SCALE = alt.Scale(domain=list(VERDICTS),
                          range=["#1a9850", "#91cf60", "#fdae61", "#d73027", "#a50026", "#bdbdbd"])


def _frame(st) -> pd.DataFrame:
    rows = st.ledger_rows()
    claims = st.ds.claims.set_index("claim_id")
    chapters = claim_chapters(st.ds.claims)
    return pd.DataFrame([{"claim_id": r.claim_id, "seed": r.seed_file[:3], "kind": claims.kind[r.claim_id],
                          "chapter": CHAPTERS[chapters[r.claim_id]], "verdict": r.verdict} for r in rows])


@figure("fig-verdicts-by-seed-kind", "What the evidence supports, by seed and kind",
        "Computed verdicts of every registered claim, by seed article (left) and by kind of claim (right).")
def verdicts_by_seed_kind(st):
    df = _frame(st)
    base = alt.Chart(df).mark_bar().encode(
        x=alt.X("count():Q", title="Claims (count)"),
        color=alt.Color("verdict:N", scale=VERDICT_SCALE, sort=list(VERDICTS), title="Verdict"),
        order=alt.Order("verdict_order:Q"),
        tooltip=["verdict:N", alt.Tooltip("count():Q", title="claims")],
    ).transform_calculate(verdict_order=f"indexof({list(VERDICTS)}, datum.verdict)")
    by_seed = base.encode(y=alt.Y("seed:N", title="Seed article")).properties(width=210, height=160)
    by_kind = base.encode(y=alt.Y("kind:N", title="Kind of claim", sort="-x")).properties(width=210, height=320)
    return alt.hconcat(by_seed, by_kind)


@figure("fig-verdicts-by-chapter", "Verdicts by chapter",
        "Computed verdicts of the claims each chapter covers.")
def verdicts_by_chapter(st):
    df = _frame(st)
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("chapter:N", title=None, sort=list(CHAPTERS.values())),
        x=alt.X("count():Q", title="Claims (count)"),
        color=alt.Color("verdict:N", scale=VERDICT_SCALE, sort=list(VERDICTS), title="Verdict"),
        tooltip=["chapter:N", "verdict:N", alt.Tooltip("count():Q", title="claims")],
    ).properties(width=420, height=260)
