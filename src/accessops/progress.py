"""Progress on stderr for work that takes more than a moment.

On a terminal, one line redrawn in place (``\\r``) after half a second. In a
CI log, which is not a terminal and where ``\\r`` redraws pile up as noise,
a whole line at most every :data:`INTERVAL` seconds, so a long read or
apply shows it is alive and how far it got. Quick work prints nothing in
either place.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

DELAY = 0.5  # seconds before anything is shown on a terminal: quick work stays quiet
INTERVAL = 5.0  # seconds between progress lines in a log (not a terminal)


def _is_terminal(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """``label n/total`` on stderr: redrawn on a terminal, a throttled line in a log."""

    def __init__(self, label: str, total: int, stream: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.clock = clock
        self.terminal = _is_terminal(self.stream)
        self.enabled = total > 0
        self.started = self.last_line = clock()
        self.done = 0
        self.shown = False

    def step(self, done: int) -> None:
        """Report ``done`` of ``total``."""
        self.done = done
        if not self.enabled:
            return
        now = self.clock()
        if self.terminal:
            if now - self.started > DELAY:
                self.stream.write(f"\r{self.label} {done}/{self.total}")
                self.stream.flush()
                self.shown = True
        elif now - self.last_line >= INTERVAL:
            self.last_line = now
            percent = 100 * done // self.total
            self.stream.write(f"{self.label} {done}/{self.total} ({percent}%, {now - self.started:.0f}s)\n")
            self.stream.flush()
            self.shown = True

    def close(self) -> None:
        """Finish the progress line; in a log, say where it ended if anything was shown."""
        if not self.shown:
            return
        if self.terminal:
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label} {self.done}/{self.total} in {self.clock() - self.started:.1f}s\n")
        self.stream.flush()


@contextmanager
def working(message: str, stream: Any = None) -> Iterator[None]:
    """Say ``message...`` while the block runs, if it takes a moment, then how long it took.

    On a terminal: once, after :data:`DELAY`. In a log: a line every
    :data:`INTERVAL` seconds (``message... (15s)``) and a closing one.
    """
    stream = stream or sys.stderr
    terminal = _is_terminal(stream)
    started = time.monotonic()
    finished = threading.Event()
    shown = threading.Event()
    lock = threading.Lock()

    def on_terminal() -> None:
        if not finished.wait(DELAY):
            with lock:
                if not finished.is_set():
                    stream.write(f"{message}...")
                    stream.flush()
                    shown.set()

    def in_log() -> None:
        while not finished.wait(INTERVAL):
            with lock:
                if finished.is_set():
                    return
                stream.write(f"{message}... ({time.monotonic() - started:.0f}s)\n")
                stream.flush()
                shown.set()

    ticker = threading.Thread(target=on_terminal if terminal else in_log, daemon=True, name="accessops-progress")
    ticker.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        with lock:
            finished.set()
        ticker.join()
        if shown.is_set():
            elapsed = time.monotonic() - started
            outcome = f"done in {elapsed:.1f}s" if ok else f"stopped after {elapsed:.1f}s"  # the error itself follows
            stream.write(f" {outcome}\n" if terminal else f"{message}: {outcome}\n")
            stream.flush()
