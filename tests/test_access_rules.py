"""One table-driven test per access rule of docs/access-model.md."""

from __future__ import annotations

import pytest

from access_state import State


def check(state: State, member: str, action: str, resource: str) -> tuple[bool, str]:
    cap = state.engine().check(state.org, member, action, resource)
    return cap.allowed, "; ".join(cap.reasons)


def run_table(state: State, rows: list[tuple[str, str, str, bool, str]]) -> None:
    for member, action, resource, allowed, reason in rows:
        got, why = check(state, member, action, resource)
        assert got is allowed, f"{member} {action} {resource}: {why}"
        assert reason in why, f"{member} {action} {resource}: {why!r} lacks {reason!r}"


# R1 seed 002: a bypass org role lifts granular restrictions (org-level "admin" capability).
def test_r1_bypass_role_is_admin() -> None:
    s = State(profile="scoped-access").member("ada@a.test", "Admin").member("bo@a.test", "Member")
    run_table(s, [
        ("ada@a.test", "admin", "acme", True, "Admin bypasses every granular restriction"),
        ("bo@a.test", "admin", "acme", False, "Member does not bypass"),
    ])


# R2 seed 000: a permission is allowed to its role and every role ranked above it.
def test_r2_matrix_rank() -> None:
    s = State(profile="permission-matrix").member("o@a.test", "Owner").member("ad@a.test", "Admin").member("m@a.test", "Member")
    s.matrix("invite_members", "Admin").matrix("view_members", "Member").matrix("delete_organization", "Owner")
    run_table(s, [
        ("o@a.test", "invite_members", "acme", True, "allowed to Admin and above"),
        ("ad@a.test", "invite_members", "acme", True, "ad is Admin"),
        ("m@a.test", "invite_members", "acme", False, "Member ranks below Admin"),
        ("m@a.test", "view_members", "acme", True, "m is Member"),
        ("ad@a.test", "delete_organization", "acme", False, "Admin ranks below Owner"),
        ("o@a.test", "delete_organization", "acme", True, "o is Owner"),
    ])


# R3 seed 001: Admin W/O Billing never billing; Billing only billing; unassigned keys: the highest role only.
def test_r3_admin_without_billing_and_billing_only() -> None:
    s = State(profile="org-roles").member("a@a.test", "Admin").member("w@a.test", "Admin W/O Billing").member("b@a.test", "Billing").member("m@a.test", "Member")
    s.matrix("view_billing", "Member").matrix("view_members", "Member")
    run_table(s, [
        ("w@a.test", "view_billing", "acme", False, "Admin W/O Billing excludes billing permissions"),
        ("b@a.test", "view_billing", "acme", True, "b is Billing"),
        ("b@a.test", "view_members", "acme", False, "Billing may use only billing permissions"),
        # unassigned keys: the highest role only (seeds 000/001, docs/access-model.md)
        ("w@a.test", "invite_members", "acme", False, "not assigned in the matrix, so only the highest role Admin holds it"),
        ("w@a.test", "manage_billing", "acme", False, "only the highest role Admin"),
        ("b@a.test", "manage_billing", "acme", False, "only the highest role Admin"),
        ("m@a.test", "invite_members", "acme", False, "m is Member"),
        ("a@a.test", "manage_billing", "acme", True, "a is Admin"),
    ])


# R4 seed 004: Owner everything; Maintainer all but delete workspace, remove owners, remove members; User nothing.
def test_r4_owners_maintainers_users() -> None:
    s = State(profile="spaces").member("o@a.test", "Owner").member("mt@a.test", "Maintainer").member("u@a.test", "User")
    run_table(s, [
        ("o@a.test", "delete_workspace", "acme", True, "full control"),
        ("mt@a.test", "manage_settings", "acme", True, "Maintainer may manage settings"),
        ("mt@a.test", "delete_workspace", "acme", False, "Maintainer cannot delete workspace"),
        ("mt@a.test", "remove_owners", "acme", False, "cannot remove owners"),
        ("mt@a.test", "remove_members", "acme", False, "cannot remove members"),
        ("u@a.test", "manage_settings", "acme", False, "User cannot manage settings"),
        ("u@a.test", "delete_workspace", "acme", False, "Maintainer cannot delete workspace, and User ranks below Maintainer"),
    ])


