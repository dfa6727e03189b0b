"""The state store: last applied resources, the apply log and one lock per target.

A SQLite file, by default beside the target (:func:`default_state_path`).
Targets are named by their URL, already redacted by the caller. Contract::

    store = StateStore(path)                        # creates/migrates the file
    store.acquire(target, holder, force=False)      # AccessOpsError naming the holder when held
    run = store.begin_run(target, actor, commit, planned)   # -> run id
    store.record_change(run, seq, change, result, error)    # result: ok|failed|gone|skipped|not attempted
    store.record_applied(target, change)            # after a change succeeded
    store.forget_applied(target, change)            # its object vanished (ItemGoneError)
    store.finish_run(run, status)                   # status: ok|failed|interrupted
    store.release(target)
    store.last_applied(target)                      # -> ResourceMap (address -> Resource)
    store.runs(target=None, limit=20)               # -> list[ApplyRun], newest first
    store.close()

Every call is its own transaction, so a crash keeps everything recorded
before it. The apply log is append-only: triggers refuse to delete or
rewrite a logged change, and a run can be updated only until it finishes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from accessops import dbfile
from accessops.adapters.base import Target
from accessops.adapters.local_schema import migrate
from accessops.adapters.local_write import utc_now
from accessops.errors import AccessOpsError, FileError
from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.secrets import redact_text

_V1 = """
CREATE TABLE applied (
    target TEXT NOT NULL,
    address TEXT NOT NULL,
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    attrs TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (target, address)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    actor TEXT NOT NULL,
    git_commit TEXT,
    planned INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE run_changes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    address TEXT NOT NULL,
    action TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'gone', 'skipped', 'not attempted')),
    error TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE TRIGGER run_changes_no_update BEFORE UPDATE ON run_changes
BEGIN SELECT RAISE(ABORT, 'the apply log is append-only'); END;
CREATE TRIGGER run_changes_no_delete BEFORE DELETE ON run_changes
BEGIN SELECT RAISE(ABORT, 'the apply log is append-only'); END;
CREATE TRIGGER runs_no_delete BEFORE DELETE ON runs
BEGIN SELECT RAISE(ABORT, 'the apply log is append-only'); END;
CREATE TRIGGER runs_finished_once BEFORE UPDATE ON runs WHEN OLD.finished_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'the apply log is append-only: this run has finished'); END;
CREATE TABLE locks (
    target TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    since TEXT NOT NULL
);
"""

#: SQL scripts; ``MIGRATIONS[i]`` takes the state schema from version i to i + 1.
MIGRATIONS: list[str] = [_V1]


class LockedError(AccessOpsError):
    """Another apply holds the target's lock."""


def _target_name(target: Target | str) -> str:
    return target.url if isinstance(target, Target) else target


def default_state_path(target: Target, root: Path) -> Path:
    """Where a target's state lives unless settings say otherwise.

    ``local:.accessops/tenant.db`` keeps ``.accessops/state.db`` beside the
    tenant; a remote target keeps ``ROOT/.accessops/state-HOST.db``.
    """
    if target.scheme == "local":
        tenant = Path(target.location).expanduser()
        tenant = tenant if tenant.is_absolute() else root / tenant
        return tenant.with_name("state.db" if tenant.name != "state.db" else "state.state.db")
    parts = urlsplit(target.location)
    host = parts.hostname or parts.path or target.scheme
    if parts.port:
        host = f"{host}-{parts.port}"
    return root / ".accessops" / f"state-{re.sub(r'[^A-Za-z0-9.-]+', '-', host).strip('-.')}.db"


def git_commit(path: Path) -> str | None:
    """The HEAD commit of the git work tree holding ``path``; None outside one."""
    folder = path if path.is_dir() else path.parent
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@dataclass(frozen=True)
class Lock:
    """Who holds a target's lock."""

    target: str
    holder: str
    host: str
    pid: int
    since: str

    def __str__(self) -> str:
        return f"{self.holder} pid {self.pid} since {self.since}"

    @property
    def stale(self) -> bool:
        """Held by a process of this host that no longer runs."""
        return self.host == socket.gethostname() and not _pid_alive(self.pid)


@dataclass
class LoggedChange:
    """One change of an apply run, as logged."""

    seq: int
    address: str
    action: str
    result: str
    error: str | None
    at: str


