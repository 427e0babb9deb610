"""The verdict rule: six words, computed, never typed.

1. What the rebuild rests on (its *evidence* class, declared in ``data/rebuilds/S*.yaml``) fixes
   the pair of words a claim can get:

   ========  ==========================================  ============  ==============
   evidence  rests on                                    agrees        disagrees
   ========  ==========================================  ============  ==============
   public    vendor specs, measurements, published data  consistent    contradicted
   seed      other figures in the seeds                  consistent    inconsistent
   model     the study's models and assumptions          plausible     implausible
   none      nothing public                              unverifiable  unverifiable
   ========  ==========================================  ============  ==============

2. Whether the claim *agrees* is a comparison of the claimed number with the rebuilt 90% interval
   [low, high], widened by a relative tolerance (defaults below, per qualifier), in one of four
   modes chosen by the claim's qualifier (a rebuild may name another):

   * ``within`` (exact, approx, range): the claimed band [c_lo (1 - tol), c_hi (1 + tol)] overlaps
     [low, high];
   * ``up_to`` ("up to c", a maximum reached): low <= c (1 + tol) and c <= high (1 + tol);
   * ``at_most`` ("under c"): low <= c (1 + tol);
   * ``at_least`` ("over c", "c+"): high >= c (1 - tol).

   A qualitative claim's rebuild returns True or False: the claim agrees when it is True.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass

from ..fmt import exact as _n  # numbers in a rule's words: '1.008 trillion', never '1.008e+12'

VERDICTS = ("consistent", "plausible", "inconsistent", "contradicted", "implausible", "unverifiable")
#: what a check (or the evidence class it is weighed as) can say: (agrees, disagrees)
EVIDENCE = {"public": ("consistent", "contradicted"), "seed": ("consistent", "inconsistent"),
            "model": ("plausible", "implausible"), "bound": ("plausible", "implausible"),
            "forecast": ("consistent", "contradicted"), "estimate": ("plausible", "unverifiable"),
            "premise": ("consistent", "contradicted"), "none": ("unverifiable", "unverifiable"),
            "info": ("unverifiable", "unverifiable")}
#: what a check in data/rebuilds may declare it rests on
AGAINST = ("public", "seed", "model", "bound", "forecast", "info")
BETTER = ("higher", "lower")
#: the date up to which the study grades forecasts (fixed, so the same inputs give the same ledger)
AS_OF = "2026-12-01"
#: bases of dataset cells that are third-party figures: they support or doubt, never contradict
WEAK_BASES = ("estimate", "claimed")
DEFAULT_TOLERANCE = {"exact": 0.05, "approx": 0.15, "range": 0.02, "up_to": 0.05, "at_least": 0.05,
                     "none": 0.0}
MODE_OF_QUALIFIER = {"exact": "within", "approx": "within", "range": "within", "up_to": "up_to",
                     "at_least": "at_least", "none": "within"}
COMPARE_MODES = ("within", "up_to", "at_most", "at_least")
_Q = re.compile(r"^(\d{4})-Q([1-4])$")
_H = re.compile(r"^(\d{4})-H([12])$")


def decimal_year(text: str, end: bool = False) -> float:
    """'2018-11' -> 2018.8333 (start of November); end=True gives the end of the period."""
    m = _Q.match(text)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        return y + (q - 1 + (1 if end else 0)) / 4
    m = _H.match(text)
    if m:
        y, h = int(m.group(1)), int(m.group(2))
        return y + (h - 1 + (1 if end else 0)) / 2
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return parts[0] + (1.0 if end else 0.0)
    if len(parts) == 2:
        return parts[0] + (parts[1] - 1 + (1 if end else 0)) / 12
    # a day is placed within its month so that 2020-12-01 falls inside the period '2020-12'
    d = _dt.date(*parts)
    nxt = _dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    month_days = (nxt - _dt.date(d.year, d.month, 1)).days
    return d.year + (d.month - 1 + (d.day - 1 + (1 if end else 0)) / month_days) / 12


def claim_band(qualifier: str, claimed, claimed_high, claimed_date, unit: str, compare=None, tolerance=None):
    """(mode, c_lo, c_hi, tol): how a claim is compared with its rebuilt interval.

    A dated claim is its period in decimal years ('2018-11' -> [2018.833, 2018.917]) widened by the
    rebuild's ``tolerance`` in years, compared ``within`` (tol 0). A numeric claim is
    [claimed, claimed_high] with the rebuild's tolerance or the qualifier's default, in the
    rebuild's ``compare`` mode or the qualifier's. None for a claim that states no number or date.
    """
    if unit == "date" and claimed_date:
        widen = tolerance or 0.0
        return (compare or "within", decimal_year(claimed_date) - widen,
                decimal_year(claimed_date, end=True) + widen, 0.0)
    if claimed is None:
        return None
    tol = tolerance if tolerance is not None else DEFAULT_TOLERANCE[qualifier]
    hi = claimed_high if claimed_high is not None else claimed
    return compare or MODE_OF_QUALIFIER[qualifier], float(claimed), float(hi), float(tol)


def accepted_band(mode: str, c_lo: float, c_hi: float, tol: float) -> tuple[float, float]:
    """The range of rebuilt point values (low == high) that :func:`agrees_numeric` accepts."""
    if mode == "within":
        lo = c_lo * (1 - tol) if c_lo >= 0 else c_lo * (1 + tol)
        hi = c_hi * (1 + tol) if c_hi >= 0 else c_hi * (1 - tol)
        return lo, hi
    if mode == "up_to":  # low <= c (1 + tol) and c <= high (1 + tol)
        return c_lo / (1 + tol), c_lo * (1 + tol)
    if mode == "at_most":
        return -math.inf, c_lo * (1 + tol)
    return c_lo * (1 - tol), math.inf  # at_least


@dataclass(frozen=True)
class Decision:
    verdict: str
    agrees: bool | None
    rule: str  # the rule that fired, in words, with the numbers


def agrees_numeric(mode: str, c_lo: float, c_hi: float, low: float, high: float, tol: float) -> tuple[bool, str]:
    """Does the claim [c_lo, c_hi] agree with the rebuilt interval [low, high]? (see module doc)."""
    if mode == "within":
        a, b = c_lo * (1 - tol) if c_lo >= 0 else c_lo * (1 + tol), c_hi * (1 + tol) if c_hi >= 0 else c_hi * (1 - tol)
        ok = a <= high and low <= b
        return ok, f"claimed band [{_n(a)}, {_n(b)}] {'overlaps' if ok else 'misses'} rebuilt [{_n(low)}, {_n(high)}]"
    if mode == "up_to":
        ok = low <= c_lo * (1 + tol) and c_lo <= high * (1 + tol)
        return ok, (f"'up to {_n(c_lo)}' {'is' if ok else 'is not'} reachable within rebuilt "
                    f"[{_n(low)}, {_n(high)}] (tolerance {tol:.0%})")
    if mode == "at_most":
        ok = low <= c_lo * (1 + tol)
        return ok, f"rebuilt low {_n(low)} {'<=' if ok else '>'} claimed ceiling {_n(c_lo)} (+{tol:.0%})"
    if mode == "at_least":
        ok = high >= c_lo * (1 - tol)
        return ok, f"rebuilt high {_n(high)} {'>=' if ok else '<'} claimed floor {_n(c_lo)} (-{tol:.0%})"
    raise ValueError(f"unknown compare mode {mode!r}; expected one of {COMPARE_MODES}")


def decide(evidence: str, agrees: bool | None, comparison: str) -> Decision:
    """Map (evidence, agrees) to one of the six verdicts; the rule text says why."""
    if evidence not in EVIDENCE:
        raise ValueError(f"unknown evidence {evidence!r}; expected one of {sorted(EVIDENCE)}")
    yes, no = EVIDENCE[evidence]
    if evidence == "none" or agrees is None:
        return Decision("unverifiable", None, f"evidence '{evidence}': nothing public pins the claim"
                        + (f"; {comparison}" if comparison else ""))
    verdict = yes if agrees else no
    return Decision(verdict, agrees, f"evidence '{evidence}' and the claim {'agrees' if agrees else 'disagrees'} "
                    f"({comparison}) -> {verdict}")


# --- checks and their combination (data/rebuilds/README.md) -------------------------------------

#: how favourable an outcome is to the claim (a check takes its most favourable reading)
FAVOUR = {"agrees": 0, "passes": 0, "supports": 0, "pending": 1, "shown": 1, "doubts": 2, "disagrees": 3,
          "beyond": 3}


def effective_class(against: str, input_keys_and_bases) -> str:
    """The class a check is weighed as, from what its inputs are (declared classes can only weaken).

    * ``bound``, ``model`` and ``info`` stay what they are;
    * a public, forecast or seed check that reads a scenario assumption or a fitted parameter is a
      ``model`` check;
    * otherwise, one that reads a dataset cell with basis ``estimate`` or ``claimed`` (a third-party
      figure) is an ``estimate``: it supports or doubts, never contradicts. The seeds' own numbers
      (``claim.*`` inputs) weaken nothing.
    """
    if against in ("bound", "model", "info"):
        return against
    items = list(input_keys_and_bases)
    if any(k.startswith(("assumption.", "fit.")) for k, _ in items):
        return "model"
    if any(str(b) in WEAK_BASES for k, b in items if not k.startswith("claim.")):
        return "estimate"
    return against


def directional_outcome(kind: str, better: str, c_lo: float, c_hi: float, low: float, high: float,
                        tol: float) -> tuple[str, str]:
    """A claim against a one-way limit (``kind`` bound) or a model estimate with a direction.

    ``better`` says which way favours the claimant. The claim is beyond when even its conservative
    end passes the optimistic end of the rebuilt interval: for ``higher``, c_lo > high (1 + tol);
    for ``lower``, c_hi < low (1 - tol). Otherwise it passes; a model check also says when the
    claim is worse than the whole interval (achievable, "slower/costlier than modelled").
    """
    if better == "higher":
        beyond = c_lo > high * (1 + tol) if high >= 0 else c_lo > high * (1 - tol)
        edge = f"{'ceiling' if kind == 'bound' else 'optimistic end'} {_n(high)}"
        worse = c_hi < low * (1 - tol)
        worse_txt = "lower than modelled (achievable)"
        cons = f"claimed {_n(c_lo)}"
    else:
        beyond = c_hi < low * (1 - tol) if low >= 0 else c_hi < low * (1 + tol)
        edge = f"{'floor' if kind == 'bound' else 'optimistic end'} {_n(low)}"
        worse = c_lo > high * (1 + tol)
        worse_txt = "slower/costlier than modelled (achievable)"
        cons = f"claimed {_n(c_hi)}"
    if beyond:
        return "beyond", f"{cons} is beyond the {edge} (tolerance {tol:.0%}; {better} is better for the claim)"
    if kind == "bound":
        return "passes", f"{cons} is on the feasible side of the {edge} (a bound passes, it does not confirm)"
    if worse:
        return "passes", f"{cons} is {worse_txt}: rebuilt 90% [{_n(low)}, {_n(high)}]"
    return "passes", f"{cons} is within reach of the rebuilt 90% [{_n(low)}, {_n(high)}]"


def check_outcome(effective: str, agrees: bool) -> str:
    """The outcome word of a two-sided comparison (or a True/False statement) for a check class."""
    if effective in ("bound",):
        return "passes" if agrees else "beyond"
    if effective == "estimate":
        return "supports" if agrees else "doubts"
    if effective == "model":
        return "passes" if agrees else "beyond"
    if effective == "info":
        return "shown"
    return "agrees" if agrees else "disagrees"


def check_verdict(effective: str, outcome: str) -> str | None:
    """The verdict a single check would give, or None (pending, shown, doubts)."""
    if outcome in ("pending", "shown", "doubts"):
        return None
    if effective in ("bound", "model"):
        return "plausible" if outcome == "passes" else "implausible"
    if effective == "estimate":
        return "plausible"
    yes, no = EVIDENCE[effective]
    return yes if outcome == "agrees" else no


#: the precedence of check verdicts (first wins); a contradicted premise comes before all of them
PRECEDENCE = ("implausible", "contradicted", "inconsistent", "consistent", "plausible")


def combine(results: list[dict], premise_failed: list[str]) -> tuple[str, int | None, str]:
    """(verdict, index of the check it rests on, rule text) for a claim's checks.

    ``results`` are dicts with ``label``, ``effective``, ``outcome`` and ``verdict`` (see
    :func:`check_verdict`). Precedence: a contradicted premise; then implausible > contradicted >
    inconsistent > consistent > plausible (the first check of the best-ranked verdict); otherwise
    unverifiable.
    """
    if premise_failed:
        return ("contradicted", None, "premise contradicted: the vendor's documentation lists no "
                + ", ".join(premise_failed) + " (data/facts.csv)")
    for verdict in PRECEDENCE:
        for i, r in enumerate(results):
            if r["verdict"] == verdict:
                return verdict, i, f"check '{r['label']}' ({r['effective']}) {r['outcome']} -> {verdict}"
    doubts = [r for r in results if r["outcome"] == "doubts"]
    pending = [r for r in results if r["outcome"] == "pending"]
    why = "no check decides"
    if doubts:
        why = "only a third-party estimate speaks, and it doubts the claim ('" + doubts[0]["label"] + "')"
    elif pending:
        why = "a forecast not yet due ('" + pending[0]["label"] + "')"
    return "unverifiable", None, why


def horizon_date(horizon: str, published: str | None) -> str:
    """A forecast's horizon as a date text: absolute as given, or '+N months/years' from ``published``."""
    m = re.match(r"^\+(\d+) (month|year)s?$", horizon)
    if not m:
        return horizon
    if not published:
        raise ValueError("relative horizon but the seed has no publication date in sources.csv")
    parts = [int(p) for p in published.split("-")]
    y, mo, d = (parts + [1, 1])[:3] if len(parts) < 3 else parts
    n = int(m.group(1)) * (12 if m.group(2) == "year" else 1)
    y, mo = y + (mo - 1 + n) // 12, (mo - 1 + n) % 12 + 1
    if len(parts) == 1:
        return f"{y:04d}"
    if len(parts) == 2:
        return f"{y:04d}-{mo:02d}"
    d = min(d, [31, 29 if y % 4 == 0 and (y % 100 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1])
    return f"{y:04d}-{mo:02d}-{d:02d}"


def forecast_due(horizon: str, as_of: str = AS_OF) -> bool:
    """True when the whole horizon period has ended by the as-of date (then the forecast is graded)."""
    return decimal_year(horizon, end=True) <= decimal_year(as_of)