# R5 seed 003: default workspace roles decide unrestricted table actions.
def test_r5_default_workspace_roles() -> None:
    s = State().member("e@a.test").member("v@a.test").member("n@a.test").workspace("crm").table("crm", "notes")
    s.ws_member("crm", "e@a.test", "Editor").ws_member("crm", "v@a.test", "Viewer").ws_member("crm", "n@a.test", "None", ["support"])
    run_table(s, [
        ("e@a.test", "delete", "crm/notes", True, "e is Editor, which may delete"),
        ("v@a.test", "read", "crm/notes", True, "v is Viewer, which may read"),
        ("v@a.test", "edit", "crm/notes", False, "v is Viewer, which cannot edit"),
        ("n@a.test", "read", "crm/notes", False, "no default workspace role"),
    ])


# R6 seed 003: custom roles add access and narrow it (a restricted action needs a listed role).
def test_r6_custom_roles_add_and_narrow() -> None:
    s = State().member("bo@a.test").member("cy@a.test").custom_role("support").workspace("crm")
    s.ws_member("crm", "bo@a.test", "Editor").ws_member("crm", "cy@a.test", "Viewer", ["support"])
    s.table("crm", "customers", edit=["support"])
    run_table(s, [
        ("bo@a.test", "edit", "crm/customers", False, "table edit is restricted to [support]; bo is Editor without support"),
        ("cy@a.test", "edit", "crm/customers", True, "cy has support"),
        ("bo@a.test", "create", "crm/customers", True, "table create is unrestricted"),
    ])


# R7 seed 003: workspace Admin always keeps full access (never needs a picker).
def test_r7_workspace_admin_always_full() -> None:
    s = State().member("ad@a.test").workspace("crm").ws_member("crm", "ad@a.test", "Admin")
    s.table("crm", "customers", edit=["support"], read=["support"]).field("crm", "customers", "address", ["delivery"]).app("crm", "desk", ["support"])
    run_table(s, [
        ("ad@a.test", "edit", "crm/customers", True, "workspace Admin"),
        ("ad@a.test", "read", "crm/customers/address", True, "always keeps full access"),
        ("ad@a.test", "access", "crm/desk", True, "always keeps full access"),
        ("ad@a.test", "admin", "crm", True, "workspace Admin"),
    ])


# R8 seed 001: organization access is separate; an org Admin without membership has no workspace access.
def test_r8_org_admin_needs_workspace_membership() -> None:
    s = State(profile="org-roles").member("ad@a.test", "Admin").member("v@a.test", "Admin").workspace("crm").table("crm", "t")
    s.ws_member("crm", "v@a.test", "Viewer")
    run_table(s, [
        ("ad@a.test", "read", "crm/t", False, "org role Admin does not by itself grant workspace access"),
        ("v@a.test", "edit", "crm/t", False, "v is Viewer, which cannot edit"),
    ])


# R9 seed 003: app "Allow access to" roles; an app without a list follows the default role.
def test_r9_app_allow() -> None:
    s = State().member("e@a.test").member("s@a.test").member("n@a.test").workspace("crm")
    s.ws_member("crm", "e@a.test", "Editor").ws_member("crm", "s@a.test", "None", ["support"]).ws_member("crm", "n@a.test", "None")
    s.app("crm", "desk", ["support"]).app("crm", "wiki", None)
    run_table(s, [
        ("s@a.test", "access", "crm/desk", True, "s has support"),
        ("e@a.test", "access", "crm/desk", False, "app access is limited to [support]"),
        ("e@a.test", "access", "crm/wiki", True, "open to every role"),
        ("n@a.test", "access", "crm/wiki", False, "no default role that reads"),
    ])


