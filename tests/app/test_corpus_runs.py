"""The leak corpus must keep running: each app reruns cleanly in one AppTest session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
RUNS = 5


def test_manifest_matches_corpus() -> None:
    listed = [entry["app"] for entry in MANIFEST]
    on_disk = sorted(p.name for p in CORPUS.glob("*.py") if p.name.startswith(("leak_", "ok_")))
    assert len(listed) == len(set(listed)), "an app is listed twice"
    assert sorted(listed) == on_disk
    for entry in MANIFEST:
        assert entry["leak"] == entry["app"].startswith("leak_"), entry["app"]
        assert isinstance(entry["pattern"], str) and entry["pattern"]
        if entry["leak"]:
            assert entry["culprit"]["kind"] in {"type", "cache", "session_state", "global", "class", "handlers", "lru_cache", "registry"}, entry["app"]
            assert entry["culprit"]["name"], entry["app"]
            assert entry["expected_advice_keyword"], entry["app"]
        else:
            assert entry["culprit"] is None, entry["app"]
            assert entry["expected_advice_keyword"] is None, entry["app"]


@pytest.mark.parametrize("app", [entry["app"] for entry in MANIFEST])
def test_app_reruns_without_exception(app: str) -> None:
    at = AppTest.from_file(str(CORPUS / app), default_timeout=30)
    for run in range(1, RUNS + 1):
        at.run(timeout=30)
        assert not at.exception, f"{app} raised on run {run}: {[e.value for e in at.exception]}"
    assert at.session_state["run_no"] >= RUNS
