"""Workspace rules: default roles, custom roles, app / table / field permissions, section scopes.

Seeds 001, 002 and 003. Workspace access is separate from organization access
(seed 001): only a workspace membership gives any, and only the workspace
role Admin lifts the restrictions inside it (seed 003 "Admin always full").
"""

from __future__ import annotations

from accessops.access.capability import FULL, LEVEL_GRANTS
from accessops.access.index import Attrs, OrgView, Person
from accessops.access.rules_org import Verdict, short


def _membership(view: OrgView, who: Person, ws: str) -> tuple[Attrs | None, list[str]]:
    """The member's workspace membership, or why there is none."""
    wm = view.ws_members.get(ws, {}).get(who.email)
    if wm is not None:
        return wm, []
    why = [f"{short(who)} is not a member of workspace {ws}"]
    if who.bypass:
        why.append(f"org role {who.role_name} does not by itself grant workspace access")
    return None, why


def _ws_admin(view: OrgView, ws: str, wm: Attrs) -> bool:
    role = view.ws_role(ws, wm.get("role"))
    return role is not None and role.bypass


def _describe(wm: Attrs) -> str:
    role = wm.get("role") or "None"
    customs = wm.get("custom_roles") or []
    return f"{role} with {', '.join(customs)}" if customs else str(role)


def _roles(wm: Attrs) -> set[str]:
    """Every role a member holds in a workspace: the default role and custom roles."""
    roles = set(wm.get("custom_roles") or [])
    if wm.get("role") and wm.get("role") != "None":
        roles.add(str(wm["role"]))
    return roles


def ws_admin_rule(view: OrgView, who: Person, ws: str) -> Verdict:
    """Seed 003: workspace Admin always keeps full access."""
    wm, why = _membership(view, who, ws)
    if wm is None:
        return False, why
    if _ws_admin(view, ws, wm):
        return True, [f"{short(who)} is workspace Admin, which always keeps full access"]
    return False, [f"{short(who)} is {_describe(wm)} in {ws}, not Admin"]


def section_rule(view: OrgView, who: Person, ws: str, section: str, grant: str) -> Verdict:
    """Seed 002: None / View only / Full on a workspace section; View = read and export, Full = every write.

    Seed 002's org Admin ("full access across workspace and projects",
    "Admin bypasses granular restrictions") holds every section at Full,
    whatever scopes a membership lists and with no membership at all.
    """
    if who.bypass:
        return True, [f"org role {who.role_name} bypasses every granular restriction, section scopes included"]
    wm, why = _membership(view, who, ws)
    if wm is None:
        return False, why
    if _ws_admin(view, ws, wm):
        return True, [f"{short(who)} is workspace Admin, which bypasses section scopes"]
    level = (wm.get("sections") or {}).get(section, "None")
    meaning = "read and export" if grant != FULL else "every write"
    if grant in LEVEL_GRANTS.get(level, frozenset()):
        return True, [f"{short(who)} has {section}: {level} in {ws}", f"{level} allows {meaning}"]
    return False, [f"{short(who)} has {section}: {level} in {ws}", f"{level} does not allow {meaning}"]


def app_rule(view: OrgView, who: Person, ws: str, app: str) -> Verdict:
    """Seed 003: an app's "Allow access to" roles; unrestricted apps follow the default role."""
    wm, why = _membership(view, who, ws)
    if wm is None:
        return False, why
    if _ws_admin(view, ws, wm):
        return True, [f"{short(who)} is workspace Admin, which always keeps full access"]
    allow = view.apps.get(ws, {}).get(app, {}).get("allow")
    if allow is None:
        role = view.ws_role(ws, wm.get("role"))
        if role is not None and "read" in role.actions:
            return True, [f"app {app} is open to every role", f"{short(who)} is {role.name}"]
        return False, [f"app {app} is open to every role", f"{short(who)} has no default role that reads"]
    return _holds_listed_role(who, wm, allow, f"app access is limited to [{', '.join(allow)}]")


def _holds_listed_role(who: Person, wm: Attrs, listed: list[str], reason: str) -> Verdict:
    """A restricted app, table action or field: allowed when the member holds one of the listed roles."""
    held = sorted(_roles(wm) & set(listed))
    if held:
        return True, [reason, f"{short(who)} has {', '.join(held)}"]
    return False, [reason, f"{short(who)} is {_describe(wm)} without {' or '.join(listed) or 'any of them'}"]


def table_rule(view: OrgView, who: Person, ws: str, table: str, action: str) -> Verdict:
    """Seed 003: table actions by role; a restricted action needs a listed role (custom roles add or narrow)."""
    wm, why = _membership(view, who, ws)
    if wm is None:
        return False, why
    if _ws_admin(view, ws, wm):
        return True, [f"{short(who)} is workspace Admin, which always keeps full access"]
    declared = view.tables.get(ws, {}).get(table)
    if declared is None:  # the target holds it and no permission names it: nobody but Admin (seed 003)
        return False, [f"table {table} is not declared: no permission grants {action} on it", f"{short(who)} is {_describe(wm)}, not Admin"]
    restricted = declared.get(action)
    if restricted is None:
        role = view.ws_role(ws, wm.get("role"))
        reason = f"table {action} is unrestricted"
        if role is not None and action in role.actions:
            return True, [reason, f"{short(who)} is {role.name}, which may {action}"]
        if role is None or not role.actions:
            return False, [reason, f"{short(who)} has no default workspace role, and custom roles grant only where permissions name them"]
        return False, [reason, f"{short(who)} is {role.name}, which cannot {action}"]
    return _holds_listed_role(who, wm, restricted, f"table {action} is restricted to [{', '.join(restricted)}]")


def field_rule(view: OrgView, who: Person, ws: str, table: str, field: str) -> Verdict:
    """Seed 003: reading a field needs reading its table, then one of the field's read roles."""
    allowed, reasons = table_rule(view, who, ws, table, "read")
    if not allowed:
        return False, [f"reading {field} needs reading table {table}", *reasons]
    wm = view.ws_members[ws][who.email]
    if _ws_admin(view, ws, wm):
        return True, reasons
    declared = view.fields.get(ws, {}).get(table, {}).get(field)
    if declared is None:  # not declared: who may read it comes from the live table
        restricted = view.unmanaged_fields(ws, table).get(field)
        if restricted is None:
            return True, [f"field {field} is not declared: readable with the table", *reasons]
        return _holds_listed_role(who, wm, restricted, f"field {field} is not declared; live, only [{', '.join(restricted)}] read it")
    restricted = declared.get("read")
    if restricted is None:
        return True, [f"field {field} read is unrestricted", *reasons]
    return _holds_listed_role(who, wm, restricted, f"field {field} read is restricted to [{', '.join(restricted)}]")


def export_rule(view: OrgView, who: Person, ws: str, table: str) -> Verdict:
    """Seed 003 "Viewer: Can read and export data": exporting a table follows reading it.

    Table permissions list no export action (seed 003 controls read, edit,
    create and delete), and View only means read and export (seed 002).
    """
    allowed, reasons = table_rule(view, who, ws, table, "read")
    return allowed, [f"export of {table} follows read", *reasons]
