"""The leak verdict over the corpus of real-world leak patterns and their look-alikes.

Every app runs in its own interpreter through the public ``check`` command, so
one app's module-level state cannot reach another's verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from st_memwatch.testing import check_app

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
RUNS = 24


# `make test` runs the quiet apps of the corpus on the newest Streamlit only (CI time): the leaks,
# whose culprits have differed between versions, run on both.
QUIET_ON_NEWEST = [pytest.mark.newest_only]


@pytest.mark.parametrize(
    "entry",
    [pytest.param(e, marks=() if e["leak"] else QUIET_ON_NEWEST) for e in MANIFEST],
    ids=[e["app"] for e in MANIFEST],
)
def test_verdict_and_culprit(entry):
    report = check_app(CORPUS / entry["app"], runs=RUNS)
    assert not report.get("error"), report.get("error")
    suspects = [f"{s['kind']}:{s['name']}" for s in report["suspects"]]
    assert report["leak"] is entry["leak"], f"{entry['pattern']}: {report['verdict_reason']}; suspects {suspects}"
    if entry["leak"] and entry.get("culprit"):
        culprit = f"{entry['culprit']['kind']}:{entry['culprit']['name']}"
        assert suspects[:1] == [culprit], f"{culprit} is not named first: {suspects[:3]}"
        assert report["suspects"][suspects.index(culprit)]["leaking"], report["suspects"][suspects.index(culprit)]
        advice = report["suspects"][suspects.index(culprit)]["advice"]
        keyword = entry.get("expected_advice_keyword")
        if keyword:
            assert keyword.lower() in advice.lower(), advice
    if not entry["leak"]:
        assert not [s for s in report["suspects"] if s["leaking"]], report["suspects"]


def _hello_pages():
    import streamlit

    hello = Path(streamlit.__file__).parent / "hello"
    return sorted(p for p in hello.glob("*.py") if p.name not in {"__init__.py", "utils.py", "streamlit_app.py"})


# Streamlit's hello pages animate with time.sleep (about 5 s a run): the same page, run with its
# pauses capped at a few milliseconds, allocates and draws the same; only the waiting goes.
FAST_PAUSES = """import time as _time
if not getattr(_time.sleep, "_capped", False):
    _sleep = _time.sleep
    def _capped(seconds, _sleep=_sleep):
        _sleep(min(seconds, 0.002))
    _capped._capped = True
    _time.sleep = _capped
__file__ = {path!r}
exec(compile(open(__file__).read(), __file__, "exec"))
"""


# The two animated pages cost several seconds of CPU a run: newest Streamlit only in `make test`.
HEAVY_PAGES = {"animation_demo.py", "plotting_demo.py"}


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=QUIET_ON_NEWEST if p.name in HEAVY_PAGES else ()) for p in _hello_pages()],
    ids=lambda p: p.name,
)
def test_streamlit_hello_pages_are_not_leaks(page, tmp_path):
    script = tmp_path / page.name
    script.write_text(FAST_PAUSES.format(path=str(page)))
    report = check_app(script, runs=12)
    assert not report.get("error"), report.get("error")
    assert report["leak"] is False, report["verdict_reason"]
