"""``st-memwatch`` / ``python -m st_memwatch``: the headless leak check for CI.

Exit status: 0 no leak, 1 leak found, 2 the app could not be checked. With
``--json`` standard output is exactly one JSON object whatever happens, and
everything Streamlit logs goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

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
    check = sub.add_parser("check", help="run an app N times headless and report leaks")
    check.add_argument("app", help="path to the Streamlit script")
    check.add_argument("--runs", type=int, default=30, help="number of runs (default 30, at least 10)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    check.add_argument("--limit", default=None, help='memory limit for the trend, e.g. "2.7GB" (default: resolved)')
    check.add_argument("--timeout", type=float, default=60.0, help="seconds allowed per run (default 60)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from st_memwatch.check import CheckError, format_report, report_json, run_check

    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # anything the app prints must not corrupt the report
    try:
        report = run_check(args.app, runs=args.runs, limit=args.limit, timeout_s=args.timeout)
    except CheckError as exc:
        sys.stdout = real_stdout
        if args.json:
            print(json.dumps({"error": str(exc), "leak": None, "app": args.app}))
        print(f"st-memwatch: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug of ours: still a clear line and a valid JSON object
        sys.stdout = real_stdout
        message = f"internal error: {type(exc).__name__}: {exc}"
        if args.json:
            print(json.dumps({"error": message, "leak": None, "app": args.app}))
        print(f"st-memwatch: {message}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        sys.stdout = real_stdout
    print(report_json(report) if args.json else format_report(report))
    return EXIT_LEAK if report.leak else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
