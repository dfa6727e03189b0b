"""Table and field permissions on Directus: permission rows and their field lists.

A table's action roles are rows (one per role policy, collection and action);
a field's read roles are the ``fields`` lists of the read rows. The
bookkeeping row on the workspace policy records which collections and fields
git manages (see :mod:`accessops.adapters.directus_live`).
"""

from __future__ import annotations

from typing import Any

from accessops.adapters.directus_live import ACTIONS, Permission, Snapshot
from accessops.errors import TargetError
from accessops.plan.change import Change


class TablePermissions:
    """The table_permission and field_permission half of the Directus adapter."""

    _fields: dict[str, list[str]]  # collection -> its field names, read once per adapter

    def snapshot(self) -> Snapshot:
        """The live index (provided by the adapter)."""
        raise NotImplementedError

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _collection_fields(self, collection: str) -> list[str]:
        if collection not in self._fields:
            data = self._call("GET", f"/fields/{collection}", f"collection {collection}") or []
            self._fields[collection] = sorted(f["field"] for f in data if (f.get("type") or "alias") != "alias")
        return self._fields[collection]

    def _bookkeeping(self, collection: str, managed: list[str] | None) -> None:
        """Record (or with ``managed`` None, forget) that git manages this collection and these fields."""
        snap = self.snapshot()
        ws = snap.workspace_policy()
        if ws is None:
            raise TargetError(f"directus: table {collection}: the workspace does not exist yet")
        row = snap.bookkeeping_row(collection)
        if managed is None:
            if row is not None:
                self._drop_rows([row])
            return
        fields = sorted(managed) or None
        if row is None:
            self._add_row(ws.id, collection, "read", fields)
        elif row.fields != fields:
            self._call("PATCH", f"/permissions/{row.id}", f"permission {row.id}", json={"fields": fields})
            row.fields = fields

    def _add_row(self, policy_id: str, collection: str, action: str, fields: list[str] | None) -> None:
        body: dict[str, Any] = {"policy": policy_id, "collection": collection, "action": action, "fields": fields, "permissions": {}}
        data = self._call("POST", "/permissions", f"permission on {collection}", json=body)
        self.snapshot().permissions[data["id"]] = Permission(data["id"], policy_id, collection, action, fields)

    def _drop_rows(self, rows: list[Permission]) -> None:
        if not rows:
            return
        self._call("DELETE", "/permissions", "permissions", json=[r.id for r in rows])
        for r in rows:
            self.snapshot().permissions.pop(r.id, None)

    def _read_fields(self, collection: str, role: str, allowed: dict[str, set[str]]) -> list[str]:
        """The read row's field list: everything but the managed fields this role may not read."""
        denied = {f for f, roles in allowed.items() if role not in roles}
        if not denied:
            return ["*"]
        return [f for f in self._collection_fields(collection) if f not in denied]

    def _field_access(self, collection: str) -> dict[str, set[str]]:
        """Managed field -> roles that may read it now, from the live read rows."""
        snap = self.snapshot()
        names = {p.id: n for n, p in snap.role_policies().items()}
        readers = [p for p in snap.rows(collection, "read") if p.policy in names]
        return {
            f: {names[p.policy] for p in readers if p.fields and ("*" in p.fields or f in p.fields)}
            for f in snap.managed_fields(collection)
        }

    def _sync_table(self, collection: str, wanted: dict[str, list[str]], allowed: dict[str, set[str]]) -> None:
        """Make each action's rows match ``wanted`` and each read row's fields match ``allowed``."""
        snap = self.snapshot()
        roles = snap.role_policies()
        names = {p.id: n for n, p in roles.items()}
        for ours, theirs in ACTIONS.items():
            rows = [p for p in snap.rows(collection, theirs) if p.policy in names]
            if ours in wanted:
                want = set(wanted[ours])
                unknown = want - set(roles)
                if unknown:
                    raise TargetError(f"directus: table {collection} {ours}: role(s) {', '.join(sorted(unknown))} do not exist in Directus")
                self._drop_rows([r for r in rows if names[r.policy] not in want])
                have = {names[r.policy] for r in rows}
                for role in sorted(want - have):
                    fields = self._read_fields(collection, role, allowed) if theirs == "read" else ["*"]
                    self._add_row(roles[role].id, collection, theirs, fields)
            if theirs == "read":
                for row in [p for p in snap.rows(collection, "read") if p.policy in names]:
                    fields = self._read_fields(collection, names[row.policy], allowed)
                    if row.fields != fields:
                        self._call("PATCH", f"/permissions/{row.id}", f"permission {row.id}", json={"fields": fields})
                        row.fields = fields

    def _apply_table_permission(self, change: Change, after: dict[str, Any] | None) -> None:
        collection = change.key.split("/")[2]
        snap = self.snapshot()
        if after is None:
            names = {p.id for p in snap.role_policies().values()}
            self._drop_rows([r for r in snap.rows(collection) if r.policy in names])
            self._bookkeeping(collection, None)
            return
        self._bookkeeping(collection, snap.managed_fields(collection))
        wanted = {a: after[a] for a in ACTIONS if a in after}
        self._sync_table(collection, wanted, self._field_access(collection))

    def _apply_field_permission(self, change: Change, after: dict[str, Any] | None) -> None:
        _, _, collection, fld = change.key.split("/")
        snap = self.snapshot()
        allowed = self._field_access(collection)
        if after is None:
            allowed.pop(fld, None)
        else:
            if fld not in self._collection_fields(collection):
                raise TargetError(f"directus: {change.address}: collection {collection!r} has no field {fld!r}")
            want = set(after.get("read", []))
            names = {p.id: n for n, p in snap.role_policies().items()}
            readers = {names[p.policy] for p in snap.rows(collection, "read") if p.policy in names}
            if want - readers:
                raise TargetError(
                    f"directus: {change.address}: role(s) {', '.join(sorted(want - readers))} cannot read table {collection}; add them to its read roles"
                )
            allowed[fld] = want
        self._bookkeeping(collection, sorted(allowed))
        self._sync_table(collection, {}, allowed)
