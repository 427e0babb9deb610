"""The claim ledger (issue 3/4): every claim of ``data/claims.csv`` rebuilt, with a computed verdict.

    >>> from analysis.ledger import build_ledger
    >>> rows = build_ledger()                  # baseline scenario, 10,000 seeded draws per claim
    >>> table = to_frame(rows)

CLI: ``python -m analysis ledger [--scenario F] [--set N=V ...] [--format table|csv|json] [--output F]
[--diff] [--only PREFIX]`` and ``python -m analysis explain CLAIM_ID``.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from ..montecarlo import DEFAULT_DRAWS, DEFAULT_SEED
from .engine import Ledger, Row
from .rules import VERDICTS
from .specs import load_specs

JSON_KEYS = ["claim_id", "seed_file", "quote", "claimed", "claimed_high", "unit", "rebuilt", "low", "high",
             "verdict", "model", "explanation"]
EXTRA_KEYS = ["claimed_date", "ratio", "evidence", "rule", "top_assumption", "sensitivity", "alternatives",
              "rests_on", "premise", "checks"]
#: the keys of one check in the JSON export
CHECK_KEYS = ["label", "against", "effective", "better", "horizon", "outcome", "verdict", "reading", "rebuilt", "low",
              "high", "text", "others"]


def make_ledger(ds=None, scenario=None, sets=None, n: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED):
    """(Ledger, changed input keys) for the datasets/scenario with ``--set`` overrides applied."""
    from .. import load_datasets, load_scenario
    from ..overrides import apply_all

    ds = ds if ds is not None else load_datasets()
    scenario = scenario if scenario is not None else load_scenario()
    ds, scenario, changed = apply_all(ds, scenario, sets)  # a scenario file's data cells, then --set
    specs = load_specs(ds.claims.claim_id)
    return Ledger(ds, scenario, specs, n=n, seed=seed), changed


def build_ledger(ds=None, scenario=None, sets=None, only: str | None = None, n: int = DEFAULT_DRAWS,
                 seed: int = DEFAULT_SEED) -> list[Row]:
    ledger, _ = make_ledger(ds, scenario, sets, n, seed)
    ids = [c for c in ledger.ds.claims.claim_id if not only or c.startswith(only)]
    if only and not ids:
        from ..errors import StudyInputError
        raise StudyInputError("command line", f"--only {only}: no claim id starts with '{only}'",
                              expected="a prefix of claim ids in data/claims.csv, e.g. S0 or S4-01")
    missing = [c for c in ids if c not in ledger.specs]
    if missing:
        from ..errors import StudyInputError
        raise StudyInputError("data/rebuilds", f"{len(missing)} claim(s) have no rebuild: {', '.join(missing[:8])}"
                              + (" ..." if len(missing) > 8 else ""), expected="one entry per claim in data/rebuilds/S*.yaml")
    return ledger.rows(ids)


def _round(x, digits=6):
    if x is None or isinstance(x, bool):
        return x
    x = float(x)
    if not math.isfinite(x) or x == 0:
        return x
    return float(f"{x:.{digits}g}")


def row_dict(r: Row, top: int = 3) -> dict:
    d = {k: getattr(r, k) for k in JSON_KEYS}
    for k in ("claimed", "claimed_high", "rebuilt", "low", "high"):
        d[k] = _round(d[k])
    d["claimed_date"] = r.claimed_date
    d["ratio"] = _round(r.ratio)
    d["evidence"] = r.evidence
    d["rule"] = r.rule
    d["top_assumption"] = r.sensitivity[0][0] if r.sensitivity else None
    d["sensitivity"] = [{"assumption": a, "swing": _round(s)} for a, s in r.sensitivity[:top]]
    d["alternatives"] = [_rounded(alt) for alt in r.alts]
    d["rests_on"] = r.rests_on
    d["premise"] = [{"subject": s, "exists": v} for s, v in r.premise]
    d["checks"] = [{k: (_round(c.get(k)) if k in ("rebuilt", "low", "high") else
                        [_rounded(o) for o in c.get(k, [])] if k == "others" else c.get(k)) for k in CHECK_KEYS}
                   for c in r.checks]
    return d


def _rounded(d: dict) -> dict:
    return {k: _round(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for k, v in d.items()}


def check_summary(c: dict) -> str:
    """One line for a check: 'label [effective]: outcome -> verdict'."""
    return f"{c['label']} [{c['effective']}]: {c['outcome']}" + (f" -> {c['verdict']}" if c.get("verdict") else "")


def to_frame(rows: list[Row]) -> pd.DataFrame:
    recs = []
    for r in rows:
        d = row_dict(r)
        d["sensitivity"] = "; ".join(f"{s['assumption']}: {s['swing']:.4g}" for s in d["sensitivity"])
        d["alternatives"] = "; ".join(f"{a['label']}: {a['rebuilt']}" for a in d["alternatives"])
        d["premise"] = "; ".join(f"{p['subject']} exists: {p['exists']}" for p in d["premise"])
        d["checks"] = " | ".join(check_summary(c) for c in d["checks"])
        recs.append(d)
    return pd.DataFrame(recs, columns=JSON_KEYS + EXTRA_KEYS)


def export(rows: list[Row], fmt: str) -> str:
    """The ledger as table, csv or json text; byte-identical for identical inputs."""
    if fmt == "json":
        return json.dumps([row_dict(r) for r in rows], indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    df = to_frame(rows)
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n")
    if fmt == "table":
        short = df[["claim_id", "claimed", "claimed_high", "unit", "rebuilt", "low", "high", "verdict", "evidence"]].copy()
        short["claimed"] = [d if c is None or (isinstance(c, float) and math.isnan(c)) else c
                            for c, d in zip(df.claimed, df.claimed_date)]
        for col in ("claimed", "claimed_high", "rebuilt", "low", "high"):
            short[col] = short[col].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                                        else (str(v) if isinstance(v, (bool, np.bool_, str)) else f"{v:.6g}"))
        counts = df.verdict.value_counts().reindex(VERDICTS, fill_value=0)
        tail = "verdicts: " + ", ".join(f"{k} {v}" for k, v in counts.items())
        return short.to_string(index=False, na_rep="") + "\n" + tail + "\n"
    raise ValueError(fmt)


def _check_moved(a: dict, b: dict) -> bool:
    """Did one check's outcome, value or interval change between two ledgers?"""
    if a.get("outcome") != b.get("outcome"):
        return True
    for k in ("rebuilt", "low", "high"):
        x, y = a.get(k), b.get(k)
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, rel_tol=1e-6, abs_tol=0.0):
                return True
        elif x != y:
            return True
    return False


