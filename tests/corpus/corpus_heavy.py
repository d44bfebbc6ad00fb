"""A heavy module: building its lookup tables at import costs ~40 MB once.

Importing it is a one-time cost per process; later imports are a dict lookup in
``sys.modules``. Memory jumps on the first run and then stays flat.
"""

from __future__ import annotations

import numpy as np

# ~32 MB of float64 plus ~8 MB of small Python objects, built once at import.
PROJECTION = np.random.default_rng(7).standard_normal((2048, 2048))
VOCABULARY = {f"token_{i:06d}": i for i in range(60_000)}


def embed(tokens: list[str]) -> np.ndarray:
    ids = np.array([VOCABULARY.get(t, 0) % PROJECTION.shape[0] for t in tokens])
    return PROJECTION[ids].mean(axis=0)
