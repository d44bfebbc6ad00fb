"""Server CPU and latency per rerun and per new session, with the panel against the same app without it.

Three `streamlit run` servers of ``tests/e2e/apps/load_app.py`` (one with ``panel()``
and its history file; one without; one without but with numpy imported, as a data
app has it: the panel's numpy adds its objects to each of Streamlit's post-run
collections, which such an app pays anyway), driven in rotating rounds by clients
that speak Streamlit's websocket protocol, so the machine's load falls on all alike.

Per round and server: ``--sessions`` new sessions connect and run once (a new
session's first run), then each reruns ``--reruns`` times, concurrently. What is
measured:

- server CPU: the server process's user + system time (every thread: script
  threads, the event loop, st_memwatch's sampler) over the first runs, divided by
  the sessions, and over the reruns, divided by the reruns. Latency on a shared
  machine is mostly waiting, and Streamlit's own post-run ``gc.collect(2)`` takes
  tens of milliseconds a rerun, so CPU time is the view that can see a millisecond;
- latency: from the client's rerun message to the run's ``script_finished``, p50
  and p95, with the ratio panel / each baseline.

    python benchmarks/bench_deploy_latency.py [--sessions 1,5] [--reruns 60] [--rounds 6] [--quick]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _benchutil import REPO, budget, parser, print_budgets, quantile, table, write_result

sys.path.insert(0, str(REPO / "tests" / "e2e"))
from servers import APPS, serving  # noqa: E402
from wsclient import Client  # noqa: E402

TARGET_RATIO = 1.15
CPU_RERUN_MS = 1.0
CPU_SESSION_MS = 5.0
SETTLE_S = 0.5  # after the sessions close, before the other server's round (cleanup is not the next round's)
# The same app without the panel but with numpy imported, as nearly every data app has it: numpy
# (st_memwatch's dependency) adds its objects to every post-run gc.collect(2) of the bare app.
NUMPY_BASE = "no panel, numpy"


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


async def _round(url: str, proc: psutil.Process, sessions: int, reruns: int) -> tuple[list[float], list[float], float, float]:
    """(rerun latencies, first-run latencies, server CPU s over the first runs, over the reruns)."""
    clients = [Client(url) for _ in range(sessions)]

    async def first(client: Client) -> float:
        await client.open()
        return (await client.rerun())[0]

    async def again(client: Client) -> list[float]:
        return [(await client.rerun())[0] for _ in range(reruns)]

    try:
        c0 = _cpu(proc)
        firsts = await asyncio.gather(*(first(c) for c in clients))
        c1 = _cpu(proc)
        per_session = await asyncio.gather(*(again(c) for c in clients))
        c2 = _cpu(proc)
    finally:
        for c in clients:
            await c.close()
    return [x for xs in per_session for x in xs], list(firsts), c1 - c0, c2 - c1


def measure(sessions: int, reruns: int, rounds: int) -> list[dict]:
    app = APPS / "load_app.py"
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        with (
            serving(app, logs / "panel.log", {"LOAD_APP_PANEL": "1", "ST_MEMWATCH_HISTORY": str(logs / "h.sqlite3")}) as with_panel,
            serving(app, logs / "bare.log", {"LOAD_APP_PANEL": "0"}) as without,
            serving(app, logs / "numpy.log", {"LOAD_APP_PANEL": "0", "LOAD_APP_NUMPY": "1"}) as with_numpy,
        ):
            servers = {"panel": with_panel, "no panel": without, NUMPY_BASE: with_numpy}
            procs = {name: psutil.Process(s.proc.pid) for name, s in servers.items()}
            got: dict[str, dict[str, list[float]]] = {n: {"lat": [], "first": [], "cpu_rerun": [], "cpu_session": []} for n in servers}
            names = list(servers)
            for i in range(rounds + 1):  # round 0 warms the servers up (imports, first cache fills) and is not kept
                order = names[i % 3:] + names[:i % 3]
                for name in order:
                    lat, firsts, cpu_first, cpu_reruns = asyncio.run(_round(servers[name].url, procs[name], sessions, reruns))
                    time.sleep(SETTLE_S)
                    if i == 0:
                        continue
                    g = got[name]
                    g["lat"] += lat
                    g["first"] += firsts
                    g["cpu_rerun"].append(cpu_reruns / (sessions * reruns) * 1e3)
                    g["cpu_session"].append(cpu_first / sessions * 1e3)
    rows = []
    for name, g in got.items():
        rows.append({
            "sessions": sessions,
            "variant": name,
            "reruns": len(g["lat"]),
            "new_sessions": len(g["first"]),
            "cpu_per_rerun_ms": statistics.median(g["cpu_rerun"]),
            "cpu_per_new_session_ms": statistics.median(g["cpu_session"]),
            "cpu_per_rerun_rounds_ms": g["cpu_rerun"],
            "cpu_per_new_session_rounds_ms": g["cpu_session"],
            "p50_ms": quantile(g["lat"], 0.5) * 1000,
            "p95_ms": quantile(g["lat"], 0.95) * 1000,
            "first_p50_ms": quantile(g["first"], 0.5) * 1000,
        })
    return rows


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sessions", default="1,5", help="concurrent sessions per round, comma-separated (one measurement each)")
    p.add_argument("--reruns", type=int, default=60, help="timed reruns per session and round")
    p.add_argument("--rounds", type=int, default=6, help="alternating rounds per variant")
    args = p.parse_args()
    counts = [int(x) for x in str(args.sessions).split(",") if x.strip()]
    if args.quick:
        counts, args.reruns, args.rounds = [2], 3, 1
    rows: list[dict] = []
    budgets = []
    for n in counts:
        panel, bare, numpy_base = measure(n, args.reruns, args.rounds)
        # Per round, the panel's CPU minus the same round's without it (each round runs every server once).
        for r in (bare, numpy_base):
            r["cpu_per_rerun_delta_ms"] = statistics.median(
                a - b for a, b in zip(panel["cpu_per_rerun_rounds_ms"], r["cpu_per_rerun_rounds_ms"], strict=True))
            r["cpu_per_new_session_delta_ms"] = statistics.median(
                a - b for a, b in zip(panel["cpu_per_new_session_rounds_ms"], r["cpu_per_new_session_rounds_ms"], strict=True))
            r["p50_ratio"] = panel["p50_ms"] / r["p50_ms"] if r["p50_ms"] else float("nan")
            r["p95_ratio"] = panel["p95_ms"] / r["p95_ms"] if r["p95_ms"] else float("nan")
        panel.update({"cpu_per_rerun_delta_ms": 0.0, "cpu_per_new_session_delta_ms": 0.0, "p50_ratio": 1.0, "p95_ratio": 1.0})
        rows += [panel, bare, numpy_base]
        for base in (bare, numpy_base):
            name = base["variant"]
            budgets += [
                budget(f"{n} session(s): server CPU per rerun, panel - {name}", base["cpu_per_rerun_delta_ms"], CPU_RERUN_MS, "ms"),
                budget(f"{n} session(s): server CPU per new session, panel - {name}", base["cpu_per_new_session_delta_ms"], CPU_SESSION_MS, "ms"),
                budget(f"{n} session(s): p95 rerun latency ratio, panel / {name}", base["p95_ratio"], TARGET_RATIO, "x"),
            ]
    title = f"Real server: CPU and latency, {args.rounds} alternating rounds of {args.reruns} reruns per session"
    print(table(
        ("sessions", "variant", "reruns", "CPU/rerun ms", "panel minus this", "CPU/new session ms", "panel minus this", "p50 ms", "p95 ms",
         "panel p50 ratio", "panel p95 ratio"),
        [
            (r["sessions"], r["variant"], r["reruns"], r["cpu_per_rerun_ms"], "" if is_panel else f"{r['cpu_per_rerun_delta_ms']:+.2f}",
             r["cpu_per_new_session_ms"], "" if is_panel else f"{r['cpu_per_new_session_delta_ms']:+.2f}", r["p50_ms"], r["p95_ms"],
             "" if is_panel else f"{r['p50_ratio']:.2f}x", "" if is_panel else f"{r['p95_ratio']:.2f}x")
            for r in rows
            for is_panel in [r["variant"] == "panel"]
        ],
        title,
    ))
    print_budgets(budgets)
    write_result("bench_deploy_latency", args, vars(args) | {"results_dir": str(args.results_dir)}, rows, budgets)


if __name__ == "__main__":
    main()
