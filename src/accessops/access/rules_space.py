"""Space rules: private spaces and auto join, global admins, space-type roles, project scopes.

Seeds 002 (project access and feature / settings scopes) and 004 (spaces).
"""

from __future__ import annotations

from accessops.access.capability import FULL, LEVEL_GRANTS
from accessops.access.index import Attrs, OrgView, Person
from accessops.access.rules_org import Verdict, short


def _member(view: OrgView, who: Person, space: str) -> tuple[bool, str]:
    """Whether ``who`` is a member of ``space``, and how."""
    if who.email in view.space_members.get(space, {}):
        return True, f"{short(who)} is a member of space {space}"
    if view.spaces.get(space, {}).get("auto_join"):
        return True, f"space {space} has auto join, so every workspace member is a member"
    return False, f"{short(who)} is not a member of space {space}"


def _role_permissions(view: OrgView, who: Person, space: str) -> tuple[str | None, list[str]]:
    """The member's space-type role in ``space`` and its permissions."""
    sm = view.space_members.get(space, {}).get(who.email) or {}
    role = sm.get("role")
    type_ = view.spaces.get(space, {}).get("type")
    if not role or not type_:
        return None, []
    return str(role), view.space_type_roles.get(str(type_), {}).get(str(role), [])


def view_rule(view: OrgView, who: Person, space: str) -> Verdict:
    """Seed 004: a private space is visible to its members only (auto join makes everyone one)."""
    if who.bypass:
        return True, [f"{who.role_name} bypasses every granular restriction"]
    member, how = _member(view, who, space)
    if not view.spaces.get(space, {}).get("private"):
        return True, [f"space {space} is not private"]
    if member:
        return True, [f"space {space} is private", how]
    return False, [f"space {space} is private", how]


def manage_rule(view: OrgView, who: Person, space: str, action: str) -> Verdict:
    """Seed 004: update / archive / delete a space: owners, global admins (archive, delete), type roles."""
    if who.bypass:
        return True, [f"{who.role_name} bypasses every granular restriction"]
    if who.global_admin and action in ("archive_space", "delete_space"):
        return True, [f"{short(who)} is a global admin, who may archive and delete spaces"]
    role, perms = _role_permissions(view, who, space)
    if role is not None and action in perms:
        return True, [f"{short(who)} has space role {role}", f"{role} grants {action}"]
    if action == "delete_space":
        return False, ["only owners and global admins delete spaces", f"{short(who)} is {who.role_name}, not a global admin"]
    if role is not None:
        return False, [f"{short(who)} has space role {role}", f"{role} does not grant {action}"]
    return False, [f"{action} needs a space role that grants it, an owner or a global admin", f"{short(who)} has none in {space}"]


def delete_objects_rule(view: OrgView, who: Person, space: str) -> Verdict:
    """Seed 004: whoever sees a space may delete its objects unless their role forbids it."""
    allowed, reasons = view_rule(view, who, space)
    if not allowed:
        return False, reasons
    if who.bypass:
        return True, reasons
    role, perms = _role_permissions(view, who, space)
    if role is not None and "forbid_delete_object" in perms:
        return False, [f"{short(who)} has space role {role}", f"{role} forbids deleting objects"]
    return True, [*reasons, "no space role forbids deleting objects"]


def scope_rule(view: OrgView, who: Person, space: str, kind: str, key: str, grant: str) -> Verdict:
    """Seed 002: feature / settings scopes in a project; project access is required."""
    if who.bypass:
        return True, [f"{who.role_name} bypasses every granular restriction"]
    sm: Attrs | None = view.space_members.get(space, {}).get(who.email)
    if sm is None:
        return False, [f"{key} needs project access", f"{short(who)} has no access to project {space}"]
    level = (sm.get(kind) or {}).get(key, "None")
    meaning = "read and export" if grant != FULL else "every write"
    if grant in LEVEL_GRANTS.get(level, frozenset()):
        return True, [f"{short(who)} has {key}: {level} in {space}", f"{level} allows {meaning}"]
    return False, [f"{short(who)} has {key}: {level} in {space}", f"{level} does not allow {meaning}"]
