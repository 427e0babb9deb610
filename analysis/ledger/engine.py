"""The claim ledger: every claim rebuilt under the scenario's Monte Carlo draws, with a verdict.

For each claim the engine evaluates its rebuild expression (``data/rebuilds/S*.yaml``) twice:

1. at the scenario's central values, recording every input it reads (dataset cells with unit,
   basis and source; scenario assumptions; other claims);
2. once more, vectorised, on n seeded Monte Carlo draws of every assumption plus a one-at-a-time
   design (each assumption it used at its low and at its high end, the others central).

The draws give the rebuilt 90% interval; the design gives each assumption's swing (the
sensitivity exported with the ledger); :mod:`analysis.ledger.rules` turns the comparison of claim
and interval into one of six verdicts.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import checkpoint, cost, inference, interconnect, market, power, roofline, training
from .. import fmt, units
from .. import workloads as wl
from ..errors import StudyInputError
from ..montecarlo import DEFAULT_DRAWS, DEFAULT_SEED, draw_assumptions
from ..whatif import user_assumption
from .rules import (AS_OF, FAVOUR, agrees_numeric, check_outcome, check_verdict, claim_band, combine,  # noqa: F401
                    decimal_year, directional_outcome, effective_class, forecast_due, horizon_date)
from .specs import RebuildSpec

#: the standard-normal quantile of 95% (a 90% two-sided interval spans 2 x Z90 standard deviations)
Z90 = 1.6448536269514722

MODULES = {"workloads": wl, "roofline": roofline, "inference": inference, "training": training,
           "interconnect": interconnect, "checkpoint": checkpoint, "power": power, "cost": cost,
           "market": market}


@dataclass(frozen=True)
class Input:
    """One recorded input of a rebuild."""

    key: str          # e.g. hardware.trainium2.bf16_dense_tflops, assumption.training_mfu, claim.S0-014
    value: object
    unit: str
    basis: str
    source: str


class DrawScenario:
    """A Scenario whose ``value(name)`` is an array of draws; records what it is asked for."""

    def __init__(self, scenario, arrays: dict[str, np.ndarray], used: set):
        self._sc, self._arrays, self._used = scenario, arrays, used
        self.assumptions = scenario.assumptions
        self.name = scenario.name

    def value(self, name: str):
        self._sc[name]  # unknown name -> StudyInputError with the nearest names
        self._used.add(name)
        return self._arrays[name]

    def __getitem__(self, name):
        return self._sc[name]


class Namespace:
    """The names a rebuild expression may use (see data/rebuilds/README.md); records every input."""

    def __init__(self, ledger: "Ledger", arrays: dict[str, np.ndarray], sigmas: list | None = None):
        """``sigmas``: the model-error widths the central pass recorded (given: this is the Monte
        Carlo pass of the same expression, see :meth:`_draw_error`)."""
        self.L, self.arrays = ledger, arrays
        self.inputs: dict[str, Input] = {}
        self.used_assumptions: set[str] = set()
        self.scenario = DrawScenario(ledger.scenario, arrays, self.used_assumptions)
        self._model_calls = 0  # calls to fitted models so far in this expression: each draws its own error
        self.sigmas: list = []     # central pass: each model call's error width (log scale), in call order
        self._sigmas_in = sigmas

    def _record(self, key, value, unit, basis, source):
        self.inputs.setdefault(key, Input(key, value, unit, basis, source))

    # --- data --------------------------------------------------------------------------------
    def _long(self, table, key, metric, value):
        """Record a long-table cell (hardware, system_params) and return its canonical value."""
        ds = self.L.ds
        row = ds.long_row(table, key, metric)
        self._record(f"{table}.{key}.{metric}", value, ds.canonical_unit(table, metric), row["basis"], row["source_id"])
        return value

    def spec(self, chip, metric):
        return self._long("hardware", chip, metric, self.L.ds.spec(chip, metric))

    def sysp(self, system, metric):
        return self._long("system_params", system, metric, self.L.ds.system_param(system, metric))

    def price(self, chip):
        p = cost.listed_chip_hour_price(self.L.ds, chip)
        metric = cost.PRICING_METRICS[p["pricing"]]
        self._record(f"system_params.{p['system_id']}.{metric}", p["usd_per_chip_hour"],
                     f"USD/chip/hour ({p['pricing']}, as of {p['as_of']})", self._basis_of(p["system_id"], metric),
                     p["source_id"])
        return p["usd_per_chip_hour"]

    def _basis_of(self, system, metric):
        return str(self.L.ds.long_row("system_params", system, metric)["basis"])

    def claim(self, claim_id):
        row = self.L.claim_row(claim_id)
        if pd.isna(row.claimed_value):
            raise StudyInputError("data/claims.csv", f"claim {claim_id} has no number", key=claim_id,
                                  expected="a claim with claimed_value")
        self._record(f"claim.{claim_id}", float(row.claimed_value), row.unit, "claimed", row.seed_file)
        return float(row.claimed_value)

    def claim_high(self, claim_id):
        row = self.L.claim_row(claim_id)
        v = row.claimed_high if not pd.isna(row.claimed_high) else row.claimed_value
        self._record(f"claim.{claim_id}.high", float(v), row.unit, "claimed", row.seed_file)
        return float(v)

    def a(self, name):
        v = self.scenario.value(name)
        asm = self.L.scenario[name]
        # a user's value (scenario file or --set) is labelled as theirs: basis scenario/user, source the origin
        self._record(f"assumption.{name}", asm.value, asm.unit,
                     f"{asm.basis} [{fmt.exact(asm.low)}, {fmt.exact(asm.high)}]", asm.origin or asm.source)
        return v

    def model(self, model_id):
        m = wl.transformer(self.L.ds, model_id)
        row = self.L.ds.workloads[self.L.ds.workloads.model_id == model_id].iloc[0]
        self._record(f"workloads.{model_id}", f"{fmt.exact(m.params_total)} params", "parameter", row.basis, row.source_id)
        return m

    def event(self, event_id):
        tl = self.L.ds.timeline
        row = tl[tl.event_id == event_id]
        if row.empty:
            from ..errors import nearest
            raise StudyInputError("data/timeline.csv", f"unknown event '{event_id}'", expected=nearest(event_id, tl.event_id))
        r = row.iloc[0]
        self._record(f"timeline.{event_id}", r.date, "date", r.basis, r.source_id)
        return decimal_year(r.date)

    def series(self, series_id, year):
        mk = self.L.ds.market
        row = mk[(mk.series_id == series_id) & (mk.year == int(year))]
        if row.empty:
            raise StudyInputError("data/market.csv", f"no value for {series_id} in {year}",
                                  expected="a series and year present in market.csv")
        r = row.iloc[0]
        self._record(f"market.{series_id}.{int(year)}", float(r.value), r.unit, r.basis, r.source_id)
        return float(r.value)

    def fact(self, subject, prop):
        """``data/facts.csv`` value of (subject, property): 'yes'/'no', a text, or a float when the row has a unit."""
        r = self.L.ds.fact_row(subject, prop)
        v = float(r["value"]) if r["unit"] else str(r["value"])
        self._record(f"facts.{subject}.{prop}", v, r["unit"] or "", r["basis"], r["source_id"])
        return v

    def cell(self, table, key, fld):
        """Any cell of a wide table (chips, systems, workloads, training_runs, measurements, timeline, sources)."""
        from ..overrides import KEYS
        from ..errors import nearest

        if table not in KEYS or table in ("hardware", "system_params"):
            raise StudyInputError("rebuild", f"cell(): unknown wide table '{table}'",
                                  expected=nearest(table, [k for k in KEYS if k not in ("hardware", "system_params")]))
        df = self.L.ds[table]
        rows = df[df[KEYS[table]] == key]
        if rows.empty:
            raise StudyInputError(f"data/{table}.csv", f"unknown {KEYS[table]} '{key}'", expected=nearest(key, df[KEYS[table]]))
        if fld not in df.columns:
            raise StudyInputError(f"data/{table}.csv", f"no field '{fld}'", expected=nearest(fld, df.columns))
        r = rows.iloc[0]
        v = r[fld]
        v = None if pd.isna(v) else (float(v) if isinstance(v, (int, float, np.integer, np.floating)) else str(v))
        self._record(f"{table}.{key}.{fld}", v, "", str(r.get("basis", "")), str(r.get("source_id", "")))
        return v

    # --- models ------------------------------------------------------------------------------
    def _chip_inputs(self, chip, metrics=("bf16_dense_tflops", "mem_bandwidth_gb_s", "mem_capacity_gb", "tdp_w")):
        for m in metrics:
            try:
                self.spec(chip, m)
            except StudyInputError:
                pass

    def predict_decode(self, model_id, chip, chips, batch, input_tokens, output_tokens, precision="bf16"):
        """:func:`analysis.inference.predict_decode` (``batch`` may be 'max'; ``precision`` bf16, fp8 or fp4)."""
        self._chip_inputs(chip)
        if precision != "bf16":
            self._chip_inputs(chip, (f"{precision}_dense_tflops",))
        self.model(model_id)
        try:
            self.price(chip)
        except StudyInputError:
            pass
        # a user's decode / prefill efficiency (scenario or --set) replaces the fitted one (analysis.whatif)
        de = self.a("decode_bandwidth_efficiency") if user_assumption(self.L.scenario, "decode_bandwidth_efficiency") \
            is not None else None
        pe = self.a("prefill_compute_efficiency") if user_assumption(self.L.scenario, "prefill_compute_efficiency") \
            is not None else None
        res = inference.predict_decode(self.L.ds, self.scenario, model_id, chip, chips, batch, input_tokens,
                                       output_tokens, decode_eff=de, precision=precision, prefill_compute_eff=pe)
        return self._with_model_error(res, "tokens_per_s", ("tokens_per_s",))

    def predict_training(self, params, tokens, chip, chips=None, mfu=None):
        """:func:`analysis.training.predict_training`; a user's ``training_mfu`` (scenario or --set)
        replaces the fitted chip-hours model (predict_training counts flops_per_param_token_training FLOPs)."""
        self._chip_inputs(chip, ("bf16_dense_tflops", "tdp_w"))
        try:
            self.price(chip)
        except StudyInputError:
            pass
        if mfu is None and user_assumption(self.L.scenario, "training_mfu") is not None:
            mfu = self.a("training_mfu")  # the user's MFU replaces the fitted chip-hours model (analysis.whatif)
        res = training.predict_training(self.L.ds, params, tokens, chip, chips=chips, mfu=mfu, scenario=self.scenario)
        return self._with_model_error(res, "chip_hours", ("chip_hours", "days", "cost_usd", "cost_usd_committed",
                                                          "energy_j"))

    # --- the models' own error in the Monte Carlo pass ------------------------------------------
    def _draw_error(self, central_sigma):
        """(sigma, z) for this model call in the Monte Carlo pass, else None.

        Each call to a fitted model is numbered in call order. In the central pass ``central_sigma()``
        (the model's log-scale error width at central assumptions, or None) is evaluated and recorded;
        the Monte Carlo pass of the same expression reuses it with the call's own seeded standard-normal
        draws z (:meth:`Ledger.model_z`, independent between calls). The central value and the
        one-at-a-time swings carry no model error.
        """
        k = self._model_calls
        self._model_calls += 1
        if self._sigmas_in is None:
            self.sigmas.append(central_sigma())
            return None
        sigma = self._sigmas_in[k] if k < len(self._sigmas_in) else None
        return (sigma, self.L.model_z(k)) if sigma else None

    def _times_error(self, value, sigma, z, sign):
        """``value`` broadcast over the Monte Carlo draws, its first n draws times exp(sign sigma z)."""
        size = max(np.size(x) for x in self.arrays.values())
        arr = np.array(np.broadcast_to(np.asarray(value, dtype=float), (size,)))
        arr[: len(z)] *= np.exp(sign * sigma * z)
        return arr

    def _with_model_error(self, res: dict, driver: str, with_driver: tuple) -> dict:
        """A prediction dict whose Monte Carlo draws also carry the model's own error: sigma =
        ln(high / low) / (2 x 1.645) from the 90% prediction interval the model gives for ``driver`` at
        central assumptions (fit uncertainty plus its leave-one-out error). Keys in ``with_driver`` scale
        with the driver (+), the other numeric outputs against it (-). Without such an interval (e.g. a
        given MFU) the draws carry the assumptions only."""
        err = self._draw_error(lambda: _sigma90(res.get(f"{driver}_low"), res.get(f"{driver}_high")))
        if err is None:
            return res
        out = dict(res)
        for k, v in res.items():
            if k.endswith(("_low", "_high")) or v is None or isinstance(v, (str, bool, dict, list)):
                continue
            try:
                out[k] = self._times_error(v, *err, 1.0 if k in with_driver else -1.0)
            except (TypeError, ValueError):
                continue
        return out

    def eff(self, chip, kind):
        """The fitted ``kind`` efficiency of ``chip`` (:func:`analysis.roofline.efficiency`). In the Monte
        Carlo pass each draw is multiplied by exp(s z), s the leave-one-out rms log error of the serving
        fit the chip uses (:func:`analysis.inference.sigma_loo`), clipped at 1. Kind 'decode' returns the
        user's ``decode_bandwidth_efficiency`` (its draws) instead when a scenario or --set states one."""
        if kind == "decode" and user_assumption(self.L.scenario, "decode_bandwidth_efficiency") is not None:
            return self.a("decode_bandwidth_efficiency")  # the user's, in place of the fitted one
        v = roofline.efficiency(self.L.ds, chip, kind)
        self._record(f"fit.{kind}_efficiency.{chip}", float(np.asarray(v).mean()), "dimensionless", "derived",
                     "results/fitted_parameters.csv")
        err = self._draw_error(lambda: inference.sigma_loo(self.L.ds, roofline.serving_fit_for(self.L.ds, chip)[1]))
        return v if err is None else np.minimum(self._times_error(v, *err, 1.0), 1.0)

    def mfu(self, chip):
        """The fitted MFU of ``chip`` (:func:`analysis.training.fitted_mfu`). In the Monte Carlo pass each
        draw is divided by exp(sigma z), sigma from the 90% prediction interval of the chip-hours model
        for the reference run (70B dense, 20 tokens per parameter) on this chip. When a scenario or --set
        states ``training_mfu``, that assumption (its draws) is returned instead (analysis.whatif)."""
        if user_assumption(self.L.scenario, "training_mfu") is not None:
            return self.a("training_mfu")  # the user's MFU, in place of the fitted one
        v = training.fitted_mfu(self.L.ds, chip)
        val = v[0] if isinstance(v, tuple) else v
        self._record(f"fit.mfu.{chip}", float(np.asarray(val).mean()), "dimensionless", "derived",
                     "results/fitted_parameters.csv")

        def reference_sigma():
            ref = training.REF_MFU_PARAMS
            # at central assumptions, without recording them: the reference run only sizes the error
            pt = training.predict_training(self.L.ds, ref, 20 * ref, chip,
                                           scenario=DrawScenario(self.L.scenario, self.L.central, set()))
            return _sigma90(pt.get("chip_hours_low"), pt.get("chip_hours_high"))

        err = self._draw_error(reference_sigma)
        return val if err is None else self._times_error(val, *err, -1.0)

    def names(self) -> dict:
        ns = dict(MODULES)
        for n in ("spec", "sysp", "price", "claim", "claim_high", "a", "model", "event", "series", "cell", "fact",
                  "predict_decode", "predict_training", "eff", "mfu"):
            ns[n] = getattr(self, n)
        ns.update(np=np, min=min, max=max, abs=abs, round=_round, sqrt=np.sqrt, log=np.log, exp=np.exp,
                  log10=np.log10, log2=np.log2, len=len, float=float, int=int, bool=bool, sum=sum,
                  all=all, any=any, tuple=tuple)
        return ns


def _evaluate(code, ns: Namespace):
    # names go in the globals so that comprehensions inside an expression can see them
    return eval(code, {"__builtins__": {}, **ns.names()})  # noqa: S307 - AST-checked, no builtins


@dataclass
class Row:
    claim_id: str
    seed_file: str
    quote: str
    claimed: float | None
    claimed_high: float | None
    claimed_date: str | None
    unit: str
    rebuilt: float | bool | None
    low: float | None
    high: float | None
    ratio: float | None
    verdict: str
    evidence: str      # the class of the check the verdict rests on (premise, public, seed, model, bound...)
    model: str
    explanation: str
    rule: str
    reading: str
    inputs: list = field(default_factory=list)
    sensitivity: list = field(default_factory=list)  # (assumption, swing in claim units), largest first
    alts: list = field(default_factory=list)         # the other readings of the check shown as "rebuilt"
    checks: list = field(default_factory=list)       # every check: label, against, effective, outcome, ...
    rests_on: str | None = None                      # label of the check the verdict rests on
    premise: list = field(default_factory=list)      # [(subject, exists value)]


class Ledger:
    """Evaluates rebuild specs against a Datasets and a Scenario."""

    def __init__(self, ds, scenario, specs: dict[str, RebuildSpec], n: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED):
        self.ds, self.scenario, self.specs, self.n, self.seed = ds, scenario, specs, n, seed
        self._claims = ds.claims.set_index("claim_id", drop=False)
        self.names = sorted(scenario.assumptions)
        self.draws = draw_assumptions(scenario, n, seed)  # sorted names: the same draws whatever the claim order
        self._model_z: dict[int, np.ndarray] = {}
        self.central = {k: np.array([scenario.assumptions[k].value]) for k in self.names}
        self._compiled: dict[str, object] = {}
        src = ds.sources
        self._published = {loc: (d or None) for loc, d in zip(src.location, src.date)}

    def model_z(self, k: int) -> np.ndarray:
        """Standard-normal draws of the own error of the k-th model call in an expression (seeded,
        independent between calls; see Namespace._with_model_error)."""
        if k not in self._model_z:
            self._model_z[k] = np.random.default_rng([self.seed, 104729, k]).standard_normal(self.n)
        return self._model_z[k]

    def claim_row(self, claim_id):
        try:
            return self._claims.loc[claim_id]
        except KeyError:
            from ..errors import nearest
            raise StudyInputError("data/claims.csv", f"unknown claim id '{claim_id}'",
                                  expected=nearest(claim_id, self._claims.index)) from None

    def _code(self, text):
        if text not in self._compiled:
            self._compiled[text] = compile(text, "<rebuild>", "eval")
        return self._compiled[text]

    def _design(self, used: list[str]) -> dict[str, np.ndarray]:
        """n MC draws, then for each used assumption its (low, high) with the others central."""
        k = len(used)
        arrays = {}
        for name in self.names:
            a = self.scenario.assumptions[name]
            extra = np.full(2 * k, a.value)
            if name in used:
                j = used.index(name)
                extra[2 * j], extra[2 * j + 1] = a.low, a.high
            arrays[name] = np.concatenate([self.draws[name], extra])
        return arrays

    def _run(self, text, unit_from, unit_to, cid):
        """(central value, MC draws or None, swings dict, namespace) of one expression."""
        code = self._code(text)
        ns = Namespace(self, self.central)
        try:
            central = _evaluate(code, ns)
        except StudyInputError:
            raise
        except Exception as exc:  # report the claim, not a traceback
            raise StudyInputError(self.specs[cid].file if cid in self.specs else "data/rebuilds",
                                  f"rebuild of {cid} failed: {type(exc).__name__}: {exc}", key=cid,
                                  expected="an expression that evaluates (see data/rebuilds/README.md)") from None
        if isinstance(central, dict):
            raise StudyInputError(self.specs[cid].file, f"rebuild of {cid} returned a dict", key=cid,
                                  expected="a number or True/False (pick a key, e.g. ['tokens_per_s'])")
        if isinstance(central, (bool, np.bool_)) or (isinstance(central, np.ndarray) and central.dtype == bool):
            return bool(np.all(central)), None, {}, ns
        factor = 1.0
        if unit_from and unit_to and unit_from != unit_to and unit_to != "date":
            try:
                factor = units.factor(unit_from, unit_to)
            except units.UnitProblem as exc:
                raise StudyInputError(self.specs[cid].file, f"rebuild of {cid}: {exc}", key=cid, field="unit",
                                      expected=f"a unit convertible to the claim's unit {unit_to}") from None
        c = float(np.asarray(central, dtype=float).reshape(-1)[0]) * factor
        used = sorted(ns.used_assumptions)
        if not used and not ns._model_calls:  # a fitted model is drawn even without assumptions
            return c, None, {}, ns
        ns2 = Namespace(self, self._design(used), sigmas=ns.sigmas)
        full = np.asarray(_evaluate(code, ns2), dtype=float) * factor
        full = np.broadcast_to(full, (self.n + 2 * len(used),)) if full.ndim == 0 or full.size == 1 else full
        draws = full[: self.n]
        swings = {u: float(full[self.n + 2 * j + 1] - full[self.n + 2 * j]) for j, u in enumerate(used)}
        return c, draws, swings, ns

    # --- one reading of one check ----------------------------------------------------------------
    def _reading(self, spec, chk, rd, r, unit, band) -> dict:
        value, draws, swings, ns = self._run(rd.expr, rd.unit or chk.unit or unit, unit, spec.claim_id)
        eff = effective_class(chk.against, [(i.key, i.basis) for i in ns.inputs.values()])
        out = {"reading": rd.label, "rebuilt": value, "low": None, "high": None, "inputs": ns.inputs,
               "swings": swings, "effective": eff}
        if isinstance(value, bool):
            out["outcome"] = check_outcome(eff, value)  # info: 'shown' 
            out["text"] = f"the statement is {'true' if value else 'false'}"
            return out
        low, high = (float(np.percentile(draws, 5)), float(np.percentile(draws, 95))) if draws is not None \
            else (value, value)
        if not all(map(math.isfinite, (value, low, high))):
            raise StudyInputError(spec.file, f"rebuild of {spec.claim_id} ({chk.label}) is not finite ({value})",
                                  key=spec.claim_id, expected="a finite number")
        out["low"], out["high"] = low, high
        if eff == "info":
            out["outcome"], out["text"] = "shown", f"rebuilt {_fmt(value)} {unit} (90% {_fmt(low)}-{_fmt(high)})"
            return out
        if band is None:
            raise StudyInputError(spec.file, f"claim {spec.claim_id} states no number, but check '{chk.label}' "
                                  "returns one", line=spec.line, key=spec.claim_id, field="expr",
                                  expected="an expression that returns True/False for a qualitative claim")
        mode, c_lo, c_hi, tol = band
        if eff in ("bound", "model") and chk.better and unit != "date":
            out["outcome"], out["text"] = directional_outcome(eff, chk.better, c_lo, c_hi, low, high, tol)
        else:
            ok, out["text"] = agrees_numeric(mode, c_lo, c_hi, low, high, tol)
            out["outcome"] = check_outcome(eff, ok)
        return out

    def _check(self, spec, chk, r, unit) -> dict:
        """Every reading of one check; the check takes its most favourable reading (first on ties)."""
        res = {"label": chk.label, "against": chk.against, "better": chk.better, "horizon": None}
        if chk.against == "forecast":
            published = self._published.get(r.seed_file)
            try:
                h = horizon_date(chk.horizon, published)
            except ValueError as exc:
                raise StudyInputError(spec.file, f"{spec.claim_id} ({chk.label}): {exc}", key=spec.claim_id,
                                      field="horizon", expected="a date in the seed's sources.csv row") from None
            res["horizon"] = h
            if not forecast_due(h):
                return {**res, "effective": "forecast", "outcome": "pending", "verdict": None, "reading": None,
                        "rebuilt": None, "low": None, "high": None, "inputs": {}, "swings": {}, "others": [],
                        "text": f"not yet gradable: the horizon ends {h}, after the study's as-of date {AS_OF}"}
            if not chk.expr:
                raise StudyInputError(spec.file, f"{spec.claim_id}: forecast '{chk.label}' is due ({h}) but has "
                                      "no expr to grade it", key=spec.claim_id, field="expr",
                                      expected="an expression over what happened")
        band = claim_band(r.qualifier, None if pd.isna(r.claimed_value) else float(r.claimed_value),
                          None if pd.isna(r.claimed_high) else float(r.claimed_high), r.claimed_date or None,
                          unit, chk.compare, chk.tolerance)
        outs = [self._reading(spec, chk, rd, r, unit, band) for rd in chk.all_readings()]
        best = min(range(len(outs)), key=lambda i: (FAVOUR[outs[i]["outcome"]], i))
        b = outs[best]
        inputs = {}
        for o in outs:
            for k, v in o["inputs"].items():
                inputs.setdefault(k, v)
        others = [{"label": o["reading"], "rebuilt": _num(o["rebuilt"]), "low": _num(o["low"]),
                   "high": _num(o["high"]), "outcome": o["outcome"]} for i, o in enumerate(outs) if i != best]
        text = b["text"]
        if len(outs) > 1:
            text += (f" (under the reading '{b['reading']}'" if b["reading"] != "main reading" else " (main reading")
            text += f"; {len(outs) - 1} other reading(s) " + ", ".join(f"'{o['label']}' {o['outcome']}" for o in others) + ")"
        return {**res, "effective": b["effective"], "outcome": b["outcome"],
                "verdict": check_verdict(b["effective"], b["outcome"]), "reading": b["reading"],
                "rebuilt": b["rebuilt"], "low": b["low"], "high": b["high"], "inputs": inputs, "swings": b["swings"],
                "others": others, "text": text, "model": _models_used(chk.expr) if chk.expr else "none"}

    def evaluate(self, claim_id) -> Row:
        spec = self.specs[claim_id]
        r = self.claim_row(claim_id)
        unit = r.unit or ""
        claimed = None if pd.isna(r.claimed_value) else float(r.claimed_value)
        claimed_high = None if pd.isna(r.claimed_high) else float(r.claimed_high)
        claimed_date = r.claimed_date or None
        ns = Namespace(self, self.central)
        premise, failed = [], []
        for subject in spec.premise:
            v = str(ns.fact(subject, "exists"))
            premise.append((subject, v))
            if v != "yes":
                failed.append(subject)
        results = [self._check(spec, chk, r, unit) for chk in spec.checks]
        verdict, at, rule = combine(results, failed)
        # the numbers shown: the deciding check's, else the first check that has a number or a truth value
        shown = at if at is not None else next((i for i, c in enumerate(results) if c["rebuilt"] is not None), None)
        main = results[shown] if shown is not None else None
        inputs = dict(ns.inputs)
        for c in results:
            for k, v in c["inputs"].items():
                inputs.setdefault(k, v)
        value = main["rebuilt"] if main else None
        ratio = (claimed / value) if (claimed is not None and isinstance(value, float) and value != 0) else None
        evidence = "premise" if failed else (results[at]["effective"] if at is not None else "none")
        expl = [spec.reading]
        if failed:
            expl.append(f"Contradicted on its premise: {rule}.")
        elif at is not None:
            expl.append(f"The verdict rests on the check '{results[at]['label']}' ({results[at]['effective']}): "
                        f"{results[at]['text']}: {verdict}.")
            vendor = sorted({i.source for i in results[at]["inputs"].values() if i.basis == "vendor_claim"})
            if vendor and verdict == "consistent":
                rule += " (a vendor's published claim, not a measurement)"
                expl.append(f"It matches the vendor's published claim ({', '.join(vendor)}), not a measurement.")
        for i, c in enumerate(results):
            if i != at:
                expl.append(f"Check '{c['label']}' ({c['effective']}): {c['text']}"
                            + (f" -> {c['verdict']}." if c["verdict"] else "."))
        if verdict == "unverifiable":
            expl.append(f"Nothing decides it ({rule}); needs: {spec.needs or 'see the checks above'}.")
        checks = [{k: (_num(v) if k in ("low", "high") or (k == "rebuilt" and not isinstance(v, bool)) else v)
                   for k, v in c.items() if k not in ("inputs", "swings")} for c in results]
        sens = sorted((main["swings"] if main else {}).items(), key=lambda kv: (-abs(kv[1]), kv[0]))
        return Row(claim_id=claim_id, seed_file=r.seed_file, quote=r.quote, claimed=claimed,
                   claimed_high=claimed_high, claimed_date=claimed_date, unit=unit, rebuilt=value,
                   low=main["low"] if main else None, high=main["high"] if main else None, ratio=ratio,
                   verdict=verdict, evidence=evidence, model=main["model"] if main else "none",
                   explanation=" ".join(" ".join(expl).split()), rule=rule, reading=spec.reading,
                   inputs=list(inputs.values()), sensitivity=sens, alts=main["others"] if main else [],
                   checks=checks, rests_on=results[at]["label"] if at is not None else None, premise=premise)

    def rows(self, claim_ids=None) -> list[Row]:
        ids = claim_ids if claim_ids is not None else list(self._claims.index)
        return [self.evaluate(c) for c in ids]


def _sigma90(low, high) -> float | None:
    """Log-scale standard deviation of a 90% interval [low, high]: ln(high / low) / (2 x 1.645)."""
    return float(np.log(high / low) / (2 * Z90)) if low and high and high > low > 0 else None


def _round(x, ndigits=None):
    """round() for expressions: an array of Monte Carlo draws (e.g. a batch size derived from drawn
    efficiencies) is rounded at its median, because an operating point such as a batch is chosen once,
    at central values, not per draw."""
    if np.ndim(x) > 0:
        x = float(np.median(np.asarray(x, dtype=float)))
    return round(float(x), ndigits) if ndigits is not None else round(float(x))


def _models_used(expr: str) -> str:
    """Which model functions or data lookups an expression calls, e.g. 'inference.predict_decode'."""
    names = []
    for node in ast.walk(ast.parse(expr, mode="eval")):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in MODULES:
                names.append(f"{f.value.id}.{f.attr}")
            elif isinstance(f, ast.Name) and f.id in ("predict_decode", "predict_training", "eff", "mfu"):
                names.append({"predict_decode": "inference.predict_decode",
                              "predict_training": "training.predict_training",
                              "eff": "roofline.efficiency", "mfu": "training.fitted_mfu"}[f.id])
            elif isinstance(f, ast.Name) and f.id in ("spec", "sysp", "price", "claim", "event", "series", "a"):
                names.append({"spec": "hardware", "sysp": "system_params", "price": "cost.listed_chip_hour_price",
                              "claim": "claims", "event": "timeline", "series": "market", "a": "scenario"}[f.id])
    seen = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return ", ".join(seen) if seen else "arithmetic"


def _num(x):
    return None if x is None else float(x)


def _fmt(x) -> str:
    """A number in a check's words (:func:`analysis.fmt.exact`, four significant figures, scale
    words, never e-notation); 'n/a' for None."""
    if x is None:
        return "n/a"
    return fmt.exact(float(x))
