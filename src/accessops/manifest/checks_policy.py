"""Policy checks: guardrails are well formed and name known things.

Evaluating guardrails and assertions against effective access is the access
engine's job; here only their shape and references are checked.
"""

from __future__ import annotations

from accessops.manifest.checks_common import CheckContext, check_duplicates, check_member_in_org
from accessops.manifest.loader import Loaded
from accessops.model.manifest import GrantSelector, Policy
from accessops.model.profile import Profile

GUARDRAIL_RULES = ("owner_only", "grant", "min_owners", "forbidden_domains")
SCOPE_SELECTORS = (("section", "sections"), ("feature", "features"), ("setting", "settings"))


def check_policy(ctx: CheckContext, policy: Loaded[Policy], profile: Profile) -> None:
    """Every problem of one Policy document."""
    spec = policy.doc.spec
    org = spec.organization
    guardrails = spec.guardrails or []
    check_duplicates(ctx, policy, ("spec", "guardrails"), guardrails, lambda g: g.name, "ref.duplicate-guardrail", "guardrail")
    for i, rail in enumerate(guardrails):
        base = ("spec", "guardrails", i)
        rules = [rule for rule in GUARDRAIL_RULES if getattr(rail, rule) is not None]
        if len(rules) != 1:
            found = ", ".join(rules) or "none"
            ctx.add(
                policy.problem(
                    base,
                    "policy.guardrail-rule-count",
                    f"guardrail {rail.name!r} must set exactly one of {', '.join(GUARDRAIL_RULES)} (found: {found})",
                )
            )
        if (rail.grant is None) != (rail.only_team is None):
            ctx.add(policy.problem(base, "policy.grant-needs-team", f"guardrail {rail.name!r}: grant and only_team go together"))
        for j, key in enumerate(rail.owner_only or []):
            if key not in profile.permission_keys:
                ctx.add(
                    policy.problem((*base, "owner_only", j), "ref.unknown-permission-key", f"guardrail {rail.name!r}: unknown permission key {key!r}")
                )
        if rail.only_team is not None and rail.only_team not in ctx.teams.get(org, frozenset()):
            ctx.add(
                policy.problem((*base, "only_team"), "ref.unknown-team", f"guardrail {rail.name!r}: team {rail.only_team!r} is not declared in organization {org!r}")
            )
        if rail.grant is not None:
            _check_grant(ctx, policy, (*base, "grant"), rail.grant, profile, rail.name)
    for i, assertion in enumerate(spec.assertions or []):
        path = ("spec", "assertions", i, "member")
        check_member_in_org(ctx, policy, path, org, assertion.member, "ref.assertion-member-not-in-org", "assertion")


def _check_grant(ctx: CheckContext, policy: Loaded[Policy], path: tuple[str | int, ...], grant: GrantSelector, profile: Profile, rail: str) -> None:
    chosen = [name for name in ("section", "feature", "setting", "action") if getattr(grant, name) is not None]
    if len(chosen) != 1:
        ctx.add(
            policy.problem(path, "policy.grant-selector", f"guardrail {rail!r}: grant names exactly one of section, feature, setting or action (found: {', '.join(chosen) or 'none'})")
        )
    if (grant.action is None) != (grant.resource is None):
        ctx.add(policy.problem(path, "policy.grant-selector", f"guardrail {rail!r}: grant action and resource go together"))
    for field, vocabulary in SCOPE_SELECTORS:
        key = getattr(grant, field)
        if key is not None and key not in getattr(profile, vocabulary):
            ctx.add(policy.problem((*path, field), f"ref.unknown-{field}", f"guardrail {rail!r}: unknown {field} {key!r} in profile {profile.name!r}"))
    if grant.level is not None and grant.level not in profile.scope_levels:
        ctx.add(
            policy.problem((*path, "level"), "ref.unknown-scope-level", f"guardrail {rail!r}: unknown scope level {grant.level!r} (expected one of {', '.join(profile.scope_levels)})")
        )
