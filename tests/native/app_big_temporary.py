"""(e) A big temporary: 200 MiB malloc'ed, written, and freed on every run.

A peak in every run, and nothing kept: never a leak.
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import native_support  # noqa: E402

import st_memwatch  # noqa: E402

st_memwatch.panel()
nbytes = native_support.size(200 * native_support.MiB)
address = native_support.malloc(nbytes)
try:
    checksum = nbytes // native_support.MiB
finally:
    native_support.free(address)
st.write(f"Worked through a {checksum} MiB temporary and freed it")
