"""Cross-document checks: profiles resolved, every reference known.

Each check returns problems located at the manifest line that caused them.
"""

from __future__ import annotations

from pathlib import Path

from accessops.errors import ConfigError, Problem
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
    """Every cross-document problem of ``model``."""
    return resolve_profiles(model)
