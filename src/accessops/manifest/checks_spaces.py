"""Space type and space checks: kinds, roles, permissions, members and their scopes."""

from __future__ import annotations

from accessops.manifest.checks_common import (
    CheckContext,
    check_concept,
    check_duplicates,
    check_member_in_org,
    check_scopes,
    check_team_ref,
    Path,
)
from accessops.manifest.checks_sets import check_permission_set_ref
from accessops.manifest.loader import Loaded
from accessops.model.manifest import Space, SpaceMember, SpaceTeamGrant, SpaceType
from accessops.model.profile import Profile


def check_space_type(ctx: CheckContext, st: Loaded[SpaceType], profile: Profile) -> None:
    """Every problem of one SpaceType document against its organization's profile."""
    spec = st.doc.spec
    if not check_concept(ctx, st, ("kind",), profile, "space_types", "space types"):
        return
    _check_kind(ctx, st, spec.kind, profile)
    if spec.roles is None:
        return
    check_duplicates(ctx, st, ("spec", "roles"), spec.roles, lambda r: r.name, "ref.duplicate-space-type-role", "space type role")
    for i, role in enumerate(spec.roles):
        for j, perm in enumerate(role.permissions):
            if perm not in profile.space_type_permissions:
                known = ", ".join(profile.space_type_permissions) or "none"
                ctx.add(
                    st.problem(
                        ("spec", "roles", i, "permissions", j),
                        "ref.unknown-space-type-permission",
                        f"role {role.name!r}: unknown space type permission {perm!r} (profile {profile.name!r} has {known})",
                    )
                )


def check_space(ctx: CheckContext, sp: Loaded[Space], profile: Profile) -> None:
    """Every problem of one Space document against its organization's profile."""
    spec = sp.doc.spec
    if not check_concept(ctx, sp, ("kind",), profile, "spaces", "spaces"):
        return
    if spec.kind is not None:
        _check_kind(ctx, sp, spec.kind, profile)
    roles: set[str] | None = None  # the roles of the space's type, when it has one
    if spec.type is not None:
        st = ctx.model.space_types.get(f"{spec.organization}/{spec.type}")
        if st is None:
            ctx.add(
                sp.problem(("spec", "type"), "ref.unknown-space-type", f"space type {spec.type!r} is not declared in organization {spec.organization!r}")
            )
        else:
            roles = {r.name for r in st.doc.spec.roles or []}
            if spec.kind is not None and spec.kind != st.doc.spec.kind:
                ctx.add(
                    sp.problem(
                        ("spec", "kind"),
                        "ref.space-kind-mismatch",
                        f"space kind {spec.kind!r} differs from the kind {st.doc.spec.kind!r} of its type {spec.type!r}",
                    )
                )
    if spec.teams is not None and check_concept(ctx, sp, ("spec", "teams"), profile, "teams", "team grants"):
        check_duplicates(ctx, sp, ("spec", "teams"), spec.teams, lambda t: t.team, "ref.duplicate-team-grant", "team grant")
        for i, team_grant in enumerate(spec.teams):
            base = ("spec", "teams", i)
            if check_team_ref(ctx, sp, (*base, "team"), spec.organization, team_grant.team):
                _check_space_grant(ctx, sp, base, f"team {team_grant.team!r}", team_grant, roles, profile)
    if spec.members is None:
        return
    check_duplicates(ctx, sp, ("spec", "members"), spec.members, lambda m: m.email.lower(), "ref.duplicate-member", "member")
    for i, member in enumerate(spec.members):
        base = ("spec", "members", i)
        who = f"space {sp.doc.metadata.name!r}"
        check_member_in_org(ctx, sp, (*base, "email"), spec.organization, member.email, "ref.space-member-not-in-org", who)
        _check_space_grant(ctx, sp, base, f"member {member.email!r}", member, roles, profile)


def _check_space_grant(ctx: CheckContext, sp: Loaded[Space], base: Path, who: str, grant: SpaceMember | SpaceTeamGrant, roles: set[str] | None, profile: Profile) -> None:
    """The role, scopes and permission set of one member entry or team grant of a space."""
    spec = sp.doc.spec
    if grant.role is not None and spec.type is None:
        ctx.add(sp.problem((*base, "role"), "ref.unknown-space-type-role", f"{who}: space has no type, so it has no role {grant.role!r}"))
    elif grant.role is not None and roles is not None and grant.role not in roles:
        known = ", ".join(sorted(roles)) or "none"
        ctx.add(
            sp.problem(
                (*base, "role"),
                "ref.unknown-space-type-role",
                f"{who}: space type {spec.type!r} has no role {grant.role!r} (it has {known})",
            )
        )
    check_scopes(ctx, sp, (*base, "features"), grant.features, profile.features, profile, "feature")
    check_scopes(ctx, sp, (*base, "settings"), grant.settings, profile.settings, profile, "setting")
    if grant.permission_set is not None:
        check_permission_set_ref(ctx, sp, (*base, "permission_set"), grant.permission_set, spec.organization, profile)


def _check_kind(ctx: CheckContext, item: Loaded[Space] | Loaded[SpaceType], kind: str, profile: Profile) -> None:
    if kind not in profile.space_kinds:
        known = ", ".join(profile.space_kinds) or "none"
        ctx.add(item.problem(("spec", "kind"), "ref.unknown-space-kind", f"unknown space kind {kind!r} (profile {profile.name!r} has {known})"))
