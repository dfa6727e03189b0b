"""Every file in examples/invalid/ fails with exactly one problem: the right code, line, column and message.

The file names are the failures they provoke; each file is self-contained.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from accessops.errors import ManifestError
from accessops.manifest.loader import load

ROOT = Path(__file__).resolve().parent.parent
INVALID = ROOT / "examples" / "invalid"

# file stem -> (code, line, column, path inside the document, message)
EXPECTED: dict[str, tuple[str, int, int, str, str]] = {
    "admin-in-restricted-picker": ('ref.admin-in-restricted-picker', 22, 16, 'spec.tables[0].delete[0]', "table 'customers' delete: 'Admin' always keeps full access and never appears in restricted permission pickers; remove it"),
    "billion-laughs": ('yaml.alias-bomb', 8, 4, '', 'aliases expand to more than 100000 extra nodes; refusing to load'),
    "custom-role-shadows-role": ('ref.custom-role-shadows-role', 14, 8, 'spec.custom_roles[1].name', "custom role 'Editor' has the name of a role of profile 'union'; pick another name"),
    "duplicate-app": ('ref.duplicate-app', 21, 7, 'spec.apps[1]', "app 'helpdesk' is declared twice (first at line 20)"),
    "duplicate-document": ('ref.duplicate-document', 24, 3, 'metadata.name', "Workspace 'crm' is already declared at examples/invalid/duplicate-document.yaml:13"),
    "duplicate-field": ('ref.duplicate-field', 23, 11, 'spec.tables[0].fields[1]', "table 'customers': field 'address' is declared twice (first at line 22)"),
    "duplicate-key": ('yaml.duplicate-key', 10, 3, '', "duplicate key 'seats' (first at line 9)"),
    "duplicate-nan-key": ('yaml.duplicate-key', 11, 5, '', "duplicate key nan (first at line 10)"),
    "duplicate-member": ('ref.duplicate-member', 12, 7, 'spec.members[2]', "member 'bo@acme.test' is declared twice (first at line 11)"),
    "duplicate-table": ('ref.duplicate-table', 22, 7, 'spec.tables[2]', "table 'customers' is declared twice (first at line 20)"),
    "duplicate-team": ('ref.duplicate-team', 15, 7, 'spec.teams[2]', "team 'platform' is declared twice (first at line 13)"),
    "guardrail-rule-count": ('policy.guardrail-rule-count', 20, 7, 'spec.guardrails[0]', "guardrail 'safe-defaults' must set exactly one of owner_only, grant, min_owners, forbidden_domains (found: min_owners, forbidden_domains)"),
    "integer-too-long": ('yaml.bad-value', 9, 10, '', 'integer of 5000 digits is too large'),
    "invalid-email": ('schema.string_pattern_mismatch', 11, 8, 'spec.members[1].email', 'not an e-mail address (one "@"; no spaces, slashes, backslashes, quotes or control characters; not starting with ".")'),
    "missing-required-field": ('schema.missing', 7, 1, 'spec.profile', "missing required field 'profile'"),
    "permission-set-other-org": ('ref.permission-set-other-org', 29, 43, 'spec.members[0].permission_set', "permission set 'globex-reviewer' belongs to organization 'globex', not 'acme'"),
    "role-excluded-from-group": ('ref.role-excluded-from-group', 12, 5, 'spec.permissions.manage_billing', "permission 'manage_billing': role 'Admin W/O Billing' may not hold billing permissions"),
    "seats-exceeded": ('seats.exceeded', 9, 3, 'spec.seats', "organization 'acme' declares 3 members but has only 2 seats"),
    "seats-too-large": ('schema.less_than_equal', 9, 3, 'spec.seats', 'Input should be less than or equal to 9223372036854775807'),
    "space-kind-mismatch": ('ref.space-kind-mismatch', 28, 3, 'spec.kind', "space kind 'project' differs from the kind 'drive' of its type 'shared-drive'"),
    "space-member-not-in-org": ('ref.space-member-not-in-org', 22, 8, 'spec.members[1].email', "space 'roadmap': member 'eve@acme.test' is not in organization 'acme'"),
    "team-grant-unknown-team": ('ref.unknown-team', 22, 8, 'spec.teams[0].team', "team 'sales' is not declared in organization 'acme' (it has support)"),
    "team-grant-unknown-role": ('ref.unknown-role', 22, 23, 'spec.teams[0].role', "team 'support': unknown workspace role 'Superuser' (profile 'union' has Admin, Editor, Viewer, None)"),
    "team-grant-unknown-custom-role": ('ref.unknown-custom-role', 24, 61, 'spec.teams[0].custom_roles[1]', "team 'support': custom role 'delivery' is not defined in organization 'acme'"),
    "space-team-grant-unknown-role": ('ref.unknown-space-type-role', 33, 22, 'spec.teams[0].role', "team 'design': space type 'client-project' has no role 'owner' (it has lead)"),
    "default-role-members-unmanaged": ('ref.default-role-members-unmanaged', 16, 3, 'spec.default_role', "default_role gives every member of organization 'acme' a role, but that organization does not list its members"),
    "team-member-not-in-org": ('ref.team-member-not-in-org', 14, 32, 'spec.teams[0].members[1]', "team 'platform': member 'eve@acme.test' is not in organization 'acme'"),
    "unknown-custom-role": ('ref.unknown-custom-role', 23, 67, 'spec.members[1].custom_roles[1]', "member 'bo@acme.test': custom role 'delivery' is not defined in organization 'acme'"),
    "unknown-feature": ('ref.unknown-feature', 22, 44, 'spec.members[0].features.TIKTOK_ADS', "unknown feature 'TIKTOK_ADS' in profile 'union' (known: GOOGLE_SEARCH, AI_SEARCH, ATTRIBUTION, TECHNICAL, CONTENT_ANALYSIS, CONTENT_EDITOR, CUSTOM_REPORTS, AI_AGENTS, WORKFLOWS, AUTOMATIONS, BRAND_KIT)"),
    "unknown-field": ('schema.extra_forbidden', 12, 3, 'spec.team', "unknown field 'team'"),
    "unknown-guardrail-team": ('ref.unknown-team', 24, 7, 'spec.guardrails[0].only_team', "guardrail 'billing-full-only-finance': team 'finanse' is not declared in organization 'acme'"),
    "unknown-kind": ('doc.kind', 14, 1, 'kind', "unknown kind 'Team' (expected one of Organization, Workspace, SpaceType, Space, PermissionSet, Policy)"),
    "unknown-org-role": ('ref.unknown-role', 11, 29, 'spec.members[1].role', "member 'bo@acme.test': unknown organization role 'Owner' (profile 'org-roles' has Admin, Admin W/O Billing, Billing, Member)"),
    "unknown-organization": ('ref.unknown-organization', 18, 3, 'spec.organization', "organization 'acne' is not declared"),
    "unknown-permission-key": ('ref.unknown-permission-key', 14, 5, 'spec.permissions.delete_everything', "unknown permission key 'delete_everything' in profile 'permission-matrix'"),
    "unknown-permission-set": ('ref.unknown-permission-set', 20, 43, 'spec.members[0].permission_set', "permission set 'client-reviwer' does not exist (known: client-reviewer)"),
    "unknown-picker-role": ('ref.unknown-role', 20, 40, 'spec.apps[0].allow[1]', "app 'helpdesk': 'helpdesk-agents' is neither a workspace role of profile 'union' nor a custom role of organization 'acme'"),
    "unknown-profile": ('ref.unknown-profile', 8, 3, 'spec.profile', "unknown profile 'seat-matrix' (built-in: org-roles, permission-matrix, scoped-access, spaces, union, workspace-roles; or a path to a profile .yaml)"),
    "unknown-scope-level": ('ref.unknown-scope-level', 22, 18, 'spec.members[0].sections.Billing', "unknown scope level 'Read' for 'Billing' (expected one of None, View only, Full)"),
    "unknown-section": ('ref.unknown-section', 22, 38, 'spec.members[0].sections.Payroll', "unknown section 'Payroll' in profile 'union' (known: General, Integrations, Members, Projects, Billing)"),
    "unknown-setting": ('ref.unknown-setting', 22, 18, 'spec.members[0].settings.SETTINGS_BILLING', "unknown setting 'SETTINGS_BILLING' in profile 'union' (known: SETTINGS_GENERAL, SETTINGS_MEMBERS, SETTINGS_DATA_SOURCES, SETTINGS_PUBLISHING)"),
    "unknown-space-kind": ('ref.unknown-space-kind', 19, 3, 'spec.kind', "unknown space kind 'wiki' (profile 'union' has project, teamspace, drive)"),
    "unknown-space-type-permission": ('ref.unknown-space-type-permission', 21, 48, 'spec.roles[0].permissions[1]', "role 'lead': unknown space type permission 'delete_space' (profile 'union' has update_space, archive_space, forbid_delete_object)"),
    "unknown-space-type-role": ('ref.unknown-space-type-role', 32, 29, 'spec.members[1].role', "member 'bo@acme.test': space type 'team-space' has no role 'owner' (it has editor)"),
    "unknown-space-type": ('ref.unknown-space-type', 19, 3, 'spec.type', "space type 'client-projct' is not declared in organization 'acme'"),
    "unknown-workspace-role": ('ref.unknown-role', 20, 29, 'spec.members[0].role', "member 'bo@acme.test': unknown workspace role 'Contributor' (profile 'union' has Admin, Editor, Viewer, None)"),
    "unsupported-concept": ('profile.unsupported-concept', 22, 7, 'spec.members[0].sections', "profile 'workspace-roles' does not support section scopes (supports: members, teams, custom_roles, workspaces, apps, tables, fields, seats)"),
    "workspace-member-not-in-org": ('ref.workspace-member-not-in-org', 21, 8, 'spec.members[1].email', "workspace 'crm': member 'mallory@evil.test' is not in organization 'acme'"),
    "wrong-api-version": ('doc.api-version', 3, 1, 'apiVersion', "apiVersion must be 'accessops/v1', not 'accessops/v2'"),
    "wrong-type": ('schema.int_type', 9, 3, 'spec.seats', 'Input should be a valid integer'),
    "yaml-syntax": ('yaml.syntax', 13, 61, '', "did not find expected ',' or ']'"),
}


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # problems name files relative to the working directory
    monkeypatch.chdir(ROOT)


def test_every_invalid_example_has_an_expectation() -> None:
    assert sorted(p.stem for p in INVALID.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_invalid_example_fails_at_its_line(stem: str) -> None:
    code, line, column, path, message = EXPECTED[stem]
    with pytest.raises(ManifestError) as caught:
        load([INVALID / f"{stem}.yaml"])
    problems = caught.value.problems
    assert [(p.code, p.line, p.column, p.path, p.message) for p in problems] == [(code, line, column, path, message)]
    assert problems[0].file == f"examples/invalid/{stem}.yaml"


def test_problem_reads_file_line_column_path_message() -> None:
    with pytest.raises(ManifestError) as caught:
        load([INVALID / "team-member-not-in-org.yaml"])
    assert str(caught.value.problems[0]) == (
        "examples/invalid/team-member-not-in-org.yaml:14:32: spec.teams[0].members[1]: "
        "team 'platform': member 'eve@acme.test' is not in organization 'acme'"
    )


def test_invalid_examples_carry_the_schema_line() -> None:
    for path in INVALID.glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../schemas/accessops-v1.schema.json\n"), path
