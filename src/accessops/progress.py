"""Progress on stderr for work that takes more than a moment, only on a terminal."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DELAY = 0.5  # seconds before anything is shown: quick work stays quiet


class Progress:
    """``label n/total`` on stderr, only when it is a terminal and the work takes a moment."""

    def __init__(self, label: str, total: int, stream: Any = None) -> None:
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)()) and total > 0
        self.started = time.monotonic()
        self.shown = False

    def step(self, done: int) -> None:
        """Report ``done`` of ``total``."""
        if self.enabled and time.monotonic() - self.started > DELAY:
            self.stream.write(f"\r{self.label} {done}/{self.total}")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        """Finish the progress line."""
        if self.shown:
            self.stream.write("\n")


@contextmanager
def working(message: str, stream: Any = None) -> Iterator[None]:
    """Say ``message...`` if the block is still running after a moment, then how long it took."""
    stream = stream or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        yield
        return
    started = time.monotonic()
    shown = threading.Event()

    def show() -> None:
        stream.write(f"{message}...")
        stream.flush()
        shown.set()

    timer = threading.Timer(DELAY, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            stream.write(f" done in {time.monotonic() - started:.1f}s\n")
            stream.flush()
