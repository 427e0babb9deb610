"""Load and validate every table in ``data/`` in one call.

Validation runs in two layers:

1. **Structure** (frictionless, driven by ``data/datapackage.json``): headers, types, required
   cells, enums, patterns, ranges, primary keys and foreign keys (every ``source_id`` resolves).
2. **Meaning** (this module): units parse and have the dimension of their metric (pint), dates are
   real dates, claims are internally consistent, prices carry the date they were listed.

Every problem is reported as a :class:`~analysis.errors.StudyInputError` naming file, line, row key,
field and what was expected; all problems of a pass are raised together. Nothing is coerced,
dropped or turned into NaN: an empty cell is "not given" and is allowed only where the schema
says the field is optional.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from . import units
from .errors import StudyInputError, StudyInputErrors
from . import paths
from .paths import rel

TABLES = ("sources", "claims", "metrics", "chips", "hardware", "systems", "system_params",
          "workloads", "measurements", "training_runs", "training_setups", "market", "timeline", "facts")
LONG_TABLES = {"hardware": "chip_id", "system_params": "system_id"}
#: Units a claim may carry that are not physical: dates, and empty for qualitative claims.
CLAIM_DATE_UNIT = "date"
#: Canonical units of the measurement quantities (the value's unit must convert to these).
MEASUREMENT_UNITS = {
    "gemm_bf16_tflops": "TFLOPS", "gemm_fp8_tflops": "TFLOPS", "mem_bandwidth_gb_s": "GB/s",
    "decode_tokens_per_s": "token/s", "offline_tokens_per_s": "token/s",
    "server_tokens_per_s": "token/s", "allreduce_busbw_gb_s": "GB/s", "ttft_ms": "ms",
    "ms_per_token": "ms",
}
#: frictionless's note on a foreign-key error: field, value(s), referenced table and field.
_FK_NOTE = re.compile(r'for "([^"]+)": values "(.*)" not found in the lookup table "([^"]+)" as "([^"]+)"')
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Datasets:
    """Every table of the study, validated. Long tables gain a ``value_canonical`` column."""

    data_dir: Path
    tables: dict[str, pd.DataFrame] = field(repr=False)
    #: memo of results derived from these tables (fits), filled by :func:`memo_on_datasets`
    cache: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    __hash__ = object.__hash__  # identity: two loads are two objects

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = object.__getattribute__(self, "tables")
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def long_row(self, table: str, key: str, metric: str) -> dict | None:
        """The row of a long table (hardware, system_params) as a dict, or None (indexed once)."""
        ck = ("long_index", table)
        if ck not in self.cache:
            df = self.tables[table]
            key_col = LONG_TABLES[table]
            self.cache[ck] = {(k, m): rec for k, m, rec in
                              zip(df[key_col], df.metric, df.to_dict("records"))}
        return self.cache[ck].get((key, metric))

    def spec(self, chip_id: str, metric: str) -> float:
        """A chip's parameter in the metric's canonical unit (see metrics.csv)."""
        row = self.long_row("hardware", chip_id, metric)
        if row is not None:
            return float(row["value_canonical"])
        return float(_lookup(self.tables["hardware"], "chip_id", chip_id, metric,
                             self.data_dir / "hardware.csv", set(self.tables["chips"].chip_id)))

    def system_param(self, system_id: str, metric: str) -> float:
        """A system's parameter (chips, prices...) in the metric's canonical unit."""
        row = self.long_row("system_params", system_id, metric)
        if row is not None:
            return float(row["value_canonical"])
        return float(_lookup(self.tables["system_params"], "system_id", system_id, metric,
                             self.data_dir / "system_params.csv",
                             set(self.tables["systems"].system_id)))

    def fact_row(self, subject: str, prop: str) -> dict:
        """The ``facts.csv`` row of (subject, property) as a dict; unknown ones name the nearest."""
        ck = ("facts_index",)
        if ck not in self.cache:
            df = self.tables["facts"]
            self.cache[ck] = {(s, p): rec for s, p, rec in zip(df.subject, df.property, df.to_dict("records"))}
        idx = self.cache[ck]
        if (subject, prop) not in idx:
            from .errors import nearest
            have = sorted(p for s, p in idx if s == subject)
            raise StudyInputError("data/facts.csv", f"no fact '{prop}' for '{subject}'",
                                  expected=nearest(prop, have) if have else
                                  nearest(subject, sorted({s for s, _ in idx})) if idx else "a row for it")
        return idx[(subject, prop)]

    def hardware_wide(self) -> pd.DataFrame:
        """Chips x metrics table of canonical values (NaN where a chip has no such figure)."""
        hw = self.tables["hardware"]
        return hw.pivot(index="chip_id", columns="metric", values="value_canonical")

    def canonical_unit(self, table: str, metric: str) -> str:
        ck = ("canonical_units",)
        if ck not in self.cache:
            m = self.tables["metrics"]
            self.cache[ck] = dict(zip(zip(m.table, m.metric), m.canonical_unit))
        return str(self.cache[ck][(table, metric)])


#: ``ds.cache`` key of the Datasets a what-if's fits are calibrated on (see analysis.overrides)
CALIBRATION_KEY = "calibrated_on"


def memo_on_datasets(fn):
    """Cache ``fn(ds)`` on the Datasets object itself (fits are pure functions of the tables).

    A Datasets made by a what-if override of specs, prices or workloads (analysis.overrides) names
    the Datasets it derives from in ``ds.cache[CALIBRATION_KEY]``: the fits are then those of that
    one, the models staying calibrated on the published measurements."""
    import functools

    @functools.wraps(fn)
    def wrapper(ds, *args):
        src = ds.cache.get(CALIBRATION_KEY, ds)
        key = (fn.__module__, fn.__qualname__, args)
        if key not in src.cache:
            src.cache[key] = fn(src, *args)
        return src.cache[key]

    return wrapper


def with_tables(ds: Datasets, tables: dict[str, pd.DataFrame]) -> Datasets:
    """A new Datasets with some tables replaced (fresh fit cache)."""
    merged = dict(ds.tables)
    merged.update(tables)
    return Datasets(data_dir=ds.data_dir, tables=merged)


def field_schema(ds: Datasets, table: str, field_name: str) -> dict | None:
    """The datapackage.json field description of ``table.field_name`` (None if there is none)."""
    ck = ("descriptor",)
    if ck not in ds.cache:
        ds.cache[ck] = _read_descriptor(ds.data_dir)
    for r in ds.cache[ck]["resources"]:
        if r["name"] == table:
            return next((f for f in r["schema"]["fields"] if f["name"] == field_name), None)
    return None


def cell_problem(ds: Datasets, table: str, field_name: str, value) -> str | None:
    """Why ``value`` cannot stand in ``table.field_name`` by the field's datapackage.json type and
    constraints (finite number, whole number, minimum, exclusiveMinimum, maximum, enum, pattern,
    maxLength), or None. The same rules frictionless applies to the CSV files."""
    import math

    f = field_schema(ds, table, field_name)
    if f is None:
        return None
    c = f.get("constraints", {})
    if f["type"] in ("number", "integer"):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return f"'{value}' is not a number"
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        if f["type"] == "integer" and value != int(value):
            return f"{value:g} is not a whole number"
        if "minimum" in c and value < c["minimum"]:
            return f"{value:g} is below the minimum {c['minimum']}"
        if "exclusiveMinimum" in c and not value > c["exclusiveMinimum"]:
            return f"{value:g} is not greater than {c['exclusiveMinimum']}"
        if "maximum" in c and value > c["maximum"]:
            return f"{value:g} is above the maximum {c['maximum']}"
        return None
    text = str(value)
    if "enum" in c and text not in c["enum"]:
        return f"'{text}' is not one of {', '.join(map(str, c['enum']))}"
    if "pattern" in c and not re.fullmatch(c["pattern"], text):
        return f"'{text}' does not match {c['pattern']}"
    if "maxLength" in c and len(text) > c["maxLength"]:
        return f"'{text[:20]}...' is longer than {c['maxLength']} characters"
    return None


def consistency_errors(ds: Datasets) -> list[StudyInputError]:
    """The meaning checks of a load (units, dates, claims, measurements within their chip's peak,
    MoE rows...) run again over tables that were changed after loading (``--set``, a scenario's
    ``data:`` cells). Works on copies: the loaded tables are not touched."""
    return _semantic_errors(ds.data_dir, {k: v.copy() for k, v in ds.tables.items()})


def _lookup(df, key_col, key, metric, path, valid_keys):
    from .errors import nearest
    if key not in valid_keys:
        declared = rel(path.with_name("chips.csv" if key_col == "chip_id" else "systems.csv"))
        raise StudyInputError(rel(path), f"unknown {key_col.removesuffix('_id')} '{key}'",
                              expected=f"{nearest(key, valid_keys)} ({key_col}s are declared in {declared})")
    row = df[(df[key_col] == key) & (df.metric == metric)]
    if row.empty:
        have = df[df[key_col] == key].metric
        raise StudyInputError(rel(path), f"no '{metric}' for {key}",
                              expected=nearest(metric, have) if len(have) else "a row for it")
    return row.value_canonical.iloc[0]


# --------------------------------------------------------------------------------------------
# loading

def load_datasets(data_dir: Path | str | None = None) -> Datasets:
    """Validate and load every table of ``data_dir`` (default: :func:`analysis.paths.data_dir`,
    i.e. $STUDY_DATA_DIR or data/); raise StudyInputErrors listing every problem found."""
    data_dir = Path(data_dir if data_dir is not None else paths.data_dir()).resolve()
    if not (data_dir / "datapackage.json").is_file():
        raise StudyInputError(rel(data_dir), "no datapackage.json in the data folder",
                              expected=f"a copy of data/ (set ${paths.DATA_DIR_ENV} to its folder)")
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                  for p in sorted(data_dir.glob("*")) if p.is_file())
    return _load_cached(str(data_dir), stamp)


@lru_cache(maxsize=8)
def _load_cached(data_dir: str, _stamp) -> Datasets:
    from . import diskcache

    data_dir = Path(data_dir)
    key = diskcache.files_digest(p for p in data_dir.glob("*") if p.is_file())
    hit = diskcache.get("datasets", key)
    if hit is not None and hit.data_dir == data_dir:
        return hit
    ds = _load_and_validate(data_dir)
    diskcache.put("datasets", key, Datasets(data_dir=ds.data_dir, tables=ds.tables))
    return ds


def _load_and_validate(data_dir: Path) -> Datasets:
    descriptor = _read_descriptor(data_dir)
    errors = _structural_errors(data_dir, descriptor)
    if errors:
        raise StudyInputErrors(errors)
    tables = {r["name"]: _read_table(data_dir, r) for r in descriptor["resources"]}
    errors = _semantic_errors(data_dir, tables)
    if errors:
        raise StudyInputErrors(errors)
    return Datasets(data_dir=data_dir, tables=tables)


def _read_descriptor(data_dir: Path) -> dict:
    path = data_dir / "datapackage.json"
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8").removeprefix("\ufeff"))
    except FileNotFoundError:
        raise StudyInputError(rel(path), "file not found", expected="the data package descriptor")
    except UnicodeDecodeError as exc:
        raise StudyInputError(rel(path), f"not UTF-8 text (byte at offset {exc.start} cannot be decoded)",
                              expected="a JSON file saved as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise StudyInputError(rel(path), f"malformed JSON: {exc.msg}", line=exc.lineno,
                              expected="valid JSON")
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        raise StudyInputError(rel(path), "no 'resources' list", expected="a Frictionless Data Package descriptor")
    for i, r in enumerate(resources):
        fields = r.get("schema", {}).get("fields") if isinstance(r, dict) and isinstance(r.get("schema"), dict) else None
        if not (isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("path"), str)
                and isinstance(fields, list) and all(isinstance(f, dict) and "name" in f and "type" in f
                                                     for f in fields)):
            label = r.get("name") if isinstance(r, dict) else repr(r)
            raise StudyInputError(rel(path), f"resource {i + 1} ({label}) "
                                  "lacks a name, a path or a schema whose fields have a name and a type",
                                  expected="{name, path, schema: {fields: [{name, type, ...}]}} per table")
    names = [r.get("name") for r in resources]
    missing = [t for t in TABLES if t not in names]
    if missing:
        raise StudyInputError(rel(path), f"resources {missing} are not described",
                              expected=f"one resource for each of {list(TABLES)}")
    return descriptor


#: The byte-order mark Excel writes at the start of a "CSV UTF-8" file.
_BOM = "\ufeff"


def csv_text(path: Path) -> str:
    """A CSV file's text as the study reads it: UTF-8, an optional byte-order mark dropped and
    Windows line ends (CRLF) read as ``\n``, so a file saved by Excel is the same table.

    StudyInputError (one line naming the file) for anything else: another encoding (latin-1...),
    or a carriage return that does not end a line.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StudyInputError(rel(path), f"not UTF-8 text (byte 0x{raw[exc.start]:02x} cannot be decoded; "
                              "the file is probably latin-1 or Windows-1252)", line=line,
                              expected="UTF-8 (in Excel: Save As 'CSV UTF-8 (Comma delimited)')") from None
    text = text.removeprefix(_BOM).replace("\r\n", "\n")
    if "\r" in text:
        line = text[: text.index("\r")].count("\n") + 1
        raise StudyInputError(rel(path), "carriage return inside a line", line=line,
                              expected="line ends \\n or \\r\\n and no line breaks inside cells")
    return text


