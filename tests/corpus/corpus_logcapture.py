"""A logging handler that keeps recent formatted lines so a page can show them.

The handler itself is bounded (it keeps the last ``capacity`` lines). The leak
in ``leak_logging_handlers.py`` is attaching a new one on every rerun: the
logger keeps all of them alive, each full of its own copies of the lines.
"""

from __future__ import annotations

import logging
from collections import deque

FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class UILogHandler(logging.Handler):
    """Keeps the last ``capacity`` formatted records for display in the page."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__(level=logging.INFO)
        self.lines: deque[str] = deque(maxlen=capacity)
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def app_logger(app: str) -> logging.Logger:
    """A logger private to one corpus app that does not print to the console."""
    logger = logging.getLogger(f"st_memwatch_corpus.{app}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
