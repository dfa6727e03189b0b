"""One organization's resources, indexed for access questions.

Built once from a ResourceMap (desired or live alike) so that every access
question is a few dictionary look-ups, even for 10k members.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from accessops.model.profile import OrgRole, Profile, WorkspaceRole
from accessops.model.resource import SUSPENDED_STATUSES, ResourceMap

Attrs = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Person:
    """A member as the rules see them: org role, global admin flag, invitation and suspension status."""

    email: str
    role: OrgRole | None  # None: not a declared org member (e.g. workspace-only in a manifest)
    role_name: str
    global_admin: bool
    invited: bool
    declared: bool  # has a member resource
    suspended: bool = False  # deactivated live (SCIM ``active: false``, Directus ``suspended``): no access
    superuser: bool = False  # live: the target gives them everything outside accessops (Directus admin access)

    @property
    def bypass(self) -> bool:
        """Holds an org role that bypasses every granular restriction (seed 002)."""
        return self.role is not None and self.role.bypass


@dataclass
class OrgView:
    """Every resource of one organization, by kind and name."""

    name: str
    profile: Profile
    ws_profiles: dict[str, Profile] = field(default_factory=dict)
    members: dict[str, Attrs] = field(default_factory=dict)
    teams: dict[str, set[str]] = field(default_factory=dict)
    org_permissions: dict[str, str] = field(default_factory=dict)  # matrix key -> role
    custom_roles: dict[str, Attrs] = field(default_factory=dict)
    workspaces: dict[str, Attrs] = field(default_factory=dict)
    ws_members: dict[str, dict[str, Attrs]] = field(default_factory=dict)
    apps: dict[str, dict[str, Attrs]] = field(default_factory=dict)
    tables: dict[str, dict[str, Attrs]] = field(default_factory=dict)
    fields: dict[str, dict[str, dict[str, Attrs]]] = field(default_factory=dict)
    # tables the target holds (live ``table`` resources): their unmanaged fields and readers
    live_tables: dict[str, dict[str, Attrs]] = field(default_factory=dict)
    space_type_roles: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    spaces: dict[str, Attrs] = field(default_factory=dict)
    space_members: dict[str, dict[str, Attrs]] = field(default_factory=dict)
    seats: int | None = None
    _people: dict[str, Person] = field(default_factory=dict, repr=False, compare=False)  # person() answers
    _roles: dict[str, OrgRole] | None = field(default=None, repr=False, compare=False)  # see _role_by_name

    # --- derived -------------------------------------------------------------

    def emails(self) -> list[str]:
        """Everyone with a member resource or a membership anywhere in the organization, sorted."""
        found = set(self.members)
        for table in (self.ws_members, self.space_members):
            for people in table.values():
                found.update(people)
        for team in self.teams.values():
            found.update(team)
        return sorted(found)

    def person(self, email: str) -> Person:
        """The rules' view of one member; an undeclared one is the lowest org role (seed 001)."""
        known = self._people.get(email)
        if known is None:
            known = self._people[email] = self._person(email)
        return known

    def _person(self, email: str) -> Person:
        attrs = self.members.get(email)
        ranks = self.profile.org_roles
        if attrs is None:
            lowest = ranks[-1] if ranks else None
            return Person(email, lowest, lowest.name if lowest else "Member", False, False, False)
        name = str(attrs.get("role") or (ranks[-1].name if ranks else "Member"))
        role = self._role_by_name().get(name)
        status = attrs.get("status")
        return Person(email, role, name, bool(attrs.get("global_admin")), status == "invited", True, status in SUSPENDED_STATUSES, bool(attrs.get("superuser")))

    def _role_by_name(self) -> dict[str, OrgRole]:
        """The profile's org roles by name, the first of a name winning (as a search in rank order finds it)."""
        if self._roles is None:
            roles: dict[str, OrgRole] = {}
            for r in self.profile.org_roles:
                roles.setdefault(r.name, r)
            self._roles = roles
        return self._roles

    def has_table(self, ws: str, table: str) -> bool:
        """Whether the table is declared (a table permission) or held by the target."""
        return table in self.tables.get(ws, {}) or table in self.live_tables.get(ws, {})

    def unmanaged_fields(self, ws: str, table: str) -> dict[str, Any]:
        """Fields of a live table no field permission covers -> their readers (None: the table's)."""
        fields = (self.live_tables.get(ws, {}).get(table) or {}).get("fields") or {}
        declared = self.fields.get(ws, {}).get(table, {})
        return {f: roles for f, roles in fields.items() if f not in declared}

    def ws_profile(self, ws: str) -> Profile:
        """A workspace's profile: its own override, else the organization's."""
        return self.ws_profiles.get(ws, self.profile)

    def ws_role(self, ws: str, name: str | None) -> WorkspaceRole | None:
        """A default workspace role of the workspace's profile by name."""
        return next((r for r in self.ws_profile(ws).workspace_roles if r.name == name), None)

    def used_custom_roles(self, ws: str) -> set[str]:
        """Custom roles some app, table or field permission of ``ws`` names (seed 003)."""
        used: set[str] = set()
        for app in self.apps.get(ws, {}).values():
            used.update(app.get("allow") or [])
        for table in self.tables.get(ws, {}).values():
            for action in ("read", "create", "edit", "delete"):
                used.update(table.get(action) or [])
        for fields in self.fields.get(ws, {}).values():
            for f in fields.values():
                used.update(f.get("read") or [])
        return used - self.ws_profile(ws).workspace_role_names

    def top_role(self) -> str:
        """The highest org role of the profile (the "Owner" of guardrails)."""
        return self.profile.org_roles[0].name if self.profile.org_roles else "Owner"