def diff(base: list[Row], new: list[Row], changed_keys: list[str], rel_tol: float = 1e-9) -> list[dict]:
    """Claims whose verdict, rebuilt value or any check's value, interval or outcome differs between two
    ledgers, with the inputs that moved."""
    out = []
    by_id = {r.claim_id: r for r in base}
    for r in new:
        b = by_id[r.claim_id]
        moved = b.verdict != r.verdict
        if not moved and isinstance(r.rebuilt, (int, float)) and isinstance(b.rebuilt, (int, float)) \
                and not isinstance(r.rebuilt, bool):
            moved = not math.isclose(r.rebuilt, b.rebuilt, rel_tol=rel_tol, abs_tol=0.0) or \
                (r.low is not None and b.low is not None and not math.isclose(r.low, b.low, rel_tol=1e-6)) or \
                (r.high is not None and b.high is not None and not math.isclose(r.high, b.high, rel_tol=1e-6))
        elif not moved:
            moved = r.rebuilt != b.rebuilt
        if not moved:  # a check the row does not show may still have moved (the explanation lists it)
            moved = any(_check_moved(cb, cr) for cb, cr in zip(b.checks, r.checks)) or len(b.checks) != len(r.checks)
        if not moved:
            continue
        used = {i.key for i in r.inputs} | {i.key for i in b.inputs}
        why = [k for k in changed_keys if k in used or any(u.startswith(k + ".") for u in used)]
        out.append({"claim_id": r.claim_id, "verdict_before": b.verdict, "verdict_after": r.verdict,
                    "rebuilt_before": _round(b.rebuilt), "rebuilt_after": _round(r.rebuilt), "unit": r.unit,
                    "why": ", ".join(why) if why else "a fitted parameter or price moved with the changed data"})
    return out


