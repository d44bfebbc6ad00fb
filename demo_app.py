"""st_memwatch demo: one leaky path and one cached path, side by side.

Run it with `make demo` (or `streamlit run demo_app.py`) and click the buttons:
the sidebar panel shows each rerun's delta and peak, the growing object types,
the caches, and warns once the leaky path keeps growing.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import streamlit as st

import st_memwatch

st.set_page_config(page_title="st_memwatch demo", page_icon="🧠")
st_memwatch.panel()

# Module-level state survives reruns only when it lives in an imported module:
# this is the classic "global list that only grows" leak.
_registry = sys.modules.setdefault("demo_leak_registry", types.ModuleType("demo_leak_registry"))
if not hasattr(_registry, "frames"):
    _registry.frames = []


@st.cache_resource
def load_model() -> np.ndarray:
    """A stand-in for a model: 38 MiB, built once per process."""
    return np.random.default_rng(0).standard_normal(5_000_000)


@st.cache_data(max_entries=4)
def summarize(n: int) -> dict[str, float]:
    data = np.random.default_rng(n).standard_normal(200_000)
    return {"mean": float(data.mean()), "std": float(data.std())}


st.title("st_memwatch demo")
st.write(
    "Open the sidebar and watch memory while you click. "
    "**Leaky path** keeps every rerun's 8 MiB array in a module-level list; "
    "**cached path** loads its 38 MiB 'model' once with `st.cache_resource` and bounds its data cache."
)

mode = st.radio("Path", ["cached", "leaky"], horizontal=True, key="mode")
st.button("Rerun", type="primary")

if mode == "leaky":
    _registry.frames.append(np.ones(1 << 20))  # 8 MiB that nothing ever frees
    st.error(f"Leaky path: {len(_registry.frames)} arrays kept ({len(_registry.frames) * 8} MiB).")
else:
    model = load_model()
    pick = st.slider("Data slice", 0, 9, 0)
    stats = summarize(pick)
    st.success(f"Cached path: model of {model.nbytes / 2**20:.0f} MiB loaded once; slice {pick}: mean {stats['mean']:+.3f}.")

if st.button("Free the leaked arrays"):
    _registry.frames.clear()
    st.info("Cleared. RSS may stay high for a while: Python's allocator keeps freed memory.")
