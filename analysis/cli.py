"""``python -m analysis``: the study's command line.

    python -m analysis data check          validate every table and print a one-screen summary
    python -m analysis book [--scenario F]  execute the notebooks and build book/_build/html
    python -m analysis notebooks execute   re-run notebooks in place so stored outputs are current
    python -m analysis predict training --params 70e9 --tokens 2e12 --chip a100-sxm-80gb [--chips N] [--mfu F]
    python -m analysis predict decode --model llama-3.1-70b --chip h100-sxm --chips 2 --precision fp8 --batch max --input 1000 --output 1000
    python -m analysis fit [--out DIR]      fitted parameters with CIs, and leave-one-out errors
    python -m analysis validate [--out DIR] held-out errors of the fitted models beside naive baselines
    python -m analysis bench               time 10,000 Monte Carlo draws through every model
    python -m analysis ledger [--scenario F] [--set NAME=VALUE ...] [--format table|csv|json] [--output F] [--diff]
    python -m analysis explain CLAIM_ID    the derivation of one claim's verdict
    python -m analysis figures --out DIR   every figure of the book as DIR/<label>.png and .svg
"""
from __future__ import annotations

import argparse
import sys

from .errors import StudyInputError, StudyInputErrors


def _cmd_data_check(args) -> int:
    from .datasets import load_datasets
    from .scenario import load_scenario
    from .summary import later_input_errors, render, scenario_source_errors

    ds = load_datasets()
    sc = load_scenario(args.scenario)
    errs = scenario_source_errors(ds, sc) + later_input_errors(ds, sc)
    if errs:
        raise StudyInputErrors(errs)
    print(render(ds, sc))
    return 0


def _cmd_book(args) -> int:
    from .book import build

    return build(args.scenario or None)


def _cmd_notebooks_execute(args) -> int:
    from .book import execute_in_place
    from .paths import rel

    for path in execute_in_place():
        print(f"executed {rel(path)}")
    return 0


def _number(name: str, text: str, *, integer: bool = False, positive: bool = True) -> float:
    """Parse a command-line number; one clear error line when it is not one."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise StudyInputError("command line", f"--{name} '{text}' is not a number",
                              expected="a number such as 70e9") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise StudyInputError("command line", f"--{name} {text} is not a finite number",
                              expected="a finite number such as 70e9 (no inf, nan or overflow such as 1e999)")
    if integer and v != int(v):
        raise StudyInputError("command line", f"--{name} {text} is not a whole number", expected="an integer")
    if positive and not v > 0:
        raise StudyInputError("command line", f"--{name} {text} must be greater than 0",
                              expected="a positive number")
    return int(v) if integer else v


def _print_result(result: dict, fmt: str, keys: list[str]) -> None:
    import json

    if fmt == "json":
        print(json.dumps({k: result.get(k) for k in result}, indent=2, sort_keys=False, default=float))
        return
    width = max(len(k) for k in result)
    for k in keys + [k for k in result if k not in keys]:
        v = result.get(k)
        if isinstance(v, float):
            v = f"{v:,.6g}"
        print(f"{k:<{width}}  {v}")


def _cmd_predict_training(args) -> int:
    from . import load_datasets, load_scenario
    from .training import predict_training

    ds, sc = load_datasets(), load_scenario(args.scenario or None)
    r = predict_training(ds, params=_number("params", args.params), tokens=_number("tokens", args.tokens),
                         chip_id=args.chip,
                         chips=_number("chips", args.chips, integer=True) if args.chips is not None else None,
                         mfu=_number("mfu", args.mfu) if args.mfu is not None else None, scenario=sc)
    if r.get("mfu") is not None and not 0 < r["mfu"] <= 1:
        raise StudyInputError("command line", f"--mfu {r['mfu']} is not a fraction", expected="0 < mfu <= 1")
    _print_result(r, args.format, ["chip_hours", "chip_hours_low", "chip_hours_high", "days", "days_low",
                                   "days_high", "cost_usd", "cost_usd_low", "cost_usd_high", "mfu"])
    return 0


def _cmd_predict_decode(args) -> int:
    from . import load_datasets, load_scenario
    from .inference import predict_decode

    ds, sc = load_datasets(), load_scenario(args.scenario or None)
    batch = "max" if str(args.batch).strip().lower() == "max" else _number("batch", args.batch, integer=True)
    r = predict_decode(ds, sc, model_id=args.model, chip_id=args.chip,
                       chips=_number("chips", args.chips, integer=True), batch=batch,
                       input_tokens=_number("input", args.input, integer=True),
                       output_tokens=_number("output", args.output, integer=True),
                       precision=args.precision, kv_precision=args.kv_precision)
    _print_result(r, args.format, ["tokens_per_s", "tokens_per_s_low", "tokens_per_s_high", "batch", "ms_per_token",
                                   "ttft_ms", "usd_per_million_tokens"])
    return 0


def _cmd_fit(args) -> int:
    from .fits import write_results

    for path, df in write_results(_output_dir(args.out)).items():
        print(f"wrote {path} ({len(df)} rows)")
    from .fits import loo_summary

    print(loo_summary())
    return 0


def _cmd_validate(args) -> int:
    from .validate import run

    text, _ = run(out_dir=_output_dir(args.out))
    print(text)
    return 0


def _cmd_bench(args) -> int:
    from .bench import run

    print(run(n=_number("draws", args.draws, integer=True)))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit code 2."""

    def error(self, message):
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def _ledger_inputs(args):
    from . import load_scenario
    from .overrides import parse_sets

    return load_scenario(args.scenario or None), parse_sets(args.set)


