"""The wheel carries the gauge's bundle, byte for byte as committed (so `pip install .` needs no Node.js)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "st_memwatch" / "ui" / "frontend_build"


def test_wheel_contains_the_committed_bundle(tmp_path: Path) -> None:
    files = sorted(p for p in BUNDLE.rglob("*") if p.is_file())
    assert {p.relative_to(BUNDLE).as_posix() for p in files} >= {"v1/index.html", "v1/gauge.js", "v2/gauge.js"}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("st_memwatch-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        for path in files:
            name = path.relative_to(ROOT).as_posix()
            assert zf.read(name) == path.read_bytes(), name
