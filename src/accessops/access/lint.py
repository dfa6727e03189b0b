"""Built-in lint rules from the seeds' own advice, as warnings with stable codes.

Each code can be raised to an error (settings ``[lint] errors = ["AO101"]``).

| code  | name                      | seed | advice |
|-------|---------------------------|------|--------|
| AO101 | destructive-not-owner-only| 000  | keep delete organization, delete teams, update permissions Owner-only |
| AO102 | unused-custom-role        | 001/003 | a custom role only takes effect once a permission uses it |
| AO103 | blank-screen-member       | 003  | a member whose only roles are unused custom roles sees a blank screen |
| AO104 | broad-full-scope          | 002  | audit members with broad Full scopes |
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from accessops.access.index import OrgView, build_index
from accessops.model.profile import Profile
from accessops.model.resource import ResourceMap, address

RULES = {
    "AO101": "destructive-not-owner-only",
    "AO102": "unused-custom-role",
    "AO103": "blank-screen-member",
    "AO104": "broad-full-scope",
}
BROAD_SHARE = 0.75  # Full on three quarters of a kind's scope keys is "broad"; seed 002's own operator pattern (Full on data, technical, workflows) stays below it
BROAD_MIN = 2


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One finding: a stable code, the resource it is about, and what to do."""

    code: str
    subject: str  # the resource address the finding is about
    message: str
    level: str = "warning"  # or "error" when raised by settings

    @property
    def name(self) -> str:
        """The rule's readable name (``unused-custom-role``)."""
        return RULES[self.code]

    def __str__(self) -> str:
        return f"{self.level}: {self.code} {self.name}: {self.subject}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """JSON form for plan extras and ``audit --format json``."""
        return {"code": self.code, "name": self.name, "level": self.level, "subject": self.subject, "message": self.message}


def destructive_not_owner_only(view: OrgView) -> list[LintWarning]:
    """AO101: a destructive matrix permission assigned below the top role."""
    top = view.top_role()
    return [
        LintWarning("AO101", address("org_permission", f"{view.name}/{key}"), f"{key} is allowed to {view.org_permissions[key]}; keep it {top}-only")
        for key in view.profile.destructive
        if view.org_permissions.get(key, top) != top
    ]


def unused_custom_roles(view: OrgView) -> list[str]:
    """Custom roles of the organization that no app, table or field permission names."""
    used: set[str] = set()
    for ws in set(view.apps) | set(view.tables) | set(view.fields):
        used |= view.used_custom_roles(ws)
    return sorted(set(view.custom_roles) - used)


def blank_screen_members(view: OrgView) -> list[tuple[str, str]]:
    """``(workspace, email)`` of members with no default access and no used custom role (seed 003)."""
    found = []
    for ws, members in sorted(view.ws_members.items()):
        used = view.used_custom_roles(ws)
        for email, wm in sorted(members.items()):
            role = view.ws_role(ws, wm.get("role"))
            if role is not None and (role.bypass or role.actions):
                continue
            if view.ws_profile(ws).sections and wm.get("sections"):
                continue  # seed 002 members get their access from section scopes
            if not set(wm.get("custom_roles") or []) & used:
                found.append((ws, email))
    return found


def broad_full_scopes(view: OrgView) -> list[tuple[str, str, list[str]]]:
    """``(address, email, keys)`` of members with Full on at least three quarters of a kind's scope keys."""
    found = []

    def judge(addr: str, email: str, scopes: dict[str, str], vocabulary: list[str]) -> None:
        full = sorted(k for k, level in scopes.items() if level == "Full" and k in vocabulary)
        if vocabulary and len(full) >= max(BROAD_MIN, BROAD_SHARE * len(vocabulary)):
            found.append((addr, email, full))

    for ws, members in sorted(view.ws_members.items()):
        sections = view.ws_profile(ws).sections
        for email, wm in sorted(members.items()):
            role = view.ws_role(ws, wm.get("role"))
            if role is None or not role.bypass:
                judge(address("workspace_member", f"{view.name}/{ws}/{email}"), email, wm.get("sections") or {}, sections)
    keys = [*view.profile.features, *view.profile.settings]
    for space, members in sorted(view.space_members.items()):
        for email, sm in sorted(members.items()):
            judge(address("space_member", f"{view.name}/{space}/{email}"), email, {**(sm.get("features") or {}), **(sm.get("settings") or {})}, keys)
    return found


def lint_view(view: OrgView) -> list[LintWarning]:
    """Every finding for one organization, at warning level."""
    out = destructive_not_owner_only(view)
    out += [
        LintWarning("AO102", address("custom_role", f"{view.name}/{r}"), f"custom role {r} is used by no app, table or field permission; it grants nothing")
        for r in unused_custom_roles(view)
    ]
    out += [
        LintWarning("AO103", address("workspace_member", f"{view.name}/{ws}/{e}"), f"{e} has no default role and no custom role used in {ws}'s permissions; they would see a blank screen")
        for ws, e in blank_screen_members(view)
    ]
    out += [
        LintWarning("AO104", addr, f"{e} has Full on {len(keys)} scopes ({', '.join(keys)}); consider View only or a narrower permission set")
        for addr, e, keys in broad_full_scopes(view)
    ]
    return out


def lint(
    resources: ResourceMap,
    profiles: Mapping[str, Profile],
    errors: Collection[str] = (),
    views: Mapping[str, OrgView] | None = None,
) -> list[LintWarning]:
    """Every lint finding of ``resources``; codes in ``errors`` come out at error level.

    ``views`` (an engine's index of the same resources) saves building it again.
    """
    raised = set(errors)
    out = []
    for _org, view in sorted((views if views is not None else build_index(resources, profiles)).items()):
        for w in lint_view(view):
            out.append(LintWarning(w.code, w.subject, w.message, "error") if w.code in raised else w)
    return out


def unknown_codes(codes: Collection[str]) -> list[str]:
    """Codes in a ``lint.errors`` setting that name no rule."""
    return sorted(set(codes) - set(RULES))