def _header_error(path: Path, text: str, labels: list[str]) -> StudyInputError | None:
    """One error for a file whose header is not the schema's: empty, not comma-separated, or with
    missing, renamed or extra columns (reported before anything else, so that the rows of a file
    with a bad header do not each produce an error)."""
    import csv
    import io

    from .errors import nearest

    expected = "header " + ",".join(labels)
    first = text.split("\n", 1)[0]
    if not first.strip():
        return StudyInputError(rel(path), "the file is empty" if not text.strip() else "the first line is empty",
                               line=1, expected=expected)
    header = next(csv.reader(io.StringIO(first)))
    if header == labels:
        return None
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if len(header) == 1 and sep in first:
            return StudyInputError(rel(path), f"bad header: the columns are separated by {name}", line=1,
                                   expected=f"comma-separated values ({expected}); in Excel save as "
                                            "'CSV UTF-8 (Comma delimited)' with ',' as the list separator")
    missing = [c for c in labels if c not in header]
    extra = [c for c in header if c not in labels]
    if extra and missing:
        problem = "; ".join(f"column '{c}' is not in the schema ({nearest(c, missing)})" for c in extra)
        problem += "; missing " + ", ".join(f"'{c}'" for c in missing)
    elif missing:
        problem = "missing column(s) " + ", ".join(f"'{c}'" for c in missing)
    elif extra:
        problem = "unknown column(s) " + ", ".join(f"'{c}'" for c in extra)
    else:
        problem = "the columns are in another order"
    return StudyInputError(rel(path), f"bad header: {problem}", line=1, expected=expected)


