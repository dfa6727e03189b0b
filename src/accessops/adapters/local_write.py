"""Writes of one resource to the local tenant, inside the caller's transaction.

Each resource type is a :class:`Table`: how to find its row from the key,
insert a bare row, and set attributes (scalar columns and child rows for
lists and scopes). Creating, updating and deleting are the same three steps
for every type, so an adapter change never needs type-specific control flow.

Conventions that :mod:`accessops.adapters.local` reads back:

* a scalar attribute set to ``None`` is stored as NULL and read as absent;
* lists of roles on apps, tables and fields are stored with a "restricted"
  marker, so ``allow: []`` (nobody) differs from no ``allow`` (everybody);
* a membership of someone who is not in the organization invites them as
  ``Member`` first (seed 001: inviting to a workspace adds the person to the
  organization).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from accessops.adapters.base import ItemGoneError
from accessops.adapters.local_lookup import Missing, cached_ids, org_id
from accessops.adapters.local_lookup import custom_role_ids as _custom_role_ids
from accessops.adapters.local_lookup import member_row as _member_row
from accessops.adapters.local_lookup import one as _one
from accessops.errors import TargetError

TABLE_ACTIONS = ("read", "create", "edit", "delete")


def utc_now() -> str:
    """Now, as the tenant stores times: ISO 8601 UTC to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def member_id(db: sqlite3.Connection, org: str, email: str, *, invite: bool = False) -> int:
    """The id of a member; with ``invite``, someone unknown is invited as Member."""
    found = _member_row(db, org, email)
    if found is not None:
        return found
    if not invite:
        raise Missing(f'member["{org}/{email}"]')
    cur = db.execute(
        "INSERT INTO members (org_id, email, role, status, invited_at) VALUES (?, ?, 'Member', 'invited', ?)",
        (org_id(db, org), email, utc_now()),
    )
    made = int(cur.lastrowid or 0)
    cache = cached_ids(db, "member")
    if cache is not None:
        cache["member", org, email] = made
    return made


def _child_id(db: sqlite3.Connection, table: str, parent_col: str, parent: int, name: str) -> int:
    cache = cached_ids(db, _OWNER.get(table, table))
    if cache is not None and (table, parent, name) in cache:
        return int(cache[table, parent, name])
    found = _one(db, f"SELECT id FROM {table} WHERE {parent_col} = ? AND name = ?", parent, name)
    if found is None:
        raise Missing(f"{table[:-1]} {name!r}")  # "workspaces" -> "workspace 'crm'"
    if cache is not None:
        cache[table, parent, name] = found
    return found


