"""Manifest kinds: Kubernetes-style documents that describe access policy.

Every document is ``apiVersion: accessops/v1``, a ``kind``, ``metadata.name``
and a ``spec``. A field left out (``None``) means *not managed*: the planner
never empties what a manifest does not mention.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, TypeAdapter, WithJsonSchema

from accessops.model.base import MAX_STORED_INT, Strict
from accessops.model.names import CONTROL_CLASS, DESCRIPTION_PATTERN, EMAIL_PATTERN, NAME_PATTERN, TEXT_PATTERN

API_VERSION = "accessops/v1"

# Every string a manifest holds is checked here, at the boundary: names become
# key segments and file names (NAME_PATTERN), everything else reaches output
# and may hold no control character or line break (TEXT_PATTERN).
Email = Annotated[str, Field(min_length=3, pattern=EMAIL_PATTERN, description="A member's email address; the member's identity.")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN, description='A name; not starting with "." or a space, no slashes, backslashes, quotes or control characters.')]
Text = Annotated[str, Field(pattern=TEXT_PATTERN, description="Text on one line: no control characters or line breaks.")]
Description = Annotated[str, Field(pattern=DESCRIPTION_PATTERN, description="Free text; tabs and newlines allowed, no other control characters.")]

#: The profiles that ship in ``accessops/profiles`` and the roles they define,
#: offered by editors for completion (a test keeps them equal to the files).
#: Every pattern here is the same regex in Python, pydantic-core (Rust) and
#: ECMAScript with the ``u`` flag (ajv, check-jsonschema, yaml-language-server).
BUILTIN_PROFILES = ("org-roles", "permission-matrix", "scoped-access", "spaces", "union", "workspace-roles")
BUILTIN_ORG_ROLES = ("Owner", "Admin", "Admin W/O Billing", "Billing", "Maintainer", "Member", "User")
BUILTIN_WORKSPACE_ROLES = ("Admin", "Editor", "Viewer", "Member", "None")
SCOPE_LEVELS = ("None", "View only", "Full")

RoleName = Annotated[
    str,
    Field(
        min_length=1,
        pattern=TEXT_PATTERN,
        description="A role named by the profile, or a custom role.",
        examples=list(dict.fromkeys(BUILTIN_ORG_ROLES + BUILTIN_WORKSPACE_ROLES)),
    ),
]
OrgRoleName = Annotated[str, Field(min_length=1, pattern=TEXT_PATTERN, description="An organization role from the profile.", examples=list(BUILTIN_ORG_ROLES))]
WorkspaceRoleName = Annotated[
    str, Field(min_length=1, pattern=TEXT_PATTERN, description="A default workspace role from the profile.", examples=list(BUILTIN_WORKSPACE_ROLES))
]
ScopeLevel = Annotated[str, Field(pattern=TEXT_PATTERN, description="A scope level from the profile: None, View only or Full.", examples=list(SCOPE_LEVELS))]
#: A built-in profile name (offered for completion) or a path to a profile .yaml;
#: checked as Text here, and by the profile loader (which needs .yaml or .yml).
ProfileRef = Annotated[
    str,
    Field(pattern=TEXT_PATTERN),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(BUILTIN_PROFILES), "description": "A built-in profile."},
                {"type": "string", "pattern": rf"^[^{CONTROL_CLASS}]*\.ya?ml$", "description": "A path to a profile .yaml, relative to the manifest."},
            ]
        }
    ),
]


class Metadata(Strict):
    """Identity of a document."""

    name: Name
    description: Description | None = None
    labels: dict[Text, Text] | None = None


# --- Organization -----------------------------------------------------------


class OrgMember(Strict):
    """A person in the organization, identified by email."""

    email: Email
    role: OrgRoleName | None = Field(None, description="Organization role from the profile (e.g. Admin, Member, Owner).")
    global_admin: bool | None = Field(None, description="Seed 004 global admin: may archive and delete spaces.")
    name: Text | None = Field(None, description="Display name.")


class Team(Strict):
    """A team and the organization members in it."""

    name: Name
    description: Description | None = None
    members: list[Email] | None = None


class CustomRole(Strict):
    """An org-level custom role, reusable in every workspace (seed 001)."""

    name: Name
    description: Description | None = None


class OrganizationSpec(Strict):
    """An organization: profile, seats, members, teams, matrix, custom roles."""

    profile: ProfileRef = Field(description="Built-in profile name (permission-matrix, org-roles, scoped-access, workspace-roles, spaces, union) or a path to a profile file.")
    seats: int | None = Field(None, ge=0, le=MAX_STORED_INT, description="Seat limit: active plus invited members may not exceed it.")
    members: list[OrgMember] | None = None
    teams: list[Team] | None = None
    permissions: dict[Text, OrgRoleName] | None = Field(None, description="Seed 000 permission matrix: key -> lowest org role allowed.")
    custom_roles: list[CustomRole] | None = None


class Organization(Strict):
    """``kind: Organization``."""

    apiVersion: Literal["accessops/v1"]
    kind: Literal["Organization"]
    metadata: Metadata
    spec: OrganizationSpec


# --- Workspace ----------------------------------------------------------------


class WorkspaceMember(Strict):
    """A member's access to one workspace."""

    email: Email
    role: WorkspaceRoleName | None = Field(None, description="Default workspace role (Admin / Editor / Viewer / None, or Member in scoped-access).")
    custom_roles: list[RoleName] | None = None
    sections: dict[Text, ScopeLevel] | None = Field(None, description="Seed 002 section scopes (General, Integrations, Members, Projects, Billing).")
    permission_set: Name | None = Field(None, description="A PermissionSet whose scopes apply; explicit scopes win.")


