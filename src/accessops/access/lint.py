"""Built-in lint rules from the seeds' own advice, as warnings with stable codes.

Each code can be raised to an error (settings ``[lint] errors = ["AO101"]``).

| code  | name                      | seed | advice |
|-------|---------------------------|------|--------|
| AO101 | destructive-not-owner-only| 000  | keep delete organization, delete teams, update permissions Owner-only |
| AO102 | unused-custom-role        | 001/003 | a custom role only takes effect once a permission uses it |
| AO103 | blank-screen-member       | 003  | a member whose only roles are unused custom roles sees a blank screen |
| AO104 | broad-full-scope          | 002  | audit members with broad Full scopes |
| AO105 | unassigned-matrix-key     | 000/001 | a key left out of the matrix is held by the highest role only |
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
    "AO105": "unassigned-matrix-key",
}
# Full on at least half of one kind's scope keys (sections, features or
# settings, each counted on its own) is "broad"; seed 002's own operator
# pattern (Full on data, technical, workflows: 3 of 11 features) stays below it.
BROAD_SHARE = 0.5
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


def _role_lookup(view: OrgView, ws: str) -> Any:
    """``view.ws_role`` for one workspace, asked once per role name (every member asks)."""
    known: dict[Any, Any] = {}

    def role(name: Any) -> Any:
        if not isinstance(name, (str, type(None))):
            return view.ws_role(ws, name)
        if name not in known:
            known[name] = view.ws_role(ws, name)
        return known[name]

    return role


def blank_screen_members(view: OrgView) -> list[tuple[str, str]]:
    """``(workspace, email)`` of members with no default access and no used custom role (seed 003)."""
    found = []
    for ws, members in sorted(view.ws_members.items()):
        used = view.used_custom_roles(ws)
        ws_role = _role_lookup(view, ws)
        has_sections = bool(view.ws_profile(ws).sections)
        here = []
        for email, wm in members.items():  # sorted below: few are found
            role = ws_role(wm.get("role"))
            if role is not None and (role.bypass or role.actions):
                continue
            if has_sections and wm.get("sections"):
                continue  # seed 002 members get their access from section scopes
            if not set(wm.get("custom_roles") or []) & used:
                here.append((ws, email))
        found += sorted(here)
    return found


def _broad(scopes: dict[str, str], vocabulary: list[str]) -> list[str]:
    """The Full keys of one kind when they are at least half (and at least 2) of that kind's keys, else []."""
    needed = max(BROAD_MIN, BROAD_SHARE * len(vocabulary))
    if not vocabulary or len(scopes) < needed:
        return []  # fewer keys than needed cannot be Full on enough of them
    allowed = set(vocabulary)
    full = sorted(k for k, level in scopes.items() if level == "Full" and k in allowed)
    return full if len(full) >= needed else []


def broad_full_scopes(view: OrgView) -> list[tuple[str, str, list[str]]]:
    """``(address, email, keys)`` of members with Full on at least half of one kind's scope keys (seed 002).

    Kinds are judged apart: workspace sections, project features, project
    settings. ``keys`` lists the Full keys of every kind found broad.
    """
    found = []
    for ws, members in sorted(view.ws_members.items()):
        sections = view.ws_profile(ws).sections
        if not sections:
            continue
        ws_role = _role_lookup(view, ws)
        here = []
        for email, wm in members.items():  # sorted below: few are found
            scopes = wm.get("sections") or {}
            if not scopes:
                continue
            role = ws_role(wm.get("role"))
            if role is None or not role.bypass:
                full = _broad(scopes, sections)
                if full:
                    here.append((email, full))
        found += [(address("workspace_member", f"{view.name}/{ws}/{email}"), email, full) for email, full in sorted(here, key=lambda h: h[0])]
    features, settings = list(view.profile.features), list(view.profile.settings)
    if not features and not settings:
        return found
    for space, members in sorted(view.space_members.items()):
        here = []
        for email, sm in members.items():
            full = _broad(sm.get("features") or {}, features) + _broad(sm.get("settings") or {}, settings)
            if full:
                here.append((email, full))
        found += [(address("space_member", f"{view.name}/{space}/{email}"), email, full) for email, full in sorted(here, key=lambda h: h[0])]
    return found


def unassigned_matrix_keys(view: OrgView) -> list[str]:
    """Matrix keys of the profile the organization leaves unassigned (seeds 000/001), in profile order.

    Only organizations that use the matrix (assign some key) are asked: one
    that states no matrix at all leaves it to the product's own defaults.
    """
    keys = list(view.profile.permission_keys)
    if not keys or not view.org_permissions:
        return []
    return [k for k in keys if k not in view.org_permissions]


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
    missing = unassigned_matrix_keys(view)
    if missing:
        out.append(LintWarning(
            "AO105", address("organization", view.name),
            f"{len(missing)} matrix key(s) unassigned ({', '.join(missing)}); only the highest role {view.top_role()} holds them; assign each key a role",
        ))
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
