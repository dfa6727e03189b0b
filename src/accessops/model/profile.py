"""A profile: one product's access vocabulary (roles, keys, sections, scopes).

Built-in profiles for the five seed models ship as YAML in
``accessops/profiles``; users may add their own from a file.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import Field

from accessops.model.base import Strict
from accessops.model.manifest import Text  # role and profile names reach every output: one line, no controls

# Concept names a profile may support; validation refuses a manifest that uses
# a concept its profile lacks.
CONCEPTS = (
    "members",
    "global_admin",
    "teams",
    "matrix",
    "custom_roles",
    "workspaces",
    "sections",
    "apps",
    "tables",
    "fields",
    "space_types",
    "spaces",
    "permission_sets",
    "seats",
)


class OrgRole(Strict):
    """An organization role. Profiles list them highest rank first."""

    name: Text
    bypass: bool = Field(False, description="Bypasses every granular restriction (seed 002 Admin).")
    excludes: list[str] = Field(default_factory=list, description="Matrix groups this role may never use (Admin W/O Billing: billing).")
    only: list[str] = Field(default_factory=list, description="When set, the only matrix groups this role may use (Billing: billing).")
    denies: list[str] = Field(default_factory=list, description="Org actions this role may not perform (seed 004 Maintainer).")


class WorkspaceRole(Strict):
    """A default workspace role and the data actions it allows."""

    name: Text
    bypass: bool = False
    actions: list[str] = Field(default_factory=list)


class Profile(Strict):
    """A product's access vocabulary."""

    name: Text
    description: str = ""
    org_roles: list[OrgRole]
    matrix: dict[str, list[str]] = Field(default_factory=dict, description="Permission keys by group.")
    destructive: list[str] = Field(default_factory=list)
    workspace_roles: list[WorkspaceRole] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    features: list[str] = Field(default_factory=list)
    settings: list[str] = Field(default_factory=list)
    scope_levels: list[str] = Field(default_factory=lambda: ["None", "View only", "Full"])
    space_kinds: list[str] = Field(default_factory=list)
    space_type_permissions: list[str] = Field(default_factory=list)
    supports: list[str] = Field(default_factory=list)

    @cached_property
    def org_role_rank(self) -> dict[str, int]:
        """Role name to rank; 0 is the highest."""
        return {role.name: i for i, role in enumerate(self.org_roles)}

    @cached_property
    def workspace_role_names(self) -> frozenset[str]:
        """Names of the default workspace roles."""
        return frozenset(role.name for role in self.workspace_roles)

    @cached_property
    def permission_keys(self) -> dict[str, str]:
        """Matrix permission key to its group."""
        return {key: group for group, keys in self.matrix.items() for key in keys}

    def supports_concept(self, concept: str) -> bool:
        """Whether manifests under this profile may use ``concept``."""
        return concept in self.supports
