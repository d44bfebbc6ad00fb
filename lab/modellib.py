"""A stand-in for a model library: building a model allocates its weights, and the library keeps them.

Many frameworks remember what they build (a default graph, a registry of loaded
models, a compiled-kernel cache), so loading a model in the script body on every
run keeps one more copy each time. ``st.cache_resource`` loads it once per process.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

_registry: list[np.ndarray] = []  # every model this "library" has built


def build(nbytes: int, seed: int = 0) -> np.ndarray:
    """Weights of ``nbytes`` (float32), registered with the library like a framework would."""
    weights = np.random.default_rng(seed).standard_normal(max(1, nbytes // 4), dtype=np.float32)
    _registry.append(weights)
    return weights


def models_built() -> int:
    return len(_registry)


def forget() -> None:
    """What a framework's ``clear_session()`` does: drop every model it remembers."""
    _registry.clear()


@st.cache_resource
def load_once(nbytes: int) -> np.ndarray:
    """The fix: one model per process, shared by every run and every session."""
    return build(nbytes)
