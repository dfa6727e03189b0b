"""The local tenant's SQLite schema and its migrations.

The schema version lives in ``PRAGMA user_version``. :data:`MIGRATIONS` is
the list of SQL scripts that took the schema from version ``i`` to ``i + 1``;
opening a tenant applies the missing ones in order, all in one transaction,
so a tenant is never left half-migrated. To change the schema, append a
script; never edit one that has shipped.

Every child row belongs to its parent by a foreign key ``ON DELETE
CASCADE``: deleting an organization removes everything in it, deleting a
member removes their team, workspace and space memberships, and deleting a
custom role removes its assignments and its app/table/field associations
(seed 001: irreversible).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from accessops import dbfile

_V1 = """
CREATE TABLE tenant_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    profile TEXT,
    seats INTEGER
);
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT,
    global_admin INTEGER,
    name TEXT,
    status TEXT NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active')),
    invited_at TEXT,
    joined_at TEXT,
    UNIQUE (org_id, email)
);
CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    UNIQUE (org_id, name)
);
CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, member_id)
);
CREATE INDEX team_members_member ON team_members(member_id);
CREATE TABLE org_permissions (
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    role TEXT,
    PRIMARY KEY (org_id, permission)
);
CREATE TABLE custom_roles (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    UNIQUE (org_id, name)
);
CREATE TABLE workspaces (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    profile TEXT,
    UNIQUE (org_id, name)
);
CREATE TABLE workspace_members (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role TEXT,
    UNIQUE (workspace_id, member_id)
);
CREATE INDEX workspace_members_member ON workspace_members(member_id);
CREATE TABLE workspace_member_roles (
    workspace_member_id INTEGER NOT NULL REFERENCES workspace_members(id) ON DELETE CASCADE,
    custom_role_id INTEGER NOT NULL REFERENCES custom_roles(id) ON DELETE CASCADE,
    PRIMARY KEY (workspace_member_id, custom_role_id)
);
CREATE INDEX workspace_member_roles_role ON workspace_member_roles(custom_role_id);
CREATE TABLE workspace_member_sections (
    workspace_member_id INTEGER NOT NULL REFERENCES workspace_members(id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    level TEXT NOT NULL,
    PRIMARY KEY (workspace_member_id, section)
);
-- A role list row names a built-in workspace role or a custom role; rows
-- naming a custom role point at it so that deleting the role removes them.
CREATE TABLE app_permissions (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    allow_restricted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, name)
);
CREATE TABLE app_permission_roles (
    app_permission_id INTEGER NOT NULL REFERENCES app_permissions(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    custom_role_id INTEGER REFERENCES custom_roles(id) ON DELETE CASCADE,
    PRIMARY KEY (app_permission_id, role)
);
CREATE INDEX app_permission_roles_role ON app_permission_roles(custom_role_id);
CREATE TABLE table_permissions (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (workspace_id, name)
);
-- One row per restricted action; an action without a row is unrestricted.
CREATE TABLE table_permission_actions (
    table_permission_id INTEGER NOT NULL REFERENCES table_permissions(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('read', 'create', 'edit', 'delete')),
    PRIMARY KEY (table_permission_id, action)
);
CREATE TABLE table_permission_roles (
    table_permission_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    role TEXT NOT NULL,
    custom_role_id INTEGER REFERENCES custom_roles(id) ON DELETE CASCADE,
    PRIMARY KEY (table_permission_id, action, role),
    FOREIGN KEY (table_permission_id, action)
        REFERENCES table_permission_actions(table_permission_id, action) ON DELETE CASCADE
);
CREATE INDEX table_permission_roles_role ON table_permission_roles(custom_role_id);
CREATE TABLE field_permissions (
    id INTEGER PRIMARY KEY,
    table_permission_id INTEGER NOT NULL REFERENCES table_permissions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    read_restricted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (table_permission_id, name)
);
CREATE TABLE field_permission_roles (
    field_permission_id INTEGER NOT NULL REFERENCES field_permissions(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    custom_role_id INTEGER REFERENCES custom_roles(id) ON DELETE CASCADE,
    PRIMARY KEY (field_permission_id, role)
);
CREATE INDEX field_permission_roles_role ON field_permission_roles(custom_role_id);
CREATE TABLE space_types (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT,
    UNIQUE (org_id, name)
);
CREATE TABLE space_type_roles (
    id INTEGER PRIMARY KEY,
    space_type_id INTEGER NOT NULL REFERENCES space_types(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    UNIQUE (space_type_id, name)
);
CREATE TABLE space_type_role_permissions (
    space_type_role_id INTEGER NOT NULL REFERENCES space_type_roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    PRIMARY KEY (space_type_role_id, permission)
);
-- A space names its type by name: a space outlives a template being removed.
CREATE TABLE spaces (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT,
    type TEXT,
    private INTEGER,
    auto_join INTEGER,
    UNIQUE (org_id, name)
);
CREATE TABLE space_members (
    id INTEGER PRIMARY KEY,
    space_id INTEGER NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role TEXT,
    UNIQUE (space_id, member_id)
);
CREATE INDEX space_members_member ON space_members(member_id);
CREATE TABLE space_member_scopes (
    space_member_id INTEGER NOT NULL REFERENCES space_members(id) ON DELETE CASCADE,
    scope TEXT NOT NULL CHECK (scope IN ('features', 'settings')),
    key TEXT NOT NULL,
    level TEXT NOT NULL,
    PRIMARY KEY (space_member_id, scope, key)
);
"""

# Version 2 (issue 15): a member deactivated in the product is suspended, not
# invited; the time it happened is kept (a CHECK cannot be altered in place).
_V2 = """
ALTER TABLE members ADD COLUMN suspended_at TEXT;
"""

#: SQL scripts; ``MIGRATIONS[i]`` takes the schema from version i to i + 1.
MIGRATIONS: list[str] = [_V1, _V2]

SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> list[str]:
    """Split a SQL script into complete statements (``executescript`` would commit)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if not buf and line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def migrate(conn: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Bring the schema up to date in one transaction; return the version reached.

    Safe when two processes open the same new tenant at once: the version is
    read again after the write lock is taken.
    """
    scripts = MIGRATIONS if migrations is None else migrations
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version >= len(scripts):
        return int(version)
    conn.execute("BEGIN IMMEDIATE")
    try:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        for script in scripts[version:]:
            for stmt in statements(script):
                conn.execute(stmt)
        conn.execute(f"PRAGMA user_version = {len(scripts)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(scripts)


def connect(path: Path, migrations: list[str] | None = None) -> sqlite3.Connection:
    """Open (creating if needed) a tenant file, migrated, with foreign keys on.

    The connection is in autocommit mode: callers open their own
    ``BEGIN IMMEDIATE`` transactions. WAL lets readers run beside a writer;
    ``synchronous=NORMAL`` keeps every commit through a process crash (only a
    power loss may drop the last commits, which the next plan redoes).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = dbfile.connect(path, isolation_level=None, timeout=10.0)  # errors name the file
    try:
        dbfile.use_wal(conn, 10.0)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrations)
    except BaseException:
        conn.close()  # a damaged or read-only file: leave no handle open
        raise
    return conn
