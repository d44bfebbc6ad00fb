"""Rerun latency on a real server with the panel against the same app without it, side by side.

Two `streamlit run` servers of ``tests/e2e/apps/load_app.py`` (one with
``panel()`` and its history file, one without), driven in alternating rounds by
clients that speak Streamlit's websocket protocol, so the machine's load falls
on both alike. Each rerun is timed from the client's rerun message to the run's
``script_finished``. Prints p50 / p95 per variant and the p95 ratio.

    python benchmarks/bench_deploy_latency.py [--sessions 5] [--reruns 30] [--rounds 4] [--quick]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from _benchutil import REPO, budget, parser, print_budgets, quantile, table, write_result

sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import APPS, serving  # noqa: E402
from wsclient import Client  # noqa: E402

TARGET_RATIO = 1.15


async def _round(url: str, sessions: int, reruns: int) -> list[float]:
    async def one() -> list[float]:
        client = Client(url)
        await client.open()
        try:
            await client.rerun()  # the session's first run (imports, first cache fills) is not timed
            return [(await client.rerun())[0] for _ in range(reruns)]
        finally:
            await client.close()

    per_session = await asyncio.gather(*(one() for _ in range(sessions)))
    return [x for xs in per_session for x in xs]


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=5, help="concurrent sessions per round")
    p.add_argument("--reruns", type=int, default=30, help="timed reruns per session and round")
    p.add_argument("--rounds", type=int, default=4, help="alternating rounds per variant")
    args = p.parse_args()
    if args.quick:
        args.sessions, args.reruns, args.rounds = 2, 3, 1
    app = APPS / "load_app.py"
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        with (
            serving(app, logs / "panel.log", {"LOAD_APP_PANEL": "1", "ST_MEMWATCH_HISTORY": str(logs / "h.sqlite3")}) as with_panel,
            serving(app, logs / "bare.log", {"LOAD_APP_PANEL": "0"}) as without,
        ):
            times: dict[str, list[float]] = {"panel": [], "no panel": []}
            for i in range(args.rounds):
                order = [("panel", with_panel), ("no panel", without)]
                if i % 2:
                    order.reverse()
                for name, server in order:
                    times[name].extend(asyncio.run(_round(server.url, args.sessions, args.reruns)))
    rows = []
    for name, xs in times.items():
        rows.append({"variant": name, "reruns": len(xs), "p50_ms": quantile(xs, 0.5) * 1000, "p95_ms": quantile(xs, 0.95) * 1000})
    ratio = rows[0]["p95_ms"] / rows[1]["p95_ms"] if rows[1]["p95_ms"] else float("nan")
    title = f"Rerun latency on a real server, {args.sessions} sessions at once, {args.rounds} alternating rounds"
    print(table(("variant", "reruns", "p50 ms", "p95 ms"), [(r["variant"], r["reruns"], r["p50_ms"], r["p95_ms"]) for r in rows], title))
    print(f"p95 ratio panel / no panel: {ratio:.2f}x (target within {TARGET_RATIO:.2f}x)")
    budgets = [budget("p95 rerun latency ratio, panel / no panel", ratio, TARGET_RATIO, "x")]
    print_budgets(budgets)
    write_result("bench_deploy_latency", args, vars(args) | {"results_dir": str(args.results_dir)}, rows, budgets, ratio=ratio)


if __name__ == "__main__":
    main()
