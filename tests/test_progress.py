"""Progress shows only on a terminal, and only for work that takes a moment."""

from __future__ import annotations

import io
import time

from accessops import progress
from accessops.progress import Progress, working


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_slow_work_on_a_terminal_says_what_it_does_and_how_long(monkeypatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.01)
    out = Terminal()
    with working("reading live access from local:x", out):
        time.sleep(0.3)
    assert out.getvalue().startswith("reading live access from local:x... done in ")


def test_nothing_is_shown_off_a_terminal_or_for_quick_work() -> None:
    quiet = io.StringIO()
    with working("reading", quiet):
        time.sleep(0.01)
    assert quiet.getvalue() == ""
    term = Terminal()
    with working("reading", term):
        pass
    assert term.getvalue() == ""


def test_apply_progress_counts_on_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(progress, "DELAY", 0.0)
    out = Terminal()
    bar = Progress("applying", 3, out)
    for i in range(3):
        bar.step(i + 1)
    bar.close()
    assert "\rapplying 3/3" in out.getvalue() and out.getvalue().endswith("\n")
    silent = io.StringIO()
    Progress("applying", 3, silent).step(1)
    assert silent.getvalue() == ""


class Clock:
    """A clock the test moves by hand: throttling is checked without sleeping."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_in_a_log_apply_progress_is_a_whole_line_every_interval() -> None:
    log, clock = io.StringIO(), Clock()
    bar = Progress("applying", 100, log, clock=clock)
    for i in range(100):
        clock.now += 0.125  # 12.5 s in all: lines at 5 s and 10 s
        bar.step(i + 1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines == ["applying 40/100 (40%, 5s)", "applying 80/100 (80%, 10s)", "applying 100/100 in 12.5s"]


def test_in_a_log_quick_apply_prints_nothing() -> None:
    log, clock = io.StringIO(), Clock()
    bar = Progress("applying", 40, log, clock=clock)
    for i in range(40):
        clock.now += 0.1
        bar.step(i + 1)
    bar.close()
    assert log.getvalue() == ""


class Log(io.StringIO):
    """A CI log: not a terminal; tells the test when a line arrived."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.line = threading.Event()

    def write(self, text: str) -> int:
        n = super().write(text)
        if "\n" in text:
            self.line.set()
        return n


def test_in_a_log_a_long_read_says_it_is_still_working(monkeypatch) -> None:
    monkeypatch.setattr(progress, "INTERVAL", 0.01)
    log = Log()
    with working("reading live access from scim", log):
        assert log.line.wait(30), "no progress line while the read was running"
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("reading live access from scim... (") and lines[0].endswith("s)")
    assert lines[-1].startswith("reading live access from scim: done in ")
    assert "\r" not in log.getvalue()
