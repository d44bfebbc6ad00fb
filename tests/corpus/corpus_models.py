"""A stand-in for an ML framework that tracks every model it builds.

Real frameworks keep global state about the models they construct (a default
graph, a registry of layers, hooks); then loading a model on every rerun keeps
every copy alive even though the script drops its reference. ``TinyModel``
mimics that by registering itself in a module-level list.
"""

from __future__ import annotations

import numpy as np

WEIGHTS_SHAPE = (384, 512)  # float64: 1.5 MiB of weights

# Every model ever constructed in this process, as a framework's global graph would hold it.
_LIVE_MODELS: list[TinyModel] = []


class TinyModel:
    def __init__(self, name: str, seed: int = 0, shape: tuple[int, int] = WEIGHTS_SHAPE) -> None:
        self.name = name
        self.weights = np.random.default_rng(seed).standard_normal(shape)
        _LIVE_MODELS.append(self)

    @classmethod
    def load(cls, name: str, seed: int = 0, shape: tuple[int, int] = WEIGHTS_SHAPE) -> TinyModel:
        return cls(name, seed, shape)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x @ self.weights[: x.shape[-1]]


def live_model_count() -> int:
    return len(_LIVE_MODELS)
