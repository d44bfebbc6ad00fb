"""(c) Python objects that own native buffers (6 MiB each), kept in a module-level registry.

Each ``NativeHandle`` is a small Python object; its buffer is a C block. Nothing tells
st_memwatch its size (no sizer is registered), as with an unknown library's handles.
"""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import native_support  # noqa: E402

import st_memwatch  # noqa: E402

st_memwatch.panel()
handle = native_support.NativeHandle(native_support.size(6 * native_support.MiB))
native_support.registry[len(native_support.registry)] = handle
st.write(f"Handles in the registry: {len(native_support.registry)}")
