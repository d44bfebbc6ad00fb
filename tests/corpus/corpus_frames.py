"""Frame recorder whose buffer is a class attribute.

A class attribute is created once, when the module is imported, so a list on it
survives every rerun and every session. Recording a frame per rerun, with no
bound, keeps every frame forever.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np


class FrameRecorder:
    frames: ClassVar[list[np.ndarray]] = []

    @classmethod
    def record(cls, frame: np.ndarray) -> int:
        cls.frames.append(frame)
        return len(cls.frames)

    @classmethod
    def latest(cls) -> np.ndarray | None:
        return cls.frames[-1] if cls.frames else None
