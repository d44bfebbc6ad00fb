"""Precision and recall of the leak verdict over the corpus in tests/corpus/.

Each app is checked in its own interpreter (``st_memwatch.testing.check_app``),
so module-level leaks of one app never reach another. Also checks the example
pages that ship inside the streamlit package (``streamlit hello``), which must
not be called leaks.

    python benchmarks/corpus_accuracy.py [--runs 30] [--workers 2] [--json PATH] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
sys.path.insert(0, str(ROOT))

from st_memwatch.testing import check_app  # noqa: E402


@dataclass
class Outcome:
    app: str
    expected_leak: bool
    leak: bool | None
    culprit: str | None
    culprit_rank: int | None  # 1-based rank among suspects, None when absent
    top3: list[str]
    leaking: list[str]  # suspects flagged as leaking: none expected for a look-alike
    seconds: float
    error: str = ""
    reason: str = ""


def load_manifest() -> list[dict[str, Any]]:
    return json.loads((CORPUS / "manifest.json").read_text())


def hello_pages() -> list[Path]:
    import streamlit

    hello = Path(streamlit.__file__).parent / "hello"
    return sorted(p for p in hello.glob("*.py") if p.name not in {"__init__.py", "utils.py", "streamlit_app.py"})


def _check(path: Path, expected: bool, culprit: dict[str, str] | None, runs: int) -> Outcome:
    t0 = time.perf_counter()
    report = check_app(path, runs=runs)
    names = [f"{s['kind']}:{s['name']}" for s in report.get("suspects", [])]
    want = f"{culprit['kind']}:{culprit['name']}" if culprit else None
    rank = names.index(want) + 1 if want in names else None
    return Outcome(
        app=path.name,
        expected_leak=expected,
        leak=report.get("leak"),
        culprit=want,
        culprit_rank=rank,
        top3=names[:3],
        leaking=[n for n, s in zip(names, report.get("suspects", []), strict=True) if s.get("leaking")],
        seconds=round(time.perf_counter() - t0, 1),
        error=report.get("error") or "",
        reason=report.get("verdict_reason", ""),
    )


def evaluate(runs: int = 30, workers: int = 2, include_hello: bool = True, only: list[str] | None = None) -> dict[str, Any]:
    jobs: list[tuple[Path, bool, dict[str, str] | None]] = []
    for entry in load_manifest():
        if only and entry["app"] not in only:
            continue
        jobs.append((CORPUS / entry["app"], bool(entry["leak"]), entry.get("culprit")))
    if include_hello:
        jobs += [(page, False, None) for page in hello_pages()]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda job: _check(job[0], job[1], job[2], runs), jobs))
    tp = sum(o.leak is True and o.expected_leak for o in outcomes)
    fp = sum(o.leak is True and not o.expected_leak for o in outcomes)
    fn = sum(o.leak is not True and o.expected_leak for o in outcomes)
    tn = sum(o.leak is False and not o.expected_leak for o in outcomes)
    culprit_hits = sum(o.culprit_rank is not None and o.culprit_rank <= 3 for o in outcomes if o.expected_leak and o.culprit)
    culprits = sum(1 for o in outcomes if o.expected_leak and o.culprit)
    import streamlit

    return {
        "streamlit": streamlit.__version__,
        "runs": runs,
        "apps": len(outcomes),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "culprit_in_top3": f"{culprit_hits}/{culprits}",
        "outcomes": [asdict(o) for o in outcomes],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "corpus_accuracy.json"))
    parser.add_argument("--quick", action="store_true", help="two apps, 10 runs: a smoke run")
    args = parser.parse_args()
    if args.quick:
        manifest = load_manifest()
        pick = [next(e["app"] for e in manifest if e["leak"]), next(e["app"] for e in manifest if not e["leak"])]
        result = evaluate(runs=10, workers=args.workers, include_hello=False, only=pick)
    else:
        result = evaluate(runs=args.runs, workers=args.workers)
    print(f"Streamlit {result['streamlit']}, {result['runs']} runs per app")
    print(f"{'app':38} {'expected':>8} {'verdict':>8} {'culprit rank':>12} {'s':>5}  top suspects")
    for o in result["outcomes"]:
        verdict = "ERROR" if o["error"] else ("leak" if o["leak"] else "ok")
        print(
            f"{o['app']:38} {('leak' if o['expected_leak'] else 'ok'):>8} {verdict:>8} "
            f"{(o['culprit_rank'] or '-')!s:>12} {o['seconds']:>5}  {', '.join(o['top3'])[:90]}"
        )
    print(
        f"\nprecision {result['precision']:.2f}  recall {result['recall']:.2f}  "
        f"(tp {result['tp']}, fp {result['fp']}, fn {result['fn']}, tn {result['tn']}); "
        f"culprit in top 3: {result['culprit_in_top3']}"
    )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
