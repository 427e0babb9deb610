"""``python -m analysis``: the study's command line.

    python -m analysis data check          validate every table and print a one-screen summary
    python -m analysis book [--scenario F]  execute the notebooks and build book/_build/html
    python -m analysis notebooks execute   re-run notebooks in place so stored outputs are current
    python -m analysis predict training --params 70e9 --tokens 2e12 --chip a100-sxm-80gb [--chips N] [--mfu F]
    python -m analysis predict decode --model llama-3.1-70b --chip h100-sxm --chips 2 --precision fp8 --batch max --input 1000 --output 1000
    python -m analysis predict allreduce --system trn2.48xlarge --bytes 140e9 [--systems K]
    python -m analysis predict checkpoint --system trn2.48xlarge --systems 64 --model llama-3.1-70b
    python -m analysis compare decode|training ...   every chip ranked by cost, with 90% intervals
    (every predict and compare command takes --scenario F and --set NAME=VALUE, like ledger)
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


def _batch(text: str):
    """--batch: 'max' (the largest batch that fits) or a whole number of sequences."""
    return "max" if str(text).strip().lower() == "max" else _number("batch", text, integer=True)


def _print_result(result: dict, fmt: str, keys: list[str]) -> None:
    import json

    if fmt == "json":
        print(json.dumps({k: result.get(k) for k in result}, indent=2, sort_keys=False, default=float))
        return
    shown = [k for k in keys if k in result]
    width = max(len(k) for k in shown)
    for k in shown:
        v = result.get(k)
        if isinstance(v, float):
            v = f"{v:,.6g}"
        elif isinstance(v, list):
            v = "; ".join(map(str, v)) or "-"
        print(f"{k:<{width}}  {v}")
    rest = len(result) - len(shown)
    if rest:
        print(f"({rest} more fields with --format json)")


def _inputs(args, extra: list[tuple[str, str, str]] = ()):
    """(datasets, scenario, changed keys) with the scenario file's ``data:`` cells, every ``--set`` and
    ``extra`` (name, value, origin) overrides applied (:func:`analysis.overrides.apply_all`)."""
    from . import load_datasets, load_scenario
    from .overrides import apply, apply_all, parse_sets

    ds, sc, changed = apply_all(load_datasets(), load_scenario(getattr(args, "scenario", "") or None),
                                parse_sets(getattr(args, "set", [])))
    for name, value, origin in extra:
        ds, sc, keys = apply(ds, sc, [(name, value)], origin=origin)
        changed += keys
    return ds, sc, list(dict.fromkeys(changed))


def _cmd_predict_training(args) -> int:
    from .whatif import training_run

    extra = []
    if args.mfu is not None:
        mfu = _number("mfu", args.mfu)
        if not 0 < mfu <= 1:
            raise StudyInputError("command line", f"--mfu {args.mfu} is not a fraction", expected="0 < mfu <= 1")
        extra.append(("training_mfu", args.mfu, "--mfu"))
    ds, sc, _ = _inputs(args, extra)
    r = training_run(ds, sc, params=_number("params", args.params), tokens=_number("tokens", args.tokens),
                     chip_id=args.chip,
                     chips=_number("chips", args.chips, integer=True) if args.chips is not None else None)
    _print_result(r, args.format, ["chip_id", "chips", "chips_source", "peak_tflops", "chip_hours", "chip_hours_low",
                                   "chip_hours_high", "days", "days_low", "days_high", "usd_per_chip_hour", "cost_usd",
                                   "cost_usd_low", "cost_usd_high", "cost_usd_committed", "cost_note", "price_basis",
                                   "price_source", "mfu", "mfu_basis", "mfu_source", "interval", "energy_j",
                                   "electricity_usd"])
    return 0


def _cmd_predict_decode(args) -> int:
    from .whatif import decode_run

    ds, sc, _ = _inputs(args)
    batch = _batch(args.batch)
    r = decode_run(ds, sc, model_id=args.model, chip_id=args.chip,
                   chips=_number("chips", args.chips, integer=True), batch=batch,
                   input_tokens=_number("input", args.input, integer=True),
                   output_tokens=_number("output", args.output, integer=True),
                   precision=args.precision, kv_precision=args.kv_precision)
    _print_result(r, args.format, ["model_id", "chip_id", "chips", "precision", "batch", "batch_rule", "tokens_per_s",
                                   "tokens_per_s_low", "tokens_per_s_high", "ms_per_token", "ttft_ms",
                                   "usd_per_million_tokens", "usd_per_million_tokens_low",
                                   "usd_per_million_tokens_high", "usd_per_chip_hour", "price_basis", "price_source",
                                   "bound", "decode_efficiency", "efficiency_basis", "fit_scope", "interval", "notes"])
    return 0


def _cmd_predict_allreduce(args) -> int:
    from .whatif import allreduce_run

    ds, sc, _ = _inputs(args)
    r = allreduce_run(ds, sc, args.system, _number("bytes", args.bytes),
                      systems=_number("systems", args.systems, integer=True))
    _print_result(r, args.format, ["system_id", "systems", "chips", "message_bytes", "allreduce_s", "allreduce_s_low",
                                   "allreduce_s_high", "topology", "intra_algorithm", "intra_bytes_s_per_chip",
                                   "inter_bytes_s_per_chip", "network_alpha_us", "network_efficiency", "interval"])
    return 0


def _cmd_predict_checkpoint(args) -> int:
    from .whatif import checkpoint_run

    ds, sc, _ = _inputs(args)
    r = checkpoint_run(ds, sc, args.system, params=_number("params", args.params) if args.params else None,
                       model_id=args.model or None, systems=_number("systems", args.systems, integer=True),
                       contents=args.contents)
    _print_result(r, args.format, ["system_id", "systems", "chips", "params", "contents", "checkpoint_bytes",
                                   "write_s", "write_s_low", "write_s_high", "job_mtbf_h", "job_mtbf_h_low",
                                   "job_mtbf_h_high", "young_interval_min", "young_interval_min_low",
                                   "young_interval_min_high", "daly_interval_min", "wasted_fraction",
                                   "wasted_fraction_low", "wasted_fraction_high", "interval"])
    return 0


def _cmd_compare(args) -> int:
    import json

    import pandas as pd

    from .whatif import compare_decode, compare_training

    ds, sc, _ = _inputs(args)
    if args.kind == "decode":
        if not args.model:
            raise StudyInputError("command line", "compare decode needs --model", expected="--model ID from data/workloads.csv")
        batch = _batch(args.batch)
        table, skipped = compare_decode(ds, sc, args.model, _number("chips", args.chips, integer=True), batch,
                                        _number("input", args.input, integer=True),
                                        _number("output", args.output, integer=True), precision=args.precision)
        what = f"{args.model} on {args.chips} chip(s), {args.precision}, batch {args.batch}: USD per million tokens"
    else:
        if not ((args.params or args.model) and args.tokens) or (args.params and args.model):
            raise StudyInputError("command line", "compare training needs --tokens and one of --params or --model",
                                  expected="e.g. --params 70e9 --tokens 2e12, or --model llama-3.1-70b --tokens 15e12")
        if args.model:
            from .workloads import transformer

            params, label = transformer(ds, args.model).params_active, f"{args.model} (active parameters)"
        else:
            params, label = _number("params", args.params), f"{args.params} parameters"
        table, skipped = compare_training(ds, sc, params, _number("tokens", args.tokens),
                                          _number("chips", args.chips, integer=True))
        what = f"{label} on {args.tokens} tokens, {args.chips} chips: training cost in USD"
    if args.format == "json":
        print(json.dumps({"ranked": table.to_dict("records"), "skipped": skipped.to_dict("records")}, indent=1,
                         default=float))
    elif args.format == "csv":
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    else:
        with pd.option_context("display.width", 250, "display.max_colwidth", 80):
            print(f"cheapest first: {what} (90% interval low-high)")
            print(table.to_string(index=False, float_format=lambda v: f"{v:,.4g}") if not table.empty else "(none)")
            if not skipped.empty:
                print(f"\nnot ranked ({len(skipped)}):")
                print(skipped.to_string(index=False))
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


def _add_overrides(p) -> None:
    p.add_argument("--scenario", default="", help="scenario YAML (default: baseline)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override an assumption, or a dataset cell as table.row.field=value (repeatable)")


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

    from .overrides import parse_sets

    paths = figures.export_all(_output_dir(args.out), load_study(args.scenario or None, parse_sets(args.set)))
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
    tr.add_argument("--mfu", default=None,
                    help="your model FLOPs utilisation, 0-1 (default: the fitted model; same as --set training_mfu=F)")
    _add_overrides(tr)
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
    _add_overrides(de)
    de.add_argument("--format", choices=["table", "json"], default="table")
    de.set_defaults(func=_cmd_predict_decode)
    ar = psub.add_parser("allreduce", help="time to all-reduce a gradient on a named system")
    ar.add_argument("--system", required=True, help="system id from data/systems.csv, e.g. trn2.48xlarge")
    ar.add_argument("--bytes", required=True, help="gradient bytes per chip, e.g. 140e9 (70B in BF16)")
    ar.add_argument("--systems", default="1", help="systems taking part (default 1: inside one system)")
    _add_overrides(ar)
    ar.add_argument("--format", choices=["table", "json"], default="table")
    ar.set_defaults(func=_cmd_predict_allreduce)
    cp = psub.add_parser("checkpoint", help="checkpoint size, write time and the Young-Daly interval")
    cp.add_argument("--system", required=True, help="system id from data/systems.csv")
    cp.add_argument("--systems", default="1", help="systems in the job (default 1)")
    cp.add_argument("--params", default="", help="parameters, e.g. 70e9 (or --model)")
    cp.add_argument("--model", default="", help="model id from data/workloads.csv (its total parameters)")
    cp.add_argument("--contents", choices=["full", "optimizer", "weights"], default="full",
                    help="full: weights + FP32 master + Adam (14 B/param); optimizer: 12; weights: 2")
    _add_overrides(cp)
    cp.add_argument("--format", choices=["table", "json"], default="table")
    cp.set_defaults(func=_cmd_predict_checkpoint)

    cmp_ = sub.add_parser("compare", help="which chip is cheapest: a ranked table with 90% intervals")
    cmp_.add_argument("kind", choices=["decode", "training"], help="per million tokens served, or per training run")
    cmp_.add_argument("--model", default="",
                      help="model id from data/workloads.csv (training: its active parameters, instead of --params)")
    cmp_.add_argument("--chips", default="8", help="chips per replica (decode) or in the run (training); default 8")
    cmp_.add_argument("--batch", default="max", help="decode: concurrent sequences or 'max' (default)")
    cmp_.add_argument("--precision", choices=["bf16", "fp8", "fp4"], default="bf16", help="decode precision")
    cmp_.add_argument("--input", default="1024", help="decode: prompt tokens")
    cmp_.add_argument("--output", default="1024", help="decode: generated tokens")
    cmp_.add_argument("--params", default="", help="training: active parameters, e.g. 70e9")
    cmp_.add_argument("--tokens", default="", help="training: tokens, e.g. 2e12")
    _add_overrides(cmp_)
    cmp_.add_argument("--format", choices=["table", "csv", "json"], default="table")
    cmp_.set_defaults(func=_cmd_compare)

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
    _add_overrides(figs)
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