def _file_errors(data_dir: Path, descriptor: dict) -> tuple[list[StudyInputError], dict[str, str]]:
    """(errors, text of each file) for what must hold before the cells can be read: each table's
    file exists, is UTF-8, has the schema's header and at least one row."""
    errors: list[StudyInputError] = []
    texts: dict[str, str] = {}
    for r in descriptor["resources"]:
        path = data_dir / r["path"]
        if not path.is_file():
            errors.append(StudyInputError(rel(path), "file not found",
                                          expected=f"the '{r['name']}' table described in datapackage.json"))
            continue
        try:
            text = csv_text(path)
        except StudyInputError as exc:
            errors.append(exc)
            continue
        labels = [f["name"] for f in r["schema"]["fields"]]
        err = _header_error(path, text, labels)
        if err is None and not "".join(text.split("\n")[1:]).strip():
            err = StudyInputError(rel(path), "the table has no rows", line=2,
                                  expected=f"at least one row under the header {','.join(labels)}")
        if err is not None:
            errors.append(err)
            continue
        texts[r["name"]] = text
    return errors, texts


def _structural_errors(data_dir: Path, descriptor: dict) -> list[StudyInputError]:
    """Run frictionless over the package and translate its report.

    Files must first pass :func:`_file_errors`; if one does not, only those problems are reported
    (its rows, and the foreign keys pointing at it, would otherwise each add an error). Files with a
    byte-order mark or Windows line ends are validated as normalised copies in a temporary folder.
    """
    import tempfile

    from frictionless import FrictionlessException, Package, system

    errors, texts = _file_errors(data_dir, descriptor)
    if errors:
        return errors
    with tempfile.TemporaryDirectory(prefix="study-data-") as tmp:
        basepath = data_dir
        paths = {r["name"]: data_dir / r["path"] for r in descriptor["resources"]}
        if any(p.read_bytes() != texts[n].encode("utf-8") for n, p in paths.items()):
            basepath = Path(tmp)
            for r in descriptor["resources"]:
                dst = basepath / r["path"]
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_text(texts[r["name"]], encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with system.use_context(trusted=True):
                try:
                    package = Package(descriptor, basepath=str(basepath))
                    report = package.validate()
                except FrictionlessException as exc:  # the descriptor itself is not valid
                    raise StudyInputError(rel(data_dir / "datapackage.json"),
                                          f"not a valid data package: {exc.error.message}",
                                          expected="a descriptor that follows the Data Package v2 profile") from None
    fields_by_res = {r["name"]: r["schema"] for r in descriptor["resources"]}
    for task in report.tasks:
        res_name = task.name
        path = rel(data_dir / f"{res_name}.csv")
        schema = fields_by_res.get(res_name, {})
        for err in task.errors:
            errors.append(_translate(err, path, schema))
    return errors


def _expected_for(schema: dict, field_name: str | None) -> str:
    for f in schema.get("fields", []):
        if f["name"] == field_name:
            c = f.get("constraints", {})
            parts = [{"number": "a number", "integer": "a whole number"}.get(f["type"], "text")]
            if c.get("required"):
                parts.append("not empty")
            if "enum" in c:
                parts.append("one of " + ", ".join(map(str, c["enum"])))
            if "pattern" in c:
                parts.append(f"matching {c['pattern']}")
            if "exclusiveMinimum" in c:
                parts.append(f"greater than {c['exclusiveMinimum']}")
            if "minimum" in c:
                parts.append(f"at least {c['minimum']}")
            if "maximum" in c:
                parts.append(f"at most {c['maximum']}")
            if "maxLength" in c:
                parts.append(f"at most {c['maxLength']} characters")
            return ", ".join(parts)
    return "a value the schema allows"


def _translate(err, path: str, schema: dict) -> StudyInputError:
    """frictionless error -> StudyInputError naming file, line, field and expectation."""
    etype = err.type
    line = getattr(err, "row_number", None)
    fname = getattr(err, "field_name", None)
    cell = getattr(err, "cell", None)
    pk = schema.get("primaryKey", [])
    key = None
    cells = getattr(err, "cells", None)
    labels = [f["name"] for f in schema.get("fields", [])]
    if cells and pk:
        try:
            key = ", ".join(f"{k}={cells[labels.index(k)]}" for k in pk)
        except (IndexError, ValueError):
            key = None
    if etype in ("type-error", "constraint-error"):
        shown = "empty" if cell in (None, "") else f"'{cell}'"
        return StudyInputError(path, f"value {shown} is not allowed", line=line, key=key, field=fname,
                               expected=_expected_for(schema, fname))
    if etype == "missing-cell":
        return StudyInputError(path, "the row has too few cells", line=line, key=key, field=fname,
                               expected="one cell per header column")
    if etype == "extra-cell":
        return StudyInputError(path, "the row has more cells than the header", line=line, key=key,
                               expected="one cell per header column (quote cells that contain commas)")
    if etype in ("primary-key", "unique-error"):
        return StudyInputError(path, f"duplicate key ({err.note})", line=line, key=key,
                               field=fname or ",".join(pk), expected="unique " + ", ".join(pk))
    if etype == "foreign-key":
        m = _FK_NOTE.search(err.note or "")
        if m:
            fld, value, table, target = m.groups()
            target_file = str(Path(path).with_name(f"{table}.csv"))
            hint = " (a new chip is one row there: see README 'Add your own chip')" if table == "chips" else ""
            return StudyInputError(path, f"dangling reference: {fld} '{value}' is not declared in {target_file}",
                                   line=line, key=key, field=fld,
                                   expected=f"a {target} from {target_file}{hint}")
        return StudyInputError(path, f"dangling reference: {err.note}", line=line, key=key,
                               expected="an id that exists in the referenced table")
    if etype in ("incorrect-label", "missing-label", "extra-label", "blank-label", "duplicate-label"):
        return StudyInputError(path, f"bad header: {err.note}", line=1,
                               expected="header " + ",".join(labels))
    if etype == "blank-row":
        return StudyInputError(path, "blank row", line=line, expected="no empty lines")
    return StudyInputError(path, f"{etype}: {err.message}", line=line, key=key, field=fname)


def _read_table(data_dir: Path, resource: dict) -> pd.DataFrame:
    """Read a validated CSV as text and convert typed fields exactly (empty -> missing)."""
    import io

    df = pd.read_csv(io.StringIO(csv_text(data_dir / resource["path"])), dtype=str, keep_default_na=False,
                     na_values=[])
    for f in resource["schema"]["fields"]:
        col = f["name"]
        if f["type"] == "number":
            df[col] = pd.to_numeric(df[col].replace("", None)).astype(float)
        elif f["type"] == "integer":
            df[col] = pd.to_numeric(df[col].replace("", None)).astype("Int64")
    df.attrs["path"] = str(data_dir / resource["path"])
    df.index = pd.RangeIndex(2, len(df) + 2, name="line")  # line number in the file
    return df


# --------------------------------------------------------------------------------------------
# semantic checks

def _valid_date(text: str) -> bool:
    m = _DATE_RE.match(text)
    if not m:
        return False
    y, mo, d = (int(g) if g else None for g in m.groups())
    try:
        _dt.date(y, mo or 1, d or 1)
    except ValueError:
        return False
    return True


def _fact_errors(path: str, facts: pd.DataFrame) -> list[StudyInputError]:
    """fact_id is subject.property; yes/no for 'exists'; a number whose unit parses where a unit is given."""
    errors = []
    for line, row in facts.iterrows():
        key = f"fact_id={row.fact_id}"
        if row.fact_id != f"{row.subject}.{row.property}":
            errors.append(StudyInputError(path, f"fact_id '{row.fact_id}' is not subject.property", line=line,
                                          key=key, field="fact_id", expected=f"{row.subject}.{row.property}"))
        if row.property == "exists" and row.value not in ("yes", "no"):
            errors.append(StudyInputError(path, f"'{row.value}' for an 'exists' fact", line=line, key=key,
                                          field="value", expected="yes or no"))
        if row.unit:
            try:
                v = float(row.value)
                units.parse_unit(row.unit)
                if v != v or v in (float("inf"), float("-inf")):
                    raise ValueError
            except ValueError:
                errors.append(StudyInputError(path, f"'{row.value}' is not a finite number", line=line, key=key,
                                              field="value", expected="a number, since the row has a unit"))
            except units.UnitProblem as exc:
                errors.append(StudyInputError(path, str(exc), line=line, key=key, field="unit",
                                              expected="a unit from data/SCHEMA.md"))
    dup = facts[facts.duplicated(["subject", "property"], keep="first")]
    for line, row in dup.iterrows():
        errors.append(StudyInputError(path, f"second fact for ({row.subject}, {row.property})", line=line,
                                      key=f"fact_id={row.fact_id}", expected="one row per subject and property"))
    return errors


def _semantic_errors(data_dir: Path, t: dict[str, pd.DataFrame]) -> list[StudyInputError]:
    errors: list[StudyInputError] = []
    p = lambda name: rel(data_dir / f"{name}.csv")  # noqa: E731

    # dates that the pattern lets through but the calendar does not
    for name, col in (("sources", "date"), ("chips", "announced"), ("system_params", "as_of"),
                      ("timeline", "date"), ("facts", "as_of")):
        for line, row in t[name].iterrows():
            if row[col] and not _valid_date(row[col]):
                errors.append(StudyInputError(p(name), f"'{row[col]}' is not a calendar date",
                                              line=line, field=col, expected="YYYY, YYYY-MM or YYYY-MM-DD"))

    # metric definitions: canonical units parse
    metrics = t["metrics"]
    canon: dict[tuple[str, str], str] = {}
    for line, row in metrics.iterrows():
        try:
            units.parse_unit(row.canonical_unit)
            canon[(row.table, row.metric)] = row.canonical_unit
        except units.UnitProblem as exc:
            errors.append(StudyInputError(p("metrics"), str(exc), line=line, key=row.metric,
                                          field="canonical_unit", expected="a unit pint can parse"))

    errors.extend(_infinite_errors(data_dir, t))
    # a system's chip count, for values given per chip (USD/chip/hour) in a per-system table
    chips_of = system_chip_counts(t["system_params"])

    # long tables: metric defined, unit of the right dimension, canonical value
    for name, key_col in LONG_TABLES.items():
        df = t[name]
        conv = []
        for line, row in df.iterrows():
            key = f"{key_col}={row[key_col]}, metric={row.metric}"
            target = canon.get((name, row.metric))
            if target is None:
                known = [m for (tb, m) in canon if tb == name]
                from .errors import nearest
                errors.append(StudyInputError(p(name), f"unknown metric '{row.metric}'", line=line,
                                              key=key, field="metric",
                                              expected=f"a metric defined in metrics.csv ({nearest(row.metric, known)})"))
                conv.append(float("nan"))
                continue
            try:
                conv.append(_canonical_value(name, row, target, chips_of))
            except units.UnitProblem as exc:
                errors.append(StudyInputError(p(name), str(exc), line=line, key=key, field="unit",
                                              expected=f"a unit convertible to {target}"))
                conv.append(float("nan"))
            except NoChipCount:
                errors.append(StudyInputError(
                    p(name), f"value given per chip ('{row.unit}') for a system without a 'chips' row",
                    line=line, key=key, field="unit",
                    expected=f"a {target} figure for the whole system, or a row "
                             f"'{row[key_col]},chips,N,chip,...' in system_params.csv"))
                conv.append(float("nan"))
        df["value_canonical"] = conv

    # prices carry the date they were listed
    sp = t["system_params"]
    for line, row in sp.iterrows():
        if row.metric.startswith("usd_") and not row.as_of:
            errors.append(StudyInputError(p("system_params"), "price without the date it was listed",
                                          line=line, key=f"system_id={row.system_id}, metric={row.metric}",
                                          field="as_of", expected="YYYY-MM or YYYY-MM-DD"))

    # measurements: unit matches the quantity
    for line, row in t["measurements"].iterrows():
        target = MEASUREMENT_UNITS[row.quantity]
        try:
            units.convert(row.value, row.unit, target)
        except units.UnitProblem as exc:
            errors.append(StudyInputError(p("measurements"), str(exc), line=line,
                                          key=f"measurement_id={row.measurement_id}", field="unit",
                                          expected=f"a unit convertible to {target}"))
    t["measurements"]["value_canonical"] = [
        float(units.convert(r.value, r.unit, MEASUREMENT_UNITS[r.quantity]))
        if not any(e.file == p("measurements") and e.line == ln for e in errors) else float("nan")
        for ln, r in t["measurements"].iterrows()]

    errors.extend(_above_peak_errors(p("measurements"), t))

    # market units parse
    for line, row in t["market"].iterrows():
        try:
            units.parse_unit(row.unit)
        except units.UnitProblem as exc:
            errors.append(StudyInputError(p("market"), str(exc), line=line,
                                          key=f"series_id={row.series_id}, year={row.year}",
                                          field="unit", expected="a unit pint can parse (USD, percent...)"))

    errors.extend(_claim_errors(p("claims"), t["claims"]))
    errors.extend(_fact_errors(p("facts"), t["facts"]))

    # MoE rows say how many experts; dense rows do not
    for line, row in t["workloads"].iterrows():
        if row.arch == "moe" and (pd.isna(row.n_experts) or pd.isna(row.experts_per_token)):
            errors.append(StudyInputError(p("workloads"), "MoE model without expert counts", line=line,
                                          key=f"model_id={row.model_id}", field="n_experts",
                                          expected="n_experts and experts_per_token for arch moe"))
        if row.n_kv_heads > row.n_heads or row.n_heads % row.n_kv_heads:
            errors.append(StudyInputError(p("workloads"), f"{row.n_kv_heads} KV heads for {row.n_heads} attention heads",
                                          line=line, key=f"model_id={row.model_id}", field="n_kv_heads",
                                          expected="n_kv_heads <= n_heads and dividing it (each KV head serves "
                                                   "n_heads / n_kv_heads query heads)"))
        if not pd.isna(row.n_experts) and not pd.isna(row.experts_per_token) and row.experts_per_token > row.n_experts:
            errors.append(StudyInputError(p("workloads"), "more experts per token than experts", line=line,
                                          key=f"model_id={row.model_id}", field="experts_per_token",
                                          expected="experts_per_token <= n_experts"))
        if row.params_active > row.params_total:
            errors.append(StudyInputError(p("workloads"), "more active than total parameters",
                                          line=line, key=f"model_id={row.model_id}",
                                          field="params_active", expected="params_active <= params_total"))
    return errors


class NoChipCount(Exception):
    """A per-chip value for a system whose chip count is not given."""


def system_chip_counts(system_params: pd.DataFrame) -> dict[str, float]:
    """{system id: its 'chips' row} of a system_params table (what a per-chip value is multiplied by)."""
    rows = system_params[system_params.metric == "chips"]
    return dict(zip(rows.system_id, rows.value))


def _canonical_value(table: str, row, target: str, chips_of: dict[str, float]) -> float:
    """A long-table row's value in its metric's canonical unit (:func:`canonical_value`)."""
    return canonical_value(table, row[LONG_TABLES[table]], row.value, row.unit, target, chips_of)


def canonical_value(table: str, key: str, value: float, unit: str, target: str, chips_of: dict[str, float]) -> float:
    """A long-table value (row ``key``: a chip or system id) in its metric's canonical unit.

    A per-chip unit where the metric is per system ('USD/chip/hour' for the whole instance's
    'USD/hour') is multiplied by the system's chip count: value = value_per_chip x chips (on a
    p5.48xlarge with 8 chips, 6.88 USD/chip/hour is 55.04 USD/hour). In the hardware table every row
    is per chip already, so 'TFLOPS/chip' is TFLOPS. Never read as per system (units.convert refuses).
    """
    if not units.per_chip(unit, target):
        return float(units.convert(value, unit, target))
    if table == "hardware":
        chips = 1.0
    elif key in chips_of:
        chips = float(chips_of[key])
    else:
        raise NoChipCount(key)
    return float(units.convert(value * chips, f"({unit}) * chip", target))


def _infinite_errors(data_dir: Path, t: dict[str, pd.DataFrame]) -> list[StudyInputError]:
    """Every number cell finite: 'inf', 'nan' and overflowing numbers such as 1e999 are refused."""
    import math

    errors = []
    for name, df in t.items():
        for col in df.columns:
            if not pd.api.types.is_float_dtype(df[col]):
                continue
            for line, v in df[col].items():
                if not pd.isna(v) and not math.isfinite(v):
                    errors.append(StudyInputError(rel(data_dir / f"{name}.csv"), f"value {v} is not a finite number",
                                                  line=line, field=col,
                                                  expected="a finite number (no inf, nan or overflow such as 1e999)"))
    return errors


#: a measured quantity and the chip peak it cannot exceed (both per chip, canonical units)
PEAK_OF_MEASUREMENT = {"gemm_bf16_tflops": "bf16_dense_tflops", "gemm_fp8_tflops": "fp8_dense_tflops",
                       "mem_bandwidth_gb_s": "mem_bandwidth_gb_s"}


def _above_peak_errors(path: str, t: dict[str, pd.DataFrame]) -> list[StudyInputError]:
    """A per-chip measurement (GEMM TFLOPS, memory bandwidth) may not exceed its chip's peak:
    achieved / peak <= 1 (the value is per chip, so ``chips`` does not enter)."""
    hw = t["hardware"]
    peaks = {(c, m): v for c, m, v in zip(hw.chip_id, hw.metric, hw.value_canonical)}
    errors = []
    for line, row in t["measurements"].iterrows():
        metric = PEAK_OF_MEASUREMENT.get(row.quantity)
        peak = peaks.get((row.chip_id, metric))
        if metric and peak is not None and row.value_canonical > peak:
            unit = MEASUREMENT_UNITS[row.quantity]
            errors.append(StudyInputError(
                path, f"{row.quantity} {row.value_canonical:g} {unit} exceeds {row.chip_id}'s peak "
                      f"{metric} {peak:g} {unit} ({Path(path).with_name('hardware.csv')})", line=line,
                key=f"measurement_id={row.measurement_id}", field="value",
                expected=f"a per-chip value at most the peak {peak:g} {unit}"))
    return errors


def _claim_errors(path: str, claims: pd.DataFrame) -> list[StudyInputError]:
    errors = []
    for line, row in claims.iterrows():
        key = f"claim_id={row.claim_id}"
        has_value = not pd.isna(row.claimed_value)
        if row.kind == "timeline":
            if not row.claimed_date and not has_value:
                errors.append(StudyInputError(path, "timeline claim without a date", line=line, key=key,
                                              field="claimed_date", expected="YYYY, YYYY-MM, YYYY-Qn or YYYY-Hn"))
        elif row.claimed_date:
            errors.append(StudyInputError(path, "claimed_date on a claim that is not a timeline claim",
                                          line=line, key=key, field="claimed_date",
                                          expected="empty unless kind is timeline"))
        if row.qualifier == "range":
            if not has_value or pd.isna(row.claimed_high):
                errors.append(StudyInputError(path, "range without both ends", line=line, key=key,
                                              field="claimed_high", expected="claimed_value and claimed_high"))
            elif row.claimed_high < row.claimed_value:
                errors.append(StudyInputError(path, "range high end below its low end", line=line,
                                              key=key, field="claimed_high",
                                              expected=f"a number >= {row.claimed_value}"))
        elif not pd.isna(row.claimed_high):
            errors.append(StudyInputError(path, "claimed_high on a claim that is not a range", line=line,
                                          key=key, field="claimed_high", expected="empty unless qualifier is range"))
        if has_value:
            if not row.unit:
                errors.append(StudyInputError(path, "number without a unit", line=line, key=key,
                                              field="unit", expected="a unit (x for ratios, count for counts)"))
            else:
                try:
                    units.parse_unit(row.unit)
                except units.UnitProblem as exc:
                    errors.append(StudyInputError(path, str(exc), line=line, key=key, field="unit",
                                                  expected="a unit from data/SCHEMA.md's vocabulary"))
        elif row.unit and row.unit != CLAIM_DATE_UNIT:
            errors.append(StudyInputError(path, f"unit '{row.unit}' but no claimed_value", line=line,
                                          key=key, field="claimed_value", expected="a number"))
        if row.qualifier == "none" and has_value:
            errors.append(StudyInputError(path, "qualifier 'none' on a numeric claim", line=line, key=key,
                                          field="qualifier", expected="exact, approx, range, up_to or at_least"))
        if row.qualifier != "none" and not has_value:
            errors.append(StudyInputError(path, f"qualifier '{row.qualifier}' without claimed_value",
                                          line=line, key=key, field="qualifier",
                                          expected="none for qualitative and date claims"))
    return errors