@dataclass
class ApplyRun:
    """One apply run and its changes."""

    id: int
    target: str
    started_at: str
    finished_at: str | None
    actor: str
    git_commit: str | None
    planned: int
    status: str
    changes: list[LoggedChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``accessops log --format json``."""
        data = dict(self.__dict__)
        data["changes"] = [dict(c.__dict__) for c in self.changes]
        return data


def _stored_attrs(db: Any, addr: str, text: Any) -> dict[str, Any]:
    """A last-applied row's attributes; a damaged row is an error naming the state file, not a crash."""
    try:
        attrs = json.loads(text)
    except (TypeError, ValueError):
        attrs = None
    if not isinstance(attrs, dict):
        raise FileError(getattr(db, "db_file", "state"), f"damaged: the last applied {addr} is not a JSON object; restore the file or delete it (the next apply records it again)")
    return attrs


class StateStore:
    """Last applied resources, the append-only apply log and per-target locks."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = dbfile.connect(self.path, isolation_level=None, timeout=10.0)  # errors name the file
        try:
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db, MIGRATIONS)
        except BaseException:
            self.db.close()  # a damaged or read-only file: leave no handle open
            raise

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        """One statement in its own transaction (autocommit)."""
        return self.db.execute(sql, params)

    # --- lock -----------------------------------------------------------------------

    def holder(self, target: Target | str) -> Lock | None:
        """The current lock on ``target``, if any."""
        row = self.db.execute("SELECT target, holder, host, pid, since FROM locks WHERE target = ?", (_target_name(target),)).fetchone()
        return None if row is None else Lock(*row)

    def acquire(self, target: Target | str, holder: str, *, force: bool = False) -> Lock:
        """Take the target's lock or refuse, naming who holds it.

        ``force`` breaks a lock only when its holder was a process of this
        host that has died; a live holder is never overridden.
        """
        name = _target_name(target)
        mine = Lock(name, holder, socket.gethostname(), os.getpid(), utc_now())
        self.db.execute("BEGIN IMMEDIATE")
        try:
            held = self.holder(name)
            if held is not None:
                if not (force and held.stale):
                    hint = " (that process is gone: break the stale lock with --force-unlock)" if held.stale else ""
                    raise LockedError(f"target {name} is locked by {held}; another apply is running{hint}")
                self.db.execute("DELETE FROM locks WHERE target = ?", (name,))
            self.db.execute("INSERT INTO locks VALUES (?, ?, ?, ?, ?)", (mine.target, mine.holder, mine.host, mine.pid, mine.since))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return mine

    def release(self, target: Target | str) -> None:
        """Release this process's lock on ``target`` (someone else's is left alone)."""
        self._write("DELETE FROM locks WHERE target = ? AND host = ? AND pid = ?", (_target_name(target), socket.gethostname(), os.getpid()))

    # --- apply log ------------------------------------------------------------------------

    def begin_run(self, target: Target | str, actor: str, commit: str | None = None, planned: int = 0) -> int:
        """Open an apply run in the log; return its id."""
        cur = self._write(
            "INSERT INTO runs (target, started_at, actor, git_commit, planned) VALUES (?, ?, ?, ?, ?)",
            (_target_name(target), utc_now(), actor, commit, planned),
        )
        return int(cur.lastrowid or 0)

    def record_change(self, run_id: int, seq: int, change: Change, result: str, error: str | None = None) -> None:
        """Log one change's result (ok, failed, gone, skipped or not attempted)."""
        self._write(
            "INSERT INTO run_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, seq, change.address, change.action.value, result, None if error is None else redact_text(error), utc_now()),
        )

    def finish_run(self, run_id: int, status: str) -> None:
        """Close a run with its status (ok, failed, interrupted)."""
        self._write("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (utc_now(), status, run_id))

    def runs(self, target: Target | str | None = None, limit: int = 20) -> list[ApplyRun]:
        """The most recent runs (of one target, or all), newest first, with their changes."""
        where, params = ("WHERE target = ?", [_target_name(target)]) if target is not None else ("", [])
        rows = self.db.execute(
            f"SELECT id, target, started_at, finished_at, actor, git_commit, planned, status FROM runs {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        runs = {row[0]: ApplyRun(*row) for row in rows}
        if runs:
            marks = ",".join("?" * len(runs))
            for run_id, *rest in self.db.execute(
                f"SELECT run_id, seq, address, action, result, error, at FROM run_changes WHERE run_id IN ({marks}) ORDER BY run_id, seq",
                list(runs),
            ):
                runs[run_id].changes.append(LoggedChange(*rest))
        return list(runs.values())

    # --- last applied --------------------------------------------------------------------

    def record_applied(self, target: Target | str, change: Change) -> None:
        """Remember what a successful change left live (or that it removed it)."""
        name = _target_name(target)
        if change.action is Action.DELETE:
            self.forget_applied(name, change)
            return
        if change.action is Action.NOOP:
            return
        readonly = RESOURCE_TYPES[change.type].readonly
        attrs = {k: v for k, v in (change.after or {}).items() if k not in readonly}
        if change.action is Action.UPDATE:  # an update may name only what it changed
            row = self.db.execute("SELECT attrs FROM applied WHERE target = ? AND address = ?", (name, change.address)).fetchone()
            attrs = {**(json.loads(row[0]) if row else {}), **attrs}
        self._write(
            "INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?, ?, ?)",
            (name, change.address, change.type, change.key, json.dumps(attrs, sort_keys=True), utc_now()),
        )

    def forget_applied(self, target: Target | str, change: Change) -> None:
        """Drop a resource from the last applied state."""
        self._write("DELETE FROM applied WHERE target = ? AND address = ?", (_target_name(target), change.address))

    def last_applied(self, target: Target | str) -> ResourceMap:
        """What the last applies left on ``target``, by address."""
        rows = self.db.execute("SELECT address, type, key, attrs FROM applied WHERE target = ?", (_target_name(target),))
        # Most objects share a handful of attribute sets ({} for a membership,
        # {"role": "Member"}, ...): decode each distinct one once. Resource
        # attributes are never mutated in place, so sharing them is safe.
        decoded: dict[str, dict[str, Any]] = {}
        out: ResourceMap = {}
        for addr, type_, key, text in rows:
            attrs = decoded.get(text)
            if attrs is None:
                attrs = decoded[text] = _stored_attrs(self.db, addr, text)
            out[addr] = Resource(type_, key, attrs)
        return out
