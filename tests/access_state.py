"""A small builder of resource maps for access tests (desired or live alike)."""

from __future__ import annotations

from typing import Any

from accessops.access.engine import AccessEngine
from accessops.manifest.profiles import load_profile
from accessops.model.profile import Profile
from accessops.model.resource import Resource, ResourceMap


class State:
    """Resources of one organization, added one line at a time."""

    def __init__(self, org: str = "acme", profile: str = "union", seats: int | None = None) -> None:
        self.org = org
        self.profile_name = profile
        self.resources: ResourceMap = {}
        self.add("organization", org, profile=profile, seats=seats)

    def add(self, type_: str, key: str, **attrs: Any) -> "State":
        res = Resource(type_, key, {k: v for k, v in attrs.items() if v is not None})
        self.resources[res.address] = res
        return self

    def member(self, email: str, role: str = "Member", **attrs: Any) -> "State":
        return self.add("member", f"{self.org}/{email}", role=role, **attrs)

    def matrix(self, key: str, role: str) -> "State":
        return self.add("org_permission", f"{self.org}/{key}", role=role)

    def team(self, name: str, *emails: str) -> "State":
        self.add("team", f"{self.org}/{name}")
        for e in emails:
            self.add("team_member", f"{self.org}/{name}/{e}")
        return self

    def custom_role(self, name: str) -> "State":
        return self.add("custom_role", f"{self.org}/{name}")

    def workspace(self, ws: str) -> "State":
        return self.add("workspace", f"{self.org}/{ws}")

    def ws_member(self, ws: str, email: str, role: str | None = None, custom_roles: list[str] | None = None, sections: dict[str, str] | None = None) -> "State":
        return self.add("workspace_member", f"{self.org}/{ws}/{email}", role=role, custom_roles=custom_roles, sections=sections)

    def app(self, ws: str, app: str, allow: list[str] | None) -> "State":
        return self.add("app_permission", f"{self.org}/{ws}/{app}", allow=allow)

    def table(self, ws: str, table: str, **actions: list[str]) -> "State":
        return self.add("table_permission", f"{self.org}/{ws}/{table}", **actions)

    def field(self, ws: str, table: str, field: str, read: list[str] | None) -> "State":
        return self.add("field_permission", f"{self.org}/{ws}/{table}/{field}", read=read)

    def space_type(self, name: str, kind: str = "project", **roles: list[str]) -> "State":
        self.add("space_type", f"{self.org}/{name}", kind=kind)
        for role, perms in roles.items():
            self.add("space_type_role", f"{self.org}/{name}/{role}", permissions=perms)
        return self

    def space(self, name: str, kind: str = "project", type: str | None = None, private: bool | None = None, auto_join: bool | None = None) -> "State":
        return self.add("space", f"{self.org}/{name}", kind=kind, type=type, private=private, auto_join=auto_join)

    def space_member(self, space: str, email: str, role: str | None = None, features: dict[str, str] | None = None, settings: dict[str, str] | None = None) -> "State":
        return self.add("space_member", f"{self.org}/{space}/{email}", role=role, features=features, settings=settings)

    def profiles(self) -> dict[str, Profile]:
        return {self.org: load_profile(self.profile_name)}

    def engine(self) -> AccessEngine:
        return AccessEngine(self.resources, self.profiles())
