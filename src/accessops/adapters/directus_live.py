"""A snapshot of one Directus 11 instance, and how it reads as seed-003 resources.

Directus objects accessops manages carry a marker: the policy's description
is ``accessops {json}`` with a ``kind``:

* ``organization``: the org Admin policy (app access and user management,
  never admin access), attached directly to org Admin users; its marker
  records the organization name and profile;
* ``workspace``: a bookkeeping policy attached to nobody, so it grants
  nothing; its marker records the workspace name and profile, and its
  ``read`` permission rows list the collections (and, in ``fields``, the
  fields) whose permissions git manages, and in ``presets`` which of their
  actions and field reads the manifests leave unrestricted;
* ``workspace-role`` / ``custom-role``: the policy of the Directus role of the
  same name (Admin, Editor, Viewer, None, or a custom role).

Who may do what is always read from the role policies' permission rows;
the bookkeeping rows only say which tables and fields exist for accessops.
Directus's own system rows (``policy`` null) are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from accessops.adapters.http import HttpClient
from accessops.errors import TargetError
from accessops.model.resource import Resource, ResourceMap

MARK = "accessops "
ROLE_KINDS = ("workspace-role", "custom-role")
#: accessops table action -> Directus permission action
ACTIONS = {"read": "read", "create": "create", "edit": "update", "delete": "delete"}
#: An unrestricted table action is held by the default roles that may do it
#: (seed 003; the Admin role has admin access and needs no rows).
DEFAULT_ROLE_ACTIONS = {"read": ("Editor", "Viewer"), "create": ("Editor",), "edit": ("Editor",), "delete": ("Editor",)}
#: The key of the bookkeeping row's ``presets`` that says what is unrestricted.
OPEN_KEY = "accessops"


def marker_text(kind: str, **data: str) -> str:
    """The description that marks a policy as accessops-managed."""
    return MARK + json.dumps({"kind": kind, **data}, sort_keys=True)


def parse_marker(description: str | None) -> dict[str, str] | None:
    """The marker of a policy description, or None for policies accessops does not manage."""
    if not description or not description.startswith(MARK):
        return None
    try:
        data = json.loads(description[len(MARK) :])
    except ValueError:
        return None
    return data if isinstance(data, dict) and "kind" in data else None


@dataclass
class Policy:
    """A Directus policy (admin/app access and permission rows hang off it)."""

    id: str
    name: str
    admin_access: bool
    marker: dict[str, str] | None


@dataclass
class Role:
    """A Directus role; users have one."""

    id: str
    name: str
    description: str | None


@dataclass
class Access:
    """A ``directus_access`` row: a policy attached to a role or to one user."""

    id: str
    role: str | None
    user: str | None
    policy: str


@dataclass
class User:
    """A Directus user."""

    id: str
    email: str
    status: str
    role: str | None
    name: str | None


@dataclass
class Permission:
    """A permission row: one policy, one collection, one action, a field list."""

    id: int
    policy: str
    collection: str
    action: str
    fields: list[str] | None
    presets: dict[str, Any] | None = None


def _data(resp: Any, path: str) -> Any:
    """The ``data`` of a system endpoint's answer; a 404 there is a wrong URL, never an empty Directus."""
    if resp.status_code == 404:
        raise TargetError(f"directus: GET {path}: HTTP 404: no Directus API here (check the target URL's base path)")
    return resp.json().get("data") or []


def _paged(client: HttpClient, path: str, params: dict[str, str], page_size: int) -> list[dict[str, Any]]:
    """Every item of a listing, page by page (limit/offset) until a short page."""
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        resp = client.request("GET", path, params={**params, "limit": str(page_size), "offset": str(offset), "sort": "id"})
        page = _data(resp, path)
        items.extend(page)
        if len(page) < page_size:
            return items
        offset += page_size


