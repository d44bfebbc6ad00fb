"""``st-memwatch`` / ``python -m st_memwatch``: the headless leak check for CI.

Exit status: 0 no leak, 1 leak found, 2 the app could not be checked (it did not
compile, raised on every run, crashed, hung past ``--timeout``, ran out of
memory). With ``--json`` standard output is exactly one JSON object whatever
happens; what the app prints and Streamlit logs go to standard error.

The check runs in a child process (``st_memwatch.sandbox``), and by default it
explores the app as a visitor would (``st_memwatch.explore``): most leaks sit
behind a click, an option or a page, not at the widgets' defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from st_memwatch import report

EXIT_OK, EXIT_LEAK, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 as well; keep --json valid
        if "--json" in sys.argv:
            print(json.dumps({"error": message, "leak": None}))
        self.print_usage(sys.stderr)
        print(f"st-memwatch: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="st-memwatch", description="Memory tools for Streamlit apps.")
    sub = parser.add_subparsers(dest="command", required=True)
    report.add_parser(sub)
    check = sub.add_parser("check", help="run an app N times headless, acting on it like a visitor, and report leaks")
    check.add_argument("app", help="path to the Streamlit script")
    check.add_argument("--runs", type=int, default=30, help="number of runs per check (default 30, at least 10)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    check.add_argument("--limit", default=None, help='memory limit for the trend, e.g. "2.7GB" (default: resolved)')
    check.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per run; a run over it ends the check (default 60)")
    check.add_argument("--max-memory", default=None, help='stop the app when its process uses more, e.g. "2GB" (default: 90%% of the resolved limit)')
    mode = check.add_mutually_exclusive_group()
    mode.add_argument("--explore", dest="explore", action="store_true", default=True, help="act on the app's widgets and pages like a visitor (default)")
    mode.add_argument("--no-explore", dest="explore", action="store_false", help="run with every widget at its default only")
    mode.add_argument("--scenario", default=None, metavar="DRIVER.py", help="act on the app with def drive(at, run) from this file (or FILE.py:function) instead")
    check.add_argument("--seed", type=int, default=0, help="seed of the exploration's choices (default 0)")
    check.add_argument(
        "--budget", type=float, default=None, metavar="SECONDS",
        help="time for exploring and re-checking (default 60; the plain check always ends its runs; not with --thorough)",
    )
    check.add_argument(
        "--thorough", action="store_true",
        help="the long check: every run made, every interaction's block to its end, one check process at a time",
    )
    return parser


def _max_memory(value: str | None) -> int | None:
    from st_memwatch.check import CheckError
    from st_memwatch.core.limits import parse_limit

    if value is not None:
        try:
            return parse_limit(value)
        except ValueError as exc:
            raise CheckError(f"--max-memory: {exc}") from None
    try:
        from st_memwatch.core.limits import resolve_limit

        return int(resolve_limit(None).bytes * 0.9)
    except Exception:  # no limit to read: no cap rather than a guess
        return None


def run(args: argparse.Namespace) -> tuple[int, dict[str, Any], str]:
    """The check as the command runs it: (exit status, JSON object, readable text)."""
    from st_memwatch.check import CheckError, validate_app
    from st_memwatch.explore import split_scenario
    from st_memwatch.sandbox import SandboxLimits, check_in_sandbox
    from st_memwatch.tour import DEFAULT_BUDGET_S, explore_check

    try:
        validate_app(args.app)
        if not isinstance(args.runs, int) or args.runs < 10:
            raise CheckError(f"invalid --runs {args.runs!r}: expected a whole number >= 10")
        if not 0 < args.timeout < float("inf"):
            raise CheckError(f"invalid --timeout {args.timeout!r}: expected seconds per run, a number greater than 0")
        if args.limit is not None:
            from st_memwatch.core.limits import parse_limit

            try:
                parse_limit(args.limit)
            except ValueError as exc:
                raise CheckError(f"--limit: {exc}") from None
        if args.budget is not None and not 0 < args.budget < float("inf"):
            raise CheckError(f"invalid --budget {args.budget!r}: expected seconds, a number greater than 0")
        if args.budget is not None and args.thorough:
            raise CheckError("--budget and --thorough do not go together: the thorough check has no time budget")
        limits = SandboxLimits(timeout_s=args.timeout, max_memory=_max_memory(args.max_memory))
        if args.scenario:
            path, func = split_scenario(args.scenario)
            outcome = check_in_sandbox(args.app, args.runs, args.limit, limits, {"kind": "scenario", "path": path, "func": func})
        elif args.explore:
            budget = DEFAULT_BUDGET_S if args.budget is None else args.budget
            outcome = explore_check(args.app, args.runs, args.limit, limits, seed=args.seed, thorough=args.thorough, budget_s=budget)
        else:
            outcome = check_in_sandbox(args.app, args.runs, args.limit, limits, settle=not args.thorough)
    except CheckError as exc:
        return EXIT_ERROR, {"error": str(exc), "leak": None, "app": args.app}, f"st-memwatch: {exc}"
    if outcome.report is None:
        payload = {"error": outcome.error, "leak": None, "app": args.app, "sandbox": outcome.sandbox}
        return EXIT_ERROR, payload, f"st-memwatch: {outcome.error}"
    report = dict(outcome.report)
    report.setdefault("trigger", None)
    report["sandbox"] = outcome.sandbox
    return (EXIT_LEAK if report.get("leak") else EXIT_OK), report, outcome.text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "report":
        return report.command(args)
    try:
        status, payload, text = run(args)
    except Exception as exc:  # a bug of ours: still a clear line and a valid JSON object
        status, text = EXIT_ERROR, f"st-memwatch: internal error: {type(exc).__name__}: {exc}"
        payload = {"error": text.removeprefix("st-memwatch: "), "leak": None, "app": args.app}
    if args.json:
        print(json.dumps(payload))
    if status == EXIT_ERROR:
        print(text, file=sys.stderr)
    elif not args.json:
        print(text)
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
