"""Lesson 2's two cached functions: the same work, one cache unbounded and one bounded."""

from __future__ import annotations

import numpy as np
import streamlit as st

BOUND = 5


def _features(seed: int, nbytes: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(max(1, nbytes // 8))


@st.cache_data
def features_unbounded(seed: int, nbytes: int) -> np.ndarray:
    """Every new ``seed`` adds an entry, forever."""
    return _features(seed, nbytes)


@st.cache_data(max_entries=BOUND, ttl=3600)
def features_bounded(seed: int, nbytes: int) -> np.ndarray:
    """At most BOUND entries, none older than an hour."""
    return _features(seed, nbytes)
