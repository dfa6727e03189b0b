"""The seed rules issue 15 found wrong, one table per seed sentence (docs/access-model.md, "Seed decisions").

Each test quotes the sentence it rests on; each row is (member, action,
resource, allowed, a phrase the reasons must contain).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from access_state import State
from accessops.access.engine import AccessEngine
from accessops.access.lint import broad_full_scopes, lint
from accessops.access.policies import model_profiles
from accessops.manifest.loader import load
from accessops.model.compile import compile_model

EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples" / "policies").iterdir() if p.is_dir())
FEATURES = ["GOOGLE_SEARCH", "AI_SEARCH", "ATTRIBUTION", "TECHNICAL", "CONTENT_ANALYSIS", "CONTENT_EDITOR", "CUSTOM_REPORTS", "AI_AGENTS", "WORKFLOWS", "AUTOMATIONS", "BRAND_KIT"]


def run_table(state: State, rows: list[tuple[str, str, str, bool, str]]) -> None:
    engine = state.engine()
    for member, action, resource, allowed, reason in rows:
        cap = engine.check(state.org, member, action, resource)
        why = "; ".join(cap.reasons)
        assert cap.allowed is allowed, f"{member} {action} {resource}: {why}"
        assert reason in why, f"{member} {action} {resource}: {why!r} lacks {reason!r}"


# Seed 002: "Admin: full access across workspace and projects" and
# "Role and permission scopes interact: Admin bypasses granular restrictions."
@pytest.mark.parametrize("profile", ["scoped-access", "union"])
def test_seed002_org_admin_bypasses_section_scopes_set_to_none(profile: str) -> None:
    admin = "Admin"
    s = State(profile=profile).member("ad@a.test", admin).member("m@a.test", "Member").workspace("agency")
    s.ws_member("agency", "ad@a.test", "Member" if profile == "scoped-access" else "Editor", sections={"General": "None", "Billing": "None"})
    s.ws_member("agency", "m@a.test", "Member" if profile == "scoped-access" else "Editor", sections={"General": "None"})
    run_table(s, [
        ("ad@a.test", "General:Full", "agency", True, "Admin bypasses every granular restriction, section scopes included"),
        ("ad@a.test", "Billing:View", "agency", True, "bypasses"),
        ("m@a.test", "General:Full", "agency", False, "General: None"),
    ])
    # and the explanation never contradicts itself: no denied capability of the Admin in the workspace
    engine = s.engine()
    assert [c.line() for c in engine.capabilities(s.org, "ad@a.test") if not c.allowed and ":" in c.action and c.resource.endswith("/agency")] == []


# Seed 003: "Viewer: Can read and export data, but cannot create, edit, or delete it."
def test_seed003_viewers_export_tables_and_export_follows_read() -> None:
    s = State().member("v@a.test").member("n@a.test").member("s@a.test").workspace("ops").table("ops", "notes").table("ops", "payroll", read=["finance"])
    s.custom_role("finance").ws_member("ops", "v@a.test", "Viewer").ws_member("ops", "n@a.test", "None").ws_member("ops", "s@a.test", "None", ["finance"])
    run_table(s, [
        ("v@a.test", "export", "ops/notes", True, "export of notes follows read"),
        ("v@a.test", "edit", "ops/notes", False, "Viewer, which cannot edit"),
        ("n@a.test", "export", "ops/notes", False, "no default workspace role"),
        ("v@a.test", "export", "ops/payroll", False, "table read is restricted to [finance]"),
        ("s@a.test", "export", "ops/payroll", True, "s has finance"),
    ])
    who = {c.member for c in s.engine().who_can("export", "ops/notes") if c.allowed}
    assert who == {"v@a.test"}


# Seed 004: "Maintainers have the same permissions as owners, except they
# cannot delete the workspace, remove owners, or remove team members."
def test_seed004_maintainers_manage_spaces_like_owners() -> None:
    s = State(profile="spaces").member("o@a.test", "Owner").member("mt@a.test", "Maintainer").member("u@a.test", "User")
    s.space_type("client", kind="project", reviewer=["forbid_delete_object"]).space("site", kind="project", type="client", private=True)
    s.space_member("site", "mt@a.test", role="reviewer")
    rows = []
    for action in ("view_space", "update_space", "archive_space", "delete_space", "delete_objects"):
        rows.append(("o@a.test", action, "site", True, "Owner bypasses"))
        rows.append(("mt@a.test", action, "site", True, "Maintainer has the same permissions as owners over spaces"))
    rows += [
        ("mt@a.test", "delete_workspace", "acme", False, "Maintainer cannot delete workspace"),
        ("mt@a.test", "remove_owners", "acme", False, "cannot remove owners"),
        ("mt@a.test", "remove_members", "acme", False, "cannot remove members"),
        ("u@a.test", "update_space", "site", False, "update_space needs a space role that grants it, or an owner or maintainer role"),
        ("u@a.test", "view_space", "site", False, "u is not a member of space site"),
    ]
    run_table(s, rows)


# Seed 004: "If Auto join is toggled on, new workspace members will be
# automatically added to your private space" -- accessops counts every
# member, existing or new (docs/access-model.md), and says so.
def test_seed004_auto_join_is_named_in_the_reason() -> None:
    s = State(profile="spaces").member("u@a.test", "User").space("lobby", kind="teamspace", private=True, auto_join=True)
    s.space("quiet", kind="teamspace", private=True)
    run_table(s, [
        ("u@a.test", "view_space", "lobby", True, "u is a member of space lobby via auto join"),
        ("u@a.test", "delete_objects", "lobby", True, "via auto join"),
        ("u@a.test", "view_space", "quiet", False, "u is not a member of space quiet"),
    ])


# Seed 004: "All spaces with a Make private toggle can be restricted to allow
# only members to view the space" and "Global admins have full permissions
# when it comes to spaces themselves, such as archiving and deleting
# projects": whoever may archive or delete a private space sees it.
def test_seed004_private_spaces_owners_and_global_admins() -> None:
    s = State(profile="spaces").member("o@a.test", "Owner").member("g@a.test", "User", global_admin=True).member("u@a.test", "User")
    s.space("vault", kind="drive", private=True)
    run_table(s, [
        ("o@a.test", "view_space", "vault", True, "Owner bypasses"),
        ("g@a.test", "view_space", "vault", True, "g is a global admin, who manages every space"),
        ("g@a.test", "archive_space", "vault", True, "global admin"),
        ("g@a.test", "delete_space", "vault", True, "global admin"),
        ("g@a.test", "update_space", "vault", False, "global admins archive and delete spaces only"),
        ("u@a.test", "view_space", "vault", False, "space vault is private"),
        ("u@a.test", "archive_space", "vault", False, "archive_space needs"),
    ])
    engine = s.engine()
    for email in ("o@a.test", "g@a.test", "u@a.test"):
        for action in ("archive_space", "delete_space", "update_space"):
            if engine.check(s.org, email, action, "vault").allowed:
                assert engine.check(s.org, email, "view_space", "vault").allowed, f"{email} may {action} vault without seeing it"


# Seed 002 weekly checklist: "Audit members with broad Full scopes." Broad
# means Full on at least half of one kind's keys (sections, features,
# settings counted apart), as docs/access-model.md says.
@pytest.mark.parametrize(
    ("features", "settings", "broad"),
    [
        ({k: "Full" for k in FEATURES}, {}, True),  # all 11 features of one project
        ({k: "Full" for k in FEATURES[:6]}, {}, True),  # 6 of 11: at least half
        ({k: "Full" for k in FEATURES[:5]}, {}, False),  # 5 of 11: below half
        ({"GOOGLE_SEARCH": "Full", "TECHNICAL": "Full", "WORKFLOWS": "Full"}, {}, False),  # seed 002's SEO operator
        ({}, {"SETTINGS_GENERAL": "Full", "SETTINGS_MEMBERS": "Full"}, True),  # 2 of 4 settings
        ({}, {"SETTINGS_GENERAL": "Full"}, False),  # at least 2 keys
    ],
)
def test_seed002_broad_full_scopes_counts_each_kind_apart(features: dict[str, str], settings: dict[str, str], broad: bool) -> None:
    s = State(profile="scoped-access").member("op@a.test").space("harbor").space_member("harbor", "op@a.test", features=features, settings=settings)
    view = next(iter(s.engine().views.values()))
    found = broad_full_scopes(view)
    assert bool(found) is broad, found


# Denial reasons: a reason never names as sufficient something the member already is.
def _sufficient_phrases(reasons: tuple[str, ...]) -> list[str]:
    return [m.group(1) for r in reasons for m in [re.search(r"\bneeds (.*)$", r)] if m]


@pytest.mark.parametrize("folder", EXAMPLES, ids=lambda p: p.name)
def test_denials_never_name_what_the_member_already_is(folder: Path) -> None:
    model = load([folder])
    engine = AccessEngine(compile_model(model).resources, model_profiles(model))
    for org, view in engine.views.items():
        for email in engine.members(org):
            who = view.person(email)
            for cap in engine.capabilities(org, email):
                if cap.allowed:
                    continue
                for phrase in _sufficient_phrases(cap.reasons):
                    if who.global_admin:
                        assert "global admin" not in phrase, cap.line()
                    assert not re.search(rf"\b(an? )?{re.escape(who.role_name)}\b( role)?(,|$| or)", phrase), cap.line()


def test_global_admin_denied_update_is_not_told_to_be_a_global_admin() -> None:
    s = State(profile="spaces").member("g@a.test", "User", global_admin=True).space("roadmap", kind="project")
    cap = s.engine().check(s.org, "g@a.test", "update_space", "roadmap")
    assert not cap.allowed
    assert "global admin" not in _sufficient_phrases(cap.reasons)[0], cap.line()


# Seeds 000 and 001: an unassigned matrix key goes to the highest role only
# (seed 000: "Keep destructive permissions ... restricted to Owners").
@pytest.mark.parametrize(
    ("profile", "top", "others"),
    [
        ("permission-matrix", "Owner", ["Admin", "Member"]),
        ("org-roles", "Admin", ["Admin W/O Billing", "Billing", "Member"]),
        ("union", "Owner", ["Admin", "Admin W/O Billing", "Billing", "Maintainer", "Member"]),
    ],
)
def test_seed000_001_unassigned_keys_are_for_the_highest_role_only(profile: str, top: str, others: list[str]) -> None:
    s = State(profile=profile).member("top@a.test", top).matrix("view_members", others[-1])
    for i, role in enumerate(others):
        s.member(f"r{i}@a.test", role)
    rows = [("top@a.test", "delete_organization", "acme", True, f"only the highest role {top} holds it")]
    rows += [(f"r{i}@a.test", "delete_organization", "acme", False, f"only the highest role {top} holds it") for i in range(len(others))]
    rows += [(f"r{i}@a.test", "invite_members", "acme", False, "not assigned in the matrix") for i in range(len(others))]
    run_table(s, rows)
    warnings = [w for w in lint(s.resources, s.profiles()) if w.code == "AO105"]
    assert len(warnings) == 1 and "15 matrix key(s) unassigned" in warnings[0].message and f"only the highest role {top}" in warnings[0].message


def test_a_complete_matrix_has_no_unassigned_key_warning() -> None:
    s = State(profile="permission-matrix").member("o@a.test", "Owner")
    for group in s.profiles()[s.org].matrix.values():
        for key in group:
            s.matrix(key, "Owner")
    assert [w for w in lint(s.resources, s.profiles()) if w.code == "AO105"] == []


def test_seed004_turning_auto_join_on_warns_what_is_counted() -> None:
    from accessops.access.hooks import auto_join_warnings
    from accessops.plan.change import Action, Change, Plan

    on = Change(Action.UPDATE, "space", "acme/lobby", {"private": True, "auto_join": False}, {"private": True, "auto_join": True})
    kept = Change(Action.UPDATE, "space", "acme/hall", {"auto_join": True}, {"auto_join": True, "private": True})
    new = Change(Action.CREATE, "space", "acme/new", None, {"auto_join": True})
    warnings = auto_join_warnings(Plan(changes=[on, kept, new]))
    assert [w["message"].split(":")[0] for w in warnings] == ["space acme/lobby gets auto join", "space acme/new gets auto join"]
    assert all("the product adds only people who join from now on" in w["message"] for w in warnings)
