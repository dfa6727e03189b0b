"""The SQLite state store: last applied resources, the apply log, intents and one lock per target.

The default backend (a plain path as ``state``), by default beside the
target (:func:`default_state_path`); see :mod:`accessops.apply.store` for
the protocol every backend implements and the others (git, PostgreSQL).
Contract::

    store = SqliteStore(path)                        # creates/migrates the file
    store.acquire(key, holder)                       # LockedError naming holder, lock id, force-unlock
    run = store.begin_run(target, actor, commit, changes=plan.pending)   # run id; intents recorded
    store.record_change(run, seq, change, result, error)    # confirms that change's intent
    store.record_changes(run, outcomes)              # the same for a batch, in one transaction
    store.record_applied(target, change)            # after a change succeeded
    store.forget_applied(target, change)            # its object vanished (ItemGoneError)
    store.finish_run(run, status)                   # status: ok|failed|interrupted
    store.release(key)
    store.last_applied(target)                      # -> ResourceMap (address -> Resource)
    store.runs(target=None, limit=20)               # -> list[ApplyRun], newest first
    store.close()

Every call is its own transaction, so a crash keeps everything recorded
before it; :meth:`SqliteStore.record_changes` records a whole batch in one. The apply log is append-only: triggers refuse to delete or
rewrite a logged change, and a run can be updated only until it finishes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accessops import dbfile
from accessops.adapters.base import Target
from accessops.adapters.local_schema import migrate
from accessops.adapters.local_write import utc_now
from accessops.apply.records import ApplyRun, Intent, Lock, LockedError, LoggedChange, Outcome, applied_after, applied_by_outcomes, intent_change, intent_json
from accessops.apply.state_schema import MIGRATIONS
from accessops.apply.store import StateDump, default_sqlite_path
from accessops.errors import AccessOpsError, FileError, file_error_of
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.secrets import redact_text

__all__ = ["MIGRATIONS", "ApplyRun", "Lock", "LockedError", "LoggedChange", "SqliteStore", "StateStore", "default_state_path", "git_commit"]

#: Seconds a write waits for another writer of the file before it fails.
BUSY_TIMEOUT = 10.0


def _target_name(target: Target | str) -> str:
    return target.url if isinstance(target, Target) else target


def default_state_path(target: Target, root: Path) -> Path:
    """Where a target's SQLite state lives unless settings say otherwise (see :func:`store.default_sqlite_path`)."""
    return default_sqlite_path(target, root)


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


def _stored_attrs(db: Any, addr: str, text: Any) -> dict[str, Any]:
    """A last-applied row's attributes; a damaged row is an error naming the state file, not a crash."""
    try:
        attrs = json.loads(text)
    except (TypeError, ValueError):
        attrs = None
    if not isinstance(attrs, dict):
        raise FileError(getattr(db, "db_file", "state"), f"damaged: the last applied {addr} is not a JSON object; restore the file or delete it (the next apply records it again)")
    return attrs


