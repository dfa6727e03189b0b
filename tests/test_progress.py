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