# R10 seed 003: field read needs table read and a role of the field's read list.
def test_r10_field_read() -> None:
    s = State().member("bo@a.test").member("d@a.test").workspace("crm")
    s.ws_member("crm", "bo@a.test", "Editor").ws_member("crm", "d@a.test", "None", ["delivery"])
    s.table("crm", "customers", read=["Editor", "delivery"]).field("crm", "customers", "address", ["delivery"]).field("crm", "customers", "name", None)
    s.table("crm", "secrets", read=["finance"]).field("crm", "secrets", "iban", ["Editor"])
    run_table(s, [
        ("bo@a.test", "read", "crm/customers/address", False, "field address read is restricted to [delivery]; bo is Editor without delivery"),
        ("d@a.test", "read", "crm/customers/address", True, "d has delivery"),
        ("bo@a.test", "read", "crm/customers/name", True, "field name read is unrestricted"),
        ("bo@a.test", "read", "crm/secrets/iban", False, "reading iban needs reading table secrets"),
    ])


# R11 seed 002: section scopes None / View only / Full; View = read and export, Full = every write.
def test_r11_section_scopes() -> None:
    s = State(profile="scoped-access").member("f@a.test").member("ad@a.test", "Admin").workspace("agency")
    s.ws_member("agency", "f@a.test", "Member", sections={"Billing": "View only", "Projects": "Full", "Members": "None"})
    s.ws_member("agency", "ad@a.test", "Admin")
    run_table(s, [
        ("f@a.test", "Billing:View", "agency", True, "View only allows read and export"),
        ("f@a.test", "Billing:Full", "agency", False, "View only does not allow every write"),
        ("f@a.test", "Projects:Full", "agency", True, "Full allows every write"),
        ("f@a.test", "Members:View", "agency", False, "None does not allow"),
        ("f@a.test", "General:View", "agency", False, "General: None"),
        ("ad@a.test", "Billing:Full", "agency", True, "Admin bypasses every granular restriction, section scopes included"),
        ("f@a.test", "edit", "agency/Projects", True, "Full allows every write"),
    ])


# R12 seed 002: feature and settings scopes need project access; org Admin bypasses.
def test_r12_project_access_required() -> None:
    s = State(profile="scoped-access").member("f@a.test").member("g@a.test").member("ad@a.test", "Admin").space("harbor")
    s.space_member("harbor", "f@a.test", features={"TECHNICAL": "Full", "AI_AGENTS": "View only"}, settings={"SETTINGS_GENERAL": "View only"})
    run_table(s, [
        ("f@a.test", "TECHNICAL:Full", "harbor", True, "f has TECHNICAL: Full in harbor"),
        ("f@a.test", "AI_AGENTS:Full", "harbor", False, "View only does not allow every write"),
        ("f@a.test", "SETTINGS_GENERAL:View", "harbor", True, "View only allows read and export"),
        ("f@a.test", "GOOGLE_SEARCH:View", "harbor", False, "GOOGLE_SEARCH: None"),
        ("g@a.test", "TECHNICAL:View", "harbor", False, "TECHNICAL needs project access; g has no access to project harbor"),
        ("ad@a.test", "TECHNICAL:Full", "harbor", True, "Admin bypasses"),
        ("f@a.test", "edit", "harbor/TECHNICAL", True, "Full allows every write"),
    ])


