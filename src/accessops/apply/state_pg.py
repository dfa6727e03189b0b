"""The PostgreSQL state backend (psycopg 3): shared by every runner that reaches the database.

Tables (prefixed ``accessops_``) are created on first use and migrated by
``accessops_schema.version``, under a transaction-level advisory lock so two
first runs never race. A change's record (its log line, its last-applied
row, its intent's confirmation) is one transaction; a batch the target
committed together (:meth:`PostgresStore.record_changes`) is recorded in one
transaction too, after that commit, so each record stays atomic and never
precedes its change, and a crash between the two leaves intents the next
run settles from live, as for a single change. The
target's lock is a session advisory lock keyed by the target id, so a
killed apply's lock ends with its connection; the ``accessops_locks`` row
beside it names the holder for the "locked by" message and carries the id
``force-unlock`` takes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from accessops.adapters.local_write import utc_now
from accessops.apply.records import ApplyRun, Intent, Lock, LoggedChange, Outcome, applied_after, applied_by_outcomes, check_result, intent_change, intent_json
from accessops.apply.store import StateDump, redact_url
from accessops.errors import AccessOpsError, ConfigError
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.secrets import redact_text

_V1 = """
CREATE TABLE accessops_applied (
    target TEXT NOT NULL, address TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL,
    attrs JSONB NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (target, address));
CREATE TABLE accessops_runs (
    id BIGSERIAL PRIMARY KEY, target TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    actor TEXT NOT NULL, git_commit TEXT, planned INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'running', meta JSONB NOT NULL DEFAULT '{}');
CREATE TABLE accessops_run_changes (
    run_id BIGINT NOT NULL REFERENCES accessops_runs(id), seq INTEGER NOT NULL, address TEXT NOT NULL,
    action TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'gone', 'skipped', 'not attempted')),
    error TEXT, at TEXT NOT NULL, PRIMARY KEY (run_id, seq));
CREATE TABLE accessops_intents (
    run_id BIGINT NOT NULL REFERENCES accessops_runs(id), seq INTEGER NOT NULL, target TEXT NOT NULL,
    change JSONB NOT NULL, PRIMARY KEY (run_id, seq));
CREATE INDEX accessops_intents_target ON accessops_intents(target);
CREATE TABLE accessops_locks (
    target TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
    since TEXT NOT NULL, id TEXT NOT NULL, backend_pid INTEGER NOT NULL);
"""

#: ``MIGRATIONS[i]`` takes the schema from version i to i + 1.
MIGRATIONS: list[str] = [_V1]
_SCHEMA_LOCK = 0x61636365  # "acce": serialises first-use migrations


def advisory_key(key: str) -> int:
    """A signed 64-bit advisory-lock key from the target id."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