@dataclass
class Snapshot:
    """Everything accessops reads from one Directus, indexed for apply."""

    policies: dict[str, Policy] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    access: dict[str, Access] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)  # by lowercased email
    permissions: dict[int, Permission] = field(default_factory=dict)
    collections: dict[str, list[str]] = field(default_factory=dict)  # user collection -> its fields

    @classmethod
    def fetch(cls, client: HttpClient, page_size: int) -> "Snapshot":
        """Read policies, roles, access rows, users and non-system permission rows."""
        snap = cls()
        for p in _paged(client, "/policies", {"fields": "id,name,description,admin_access"}, page_size):
            snap.policies[p["id"]] = Policy(p["id"], p["name"], bool(p["admin_access"]), parse_marker(p.get("description")))
        for r in _paged(client, "/roles", {"fields": "id,name,description"}, page_size):
            snap.roles[r["id"]] = Role(r["id"], r["name"], r.get("description"))
        for a in _paged(client, "/access", {"fields": "id,role,user,policy"}, page_size):
            snap.access[a["id"]] = Access(a["id"], a.get("role"), a.get("user"), a["policy"])
        for u in _paged(client, "/users", {"fields": "id,email,status,role,first_name,last_name"}, page_size):
            if not u.get("email"):
                continue  # API-only users without an email are no members
            name = " ".join(part for part in (u.get("first_name"), u.get("last_name")) if part) or None
            snap.users[u["email"].lower()] = User(u["id"], u["email"].lower(), u["status"], u.get("role"), name)
        rows = _paged(client, "/permissions", {"fields": "id,policy,collection,action,fields,presets", "filter[policy][_nnull]": "true"}, page_size)
        for row in rows:
            if row.get("policy") is None:
                continue  # Directus's own system rows
            presets = row.get("presets") if isinstance(row.get("presets"), dict) else None
            snap.permissions[row["id"]] = Permission(row["id"], row["policy"], row["collection"], row["action"], row.get("fields"), presets)
        # every user collection and its fields, so that what git leaves undeclared still gets a verdict
        for f in _data(client.request("GET", "/fields"), "/fields"):
            coll = f.get("collection") or ""
            if coll and not coll.startswith("directus_") and (f.get("type") or "alias") != "alias":
                snap.collections.setdefault(coll, []).append(f["field"])
        for names in snap.collections.values():
            names.sort()
        return snap

    # --- what the markers say ------------------------------------------------

    def marked(self, kind: str) -> list[Policy]:
        """Policies whose marker has ``kind``."""
        return [p for p in self.policies.values() if p.marker and p.marker["kind"] == kind]

    def org_policy(self) -> Policy | None:
        """The org Admin policy, which also records the organization."""
        found = self.marked("organization")
        return found[0] if found else None

    def workspace_policy(self) -> Policy | None:
        """The bookkeeping policy of the one workspace, if it exists."""
        found = self.marked("workspace")
        return found[0] if found else None

    def role_policies(self) -> dict[str, Policy]:
        """Accessops role name -> its policy (workspace and custom roles)."""
        return {p.name: p for p in self.policies.values() if p.marker and p.marker["kind"] in ROLE_KINDS}

    def role_of(self, policy: Policy) -> Role | None:
        """The Directus role a role policy is attached to."""
        for a in self.access.values():
            if a.policy == policy.id and a.role in self.roles:
                return self.roles[a.role]
        return None

    def user_access(self, user: User) -> list[Access]:
        """Policies attached to the user directly."""
        return [a for a in self.access.values() if a.user == user.id]

    def rows(self, collection: str, action: str | None = None) -> list[Permission]:
        """Permission rows on a collection (of one action), any policy."""
        return [p for p in self.permissions.values() if p.collection == collection and (action is None or p.action == action)]

    def bookkeeping_row(self, collection: str) -> Permission | None:
        """The row that says git manages this collection's permissions."""
        ws = self.workspace_policy()
        if ws is None:
            return None
        found = [p for p in self.rows(collection, "read") if p.policy == ws.id]
        return found[0] if found else None

    def managed_fields(self, collection: str) -> list[str]:
        """Fields of a collection whose read git manages."""
        row = self.bookkeeping_row(collection)
        return sorted(f for f in (row.fields or []) if f != "*") if row else []

    def open_marks(self, collection: str) -> tuple[set[str], set[str]]:
        """(table actions, fields) the manifests leave unrestricted on a managed collection."""
        row = self.bookkeeping_row(collection)
        mark = (row.presets or {}).get(OPEN_KEY) if row else None
        if not isinstance(mark, dict):
            return set(), set()
        return set(mark.get("actions") or ()), set(mark.get("fields") or ())

    def is_admin(self, user: User, unmanaged_only: bool = False) -> bool:
        """Whether any policy gives the user admin access (directly or through its role).

        ``unmanaged_only``: only policies accessops did not create (Directus's
        own Administrator role, or one made by hand).
        """
        policy_ids = {a.policy for a in self.user_access(user)}
        policy_ids |= {a.policy for a in self.access.values() if user.role and a.role == user.role}
        found = [self.policies[p] for p in policy_ids if p in self.policies]
        return any(p.admin_access and not (unmanaged_only and p.marker) for p in found)

    # --- as resources --------------------------------------------------------

    def resources(self, org: str) -> ResourceMap:
        """The live seed-003 resources of this Directus, under organization ``org``."""
        out: ResourceMap = {}

        def add(type_: str, key: str, **attrs: Any) -> None:
            res = Resource(type_, key, attrs)
            out[res.address] = res

        org_policy = self.org_policy()
        if org_policy is not None:
            add("organization", org, profile=(org_policy.marker or {}).get("profile"))
        roles = self.role_policies()
        role_by_id = {r.id: name for name, p in roles.items() if (r := self.role_of(p)) is not None}
        custom = {name: p for name, p in roles.items() if p.marker and p.marker["kind"] == "custom-role"}
        for name, policy in sorted(custom.items()):
            role = self.role_of(policy)
            add("custom_role", f"{org}/{name}", description=role.description if role else None)
        for email, user in sorted(self.users.items()):
            # the org role is the org Admin policy only: admin access a user has
            # through some other Directus role is not accessops's to report
            direct = {a.policy for a in self.user_access(user)}
            is_admin = org_policy is not None and org_policy.id in direct
            attrs: dict[str, Any] = {"role": "Admin" if is_admin else "Member", "status": user.status}
            if self.is_admin(user, unmanaged_only=True):
                attrs["superuser"] = True  # live only: Directus lets it do everything, whatever git says
            if user.name:
                attrs["name"] = user.name
            add("member", f"{org}/{email}", **attrs)
        ws = self.workspace_policy()
        if ws is None:
            return out
        w = f"{org}/{(ws.marker or {})['workspace']}"
        ws_attrs = {"profile": ws.marker["profile"]} if ws.marker and ws.marker.get("profile") else {}
        add("workspace", w, **ws_attrs)
        # older versions gave the org Admin policy admin access: whoever holds it
        # reaches everything, as a workspace Admin does, until an apply removes it
        legacy = org_policy.id if org_policy is not None and org_policy.admin_access else None
        for email, user in sorted(self.users.items()):
            direct = {a.policy for a in self.user_access(user)}
            if user.role in role_by_id or legacy in direct:
                extra = sorted(name for name, p in custom.items() if p.id in direct)
                ws_role = "Admin" if legacy in direct else role_by_id[user.role or ""]
                add("workspace_member", f"{w}/{email}", role=ws_role, custom_roles=extra)
        self._tables(add, w, roles)
        self._collections(add, w, roles)
        return out

    def _collections(self, add: Any, w: str, roles: dict[str, Policy]) -> None:
        """A ``table`` per user collection: its fields git does not manage and who may read them.

        Read only, never planned. An unmanaged field's readers are the roles
        whose read row lists it (None: every role that reads the table does).
        """
        names = {p.id: name for name, p in roles.items()}
        for collection, fields in sorted(self.collections.items()):
            readers = [p for p in self.rows(collection, "read") if p.policy in names]
            everyone = sorted(names[p.policy] for p in readers)
            managed = set(self.managed_fields(collection))
            unmanaged: dict[str, list[str] | None] = {}
            for fld in fields:
                if fld in managed:
                    continue
                allowed = sorted(names[p.policy] for p in readers if p.fields and ("*" in p.fields or fld in p.fields))
                unmanaged[fld] = None if allowed == everyone else allowed
            add("table", f"{w}/{collection}", fields=unmanaged)

    def _tables(self, add: Any, w: str, roles: dict[str, Policy]) -> None:
        names = {p.id: name for name, p in roles.items()}
        ws = self.workspace_policy()
        collections = sorted({p.collection for p in self.permissions.values() if p.policy in names or (ws and p.policy == ws.id)})
        for collection in collections:
            open_actions, open_fields = self.open_marks(collection)
            attrs: dict[str, Any] = {}
            for ours, theirs in ACTIONS.items():
                holders = sorted(names[p.policy] for p in self.rows(collection, theirs) if p.policy in names)
                # unrestricted, and still held by exactly the default roles: read back as unrestricted
                attrs[ours] = None if ours in open_actions and holders == sorted(DEFAULT_ROLE_ACTIONS[ours]) else holders
            add("table_permission", f"{w}/{collection}", **attrs)
            readers = [p for p in self.rows(collection, "read") if p.policy in names]
            table_readers = sorted(names[p.policy] for p in readers)
            for fld in self.managed_fields(collection):
                allowed = sorted(names[p.policy] for p in readers if p.fields and ("*" in p.fields or fld in p.fields))
                add("field_permission", f"{w}/{collection}/{fld}", read=None if fld in open_fields and allowed == table_readers else allowed)
