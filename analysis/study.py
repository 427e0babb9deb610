"""One call that gives a notebook everything under a scenario: datasets, assumptions, ledger.

    >>> from analysis.study import load_study
    >>> st = load_study(None)            # baseline; or a path to a scenario YAML
    >>> st.ds, st.sc, st.ledger_frame()  # tables, assumptions, the claim ledger as a DataFrame
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .datasets import Datasets, load_datasets
from .scenario import Scenario, diff_from_baseline, load_scenario


@dataclass
class Study:
    ds: Datasets
    sc: Scenario
    changed: list[str]
    #: the --set items applied on top of the scenario, as (name, value) pairs
    sets: tuple = ()
    _rows: list | None = field(default=None, repr=False)

    @property
    def is_baseline(self) -> bool:
        return not self.changed

    def ledger_rows(self):
        """Every claim rebuilt under this study's scenario (computed once)."""
        if self._rows is None:
            import hashlib

            from . import diskcache
            from .ledger import build_ledger
            from .ledger.specs import REBUILD_DIR
            from .paths import BASELINE_SCENARIO, DATA_DIR

            # every input of the ledger: tables, rebuild specs, the baseline a scenario inherits, the scenario
            files = ([p for p in DATA_DIR.glob("*") if p.is_file()] + list(REBUILD_DIR.glob("*.yaml"))
                     + [BASELINE_SCENARIO])
            key = diskcache.files_digest(files + ([self.sc.path] if self.sc.path else []))
            key = hashlib.sha256(f"{key}|{sorted(self.sc.data)!r}|{self.changed!r}|{list(self.sets)!r}".encode()
                                 ).hexdigest()
            self._rows = diskcache.get("ledger", key)
            if self._rows is None:
                self._rows = build_ledger(ds=self.ds, scenario=self.sc)
                diskcache.put("ledger", key, self._rows)
        return self._rows

    def ledger_frame(self):
        from .ledger import to_frame

        return to_frame(self.ledger_rows())


def load_study(scenario_path: str | Path | None = None, sets=None) -> Study:
    """Datasets and scenario with the scenario's data cells, then ``sets`` (--set items as (name, value)
    pairs), applied; ``changed`` lists what differs."""
    from .overrides import apply_all

    ds, sc, changed = apply_all(load_datasets(), load_scenario(scenario_path), sets)
    return Study(ds=ds, sc=sc, changed=changed, sets=tuple(tuple(x) for x in sets or ()))


def scenario_summary(scenario_path: str | Path | None) -> tuple[str, list[str]]:
    """(scenario name, lines saying how it differs from the baseline) for the book's banner."""
    sc = load_scenario(scenario_path)
    lines = [f"{n}: {b.value:g} -> {s.value:g} {s.unit} (range {s.low:g}-{s.high:g})"
             for n, b, s in diff_from_baseline(sc)]
    lines += [f"{k} = {v}" for k, v in sc.data]
    return sc.name, lines
