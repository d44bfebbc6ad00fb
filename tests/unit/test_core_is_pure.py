"""The core never imports streamlit or plotly: checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_neither_streamlit_nor_plotly():
    code = (
        "import sys, pkgutil, importlib, st_memwatch.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__):\n"
        "    importlib.import_module('st_memwatch.core.' + m.name)\n"
        "import st_memwatch\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'streamlit', 'plotly'})\n"
        "print(bad)\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_only_the_bridge_touches_streamlit_internals():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "st_memwatch"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "streamlit_bridge" not in p.parts and "streamlit.runtime" in p.read_text()
    ]
    assert offenders == []
