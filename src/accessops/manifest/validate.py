"""Cross-document checks: profiles resolved, every reference known.

Each check returns problems located at the manifest line that caused them.
"""

from __future__ import annotations

from pathlib import Path

from accessops.errors import ConfigError, Problem
from accessops.manifest.checks_common import build_context
from accessops.manifest.checks_org import check_organization
from accessops.manifest.checks_policy import check_policy
from accessops.manifest.checks_sets import check_permission_set
from accessops.manifest.checks_spaces import check_space, check_space_type
from accessops.manifest.checks_workspace import check_workspace
from accessops.manifest.loader import DesiredModel
from accessops.manifest.profiles import load_profile


def resolve_profiles(model: DesiredModel) -> list[Problem]:
    """Load each organization's profile (and workspace overrides) into the model."""
    problems: list[Problem] = []
    for name, org in model.organizations.items():
        try:
            model.profiles[name] = load_profile(org.doc.spec.profile, Path(org.file).parent)
        except ConfigError as exc:
            problems.append(org.problem(("spec", "profile"), "ref.unknown-profile", str(exc)))
    for key, ws in model.workspaces.items():
        org_name = ws.doc.spec.organization
        if org_name not in model.organizations:
            problems.append(ws.problem(("spec", "organization"), "ref.unknown-organization", f"organization {org_name!r} is not declared"))
            continue
        if ws.doc.spec.profile:
            try:
                model.workspace_profiles[key] = load_profile(ws.doc.spec.profile, Path(ws.file).parent)
            except ConfigError as exc:
                problems.append(ws.problem(("spec", "profile"), "ref.unknown-profile", str(exc)))
        elif org_name in model.profiles:
            model.workspace_profiles[key] = model.profiles[org_name]
    for table in (model.space_types, model.spaces, model.policies):
        for item in table.values():
            org_name = item.doc.spec.organization
            if org_name not in model.organizations:
                problems.append(item.problem(("spec", "organization"), "ref.unknown-organization", f"organization {org_name!r} is not declared"))
    return problems


def check_model(model: DesiredModel) -> list[Problem]:
    """Every cross-document problem of ``model``, all at once.

    Documents whose organization or profile cannot be resolved are reported
    once by :func:`resolve_profiles` and not checked further.
    """
    return resolve_profiles(model) + check_resolved(model)


def check_resolved(model: DesiredModel) -> list[Problem]:
    """:func:`check_model` for a model whose profiles :func:`resolve_profiles` has already loaded."""
    ctx = build_context(model)
    for name, org in model.organizations.items():
        if name in model.profiles:
            check_organization(ctx, org, model.profiles[name])
    for key, ws in model.workspaces.items():
        if key in model.workspace_profiles:
            check_workspace(ctx, ws, model.workspace_profiles[key])
    for st in model.space_types.values():
        if st.doc.spec.organization in model.profiles:
            check_space_type(ctx, st, model.profiles[st.doc.spec.organization])
    for sp in model.spaces.values():
        if sp.doc.spec.organization in model.profiles:
            check_space(ctx, sp, model.profiles[sp.doc.spec.organization])
    for pset in model.permission_sets.values():
        check_permission_set(ctx, pset)
    for policy in model.policies.values():
        if policy.doc.spec.organization in model.profiles:
            check_policy(ctx, policy, model.profiles[policy.doc.spec.organization])
    # an unbound permission set is checked once per use; report each problem once
    return list(dict.fromkeys(ctx.problems))
