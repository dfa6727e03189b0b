"""Organization checks: members, seats, teams, the permission matrix, custom roles."""

from __future__ import annotations

from accessops.manifest.checks_common import CheckContext, check_concept, check_duplicates, check_member_in_org
from accessops.manifest.loader import Loaded
from accessops.model.manifest import Organization
from accessops.model.profile import Profile


def check_organization(ctx: CheckContext, org: Loaded[Organization], profile: Profile) -> None:
    """Every problem of one Organization document against its profile."""
    spec = org.doc.spec
    name = org.doc.metadata.name
    if spec.seats is not None:
        check_concept(ctx, org, ("spec", "seats"), profile, "seats", "seat limits")
    if spec.members is not None and check_concept(ctx, org, ("spec", "members"), profile, "members", "members"):
        _check_members(ctx, org, profile)
    if spec.teams is not None and check_concept(ctx, org, ("spec", "teams"), profile, "teams", "teams"):
        check_duplicates(ctx, org, ("spec", "teams"), spec.teams, lambda t: t.name, "ref.duplicate-team", "team")
        for i, team in enumerate(spec.teams):
            path = ("spec", "teams", i, "members")
            check_duplicates(ctx, org, path, team.members or [], str.lower, "ref.duplicate-team-member", f"team {team.name!r}: member")
            for j, email in enumerate(team.members or []):
                check_member_in_org(ctx, org, (*path, j), name, email, "ref.team-member-not-in-org", f"team {team.name!r}")
    if spec.permissions is not None and check_concept(ctx, org, ("spec", "permissions"), profile, "matrix", "a permission matrix"):
        _check_matrix(ctx, org, profile)
    if spec.custom_roles is not None and check_concept(ctx, org, ("spec", "custom_roles"), profile, "custom_roles", "custom roles"):
        check_duplicates(ctx, org, ("spec", "custom_roles"), spec.custom_roles, lambda r: r.name, "ref.duplicate-custom-role", "custom role")
        built_in = profile.workspace_role_names | set(profile.org_role_rank)
        for i, role in enumerate(spec.custom_roles):
            if role.name in built_in:
                ctx.add(
                    org.problem(
                        ("spec", "custom_roles", i, "name"),
                        "ref.custom-role-shadows-role",
                        f"custom role {role.name!r} has the name of a role of profile {profile.name!r}; pick another name",
                    )
                )


def _check_members(ctx: CheckContext, org: Loaded[Organization], profile: Profile) -> None:
    spec = org.doc.spec
    members = spec.members or []
    check_duplicates(ctx, org, ("spec", "members"), members, lambda m: m.email.lower(), "ref.duplicate-member", "member")
    roles = profile.org_role_rank
    for i, member in enumerate(members):
        if member.role is not None and member.role not in roles:
            ctx.add(
                org.problem(
                    ("spec", "members", i, "role"),
                    "ref.unknown-role",
                    f"member {member.email!r}: unknown organization role {member.role!r} (profile {profile.name!r} has {', '.join(roles)})",
                )
            )
        if member.global_admin is not None:
            check_concept(ctx, org, ("spec", "members", i, "global_admin"), profile, "global_admin", "global admins")
    if spec.seats is not None:
        distinct = len({m.email.lower() for m in members})
        if distinct > spec.seats:
            ctx.add(
                org.problem(
                    ("spec", "seats"),
                    "seats.exceeded",
                    f"organization {org.doc.metadata.name!r} declares {distinct} members but has only {spec.seats} seats",
                )
            )


def _check_matrix(ctx: CheckContext, org: Loaded[Organization], profile: Profile) -> None:
    groups = profile.permission_keys
    roles = {role.name: role for role in profile.org_roles}
    for key, role_name in (org.doc.spec.permissions or {}).items():
        path = ("spec", "permissions", key)
        group = groups.get(key)
        if group is None:
            ctx.add(org.problem(path, "ref.unknown-permission-key", f"unknown permission key {key!r} in profile {profile.name!r}"))
        role = roles.get(role_name)
        if role is None:
            ctx.add(
                org.problem(path, "ref.unknown-role", f"permission {key!r}: unknown organization role {role_name!r} (profile {profile.name!r} has {', '.join(roles)})")
            )
            continue
        if group is not None and (group in role.excludes or (role.only and group not in role.only)):
            ctx.add(
                org.problem(path, "ref.role-excluded-from-group", f"permission {key!r}: role {role_name!r} may not hold {group} permissions")
            )
