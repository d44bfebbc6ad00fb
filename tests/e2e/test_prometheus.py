"""A real Prometheus (Debian's package) scrapes a real `streamlit run` and answers for st_memwatch's gauges.

Prometheus listens on 127.0.0.1 at a free port, with a temporary configuration and
storage directory, and loads the alert rule from ``docs/prometheus.md`` as written
there. A missing ``prometheus`` binary is a failure, never a skip (``make test``
installs it). The app runs with ``ST_MEMWATCH_METRICS=public``, the opt-in the docs
give a Prometheus deployment; without it a scraper gets none of the figures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _gauge_server import GAUGE_APP, REPO_ROOT, free_port, log_tail, streamlit_server, wait_http

from st_memwatch.core.ledger import OWNERS

pytestmark = pytest.mark.e2e

PROMETHEUS_ENV = "ST_MEMWATCH_PROMETHEUS"
DOCS = REPO_ROOT / "docs" / "prometheus.md"
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SCRAPE_WAIT_S = 60.0


def prometheus_binary() -> str:
    found = os.environ.get(PROMETHEUS_ENV) or shutil.which("prometheus") or "/usr/bin/prometheus"
    if not (os.path.isfile(found) and os.access(found, os.X_OK)):
        pytest.fail(f"Prometheus not found at {found!r}: install Debian's 'prometheus' package or set {PROMETHEUS_ENV}")
    return found


def alert_rules_from_docs() -> str:
    text = DOCS.read_text()
    match = re.search(r"<!-- alert-rules:[^>]*-->\s*```yaml\n(.*?)```", text, re.S)
    assert match, f"no alert-rules block in {DOCS}"
    return match.group(1)


def open_once(browser: Any, url: str) -> None:
    """One session runs the script once: that first run registers the gauges."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.locator(IDLE_APP).wait_for(timeout=30_000)
        page.get_by_text("Idle").wait_for(timeout=30_000)
    finally:
        context.close()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def fetch_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


@pytest.fixture(scope="module")
def app(browser: Any, artifacts: Path) -> Iterator[str]:
    from importlib.metadata import version

    log = artifacts / f"server-prometheus-app-streamlit-{version('streamlit')}.log"
    with streamlit_server(GAUGE_APP, log, env={"GAUGE_TEST_LIMIT": "2GiB", "ST_MEMWATCH_METRICS": "public"}) as url:
        open_once(browser, url)
        yield url