def _as_db(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


@dataclass(frozen=True)
class Table:
    """How one resource type lives in the tenant."""

    name: str  # SQL table holding the resource's row
    find: Callable[[sqlite3.Connection, list[str]], int | None]
    insert: Callable[[sqlite3.Connection, list[str]], int]
    scalars: dict[str, str] = field(default_factory=dict)  # attr -> column
    collections: dict[str, Callable[[sqlite3.Connection, list[str], int, Any], None]] = field(default_factory=dict)
    #: live-only attributes the planner may carry in ``after``; never written
    readonly: frozenset[str] = frozenset()

    def set(self, db: sqlite3.Connection, parts: list[str], row: int, attrs: dict[str, Any]) -> None:
        """Write the given attributes of row ``row`` (and only those)."""
        cols = [(self.scalars[k], _as_db(v)) for k, v in attrs.items() if k in self.scalars]
        if cols:
            assignments = ", ".join(f"{c} = ?" for c, _ in cols)
            db.execute(f"UPDATE {self.name} SET {assignments} WHERE rowid = ?", [v for _, v in cols] + [row])
        for attr, value in attrs.items():
            if attr in self.collections:
                self.collections[attr](db, parts, row, value)
            elif attr not in self.scalars and attr not in self.readonly:
                raise TargetError(f"local tenant cannot store attribute {attr!r} of {self.name}")


# --- finders and inserters, by key -----------------------------------------------


def _by_org(table: str) -> tuple[Callable[[sqlite3.Connection, list[str]], int | None], Callable[[sqlite3.Connection, list[str]], int]]:
    """Finder and inserter for a table keyed (org, name)."""

    def find(db: sqlite3.Connection, p: list[str]) -> int | None:
        return _one(db, f"SELECT id FROM {table} WHERE org_id = ? AND name = ?", org_id(db, p[0]), p[1])

    def insert(db: sqlite3.Connection, p: list[str]) -> int:
        return int(db.execute(f"INSERT INTO {table} (org_id, name) VALUES (?, ?)", (org_id(db, p[0]), p[1])).lastrowid or 0)

    return find, insert


def _workspace(db: sqlite3.Connection, p: list[str]) -> int:
    return _child_id(db, "workspaces", "org_id", org_id(db, p[0]), p[1])


def _by_workspace(table: str) -> tuple[Callable[[sqlite3.Connection, list[str]], int | None], Callable[[sqlite3.Connection, list[str]], int]]:
    def find(db: sqlite3.Connection, p: list[str]) -> int | None:
        return _one(db, f"SELECT id FROM {table} WHERE workspace_id = ? AND name = ?", _workspace(db, p), p[2])

    def insert(db: sqlite3.Connection, p: list[str]) -> int:
        return int(db.execute(f"INSERT INTO {table} (workspace_id, name) VALUES (?, ?)", (_workspace(db, p), p[2])).lastrowid or 0)

    return find, insert


def _membership(table: str, parent_col: str, parent_table: str) -> tuple[Callable[[sqlite3.Connection, list[str]], int | None], Callable[[sqlite3.Connection, list[str]], int]]:
    """Finder and inserter for (org, parent, email) memberships."""

    def parent(db: sqlite3.Connection, p: list[str]) -> int:
        return _child_id(db, parent_table, "org_id", org_id(db, p[0]), p[1])

    def find(db: sqlite3.Connection, p: list[str]) -> int | None:
        mid = _member_row(db, p[0], p[2])
        if mid is None:
            return None
        return _one(db, f"SELECT rowid FROM {table} WHERE {parent_col} = ? AND member_id = ?", parent(db, p), mid)

    def insert(db: sqlite3.Connection, p: list[str]) -> int:
        pid = parent(db, p)
        mid = member_id(db, p[0], p[2], invite=True)
        return int(db.execute(f"INSERT INTO {table} ({parent_col}, member_id) VALUES (?, ?)", (pid, mid)).lastrowid or 0)

    return find, insert


def _find_org(db: sqlite3.Connection, p: list[str]) -> int | None:
    return _one(db, "SELECT id FROM organizations WHERE name = ?", p[0])


def _insert_org(db: sqlite3.Connection, p: list[str]) -> int:
    return int(db.execute("INSERT INTO organizations (name) VALUES (?)", (p[0],)).lastrowid or 0)


def _find_member(db: sqlite3.Connection, p: list[str]) -> int | None:
    return _one(db, "SELECT id FROM members WHERE org_id = ? AND email = ?", org_id(db, p[0]), p[1])


def _insert_member(db: sqlite3.Connection, p: list[str]) -> int:
    # seeds 001/003: a person added is invited until they accept
    sql = "INSERT INTO members (org_id, email, status, invited_at) VALUES (?, ?, 'invited', ?)"
    return int(db.execute(sql, (org_id(db, p[0]), p[1], utc_now())).lastrowid or 0)


def _find_permission(db: sqlite3.Connection, p: list[str]) -> int | None:
    return _one(db, "SELECT rowid FROM org_permissions WHERE org_id = ? AND permission = ?", org_id(db, p[0]), p[1])


def _insert_permission(db: sqlite3.Connection, p: list[str]) -> int:
    return int(db.execute("INSERT INTO org_permissions (org_id, permission) VALUES (?, ?)", (org_id(db, p[0]), p[1])).lastrowid or 0)


def _insert_custom_role(db: sqlite3.Connection, p: list[str]) -> int:
    oid = org_id(db, p[0])
    rid = int(db.execute("INSERT INTO custom_roles (org_id, name) VALUES (?, ?)", (oid, p[1])).lastrowid or 0)
    # role lists that named this role before it existed now belong to it
    for table, parent, via in (
        ("app_permission_roles", "app_permission_id", "SELECT a.id FROM app_permissions a JOIN workspaces w ON w.id = a.workspace_id WHERE w.org_id = ?"),
        ("table_permission_roles", "table_permission_id", "SELECT t.id FROM table_permissions t JOIN workspaces w ON w.id = t.workspace_id WHERE w.org_id = ?"),
        (
            "field_permission_roles",
            "field_permission_id",
            "SELECT f.id FROM field_permissions f JOIN table_permissions t ON t.id = f.table_permission_id "
            "JOIN workspaces w ON w.id = t.workspace_id WHERE w.org_id = ?",
        ),
    ):
        db.execute(f"UPDATE {table} SET custom_role_id = ? WHERE role = ? AND custom_role_id IS NULL AND {parent} IN ({via})", (rid, p[1], oid))
    return rid


def _table_id(db: sqlite3.Connection, p: list[str]) -> int:
    return _child_id(db, "table_permissions", "workspace_id", _workspace(db, p), p[2])


def _find_field(db: sqlite3.Connection, p: list[str]) -> int | None:
    return _one(db, "SELECT id FROM field_permissions WHERE table_permission_id = ? AND name = ?", _table_id(db, p), p[3])


def _insert_field(db: sqlite3.Connection, p: list[str]) -> int:
    return int(db.execute("INSERT INTO field_permissions (table_permission_id, name) VALUES (?, ?)", (_table_id(db, p), p[3])).lastrowid or 0)


def _space_type_id(db: sqlite3.Connection, p: list[str]) -> int:
    return _child_id(db, "space_types", "org_id", org_id(db, p[0]), p[1])


def _find_st_role(db: sqlite3.Connection, p: list[str]) -> int | None:
    return _one(db, "SELECT id FROM space_type_roles WHERE space_type_id = ? AND name = ?", _space_type_id(db, p), p[2])


def _insert_st_role(db: sqlite3.Connection, p: list[str]) -> int:
    return int(db.execute("INSERT INTO space_type_roles (space_type_id, name) VALUES (?, ?)", (_space_type_id(db, p), p[2])).lastrowid or 0)


# --- collections: lists and scopes stored as child rows ----------------------------------


def _role_list(table: str, parent_col: str, flag: str | None, action: str | None = None) -> Callable[[sqlite3.Connection, list[str], int, Any], None]:
    """Replace a restricted role list; ``None`` lifts the restriction."""

    def write(db: sqlite3.Connection, p: list[str], row: int, roles: list[str] | None) -> None:
        where, params = (f"{parent_col} = ?", [row]) if action is None else (f"{parent_col} = ? AND action = ?", [row, action])
        db.execute(f"DELETE FROM {table} WHERE {where}", params)
        if flag is not None:
            db.execute(f"UPDATE {flag} WHERE id = ?", (int(roles is not None), row))
        else:  # table actions: one marker row per restricted action
            db.execute("DELETE FROM table_permission_actions WHERE table_permission_id = ? AND action = ?", (row, action))
            if roles is not None:
                db.execute("INSERT INTO table_permission_actions (table_permission_id, action) VALUES (?, ?)", (row, action))
        if not roles:
            return
        custom = _custom_role_ids(db, p[0])
        extra = [] if action is None else [action]
        cols = f"{parent_col}, {'action, ' if action else ''}role, custom_role_id"
        marks = ", ".join("?" * (3 + len(extra)))
        db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", [(row, *extra, r, custom.get(r)) for r in sorted(set(roles))])

    return write


def _workspace_custom_roles(db: sqlite3.Connection, p: list[str], row: int, roles: list[str] | None) -> None:
    db.execute("DELETE FROM workspace_member_roles WHERE workspace_member_id = ?", (row,))
    custom = _custom_role_ids(db, p[0])
    unknown = sorted(set(roles or ()) - set(custom))
    if unknown:
        raise TargetError(f'workspace_member["{"/".join(p)}"]: custom role {unknown[0]!r} does not exist in organization {p[0]!r}')
    db.executemany("INSERT INTO workspace_member_roles VALUES (?, ?)", [(row, custom[r]) for r in sorted(set(roles or ()))])


def _sections(db: sqlite3.Connection, p: list[str], row: int, scopes: dict[str, str] | None) -> None:
    db.execute("DELETE FROM workspace_member_sections WHERE workspace_member_id = ?", (row,))
    db.executemany("INSERT INTO workspace_member_sections VALUES (?, ?, ?)", [(row, k, v) for k, v in (scopes or {}).items()])


def _space_scopes(scope: str) -> Callable[[sqlite3.Connection, list[str], int, Any], None]:
    def write(db: sqlite3.Connection, p: list[str], row: int, scopes: dict[str, str] | None) -> None:
        db.execute("DELETE FROM space_member_scopes WHERE space_member_id = ? AND scope = ?", (row, scope))
        db.executemany("INSERT INTO space_member_scopes VALUES (?, ?, ?, ?)", [(row, scope, k, v) for k, v in (scopes or {}).items()])

    return write


def _st_permissions(db: sqlite3.Connection, p: list[str], row: int, perms: list[str] | None) -> None:
    db.execute("DELETE FROM space_type_role_permissions WHERE space_type_role_id = ?", (row,))
    db.executemany("INSERT INTO space_type_role_permissions VALUES (?, ?)", [(row, x) for x in sorted(set(perms or ()))])


TABLES: dict[str, Table] = {
    "organization": Table("organizations", _find_org, _insert_org, {"profile": "profile", "seats": "seats"}),
    "custom_role": Table("custom_roles", _by_org("custom_roles")[0], _insert_custom_role, {"description": "description"}),
    "org_permission": Table("org_permissions", _find_permission, _insert_permission, {"role": "role"}),
    "member": Table(
        "members",
        _find_member,
        _insert_member,
        # invited_at is writable so a plan can re-send an expired invitation
        {"role": "role", "global_admin": "global_admin", "name": "name", "invited_at": "invited_at"},
        readonly=frozenset({"status", "joined_at"}),
    ),
    "team": Table("teams", *_by_org("teams"), {"description": "description"}),
    "team_member": Table("team_members", *_membership("team_members", "team_id", "teams")),
    "workspace": Table("workspaces", *_by_org("workspaces"), {"profile": "profile"}),
    "workspace_member": Table(
        "workspace_members",
        *_membership("workspace_members", "workspace_id", "workspaces"),
        {"role": "role"},
        {"custom_roles": _workspace_custom_roles, "sections": _sections},
    ),
    "app_permission": Table(
        "app_permissions",
        *_by_workspace("app_permissions"),
        collections={"allow": _role_list("app_permission_roles", "app_permission_id", "app_permissions SET allow_restricted = ?")},
    ),
    "table_permission": Table(
        "table_permissions",
        *_by_workspace("table_permissions"),
        collections={a: _role_list("table_permission_roles", "table_permission_id", None, a) for a in TABLE_ACTIONS},
    ),
    "field_permission": Table(
        "field_permissions",
        _find_field,
        _insert_field,
        collections={"read": _role_list("field_permission_roles", "field_permission_id", "field_permissions SET read_restricted = ?")},
    ),
    "space_type": Table("space_types", *_by_org("space_types"), {"kind": "kind"}),
    "space_type_role": Table("space_type_roles", _find_st_role, _insert_st_role, collections={"permissions": _st_permissions}),
    "space": Table("spaces", *_by_org("spaces"), {"kind": "kind", "type": "type", "private": "private", "auto_join": "auto_join"}),
    "space_member": Table(
        "space_members",
        *_membership("space_members", "space_id", "spaces"),
        {"role": "role"},
        {"features": _space_scopes("features"), "settings": _space_scopes("settings")},
    ),
}


#: SQL table -> the resource type whose changes insert and delete its rows
_OWNER = {table.name: type_ for type_, table in TABLES.items()}


def find(db: sqlite3.Connection, type_: str, key: str) -> int | None:
    """The row of a resource, or None when it (or a parent) does not exist."""
    try:
        return TABLES[type_].find(db, key.split("/"))
    except Missing:
        return None


def create(db: sqlite3.Connection, type_: str, key: str, attrs: dict[str, Any]) -> None:
    """Insert a resource with ``attrs``; its parents must exist.

    Every table is unique on the key it is found by, so an object that
    already exists makes the insert fail rather than be looked up first.
    """
    table, parts = TABLES[type_], key.split("/")
    try:
        row = table.insert(db, parts)
    except Missing as exc:
        raise TargetError(f'{type_}["{key}"]: {exc} does not exist') from None
    except sqlite3.IntegrityError:
        if find(db, type_, key) is not None:
            raise TargetError(f'{type_}["{key}"] already exists in the local tenant') from None
        raise
    table.set(db, parts, row, attrs)


def update(db: sqlite3.Connection, type_: str, key: str, attrs: dict[str, Any]) -> None:
    """Set only the given attributes of an existing resource."""
    row = find(db, type_, key)
    if row is None:
        raise ItemGoneError(f'{type_}["{key}"] no longer exists')
    TABLES[type_].set(db, key.split("/"), row, attrs)


def delete(db: sqlite3.Connection, type_: str, key: str) -> None:
    """Delete a resource and, by cascade, everything it owns."""
    row = find(db, type_, key)
    if row is None:
        raise ItemGoneError(f'{type_}["{key}"] no longer exists')
    db.execute(f"DELETE FROM {TABLES[type_].name} WHERE rowid = ?", (row,))