class PostgresStore:
    """Last applied, the apply log, intents and locks in PostgreSQL."""

    def __init__(self, dsn: str) -> None:
        try:
            import psycopg
        except ImportError:  # pragma: no cover - a dependency
            raise ConfigError("the PostgreSQL state backend needs psycopg: pip install 'psycopg[binary]'") from None
        self.url = redact_url(dsn)
        self._psycopg = psycopg
        try:
            self.db = psycopg.connect(dsn, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise AccessOpsError(f"state {self.url}: cannot connect ({_first_line(exc)})") from None
        self._migrate()

    def close(self) -> None:
        """Close the connection (and with it any advisory lock)."""
        self.db.close()

    def _tx(self) -> Any:
        return self.db.transaction()

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        try:
            return self.db.execute(sql, params)
        except self._psycopg.Error as exc:
            raise AccessOpsError(f"state {self.url}: {_first_line(exc)}") from None

    def _migrate(self) -> None:
        with self._tx():
            self._exec("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            self._exec("CREATE TABLE IF NOT EXISTS accessops_schema (version INTEGER NOT NULL)")
            row = self._exec("SELECT version FROM accessops_schema").fetchone()
            version = row[0] if row else 0
            if row is None:
                self._exec("INSERT INTO accessops_schema VALUES (0)")
            for script in MIGRATIONS[version:]:
                self._exec(script)
            self._exec("UPDATE accessops_schema SET version = %s", (len(MIGRATIONS),))

    # --- locks -----------------------------------------------------------------------

    def _row(self, where: str, value: str) -> Lock | None:
        row = self._exec(f"SELECT target, holder, host, pid, since, id FROM accessops_locks WHERE {where} = %s", (value,)).fetchone()
        return None if row is None else Lock(*row)

    def holder(self, key: str) -> Lock | None:
        """The recorded holder of ``key``'s lock, if any."""
        return self._row("target", key)

    def acquire(self, key: str, holder: str, *, force: bool = False) -> Lock:
        """Take the session advisory lock of ``key``, or raise naming its holder."""
        for _ in range(100):
            (got,) = self._exec("SELECT pg_try_advisory_lock(%s)", (advisory_key(key),)).fetchone()
            held = None if got else self.holder(key)
            if got or held is None or not held.stale:
                break
            time.sleep(0.1)  # its process is dead: the server ends that session as soon as it sees the connection gone
        if not got:
            raise self._refusal(key)
        mine = Lock.mine(key, holder)
        (backend,) = self._exec("SELECT pg_backend_pid()").fetchone()
        with self._tx():  # the advisory lock proves any older row's holder is gone
            self._exec("DELETE FROM accessops_locks WHERE target = %s", (key,))
            self._exec(
                "INSERT INTO accessops_locks VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (mine.target, mine.holder, mine.host, mine.pid, mine.since, mine.id, backend),
            )
        return mine

    def _refusal(self, key: str) -> Exception:
        """The "locked by" error; the winner of a race writes its row just after its lock, so wait a moment for it."""
        for _ in range(50):
            held = self.holder(key)
            if held is not None:
                return held.refusal(self.url)
            time.sleep(0.1)
        return Lock(key, "another session", "?", 0, "?", "?").refusal(self.url)

    def release(self, key: str) -> None:
        """Drop this session's lock on ``key``."""
        (backend,) = self._exec("SELECT pg_backend_pid()").fetchone()
        self._exec("DELETE FROM accessops_locks WHERE target = %s AND backend_pid = %s", (key, backend))
        self._exec("SELECT pg_advisory_unlock(%s)", (advisory_key(key),))

    def force_unlock(self, lock_id: str) -> Lock:
        """Break the lock with this id: its row goes, and a session still holding it is ended."""
        lock = self._row("id", lock_id)
        if lock is None:
            raise AccessOpsError(f"no lock {lock_id!r} in state {self.url} (it was released, or the id is wrong)")
        row = self._exec("SELECT backend_pid FROM accessops_locks WHERE id = %s", (lock_id,)).fetchone()
        alive = self._exec(
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = %s AND granted", (row[0],)
        ).fetchone() if row else None
        if alive:
            self._exec("SELECT pg_terminate_backend(%s, 10000)", (row[0],))  # waits (10 s at most) until it is gone
        self._exec("DELETE FROM accessops_locks WHERE id = %s", (lock_id,))
        return lock

    # --- runs ---------------------------------------------------------------------------

    def begin_run(
        self, target: str, actor: str, commit: str | None = None, planned: int = 0, *, changes: list[Change] | None = None, meta: dict[str, Any] | None = None
    ) -> int:
        """Open a run and its intents in one transaction."""
        now = utc_now()
        with self._tx():
            self._exec("UPDATE accessops_runs SET status = 'interrupted', finished_at = %s WHERE target = %s AND status = 'running'", (now, target))
            (run_id,) = self._exec(
                "INSERT INTO accessops_runs (target, started_at, actor, git_commit, planned, meta) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (target, now, actor, commit, len(changes) if changes is not None else planned, json.dumps(meta or {})),
            ).fetchone()
            with self.db.cursor() as cur:
                cur.executemany(
                    "INSERT INTO accessops_intents VALUES (%s, %s, %s, %s)",
                    [(run_id, seq, target, json.dumps(intent_json(c))) for seq, c in enumerate(changes or [])],
                )
        return int(run_id)

    def record_change(self, run_id: int, seq: int, change: Change, result: str, error: str | None = None, *, applied_to: str | None = None) -> None:
        """Log one outcome and confirm its intent (and, with ``applied_to``, update last applied), in one transaction."""
        self.record_changes(run_id, [Outcome(seq, change, result, error)], applied_to=applied_to)

    def record_changes(self, run_id: int, outcomes: Sequence[Outcome], *, applied_to: str | None = None) -> None:
        """:meth:`record_change` for every outcome, in order, in one transaction (a batch the target committed together)."""
        if not outcomes:
            return
        for o in outcomes:
            check_result(o.result)
        now = utc_now()
        with self._tx():
            try:
                with self.db.cursor() as cur:
                    if applied_to is not None:
                        self._record_applied_all(cur, applied_to, outcomes, now)
                    cur.executemany(
                        "INSERT INTO accessops_run_changes VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(run_id, o.seq, o.change.address, o.change.action.value, o.result, None if o.error is None else redact_text(o.error), now) for o in outcomes],
                    )
                    cur.executemany("DELETE FROM accessops_intents WHERE run_id = %s AND seq = %s", [(run_id, o.seq) for o in outcomes])
            except self._psycopg.Error as exc:
                raise AccessOpsError(f"state {self.url}: {_first_line(exc)}") from None

    def finish_run(self, run_id: int, status: str) -> None:
        """Close a run (only once)."""
        self._exec("UPDATE accessops_runs SET finished_at = %s, status = %s WHERE id = %s AND finished_at IS NULL", (utc_now(), status, run_id))

    def mark_interrupted(self, target: str) -> None:
        """Under the lock: a run of ``target`` still ``running`` died."""
        self._exec("UPDATE accessops_runs SET status = 'interrupted', finished_at = %s WHERE target = %s AND status = 'running'", (utc_now(), target))

    def flush(self, message: str = "") -> None:
        """Every call already committed its own transaction."""

    def runs(self, target: str | None = None, limit: int = 20) -> list[ApplyRun]:
        """The newest runs with their changes."""
        where, params = ("WHERE target = %s", [target]) if target is not None else ("", [])
        lim = "" if limit < 0 else f"LIMIT {int(limit)}"
        rows = self._exec(
            f"SELECT id, target, started_at, finished_at, actor, git_commit, planned, status, meta FROM accessops_runs {where} ORDER BY id DESC {lim}",
            tuple(params),
        ).fetchall()
        runs = {row[0]: _run(row, dict(row[8] or {})) for row in rows}
        if runs:
            for run_id, *rest in self._exec(
                "SELECT run_id, seq, address, action, result, error, at FROM accessops_run_changes WHERE run_id = ANY(%s) ORDER BY run_id, seq",
                (list(runs),),
            ).fetchall():
                runs[run_id].changes.append(LoggedChange(*rest))
        return list(runs.values())

    def intents(self, target: str) -> list[Intent]:
        """Announced changes whose outcome is not logged."""
        rows = self._exec("SELECT run_id, seq, change FROM accessops_intents WHERE target = %s ORDER BY run_id, seq", (target,)).fetchall()
        out = []
        for run_id, seq, data in rows:
            try:
                out.append(Intent(target, int(run_id), int(seq), intent_change(data)))
            except (AttributeError, KeyError, TypeError, ValueError):
                raise AccessOpsError(f"state {self.url}: damaged: the intent {seq} of run {run_id} is not a change") from None
        return out

    # --- last applied -------------------------------------------------------------------

    def record_applied(self, target: str, change: Change) -> None:
        """Remember what a successful change left live, in one transaction."""
        if change.action is Action.NOOP:
            return
        with self._tx():
            self._record_applied(target, change)

    def _record_applied(self, target: str, change: Change) -> None:
        """:meth:`record_applied` inside the caller's transaction."""
        if change.action is Action.NOOP:
            return
        prev = None
        if change.action is Action.UPDATE:
            row = self._exec("SELECT attrs FROM accessops_applied WHERE target = %s AND address = %s FOR UPDATE", (target, change.address)).fetchone()
            prev = row[0] if row else None
        res = applied_after(change, prev)
        if res is None:
            self._exec("DELETE FROM accessops_applied WHERE target = %s AND address = %s", (target, change.address))
            return
        self._exec(
            "INSERT INTO accessops_applied VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (target, address) DO UPDATE SET attrs = EXCLUDED.attrs, applied_at = EXCLUDED.applied_at",
            (target, change.address, res.type, res.key, json.dumps(res.attrs), utc_now()),
        )

    def _record_applied_all(self, cur: Any, target: str, outcomes: Sequence[Outcome], now: str) -> None:
        """Last applied for a batch of outcomes (see :func:`applied_by_outcomes`), as two ``executemany``."""

        def stored(address: str) -> dict[str, Any] | None:
            row = self._exec("SELECT attrs FROM accessops_applied WHERE target = %s AND address = %s FOR UPDATE", (target, address)).fetchone()
            return dict(row[0]) if row else None

        final = applied_by_outcomes(outcomes, stored)
        cur.executemany("DELETE FROM accessops_applied WHERE target = %s AND address = %s", [(target, a) for a, res in final.items() if res is None])
        cur.executemany(
            "INSERT INTO accessops_applied VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (target, address) DO UPDATE SET attrs = EXCLUDED.attrs, applied_at = EXCLUDED.applied_at",
            [(target, a, res.type, res.key, json.dumps(res.attrs), now) for a, res in final.items() if res is not None],
        )

    def forget_applied(self, target: str, change: Change) -> None:
        """Drop a resource from last applied."""
        self._exec("DELETE FROM accessops_applied WHERE target = %s AND address = %s", (target, change.address))

    def last_applied(self, target: str) -> ResourceMap:
        """What the last applies left on ``target``."""
        rows = self._exec("SELECT address, type, key, attrs FROM accessops_applied WHERE target = %s", (target,)).fetchall()
        return {addr: Resource(t, k, dict(a)) for addr, t, k, a in rows}

    # --- migrate ---------------------------------------------------------------------------

    def dump(self) -> StateDump:
        """Everything, for ``state migrate``."""
        out = StateDump()
        for (t,) in self._exec("SELECT DISTINCT target FROM accessops_applied ORDER BY target").fetchall():
            out.applied[t] = self.last_applied(t)
        out.runs = list(reversed(self.runs(None, limit=-1)))
        for (t,) in self._exec("SELECT DISTINCT target FROM accessops_intents").fetchall():
            out.intents.extend(self.intents(t))
        return out

    def load(self, dump: StateDump) -> None:
        """Add a dump in one transaction; run ids are renumbered."""
        with self._tx(), self.db.cursor() as cur:
            for target, resources in dump.applied.items():
                cur.executemany(
                    "INSERT INTO accessops_applied VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (target, address) DO UPDATE SET attrs = EXCLUDED.attrs",
                    [(target, a, r.type, r.key, json.dumps(r.attrs), utc_now()) for a, r in resources.items()],
                )
            ids: dict[int, int] = {}
            for run in dump.runs:
                cur.execute(
                    "INSERT INTO accessops_runs (target, started_at, finished_at, actor, git_commit, planned, status, meta) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (run.target, run.started_at, run.finished_at, run.actor, run.git_commit, run.planned, run.status, json.dumps(run.meta)),
                )
                row = cur.fetchone()
                assert row is not None
                ids[run.id] = new = int(row[0])
                cur.executemany(
                    "INSERT INTO accessops_run_changes VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [(new, c.seq, c.address, c.action, c.result, c.error, c.at) for c in run.changes],
                )
            cur.executemany(
                "INSERT INTO accessops_intents VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(ids[i.run_id], i.seq, i.target, json.dumps(intent_json(i.change))) for i in dump.intents if i.run_id in ids],
            )


def _first_line(exc: BaseException) -> str:
    return redact_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


def _run(row: Any, meta: dict[str, Any]) -> ApplyRun:
    """A run from its row (id, target, started, finished, actor, commit, planned, status, meta)."""
    run = ApplyRun(*row[:8])
    run.meta = meta
    return run