class SqliteStore:
    """Last applied resources, the append-only apply log, intents and per-target locks, in one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        if self.path.is_dir():
            raise AccessOpsError(f"state {self.path} is a folder, not a state file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = dbfile.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)  # errors name the file
        try:
            dbfile.use_wal(self.db, BUSY_TIMEOUT)
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db, MIGRATIONS)
        except sqlite3.DatabaseError as exc:
            self.db.close()  # a damaged or read-only file: leave no handle open
            located = file_error_of(exc)
            raise FileError(located.file if located else str(self.path), f"not a usable state file: {located.message if located else exc}") from None
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        """Close the file."""
        self.db.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        """One statement in its own transaction (autocommit)."""
        try:
            return self.db.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise AccessOpsError(f"state {self.path}: {exc}") from None

    def _transaction(self) -> "_Tx":
        return _Tx(self.db, self.path)

    # --- lock -----------------------------------------------------------------------

    def holder(self, key: Target | str) -> Lock | None:
        """The current lock on ``key``, if any."""
        row = self.db.execute("SELECT target, holder, host, pid, since, id FROM locks WHERE target = ?", (_target_name(key),)).fetchone()
        return None if row is None else Lock(*row)

    def acquire(self, key: Target | str, holder: str, *, force: bool = False) -> Lock:
        """Take the target's lock or refuse, naming who holds it, the lock id and ``force-unlock``.

        ``force`` breaks a lock only when its holder was a process of this
        host that has died; a live holder is never overridden.
        """
        name = _target_name(key)
        mine = Lock.mine(name, holder)
        with self._transaction():
            held = self.holder(name)
            if held is not None:
                if not (force and held.stale):
                    raise held.refusal(self.url)
                self.db.execute("DELETE FROM locks WHERE target = ?", (name,))
            self.db.execute(
                "INSERT INTO locks (target, holder, host, pid, since, id) VALUES (?, ?, ?, ?, ?, ?)",
                (mine.target, mine.holder, mine.host, mine.pid, mine.since, mine.id),
            )
        return mine

    def release(self, key: Target | str) -> None:
        """Release this process's lock on ``key`` (someone else's is left alone)."""
        mine = Lock.mine("", "")
        self._write("DELETE FROM locks WHERE target = ? AND host = ? AND pid = ?", (_target_name(key), mine.host, mine.pid))

    def force_unlock(self, lock_id: str) -> Lock:
        """Break the lock with this id, whoever holds it."""
        row = self.db.execute("SELECT target, holder, host, pid, since, id FROM locks WHERE id = ? AND id != ''", (lock_id,)).fetchone()
        if row is None:
            raise AccessOpsError(f"no lock {lock_id!r} in state {self.url} (it was released, or the id is wrong)")
        self._write("DELETE FROM locks WHERE id = ?", (lock_id,))
        return Lock(*row)

    # --- apply log ------------------------------------------------------------------------

    def begin_run(
        self, target: Target | str, actor: str, commit: str | None = None, planned: int = 0, *, changes: list[Change] | None = None, meta: dict[str, Any] | None = None
    ) -> int:
        """Open an apply run and its intents in one transaction; return its id.

        A run of the same target still ``running`` is one whose process died
        (the caller holds the lock): it is marked ``interrupted``.
        """
        name = _target_name(target)
        planned = len(changes) if changes is not None else planned
        now = utc_now()
        with self._transaction():
            self.db.execute("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE target = ? AND status = 'running'", (now, name))
            cur = self.db.execute(
                "INSERT INTO runs (target, started_at, actor, git_commit, planned, meta) VALUES (?, ?, ?, ?, ?, ?)",
                (name, now, actor, commit, planned, json.dumps(meta or {}, sort_keys=True)),
            )
            run_id = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO intents VALUES (?, ?, ?, ?)",
                [(run_id, seq, name, json.dumps(intent_json(change))) for seq, change in enumerate(changes or [])],
            )
        return run_id

    def record_change(
        self, run_id: int, seq: int, change: Change, result: str, error: str | None = None, *, applied_to: Target | str | None = None
    ) -> None:
        """Log one change's result (ok, failed, gone, skipped or not attempted) and confirm its intent, in one transaction.

        With ``applied_to``, the last-applied record changes in that same
        transaction: what an ``ok`` change left, or a ``gone`` one forgotten.
        """
        self.record_changes(run_id, [Outcome(seq, change, result, error)], applied_to=applied_to)

    def record_changes(self, run_id: int, outcomes: Sequence[Outcome], *, applied_to: Target | str | None = None) -> None:
        """:meth:`record_change` for every outcome, in order, in one transaction: a batch is recorded whole or not at all."""
        if not outcomes:
            return
        now = utc_now()
        with self._transaction():
            if applied_to is not None:
                self._record_applied_all(_target_name(applied_to), outcomes, now)
            self.db.executemany(
                "INSERT INTO run_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, o.seq, o.change.address, o.change.action.value, o.result, None if o.error is None else redact_text(o.error), now) for o in outcomes],
            )
            self.db.executemany("DELETE FROM intents WHERE run_id = ? AND seq = ?", [(run_id, o.seq) for o in outcomes])

    def mark_interrupted(self, target: Target | str) -> None:
        """Under the lock: a run of ``target`` still ``running`` died; mark it ``interrupted``."""
        self._write("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE target = ? AND status = 'running'", (utc_now(), _target_name(target)))

    def flush(self, message: str = "") -> None:
        """Every call already committed its own transaction."""

    def finish_run(self, run_id: int, status: str) -> None:
        """Close a run with its status (ok, failed, interrupted)."""
        self._write("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (utc_now(), status, run_id))

    def runs(self, target: Target | str | None = None, limit: int = 20) -> list[ApplyRun]:
        """The most recent runs (of one target, or all), newest first, with their changes."""
        where, params = ("WHERE target = ?", [_target_name(target)]) if target is not None else ("", [])
        rows = self.db.execute(
            f"SELECT id, target, started_at, finished_at, actor, git_commit, planned, status, meta FROM runs {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        runs = {row[0]: _run(row, json.loads(row[8] or "{}")) for row in rows}
        if runs:
            marks = ",".join("?" * len(runs))
            for run_id, *rest in self.db.execute(
                f"SELECT run_id, seq, address, action, result, error, at FROM run_changes WHERE run_id IN ({marks}) ORDER BY run_id, seq",
                list(runs),
            ):
                runs[run_id].changes.append(LoggedChange(*rest))
        return list(runs.values())

    def intents(self, target: Target | str) -> list[Intent]:
        """Announced changes whose outcome is not logged: in flight, or left by a killed run."""
        rows = self.db.execute(
            "SELECT run_id, seq, change FROM intents WHERE target = ? ORDER BY run_id, seq",
            (_target_name(target),),
        )
        out = []
        for run_id, seq, text in rows:
            try:
                out.append(Intent(_target_name(target), run_id, seq, intent_change(json.loads(text))))
            except (AttributeError, KeyError, TypeError, ValueError):
                raise FileError(getattr(self.db, "db_file", "state"), f"damaged: the intent {seq} of run {run_id} is not a change; restore the file") from None
        return out

    # --- last applied --------------------------------------------------------------------

    def record_applied(self, target: Target | str, change: Change) -> None:
        """Remember what a successful change left live (or that it removed it)."""
        name = _target_name(target)
        if change.action is Action.NOOP:
            return
        previous = None
        if change.action is Action.UPDATE:
            row = self.db.execute("SELECT attrs FROM applied WHERE target = ? AND address = ?", (name, change.address)).fetchone()
            previous = json.loads(row[0]) if row else None
        res = applied_after(change, previous)
        if res is None:
            self.forget_applied(name, change)
            return
        self._write("INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?, ?, ?)", (name, change.address, res.type, res.key, json.dumps(res.attrs, sort_keys=True), utc_now()))

    def _record_applied_all(self, name: str, outcomes: Sequence[Outcome], now: str) -> None:
        """:meth:`record_applied` (``ok``) and :meth:`forget_applied` (``gone``) for each outcome, in order, as two statements."""

        def stored(address: str) -> dict[str, Any] | None:
            row = self.db.execute("SELECT attrs FROM applied WHERE target = ? AND address = ?", (name, address)).fetchone()
            return _stored_attrs(self.db, address, row[0]) if row else None

        final = applied_by_outcomes(outcomes, stored)
        self.db.executemany("DELETE FROM applied WHERE target = ? AND address = ?", [(name, addr) for addr, res in final.items() if res is None])
        self.db.executemany(
            "INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?, ?, ?)",
            [(name, addr, res.type, res.key, json.dumps(res.attrs, sort_keys=True), now) for addr, res in final.items() if res is not None],
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

    # --- migrate --------------------------------------------------------------------------

    def dump(self) -> StateDump:
        """The whole state, for ``state migrate``."""
        out = StateDump()
        for (target,) in self.db.execute("SELECT DISTINCT target FROM applied ORDER BY target").fetchall():
            out.applied[target] = self.last_applied(target)
        out.runs = list(reversed(self.runs(None, limit=-1)))
        for (target,) in self.db.execute("SELECT DISTINCT target FROM intents").fetchall():
            out.intents.extend(self.intents(target))
        return out

    def load(self, dump: StateDump) -> None:
        """Add a dump, in one transaction; run ids are renumbered after any already here."""
        with self._transaction():
            for target, resources in dump.applied.items():
                self.db.executemany(
                    "INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?, ?, ?)",
                    [(target, addr, r.type, r.key, json.dumps(r.attrs, sort_keys=True), utc_now()) for addr, r in resources.items()],
                )
            ids: dict[int, int] = {}
            for run in dump.runs:
                cur = self.db.execute(
                    "INSERT INTO runs (target, started_at, finished_at, actor, git_commit, planned, status, meta) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)",
                    (run.target, run.started_at, run.actor, run.git_commit, run.planned, run.status, json.dumps(run.meta, sort_keys=True)),
                )
                ids[run.id] = new = int(cur.lastrowid or 0)
                self.db.executemany(
                    "INSERT INTO run_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(new, c.seq, c.address, c.action, c.result, c.error, c.at) for c in run.changes],
                )
                if run.finished_at is not None:
                    self.db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (run.finished_at, new))
            self.db.executemany(
                "INSERT OR REPLACE INTO intents VALUES (?, ?, ?, ?)",
                [(ids[i.run_id], i.seq, i.target, json.dumps(intent_json(i.change))) for i in dump.intents if i.run_id in ids],
            )


#: The SQLite store under its historical name (callers that open a state file directly).
StateStore = SqliteStore


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise AccessOpsError(f"state {self.path}: {exc}") from None

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if kind is not None:
            self.db.execute("ROLLBACK")
            return
        try:
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self.db.execute("ROLLBACK")
            raise AccessOpsError(f"state {self.path}: {error}") from None


def _run(row: Any, meta: dict[str, Any]) -> ApplyRun:
    """A run from its row (id, target, started, finished, actor, commit, planned, status, meta)."""
    run = ApplyRun(*row[:8])
    run.meta = meta
    return run
