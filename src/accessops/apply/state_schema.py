"""The SQLite state store's schema: one script per version (see :func:`accessops.adapters.local_schema.migrate`)."""

from __future__ import annotations

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


_V2 = """
ALTER TABLE locks ADD COLUMN id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN meta TEXT NOT NULL DEFAULT '{}';
CREATE TABLE intents (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    target TEXT NOT NULL,
    change TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX intents_target ON intents(target);
"""

#: SQL scripts; ``MIGRATIONS[i]`` takes the state schema from version i to i + 1.
MIGRATIONS: list[str] = [_V1, _V2]
