"""Processes that open the same new SQLite file at the same moment all get it.

SQLite does not wait out a busy journal-mode switch; before ``use_wal``
about one opener in fifty failed with "database is locked" (seen in CI as a
lost lock race that was really a failed open).
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from accessops.adapters import local_schema
from accessops.apply.state import SqliteStore

OPENERS = 6
ROUNDS = 40


def _open(kind: str, path: str, go: Any, answers: Any) -> None:
    go.wait()
    try:
        if kind == "state":
            SqliteStore(path).close()
        else:
            local_schema.connect(Path(path)).close()
        answers.put("")
    except Exception as exc:  # the answer the test reports
        answers.put(f"{type(exc).__name__}: {exc}")


def _race(kind: str, tmp_path: Path) -> list[str]:
    ctx = multiprocessing.get_context("fork")
    failures: list[str] = []
    for n in range(ROUNDS):
        path = tmp_path / f"{kind}-{n}.db"
        go, answers = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_open, args=(kind, str(path), go, answers)) for _ in range(OPENERS)]
        for p in procs:
            p.start()
        go.set()  # all at once
        for p in procs:
            p.join(timeout=60)
        failures += [a for a in (answers.get(timeout=5) for _ in procs) if a]
    return failures


def test_state_files_opened_at_once_by_many_processes_all_open(tmp_path: Path) -> None:
    assert _race("state", tmp_path) == []


def test_tenant_files_opened_at_once_by_many_processes_all_open(tmp_path: Path) -> None:
    assert _race("tenant", tmp_path) == []
