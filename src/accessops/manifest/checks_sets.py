"""Permission set checks: each set's scopes, and every reference to a set."""

from __future__ import annotations

from typing import Any

from accessops.manifest.checks_common import CheckContext, Path, check_concept, check_scopes
from accessops.manifest.loader import Loaded
from accessops.model.manifest import PermissionSet
from accessops.model.profile import Profile


def check_permission_set(ctx: CheckContext, pset: Loaded[PermissionSet]) -> None:
    """A set bound to an organization is checked against that organization's profile.

    An unbound set is checked against the profile of every member that uses it
    (see :func:`check_permission_set_ref`).
    """
    org = pset.doc.spec.organization
    if org is None:
        return
    if org not in ctx.model.organizations:
        ctx.add(pset.problem(("spec", "organization"), "ref.unknown-organization", f"organization {org!r} is not declared"))
        return
    profile = ctx.model.profiles.get(org)
    if profile is not None:
        _check_set_scopes(ctx, pset, profile)


def _check_set_scopes(ctx: CheckContext, pset: Loaded[PermissionSet], profile: Profile) -> None:
    spec = pset.doc.spec
    check_scopes(ctx, pset, ("spec", "sections"), spec.sections, profile.sections, profile, "section")
    check_scopes(ctx, pset, ("spec", "features"), spec.features, profile.features, profile, "feature")
    check_scopes(ctx, pset, ("spec", "settings"), spec.settings, profile.settings, profile, "setting")


def check_permission_set_ref(ctx: CheckContext, item: Loaded[Any], path: Path, name: str, org: str, profile: Profile) -> None:
    """A member's ``permission_set`` must name a set usable in ``org`` under ``profile``."""
    if not check_concept(ctx, item, path, profile, "permission_sets", "permission sets"):
        return
    pset = ctx.model.permission_sets.get(name)
    if pset is None:
        known = ", ".join(sorted(ctx.model.permission_sets)) or "none declared"
        ctx.add(item.problem(path, "ref.unknown-permission-set", f"permission set {name!r} does not exist (known: {known})"))
        return
    bound = pset.doc.spec.organization
    if bound is not None and bound != org:
        ctx.add(
            item.problem(path, "ref.permission-set-other-org", f"permission set {name!r} belongs to organization {bound!r}, not {org!r}")
        )
    elif bound is None:
        _check_set_scopes(ctx, pset, profile)
