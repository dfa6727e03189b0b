"""Space rules: private spaces and auto join, global admins, space-type roles, project scopes.

Seeds 002 (project access and feature / settings scopes) and 004 (spaces).
"""

from __future__ import annotations

from accessops.access.capability import FULL, LEVEL_GRANTS
from accessops.access.index import Attrs, OrgView, Person
from accessops.access.rules_org import Verdict, manages_workspace, short


def _member(view: OrgView, who: Person, space: str) -> tuple[bool, str]:
    """Whether ``who`` is a member of ``space``, and how."""
    if who.email in view.space_members.get(space, {}):
        return True, f"{short(who)} is a member of space {space}"
    if view.spaces.get(space, {}).get("auto_join"):
        return True, f"{short(who)} is a member of space {space} via auto join"
    return False, f"{short(who)} is not a member of space {space}"


def _role_permissions(view: OrgView, who: Person, space: str) -> tuple[str | None, list[str]]:
    """The member's space-type role in ``space`` and its permissions."""
    sm = view.space_members.get(space, {}).get(who.email) or {}
    role = sm.get("role")
    type_ = view.spaces.get(space, {}).get("type")
    if not role or not type_:
        return None, []
    return str(role), view.space_type_roles.get(str(type_), {}).get(str(role), [])


def _owner_like(view: OrgView, who: Person) -> str | None:
    """Why ``who`` holds owners' powers over every space (Owner, or Maintainer "same as owners"), or None."""
    if who.bypass:
        return f"{who.role_name} bypasses every granular restriction"
    if manages_workspace(view, who):
        return f"{who.role_name} has the same permissions as owners over spaces"
    return None


def view_rule(view: OrgView, who: Person, space: str) -> Verdict:
    """Seed 004: a private space is visible to its members (auto join included) and to those who manage it.

    Owners, Maintainers and global admins see every space: whoever may
    archive or delete a space sees it (docs/access-model.md, private spaces).
    """
    owner = _owner_like(view, who)
    if owner:
        return True, [owner]
    member, how = _member(view, who, space)
    if not view.spaces.get(space, {}).get("private"):
        return True, [f"space {space} is not private"]
    if member:
        return True, [f"space {space} is private", how]
    if who.global_admin:
        return True, [f"space {space} is private", f"{short(who)} is a global admin, who manages every space"]
    return False, [f"space {space} is private", how]


_GRANTED_BY = {
    "update_space": "a space role that grants it",
    "archive_space": "a space role that grants it",
}


def _denied(view: OrgView, who: Person, space: str, action: str, role: str | None) -> Verdict:
    """Why ``who`` may not ``action`` ``space``: what would suffice, never naming what they already are."""
    would: list[str] = []
    if action in _GRANTED_BY:
        would.append(_GRANTED_BY[action])
    would.append("an owner or maintainer role")
    if action in ("archive_space", "delete_space") and not who.global_admin:
        would.append("global admin")
    is_ = f"{short(who)} is {who.role_name}" + (", a global admin" if who.global_admin else "")
    if role is not None:
        is_ += f", with space role {role}, which does not grant {action}"
    elif action in _GRANTED_BY:
        is_ += f", with no space role in {space}"
    if who.global_admin and action == "update_space":
        is_ += "; global admins archive and delete spaces only"
    return False, [f"{action} needs {', or '.join(would)}", is_]


def manage_rule(view: OrgView, who: Person, space: str, action: str) -> Verdict:
    """Seed 004: update / archive / delete a space: owners and maintainers, global admins (archive, delete), type roles."""
    owner = _owner_like(view, who)
    if owner:
        return True, [owner]
    if who.global_admin and action in ("archive_space", "delete_space"):
        return True, [f"{short(who)} is a global admin, who may archive and delete spaces"]
    role, perms = _role_permissions(view, who, space)
    if role is not None and action in perms:
        return True, [f"{short(who)} has space role {role}", f"{role} grants {action}"]
    return _denied(view, who, space, action, role)


def delete_objects_rule(view: OrgView, who: Person, space: str) -> Verdict:
    """Seed 004: whoever sees a space may delete its objects unless their role forbids it (owners: always)."""
    allowed, reasons = view_rule(view, who, space)
    if not allowed:
        return False, reasons
    if _owner_like(view, who):
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