# R13 seed 004: private spaces are for members only; auto join makes every workspace member one.
def test_r13_private_spaces_and_auto_join() -> None:
    s = State(profile="spaces").member("o@a.test", "Owner").member("u@a.test", "User").member("in@a.test", "User")
    s.space("open", kind="teamspace").space("secret", kind="teamspace", private=True).space("lobby", kind="teamspace", private=True, auto_join=True)
    s.space_member("secret", "in@a.test")
    run_table(s, [
        ("u@a.test", "view_space", "open", True, "space open is not private"),
        ("u@a.test", "view_space", "secret", False, "space secret is private; u is not a member of space secret"),
        ("in@a.test", "view_space", "secret", True, "in is a member of space secret"),
        ("u@a.test", "view_space", "lobby", True, "u is a member of space lobby via auto join"),
        ("o@a.test", "view_space", "secret", True, "Owner bypasses"),
    ])


# R14 seed 004: global admins archive and delete spaces, nothing else.
def test_r14_global_admins() -> None:
    s = State(profile="spaces").member("g@a.test", "User", global_admin=True).member("u@a.test", "User").space("roadmap", kind="project")
    run_table(s, [
        ("g@a.test", "archive_space", "roadmap", True, "global admin"),
        ("g@a.test", "delete_space", "roadmap", True, "global admin"),
        ("g@a.test", "update_space", "roadmap", False, "global admins archive and delete spaces only"),
        ("g@a.test", "manage_settings", "acme", False, "User cannot manage settings"),
        ("u@a.test", "delete_space", "roadmap", False, "delete_space needs an owner or maintainer role, or global admin"),
    ])


# R15 seed 004: space-type roles grant update / archive, and Forbid delete object takes deleting away.
def test_r15_space_type_roles() -> None:
    s = State(profile="spaces").member("r@a.test", "User").member("k@a.test", "User")
    s.space_type("client", kind="project", reviewer=["forbid_delete_object"], keeper=["update_space", "archive_space"])
    s.space("acme-site", kind="project", type="client", private=True)
    s.space_member("acme-site", "r@a.test", role="reviewer").space_member("acme-site", "k@a.test", role="keeper")
    run_table(s, [
        ("r@a.test", "delete_objects", "acme-site", False, "reviewer forbids deleting objects"),
        ("k@a.test", "delete_objects", "acme-site", True, "no space role forbids deleting objects"),
        ("k@a.test", "archive_space", "acme-site", True, "keeper grants archive_space"),
        ("k@a.test", "update_space", "acme-site", True, "keeper grants update_space"),
        ("r@a.test", "update_space", "acme-site", False, "space role reviewer, which does not grant update_space"),
    ])


# R16 seeds 001/003: invited members have no access until they accept.
def test_r16_invited_members_have_no_access() -> None:
    s = State().member("new@a.test", "Owner", status="invited", invited_at="2024-01-01T00:00:00Z").workspace("crm").ws_member("crm", "new@a.test", "Admin")
    run_table(s, [
        ("new@a.test", "delete_organization", "acme", False, "invited and has not accepted yet"),
        ("new@a.test", "admin", "crm", False, "allowed once they accept"),
    ])
    engine = s.engine()
    pending = engine.check("acme", "new@a.test", "admin", "crm")
    assert (pending.allowed, pending.configured, pending.verdict) == (False, True, "denied (allowed once they accept)")
    assert pending.to_json()["configured"] is True and pending.to_json()["allowed"] is False


# R17: people outside the organization and questions outside the vocabulary are denied, with the reason.
def test_r17_outsiders_and_unknown_capabilities() -> None:
    s = State().member("a@a.test").workspace("crm").table("crm", "t")
    run_table(s, [
        ("stranger@x.test", "read", "crm/t", False, "stranger is not a member of acme"),
        ("a@a.test", "fly", "crm/t", False, "is not a capability in acme"),
        ("a@a.test", "read", "crm/nope", False, "is not a capability in acme"),
    ])


@pytest.mark.parametrize("resource", ["crm/t", "acme/crm/t"])
def test_resources_may_be_named_with_or_without_the_organization(resource: str) -> None:
    s = State().member("e@a.test").workspace("crm").table("crm", "t").ws_member("crm", "e@a.test", "Editor")
    assert check(s, "e@a.test", "edit", resource)[0] is True
