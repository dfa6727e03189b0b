"""The ``local`` adapter: a whole tenant of the union model in one SQLite file.

Target ``local:path/to/tenant.db`` (created on first use, parents included).
It is the embedded default, the README demo's live system and the reference
adapter of the conformance suite.

* :meth:`LocalAdapter.read` runs one query per table for the requested
  organizations and assembles resources in Python, with attributes shaped
  exactly as :func:`accessops.model.compile.compile_model` shapes them
  (lists sorted and deduplicated, scope mappings with sorted keys, booleans
  as ``bool``, absent optional attributes omitted). Members also carry the
  live-only ``status``, ``invited_at`` and ``joined_at``. Lists and scopes
  whose empty value means "none" (``custom_roles``, ``sections``,
  ``features``, ``settings``, ``permissions``) are always present; role lists
  of apps, tables and fields only when they restrict.
* :meth:`LocalAdapter.apply` makes one change in its own ``BEGIN IMMEDIATE``
  transaction: a failure or a crash leaves nothing half-written. A replace
  deletes the object, with everything it owns, and creates it anew.
* :meth:`LocalAdapter.apply_batch` makes up to :attr:`LocalAdapter.batch_limit`
  consecutive changes in one transaction, in plan order, so an apply from
  empty commits a few dozen times instead of once per change. A batch in
  which any change fails is rolled back whole and made again one change per
  transaction, so the failing change is identified exactly and the changes
  before it are kept, as if the batch had never been one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from accessops.adapters import local_write
from accessops.adapters.base import Adapter, Target
from accessops.adapters.local_lookup import ancestors_fixed
from accessops.adapters.local_schema import connect
from accessops.model.names import check_live, check_names
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change



def _attrs(**values: Any) -> dict[str, Any]:
    """Attributes without the absent (None) ones."""
    return {k: v for k, v in values.items() if v is not None}


def _bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


class LocalAdapter(Adapter):
    """A local SQLite tenant holding every resource type of the union model."""

    scheme = "local"
    #: consecutive changes of one phase and type go to :meth:`apply_batch`,
    #: at most :attr:`batch_limit` per transaction
    batch_writes = True
    batch_limit = 500
    supports = {
        "organization": frozenset({"profile", "seats"}),
        "member": frozenset({"role", "global_admin", "name", "status", "invited_at", "joined_at"}),
        "team": frozenset({"description"}),
        "team_member": frozenset(),
        "org_permission": frozenset({"role"}),
        "custom_role": frozenset({"description"}),
        "workspace": frozenset({"profile"}),
        "workspace_member": frozenset({"role", "custom_roles", "sections"}),
        "app_permission": frozenset({"allow"}),
        "table_permission": frozenset({"read", "create", "edit", "delete"}),
        "field_permission": frozenset({"read"}),
        "space_type": frozenset({"kind"}),
        "space_type_role": frozenset({"permissions"}),
        "space": frozenset({"kind", "type", "private", "auto_join"}),
        "space_member": frozenset({"role", "features", "settings"}),
    }

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        if not target.location:
            raise ValueError(f"target {str(target)!r} names no file (expected local:path/to/tenant.db)")
        self.path = Path(target.location).expanduser()
        self.db: sqlite3.Connection = connect(self.path)

    # --- transactions --------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")  # a no-op when SQLite already rolled back
            raise

    # --- the adapter protocol ----------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Make one change in its own transaction; ItemGoneError when its object vanished."""
        with self.transaction() as db:
            self.requests += 1
            self.write(db, change)
        self.writes += 1

    def apply_batch(self, changes: Sequence[Change]) -> list[BaseException | None]:
        """Make consecutive changes in one transaction; on any failure, roll it back and make them one by one.

        ``writes`` counts each change made once, however it was made;
        ``requests`` counts transactions.
        """
        try:
            with self.transaction() as db, ancestors_fixed(db, {c.type for c in changes}):
                self.requests += 1
                for change in changes:
                    self.write(db, change)
        except Exception:  # ItemGoneError too: the one-by-one pass reports it and goes on
            # nothing of the batch is left: one transaction per change tells which one fails
            return super().apply_batch(changes)
        self.writes += len(changes)
        return [None] * len(changes)

    def write(self, db: sqlite3.Connection, change: Change) -> None:
        """The statements of one change, inside the caller's transaction."""
        type_, key = change.type, change.key
        if change.action is Action.CREATE:
            local_write.create(db, type_, key, dict(change.after or {}))
        elif change.action is Action.UPDATE:
            local_write.update(db, type_, key, dict(change.after or {}))
        elif change.action is Action.DELETE:
            local_write.delete(db, type_, key)
        elif change.action is Action.REPLACE:
            local_write.delete(db, type_, key)
            local_write.create(db, type_, key, dict(change.after or {}))

    def identity(self) -> str | None:
        """The member email set with ``accessops tenant set-actor``, if any."""
        return self.setting("actor")

    def organizations(self) -> list[str]:
        """Names of every organization in the tenant."""
        self.requests += 1
        rows = self.db.execute("SELECT name FROM organizations ORDER BY name")
        return check_names((str(name) for (name,) in rows), "organization", f"local tenant {self.path}")

    def close(self) -> None:
        """Close the tenant file."""
        self.db.close()

    # --- tenant settings ---------------------------------------------------------------

    def setting(self, key: str) -> str | None:
        """One tenant setting (e.g. ``actor``), or None."""
        row = self.db.execute("SELECT value FROM tenant_settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str | None) -> None:
        """Set or (with None) clear a tenant setting."""
        with self.transaction() as db:
            db.execute("DELETE FROM tenant_settings WHERE key = ?", (key,))
            if value is not None:
                db.execute("INSERT INTO tenant_settings (key, value) VALUES (?, ?)", (key, value))

    # --- reading ---------------------------------------------------------------------

    def _rows(self, sql: str, org_ids: list[int]) -> list[Any]:
        """One query, filtered to the organizations read (``{orgs}`` is the id list)."""
        self.requests += 1
        marks = ",".join("?" * len(org_ids))
        return self.db.execute(sql.format(orgs=marks), org_ids).fetchall()

    def read(self, orgs: Sequence[str]) -> ResourceMap:
        """Every live resource of the named organizations, keyed by address."""
        names = sorted(set(orgs))
        if not names:
            return {}
        self.requests += 1
        marks = ",".join("?" * len(names))
        found = self.db.execute(f"SELECT id, name, profile, seats FROM organizations WHERE name IN ({marks})", names).fetchall()
        out: ResourceMap = {}

        def add(type_: str, key: str, attrs: dict[str, Any]) -> None:
            res = Resource(type_, key, attrs)
            out[res.address] = res

        org_name = {oid: name for oid, name, _, _ in found}
        ids = list(org_name)
        if not ids:
            return out
        # One read transaction so that every table is seen at the same moment.
        self.db.execute("BEGIN")
        try:
            for oid, name, profile, seats in found:
                add("organization", name, _attrs(profile=profile, seats=seats))
            self._read_org(ids, org_name, add)
            self._read_workspaces(ids, org_name, add)
            self._read_spaces(ids, org_name, add)
        finally:
            self.db.execute("COMMIT")
        # a tampered tenant can hold any name; none may become an address or a file name unchecked
        return check_live(out, f"local tenant {self.path}")

    def _read_org(self, ids: list[int], org_name: dict[int, str], add: Any) -> None:
        for org, email, role, admin, name, status, invited, joined, suspended in self._rows(
            "SELECT org_id, email, role, global_admin, name, status, invited_at, joined_at, suspended_at FROM members WHERE org_id IN ({orgs})", ids
        ):
            attrs = _attrs(role=role, global_admin=_bool(admin), name=name, invited_at=invited, joined_at=joined)
            attrs["status"] = "suspended" if suspended else status
            add("member", f"{org_name[org]}/{email}", attrs)
        for org, name, description in self._rows("SELECT org_id, name, description FROM teams WHERE org_id IN ({orgs})", ids):
            add("team", f"{org_name[org]}/{name}", _attrs(description=description))
        for org, team, email in self._rows(
            "SELECT t.org_id, t.name, m.email FROM team_members tm JOIN teams t ON t.id = tm.team_id "
            "JOIN members m ON m.id = tm.member_id WHERE t.org_id IN ({orgs})",
            ids,
        ):
            add("team_member", f"{org_name[org]}/{team}/{email}", {})
        for org, perm, role in self._rows("SELECT org_id, permission, role FROM org_permissions WHERE org_id IN ({orgs})", ids):
            add("org_permission", f"{org_name[org]}/{perm}", _attrs(role=role))
        for org, name, description in self._rows("SELECT org_id, name, description FROM custom_roles WHERE org_id IN ({orgs})", ids):
            add("custom_role", f"{org_name[org]}/{name}", _attrs(description=description))

    def _read_workspaces(self, ids: list[int], org_name: dict[int, str], add: Any) -> None:
        ws_key: dict[int, str] = {}
        for wid, org, name, profile in self._rows("SELECT id, org_id, name, profile FROM workspaces WHERE org_id IN ({orgs})", ids):
            ws_key[wid] = f"{org_name[org]}/{name}"
            add("workspace", ws_key[wid], _attrs(profile=profile))
        in_orgs = "workspace_id IN (SELECT id FROM workspaces WHERE org_id IN ({orgs}))"

        members: dict[int, tuple[str, dict[str, Any]]] = {}
        for wmid, wid, email, role in self._rows(
            f"SELECT wm.id, wm.workspace_id, m.email, wm.role FROM workspace_members wm JOIN members m ON m.id = wm.member_id WHERE {in_orgs}", ids
        ):
            members[wmid] = (f"{ws_key[wid]}/{email}", _attrs(role=role) | {"custom_roles": [], "sections": {}})
        for wmid, role in self._rows(
            "SELECT r.workspace_member_id, c.name FROM workspace_member_roles r JOIN custom_roles c ON c.id = r.custom_role_id "
            "WHERE c.org_id IN ({orgs})",
            ids,
        ):
            members[wmid][1]["custom_roles"].append(role)
        for wmid, section, level in self._rows(
            f"SELECT s.workspace_member_id, s.section, s.level FROM workspace_member_sections s "
            f"JOIN workspace_members wm ON wm.id = s.workspace_member_id WHERE wm.{in_orgs}",
            ids,
        ):
            members[wmid][1]["sections"][section] = level
        for key, attrs in members.values():
            attrs["custom_roles"].sort()
            attrs["sections"] = dict(sorted(attrs["sections"].items()))
            add("workspace_member", key, attrs)

        apps: dict[int, tuple[str, dict[str, Any]]] = {}
        for aid, wid, name, restricted in self._rows(f"SELECT id, workspace_id, name, allow_restricted FROM app_permissions WHERE {in_orgs}", ids):
            apps[aid] = (f"{ws_key[wid]}/{name}", {"allow": []} if restricted else {})
        for aid, role in self._rows(
            f"SELECT r.app_permission_id, r.role FROM app_permission_roles r JOIN app_permissions a ON a.id = r.app_permission_id WHERE a.{in_orgs}",
            ids,
        ):
            apps[aid][1].setdefault("allow", []).append(role)

        tables: dict[int, tuple[str, dict[str, Any]]] = {}
        for tid, wid, name in self._rows(f"SELECT id, workspace_id, name FROM table_permissions WHERE {in_orgs}", ids):
            tables[tid] = (f"{ws_key[wid]}/{name}", {})
        in_tables = f"table_permission_id IN (SELECT id FROM table_permissions WHERE {in_orgs})"
        for tid, action in self._rows(f"SELECT table_permission_id, action FROM table_permission_actions WHERE {in_tables}", ids):
            tables[tid][1][action] = []
        for tid, action, role in self._rows(f"SELECT table_permission_id, action, role FROM table_permission_roles WHERE {in_tables}", ids):
            tables[tid][1][action].append(role)

        fields: dict[int, tuple[str, dict[str, Any]]] = {}
        for fid, tid, name, restricted in self._rows(f"SELECT id, table_permission_id, name, read_restricted FROM field_permissions WHERE {in_tables}", ids):
            fields[fid] = (f"{tables[tid][0]}/{name}", {"read": []} if restricted else {})
        for fid, role in self._rows(
            f"SELECT r.field_permission_id, r.role FROM field_permission_roles r JOIN field_permissions f ON f.id = r.field_permission_id WHERE f.{in_tables}",
            ids,
        ):
            fields[fid][1].setdefault("read", []).append(role)

        for type_, found in (("app_permission", apps), ("table_permission", tables), ("field_permission", fields)):
            for key, attrs in found.values():
                add(type_, key, {k: sorted(v) for k, v in attrs.items()})

    def _read_spaces(self, ids: list[int], org_name: dict[int, str], add: Any) -> None:
        types: dict[int, str] = {}
        for sid, org, name, kind in self._rows("SELECT id, org_id, name, kind FROM space_types WHERE org_id IN ({orgs})", ids):
            types[sid] = f"{org_name[org]}/{name}"
            add("space_type", types[sid], _attrs(kind=kind))
        roles: dict[int, tuple[str, list[str]]] = {}
        in_types = "space_type_id IN (SELECT id FROM space_types WHERE org_id IN ({orgs}))"
        for rid, sid, name in self._rows(f"SELECT id, space_type_id, name FROM space_type_roles WHERE {in_types}", ids):
            roles[rid] = (f"{types[sid]}/{name}", [])
        for rid, perm in self._rows(
            f"SELECT p.space_type_role_id, p.permission FROM space_type_role_permissions p "
            f"JOIN space_type_roles r ON r.id = p.space_type_role_id WHERE r.{in_types}",
            ids,
        ):
            roles[rid][1].append(perm)
        for key, perms in roles.values():
            add("space_type_role", key, {"permissions": sorted(perms)})

        spaces: dict[int, str] = {}
        for sid, org, name, kind, type_, private, auto_join in self._rows(
            "SELECT id, org_id, name, kind, type, private, auto_join FROM spaces WHERE org_id IN ({orgs})", ids
        ):
            spaces[sid] = f"{org_name[org]}/{name}"
            add("space", spaces[sid], _attrs(kind=kind, type=type_, private=_bool(private), auto_join=_bool(auto_join)))
        in_spaces = "space_id IN (SELECT id FROM spaces WHERE org_id IN ({orgs}))"
        members: dict[int, tuple[str, dict[str, Any]]] = {}
        for smid, sid, email, role in self._rows(
            f"SELECT sm.id, sm.space_id, m.email, sm.role FROM space_members sm JOIN members m ON m.id = sm.member_id WHERE sm.{in_spaces}", ids
        ):
            members[smid] = (f"{spaces[sid]}/{email}", _attrs(role=role) | {"features": {}, "settings": {}})
        for smid, scope, key, level in self._rows(
            f"SELECT s.space_member_id, s.scope, s.key, s.level FROM space_member_scopes s "
            f"JOIN space_members sm ON sm.id = s.space_member_id WHERE sm.{in_spaces}",
            ids,
        ):
            members[smid][1][scope][key] = level
        for key, attrs in members.values():
            attrs["features"] = dict(sorted(attrs["features"].items()))
            attrs["settings"] = dict(sorted(attrs["settings"].items()))
            add("space_member", key, attrs)
