"""Command line: ``survtdm1 analyze | demo | simulate | reconstruct | meta``.

Only argument handling lives here; the work is done by public functions.
Invalid input ends with exit status 2 and one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from pathlib import Path

from ._version import __version__

EXIT_INPUT = 2
EXIT_INTERNAL = 1


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _say(message: str) -> None:
    print(f"survtdm1: {message}", file=sys.stderr, flush=True)


def _analyze(plan, out: Path, quiet: bool) -> list[Path]:
    from ._preload import gc_paused

    with gc_paused():
        from .analysis import analyze, output_worker
        from .outputs import check_output_folder

    check_output_folder(out)  # a symlink or a folder locked by another run: fail before the work
    # progress goes to an interactive terminal only, so that a failing run
    # leaves exactly one line on a captured stderr
    say = _say if not quiet and sys.stderr.isatty() else (lambda m: None)
    say(f"analysing {plan}")
    # on a large cohort a second process imports the writing libraries meanwhile
    worker = output_worker(plan)
    with worker or contextlib.nullcontext():
        result = analyze(plan)
        return result.write(out, progress=say, worker=worker)


def cmd_analyze(args) -> int:
    written = _analyze(args.plan, Path(args.out), args.quiet)
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def cmd_demo(args) -> int:
    from .datasets import demo_plan

    out = Path(args.out)
    with demo_plan() as plan:
        written = _analyze(plan, out, args.quiet)
    print(f"survtdm1 demo: KATHERINE-like synthetic cohort, IDFS by biomarker; wrote to {out}/")
    for path in written:
        print(f"  {path.name}")
    return 0


def cmd_simulate(args) -> int:
    from .simulate import simulate_trial, write_cohort

    frame = simulate_trial(args.trial, seed=args.seed)
    if args.adam:
        from .simulate.adam import write_adam

        written = write_adam(frame, args.trial, args.out)
        if not args.quiet:
            names = ", ".join(path.name for path in written)
            _say(f"wrote {len(frame)} patients of a synthetic {args.trial} cohort as ADaM")
            _say(f"  {names} in {args.out}/")
        return 0
    write_cohort(frame, args.out)
    if not args.quiet:
        _say(f"wrote {len(frame)} patients of a synthetic {args.trial} cohort to {args.out}")
    return 0


def cmd_reconstruct(args) -> int:
    from .reconstruct import reconstruct_ipd

    ipd = reconstruct_ipd(args.curve, args.at_risk, total_events=args.events, n=args.n)
    if args.arm is not None:
        ipd["arm"] = args.arm
    from .outputs import write_csv

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(ipd, out)
    if not args.quiet:
        _say(f"wrote {len(ipd)} patients ({int(ipd['event'].sum())} events) to {out}")
    return 0


def cmd_meta(args) -> int:
    from .meta import interaction_meta, read_analysis_outputs, read_published_table
    from .outputs import publish, write_csv
    from .plots.save import save_figure

    if (args.table is None) == (not args.trial):
        raise _usage("meta: give either --table or one --trial NAME=PATH per trial")
    if args.table:
        trials = read_published_table(args.table)
    else:
        named = [spec.partition("=") for spec in args.trial]
        bad = [
            spec
            for spec, (name, eq, path) in zip(args.trial, named, strict=True)
            if not (name and eq and path)
        ]
        if bad:
            raise _usage(f"meta: --trial must be NAME=PATH, not {bad[0]!r}")
        trials = read_analysis_outputs({name: path for name, _, path in named})
    result = interaction_meta(trials, args.subgroup, method=args.method)

    def produce(folder: Path) -> list[Path]:
        summary = json.dumps(result.to_dict(), indent=2, allow_nan=False)
        (folder / "meta.json").write_text(summary + "\n")
        files = [write_csv(result.table, folder / "meta.csv"), folder / "meta.json"]
        return files + save_figure(result.plot(), folder / "meta")

    written = publish(args.out, produce)
    if not args.quiet:
        for path in written:
            print(path)
    return 0


def _usage(message: str):
    from .exceptions import PlanError

    return PlanError(message)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {value}")
    return value


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, not {seed}")
    return seed


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like every other bad input."""

    def error(self, message: str):
        self.exit(EXIT_INPUT, f"survtdm1: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="survtdm1",
        description="Biomarker-stratified survival analysis of clinical trial cohorts.",
    )
    parser.add_argument("--version", action="version", version=f"survtdm1 {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    analyze = commands.add_parser("analyze", help="run an analysis plan (TOML)")
    analyze.add_argument("plan", help="path to the plan file")
    analyze.add_argument("--out", required=True, help="output folder")
    analyze.add_argument("--quiet", action="store_true", help="no progress messages")
    analyze.set_defaults(run=cmd_analyze)

    demo = commands.add_parser("demo", help="run the bundled KATHERINE-like example")
    demo.add_argument("--out", default="survtdm1-demo", help="output folder")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(run=cmd_demo)

    simulate = commands.add_parser("simulate", help="write a synthetic trial cohort")
    simulate.add_argument("trial", choices=["katherine", "emilia", "kristine"])
    simulate.add_argument("--seed", type=_seed, required=True, help="non-negative integer")
    simulate.add_argument("--out", required=True, help="CSV file to write (a folder with --adam)")
    simulate.add_argument(
        "--adam",
        action="store_true",
        help="write CDISC ADaM data sets (adsl.xpt, adtte.xpt; adrs.xpt for kristine) "
        "as SAS transport files into the folder --out",
    )
    simulate.add_argument("--quiet", action="store_true")
    simulate.set_defaults(run=cmd_simulate)

    reconstruct = commands.add_parser(
        "reconstruct", help="patient data of one arm from a digitised KM curve (Guyot 2012)"
    )
    reconstruct.add_argument("--curve", required=True, help="CSV of digitised points")
    reconstruct.add_argument("--at-risk", help="CSV of the risk table: time, n_at_risk")
    reconstruct.add_argument("--events", type=_count, help="reported number of events")
    reconstruct.add_argument("--n", type=_count, help="arm size (without a risk table)")
    reconstruct.add_argument("--arm", help="add an arm column holding this label")
    reconstruct.add_argument("--out", required=True, help="CSV file to write (time, event)")
    reconstruct.add_argument("--quiet", action="store_true")
    reconstruct.set_defaults(run=cmd_reconstruct)

    meta = commands.add_parser(
        "meta", help="pool a subgroup's within-trial interactions across trials"
    )
    meta.add_argument("--table", help="CSV of published HRs: trial, level, hr, hr_lower, hr_upper")
    meta.add_argument(
        "--trial",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a trial's `analyze` output folder or its subgroups.csv (repeat per trial)",
    )
    meta.add_argument("--subgroup", required=True, help="the two-level subgroup to pool")
    meta.add_argument("--method", default="REML", choices=["REML", "DL"])
    meta.add_argument("--out", required=True, help="output folder")
    meta.add_argument("--quiet", action="store_true")
    meta.set_defaults(run=cmd_meta)
    return parser


def main(argv=None) -> int:
    from .exceptions import SurvTDM1Error

    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            status = args.run(args)
        except SurvTDM1Error as err:
            print(f"survtdm1: error: {_one_line(err)}", file=sys.stderr)
            return EXIT_INPUT
        except OSError as err:  # a file that cannot be read or written
            where = f"{err.filename}: " if getattr(err, "filename", None) else ""
            print(f"survtdm1: error: {where}{err.strerror or _one_line(err)}", file=sys.stderr)
            return EXIT_INPUT
        except Exception as err:  # noqa: BLE001 - one line, never a traceback
            print(
                f"survtdm1: internal error: {type(err).__name__}: {_one_line(err)}", file=sys.stderr
            )
            return EXIT_INTERNAL
    if not getattr(args, "quiet", False):
        for w in caught:
            if issubclass(w.category, UserWarning):
                print(f"survtdm1: warning: {w.message}", file=sys.stderr)
    return status


def run() -> None:
    """The ``survtdm1`` command: :func:`main`, then an exit without the interpreter's
    teardown (as mypy's fast exit). By then every output file is closed and published
    and every child process has ended; freeing a large run's modules and cohort one
    object at a time would only keep the shell waiting (0.15 s after a 1M-row analysis).
    """
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status or 0))


if __name__ == "__main__":
    run()