class WorkspaceTeamGrant(Strict):
    """Access a whole team gets in a workspace: every member of the team receives it (issue 13)."""

    team: Name = Field(description="A team of the organization; its members get this grant.")
    role: WorkspaceRoleName | None = Field(None, description="Default workspace role given to every team member.")
    custom_roles: list[RoleName] | None = None
    sections: dict[Text, ScopeLevel] | None = Field(None, description="Section scopes given to every team member.")
    permission_set: Name | None = Field(None, description="A PermissionSet whose scopes apply; explicit scopes win.")


class App(Strict):
    """An app and the roles it is limited to ("Allow access to")."""

    name: Name
    allow: list[RoleName] | None = None


class FieldPermission(Strict):
    """A field whose read is limited to some roles."""

    name: Name
    read: list[RoleName] | None = None


class Table(Strict):
    """A table and the roles allowed each action; a missing action is unrestricted."""

    name: Name
    read: list[RoleName] | None = None
    create: list[RoleName] | None = None
    edit: list[RoleName] | None = None
    delete: list[RoleName] | None = None
    fields: list[FieldPermission] | None = None


class WorkspaceSpec(Strict):
    """A workspace: members with roles and scopes, apps, tables, fields."""

    organization: Name
    profile: ProfileRef | None = Field(None, description="Overrides the organization's profile for this workspace.")
    default_role: WorkspaceRoleName | None = Field(None, description="A workspace role every organization member gets at least (like GitHub's base permission).")
    members: list[WorkspaceMember] | None = None
    teams: list[WorkspaceTeamGrant] | None = Field(None, description="Grants to whole teams; combined with each member's own entry (highest role wins).")
    apps: list[App] | None = None
    tables: list[Table] | None = None


class Workspace(Strict):
    """``kind: Workspace``."""

    apiVersion: Literal["accessops/v1"]
    kind: Literal["Workspace"]
    metadata: Metadata
    spec: WorkspaceSpec


# --- Spaces -------------------------------------------------------------------


class SpaceTypeRole(Strict):
    """A role of a space type and its permissions (seed 004)."""

    name: Name
    permissions: list[Text] = Field(default_factory=list, description="update_space, archive_space, forbid_delete_object.")


class SpaceTypeSpec(Strict):
    """A space type: its kind and its roles."""

    organization: Name
    kind: Text = Field(description="project, teamspace or drive.")
    roles: list[SpaceTypeRole] | None = None