def read_baseline(path) -> pd.DataFrame:
    """A committed ledger export (CSV or JSON) as a frame with at least claim_id, verdict, rule."""
    from pathlib import Path

    from ..errors import StudyInputError

    p = Path(path)
    if not p.is_file():
        raise StudyInputError(str(path), "no such file", expected="a ledger export, e.g. results/ledger.csv")
    try:
        df = pd.read_json(p) if p.suffix == ".json" else pd.read_csv(p, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - a user's file: one line, not a traceback
        raise StudyInputError(str(path), f"cannot be read as a ledger export ({type(exc).__name__})",
                              expected="the CSV or JSON written by 'python -m analysis ledger'") from None
    missing = [c for c in ("claim_id", "verdict") if c not in df.columns]
    if missing:
        raise StudyInputError(str(path), f"no '{missing[0]}' column", expected="a ledger export with claim_id and verdict")
    return df


def diff_from(base: pd.DataFrame, rows: list[Row], claims: pd.DataFrame) -> tuple[list[dict], pd.DataFrame]:
    """Every claim whose verdict differs from a baseline export, with the reason; and the transition counts.

    A claim absent now is reported as merged when a claims.csv note names it ('merged S0-021'), else
    as removed; a claim new since the baseline is reported as added.
    """
    import re

    old = {r.claim_id: r for r in base.itertuples(index=False)}
    merged_into = {}
    for cid, note in zip(claims.claim_id, claims.note.fillna("")):
        for m in re.findall(r"merged ((?:S\d-\d{3}(?:,? (?:and )?)?)+)", str(note)):
            for mid in re.findall(r"S\d-\d{3}", m):
                merged_into[mid] = cid
    out = []
    now = {r.claim_id for r in rows}
    for r in rows:
        b = old.get(r.claim_id)
        if b is None:
            out.append({"claim_id": r.claim_id, "verdict_before": "", "verdict_after": r.verdict,
                        "why": "new claim: " + r.rule})
        elif b.verdict != r.verdict:
            out.append({"claim_id": r.claim_id, "verdict_before": b.verdict, "verdict_after": r.verdict,
                        "why": f"{r.rule} (was: {getattr(b, 'rule', '')})"})
    for cid, b in old.items():
        if cid not in now:
            into = merged_into.get(cid)
            out.append({"claim_id": cid, "verdict_before": b.verdict, "verdict_after": "",
                        "why": f"merged into {into} (same statement)" if into else "removed from claims.csv"})
    out.sort(key=lambda d: d["claim_id"])
    df = pd.DataFrame(out, columns=["claim_id", "verdict_before", "verdict_after", "why"])
    counts = pd.crosstab(df.verdict_before.replace("", "(absent)"), df.verdict_after.replace("", "(merged)"))
    return out, counts


def explain(row: Row) -> str:
    """The derivation of one claim, for ``python -m analysis explain``."""
    from .engine import _fmt

    lines = [f"{row.claim_id}  ({row.seed_file})", f"  quote:     \"{row.quote}\""]
    claimed = _fmt(row.claimed) + (f" - {_fmt(row.claimed_high)}" if row.claimed_high is not None else "") \
        if row.claimed is not None else (row.claimed_date or "qualitative")
    lines.append(f"  claimed:   {claimed} {row.unit}")
    lines.append(f"  reading:   {row.reading}")
    lines.append(f"  model:     {row.model}   (evidence: {row.evidence})")
    lines.append("  inputs:")
    if not row.inputs:
        lines.append("    (none: constants of the claim's own statement)")
    for i in row.inputs:
        val = _fmt(i.value) if isinstance(i.value, (int, float)) and not isinstance(i.value, bool) else str(i.value)
        lines.append(f"    {i.key:<58} {val:>12} {i.unit:<22} basis {i.basis:<22} source {i.source}")
    if isinstance(row.rebuilt, bool):
        lines.append(f"  result:    the statement is {'true' if row.rebuilt else 'false'}")
    elif row.rebuilt is not None:
        lines.append(f"  result:    {_fmt(row.rebuilt)} {row.unit}  (90% interval {_fmt(row.low)} - {_fmt(row.high)}; "
                     f"claimed/rebuilt = {_fmt(row.ratio)})")
    for subject, v in row.premise:
        lines.append(f"  premise:   {subject} exists: {v}")
    lines.append(f"  checks:    ({len(row.checks)}; the verdict rests on: {row.rests_on or ('the premise' if row.evidence == 'premise' else 'none')})")
    for c in row.checks:
        mark = "*" if c["label"] == row.rests_on else " "
        lines.append(f"   {mark} {check_summary(c)}")
        lines.append(f"        {c['text']}")
        for o in c.get("others", []):
            lines.append(f"        other reading '{o['label']}': {_fmt(o['rebuilt']) if not isinstance(o['rebuilt'], (bool, type(None))) else o['rebuilt']}"
                         + (f" ({_fmt(o['low'])} - {_fmt(o['high'])})" if o.get("low") is not None else "")
                         + f" {o['outcome']}")
    lines.append(f"  rule:      {row.rule}")
    lines.append(f"  verdict:   {row.verdict}")
    if row.sensitivity:
        a, s = row.sensitivity[0]
        lines.append(f"  moves it most: {a} (low->high swings the result by {_fmt(s)} {row.unit})")
        for a, s in row.sensitivity[1:4]:
            lines.append(f"                 {a} ({_fmt(s)})")
    else:
        lines.append("  moves it most: no scenario assumption (the result rests on data and the claim alone)")
    lines.append(f"  explanation: {row.explanation}")
    return "\n".join(lines)
