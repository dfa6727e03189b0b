"""Organization-level rules: bypass roles, the permission matrix, owners and maintainers.

Seeds 000, 001, 002 and 004. Each rule returns ``(allowed, reasons)``.
"""

from __future__ import annotations

from accessops.access.index import OrgView, Person
from accessops.model.profile import OrgRole

Verdict = tuple[bool, list[str]]


def admin_rule(view: OrgView, who: Person) -> Verdict:
    """Seed 002: an org role with bypass lifts every granular restriction."""
    if who.bypass:
        return True, [f"{who.role_name} bypasses every granular restriction"]
    return False, [f"{who.role_name} does not bypass granular restrictions"]


def _group_filter(role: OrgRole, group: str) -> str | None:
    """Seed 001: Admin W/O Billing never uses billing; Billing uses billing only."""
    if group in role.excludes:
        return f"{role.name} excludes {group} permissions"
    if role.only and group not in role.only:
        return f"{role.name} may use only {', '.join(role.only)} permissions"
    return None


def matrix_rule(view: OrgView, who: Person, key: str) -> Verdict:
    """Seed 000: the role allowed, and every role ranked above it; seed 001 group limits on top.

    A key the matrix leaves unassigned is held by the highest role only: the
    safe default (seed 000 "keep destructive permissions restricted to
    Owners"), flagged by lint AO105 so that nobody relies on it by accident.
    """
    profile = view.profile
    group = profile.permission_keys.get(key, "")
    role = who.role
    if role is None:
        return False, [f"{who.role_name} is not a role of profile {profile.name}"]
    blocked = _group_filter(role, group)
    assigned = view.org_permissions.get(key)
    ranks = profile.org_role_rank
    if assigned is None:
        top = view.top_role()
        reason = f"{key} is not assigned in the matrix, so only the highest role {top} holds it"
        if role.name != top:
            return False, [reason, f"{short(who)} is {role.name}"]
        if blocked:
            return False, [reason, blocked]
        return True, [reason, f"{short(who)} is {role.name}"]
    if assigned not in ranks:
        return False, [f"{key} is assigned to unknown role {assigned}"]
    reason = f"{key} is allowed to {assigned} and above"
    if ranks[role.name] > ranks[assigned]:
        return False, [reason, f"{role.name} ranks below {assigned}"]
    if blocked:
        return False, [reason, blocked]
    return True, [reason, f"{short(who)} is {role.name}"]


def owner_action_rule(view: OrgView, who: Person, action: str) -> Verdict:
    """Seed 004: Owners do everything; a role may do what it and no role above it denies.

    Only roles that state denies (Maintainer, User) or bypass administer at all.
    """
    role = who.role
    if role is None:
        return False, [f"{who.role_name} is not a role of profile {view.profile.name}"]
    if role.bypass:
        return True, [f"{role.name} has full control of the workspace"]
    if not role.denies:
        return False, [f"{role.name} does not administer the workspace"]
    for above in view.profile.org_roles:
        if action in above.denies:
            if above.name == role.name:
                return False, [f"{role.name} cannot {action.replace('_', ' ')}"]
            return False, [f"{above.name} cannot {action.replace('_', ' ')}, and {role.name} ranks below {above.name}"]
        if above.name == role.name:
            break
    return True, [f"{role.name} may {action.replace('_', ' ')}"]


def manages_workspace(view: OrgView, who: Person) -> bool:
    """Seed 004: an Owner, or a role with "the same permissions as owners" (it may manage settings).

    Maintainers qualify ("Maintainers have the same permissions as owners,
    except they cannot delete the workspace, remove owners, or remove team
    members"); Users do not ("Users cannot manage workspace settings").
    """
    role = who.role
    if role is None:
        return False
    if role.bypass:
        return True
    return bool(role.denies) and owner_action_rule(view, who, "manage_settings")[0]


def short(who: Person) -> str:
    """The member as reasons name them."""
    return who.email.split("@", 1)[0]
