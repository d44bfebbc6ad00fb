"""The core never imports streamlit or plotly: checked in a fresh interpreter.

The import contracts (test_layers) check the static graph; this runs the imports, so an
import made by name at run time (importlib) is caught too. Which modules may import
Streamlit's internals is a contract there.
"""

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