@pytest.fixture(scope="module")
def prometheus(app: str, tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("prometheus")
    target = urllib.parse.urlparse(app).netloc
    (workdir / "rules.yml").write_text(alert_rules_from_docs())
    (workdir / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - rules.yml\n"
        "scrape_configs:\n"
        "  - job_name: my-streamlit-app\n"
        "    metrics_path: /_stcore/metrics\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    port = free_port()
    log = artifacts / "prometheus.log"
    cmd = [
        prometheus_binary(),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=info",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/-/ready", proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def query(base: str, expr: str) -> list[dict[str, Any]]:
    answer = get_json(f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def wait_for_series(base: str, expr: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while time.monotonic() < deadline:
        result = query(base, expr)
        if result:
            return result
        time.sleep(0.5)
    targets = get_json(f"{base}/api/v1/targets")
    pytest.fail(f"Prometheus has no {expr} after {SCRAPE_WAIT_S:.0f} s; targets: {json.dumps(targets)[:1500]}")


def test_prometheus_scrapes_the_gauges(app: str, prometheus: str, artifacts: Path) -> None:
    result = wait_for_series(prometheus, "st_memwatch_rss_bytes")
    assert len(result) == 1
    series = result[0]
    assert series["metric"]["job"] == "my-streamlit-app"
    rss = float(series["value"][1])
    assert 20 * 1024**2 < rss < 20 * 1024**3, rss
    # The scrape parsed cleanly (a malformed family would show here as the target's error).
    targets = get_json(f"{prometheus}/api/v1/targets")["data"]["activeTargets"]
    assert [t["health"] for t in targets] == ["up"], [(t["health"], t.get("lastError")) for t in targets]
    limit = query(prometheus, "st_memwatch_limit_bytes")
    assert float(limit[0]["value"][1]) == 2 * 1024**3  # the app's panel(limit="2GiB")
    runs = wait_for_series(prometheus, 'st_memwatch_runs_total{outcome="success"}')
    assert float(runs[0]["value"][1]) >= 1
    outcomes = {s["metric"]["outcome"] for s in query(prometheus, "st_memwatch_runs_total")}
    assert outcomes == {"success", "exception", "rerun", "stopped"}
    # Labels are fixed words: besides Prometheus's own, outcome, level and the ledger's owner,
    # whose values are the ledger's own words (never a cache's, a session's or a type's name).
    for s in query(prometheus, '{__name__=~"st_memwatch_.*"}'):
        assert set(s["metric"]) - {"__name__", "job", "instance"} <= {"outcome", "level", "owner"}, s["metric"]
    owners = {s["metric"]["owner"] for s in query(prometheus, "st_memwatch_memory_owner_bytes")}
    assert owners and owners <= set(OWNERS), owners
    assert "python" in owners, owners
    # The docs' queries across replicas run as written.
    share = query(prometheus, 'max by (job) (st_memwatch_rss_bytes{job="my-streamlit-app"} / st_memwatch_limit_bytes{job="my-streamlit-app"})')
    assert 0 < float(share[0]["value"][1]) < 1
    assert query(prometheus, 'sum by (job) (st_memwatch_leak{job="my-streamlit-app"})')
    # The alert rule from the docs loaded and evaluates (+Inf to the limit: not firing).
    deadline = time.monotonic() + 30
    rules: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        groups = get_json(f"{prometheus}/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and rules[0].get("lastEvaluation", "").startswith("20") and rules[0].get("health") != "unknown":
            break
        time.sleep(0.5)
    assert [r["name"] for r in rules] == ["StreamlitMemoryLimitSoon"], rules
    assert rules[0]["health"] == "ok", rules[0]
    assert rules[0]["state"] == "inactive", rules[0]
    direct = fetch_text(app.rstrip("/") + "/_stcore/metrics")
    (artifacts / "metrics_sample.txt").write_text(direct)
    assert "# TYPE st_memwatch_rss_bytes gauge" in direct


def test_metrics_off_removes_them(browser: Any, artifacts: Path) -> None:
    from importlib.metadata import version

    log = artifacts / f"server-metrics-off-streamlit-{version('streamlit')}.log"
    with streamlit_server(GAUGE_APP, log, env={"ST_MEMWATCH_METRICS": "off"}) as url:
        open_once(browser, url)
        text = fetch_text(url.rstrip("/") + "/_stcore/metrics")
    assert "st_memwatch_" not in text, text[:500]
    assert "Traceback" not in log_tail(log, 200)


def test_without_the_opt_in_a_scraper_gets_none_of_the_figures(browser: Any, artifacts: Path) -> None:
    """The default: the figures go only to browsers whose panel is shown, never to a cookie-less scrape."""
    from importlib.metadata import version

    log = artifacts / f"server-metrics-default-streamlit-{version('streamlit')}.log"
    env = {key: "" for key in ("ST_MEMWATCH_METRICS", "ST_MEMWATCH_TOKEN")}
    with streamlit_server(GAUGE_APP, log, env=env) as url:
        context = browser.new_context()
        try:
            page = context.new_page()  # a local browser: its panel is shown, and its own requests are answered
            page.goto(url)
            page.locator(IDLE_APP).wait_for(timeout=30_000)
            page.get_by_text("Idle").wait_for(timeout=30_000)
            own = page.evaluate("() => fetch('/_stcore/metrics', {cache: 'no-store'}).then(r => r.text())")
            text = fetch_text(url.rstrip("/") + "/_stcore/metrics")
            wanted = fetch_text(url.rstrip("/") + "/_stcore/metrics?families=st_memwatch_rss_bytes")
        finally:
            context.close()
    assert "# TYPE st_memwatch_rss_bytes gauge" in own, own[:500]
    assert "st_memwatch_" not in text, text[:500]
    assert "st_memwatch_" not in wanted, wanted[:500]
    assert "Traceback" not in log_tail(log, 200)