def _cmd_ledger(args) -> int:
    import json

    from . import load_scenario
    from .ledger import build_ledger, diff, export, make_ledger

    sc, sets = _ledger_inputs(args)
    n = _number("draws", args.draws, integer=True)
    output = _output_file(args.output) if args.output else None  # refused before minutes of work
    rows = build_ledger(scenario=sc, sets=sets, only=args.only, n=n)
    if args.diff_from:
        import pandas as pd

        from . import load_datasets
        from .ledger import diff_from, read_baseline

        base = read_baseline(args.diff_from)
        if args.only:
            base = base[base.claim_id.str.startswith(args.only)]
        changes, counts = diff_from(base, rows, load_datasets().claims)
        df = pd.DataFrame(changes, columns=["claim_id", "verdict_before", "verdict_after", "why"])
        if args.format == "json":
            text = json.dumps(changes, indent=1, ensure_ascii=False) + "\n"
        elif args.format == "csv":
            text = df.to_csv(index=False, lineterminator="\n")
        else:
            with pd.option_context("display.max_colwidth", 200, "display.width", 250):
                text = (df.to_string(index=False) + f"\n\n{len(df)} claim(s) differ from {args.diff_from}; "
                        "verdict before (rows) -> after (columns):\n" + counts.to_string() + "\n")
    elif args.diff:
        base = build_ledger(scenario=load_scenario(), only=args.only, n=n)
        _, changed = make_ledger(scenario=sc, sets=sets, n=n)
        changes = diff(base, rows, changed)
        if args.format == "json":
            text = json.dumps(changes, indent=1, ensure_ascii=False) + "\n"
        else:
            import pandas as pd

            df = pd.DataFrame(changes, columns=["claim_id", "verdict_before", "verdict_after", "rebuilt_before",
                                                "rebuilt_after", "unit", "why"])
            text = (df.to_csv(index=False, lineterminator="\n") if args.format == "csv"
                    else df.to_string(index=False) + f"\n{len(df)} claim(s) change against the baseline "
                    f"(changed: {', '.join(changed) or 'nothing'})\n")
    else:
        text = export(rows, args.format)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} ({len(rows)} claims)")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_explain(args) -> int:
    from .ledger import explain, make_ledger

    sc, sets = _ledger_inputs(args)
    ledger, _ = make_ledger(scenario=sc, sets=sets)
    ledger.claim_row(args.claim_id)  # unknown id -> nearest ids
    if args.claim_id not in ledger.specs:
        raise StudyInputError("data/rebuilds", f"claim {args.claim_id} has no rebuild",
                              expected="an entry in data/rebuilds/S*.yaml")
    print(explain(ledger.evaluate(args.claim_id)))
    return 0


