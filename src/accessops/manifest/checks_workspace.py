"""Workspace checks: members and their roles and scopes, apps, tables, fields."""

from __future__ import annotations

from accessops.manifest.checks_common import (
    CheckContext,
    Path,
    check_concept,
    check_duplicates,
    check_member_in_org,
    check_scopes,
    check_team_ref,
)
from accessops.manifest.checks_sets import check_permission_set_ref
from accessops.manifest.loader import Loaded
from accessops.model.manifest import Workspace, WorkspaceMember, WorkspaceTeamGrant
from accessops.model.profile import Profile

TABLE_ACTIONS = ("read", "create", "edit", "delete")


def check_workspace(ctx: CheckContext, ws: Loaded[Workspace], profile: Profile) -> None:
    """Every problem of one Workspace document against its profile."""
    spec = ws.doc.spec
    if not check_concept(ctx, ws, ("kind",), profile, "workspaces", "workspaces"):
        return
    custom = ctx.custom_roles.get(spec.organization, frozenset())
    if spec.members is not None:
        _check_members(ctx, ws, profile, custom)
    _check_team_grants(ctx, ws, profile, custom)
    _check_default_role(ctx, ws, profile)
    if spec.apps is not None and check_concept(ctx, ws, ("spec", "apps"), profile, "apps", "app permissions"):
        check_duplicates(ctx, ws, ("spec", "apps"), spec.apps, lambda a: a.name, "ref.duplicate-app", "app")
        for i, app in enumerate(spec.apps):
            _check_picker(ctx, ws, ("spec", "apps", i, "allow"), app.allow, profile, custom, f"app {app.name!r}")
    if spec.tables is not None and check_concept(ctx, ws, ("spec", "tables"), profile, "tables", "table permissions"):
        check_duplicates(ctx, ws, ("spec", "tables"), spec.tables, lambda t: t.name, "ref.duplicate-table", "table")
        for i, table in enumerate(spec.tables):
            base = ("spec", "tables", i)
            for action in TABLE_ACTIONS:
                picked = getattr(table, action)
                _check_picker(ctx, ws, (*base, action), picked, profile, custom, f"table {table.name!r} {action}")
            if table.fields is None or not check_concept(ctx, ws, (*base, "fields"), profile, "fields", "field permissions"):
                continue
            check_duplicates(ctx, ws, (*base, "fields"), table.fields, lambda f: f.name, "ref.duplicate-field", f"table {table.name!r}: field")
            for j, fld in enumerate(table.fields):
                where = f"field {table.name}.{fld.name} read"
                _check_picker(ctx, ws, (*base, "fields", j, "read"), fld.read, profile, custom, where)


def _check_members(ctx: CheckContext, ws: Loaded[Workspace], profile: Profile, custom: frozenset[str]) -> None:
    spec = ws.doc.spec
    members = spec.members or []
    org = spec.organization
    check_duplicates(ctx, ws, ("spec", "members"), members, lambda m: m.email.lower(), "ref.duplicate-member", "member")
    for i, member in enumerate(members):
        base = ("spec", "members", i)
        who = f"workspace {ws.doc.metadata.name!r}"
        check_member_in_org(ctx, ws, (*base, "email"), org, member.email, "ref.workspace-member-not-in-org", who)
        _check_grant(ctx, ws, base, f"member {member.email!r}", member, profile, custom)


def _check_grant(ctx: CheckContext, ws: Loaded[Workspace], base: Path, who: str, grant: WorkspaceMember | WorkspaceTeamGrant, profile: Profile, custom: frozenset[str]) -> None:
    """The role, custom roles, scopes and permission set of one member entry or team grant."""
    org = ws.doc.spec.organization
    if grant.role is not None:
        _check_role(ctx, ws, (*base, "role"), who, grant.role, profile)
    if grant.custom_roles is not None and check_concept(ctx, ws, (*base, "custom_roles"), profile, "custom_roles", "custom roles"):
        for j, role in enumerate(grant.custom_roles):
            if role not in custom:
                ctx.add(
                    ws.problem(
                        (*base, "custom_roles", j),
                        "ref.unknown-custom-role",
                        f"{who}: custom role {role!r} is not defined in organization {org!r}",
                    )
                )
    if grant.sections is not None and check_concept(ctx, ws, (*base, "sections"), profile, "sections", "section scopes"):
        check_scopes(ctx, ws, (*base, "sections"), grant.sections, profile.sections, profile, "section")
    if grant.permission_set is not None:
        check_permission_set_ref(ctx, ws, (*base, "permission_set"), grant.permission_set, org, profile)


def _check_role(ctx: CheckContext, ws: Loaded[Workspace], path: Path, who: str, role: str, profile: Profile) -> None:
    if role not in profile.workspace_role_names:
        known = ", ".join(r.name for r in profile.workspace_roles) or "none"
        ctx.add(ws.problem(path, "ref.unknown-role", f"{who}: unknown workspace role {role!r} (profile {profile.name!r} has {known})"))


def _check_team_grants(ctx: CheckContext, ws: Loaded[Workspace], profile: Profile, custom: frozenset[str]) -> None:
    """Team grants name teams of the organization whose members are listed, and valid roles and scopes."""
    spec = ws.doc.spec
    if spec.teams is None or not check_concept(ctx, ws, ("spec", "teams"), profile, "teams", "team grants"):
        return
    check_duplicates(ctx, ws, ("spec", "teams"), spec.teams, lambda t: t.team, "ref.duplicate-team-grant", "team grant")
    for i, grant in enumerate(spec.teams):
        base = ("spec", "teams", i)
        if check_team_ref(ctx, ws, (*base, "team"), spec.organization, grant.team):
            _check_grant(ctx, ws, base, f"team {grant.team!r}", grant, profile, custom)


def _check_default_role(ctx: CheckContext, ws: Loaded[Workspace], profile: Profile) -> None:
    spec = ws.doc.spec
    if spec.default_role is None:
        return
    _check_role(ctx, ws, ("spec", "default_role"), "default_role", spec.default_role, profile)
    if ctx.org_members.get(spec.organization, None) is None:
        ctx.add(
            ws.problem(
                ("spec", "default_role"),
                "ref.default-role-members-unmanaged",
                f"default_role gives every member of organization {spec.organization!r} a role, but that organization does not list its members",
            )
        )


def _check_picker(
    ctx: CheckContext,
    ws: Loaded[Workspace],
    path: Path,
    picked: list[str] | None,
    profile: Profile,
    custom: frozenset[str],
    where: str,
) -> None:
    """Roles in a restricted picker: known roles, never a bypass role such as Admin."""
    bypass = {r.name for r in profile.workspace_roles if r.bypass}
    for i, role in enumerate(picked or []):
        if role in bypass:
            ctx.add(
                ws.problem(
                    (*path, i),
                    "ref.admin-in-restricted-picker",
                    f"{where}: {role!r} always keeps full access and never appears in restricted permission pickers; remove it",
                )
            )
        elif role not in profile.workspace_role_names and role not in custom:
            ctx.add(
                ws.problem(
                    (*path, i),
                    "ref.unknown-role",
                    f"{where}: {role!r} is neither a workspace role of profile {profile.name!r} "
                    f"nor a custom role of organization {ws.doc.spec.organization!r}",
                )
            )
