"""Holders of real leaks: ``check`` on corpus apps, then the backref search in the same process.

Each app runs in its own interpreter (as ``check`` does for a CI user), so one
app's module-level state cannot reach another's result. The search runs after
the check, while the app's modules still hold what the runs left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
RUNS = 12

PROBE = """
import json, sys
from st_memwatch.check import run_check
from st_memwatch.core.holders import find_holder_of_type
app, names = sys.argv[1], sys.argv[2:]
report = run_check(app, runs=int({runs}))
out = {{"leak": report.leak, "held": {{s["name"]: s["holds_bytes_each"] for s in report.suspects}}, "holders": {{}}}}
for name in names:
    h = find_holder_of_type(name, budget_s=5.0)
    out["holders"][name] = None if h is None else {{"kind": h.kind, "name": h.name, "chain": list(h.chain), "held": h.held, "sampled": h.sampled}}
print(json.dumps(out))
"""


def _probe(app: Path, *names: str) -> dict:
    code = PROBE.format(runs=RUNS)
    proc = subprocess.run([sys.executable, "-c", code, str(app), *names], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_handler_added_per_run_is_sized_and_charged_to_its_logger():
    out = _probe(CORPUS / "leak_logging_handlers.py", "corpus_logcapture.UILogHandler")
    assert out["leak"] is True
    # Each handler keeps 2,000 formatted lines of ~200 characters.
    assert out["held"].get("corpus_logcapture.UILogHandler", 0) > 300_000, out["held"]
    holder = out["holders"]["corpus_logcapture.UILogHandler"]
    assert holder is not None
    assert (holder["kind"], holder["name"]) == ("logging", "st_memwatch_corpus.leak_logging_handlers")
    assert holder["chain"] == [
        "logger 'st_memwatch_corpus.leak_logging_handlers'",
        ".handlers (list)",
        f"corpus_logcapture.UILogHandler x{RUNS}",
    ]
    assert holder["held"] == holder["sampled"]


def test_reports_appended_to_a_module_audit_log_are_charged_to_that_global():
    out = _probe(CORPUS / "leak_module_registry.py", "str")
    assert out["leak"] is True
    holder = out["holders"]["str"]
    assert holder is not None
    assert (holder["kind"], holder["name"]) == ("global", "corpus_registry._AUDIT_LOG")
    assert holder["chain"][:3] == ["module corpus_registry", "._AUDIT_LOG (dict)", "[key] (list)"]
    assert holder["chain"][-1].startswith("str x")
    assert not any("leak_module_registry" in step for step in holder["chain"])  # the dict's key is not shown


FAMILY_APP = """
import sys, types
import streamlit as st

box = sys.modules.setdefault("_holders_family_box", types.ModuleType("_holders_family_box"))
if not hasattr(box, "reports"):
    box.reports = []

class Report:  # a new class object on every rerun
    def __init__(self, n):
        self.rows = [f"row {i:05d} of run {n:03d}" for i in range(2_000)]

box.reports.append(Report(len(box.reports)))
st.write(len(box.reports))
"""


def test_a_class_redefined_on_every_rerun_is_one_family_in_check(tmp_path):
    app = tmp_path / "family_app.py"
    app.write_text(textwrap.dedent(FAMILY_APP))
    out = _probe(app, "__main__.Report")
    assert out["leak"] is True
    # Every rerun's instances measured: 2,000 strings of ~70 bytes and their list each.
    assert out["held"].get("__main__.Report") is not None, out["held"]
    assert out["held"]["__main__.Report"] > 100_000, out["held"]
    holder = out["holders"]["__main__.Report"]
    assert holder is not None
    assert (holder["kind"], holder["name"]) == ("global", "_holders_family_box.reports")
    assert holder["chain"] == ["module _holders_family_box", ".reports (list)", f"__main__.Report x{RUNS}"]
