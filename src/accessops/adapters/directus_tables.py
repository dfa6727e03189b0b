"""Table and field permissions on Directus: permission rows and their field lists.

A table's action roles are rows (one per role policy, collection and action);
a field's read roles are the ``fields`` lists of the read rows. The
bookkeeping row on the workspace policy records which collections and fields
git manages (see :mod:`accessops.adapters.directus_live`).
"""

from __future__ import annotations

from typing import Any

from accessops.adapters.directus_live import ACTIONS, DEFAULT_ROLE_ACTIONS, OPEN_KEY, Permission, Snapshot
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
        known = self.snapshot().collections.get(collection)
        if known is not None:
            return known
        if collection not in self._fields:
            data = self._call("GET", f"/fields/{collection}", f"collection {collection}") or []
            self._fields[collection] = sorted(f["field"] for f in data if (f.get("type") or "alias") != "alias")
        return self._fields[collection]

    def _bookkeeping(
        self, collection: str, managed: list[str] | None, open_actions: set[str] | None = None, open_fields: set[str] | None = None
    ) -> None:
        """Record (or with ``managed`` None, forget) that git manages this collection and these fields.

        ``open_actions`` and ``open_fields`` (None: keep what is recorded) are
        the actions and field reads the manifests leave unrestricted.
        """
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
        had_actions, had_fields = snap.open_marks(collection)
        mark = {
            "actions": sorted(had_actions if open_actions is None else open_actions),
            "fields": sorted((had_fields if open_fields is None else open_fields) & set(managed)),
        }
        presets = {OPEN_KEY: mark}
        if row is None:
            self._add_row(ws.id, collection, "read", fields, presets)
        elif row.fields != fields or row.presets != presets:
            self._call("PATCH", f"/permissions/{row.id}", f"permission {row.id}", json={"fields": fields, "presets": presets})
            row.fields, row.presets = fields, presets

    def _add_row(self, policy_id: str, collection: str, action: str, fields: list[str] | None, presets: dict[str, Any] | None = None) -> None:
        self._add_rows([(policy_id, collection, action, fields, presets)])

    def _add_rows(self, rows: list[tuple[str, str, str, list[str] | None, dict[str, Any] | None]]) -> None:
        """Create permission rows in one request (Directus creates an array in one transaction)."""
        if not rows:
            return
        bodies: list[dict[str, Any]] = []
        for policy_id, collection, action, fields, presets in rows:
            body: dict[str, Any] = {"policy": policy_id, "collection": collection, "action": action, "fields": fields, "permissions": {}}
            if presets is not None:
                body["presets"] = presets
            bodies.append(body)
        what = f"permission on {rows[0][1]}" if len(rows) == 1 else f"{len(rows)} permissions"
        data = self._call("POST", "/permissions", what, json=bodies if len(bodies) > 1 else bodies[0])
        made = {(d["policy"], d["collection"], d["action"]): d for d in (data if isinstance(data, list) else [data])}
        for policy_id, collection, action, fields, presets in rows:
            d = made[(policy_id, collection, action)]
            self.snapshot().permissions[d["id"]] = Permission(d["id"], policy_id, collection, action, fields, presets)

    def _drop_rows(self, rows: list[Permission]) -> None:
        if not rows:
            return
        self._call("DELETE", "/permissions", "permissions", json=[r.id for r in rows])
        for r in rows:
            self.snapshot().permissions.pop(r.id, None)

    def _read_fields(self, collection: str, role: str, allowed: dict[str, set[str] | None]) -> list[str]:
        """The read row's field list: everything but the managed fields this role may not read (None: every reader may)."""
        denied = {f for f, roles in allowed.items() if roles is not None and role not in roles}
        if not denied:
            return ["*"]
        return [f for f in self._collection_fields(collection) if f not in denied]

    def _field_access(self, collection: str) -> dict[str, set[str] | None]:
        """Managed field -> roles that may read it now, from the live read rows (None: unrestricted)."""
        snap = self.snapshot()
        names = {p.id: n for n, p in snap.role_policies().items()}
        readers = [p for p in snap.rows(collection, "read") if p.policy in names]
        _, open_fields = snap.open_marks(collection)
        return {
            f: None if f in open_fields else {names[p.policy] for p in readers if p.fields and ("*" in p.fields or f in p.fields)}
            for f in snap.managed_fields(collection)
        }

    def _sync_table(self, collection: str, wanted: dict[str, list[str]], allowed: dict[str, set[str] | None]) -> None:
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
                self._add_rows([
                    (roles[role].id, collection, theirs, self._read_fields(collection, role, allowed) if theirs == "read" else ["*"], None)
                    for role in sorted(want - have)
                ])
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
        # an action the manifest leaves out (None) is unrestricted: the default roles that may do it hold it
        open_actions = {a for a in ACTIONS if a in after and after[a] is None}
        self._bookkeeping(collection, snap.managed_fields(collection), open_actions=open_actions)
        wanted = {a: list(DEFAULT_ROLE_ACTIONS[a]) if after[a] is None else after[a] for a in ACTIONS if a in after}
        self._sync_table(collection, wanted, self._field_access(collection))

    def _apply_field_permission(self, change: Change, after: dict[str, Any] | None) -> None:
        _, _, collection, fld = change.key.split("/")
        snap = self.snapshot()
        allowed = self._field_access(collection)
        _, open_fields = snap.open_marks(collection)
        if after is None:
            allowed.pop(fld, None)
            open_fields.discard(fld)
        elif after.get("read") is None and "read" in after:  # unrestricted: whoever reads the table
            if fld not in self._collection_fields(collection):
                raise TargetError(f"directus: {change.address}: collection {collection!r} has no field {fld!r}")
            allowed[fld] = None
            open_fields.add(fld)
        else:
            if fld not in self._collection_fields(collection):
                raise TargetError(f"directus: {change.address}: collection {collection!r} has no field {fld!r}")
            open_fields.discard(fld)
            want = set(after.get("read", []))
            names = {p.id: n for n, p in snap.role_policies().items()}
            readers = {names[p.policy] for p in snap.rows(collection, "read") if p.policy in names}
            if want - readers:
                raise TargetError(
                    f"directus: {change.address}: role(s) {', '.join(sorted(want - readers))} cannot read table {collection}; add them to its read roles"
                )
            allowed[fld] = want
        self._bookkeeping(collection, sorted(allowed), open_fields=open_fields)
        self._sync_table(collection, {}, allowed)