def _cmd_figures(args) -> int:
    from . import figures
    from .study import load_study

    paths = figures.export_all(_output_dir(args.out), load_study(args.scenario or None))
    for p in paths:
        print(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="the parameter datasets")
    dsub = data.add_subparsers(dest="data_command", required=True)
    check = dsub.add_parser("check", help="validate every table and print a summary")
    check.add_argument("--scenario", default=None, help="scenario YAML to validate with the data")
    check.set_defaults(func=_cmd_data_check)
    book = sub.add_parser("book", help="execute the notebooks and build the HTML book")
    book.add_argument("--scenario", default="", help="scenario YAML to build the book under")
    book.set_defaults(func=_cmd_book)
    nbs = sub.add_parser("notebooks", help="the study's notebooks")
    nsub = nbs.add_subparsers(dest="nb_command", required=True)
    ex = nsub.add_parser("execute", help="re-run every notebook in place (baseline scenario)")
    ex.set_defaults(func=_cmd_notebooks_execute)

    pred = sub.add_parser("predict", help="what-if predictions from the fitted models")
    psub = pred.add_subparsers(dest="predict_command", required=True)
    tr = psub.add_parser("training", help="chip-hours, days and cost of a training run")
    tr.add_argument("--params", required=True, help="parameters (active), e.g. 70e9")
    tr.add_argument("--tokens", required=True, help="training tokens, e.g. 2e12")
    tr.add_argument("--chip", required=True, help="chip id, e.g. trainium2")
    tr.add_argument("--chips", default=None, help="number of chips (default: see the command's output)")
    tr.add_argument("--mfu", default=None, help="model FLOPs utilisation, 0-1 (default: fitted)")
    tr.add_argument("--scenario", default="", help="scenario YAML")
    tr.add_argument("--format", choices=["table", "json"], default="table")
    tr.set_defaults(func=_cmd_predict_training)
    de = psub.add_parser("decode", help="decode throughput, latency, TTFT and cost per token")
    de.add_argument("--model", required=True, help="model id from data/workloads.csv")
    de.add_argument("--chip", required=True, help="chip id")
    de.add_argument("--chips", default="1", help="chips serving one model replica (tensor parallel)")
    de.add_argument("--batch", default="1",
                    help="concurrent sequences, or 'max': the largest batch whose KV cache fits (the JSON says which)")
    de.add_argument("--precision", choices=["bf16", "fp8", "fp4"], default="bf16",
                    help="weights (and by default the KV cache; FP4 keeps an FP8 cache); the chip's peak at it")
    de.add_argument("--kv-precision", choices=["bf16", "fp8"], default=None, help="KV cache precision")
    de.add_argument("--input", default="1024", help="prompt tokens")
    de.add_argument("--output", default="1024", help="generated tokens")
    de.add_argument("--scenario", default="", help="scenario YAML")
    de.add_argument("--format", choices=["table", "json"], default="table")
    de.set_defaults(func=_cmd_predict_decode)

    led = sub.add_parser("ledger", help="every claim rebuilt with an interval and a verdict")
    led.add_argument("--scenario", default="", help="scenario YAML (default: baseline)")
    led.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="override an assumption, or a dataset cell as table.row.field=value")
    led.add_argument("--format", choices=["table", "csv", "json"], default="table")
    led.add_argument("--output", default="", help="write to this file instead of stdout")
    led.add_argument("--diff", action="store_true", help="list the claims that change against the baseline")
    led.add_argument("--diff-from", default="", metavar="LEDGER",
                     help="list every claim whose verdict differs from a ledger export (e.g. results/ledger.csv), with the reason")
    led.add_argument("--only", default=None, help="only claim ids starting with this prefix, e.g. S0 or S4-01")
    led.add_argument("--draws", default="10000", help="Monte Carlo draws per claim (default 10000)")
    led.set_defaults(func=_cmd_ledger)
    exp = sub.add_parser("explain", help="the derivation of one claim")
    exp.add_argument("claim_id")
    exp.add_argument("--scenario", default="")
    exp.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    exp.set_defaults(func=_cmd_explain)

    figs = sub.add_parser("figures", help="write every figure of the book as PNG and SVG")
    figs.add_argument("--out", default="figures", help="output folder (default: figures/)")
    figs.add_argument("--scenario", default="", help="scenario YAML (default: baseline)")
    figs.set_defaults(func=_cmd_figures)

    fit = sub.add_parser("fit", help="write fitted parameters and leave-one-out errors")
    fit.add_argument("--out", default="results", help="output folder (default: results/)")
    fit.set_defaults(func=_cmd_fit)
    val = sub.add_parser("validate", help="held-out (leave-one-out) errors of the fitted models vs naive baselines")
    val.add_argument("--out", default="results", help="folder for the per-run tables (default: results/)")
    val.set_defaults(func=_cmd_validate)
    bench = sub.add_parser("bench", help="time Monte Carlo draws through every model")
    bench.add_argument("--draws", default="10000", help="draws per model (default 10000)")
    bench.set_defaults(func=_cmd_bench)
    return p


def _os_error_line(exc: OSError) -> str:
    """One line for a file-system mistake: the path, what went wrong and what was expected."""
    expected = {FileNotFoundError: "an existing file, or a folder that exists for a new file",
                PermissionError: "a location this user may read or write (check its permissions)",
                IsADirectoryError: "a file path, not a folder",
                NotADirectoryError: "a path whose parents are folders, not files",
                FileExistsError: "a folder path, not an existing file"}
    kind = next((v for k, v in expected.items() if isinstance(exc, k)), "a path the system can use")
    where = exc.filename if exc.filename is not None else "file system"
    return f"{where}: {exc.strerror or exc}; expected {kind}"


def main(argv: list[str] | None = None) -> int:
    """Run one command. Every input mistake (data, scenario, --set, arguments, paths) ends as one
    line on stderr and exit code 2; a traceback means a defect of the study's code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (StudyInputError, StudyInputErrors) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head`: the reader left; not an error of the command
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a missing folder, a read-only results/, a file where a folder belongs
        print(f"error: {_os_error_line(exc)}", file=sys.stderr)
        return 2


def _output_file(text: str, flag: str = "--output"):
    """The path of a file to write: its folder must exist and the path must not be a folder."""
    from pathlib import Path

    path = Path(text)
    if path.is_dir():
        raise StudyInputError("command line", f"{flag} {text} is a folder", expected="a file path such as out/ledger.csv")
    if not path.parent.is_dir():
        raise StudyInputError("command line", f"{flag} {text}: folder '{path.parent}' does not exist",
                              expected="a file in an existing folder (create it first with mkdir -p)")
    return path


def _output_dir(text: str, flag: str = "--out"):
    """A folder to write into (created if missing): it must not be an existing file, nor lie under one."""
    from pathlib import Path

    path = Path(text)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise StudyInputError("command line", f"{flag} {text}: '{p}' is a file", expected="a folder path")
    return text
