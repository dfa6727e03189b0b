"""The ``directus`` adapter: seed 003's model on a real Directus 11.

Target ``directus+http(s)://host[/base][?page_size=N]``; the token (a static
admin token) comes from ``ACCESSOPS_DIRECTUS_TOKEN``, the page size may also
come from ``ACCESSOPS_DIRECTUS_PAGE_SIZE``. One Directus instance
holds one organization and one workspace. The mapping (see
docs/adapters-directus.md and :mod:`accessops.adapters.directus_live`):

* workspace default roles (Admin, Editor, Viewer, None) and custom roles are
  Directus roles of the same name, each with one policy (Admin: admin access;
  every other: app access);
* members are users (status ``invited`` on creation); the org role Admin is
  the org Admin policy attached to the user (app access and user management,
  never admin access: seed 001 keeps organization and workspace access apart); the workspace role is the user's
  Directus role, custom roles are their policies attached to the user;
* a table's read/create/edit/delete roles are permission rows of those roles'
  policies; a field's read roles are the ``fields`` lists of the read rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from accessops.adapters.base import Adapter, ItemGoneError, Target
from accessops.adapters.directus_batch import BatchWrites, Writes, note
from accessops.adapters.directus_live import Access, Policy, Role, Snapshot, User, marker_text
from accessops.adapters.directus_tables import TablePermissions
from accessops.adapters.http import HttpClient
from accessops.errors import Refusal, RefusedError, TargetError
from accessops.model.names import check_live, check_names
from accessops.model.resource import ResourceMap
from accessops.plan.change import Action, Change
from accessops.secrets import credential

TOKEN_ENV = "ACCESSOPS_DIRECTUS_TOKEN"
PAGE_SIZE_ENV = "ACCESSOPS_DIRECTUS_PAGE_SIZE"
DEFAULT_PAGE_SIZE = 200
# Seed 003's default workspace roles; the bypass role gets admin access.
WORKSPACE_ROLES = ("Admin", "Editor", "Viewer", "None")
BYPASS_ROLE = "Admin"
ORG_ROLES = ("Admin", "Member")


class DirectusAdapter(BatchWrites, TablePermissions, Adapter):
    """Reads and writes seed-003 access on one Directus 11 instance."""

    scheme = "directus"
    supports: ClassVar[dict[str, frozenset[str]]] = {
        "organization": frozenset({"profile"}),
        "member": frozenset({"role", "name", "status"}),
        "custom_role": frozenset({"description"}),
        "workspace": frozenset({"profile"}),
        "workspace_member": frozenset({"role", "custom_roles"}),
        "table_permission": frozenset({"read", "create", "edit", "delete"}),
        "field_permission": frozenset({"read"}),
    }

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        try:
            parts = urlsplit(target.http_location())
        except ValueError as exc:
            raise TargetError(str(exc)) from None
        query = dict(parse_qsl(parts.query))
        options = {**query, **target.options}
        page_size = str(options.get("page_size") or os.environ.get(PAGE_SIZE_ENV) or DEFAULT_PAGE_SIZE)
        if not page_size.isdigit() or int(page_size) < 1:
            raise TargetError(f"directus: page size {page_size!r}: expected a positive whole number ({PAGE_SIZE_ENV} or ?page_size=)")
        self.page_size = int(page_size)
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        token = credential("directus", target.options.get("settings_raw"), target.options.get("config_dir"))
        if not token:
            raise TargetError(
                f"directus: {TOKEN_ENV} is not set (a static token of an admin user; "
                f"or {TOKEN_ENV}_FILE, or [credentials] directus_token_file in accessops.toml)"
            )
        self.client = HttpClient(base, token, name="directus")
        self._snap: Snapshot | None = None
        self._identity: str | None = None
        self._fields = {}

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self.client.requests

    @requests.setter
    def requests(self, value: int) -> None:
        pass  # the base class initialises a counter; ours lives in the client

    # --- reading ---------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The live index, read once and kept current by every write."""
        if self._snap is None:
            self._snap = Snapshot.fetch(self.client, self.page_size)
        return self._snap

    def read(self, orgs: Sequence[str]) -> ResourceMap:
        """The live resources of the one organization this Directus holds."""
        self._snap = Snapshot.fetch(self.client, self.page_size)
        org = self._org_name(orgs)
        # markers, collections and e-mail addresses are whatever the instance holds
        return check_live(self._snap.resources(org), "directus") if org in orgs else {}

    def _marker_org(self) -> str | None:
        """The organization name the org policy's marker records (checked: a marker can be edited by hand)."""
        org_policy = self.snapshot().org_policy()
        if org_policy is None or not org_policy.marker:
            return None
        name = org_policy.marker.get("org")
        if not isinstance(name, str):
            raise TargetError(f"directus: policy {org_policy.id}: its accessops marker names no organization; fix its description")
        return check_names([name], "organization", f"directus: policy {org_policy.id}")[0]

    def _org_name(self, orgs: Sequence[str]) -> str:
        marked = self._marker_org()
        if marked is not None:
            return marked
        if len(set(orgs)) > 1:
            raise TargetError(f"directus: one Directus holds one organization; the manifests declare {len(set(orgs))}: {', '.join(sorted(set(orgs)))}")
        return orgs[0] if orgs else ""

    def organizations(self) -> list[str]:
        """The organization recorded in this Directus, if any."""
        marked = self._marker_org()
        return [] if marked is None else [marked]

    def identity(self) -> str | None:
        """The email of the token's user; accessops never removes or demotes it."""
        if self._identity is None:
            resp = self.client.request("GET", "/users/me", params={"fields": "email"})
            self._identity = (resp.json().get("data") or {}).get("email", "").lower() or None
        return self._identity

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()

    # --- writing ---------------------------------------------------------------

    def apply(self, change: Change) -> None:
        """Make one change live."""
        if change.action is Action.NOOP:
            return
        handler = getattr(self, f"_apply_{change.type}", None)
        if handler is None:
            raise TargetError(f"directus: cannot express {change.type} resources ({change.address})")
        self._drop_legacy_admin_access()
        handler(change, change.after if change.action is not Action.DELETE else None)
        self.writes += 1

    def _drop_legacy_admin_access(self) -> None:
        """Older versions gave the org Admin policy admin access; the first write of an apply takes it away."""
        current = self.snapshot().org_policy()
        if current is not None and current.admin_access:
            self._call("PATCH", f"/policies/{current.id}", "organization policy", json={"admin_access": False})
            current.admin_access = False
            self._org_admin_rows(current)

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        resp = self.client.request(method, path, **kwargs)
        if resp.status_code in (404, 412):
            raise ItemGoneError(f"directus: {what} is gone ({method} {path})")
        return resp.json().get("data") if resp.content else None

    def _new_policy(self, name: str, kind: str, admin: bool, app: bool, **marker: str) -> Policy:
        data = self._call(
            "POST", "/policies", f"policy {name}",
            json={"name": name, "description": marker_text(kind, **marker), "admin_access": admin, "app_access": app},
        )
        policy = Policy(data["id"], name, admin, {"kind": kind, **marker})
        self.snapshot().policies[policy.id] = policy
        return policy

    def _new_role(self, name: str, description: str | None, policy: Policy) -> None:
        data = self._call("POST", "/roles", f"role {name}", json={"name": name, "description": description, "policies": [{"policy": policy.id}]})
        snap = self.snapshot()
        snap.roles[data["id"]] = Role(data["id"], name, description)
        for access_id in data.get("policies") or []:
            snap.access[access_id] = Access(access_id, data["id"], None, policy.id)

    def _drop_role(self, name: str) -> None:
        """Delete an accessops role and its policy (Directus drops their rows with them)."""
        snap = self.snapshot()
        policy = snap.role_policies().get(name)
        if policy is None:
            raise ItemGoneError(f"directus: role {name!r} is gone")
        role = snap.role_of(policy)
        if role is not None:
            for user in snap.users.values():
                if user.role == role.id:
                    self._call("PATCH", f"/users/{user.id}", f"user {user.email}", json={"role": None})
                    user.role = None
            self._call("DELETE", f"/roles/{role.id}", f"role {name}")
            del snap.roles[role.id]
        self._drop_policy(policy)

    def _drop_policy(self, policy: Policy) -> None:
        snap = self.snapshot()
        self._call("DELETE", f"/policies/{policy.id}", f"policy {policy.name}")
        del snap.policies[policy.id]
        snap.access = {k: a for k, a in snap.access.items() if a.policy != policy.id}
        snap.permissions = {k: p for k, p in snap.permissions.items() if p.policy != policy.id}

    # organization ------------------------------------------------------------

    def _apply_organization(self, change: Change, after: dict[str, Any] | None) -> None:
        snap = self.snapshot()
        current = snap.org_policy()
        org = change.key
        if after is None:
            if current is not None:
                self._drop_policy(current)
            return
        if after.get("seats") is not None:
            raise TargetError(f"directus: organization {org!r}: Directus has no seat limit to set")
        marker = {"org": org, "profile": after.get("profile") or ""}
        if current is None:
            workspace = snap.workspace_policy()
            if workspace is not None and (workspace.marker or {}).get("org") not in (None, org):
                raise TargetError(f"directus: this Directus already holds another organization's workspace; cannot add organization {org!r}")
            policy = self._new_policy("accessops: organization Admin", "organization", False, True, **marker)
            self._org_admin_rows(policy)
            return
        self._call("PATCH", f"/policies/{current.id}", f"organization {org}", json={"description": marker_text("organization", **marker)})
        current.marker = {"kind": "organization", **marker}

    def _org_admin_rows(self, policy: Policy) -> None:
        """Organization administration without workspace data: manage the users (seed 001 "Admin")."""
        self._add_rows([(policy.id, "directus_users", action, ["*"], None) for action in ("create", "read", "update", "delete")])

    # custom roles --------------------------------------------------------------

    def _apply_custom_role(self, change: Change, after: dict[str, Any] | None) -> None:
        name = change.key.split("/")[1]
        snap = self.snapshot()
        if after is None:
            self._drop_role(name)
            return
        policy = snap.role_policies().get(name)
        if policy is None:
            self._new_role(name, after.get("description"), self._new_policy(name, "custom-role", False, True))
            return
        role = snap.role_of(policy)
        if role is None:
            raise ItemGoneError(f"directus: role {name!r} is gone")
        self._call("PATCH", f"/roles/{role.id}", f"role {name}", json={"description": after.get("description")})
        role.description = after.get("description")

    # members -------------------------------------------------------------------

    def _user(self, email: str) -> User:
        user = self.snapshot().users.get(email)
        if user is None:
            raise ItemGoneError(f"directus: user {email} is gone")
        return user

    def _apply_member(self, change: Change, after: dict[str, Any] | None) -> None:
        writes = Writes()
        self._prepare_member(change, writes)
        self.send(writes)

    def _prepare_member(self, change: Change, w: Writes) -> None:
        """Check one member change against the snapshot and note the writes it needs."""
        email = change.key.split("/")[1]
        snap = self.snapshot()
        after = change.after if change.action is not Action.DELETE else None
        if after is None:
            if email == self.identity():
                raise RefusedError([Refusal("identity", f"will not remove {email}: it is the identity running the apply")])
            w.delete_users.append((self._user(email).id, email))
            return
        role = after.get("role", "Member")
        if role not in ORG_ROLES:
            raise TargetError(f"directus: member {email}: org role {role!r} cannot be expressed (Admin or Member)")
        org_policy = snap.org_policy()
        if org_policy is None:
            raise TargetError(f"directus: member {email}: the organization does not exist yet")
        if change.action is Action.CREATE and email not in snap.users:
            w.create_users.append({"email": email, "status": "invited", "first_name": after.get("name")})
            if role == "Admin":
                w.attach.append((email, org_policy.id))
            return
        user = self._user(email)
        if "name" in after and after["name"] != user.name:
            w.patch_users.append(({"id": user.id, "first_name": after["name"], "last_name": None}, note(user, name=after["name"])))
        attached = [a for a in snap.user_access(user) if a.policy == org_policy.id]
        if role == "Admin" and not attached:
            w.attach.append((email, org_policy.id))
        elif role == "Member":
            if user.email == self.identity():
                raise RefusedError([Refusal("identity", f"will not demote {user.email}: it is the identity running the apply")])
            w.detach += [a.id for a in attached]

    # workspace and its members ---------------------------------------------------

    def _apply_workspace(self, change: Change, after: dict[str, Any] | None) -> None:
        org, name = change.key.split("/")
        snap = self.snapshot()
        current = snap.workspace_policy()
        if after is None:
            for role in WORKSPACE_ROLES:
                if role in snap.role_policies():
                    self._drop_role(role)
            if current is not None:
                self._drop_policy(current)
            return
        marker = {"org": org, "workspace": name, "profile": after.get("profile") or ""}
        if current is not None and current.marker and current.marker.get("workspace") != name:
            raise TargetError(
                f"directus: one Directus holds one workspace; it holds {current.marker.get('workspace')!r}, cannot add {name!r}"
            )
        if current is None:
            self._new_policy(f"accessops: workspace {name}", "workspace", False, False, **marker)
        else:
            self._call("PATCH", f"/policies/{current.id}", f"workspace {name}", json={"description": marker_text("workspace", **marker)})
            current.marker = {"kind": "workspace", **marker}
        for role in WORKSPACE_ROLES:
            if role not in snap.role_policies():
                policy = self._new_policy(role, "workspace-role", role == BYPASS_ROLE, True)
                self._new_role(role, "accessops workspace role", policy)

    def _apply_workspace_member(self, change: Change, after: dict[str, Any] | None) -> None:
        writes = Writes()
        self._prepare_workspace_member(change, writes)
        self.send(writes)

    def _prepare_workspace_member(self, change: Change, w: Writes) -> None:
        """Check one workspace-member change against the snapshot and note the writes it needs."""
        email = change.key.split("/")[2]
        after = change.after if change.action is not Action.DELETE else None
        snap = self.snapshot()
        user = self._user(email)
        roles = snap.role_policies()
        custom = {n: p for n, p in roles.items() if p.marker and p.marker["kind"] == "custom-role"}
        want_custom = set(after.get("custom_roles", [])) if after is not None else set()
        role_name = after.get("role") if after is not None else None
        if after is not None and "role" in after:
            policy = roles.get(role_name or "")
            role = snap.role_of(policy) if policy else None
            if role is None:
                raise TargetError(f"directus: {change.address}: workspace role {role_name!r} does not exist in Directus")
            self._guard_identity(user, role_name == BYPASS_ROLE)
            if user.role != role.id:
                w.patch_users.append(({"id": user.id, "role": role.id}, note(user, role=role.id)))
        elif after is None:
            self._guard_identity(user, False)
            w.patch_users.append(({"id": user.id, "role": None}, note(user, role=None)))
        if after is None or "custom_roles" in after:
            missing = want_custom - set(custom)
            if missing:
                raise TargetError(f"directus: {change.address}: custom role(s) {', '.join(sorted(missing))} do not exist in Directus")
            attached = {a.policy: a for a in snap.user_access(user)}
            for name, policy in custom.items():
                if name in want_custom and policy.id not in attached:
                    w.attach.append((email, policy.id))
                elif name not in want_custom and policy.id in attached:
                    w.detach.append(attached[policy.id].id)

    def _guard_identity(self, user: User, stays_admin: bool) -> None:
        """Never take admin access away from the user the token belongs to.

        Its Directus role is about to be replaced, so only a policy attached to
        the user directly can keep admin access (the org Admin policy has none).
        """
        if user.email != self.identity() or stays_admin:
            return
        snap = self.snapshot()
        direct = {a.policy for a in snap.user_access(user)}
        if not any(snap.policies[p].admin_access for p in direct if p in snap.policies):
            raise RefusedError([Refusal("identity", f"will not change the role of {user.email}: it is the identity running the apply and would lose admin access")])