_KEY = attrgetter("key")  # sort key of build_index: a C getter, 36k calls per index


def build_index(resources: ResourceMap, profiles: Mapping[str, Profile]) -> dict[str, OrgView]:
    """Index ``resources`` per organization; ``profiles`` maps org (and ``org/ws`` overrides) to profiles.

    An organization without a profile in ``profiles`` is skipped: its rules are unknown.
    """
    views: dict[str, OrgView] = {}
    for org, profile in profiles.items():
        if "/" not in org:
            views[org] = OrgView(org, profile)
    # one string per email, however many memberships name it (a split makes a new one each time)
    emails: dict[str, str] = {}
    for res in sorted(resources.values(), key=_KEY):
        parts = res.key.split("/")
        view = views.get(parts[0])  # res.org, without a property call per resource
        if view is None:
            continue
        if len(parts) > 2:
            parts[-1] = emails.setdefault(parts[-1], parts[-1])
        elif res.type == "member":
            parts[1] = emails.setdefault(parts[1], parts[1])
        a = res.attrs
        t = res.type
        if t == "organization":
            view.seats = a.get("seats")
        elif t == "member":
            view.members[parts[1]] = a
        elif t == "team":
            view.teams.setdefault(parts[1], set())
        elif t == "team_member":
            view.teams.setdefault(parts[1], set()).add(parts[2])
        elif t == "org_permission":
            if a.get("role"):
                view.org_permissions[parts[1]] = str(a["role"])
        elif t == "custom_role":
            view.custom_roles[parts[1]] = a
        elif t == "workspace":
            view.workspaces[parts[1]] = a
            override = profiles.get(res.key)
            if override is not None:
                view.ws_profiles[parts[1]] = override
        elif t == "workspace_member":
            view.ws_members.setdefault(parts[1], {})[parts[2]] = a
        elif t == "app_permission":
            view.apps.setdefault(parts[1], {})[parts[2]] = a
        elif t == "table_permission":
            view.tables.setdefault(parts[1], {})[parts[2]] = a
        elif t == "field_permission":
            view.fields.setdefault(parts[1], {}).setdefault(parts[2], {})[parts[3]] = a
        elif t == "table":
            view.live_tables.setdefault(parts[1], {})[parts[2]] = a
        elif t == "space_type_role":
            view.space_type_roles.setdefault(parts[1], {})[parts[2]] = list(a.get("permissions") or [])
        elif t == "space":
            view.spaces[parts[1]] = a
        elif t == "space_member":
            view.space_members.setdefault(parts[1], {})[parts[2]] = a
    return views