class SpaceType(Strict):
    """``kind: SpaceType``."""

    apiVersion: Literal["accessops/v1"]
    kind: Literal["SpaceType"]
    metadata: Metadata
    spec: SpaceTypeSpec


class SpaceMember(Strict):
    """A member of a space, with a space role and per-feature/settings scopes."""

    email: Email
    role: Name | None = Field(None, description="A role of the space's type.")
    features: dict[Text, ScopeLevel] | None = None
    settings: dict[Text, ScopeLevel] | None = None
    permission_set: Name | None = None


class SpaceTeamGrant(Strict):
    """Access a whole team gets in a space: every member of the team receives it (issue 13)."""

    team: Name = Field(description="A team of the organization; its members get this grant.")
    role: Name | None = Field(None, description="A role of the space's type.")
    features: dict[Text, ScopeLevel] | None = None
    settings: dict[Text, ScopeLevel] | None = None
    permission_set: Name | None = None


class SpaceSpec(Strict):
    """A space (project, teamspace, drive)."""

    organization: Name
    kind: Text | None = Field(None, description="project, teamspace or drive; taken from the type when a type is given.")
    type: Name | None = Field(None, description="A SpaceType of the same organization.")
    private: bool | None = None
    auto_join: bool | None = Field(None, description="New workspace members join automatically.")
    members: list[SpaceMember] | None = None
    teams: list[SpaceTeamGrant] | None = Field(None, description="Grants to whole teams; combined with each member's own entry (highest role wins).")


class Space(Strict):
    """``kind: Space``."""

    apiVersion: Literal["accessops/v1"]
    kind: Literal["Space"]
    metadata: Metadata
    spec: SpaceSpec


# --- Permission sets ------------------------------------------------------------


class PermissionSetSpec(Strict):
    """A named, reusable bundle of scopes (seed 002 client reviewer, operator)."""

    organization: Name | None = Field(None, description="Limit the set to one organization; usable by all when omitted.")
    sections: dict[Text, ScopeLevel] | None = None
    features: dict[Text, ScopeLevel] | None = None
    settings: dict[Text, ScopeLevel] | None = None


class PermissionSet(Strict):
    """``kind: PermissionSet``."""

    apiVersion: Literal["accessops/v1"]
    kind: Literal["PermissionSet"]
    metadata: Metadata
    spec: PermissionSetSpec


# --- Policies -------------------------------------------------------------------


class GrantSelector(Strict):
    """A grant a guardrail talks about: a scope at a level, or an action on a resource."""

    section: Text | None = None
    feature: Text | None = None
    setting: Text | None = None
    level: ScopeLevel | None = None
    action: Text | None = None
    resource: Text | None = None


class Guardrail(Strict):
    """One guardrail; exactly one of its rule fields is set."""

    name: Name
    owner_only: list[Text] | None = Field(None, description="Matrix permissions that must stay with the top role.")
    grant: GrantSelector | None = Field(None, description="With only_team: nobody outside the team may hold this grant.")
    only_team: Name | None = None
    min_owners: int | None = Field(None, ge=1, le=MAX_STORED_INT)
    forbidden_domains: list[Text] | None = None


class Assertion(Strict):
    """An access check in the spirit of OpenFGA model tests."""

    member: Email
    action: Text
    resource: Text
    allowed: bool


class PolicySpec(Strict):
    """Guardrails and assertions for one organization."""

    organization: Name
    guardrails: list[Guardrail] | None = None
    assertions: list[Assertion] | None = None


class Policy(Strict):
    """``kind: Policy``."""

    apiVersion: Literal["accessops/v1"]
    kind: Literal["Policy"]
    metadata: Metadata
    spec: PolicySpec


AnyDocument = Annotated[
    Union[Organization, Workspace, SpaceType, Space, PermissionSet, Policy],
    Field(discriminator="kind"),
]
DOCUMENT_ADAPTER: TypeAdapter[AnyDocument] = TypeAdapter(AnyDocument)
KINDS = ("Organization", "Workspace", "SpaceType", "Space", "PermissionSet", "Policy")
