"""The layering contracts in pyproject.toml ([tool.importlinter]) hold: run `lint-imports` as CI would.

Core imports nothing above it, ui sits over the bridge over core, only the bridge imports
Streamlit internals, and no sibling modules import each other in a cycle. The graph is
static and includes imports inside functions; test_core_is_pure adds what only running
the imports can show.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = 4


def test_the_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    assert lint.exists(), f"{lint} not found: install the test extra (pip install -e '.[test]')"
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    kept = re.search(r"Contracts: (\d+) kept, 0 broken", output)
    assert kept and int(kept.group(1)) >= CONTRACTS, output
